/// How plain YAML scalars are typed: YAML 1.2 core schema, plus detection of YAML 1.1 traps.
enum YAMLScalar {
    static func coreValue(_ text: String) -> Value {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default:
            if isNumber(text), let n = Double(text) { return .number(n) }
            return .string(text)
        }
    }

    private static func isNumber(_ text: String) -> Bool {
        var sawDigit = false
        for (i, c) in text.enumerated() {
            if c.isASCII && c.isNumber { sawDigit = true; continue }
            if (c == "-" || c == "+") && i == 0 { continue }
            if c == "." || c == "e" || c == "E" { continue }
            return false
        }
        // "01" style leading zeros (phone prefixes, codes) stay text.
        let digits = text.drop { $0 == "-" || $0 == "+" }
        if digits.count > 1, digits.hasPrefix("0"), !digits.hasPrefix("0.") { return false }
        return sawDigit
    }

    static func isYAML11Boolean(_ text: String) -> Bool {
        ["y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"].contains(text)
    }

    /// `9:30`, `1:20:00`: base-60 numbers in YAML 1.1.
    static func isSexagesimal(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 2, let first = parts.first, !first.isEmpty, first.allSatisfy(\.isNumber) else { return false }
        return parts.dropFirst().allSatisfy { $0.count == 2 && $0.allSatisfy(\.isNumber) && Int($0)! < 60 }
    }

    static func sexagesimalValue(_ text: String) -> Int {
        text.split(separator: ":").reduce(0) { $0 * 60 + (Int($1) ?? 0) }
    }
}
