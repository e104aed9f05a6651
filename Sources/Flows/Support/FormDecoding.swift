/// Flat `application/x-www-form-urlencoded` decoding for generic webhooks and page forms.
/// (Prodamus needs PHP's nested rules; its connector has its own parser.)
public enum FormDecoding {
    /// A decoded form body.
    public struct Form: Sendable {
        /// Name → value; a repeated name keeps its last value.
        public var fields: [String: String] = [:]
        /// Names of the fields whose name or value is not UTF-8 once decoded (a page in windows-1251,
        /// say): their text has U+FFFD for the bad bytes, so it must not be taken as what was typed.
        public var notUTF8: Set<String> = []
    }

    /// The body's fields and which of them are not UTF-8; at most 1,000 fields are read.
    public static func decode(_ body: [UInt8]) -> Form {
        var form = Form()
        for pair in body.split(separator: UInt8(ascii: "&")).prefix(1000) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = text(parts[0])
            guard !name.text.isEmpty else { continue }
            let value = parts.count > 1 ? text(parts[1]) : (text: "", isUTF8: true)
            form.fields[name.text] = value.text
            if !name.isUTF8 || !value.isUTF8 { form.notUTF8.insert(name.text) }
        }
        return form
    }

    /// Name → value, bytes that are not UTF-8 shown as U+FFFD.
    public static func fields(_ body: [UInt8]) -> [String: String] { decode(body).fields }

    /// The field's text, and whether its bytes were UTF-8.
    private static func text(_ encoded: ArraySlice<UInt8>) -> (text: String, isUTF8: Bool) {
        let bytes = urlDecode(encoded)
        if let text = String(validating: bytes, as: UTF8.self) { return (text, true) }
        return (String(decoding: bytes, as: UTF8.self), false)
    }

    /// `+` is a space and `%XX` a byte; a `%` without two hex digits stays as written, as browsers
    /// (and PHP's `php_url_decode`, which the Prodamus form parser follows) read it.
    public static func urlDecode(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, count in
            count = urlDecode(bytes, into: buffer)
        }
    }

    /// `urlDecode` into `out`, which has room for `bytes.count`; returns the decoded length.
    public static func urlDecode(_ bytes: ArraySlice<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var count = 0
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out[count] = UInt8(ascii: " ")
            } else if byte == UInt8(ascii: "%"), index + 2 < bytes.endIndex,
                      let high = Crypto.hexValue(bytes[index + 1]), let low = Crypto.hexValue(bytes[index + 2]) {
                out[count] = high << 4 | low
                index += 2
            } else {
                out[count] = byte
            }
            count += 1
            index += 1
        }
        return count
    }
}
