/// One problem found in a flow or config file, reported like a compiler does.
public struct Diagnostic: Sendable, Hashable, Error {
    public enum Severity: String, Sendable, Hashable, Codable {
        case error, warning
    }

    public var severity: Severity
    public var location: SourceLocation
    public var message: String
    /// A stable identifier such as `unknown-action`, for tools and tests.
    public var code: String
    /// Suggestions: "did you mean …", the valid choices, what to write instead.
    public var notes: [String]
    /// The line is not shown under the headline, as a line holding a credential's value never is
    /// (see `SecretLines`).
    public var hidesSourceLine = false

    public init(_ severity: Severity = .error, at location: SourceLocation, _ message: String, code: String, notes: [String] = []) {
        self.severity = severity
        self.location = location
        self.message = message
        self.code = code
        self.notes = notes
    }

    public static func error(at location: SourceLocation, _ message: String, code: String, notes: [String] = []) -> Diagnostic {
        Diagnostic(.error, at: location, message, code: code, notes: notes)
    }

    public static func warning(at location: SourceLocation, _ message: String, code: String, notes: [String] = []) -> Diagnostic {
        Diagnostic(.warning, at: location, message, code: code, notes: notes)
    }

    /// The first line: `flows/x.yaml:8:9: error: unknown action 'telegram.send_invit' [unknown-action]`.
    public var headline: String {
        "\(location): \(severity.rawValue): \(message) [\(code)]"
    }

    /// The headline, the source line with a caret under the column (unless it holds a secret),
    /// then the notes.
    public func rendered(source: String?) -> String {
        var lines = [headline]
        if !hidesSourceLine, let source, let text = Diagnostic.line(location.line, of: source),
           !SecretLines.numbers(in: source).contains(location.line)
        {
            lines.append(text)
            let prefix = text.unicodeScalars.prefix(max(0, location.column - 1)).map { $0 == "\t" ? "\t" : " " }
            lines.append(prefix.joined() + "^")
        }
        for note in notes { lines.append("note: \(note)") }
        return lines.joined(separator: "\n")
    }

    static func line(_ number: Int, of source: String) -> String? {
        guard number >= 1 else { return nil }
        var current = 1
        for line in source.sourceLines {
            if current == number { return String(line) }
            current += 1
        }
        return nil
    }
}

extension Diagnostic: CustomStringConvertible {
    public var description: String { ([headline] + notes.map { "note: \($0)" }).joined(separator: "\n") }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }

    /// Sorted by file, line, column, so output is stable.
    public var sortedByLocation: [Diagnostic] {
        sorted { ($0.location.file, $0.location.line, $0.location.column) < ($1.location.file, $1.location.line, $1.location.column) }
    }
}
