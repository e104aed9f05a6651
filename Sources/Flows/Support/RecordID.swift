import Foundation

/// Ids for stored rows (events, runs, members, payments, invites…).
public enum RecordID {
    /// A time-ordered (version 7, RFC 9562) UUID in lowercase: 48 bits of epoch milliseconds,
    /// then 74 random bits. New rows of a table keyed by it land at the right edge of its
    /// indexes instead of on a random page each, so a commit writes a few pages, not one per row.
    /// Formatted directly: Foundation's `UUID()` opens `/dev/urandom` for each id on Linux, and
    /// `uuidString` goes through `snprintf`.
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let time = UInt64(max(0, (Date().timeIntervalSince1970 * 1000).rounded())) << 16
        var bytes = (0..<2).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: time >> (56 - 8 * index)) }
        bytes[6] = bytes[6] & 0x0F | 0x70
        bytes[8] = bytes[8] & 0x3F | 0x80
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
