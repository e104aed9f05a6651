import Flows
import Foundation

// Telegram parses `parse_mode` text on the server and refuses malformed markup with
// "Bad Request: can't parse entities: …". The emulator does the same, so an escaping bug in a
// connector fails in tests instead of in production.
extension TelegramEmulator {
    /// The canonical parse mode, or nil for plain text.
    static func parseMode(_ p: Params, key: String = "parse_mode") throws -> String? {
        guard let mode = p.string(key), !mode.isEmpty else { return nil }
        switch mode.lowercased() {
        case "html": return "HTML"
        case "markdownv2": return "MarkdownV2"
        case "markdown": return "Markdown"
        default: throw APIError.badRequest("unsupported parse_mode")
        }
    }

    /// The text a user sees once `parseMode` markup is parsed; throws Telegram's parse errors.
    static func plainText(_ text: String, parseMode: String?) throws -> String {
        switch parseMode {
        case "HTML": return try plainTextOfHTML(text)
        case "MarkdownV2": return try plainTextOfMarkdownV2(text)
        case "Markdown": return text.filter { !"*_`[]".contains($0) }
        default: return text
        }
    }

    private static func parseError(_ text: String) -> APIError { .badRequest("can't parse entities: \(text)") }

    static let htmlTags: Set<String> = [
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre",
        "tg-emoji", "blockquote",
    ]

    static func plainTextOfHTML(_ text: String) throws -> String {
        let bytes = Array(text.utf8)
        var plain: [UInt8] = []
        var open: [String] = []
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "<") {
                guard let close = bytes[i...].firstIndex(of: UInt8(ascii: ">")) else {
                    throw parseError("Unclosed start tag at byte offset \(i)")
                }
                let inner = String(decoding: bytes[(i + 1)..<close], as: UTF8.self)
                if inner.hasPrefix("/") {
                    let name = inner.dropFirst().trimmingCharacters(in: .whitespaces).lowercased()
                    guard let last = open.last else { throw parseError("Unexpected end tag at byte offset \(i)") }
                    guard last == name else {
                        throw parseError("Unmatched end tag at byte offset \(i), expected \"</\(last)>\", found \"</\(name)>\"")
                    }
                    open.removeLast()
                } else {
                    let name = String(inner.prefix { !$0.isWhitespace && $0 != "/" }).lowercased()
                    guard htmlTags.contains(name) else { throw parseError("Unsupported start tag \"\(name)\" at byte offset \(i)") }
                    if name == "span" && !inner.contains("tg-spoiler") {
                        throw parseError("Tag \"span\" must have class \"tg-spoiler\" at byte offset \(i)")
                    }
                    open.append(name)
                }
                i = close + 1
            } else if byte == UInt8(ascii: "&"), let semicolon = bytes[i...].prefix(12).firstIndex(of: UInt8(ascii: ";")) {
                let name = String(decoding: bytes[(i + 1)..<semicolon], as: UTF8.self)
                if let decoded = decodeHTMLEntity(name) {
                    plain += Array(decoded.utf8)
                    i = semicolon + 1
                } else {
                    // Telegram keeps unknown entities as literal text.
                    plain.append(byte)
                    i += 1
                }
            } else {
                plain.append(byte)
                i += 1
            }
        }
        if let last = open.last { throw parseError("Can't find end tag corresponding to start tag \"\(last)\"") }
        return String(decoding: plain, as: UTF8.self)
    }

    private static func decodeHTMLEntity(_ name: String) -> String? {
        switch name {
        case "lt": return "<"
        case "gt": return ">"
        case "amp": return "&"
        case "quot": return "\""
        default:
            guard name.hasPrefix("#") else { return nil }
            let digits = name.dropFirst()
            let code = digits.hasPrefix("x") || digits.hasPrefix("X") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            return code.flatMap(Unicode.Scalar.init).map { String(Character($0)) }
        }
    }

    static let markdownEntityNames = ["*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough", "||": "Spoiler", "[": "TextUrl"]

    static func plainTextOfMarkdownV2(_ text: String) throws -> String {
        let chars = Array(text)
        var offsets: [Int] = []
        var byte = 0
        for c in chars {
            offsets.append(byte)
            byte += c.utf8.count
        }
        var plain = ""
        var open: [(marker: String, offset: Int)] = []
        var i = 0
        func reserved(_ c: Character) -> APIError {
            parseError("Character '\(c)' is reserved and must be escaped with the preceding '\\'")
        }
        func toggle(_ marker: String, at index: Int) {
            if let last = open.lastIndex(where: { $0.marker == marker }) {
                open.remove(at: last)
            } else {
                open.append((marker, offsets[index]))
            }
        }
        while i < chars.count {
            let c = chars[i]
            let atLineStart = i == 0 || chars[i - 1] == "\n"
            switch c {
            case "\\":
                if i + 1 < chars.count { plain.append(chars[i + 1]) }
                i += 2
            case "`":
                let isPre = i + 2 < chars.count && chars[i + 1] == "`" && chars[i + 2] == "`"
                let fence = isPre ? 3 : 1
                var j = i + fence
                var inner = ""
                var closed = false
                while j < chars.count {
                    if chars[j] == "\\", j + 1 < chars.count {
                        inner.append(chars[j + 1])
                        j += 2
                        continue
                    }
                    if chars[j] == "`" && (!isPre || (j + 2 < chars.count && chars[j + 1] == "`" && chars[j + 2] == "`")) {
                        closed = true
                        break
                    }
                    inner.append(chars[j])
                    j += 1
                }
                guard closed else { throw parseError("Can't find end of \(isPre ? "Pre" : "Code") entity at byte offset \(offsets[i])") }
                plain += inner
                i = j + fence
            case "*", "~":
                toggle(String(c), at: i)
                i += 1
            case "_":
                if i + 1 < chars.count && chars[i + 1] == "_" {
                    toggle("__", at: i)
                    i += 2
                } else {
                    toggle("_", at: i)
                    i += 1
                }
            case "|":
                guard i + 1 < chars.count && chars[i + 1] == "|" else { throw reserved(c) }
                toggle("||", at: i)
                i += 2
            case "[":
                open.append(("[", offsets[i]))
                i += 1
            case "!":
                guard i + 1 < chars.count && chars[i + 1] == "[" else { throw reserved(c) }
                open.append(("[", offsets[i]))
                i += 2
            case "]":
                guard let last = open.lastIndex(where: { $0.marker == "[" }) else { throw reserved(c) }
                open.remove(at: last)
                guard i + 1 < chars.count && chars[i + 1] == "(" else { throw reserved(c) }
                var j = i + 2
                while j < chars.count && chars[j] != ")" { j += chars[j] == "\\" ? 2 : 1 }
                guard j < chars.count else { throw parseError("Can't find end of a URL at byte offset \(offsets[i + 1])") }
                i = j + 1
            case ">" where atLineStart:
                i += 1
            case ">", "#", "+", "-", "=", "{", "}", ".", "(", ")":
                throw reserved(c)
            default:
                plain.append(c)
                i += 1
            }
        }
        if let first = open.first {
            throw parseError("Can't find end of \(markdownEntityNames[first.marker] ?? "the") entity at byte offset \(first.offset)")
        }
        return plain
    }
}
