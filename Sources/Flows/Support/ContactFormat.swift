import Foundation

/// How the funnel writes and checks contacts, shared by the site's form and the admin's edits,
/// so a member's phone (what identifies them on a second registration) is the same from both.
public enum ContactFormat {
    /// Russian numbers in any usual spelling (`8 (999) 123-45-67`, `+7 999…`, `9991234567`) to
    /// `+7XXXXXXXXXX`; other countries' numbers written with `+` are kept as E.164.
    public static func phone(_ text: String) -> String? {
        let allowed = CharacterSet(charactersIn: "0123456789+()-. ")
        guard text.unicodeScalars.allSatisfy({ allowed.contains($0) }), text.count <= 32 else { return nil }
        let plus = text.hasPrefix("+")
        guard !text.dropFirst().contains("+") else { return nil }
        let digits = text.filter(\.isNumber)
        switch (plus, digits.count, digits.first) {
        case (false, 11, "8"), (false, 11, "7"), (true, 11, "7"): return "+7" + digits.dropFirst()
        case (false, 10, "9"): return "+7" + digits
        case (true, _, "7"): return nil  // +7 numbers have exactly 10 digits after the 7
        case (true, 8...15, _) where digits.first != "0": return "+" + digits
        default: return nil
        }
    }

    /// Control characters, and the marks that reorder text (right-to-left overrides, embeddings and
    /// isolates): they make a name read differently from what is stored, in the dashboard and in logs.
    public static func hasDisguisingCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.properties.generalCategory == .control || (0x202A...0x202E).contains($0.value)
            || (0x2066...0x2069).contains($0.value) }
    }

    /// `text` without the invisible characters that copy and paste brings along (zero-width spaces,
    /// soft hyphens, direction marks, a BOM), which would make a name look empty or a second
    /// registration differ from the first. A short list, not every format character: the joiners
    /// Persian names and emoji need, emoji tags and Arabic marks stay. What reorders text is left
    /// in, for `hasDisguisingCharacters` to refuse.
    public static func withoutInvisibles(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { !invisibles.contains($0.value) }))
    }

    /// A phone or an e-mail as pasted, without any format character: there they mean nothing, and a
    /// number copied from a phone's contacts comes wrapped in direction marks the eye cannot see.
    public static func withoutFormatCharacters(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.properties.generalCategory != .format }))
    }

    /// A field as typed, without what copy and paste adds unseen (`withoutFormatCharacters` for a
    /// phone or an e-mail, `withoutInvisibles` for the rest), trimmed, its spaces (tabs, NBSP) single.
    public static func cleaned(_ text: String, isPhoneOrEmail: Bool) -> String {
        (isPhoneOrEmail ? withoutFormatCharacters(text) : withoutInvisibles(text))
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Whether a name or a city has a letter in it: one of invisible characters alone looks empty.
    public static func hasLetter(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.properties.isAlphabetic }
    }

    private static let invisibles: Set<UInt32> = [0x00AD, 0x061C, 0x180E, 0x200B, 0x200E, 0x200F, 0x2060, 0xFEFF]

    public static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64 else { return false }
        let domain = parts[1]
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && !$0.hasPrefix("-") && !$0.hasSuffix("-") }) else { return false }
        let local = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: ".!#$%&'*+/=?^_`{|}~-"))
        let host = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: ".-"))
        return parts[0].unicodeScalars.allSatisfy { local.contains($0) } && domain.unicodeScalars.allSatisfy { host.contains($0) }
            && (labels.last?.count ?? 0) >= 2
    }
}
