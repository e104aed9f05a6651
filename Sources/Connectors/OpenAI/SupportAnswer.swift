import Flows

/// What the `answer` action returns: the text for the client, and whether a human takes over.
struct SupportAnswer: Sendable, Hashable {
    /// Sent to the client when the chat goes to an operator and the model wrote nothing itself.
    static let handoverText = "Передаю ваш вопрос оператору, он ответит вам здесь в ближайшее время."
    static let emptyQuestionText = "Напишите, пожалуйста, ваш вопрос."

    var text: String
    var escalate: Bool
    /// Why the chat goes to an operator; empty when it does not.
    var reason: String

    static func escalation(_ reason: String, text: String? = nil) -> SupportAnswer {
        SupportAnswer(text: text.flatMap { $0.isEmpty ? nil : $0 } ?? handoverText, escalate: true, reason: reason)
    }

    /// Telegram takes 4,096 UTF-16 units a message; an answer longer than this (a long FAQ
    /// section, a generous token limit) is cut, leaving room for a line the flow adds after it.
    static let maxTextUTF16 = 3_900

    var value: Value { ["text": .string(Self.fitted(text)), "escalate": .bool(escalate), "reason": .string(reason)] }

    /// `text` cut at a whole character with "…" when it is longer than `maxTextUTF16`.
    static func fitted(_ text: String) -> String {
        guard text.utf16.count > maxTextUTF16 else { return text }
        var kept = ""
        var units = 1  // the "…"
        for character in text {
            units += character.utf16.count
            guard units <= maxTextUTF16 else { break }
            kept.append(character)
        }
        return kept + "…"
    }
}
