import Yams

/// A YAML node with its position, scalars kept as the raw text the author wrote.
///
/// We never let the YAML 1.1 resolver decide what a scalar means: unquoted `on`, `yes` and
/// `9:30` would turn into `true`, `true` and `570`. The checker reads the raw text and decides
/// by the field's declared type, warning where a reader could be misled.
public indirect enum SourceNode: Sendable {
    case scalar(Scalar)
    case mapping([(key: Scalar, value: SourceNode)], SourceLocation)
    case sequence([SourceNode], SourceLocation)

    public struct Scalar: Sendable {
        public var text: String
        /// True when written plain (unquoted, not a block scalar): only then do YAML's
        /// implicit types (null, booleans, numbers) apply.
        public var isPlain: Bool
        /// True for 'single' and "double" quoted scalars: the text starts one column after `location`.
        public var isQuoted: Bool = false
        public var location: SourceLocation

        /// Where the character at `offset` in `text` is, for carets that point inside a template.
        public func location(ofOffset offset: Int) -> SourceLocation {
            let before = text.unicodeScalars.prefix(offset)
            let lineBreaks = before.filter { $0 == "\n" }.count
            if lineBreaks == 0 || isPlain || isQuoted {
                guard lineBreaks == 0 else { return location }
                return location.advanced(by: offset + (isQuoted ? 1 : 0))
            }
            // A block scalar (| or >): its text starts on the next line, indented past the key.
            let column = before.count - (before.lastIndex(of: "\n").map { before.distance(from: before.startIndex, to: $0) + 1 } ?? 0)
            return SourceLocation(file: location.file, line: location.line + lineBreaks + 1, column: location.column + 2 + column)
        }
    }

    public var location: SourceLocation {
        switch self {
        case .scalar(let s): s.location
        case .mapping(_, let l), .sequence(_, let l): l
        }
    }

    public var scalar: Scalar? { if case .scalar(let s) = self { s } else { nil } }

    public var mapping: [(key: Scalar, value: SourceNode)]? { if case .mapping(let m, _) = self { m } else { nil } }

    public var sequence: [SourceNode]? { if case .sequence(let s, _) = self { s } else { nil } }

    /// The value of `key` in a mapping.
    public subscript(key: String) -> SourceNode? {
        mapping?.first { $0.key.text == key }?.value
    }

    /// What the node is, for messages: "a mapping", "a list", "a text".
    public var kindName: String {
        switch self {
        case .scalar: "a single value"
        case .mapping: "a mapping (key: value)"
        case .sequence: "a list"
        }
    }
}

extension SourceNode {
    /// Parses YAML text; syntax errors come back as located diagnostics.
    public static func parse(_ text: String, file: String) throws(Diagnostic) -> SourceNode? {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw syntaxDiagnostic(error, text: text, file: file)
        } catch {
            throw Diagnostic.error(at: SourceLocation(file: file, line: 1, column: 1), "cannot read YAML: \(error)", code: "yaml-syntax")
        }
        guard let node else { return nil }
        var budget = maximumNodes
        return try convert(node, file: file, budget: &budget)
    }

    /// Nodes one file may hold once its aliases are expanded: far beyond any real flow, and a
    /// stop for an "alias bomb", where a few lines of anchors repeating anchors expand to
    /// billions of nodes.
    static let maximumNodes = 100_000

    private static func location(_ mark: Mark?, _ file: String) -> SourceLocation {
        SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    private static func convert(_ node: Node, file: String, budget: inout Int) throws(Diagnostic) -> SourceNode {
        budget -= 1
        guard budget >= 0 else {
            throw .error(at: location(node.mark, file), "the YAML holds more than \(maximumNodes) values once its aliases are expanded",
                         code: "yaml-too-large", notes: ["anchors (&name) repeated through aliases (*name) multiply; write the values out instead"])
        }
        switch node {
        case .scalar(let s):
            return .scalar(Scalar(text: s.string, isPlain: s.style == .plain || s.style == .any,
                                  isQuoted: s.style == .singleQuoted || s.style == .doubleQuoted, location: location(s.mark, file)))
        case .mapping(let m):
            var pairs: [(key: Scalar, value: SourceNode)] = []
            for pair in m {
                let key = pair.key.scalar.map { Scalar(text: $0.string, isPlain: true, isQuoted: false, location: location($0.mark, file)) }
                    ?? Scalar(text: "", isPlain: true, isQuoted: false, location: location(pair.key.mark, file))
                pairs.append((key, try convert(pair.value, file: file, budget: &budget)))
            }
            return .mapping(pairs, location(m.mark, file))
        case .sequence(let s):
            var items: [SourceNode] = []
            for item in s { items.append(try convert(item, file: file, budget: &budget)) }
            return .sequence(items, location(s.mark, file))
        case .alias(let a):
            return .scalar(Scalar(text: "*\(a.anchor.rawValue)", isPlain: false, isQuoted: false, location: location(a.mark, file)))
        }
    }

    private static func syntaxDiagnostic(_ error: YamlError, text: String, file: String) -> Diagnostic {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var notes: [String] = []
            if let context { notes.append("\(context.text) at line \(context.mark.line), column \(context.mark.column)") }
            if problem.contains("tab") || problem.contains("cannot start any token") {
                notes.append("indent with spaces, not tabs")
            } else if problem.contains("mapping values are not allowed") {
                notes.append("check the indentation, or quote a value that contains ': '")
            }
            return .error(at: location(mark, file), "invalid YAML: \(problem)", code: "yaml-syntax", notes: notes)
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams marks the mapping; point at the key's second appearance when it can be found.
            let at = duplicates.lazy.compactMap {
                repeatedKey($0, in: text, mapping: context.mark) ?? repeatedFlowKey($0, in: text, mapping: context.mark)
            }.first
                .map { SourceLocation(file: file, line: $0.line, column: $0.column) } ?? location(context.mark, file)
            return .error(at: at, "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in a mapping",
                          code: "duplicate-key", notes: ["each key may appear once; remove or rename the repeated one"])
        case .reader(let problem, let offset, let value, _):
            // Yams' own description quotes the whole line, which may hold a secret's value: say where and what only.
            let character = value >= 0 ? String(format: " (U+%04X)", value) : ""
            return .error(at: readerLocation(offset, in: text, file: file), "invalid YAML: \(problem)\(character)", code: "yaml-syntax")
        default:
            return .error(at: SourceLocation(file: file, line: 1, column: 1), "invalid YAML: \(error)", code: "yaml-syntax")
        }
    }

    /// The line and column (from 1) of the reader's offset into `text`, which Yams counts in
    /// Characters (a CRLF or an emoji with a modifier is one).
    static func readerLocation(_ offset: Int?, in text: String, file: String) -> SourceLocation {
        guard let offset, offset >= 0 else { return SourceLocation(file: file, line: 1, column: 1) }
        var line = 1, column = 1
        for character in text.prefix(offset) {
            if character.isNewline { line += 1; column = 1 } else { column += 1 }
        }
        return SourceLocation(file: file, line: line, column: column)
    }

    /// Where `key` appears the second time as a key of the block mapping that starts at `mapping`:
    /// a line from there on that holds `key:` (plain or quoted) at the mapping's column, before the
    /// mapping ends (a line indented less). Nil for flow mappings and anything else.
    static func repeatedKey(_ key: String, in text: String, mapping: Mark) -> (line: Int, column: Int)? {
        let lines = text.sourceLines
        let column = mapping.column - 1
        guard mapping.line >= 1, mapping.line <= lines.count else { return nil }
        let keys = ["\(key):", "\"\(key)\":", "'\(key)':"]
        var seen = false
        for index in (mapping.line - 1)..<lines.count {
            let content: Substring
            if index == mapping.line - 1 {
                // The first key may follow a `- ` on the mapping's first line.
                content = lines[index].dropFirst(column)
            } else {
                let indent = lines[index].prefix { $0 == " " }.count
                let rest = lines[index].dropFirst(indent)
                if indent < column && !rest.isEmpty && !rest.hasPrefix("#") { return nil }
                guard indent == column else { continue }
                content = rest
            }
            if keys.contains(where: { content.hasPrefix($0) }) {
                if seen { return (index + 1, column + 1) }
                seen = true
            }
        }
        return nil
    }
    /// Where `key` appears the second time as a key of the flow mapping (`{ a: 1, a: 2 }`) that
    /// Yams marks at its `{` or its first key: keys are read at the mapping's own level, after the
    /// `{` and after each `,`, across lines, skipping quoted text, nested `{}`/`[]` and comments.
    static func repeatedFlowKey(_ key: String, in text: String, mapping: Mark) -> (line: Int, column: Int)? {
        let lines = text.sourceLines.map(Array.init)
        var line = mapping.line - 1
        var column = mapping.column - 1
        guard line >= 0, line < lines.count, column >= 0 else { return nil }
        if column < lines[line].count, lines[line][column] == "{" {
            column += 1
        } else {
            // Marked at the first key: the `{` is before it, maybe with spaces between.
            guard column <= lines[line].count,
                  let open = lines[line][..<column].lastIndex(where: { $0 != " " && $0 != "\t" }),
                  lines[line][open] == "{" else { return nil }
        }
        var depth = 1
        var expectingKey = true
        var seen = false
        while line < lines.count {
            let characters = lines[line]
            while column < characters.count {
                let character = characters[column]
                if character == "#", column == 0 || characters[column - 1] == " " || characters[column - 1] == "\t" { break }
                if character == " " || character == "\t" {
                    column += 1
                    continue
                }
                if depth == 1 && expectingKey && character != "}" && character != "," {
                    expectingKey = false
                    let start = column
                    var name: String
                    if character == "\"" || character == "'" {
                        column += 1
                        let closing = characters[column...].firstIndex(of: character) ?? characters.count
                        name = String(characters[column..<closing])
                        column = closing + 1
                    } else {
                        let end = characters[column...].firstIndex { $0 == ":" || $0 == "," || $0 == "}" } ?? characters.count
                        name = String(characters[column..<end])
                        while name.last == " " { name.removeLast() }
                        column = end
                    }
                    if name == key {
                        if seen { return (line + 1, start + 1) }
                        seen = true
                    }
                    continue
                }
                switch character {
                case "\"", "'":
                    // A quoted value: skip to its closing quote on this line.
                    column = (characters[(column + 1)...].firstIndex(of: character) ?? characters.count - 1) + 1
                    continue
                case "{", "[": depth += 1
                case "}", "]":
                    depth -= 1
                    if depth == 0 { return nil }
                case "," where depth == 1: expectingKey = true
                default: break
                }
                column += 1
            }
            line += 1
            column = 0
        }
        return nil
    }
}
