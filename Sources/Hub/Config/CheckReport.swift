import Flows

/// What `hub check` prints: compiler-style text with source lines and carets, or JSON.
public enum CheckReport {
    public static func text(_ diagnostics: [Diagnostic], sources: [String: String], fileCount: Int) -> String {
        var out = diagnostics.map { $0.rendered(source: sources[$0.location.file]) }.joined(separator: "\n")
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.count - errors
        if !out.isEmpty { out += "\n" }
        out += "\(fileCount) file(s) checked: \(errors) error(s), \(warnings) warning(s)"
        return out
    }

    public static func json(_ diagnostics: [Diagnostic]) -> String {
        Value.array(diagnostics.map { d in
            [
                "file": .string(d.location.file), "line": .number(Double(d.location.line)), "column": .number(Double(d.location.column)),
                "severity": .string(d.severity.rawValue), "code": .string(d.code), "message": .string(d.message),
                "notes": .array(d.notes.map(Value.string)),
            ]
        }).json
    }
}
