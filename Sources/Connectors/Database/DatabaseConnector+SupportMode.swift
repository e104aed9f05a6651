import Flows

extension DatabaseConnector {
    static let setSupportModeSpec = ActionSpec(
        name: "set_support_mode",
        summary: "Switches a support chat between the bot (ai) and a human operator (operator); says whether this step switched it, also when retried.",
        inputs: [
            .required(Key.telegramID, .integer, "the client's Telegram user id"),
            .required(Key.mode, .choice(SupportMode.all), "ai: the bot answers again; operator: a human takes over"),
            .optional(Key.reason, .string, "why, for the dashboard and the operators (e.g. the model's escalation reason)"),
        ],
        outputs: [
            .output(Key.mode, .choice(SupportMode.all), "the chat's mode now"),
            .output(Key.changed, .boolean,
                    "true when this step switched the mode (tell the client once); false when it already was in that mode"),
            .output(Key.reason, .string, "why the chat is in this mode (the reason of the switch that put it there), or null"),
        ],
        hasSideEffects: true,
        example: """
            id: handover
            do: db.set_support_mode
            with:
              telegram_id: "{{ event.body.from.id }}"
              mode: operator
              reason: "{{ event.body.reason }}"
            """
    )

    /// The switch records the step's idempotency key, so a retried or resumed step that already
    /// switched the mode still answers `changed: true`, and the client is told exactly once.
    func setSupportMode(_ call: ActionCall) async throws -> Value {
        let inputs = call.inputs
        let telegramID = try inputs.requireTelegramID()
        let mode = try inputs.requireText(Key.mode)
        guard SupportMode.all.contains(mode) else {
            throw ConnectorError.permanent("bad-input", "'mode' must be 'ai' or 'operator', found '\(mode)'")
        }
        let reason = inputs.text(Key.reason).map { String($0.prefix(500)) }
        let key = call.idempotencyKey
        return try await transaction { db in
            let now = Value.int(Self.now())
            try db.execute("""
                INSERT INTO funnel_support_threads (telegram_id, member_id, mode, updated_at)
                VALUES ($1, (SELECT id FROM funnel_members WHERE telegram_id = $1), 'ai', $2)
                ON CONFLICT (telegram_id) DO NOTHING
                """, [.int(telegramID), now])
            let switched = try db.execute("""
                UPDATE funnel_support_threads SET mode = $2, mode_changed_by = $3, mode_changed_at = $4, reason = $5, updated_at = $4
                WHERE telegram_id = $1 AND mode <> $2
                """, [.int(telegramID), .string(mode), .string(key), now, .optionalString(reason)]) > 0
            let row = try db.query("SELECT mode, mode_changed_by, reason FROM funnel_support_threads WHERE telegram_id = $1", [.int(telegramID)]).first
            let changed = switched || (row?[Key.mode]?.stringValue == mode && row?[Key.modeChangedBy]?.stringValue == key)
            return [Key.mode: row?[Key.mode] ?? .string(mode), Key.changed: .bool(changed), Key.reason: row?[Key.reason] ?? .null]
        }
    }
}
