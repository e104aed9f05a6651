import Flows

/// Our order numbers ("SH-7KQ2M9XD4A"): created at registration and sent to the payment
/// provider, so they are short, unambiguous to read aloud, and never the member's token.
enum OrderNumber {
    static let defaultPrefix = "SH-"

    /// Crockford's base32: no I, L, O or U, so nothing is misread over the phone.
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    /// A new order number: the prefix and 10 random characters (50 bits).
    static func make(prefix: String) -> String {
        // 256 is a multiple of 32, so taking each byte modulo 32 keeps every character equally likely.
        prefix + String(Crypto.randomBytes(10).map { alphabet[Int($0 % 32)] })
    }
}
