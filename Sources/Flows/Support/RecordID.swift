import Foundation

/// Ids for stored rows (events, runs, members, payments, invites…).
public enum RecordID {
    /// A time-ordered (version 7, RFC 9562) UUID in lowercase: 48 bits of epoch milliseconds,
    /// then 74 random bits. New rows of a table keyed by it land at the right edge of its
    /// indexes instead of on a random page each, so a commit writes a few pages, not one per row.
    /// Not Foundation's `UUID()`: it opens `/dev/urandom` for each id on Linux, and `uuidString`
    /// goes through `snprintf`.
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let time = UInt64(max(0, (Date().timeIntervalSince1970 * 1000).rounded())) << 16
        var bytes = (0..<2).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: time >> (56 - 8 * index)) }
        bytes[6] = bytes[6] & 0x0F | 0x70
        bytes[8] = bytes[8] & 0x3F | 0x80
        // Groups of 8-4-4-4-12 hex digits.
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { Crypto.hex(bytes[$0]) }.joined(separator: "-")
    }
}
