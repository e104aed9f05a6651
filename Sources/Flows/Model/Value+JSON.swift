import Foundation

extension Value {
    /// Compact JSON with keys sorted, so equal values always serialise the same way.
    public var json: String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Built as bytes: appending to a `String` piece by piece costs several times more.
    private func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: (n.isFinite ? Value.format(n) : "null").utf8)
        case .string(let s): Value.writeJSONString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Value.writeJSONString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string literal. Besides what JSON requires, `<` and `>` are escaped (safe to embed in
    /// HTML `<script>` and logs) and so are U+2028 and U+2029 (line breaks to JavaScript).
    static func writeJSONString(_ s: String, into out: inout [UInt8]) {
        var text = s
        text.withUTF8 { writeJSONString(utf8: $0, into: &out) }
    }

    private static func writeJSONString(utf8: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Runs of bytes that need no escape are copied whole.
        var start = 0
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            var length = 1
            let escape: String?
            switch byte {
            case 0x22: escape = "\\\""
            case 0x5C: escape = "\\\\"
            case 0x0A: escape = "\\n"
            case 0x0D: escape = "\\r"
            case 0x09: escape = "\\t"
            case 0x3C: escape = "\\u003c"
            case 0x3E: escape = "\\u003e"
            case 0..<0x20: escape = "\\u00" + Crypto.hex(CollectionOfOne(byte))
            case 0xE2 where index + 2 < utf8.count && utf8[index + 1] == 0x80 && (utf8[index + 2] == 0xA8 || utf8[index + 2] == 0xA9):
                // U+2028 and U+2029 (E2 80 A8, E2 80 A9): line breaks to JavaScript.
                escape = utf8[index + 2] == 0xA8 ? "\\u2028" : "\\u2029"
                length = 3
            default: escape = nil
            }
            if let escape {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                out.append(contentsOf: escape.utf8)
                start = index + length
            }
            index += length
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<utf8.count]))
        out.append(UInt8(ascii: "\""))
    }

    /// Parses JSON text (as received from an API or stored in the database), nested at most
    /// `maximumDepth` levels.
    public init(json text: String, maximumDepth: Int = 256) throws {
        var parser = JSONParser(bytes: Array(text.utf8), maximumDepth: maximumDepth)
        self = try parser.parseDocument()
    }

    public init(jsonData data: Data) throws {
        var parser = JSONParser(bytes: Array(data))
        self = try parser.parseDocument()
    }
}
