import Flows

/// Decodes form bodies into exactly the array PHP 8.2 builds as `$_POST`, and encodes nested
/// data like `http_build_query`.
///
/// Prodamus signs `$_POST` as PHP built it, so a generic form decoder (flat keys, no
/// integer keys) cannot verify its webhooks. Ported from php-src 8.2 (`main/php_variables.c`,
/// `main/rfc1867.c`) with the default ini: `max_input_vars` 1000, `max_input_nesting_level` 64.
///
/// Text is kept as Swift `String`: bytes that are not UTF-8 become U+FFFD. PHP would sign the
/// empty string for such a body (its `json_encode` fails), so such bodies never verify.
public enum PHPForm {
    /// PHP's `max_input_vars` default.
    static let maxInputVars = 1000
    /// PHP's `max_input_nesting_level` default.
    static let maxNestingLevel = 64
    /// PHP's `max_file_uploads` default.
    static let maxFileUploads = 20
    /// PHP's `max_multipart_body_parts` default (-1) means `max_input_vars + max_file_uploads`.
    static let maxMultipartParts = maxInputVars + maxFileUploads

    /// Why a multipart body could not be decoded at all.
    public enum MultipartError: Error, Sendable, Equatable {
        /// No line of the body is `--boundary`: the wrong boundary, or not multipart at all.
        /// PHP silently leaves `$_POST` empty here.
        case noDelimiter
    }

    // MARK: - application/x-www-form-urlencoded

    /// Decodes an `application/x-www-form-urlencoded` body like PHP's `php_std_post_handler`.
    ///
    /// Only `&` separates pairs, the name ends at the first `=`, `+` is a space and an invalid
    /// `%` sequence stays literal. Names nest (`a[b][]`), and after 1000 + 1 pairs (empty
    /// segments included) PHP stops, as here.
    public static func parse(urlencoded body: [UInt8]) -> PHPArray {
        var result = PHPArray()
        result.reserveCapacity(min(maxInputVars + 1, body.count { $0 == UInt8(ascii: "&") } + 1))
        var start = 0
        var pairs = 0
        while start < body.count {
            let end = body[start...].firstIndex(of: UInt8(ascii: "&")) ?? body.count
            let segment = body[start..<end]
            let name: ArraySlice<UInt8>
            let value: ArraySlice<UInt8>
            if let equals = segment.firstIndex(of: UInt8(ascii: "=")) {
                name = segment[..<equals]
                value = segment[(equals + 1)...]
            } else {
                name = segment
                value = []
            }
            register(name: isEncoded(name) ? FormDecoding.urlDecode(name)[...] : name, value: urlDecodedText(value), into: &result)
            pairs += 1
            // php_std_post_handler registers the pair that crosses the limit, then stops.
            if pairs > maxInputVars { break }
            start = end + 1
        }
        return result
    }

    // MARK: - multipart/form-data

    /// The boundary of a `multipart/form-data` content type, found the way PHP finds it: the
    /// text after the first `boundary…=`, up to `,` or `;`, or between double quotes.
    /// Nil when PHP would reject the request ("Missing boundary" / "Invalid boundary").
    public static func multipartBoundary(contentType: String) -> String? {
        let bytes = Array(contentType.utf8)
        let lowered = bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        guard let found = firstRange(of: Array("boundary".utf8), in: bytes[...])
                ?? firstRange(of: Array("boundary".utf8), in: lowered[...]),
              let equals = bytes[found.lowerBound...].firstIndex(of: UInt8(ascii: "=")) else { return nil }
        var rest = bytes[(equals + 1)...]
        if rest.first == UInt8(ascii: "\"") {
            rest = rest.dropFirst()
            guard let close = rest.firstIndex(of: UInt8(ascii: "\"")) else { return nil }
            rest = rest[..<close]
        } else if let stop = rest.firstIndex(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: ";") }) {
            rest = rest[..<stop]
        }
        return String(decoding: rest, as: UTF8.self)
    }

    /// Decodes a `multipart/form-data` body like PHP's `rfc1867_post_handler` fills `$_POST`.
    ///
    /// Parts without `filename` become variables: their names nest as in the urlencoded
    /// form, without URL-decoding, and values are taken byte for byte. File parts go to
    /// `$_FILES` in PHP and are skipped here. A body that breaks off early yields the fields
    /// before the break, as in PHP.
    ///
    /// The whole body is scanned as one buffer; PHP reads it in 5 KiB chunks, which only
    /// differs for a single line longer than that or a file over `upload_max_filesize`.
    /// An empty boundary is accepted, as PHP does (the delimiter line is then `--`).
    public static func parse(multipart body: [UInt8], boundary: String) throws(MultipartError) -> PHPArray {
        var reader = MultipartReader(body: body, boundary: Array(boundary.utf8))
        var result = PHPArray()
        var variables = 0
        var parts = 0
        var uploadsLeft = maxFileUploads
        while !reader.atEnd {
            guard let headers = reader.readHeaders() else { break }
            guard let disposition = headers.first(where: { equalsIgnoringCase($0.name, "Content-Disposition") })?.value else {
                continue
            }
            // PHP counts only parts that have a Content-Disposition against this limit.
            parts += 1
            if parts > maxMultipartParts { break }
            let (name, filename) = dispositionParameters(disposition)
            if let name, filename == nil {
                let value = reader.readBody()
                variables += 1
                if variables <= maxInputVars {
                    register(name: name, value: text(value), into: &result)
                }
                continue
            }
            // A part with neither name nor filename: PHP says "Mime headers garbled" and stops.
            guard let filename else { break }
            // How PHP consumes a file's body decides where it looks for the next part: an
            // upload it takes is read up to the boundary; one it skips (upload limit reached,
            // unbalanced brackets in the name, no file chosen) is passed over line by line.
            guard uploadsLeft > 0, name.map(bracketsBalanced) ?? true, !filename.isEmpty else { continue }
            uploadsLeft -= 1
            _ = reader.readBody()
        }
        if !reader.sawDelimiter { throw .noDelimiter }
        return result
    }

    // MARK: - http_build_query

    /// Encodes nested data like PHP `http_build_query($data)`: RFC 1738 (`+` for space,
    /// `%XX` upper-case, only `A-Z a-z 0-9 - . _` left as they are), brackets as `%5B`/`%5D`,
    /// `&` between pairs, insertion order, empty arrays left out.
    public static func buildQuery(_ data: PHPArray) -> String {
        var pairs: [String] = []
        appendQuery(data, prefix: nil, to: &pairs, depth: 0)
        return pairs.joined(separator: "&")
    }

    private static func appendQuery(_ array: PHPArray, prefix: String?, to pairs: inout [String], depth: Int) {
        // Bounded like `json_encode` (512 levels): data nested deeper cannot be signed either.
        guard depth < 512 else { return }
        for entry in array.entries {
            let key: String
            switch entry.key {
            case .int(let index): key = String(index)
            case .string(let name): key = urlEncode(Array(name.utf8))
            }
            let name = prefix.map { "\($0)%5B\(key)%5D" } ?? key
            switch entry.value {
            case .string(let value): pairs.append("\(name)=\(urlEncode(Array(value.utf8)))")
            case .array(let inner): appendQuery(inner, prefix: name, to: &pairs, depth: depth + 1)
            }
        }
    }

    /// PHP `urlencode`.
    static func urlEncode(_ bytes: [UInt8]) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                out.append(byte)
            case UInt8(ascii: " "):
                out.append(UInt8(ascii: "+"))
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - Registering one variable (php_register_variable_ex)

    /// One step of a bracketed name: a key, or `[]` (append).
    private enum PathStep {
        case key(ArraySlice<UInt8>)
        case append
    }

    /// Stores `value` under the PHP variable `name`, e.g. `products[0][name]`.
    static func register(name rawName: [UInt8], value: String, into root: inout PHPArray) {
        register(name: rawName[...], value: value, into: &root)
    }

    static func register(name rawName: ArraySlice<UInt8>, value: String, into root: inout PHPArray) {
        // The name is a C string: a decoded NUL ends it. Leading spaces are ignored.
        let trimmed = rawName.prefix { $0 != 0 }.drop { $0 == UInt8(ascii: " ") }
        // Most names are plain (`order_id`): nothing to mangle, no brackets to walk.
        if !trimmed.contains(where: { $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: ".") }) {
            guard !trimmed.isEmpty else { return }
            root.set(.string(value), normalizedKey: PHPKey(text(trimmed)))
            return
        }
        var name = Array(trimmed)
        var bracket: Int?
        for index in name.indices {
            if name[index] == UInt8(ascii: " ") || name[index] == UInt8(ascii: ".") {
                name[index] = UInt8(ascii: "_")
            } else if name[index] == UInt8(ascii: "[") {
                bracket = index
                break
            }
        }
        let baseLength = bracket ?? name.count
        guard baseLength > 0 else { return }
        let base = PHPKey(text(name[..<baseLength]))
        guard var open = bracket else {
            root[base] = .string(value)
            return
        }

        var parents: [PathStep] = []
        var current = PathStep.key(name[..<baseLength])
        var level = 0
        while true {
            level += 1
            if level > maxNestingLevel {
                // PHP drops the whole top-level variable, including what it held before.
                root[base] = nil
                return
            }
            let indexStart = open + 1
            var cursor = indexStart
            if cursor < name.count, name[cursor] == UInt8(ascii: " ") { cursor += 1 }
            let close: Int
            let next: PathStep
            if cursor < name.count, name[cursor] == UInt8(ascii: "]") {
                close = cursor
                next = .append
            } else if let found = name[cursor...].firstIndex(of: UInt8(ascii: "]")) {
                close = found
                next = .key(name[indexStart..<found])
            } else {
                // An unclosed bracket is not an index. At the first level PHP turns the rest
                // into part of the plain name (`a[b.c` → `a_b_c`); deeper, it is ignored.
                if level == 1 {
                    var plain = Array(name[..<baseLength])
                    plain.append(UInt8(ascii: "_"))
                    for byte in name[indexStart...] {
                        let mangled = byte == UInt8(ascii: " ") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "[")
                        plain.append(mangled ? UInt8(ascii: "_") : byte)
                    }
                    root[PHPKey(text(plain))] = .string(value)
                    return
                }
                break
            }
            parents.append(current)
            current = next
            // Anything after a `]` that is not `[` is ignored.
            guard close + 1 < name.count, name[close + 1] == UInt8(ascii: "[") else { break }
            open = close + 1
        }
        store(.string(value), at: current, under: parents[...], in: &root)
    }

    /// Walks `parents`, creating arrays (and replacing leaves by arrays) on the way, then
    /// stores `value` at `last`. Depth is bounded by `maxNestingLevel`.
    private static func store(_ value: PHPValue, at last: PathStep, under parents: ArraySlice<PathStep>,
                              in array: inout PHPArray) {
        guard let step = parents.first else {
            switch last {
            case .key(let name): array[PHPKey(text(name))] = value
            case .append: array.append(value)
            }
            return
        }
        let key: PHPKey
        switch step {
        case .key(let name):
            key = PHPKey(text(name))
            if array[key]?.array == nil { array[key] = .array(PHPArray()) }
        case .append:
            // PHP gives up on the whole variable when the append slot is taken (Int.max).
            guard array.append(.array(PHPArray())), let added = array.entries.last?.key else { return }
            key = added
        }
        array.modifyValue(at: key) { slot in
            guard case .array(var inner) = slot else { return }
            slot = .string("")
            store(value, at: last, under: parents.dropFirst(), in: &inner)
            slot = .array(inner)
        }
    }

    // MARK: - Helpers

    /// `FormDecoding.urlDecode` (PHP's `php_url_decode`) straight into a string (one allocation, none for short text).
    static func urlDecodedText(_ bytes: ArraySlice<UInt8>) -> String {
        guard isEncoded(bytes) else { return text(bytes) }
        return String(unsafeUninitializedCapacity: bytes.count) { buffer in FormDecoding.urlDecode(bytes, into: buffer) }
    }

    /// Whether URL-decoding could change `bytes`.
    static func isEncoded(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.contains { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }
    }

    static func text(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// C `isspace` in the C locale.
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    private static func equalsIgnoringCase(_ bytes: [UInt8], _ ascii: String) -> Bool {
        let other = Array(ascii.utf8)
        guard bytes.count == other.count else { return false }
        return zip(bytes, other).allSatisfy { a, b in
            (a >= 0x41 && a <= 0x5A ? a | 0x20 : a) == (b >= 0x41 && b <= 0x5A ? b | 0x20 : b)
        }
    }

    private static func firstRange(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Range<Int>? {
        guard needle.count <= haystack.count else { return nil }
        var start = haystack.startIndex
        while start + needle.count <= haystack.endIndex {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start..<(start + needle.count) }
            start += 1
        }
        return nil
    }

    /// `name` and `filename` from a Content-Disposition value (rfc1867 `php_ap_getword` and
    /// `php_ap_getword_conf`): `;`-separated pairs, quotes respected, last occurrence wins.
    private static func dispositionParameters(_ value: [UInt8]) -> (name: [UInt8]?, filename: [UInt8]?) {
        var name: [UInt8]?
        var filename: [UInt8]?
        var rest = value.drop(while: isSpace)
        while !rest.isEmpty {
            let pair = word(&rest, stop: UInt8(ascii: ";"))
            rest = rest.drop(while: isSpace)
            guard pair.contains(UInt8(ascii: "=")) else { continue }
            var parameter = pair
            let key = word(&parameter, stop: UInt8(ascii: "="))
            if equalsIgnoringCase(Array(key), "name") {
                name = configWord(parameter)
            } else if equalsIgnoringCase(Array(key), "filename") {
                filename = configWord(parameter)
            }
        }
        return (name, filename)
    }

    /// `php_ap_getword`: up to the first `stop` outside quotes; skips the run of `stop` after it.
    private static func word(_ line: inout ArraySlice<UInt8>, stop: UInt8) -> ArraySlice<UInt8> {
        var position = line.startIndex
        while position < line.endIndex, line[position] != stop {
            let quote = line[position]
            if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                position += 1
                while position < line.endIndex, line[position] != quote {
                    if line[position] == UInt8(ascii: "\\"), position + 1 < line.endIndex, line[position + 1] == quote {
                        position += 2
                    } else {
                        position += 1
                    }
                }
                if position < line.endIndex { position += 1 }
            } else {
                position += 1
            }
        }
        let word = line[..<position]
        line = line[position...].drop { $0 == stop }
        return word
    }

    /// `php_ap_getword_conf`: a quoted string (with `\\` and `\"` unescaped) or a bare token.
    private static func configWord(_ text: ArraySlice<UInt8>) -> [UInt8] {
        let text = text.drop(while: isSpace)
        guard let first = text.first else { return [] }
        let quote: UInt8?
        let body: ArraySlice<UInt8>
        if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
            quote = first
            body = text.dropFirst()
        } else {
            quote = nil
            body = text.prefix { !isSpace($0) }
        }
        var out: [UInt8] = []
        var index = body.startIndex
        while index < body.endIndex, body[index] != quote {
            let next = index + 1 < body.endIndex ? body[index + 1] : nil
            if body[index] == UInt8(ascii: "\\"), let next, next == UInt8(ascii: "\\") || (quote != nil && next == quote) {
                out.append(next)
                index += 2
            } else {
                out.append(body[index])
                index += 1
            }
        }
        return out
    }

    /// rfc1867 "never repair potential malicious user input": every `]` closes a `[`, is
    /// last or followed by `[`, and all brackets are closed.
    private static func bracketsBalanced(_ name: [UInt8]) -> Bool {
        var depth = 0
        for (index, byte) in name.enumerated() {
            if byte == UInt8(ascii: "[") {
                depth += 1
            } else if byte == UInt8(ascii: "]") {
                depth -= 1
                if index + 1 < name.count, name[index + 1] != UInt8(ascii: "[") { return false }
            }
            if depth < 0 { return false }
        }
        return depth == 0
    }
}

/// The line- and boundary-level reading of rfc1867's `multipart_buffer`.
private struct MultipartReader {
    let body: [UInt8]
    /// `--boundary`: a line equal to it starts a part.
    let delimiter: [UInt8]
    /// `\n--boundary`: where a part's body ends.
    let bodyEnd: [UInt8]
    var position = 0
    /// Whether any delimiter line was found.
    private(set) var sawDelimiter = false

    init(body: [UInt8], boundary: [UInt8]) {
        self.body = body
        delimiter = Array("--".utf8) + boundary
        bodyEnd = Array("\n--".utf8) + boundary
    }

    var atEnd: Bool { position >= body.count }

    /// The next LF-terminated line without its CR LF, cut at a NUL as C string functions
    /// see it; nil when no LF is left.
    mutating func nextLine() -> ArraySlice<UInt8>? {
        guard position < body.count, let lf = body[position...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        var end = lf
        if end > position, body[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = body[position..<end]
        position = lf + 1
        return line.prefix { $0 != 0 }
    }

    /// Skips to the next delimiter line and reads the header block after it
    /// (`multipart_buffer_headers`). Nil when no delimiter line is left.
    mutating func readHeaders() -> [(name: [UInt8], value: [UInt8])]? {
        var found = false
        while let line = nextLine() {
            if line.elementsEqual(delimiter) {
                found = true
                break
            }
        }
        guard found else { return nil }
        sawDelimiter = true
        var headers: [(name: [UInt8], value: [UInt8])] = []
        var pending: (name: [UInt8], value: [UInt8])?
        while let line = nextLine(), let first = line.first {
            // A line that starts with white space, or has no colon, continues the previous header.
            if !PHPForm.isSpace(first), let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                if let pending { headers.append(pending) }
                pending = (Array(line[..<colon]), Array(line[(colon + 1)...].drop(while: PHPForm.isSpace)))
            } else if pending != nil {
                pending?.value += line
            }
        }
        if let pending { headers.append(pending) }
        return headers
    }

    /// A part's body (`multipart_buffer_read_body`): up to `\n--boundary`, or up to a tail of
    /// the body that is a prefix of it, without one CR before it.
    mutating func readBody() -> [UInt8] {
        let rest = body[position...]
        var end = body.count
        var bounded = false
        var candidate = rest.startIndex
        while let match = rest[candidate...].firstIndex(of: bodyEnd[0]) {
            let available = body.count - match
            if body[match..<(match + min(available, bodyEnd.count))].elementsEqual(bodyEnd.prefix(available)) {
                end = match
                bounded = true
                break
            }
            candidate = match + 1
        }
        var valueEnd = end
        if bounded, valueEnd > position, body[valueEnd - 1] == UInt8(ascii: "\r") { valueEnd -= 1 }
        let value = Array(body[position..<valueEnd])
        position = end
        return value
    }
}
