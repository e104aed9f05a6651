import Flows

extension DatabaseConnector {
    /// Messages a thread returns as history by default, and at most.
    static let defaultHistory = 10
    static let maxHistory = 50

    static let supportThreadSpec = ActionSpec(
        name: "support_thread",
        summary: "Opens (or reads) the support chat of a Telegram user: its mode (ai or operator), what the funnel knows about the client, and the latest messages.",
        inputs: [
            .required(Key.telegramID, .integer, "the client's Telegram user id (the private chat's id)"),
            .optional(Key.history, .integer, "how many of the latest messages to return, 0–\(maxHistory)", default: .int(Int64(defaultHistory))),
        ],
        outputs: [
            .output(Key.telegramID, .integer, "the client's Telegram user id"),
            .output(Key.mode, .choice(SupportMode.all), "ai: the bot answers; operator: messages go to the operators' chat"),
            .output(Key.created, .boolean, "true when this call opened the thread"),
            .output(Key.memberFound, .boolean, "whether a member is bound to this Telegram user; when false the member fields are null"),
            .output(Key.memberID, .string, "the member's id"),
            .output(Key.fullName, .string, "full name as registered"),
            .output(Key.phone, .string, "phone, E.164"),
            .output(Key.status, .choice(MemberStatus.all), "where the member is in the funnel"),
            .output(Key.paid, .boolean, "whether the member has paid and was not removed"),
            .output(Key.joined, .boolean, "whether the member is in the group"),
            .output(Key.memberURL, .string, "the member's page in the admin dashboard (the hub's public URL + /admin/members/ID), or null"),
            .output(Key.summary, .string, "one line for the operators, in Russian: name, phone, paid or not, in the group or not"),
            .output(Key.history, .array, "the latest messages, oldest first, as openai.answer takes them: [{role: user|assistant, text}]"),
        ],
        hasSideEffects: true,
        example: """
            id: thread
            do: db.support_thread
            with:
              telegram_id: "{{ event.body.from.id }}"
              history: 10
            """
    )

    func supportThread(_ inputs: Fields) async throws -> Value {
        let telegramID = try inputs.requireTelegramID()
        let limit = try inputs.optionalWholeNumber(Key.history).map { max(0, min(Int64(Self.maxHistory), $0)) } ?? Int64(Self.defaultHistory)
        let publicURL = self.publicURL
        return try await transaction { db in try Self.supportThread(telegramID: telegramID, history: limit, publicURL: publicURL, db) }
    }

    private static func supportThread(telegramID: Int64, history limit: Int64, publicURL: String, _ db: any SQLConnection) throws -> Value {
        let now = Value.int(now())
        // The member is looked up on every call: the client may bind their account (/start TOKEN)
        // after the thread was opened.
        let member = try db.query("SELECT \(memberColumns) FROM funnel_members WHERE telegram_id = $1", [.int(telegramID)]).first
        let memberID = member?[Key.id] ?? .null
        let created = try db.execute("""
            INSERT INTO funnel_support_threads (telegram_id, member_id, mode, updated_at) VALUES ($1, $2, 'ai', $3)
            ON CONFLICT (telegram_id) DO NOTHING
            """, [.int(telegramID), memberID, now]) > 0
        if !created {
            try db.execute("UPDATE funnel_support_threads SET member_id = $2 WHERE telegram_id = $1",
                           [.int(telegramID), memberID])
        }
        let mode = try db.query("SELECT mode FROM funnel_support_threads WHERE telegram_id = $1", [.int(telegramID)]).first?[Key.mode]
        // The newest `limit` rows, then put back in order: what the model reads as the conversation so far.
        let rows = limit == 0 ? [] : try db.query("""
            SELECT direction, text FROM funnel_support_messages WHERE telegram_id = $1 AND text <> ''
            ORDER BY created_at DESC, id DESC LIMIT $2
            """, [.int(telegramID), .int(limit)])
        let history: [Value] = rows.reversed().compactMap { row in
            guard let text = row[Key.text]?.stringValue, !text.isEmpty else { return nil }
            let role = row[Key.direction]?.stringValue == SupportDirection.incoming ? "user" : "assistant"
            return [Key.role: .string(role), Key.text: .string(text)]
        }
        var out: [String: Value] = [
            Key.telegramID: .int(telegramID), Key.mode: mode ?? .string(SupportMode.ai), Key.created: .bool(created),
            Key.memberFound: .bool(member != nil), Key.memberID: memberID,
            Key.fullName: member?[Key.fullName] ?? .null, Key.phone: member?[Key.phone] ?? .null,
            Key.status: member?[Key.status] ?? .null,
            Key.paid: .bool(member.map(isPaid) ?? false),
            Key.joined: .bool(member?[Key.status]?.stringValue == MemberStatus.joined),
            Key.memberURL: memberID.stringValue.map { .string("\(publicURL)/admin/members/\($0)") } ?? .null,
            Key.history: .array(history),
        ]
        out[Key.summary] = .string(summary(member))
        return .object(out)
    }

    /// "Анна Петрова · +79161234567 · оплачено · в группе": what an operator needs at a glance.
    static func summary(_ member: SQLRow?) -> String {
        guard let member else { return "нет в базе (не регистрировался или пишет с другого аккаунта)" }
        let status = member[Key.status]?.stringValue
        return [
            member[Key.fullName]?.stringValue,
            member[Key.phone]?.stringValue,
            isPaid(member) ? "оплачено" : "не оплачено",
            status == MemberStatus.joined ? "в группе" : status == MemberStatus.left ? "вышел из группы" : nil,
        ].compactMap { $0 }.joined(separator: " · ")
    }
}

extension Fields {
    /// The required `telegram_id` of the support actions.
    func requireTelegramID() throws(ConnectorError) -> Int64 {
        try requireWholeNumber(DatabaseConnector.Key.telegramID)
    }
}
