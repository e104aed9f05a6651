/// The lines of a YAML text that hold a credential's value (`token: 123:ABC`, `secret_key: 0f3a…`,
/// or the lines of a block under such a key). A report never prints them under a diagnostic,
/// whatever it is about (an unknown type, an unknown key, a syntax error on that line): reports go
/// to terminals, CI logs and the journal. Read from the text, not the parsed tree, so a file that
/// is not valid YAML is covered too.
enum SecretLines {
    /// Parts of a key's name that mark a credential; the connectors' secret settings are named so
    /// (`token`, `secret_key`, `api_key`, `client_secret`, `webhook_secret`).
    static let words: Set<String> = ["secret", "token", "password", "passwd", "key", "apikey", "auth", "authorization",
                                     "credential", "credentials", "signature", "cookie"]

    /// Line numbers (from 1) not to print.
    static func numbers(in source: String) -> Set<Int> {
        var hidden = Set<Int>()
        // The indentation of a key whose value is the block below it.
        var blockOf: Int?
        for (index, line) in source.sourceLines.enumerated() {
            let indent = line.prefix { $0 == " " || $0 == "\t" }.count
            if let keyIndent = blockOf {
                if line.allSatisfy({ $0 == " " || $0 == "\t" }) || indent > keyIndent {
                    hidden.insert(index + 1)
                    continue
                }
                blockOf = nil
            }
            for value in secretValues(in: line) {
                if value.isEmpty || value.hasPrefix("|") || value.hasPrefix(">") {
                    blockOf = indent
                } else if !isReferenceOnly(value) {
                    hidden.insert(index + 1)
                }
            }
        }
        return hidden
    }

    static func isSecretName(_ name: String) -> Bool {
        let lower = name.lowercased()
        let parts = lower.split { !($0.isLetter || $0.isNumber) }.map(String.init)
        return parts.contains(where: words.contains) || ["secret", "token", "password"].contains(where: lower.contains)
    }

    /// The values written after each credential's key on the line (`key: value`, also inside `{ … }`).
    private static func secretValues(in line: Substring) -> [Substring] {
        var values: [Substring] = []
        var i = line.startIndex
        while let colon = line[i...].firstIndex(of: ":") {
            let after = line.index(after: colon)
            defer { i = after }
            guard after == line.endIndex || line[after] == " " || line[after] == "\t" else { continue }
            var keyEnd = colon
            if keyEnd > line.startIndex, "\"'".contains(line[line.index(before: keyEnd)]) { keyEnd = line.index(before: keyEnd) }
            var keyStart = keyEnd
            while keyStart > line.startIndex, isKeyCharacter(line[line.index(before: keyStart)]) { keyStart = line.index(before: keyStart) }
            guard keyStart < keyEnd, isSecretName(String(line[keyStart..<keyEnd])) else { continue }
            values.append(value(in: line[after...]))
        }
        return values
    }

    private static func isKeyCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == "-" || c == "." }

    /// A value up to its end: the closing quote, else a `,` or `}` of a `{ … }` mapping, or a comment.
    private static func value(in rest: Substring) -> Substring {
        let text = rest.drop { $0 == " " || $0 == "\t" }
        if let quote = text.first, quote == "\"" || quote == "'" {
            let body = text.dropFirst()
            return body.firstIndex(of: quote).map { body[..<$0] } ?? body
        }
        var end = text.firstIndex { $0 == "," || $0 == "}" || $0 == "#" } ?? text.endIndex
        while end > text.startIndex, text[text.index(before: end)] == " " || text[text.index(before: end)] == "\t" { end = text.index(before: end) }
        return text[..<end]
    }

    /// Nothing but `${NAME}` references (without a written default) and `{{ … }}` templates:
    /// the file holds no secret there.
    private static func isReferenceOnly(_ value: Substring) -> Bool {
        var rest = String(value)
        for (open, close) in [("${", "}"), ("{{", "}}")] {
            while let start = rest.range(of: open), let end = rest.range(of: close, range: start.upperBound..<rest.endIndex) {
                let inner = rest[start.upperBound..<end.lowerBound]
                if open == "${", inner.contains(":-"), !inner.hasSuffix(":-") { return false }
                rest.removeSubrange(start.lowerBound..<end.upperBound)
            }
        }
        return rest.allSatisfy { $0 == " " || $0 == "\t" }
    }
}
