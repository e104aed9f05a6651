import Flows
import Logging

extension TelegramConnector {
    /// A Telegram id from an input (a number, or text holding one), or a permanent error naming the input.
    static func requireID(_ inputs: Fields, _ name: String) throws -> Int64 {
        guard let value = inputs[name] else { throw ConnectorError.missingField(name, expected: "a Telegram id") }
        guard let id = value.telegramID else {
            throw ConnectorError.permanent("bad-input", "'\(name)' must be a numeric Telegram id, found '\(value.text)'")
        }
        return id
    }

    /// The id from the input when given, else the configured group.
    func chatOrGroup(_ inputs: Fields, _ name: String = "chat_id") throws -> Int64 {
        if inputs[name] != nil { return try Self.requireID(inputs, name) }
        return try requireGroup()
    }

    func requireGroup() throws -> Int64 {
        guard let id = settings.groupID else {
            throw ConnectorError.permanent("missing-config", "telegram '\(Key.groupID)' is not set (TELEGRAM_GROUP_ID): the private group's chat id")
        }
        return id
    }

    func requireOperatorsChat() throws -> Int64 {
        guard let id = settings.operatorsChatID else {
            throw ConnectorError.permanent("missing-config",
                                           "telegram '\(Key.operatorsChatID)' is not set (TELEGRAM_OPERATORS_CHAT_ID): the operators' chat id")
        }
        return id
    }

    /// The `message_id` of a sent `Message` (or of `copyMessage`'s `MessageId`).
    static func messageID(_ result: Value, method: String) throws -> Int64 {
        guard let id = result["message_id"]?.telegramID else {
            throw ConnectorError(code: "telegram-bad-response", "Telegram answered \(method) without a message_id", .retry)
        }
        return id
    }

    /// Logs an action's outcome at debug level with the keys every action shares.
    func trace(_ call: ActionCall, _ message: Logger.Message, _ metadata: Logger.Metadata = [:]) {
        call.logger.debug(message, metadata: metadata.merging(["run.id": "\(call.runID)", "step.id": "\(call.stepID)",
                                                                "telegram.action": "\(call.action)"]) { a, _ in a })
    }
}
