import Flows

/// Input and output names of the support actions, declared once like the rest in `Key`.
extension DatabaseConnector.Key {
    static let mode = "mode"
    static let direction = "direction"
    static let text = "text"
    static let history = "history"
    static let role = "role"
    static let operatorsMessageID = "operators_message_id"
    static let headerMessageID = "header_message_id"
    static let operatorsChatID = "operators_chat_id"
    static let mediaType = "media_type"
    static let memberFound = "member_found"
    static let memberURL = "member_url"
    static let summary = "summary"
    static let logged = "logged"
    static let modeChangedBy = "mode_changed_by"
}

/// The values of `funnel_support_threads.mode` and `funnel_support_messages.direction`.
enum SupportMode {
    static let ai = "ai"
    static let operator_ = "operator"
    static let all = [ai, operator_]
}

enum SupportDirection {
    /// From the client.
    static let incoming = "in"
    /// From the bot (an AI or FAQ answer).
    static let outgoing = "out"
    /// From an operator, through the operators' chat.
    static let operator_ = "operator"
    static let all = [incoming, outgoing, operator_]
}

extension Fields {
    /// An optional whole number (a Telegram message id, a count): absent, null or blank (a skipped step's result rendered
    /// into a template) is nil; anything else must be a whole number.
    func optionalWholeNumber(_ name: String) throws(ConnectorError) -> Int64? {
        // `values`, not `self[name]`: the subscript can hand back a `.null` as present.
        guard let value = values[name], !value.isNull else { return nil }
        if case .string(let text) = value, text.trimmed.isEmpty { return nil }
        guard let number = get(name, as: Int.self) else {
            throw .permanent("bad-input", "'\(name)' must be a whole number, found \(value.typeName)")
        }
        return Int64(number)
    }
}
