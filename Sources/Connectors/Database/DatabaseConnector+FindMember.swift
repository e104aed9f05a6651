import Flows

extension DatabaseConnector {
    static let findMemberSpec = ActionSpec(
        name: "find_member",
        summary: "Looks a member up by id, token, phone, e-mail or Telegram id (all given ones must match).",
        inputs: [
            .optional(Key.id, .string, "the member's id"),
            .optional(Key.token, .string, "the deep-link token"),
            .optional(Key.phone, .string, "phone, E.164"),
            .optional(Key.email, .string, "e-mail (any case)"),
            .optional(Key.telegramID, .integer, "the bound Telegram user id"),
        ],
        outputs: [.output(Key.found, .boolean, "whether a member matched; when false every other field is null")] + memberOutputs,
        hasSideEffects: false,
        example: """
            id: member
            do: db.find_member
            with: { telegram_id: "{{ event.body.message.from.id }}" }
            """
    )

    func findMember(_ inputs: Fields) async throws -> Value {
        // Built from fixed column names only; every value is a bound parameter.
        var conditions: [String] = []
        var parameters: [Value] = []
        func match(_ condition: (Int) -> String, _ value: Value) {
            parameters.append(value)
            conditions.append(condition(parameters.count))
        }
        if let id = inputs.text(Key.id) { match({ "id = $\($0)" }, .string(id)) }
        if let token = inputs.text(Key.token) { match({ "token = $\($0)" }, .string(token)) }
        if let phone = inputs.text(Key.phone) { match({ "phone = $\($0)" }, .string(phone)) }
        if let email = inputs.text(Key.email) { match({ "LOWER(email) = LOWER(CAST($\($0) AS TEXT))" }, .string(email)) }
        if let telegramID = try inputs.wholeNumber(Key.telegramID) { match({ "telegram_id = $\($0)" }, .int(telegramID)) }
        guard !conditions.isEmpty else {
            throw ConnectorError.permanent("missing-field", "find_member needs one of 'id', 'token', 'phone', 'email' or 'telegram_id'")
        }
        let sql = "SELECT \(Self.memberColumns) FROM funnel_members WHERE \(conditions.joined(separator: " AND ")) ORDER BY created_at DESC LIMIT 1"
        let rows = try await read { [parameters] db in try db.query(sql, parameters) }
        guard let row = rows.first else {
            var out = Self.noMember
            out[Key.found] = false
            return .object(out)
        }
        var out = Self.member(row)
        out[Key.found] = true
        return .object(out)
    }
}
