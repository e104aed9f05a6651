import Flows

/// PBKDF2-HMAC-SHA256 password hashes with a per-user random salt, stored as
/// `pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX` so the cost can be raised later without a migration.
enum PasswordHash {
    static let iterations = 210_000
    static let scheme = "pbkdf2-sha256"

    static func make(_ password: String, iterations: Int = iterations) -> String {
        let salt = Crypto.randomBytes(16)
        let hash = Crypto.pbkdf2(password: password, salt: salt, iterations: iterations)
        return "\(scheme)$\(iterations)$\(Crypto.hex(salt))$\(Crypto.hex(hash))"
    }

    /// Whether `password` matches `stored`; compares in constant time.
    static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 4, parts[0] == scheme, let iterations = Int(parts[1]), iterations > 0,
              let salt = bytes(hex: parts[2]), let expected = bytes(hex: parts[3])
        else { return false }
        let actual = Crypto.pbkdf2(password: password, salt: salt, iterations: iterations, length: expected.count)
        return Crypto.constantTimeEquals(actual, expected)
    }

    /// A hash no password matches, verified for unknown logins so they take as long as known ones.
    static let decoy = make(Crypto.token(bytes: 24))

    private static func bytes(hex: String) -> [UInt8]? {
        let chars = Array(hex.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let byte = UInt8(String(decoding: chars[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
            i += 2
        }
        return out
    }
}
