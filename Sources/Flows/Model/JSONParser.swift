/// A small strict JSON parser producing `Value`s; Foundation's cannot tell `true` from `1` on Linux.
struct JSONParser {
    struct Failure: Error, CustomStringConvertible {
        let offset: Int
        let problem: String
        var description: String { "invalid JSON at byte \(offset): \(problem)" }
    }

    let bytes: [UInt8]
    let maximumDepth: Int
    var i = 0
    var depth = 0

    init(bytes: [UInt8], maximumDepth: Int = 256) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    mutating func parseDocument() throws -> Value {
        let v = try parseValue()
        skipSpace()
        if i != bytes.count { throw Failure(offset: i, problem: "unexpected trailing characters") }
        return v
    }

    // The helpers below look at bytes with `switch` and slices rather than building arrays and
    // strings for each one: stored events and step results are parsed on every resumed run.

    private mutating func skipSpace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    private mutating func expect(_ literal: StaticString, _ v: Value) throws -> Value {
        let count = literal.utf8CodeUnitCount
        guard i + count <= bytes.count,
              bytes[i..<i + count].elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: count)) else {
            throw Failure(offset: i, problem: "unexpected character")
        }
        i += count
        return v
    }

    private mutating func parseValue() throws -> Value {
        skipSpace()
        guard i < bytes.count else { throw Failure(offset: i, problem: "unexpected end") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        default: return try parseNumber()
        }
    }

    private mutating func nest() throws {
        depth += 1
        if depth > maximumDepth { throw Failure(offset: i, problem: "nested too deeply") }
    }

    private mutating func parseObject() throws -> Value {
        try nest(); defer { depth -= 1 }
        i += 1
        // Collected first and hashed once at their final capacity (a repeated key: the last wins).
        var members: [(String, Value)] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object([:]) }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw Failure(offset: i, problem: "expected a key") }
            let key = try parseString()
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw Failure(offset: i, problem: "expected ':'") }
            i += 1
            members.append((key, try parseValue()))
            skipSpace()
            guard i < bytes.count else { throw Failure(offset: i, problem: "unexpected end") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(Dictionary(members) { _, last in last }) }
            throw Failure(offset: i, problem: "expected ',' or '}'")
        }
    }

    private mutating func parseArray() throws -> Value {
        try nest(); defer { depth -= 1 }
        i += 1
        var items: [Value] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            items.append(try parseValue())
            skipSpace()
            guard i < bytes.count else { throw Failure(offset: i, problem: "unexpected end") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw Failure(offset: i, problem: "expected ',' or ']'")
        }
    }

    private mutating func parseNumber() throws -> Value {
        let start = i
        scan: while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "e"), UInt8(ascii: "E"): i += 1
            default: break scan
            }
        }
        guard i > start, let n = Double(String(decoding: bytes[start..<i], as: UTF8.self)) else {
            throw Failure(offset: start, problem: "unexpected character")
        }
        return .number(n)
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else {
            throw Failure(offset: i, problem: "bad \\u escape")
        }
        i += 4
        return v
    }

    private mutating func parseString() throws -> String {
        i += 1
        // Most strings have no escape: they are taken as one slice.
        let start = i
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\""):
                i += 1
                return String(decoding: bytes[start..<i - 1], as: UTF8.self)
            case UInt8(ascii: "\\"):
                return try parseEscapedString(from: start)
            default:
                i += 1
            }
        }
        throw Failure(offset: i, problem: "unterminated string")
    }

    /// The rest of a string that holds an escape, from its first byte at `start`.
    private mutating func parseEscapedString(from start: Int) throws -> String {
        var out = Array(bytes[start..<i])
        while i < bytes.count {
            let b = bytes[i]
            i += 1
            if b == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            if b != UInt8(ascii: "\\") { out.append(b); continue }
            guard i < bytes.count else { break }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), i + 6 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                    i += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        // A high surrogate without its low half is a replacement character, and
                        // what followed it is read on its own (`"\ud83d\u0041"` is "\u{FFFD}A").
                        UTF8.encode("\u{FFFD}") { out.append($0) }
                        code = low
                    }
                }
                UTF8.encode(Unicode.Scalar(code) ?? "\u{FFFD}") { out.append($0) }
            default: out.append(e)
            }
        }
        throw Failure(offset: i, problem: "unterminated string")
    }
}
