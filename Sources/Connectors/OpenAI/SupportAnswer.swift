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

    var value: Value { ["text": .string(text), "escalate": .bool(escalate), "reason": .string(reason)] }
}
