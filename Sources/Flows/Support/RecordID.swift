import Foundation

/// Ids for stored rows (events, runs, members, payments, invites…).
public enum RecordID {
    /// A time-ordered (version 7, RFC 9562) UUID in lowercase: 48 bits of epoch milliseconds,
    /// then 74 random bits. New rows of a table keyed by it land at the right edge of its
    /// indexes instead of on a random page each, so a commit writes a few pages, not one per row.
    /// Not Foundation's `UUID()`: it opens `/dev/urandom` for each id on Linux, and `uuidString`
    /// goes through `snprintf`.
    public static func make() -> String {
        let time = UInt64(max(0, (Date().timeIntervalSince1970 * 1000).rounded())) << 16
        // One system call for both halves (the standard generator makes one per 8 bytes).
        var random: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &random) { arc4random_buf($0.baseAddress!, $0.count) }
        // Time, version 7 and 12 random bits in the first half; variant and 62 random bits in the second.
        let high = time | random.0 & 0x0FFF | 0x7000
        let low = random.1 & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        // 8-4-4-4-12 hex digits, written in place.
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var position = 0
            for word in [high, low] {
                for nibble in stride(from: 60, through: 0, by: -4) {
                    if position == 8 || position == 13 || position == 18 || position == 23 {
                        buffer[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    buffer[position] = Crypto.hexDigits[Int(word >> UInt64(nibble) & 0xF)]
                    position += 1
                }
            }
            return position
        }
    }
}
