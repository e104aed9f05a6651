import Flows

/// Postgres array literals, each passed as one text parameter and cast in the SQL
/// (`CAST($2 AS TEXT[])`, then `unnest`): a batch of any size then goes through one prepared
/// statement, where a multi-row VALUES list is a new statement text, parsed and planned anew,
/// for every batch size.
enum PostgresArray {
    /// `{"a","b",NULL}`: each element quoted, `"` and `\` escaped with a backslash.
    static func text(_ elements: [String?]) -> Value {
        var literal: [UInt8] = [UInt8(ascii: "{")]
        literal.reserveCapacity(elements.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        for (position, element) in elements.enumerated() {
            if position > 0 { literal.append(UInt8(ascii: ",")) }
            guard let element else {
                literal += "NULL".utf8
                continue
            }
            literal.append(UInt8(ascii: "\""))
            for byte in element.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { literal.append(UInt8(ascii: "\\")) }
                literal.append(byte)
            }
            literal.append(UInt8(ascii: "\""))
        }
        literal.append(UInt8(ascii: "}"))
        return .string(String(decoding: literal, as: UTF8.self))
    }

    /// `{1,2,NULL}`.
    static func integers(_ elements: [Int64?]) -> Value {
        .string("{" + elements.map { $0.map(String.init) ?? "NULL" }.joined(separator: ",") + "}")
    }
}
