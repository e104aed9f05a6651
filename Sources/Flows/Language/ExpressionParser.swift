/// Parses expressions: `a.b == 'x' and not c`, `event.sum | default: 0`, `x in ['a', 'b']`.
///
/// Precedence, loosest first: `or`, `and`, `not`, comparisons (`== != < > <= >= in contains`),
/// filters (`|`), then paths, literals, lists and parentheses.
struct ExpressionParser {
    private enum Token: Equatable {
        case identifier(String)
        case string(String)
        case number(Double)
        case symbol(String)
        case end
    }

    private var tokens: [(token: Token, offset: Int)] = []
    private var position = 0
    private let base: Int
    /// Open `(`, `[` and `not` around the current token: every part of the hub walks an
    /// expression recursively, so a deep one (a file with 20,000 `(`) would overflow the stack.
    private var depth = 0
    static let maximumDepth = 64
    /// Tokens in one expression: a chain of 20,000 `or` nests as deep as 20,000 parentheses.
    static let maximumTokens = 2_000

    /// Parses `text`; offsets in errors and paths are shifted by `base` (the text's place in its template).
    static func parse(_ text: String, base: Int = 0) throws(ExpressionError) -> Expression {
        var parser = try ExpressionParser(text, base: base)
        let expression = try parser.parseOr()
        if case let (token, offset) = parser.current, token != .end {
            throw ExpressionError("unexpected \(describe(token)) after the end of the expression", offset: offset,
                                  notes: ["combine conditions with 'and' / 'or'; compare with == != < > <= >="])
        }
        return expression
    }

    private init(_ text: String, base: Int) throws(ExpressionError) {
        self.base = base
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            let start = i
            if c == " " || c == "\t" || c == "\n" || c == "\r" { i += 1; continue }
            if c == "'" || c == "\"" {
                i += 1
                var s = String.UnicodeScalarView()
                while i < scalars.count, scalars[i] != c {
                    if scalars[i] == "\\", i + 1 < scalars.count { i += 1 }
                    s.append(scalars[i])
                    i += 1
                }
                guard i < scalars.count else {
                    throw ExpressionError("unterminated text: the quote \(c) is never closed", offset: base + start)
                }
                i += 1
                tokens.append((.string(String(s)), base + start))
            } else if c.properties.numericType != nil && c.isASCII || (c == "-" && i + 1 < scalars.count && scalars[i + 1].isASCII && scalars[i + 1].properties.numericType != nil) {
                i += 1
                while i < scalars.count, scalars[i].isASCII, scalars[i].properties.numericType != nil || scalars[i] == "." { i += 1 }
                let literal = String(String.UnicodeScalarView(scalars[start..<i]))
                guard let n = Double(literal) else { throw ExpressionError("'\(literal)' is not a number", offset: base + start) }
                tokens.append((.number(n), base + start))
            } else if c.properties.isAlphabetic || c == "_" {
                while i < scalars.count, scalars[i].properties.isAlphabetic || scalars[i] == "_" || (scalars[i].isASCII && scalars[i].properties.numericType != nil) { i += 1 }
                tokens.append((.identifier(String(String.UnicodeScalarView(scalars[start..<i]))), base + start))
            } else {
                let two = i + 1 < scalars.count ? String(String.UnicodeScalarView([c, scalars[i + 1]])) : ""
                if ["==", "!=", "<=", ">="].contains(two) {
                    tokens.append((.symbol(two), base + start))
                    i += 2
                } else if "<>.|:,()[]".unicodeScalars.contains(c) {
                    tokens.append((.symbol(String(c)), base + start))
                    i += 1
                } else if c == "=" {
                    throw ExpressionError("'=' is not a comparison", offset: base + start, notes: ["write '==' to compare"])
                } else if two == "&&" || two == "||" {
                    throw ExpressionError("'\(two)' is not supported", offset: base + start, notes: ["write '\(two == "&&" ? "and" : "or")'"])
                } else {
                    throw ExpressionError("unexpected character '\(c)'", offset: base + start)
                }
            }
        }
        guard tokens.count <= Self.maximumTokens else {
            throw ExpressionError("the expression is too long (more than \(Self.maximumTokens) parts)", offset: base,
                                  notes: ["split it over several steps"])
        }
        tokens.append((.end, base + scalars.count))
    }

    private var current: (Token, Int) { tokens[position] }

    private static func describe(_ token: Token) -> String {
        switch token {
        case .identifier(let s): "'\(s)'"
        case .string(let s): "text '\(s)'"
        case .number(let n): "number \(Value.format(n))"
        case .symbol(let s): "'\(s)'"
        case .end: "end of expression"
        }
    }

    private mutating func take(_ symbol: String) -> Bool {
        if case .symbol(symbol) = tokens[position].token { position += 1; return true }
        return false
    }

    private mutating func takeWord(_ word: String) -> Bool {
        if case .identifier(word) = tokens[position].token { position += 1; return true }
        return false
    }

    private mutating func parseOr() throws(ExpressionError) -> Expression {
        var left = try parseAnd()
        while takeWord("or") { left = .binary(.or, left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws(ExpressionError) -> Expression {
        var left = try parseNot()
        while takeWord("and") { left = .binary(.and, left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws(ExpressionError) -> Expression {
        let offset = current.1
        if takeWord("not") { return .not(try nested(at: offset) { (p: inout ExpressionParser) throws(ExpressionError) in try p.parseNot() }) }
        return try parseComparison()
    }

    /// Parses one level deeper, refusing more than `maximumDepth` levels.
    private mutating func nested(at offset: Int, _ body: (inout ExpressionParser) throws(ExpressionError) -> Expression) throws(ExpressionError) -> Expression {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else {
            throw ExpressionError("nested too deeply (more than \(Self.maximumDepth) levels of '(', '[' or 'not')", offset: offset)
        }
        return try body(&self)
    }

    private mutating func parseComparison() throws(ExpressionError) -> Expression {
        let left = try parseFilters()
        for op in [Expression.BinaryOperator.equal, .notEqual, .lessOrEqual, .greaterOrEqual, .less, .greater] where take(op.rawValue) {
            return .binary(op, left, try parseFilters())
        }
        if takeWord("in") { return .binary(.in, left, try parseFilters()) }
        if takeWord("contains") { return .binary(.contains, left, try parseFilters()) }
        return left
    }

    private mutating func parseFilters() throws(ExpressionError) -> Expression {
        var value = try parsePrimary()
        while take("|") {
            let (token, offset) = current
            guard case .identifier(let name) = token else {
                throw ExpressionError("expected a filter name after '|', found \(Self.describe(token))", offset: offset,
                                      notes: ["filters: " + Filters.names.joined(separator: ", ")])
            }
            position += 1
            var arguments: [Expression] = []
            if take(":") {
                repeat { arguments.append(try parseFilterArgument()) } while take(",")
            }
            value = .filter(value, name: name, arguments: arguments, offset: offset)
        }
        return value
    }

    /// Filter arguments bind tighter than comparisons: `x | default: 0 == 1` compares the result.
    private mutating func parseFilterArgument() throws(ExpressionError) -> Expression {
        try parsePrimary()
    }

    private mutating func parsePrimary() throws(ExpressionError) -> Expression {
        let (token, offset) = current
        switch token {
        case .string(let s): position += 1; return .literal(.string(s))
        case .number(let n): position += 1; return .literal(.number(n))
        case .identifier("true"): position += 1; return .literal(.bool(true))
        case .identifier("false"): position += 1; return .literal(.bool(false))
        case .identifier("null"), .identifier("nil"): position += 1; return .literal(.null)
        case .identifier(let name):
            position += 1
            var path = [name]
            var offsets = [offset]
            while true {
                if take(".") {
                    guard case .identifier(let member) = current.0 else {
                        throw ExpressionError("expected a name after '.', found \(Self.describe(current.0))", offset: current.1)
                    }
                    offsets.append(current.1)
                    position += 1
                    path.append(member)
                } else if case .symbol("[") = current.0 {
                    offsets.append(current.1)
                    position += 1
                    switch current.0 {
                    case .number(let n) where n >= 0:
                        guard let index = Int(exactly: n) else {
                            throw ExpressionError("an index must be a whole number below 2^63, found \(n)", offset: current.1)
                        }
                        path.append(String(index))
                    case .string(let s): path.append(s)
                    default: throw ExpressionError("expected an index or a quoted key inside [ ]", offset: current.1)
                    }
                    position += 1
                    guard take("]") else { throw ExpressionError("expected ']'", offset: current.1) }
                } else {
                    break
                }
            }
            return .path(path, offsets: offsets)
        case .symbol("("):
            position += 1
            let inner = try nested(at: offset) { (p: inout ExpressionParser) throws(ExpressionError) in try p.parseOr() }
            guard take(")") else { throw ExpressionError("expected ')' to close the '(' here", offset: offset) }
            return inner
        case .symbol("["):
            position += 1
            var items: [Expression] = []
            if !take("]") {
                repeat {
                    items.append(try nested(at: offset) { (p: inout ExpressionParser) throws(ExpressionError) in try p.parseOr() })
                } while take(",")
                guard take("]") else { throw ExpressionError("expected ']' to close the list opened here", offset: offset) }
            }
            if items.allSatisfy({ if case .literal = $0 { true } else { false } }) {
                return .literal(.array(items.map { if case .literal(let v) = $0 { v } else { .null } }))
            }
            throw ExpressionError("lists may hold only literal values", offset: offset)
        case .end:
            throw ExpressionError("the expression is empty or ends too early", offset: offset, notes: ["write a path such as event.sum, or a value such as 'text', 10, true, null"])
        default:
            throw ExpressionError("unexpected \(Self.describe(token))", offset: offset)
        }
    }
}
