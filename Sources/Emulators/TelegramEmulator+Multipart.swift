import Foundation

// multipart/form-data bodies (uploads with sendPhoto / sendDocument, or any method's fields).
extension TelegramEmulator {
    static func multipartBoundary(_ contentType: String) -> String? {
        for piece in contentType.split(separator: ";") {
            let trimmed = piece.trimmingCharacters(in: .whitespaces)
            if trimmed.lowercased().hasPrefix("boundary=") {
                return String(trimmed.dropFirst("boundary=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    struct MultipartPart {
        var name: String
        var filename: String?
        var body: [UInt8]
    }

    static func parseMultipart(_ bytes: [UInt8], boundary: String) -> [MultipartPart] {
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [MultipartPart] = []
        let positions = occurrences(of: delimiter, in: bytes[...])
        let separator = Array("\r\n\r\n".utf8)
        for (start, end) in zip(positions, positions.dropFirst()) {
            var section = bytes[(start + delimiter.count)..<end]
            if section.starts(with: Array("\r\n".utf8)) { section = section.dropFirst(2) }
            if section.count >= 2 && section.suffix(2).elementsEqual([13, 10]) { section = section.dropLast(2) }
            guard let split = occurrences(of: separator, in: section, first: true).first else { continue }
            let head = String(decoding: section[..<split], as: UTF8.self)
            let body = Array(section[(split + separator.count)...])
            var name: String?
            var filename: String?
            for line in head.components(separatedBy: "\r\n") where line.lowercased().hasPrefix("content-disposition") {
                for field in line.split(separator: ";") {
                    let kv = field.trimmingCharacters(in: .whitespaces)
                    if kv.hasPrefix("name=") { name = String(kv.dropFirst(5)).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
                    if kv.hasPrefix("filename=") { filename = String(kv.dropFirst(9)).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
                }
            }
            if let name { parts.append(MultipartPart(name: name, filename: filename, body: body)) }
        }
        return parts
    }

    /// Where `needle` starts in `haystack` (indices of `haystack`), left to right without
    /// overlaps; only the first when `first`. Knuth–Morris–Pratt: the boundary comes from the
    /// request too, and comparing it afresh at every byte of a 50 MiB body costs body × boundary.
    static func occurrences(of needle: [UInt8], in haystack: ArraySlice<UInt8>, first: Bool = false) -> [Int] {
        guard !needle.isEmpty else { return [] }
        // fallback[i]: the length of the longest proper prefix of needle[...i] that is also its suffix.
        var fallback = [Int](repeating: 0, count: needle.count)
        var length = 0
        for i in needle.indices.dropFirst() {
            while length > 0 && needle[i] != needle[length] { length = fallback[length - 1] }
            if needle[i] == needle[length] { length += 1 }
            fallback[i] = length
        }
        var found: [Int] = []
        var matched = 0
        for index in haystack.indices {
            while matched > 0 && haystack[index] != needle[matched] { matched = fallback[matched - 1] }
            if haystack[index] == needle[matched] { matched += 1 }
            if matched == needle.count {
                found.append(index - needle.count + 1)
                if first { break }
                matched = 0
            }
        }
        return found
    }
}
