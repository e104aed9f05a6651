import Flows

/// How members are read from rows and shown to flows, shared by the actions that return them.
extension DatabaseConnector {
    /// The member columns every member-returning action selects.
    static let memberColumns = """
        id, full_name, phone, city, email, telegram_id, telegram_username, status, token,
        created_at, updated_at, paid_at, joined_at
        """

    /// The member fields in action outputs.
    static let memberOutputs: [FieldSpec] = [
        .output(Key.id, .string, "the member's id"),
        .output(Key.fullName, .string, "full name as registered"),
        .output(Key.phone, .string, "phone, E.164"),
        .output(Key.city, .string, "city"),
        .output(Key.email, .string, "e-mail"),
        .output(Key.telegramID, .integer, "the bound Telegram user id, or null"),
        .output(Key.telegramUsername, .string, "the Telegram @username without '@', or null"),
        .output(Key.status, .choice(MemberStatus.all), "where the member is in the funnel"),
        .output(Key.token, .string, "the deep-link token for the bot (https://t.me/BOT?start=TOKEN)"),
        .output(Key.createdAt, .integer, "registered at, epoch milliseconds"),
        .output(Key.updatedAt, .integer, "last changed at, epoch milliseconds"),
        .output(Key.paidAt, .integer, "last paid at, epoch milliseconds, or null"),
        .output(Key.joinedAt, .integer, "joined the group at, epoch milliseconds, or null"),
        .output(Key.paid, .boolean, "whether the member has paid and was not removed"),
    ]

    /// A member row as flows see it, with `paid` worked out.
    static func member(_ row: SQLRow) -> [String: Value] {
        var out: [String: Value] = [:]
        for name in memberOutputs.names where name != Key.paid { out[name] = row[name] ?? .null }
        out[Key.paid] = .bool(isPaid(row))
        return out
    }

    /// Every member field null and `paid` false: the shape of "no such member".
    static var noMember: [String: Value] {
        var out: [String: Value] = [:]
        for name in memberOutputs.names { out[name] = .null }
        out[Key.paid] = false
        return out
    }

    /// Paid means a payment went through and an admin did not remove the member since.
    static func isPaid(_ row: SQLRow) -> Bool {
        !(row[Key.paidAt] ?? .null).isNull && row[Key.status]?.stringValue != MemberStatus.removed
    }
}

/// The values of `funnel_members.status`.
enum MemberStatus {
    static let registered = "registered"
    static let paid = "paid"
    static let joined = "joined"
    static let left = "left"
    static let removed = "removed"
    static let all = [registered, paid, joined, left, removed]
}

extension Fields {
    /// Trimmed text, or `nil` when absent or blank.
    func text(_ name: String) -> String? {
        guard let text = get(name)?.trimmed, !text.isEmpty else { return nil }
        return text
    }

    /// Trimmed text that must be there.
    func requireText(_ name: String) throws(ConnectorError) -> String {
        guard let text = text(name) else { throw .missingField(name) }
        return text
    }

    /// A Telegram id (or other whole number); a value that is present but not a whole number is bad input.
    func wholeNumber(_ name: String) throws(ConnectorError) -> Int64? {
        guard self[name] != nil else { return nil }
        guard let number = get(name, as: Int.self) else {
            throw .permanent("bad-input", "'\(name)' must be a whole number, found \(self[name]?.typeName ?? "null")")
        }
        return Int64(number)
    }

    /// A required whole number.
    func requireWholeNumber(_ name: String) throws(ConnectorError) -> Int64 {
        guard let number = try wholeNumber(name) else { throw .missingField(name, expected: "a whole number") }
        return number
    }
}
