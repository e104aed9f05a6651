/// A text with `{{ expression }}` parts, as written in a step's `with:` values.
///
/// A template that is exactly one `{{ … }}` yields the expression's value as it is (a number
/// stays a number, an object stays an object); otherwise the parts are joined as text.
public struct Template: Sendable, Hashable {
    public enum Part: Sendable, Hashable {
        case text(String)
        /// The expression and the offset of its first character in the template text.
        case expression(Expression, offset: Int)
    }

    public let source: String
    public let parts: [Part]

    /// True when the text contains no `{{`.
    public var isLiteral: Bool { parts.allSatisfy { if case .text = $0 { true } else { false } } }

    public var expressions: [(expression: Expression, offset: Int)] {
        parts.compactMap { if case .expression(let e, let o) = $0 { (e, o) } else { nil } }
    }

    public init(parsing source: String) throws(ExpressionError) {
        self.source = source
        var parts: [Part] = []
        let scalars = Array(source.unicodeScalars)
        var text = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            if scalars[i] == "{", i + 1 < scalars.count, scalars[i + 1] == "{" {
                guard let close = Template.find("}}", in: scalars, from: i + 2) else {
                    throw ExpressionError("'{{' is never closed", offset: i, notes: ["close the expression with '}}'"])
                }
                if !text.isEmpty { parts.append(.text(String(text))); text = String.UnicodeScalarView() }
                let inner = String(String.UnicodeScalarView(scalars[(i + 2)..<close]))
                parts.append(.expression(try ExpressionParser.parse(inner, base: i + 2), offset: i + 2))
                i = close + 2
            } else if scalars[i] == "}", i + 1 < scalars.count, scalars[i + 1] == "}" {
                throw ExpressionError("'}}' without an opening '{{'", offset: i)
            } else {
                text.append(scalars[i])
                i += 1
            }
        }
        if !text.isEmpty { parts.append(.text(String(text))) }
        self.parts = parts
    }

    private static func find(_ needle: String, in scalars: [Unicode.Scalar], from start: Int) -> Int? {
        let n = Array(needle.unicodeScalars)
        var i = start
        while i + n.count <= scalars.count {
            if Array(scalars[i..<(i + n.count)]) == n { return i }
            i += 1
        }
        return nil
    }

    /// Renders the template in `scope`.
    public func render(in scope: Scope) throws(ExpressionError) -> Value {
        if parts.count == 1, case .expression(let e, _) = parts[0] { return try e.evaluate(in: scope) }
        var out = ""
        for part in parts {
            switch part {
            case .text(let t): out += t
            case .expression(let e, _): out += try e.evaluate(in: scope).text
            }
        }
        return .string(out)
    }
}
