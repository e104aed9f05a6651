import Foundation

/// `${NAME}` and `${NAME:-default}` in YAML text, read from the environment at load time.
enum EnvironmentSubstitution {
    struct Missing: Error {
        let name: String
        let offset: Int
        /// Set, but to nothing (an empty value counts as missing).
        var isEmpty = false
    }

    /// Whether the whole text is one reference (how secrets must be written).
    static func isReference(_ text: String) -> Bool {
        let t = text.trimmingCharacters(in: .whitespaces)
        return t.hasPrefix("${") && t.hasSuffix("}") && t.dropFirst(2).firstIndex(of: "}") == t.index(before: t.endIndex)
    }

    /// Whether the text is one reference whose default is written out (`${TOKEN:-abc}`): for a
    /// secret, that default is the secret in the file. An empty default (`${KEY:-}`) is not.
    static func hasWrittenDefault(_ text: String) -> Bool {
        guard isReference(text), let marker = text.range(of: ":-") else { return false }
        return text[marker.upperBound...].trimmingCharacters(in: .whitespaces) != "}"
    }

    /// The text with its references replaced; `used` hears each variable taken from the
    /// environment (not a default) with its value.
    static func apply(_ text: String, environment: [String: String],
                      used: (_ name: String, _ value: String) -> Void = { _, _ in }) -> Result<String, Missing> {
        guard text.contains("${") else { return .success(text) }
        var out = ""
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            if scalars[i] == "$", i + 1 < scalars.count, scalars[i + 1] == "{",
               let close = scalars[(i + 2)...].firstIndex(of: "}")
            {
                let inner = String(String.UnicodeScalarView(scalars[(i + 2)..<close]))
                let parts = inner.components(separatedBy: ":-")
                let name = parts[0]
                if let value = environment[name], !value.isEmpty {
                    out += value
                    used(name, value)
                } else if parts.count > 1 {
                    out += parts.dropFirst().joined(separator: ":-")
                } else {
                    return .failure(Missing(name: name, offset: i, isEmpty: environment[name] != nil))
                }
                i = close + 1
            } else {
                out.unicodeScalars.append(scalars[i])
                i += 1
            }
        }
        return .success(out)
    }
}
