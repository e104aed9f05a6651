import Foundation
import Flows

/// The `answer` action's inputs, cleaned: the client's text capped, the history cut to its last
/// turns, the member's state reduced to short single-line values.
///
/// Everything here except `extraKnowledge` may come from the client (the question, earlier
/// messages, even the name typed into the form), so it is treated as data, never as instructions.
struct SupportQuestion: Sendable, Hashable {
    /// One earlier message of the chat.
    struct Turn: Sendable, Hashable {
        enum Role: String, Sendable { case user, assistant }
        var role: Role
        var text: String
    }

    /// What the hub knows about the client, as the flow passed it.
    struct Member: Sendable, Hashable {
        var fullName: String?
        var paid: Bool?
        var joined: Bool?
        var status: String?
        var nextSession: String?
    }

    /// Longer client messages are cut: the user's text costs tokens and Telegram allows 4096 anyway.
    static let maxQuestionCharacters = 4_000
    /// Earlier messages sent along; older ones add cost, not understanding.
    static let maxTurns = 10
    static let maxMemberValueCharacters = 200
    static let maxExtraKnowledgeCharacters = 8_000

    var question: String
    var history: [Turn]
    var member: Member?
    var extraKnowledge: String?

    init(_ inputs: Fields) {
        question = Self.capped(inputs.get("question") ?? "", Self.maxQuestionCharacters)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        history = (inputs["history"]?.arrayValue ?? []).compactMap(Self.turn).suffix(Self.maxTurns).map { $0 }
        member = inputs["member"]?.objectValue.flatMap(Self.member)
        extraKnowledge = inputs.get("knowledge").map { Self.capped($0, Self.maxExtraKnowledgeCharacters) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    private static func turn(_ value: Value) -> Turn? {
        guard let role = value["role"]?.stringValue.flatMap(Turn.Role.init(rawValue:)) else { return nil }
        let text = capped((value["text"] ?? value["content"])?.text ?? "", maxQuestionCharacters)
        return text.isEmpty ? nil : Turn(role: role, text: text)
    }

    /// Also reads the database's `find_member` result as it is: `found: false` is no member, and
    /// without a `joined` flag the status `joined` says it. Other fields (phone, deep-link token)
    /// are left out on purpose: they are not the model's business.
    private static func member(_ object: [String: Value]) -> Member? {
        if object["found"] == .bool(false) { return nil }
        let status = line(object["status"])
        return Member(fullName: line(object["full_name"]), paid: flag(object["paid"]),
                      joined: flag(object["joined"]) ?? status.map { $0 == "joined" },
                      status: status, nextSession: line(object["next_session"]))
    }

    /// A short single line: the value ends up in the system prompt, so it must not be able to
    /// open a new paragraph or close the `<member>` block.
    private static func line(_ value: Value?) -> String? {
        guard let value, !value.isNull else { return nil }
        let cleaned = value.text.unicodeScalars.map { scalar -> String in
            if CharacterSet.controlCharacters.contains(scalar) || CharacterSet.newlines.contains(scalar) { return " " }
            if scalar == "<" || scalar == ">" { return "" }
            return String(scalar)
        }.joined().split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return cleaned.isEmpty ? nil : capped(cleaned, maxMemberValueCharacters)
    }

    private static func flag(_ value: Value?) -> Bool? {
        switch value {
        case .bool(let b)?: b
        case .number(let n)?: n != 0
        case .string(let s)?: ["true", "1", "yes", "да"].contains(s.lowercased()) ? true : ["false", "0", "no", "нет", ""].contains(s.lowercased()) ? false : nil
        default: nil
        }
    }

    /// At most `limit` characters (whole graphemes, so an emoji is never split).
    static func capped(_ text: String, _ limit: Int) -> String {
        text.count > limit ? String(text.prefix(limit)) : text
    }
}
