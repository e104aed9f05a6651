import Flows

/// Prodamus' `Hmac::create` / `Hmac::verify`: HMAC-SHA256 over a PHP-canonical JSON form of
/// the data. Signs webhooks (`Sign` header), payment links and REST calls (`signature`).
///
/// Webhook data is `$_POST` as PHP built it (`PHPForm.parse`); for links and REST calls,
/// sign the data before adding `signature`.
public enum ProdamusSignature {
    /// The exact string Prodamus signs: keys sorted recursively like PHP 8.2
    /// `ksort($a, SORT_REGULAR)`, then `json_encode($a, JSON_UNESCAPED_UNICODE)`.
    ///
    /// Leaves are already strings (PHP's `strval` step). No spaces; non-ASCII stays raw UTF-8;
    /// `/` is written `\/` and U+2028/U+2029 as `\u2028`/`\u2029`, as PHP does. An array whose
    /// keys are 0…n-1 after sorting becomes a JSON list, any other array an object.
    ///
    /// Nesting deeper than `json_encode`'s 512 levels makes PHP sign the empty string, and
    /// so does this (form data is at most 65 levels deep).
    public static func canonicalJSON(_ data: PHPArray) -> String {
        String(decoding: canonicalJSONBytes(data), as: UTF8.self)
    }

    /// Lowercase hex HMAC-SHA256 of `canonicalJSON(data)` keyed by `secret`.
    public static func sign(_ data: PHPArray, secret: String) -> String {
        Crypto.hex(Crypto.hmacSHA256(key: Array(secret.utf8), message: canonicalJSONBytes(data)))
    }

    /// Whether `signature` is the signature of `data`: ASCII case-insensitive, compared in
    /// constant time. An empty or wrongly sized signature never matches.
    public static func verify(_ data: PHPArray, secret: String, signature: String) -> Bool {
        let expected = Array(sign(data, secret: secret).utf8)
        let given = signature.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        // Strict equality on purpose: PHP's `==` would also accept numeric look-alikes ("0e…").
        return Crypto.constantTimeEquals(expected, given)
    }

    /// `canonicalJSON` as UTF-8 bytes, built byte by byte (what HMAC takes).
    static func canonicalJSONBytes(_ data: PHPArray) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        return encode(data, into: &out, depth: 1) ? out : []
    }

    // MARK: - JSON

    /// `json_encode`'s default depth limit.
    private static let maxDepth = 512

    /// Appends the JSON of `array`; false when it nests deeper than `maxDepth`.
    private static func encode(_ array: PHPArray, into out: inout [UInt8], depth: Int) -> Bool {
        guard depth <= maxDepth else { return false }
        let entries = array.entries
        guard !entries.isEmpty else {
            out.append(UInt8(ascii: "["))
            out.append(UInt8(ascii: "]"))
            return true
        }
        let order = ksort(entries)
        let isList = order.enumerated().allSatisfy { position, index in
            if case .int(let key) = entries[index].key { key == position } else { false }
        }
        out.append(isList ? UInt8(ascii: "[") : UInt8(ascii: "{"))
        for (position, index) in order.enumerated() {
            let entry = entries[index]
            if position > 0 { out.append(UInt8(ascii: ",")) }
            if !isList {
                switch entry.key {
                case .int(let index): encode(string: String(index), into: &out)
                case .string(let name): encode(string: name, into: &out)
                }
                out.append(UInt8(ascii: ":"))
            }
            switch entry.value {
            case .string(let text): encode(string: text, into: &out)
            case .array(let inner): guard encode(inner, into: &out, depth: depth + 1) else { return false }
            }
        }
        out.append(isList ? UInt8(ascii: "]") : UInt8(ascii: "}"))
        return true
    }

    private static let lowerHex = Array("0123456789abcdef".utf8)

    /// A JSON string as `json_encode(…, JSON_UNESCAPED_UNICODE)` writes it. Multi-byte UTF-8
    /// stays raw, except U+2028/U+2029 (E2 80 A8/A9), which PHP escapes.
    private static func encode(string: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = string
        text.withUTF8 { bytes in
            // Bytes that need no escape are copied a run at a time.
            var runStart = 0
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                // The letter after the backslash, and how many input bytes it replaces.
                let escape: (letter: UInt8, length: Int)?
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): escape = (byte, 1)
                case 0x08: escape = (UInt8(ascii: "b"), 1)
                case 0x0C: escape = (UInt8(ascii: "f"), 1)
                case 0x0A: escape = (UInt8(ascii: "n"), 1)
                case 0x0D: escape = (UInt8(ascii: "r"), 1)
                case 0x09: escape = (UInt8(ascii: "t"), 1)
                case 0..<0x20: escape = (UInt8(ascii: "u"), 1)
                case 0xE2 where index + 2 < bytes.count && bytes[index + 1] == 0x80 && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9):
                    escape = (UInt8(ascii: "u"), 3)
                default: escape = nil
                }
                guard let escape else {
                    index += 1
                    continue
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                out.append(UInt8(ascii: "\\"))
                out.append(escape.letter)
                if escape.letter == UInt8(ascii: "u") {
                    if escape.length == 3 {
                        out.append(contentsOf: "202".utf8)
                        out.append(bytes[index + 2] == 0xA8 ? UInt8(ascii: "8") : UInt8(ascii: "9"))
                    } else {
                        out.append(contentsOf: "00".utf8)
                        out.append(lowerHex[Int(byte >> 4)])
                        out.append(lowerHex[Int(byte & 0x0F)])
                    }
                }
                index += escape.length
                runStart = index
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        }
        out.append(UInt8(ascii: "\""))
    }

    // MARK: - ksort(SORT_REGULAR), PHP 8.2

    /// A key with what comparisons need worked out once. A string key's bytes are a range of
    /// one buffer shared by all keys of the array, so sorting copies no strings.
    private struct SortKey {
        /// The integer of an `.int` key.
        let integer: Int?
        let bytes: Range<Int>
        let number: NumericString?
    }

    /// Positions of `entries` in PHP 8.2 key order, stable like PHP's sort. Where the order is not
    /// transitive (integers or numeric strings mixed with other strings, like 2, 10 and "1a";
    /// or numeric strings beyond `Int` range), PHP's result depends on its sort algorithm, which this
    /// does not copy. Prodamus data has no such keys; a mismatch only fails verification.
    private static func ksort(_ entries: [PHPArray.Entry]) -> [Int] {
        var text: [UInt8] = []
        let keys = entries.map { entry in
            switch entry.key {
            case .int(let value):
                return SortKey(integer: value, bytes: 0..<0, number: nil)
            case .string(let name):
                let start = text.count
                text.append(contentsOf: name.utf8)
                return SortKey(integer: nil, bytes: start..<text.count, number: NumericString(text[start...]))
            }
        }
        var order = Array(entries.indices)
        text.withUnsafeBufferPointer { text in
            keys.withUnsafeBufferPointer { keys in
                order.sort { lhs, rhs in
                    let result = compare(keys[lhs], keys[rhs], text)
                    return result != 0 ? result < 0 : lhs < rhs
                }
            }
        }
        return order
    }

    /// `php_array_key_compare_unstable_i`: integers numerically, two strings with
    /// `zendi_smart_strcmp`, an integer and a string with `zend_compare` (the GH-9296 rule).
    /// `text` holds the string keys' bytes.
    private static func compare(_ lhs: SortKey, _ rhs: SortKey, _ text: UnsafeBufferPointer<UInt8>) -> Int {
        switch (lhs.integer, rhs.integer) {
        case let (a?, b?): a < b ? -1 : (a > b ? 1 : 0)
        case (nil, nil): smartCompare(lhs, rhs, text)
        case let (a?, nil): compare(long: a, string: rhs, text)
        case let (nil, b?): -compare(long: b, string: lhs, text)
        }
    }

    /// `zendi_smart_strcmp`: numerically when both strings are numeric, otherwise byte-wise.
    private static func smartCompare(_ a: SortKey, _ b: SortKey, _ text: UnsafeBufferPointer<UInt8>) -> Int {
        let bytesA = UnsafeBufferPointer(rebasing: text[a.bytes]), bytesB = UnsafeBufferPointer(rebasing: text[b.bytes])
        guard let x = a.number, let y = b.number else { return byteCompare(bytesA, bytesB) }
        switch (x, y) {
        case let (.long(l1), .long(l2)):
            return l1 < l2 ? -1 : (l1 > l2 ? 1 : 0)
        case let (.double(d1, o1), .double(d2, o2)):
            // Integers that overflowed to the same side, or equal infinities: doubles have
            // lost the difference, so PHP falls back to comparing the text.
            if (o1 != 0 && o1 == o2 && d1 - d2 == 0) || (d1 == d2 && !d1.isFinite) { return byteCompare(bytesA, bytesB) }
            return threeWay(d1, d2)
        case let (.long(l1), .double(d2, o2)):
            return o2 != 0 ? -o2 : threeWay(Double(l1), d2)
        case let (.double(d1, o1), .long(l2)):
            return o1 != 0 ? o1 : threeWay(d1, Double(l2))
        }
    }

    /// `compare_longs_to_string`.
    private static func compare(long: Int, string: SortKey, _ text: UnsafeBufferPointer<UInt8>) -> Int {
        switch string.number {
        case .long(let other): long < other ? -1 : (long > other ? 1 : 0)
        case .double(let other, _): threeWay(Double(long), other)
        case nil: Array(String(long).utf8).withUnsafeBufferPointer { byteCompare($0, UnsafeBufferPointer(rebasing: text[string.bytes])) }
        }
    }

    private static func threeWay(_ a: Double, _ b: Double) -> Int {
        a < b ? -1 : (a > b ? 1 : 0)
    }

    /// `zend_binary_strcmp`, normalized: bytes first, then length.
    private static func byteCompare(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
        return a.count < b.count ? -1 : (a.count > b.count ? 1 : 0)
    }
}

/// PHP's `is_numeric_string` (PHP 8: leading and trailing white space allowed; decimal
/// integers, decimals and exponents; no hex, no `inf`/`nan`).
private enum NumericString {
    case long(Int)
    /// `overflow` is +1/-1 for an integer literal beyond `Int` range, else 0.
    case double(Double, overflow: Int)

    /// Most keys are words: text that cannot start a number is ruled out without copying it.
    init?(_ bytes: ArraySlice<UInt8>) {
        guard let first = bytes.first(where: { !(($0 == 0x20) || ($0 >= 0x09 && $0 <= 0x0D)) }),
              (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) || first == UInt8(ascii: "-")
                || first == UInt8(ascii: "+") || first == UInt8(ascii: ".") else { return nil }
        self.init(Array(bytes))
    }

    init?(_ bytes: [UInt8]) {
        func isWhite(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }
        func isDigit(_ index: Int) -> Bool {
            index < bytes.count && bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9")
        }
        var index = 0
        while index < bytes.count, isWhite(bytes[index]) { index += 1 }
        let start = index
        let negative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
        let integerStart = index
        while isDigit(index) { index += 1 }
        let integerDigits = bytes[integerStart..<index]
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: "."), !integerDigits.isEmpty || isDigit(index + 1) {
            isInteger = false
            index += 1
            while isDigit(index) { index += 1 }
        } else if integerDigits.isEmpty {
            return nil
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            var exponent = index + 1
            if exponent < bytes.count, bytes[exponent] == UInt8(ascii: "-") || bytes[exponent] == UInt8(ascii: "+") { exponent += 1 }
            if isDigit(exponent) {
                isInteger = false
                index = exponent
                while isDigit(index) { index += 1 }
            }
        }
        let end = index
        while index < bytes.count, isWhite(bytes[index]) { index += 1 }
        guard index == bytes.count else { return nil }

        let literal = String(decoding: bytes[start..<end], as: UTF8.self)
        let significant = integerDigits.drop { $0 == UInt8(ascii: "0") }
        // PHP counts integer digits after leading zeros; from the 20th on it is an overflow,
        // even when a fraction follows.
        if significant.count >= 20 {
            self = .double(Double(literal) ?? 0, overflow: negative ? -1 : 1)
            return
        }
        guard isInteger else {
            self = .double(Double(literal) ?? 0, overflow: 0)
            return
        }
        if significant.count == 19 {
            // PHP's `strcmp` against "9223372036854775808" runs on to the end of the string,
            // trailing white space included.
            let order = bytes[significant.startIndex...].lexicographicallyPrecedes(Array("9223372036854775808".utf8))
                ? -1 : (bytes[significant.startIndex...].elementsEqual(Array("9223372036854775808".utf8)) ? 0 : 1)
            guard order < 0 || (order == 0 && negative) else {
                self = .double(Double(literal) ?? 0, overflow: negative ? -1 : 1)
                return
            }
        }
        self = .long(Int(literal) ?? 0)
    }
}
