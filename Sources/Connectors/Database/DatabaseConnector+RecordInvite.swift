import Flows

extension DatabaseConnector {
    static let recordInviteSpec = ActionSpec(
        name: "record_invite",
        summary: "Records a one-time group invite made for a member and revokes the member's older active invites.",
        inputs: [
            .required(Key.memberID, .string, "the member's id"),
            .required(Key.telegramID, .integer, "the only Telegram user the invite admits"),
            .required(Key.inviteLink, .string, "the invite link Telegram created"),
            .optional(Key.expiresAt, .integer, "when the link stops working, epoch seconds"),
        ],
        outputs: inviteOutputs + [
            .output(Key.revokedLinks, .array, "links of the member's older invites this one replaced: revoke them at Telegram too"),
        ],
        hasSideEffects: true,
        example: """
            id: invite
            do: db.record_invite
            with:
              member_id: "{{ event.body.member_id }}"
              telegram_id: "{{ event.body.telegram_id }}"
              invite_link: "{{ event.body.invite_link }}"
              expires_at: "{{ event.body.expire_date }}"
            """
    )

    static let inviteColumns = "id, member_id, telegram_id, invite_link, status, expires_at, created_at, used_at"

    /// The invite fields in action outputs.
    static let inviteOutputs: [FieldSpec] = [
        .output(Key.id, .string, "the invite's id"),
        .output(Key.memberID, .string, "the member it was made for"),
        .output(Key.telegramID, .integer, "the Telegram user it admits"),
        .output(Key.inviteLink, .string, "the link"),
        .output(Key.status, .choice(InviteStatus.all), "whether it can still be used"),
        .output(Key.expiresAt, .integer, "when it stops working, epoch seconds, or null"),
        .output(Key.createdAt, .integer, "recorded at, epoch milliseconds"),
        .output(Key.usedAt, .integer, "used at, epoch milliseconds, or null"),
    ]

    func recordInvite(_ inputs: Fields) async throws -> Value {
        let memberID = try inputs.require(Key.memberID)
        let telegramID = try inputs.requireWholeNumber(Key.telegramID)
        let link = try inputs.requireText(Key.inviteLink)
        let expiresAt = try inputs.wholeNumber(Key.expiresAt)
        return try await transaction { db in
            try Self.record(memberID: memberID, telegramID: telegramID, link: link, expiresAt: expiresAt, db)
        }
    }

    private static func record(memberID: String, telegramID: Int64, link: String, expiresAt: Int64?, _ db: any SQLConnection) throws -> Value {
        guard try !db.query("SELECT id FROM funnel_members WHERE id = $1", [.string(memberID)]).isEmpty else {
            throw ConnectorError.permanent("not-found", "no member has the id '\(memberID)'")
        }
        let now = Value.int(now())
        // Recording the same link again (a resumed run) keeps the first row and reports the same revocations.
        try db.execute("""
            INSERT INTO funnel_invites (id, member_id, telegram_id, invite_link, status, expires_at, created_at)
            VALUES ($1, $2, $3, $4, 'active', $5, $6)
            ON CONFLICT (invite_link) DO NOTHING
            """, [.string(RecordID.make()), .string(memberID), .int(telegramID), .string(link), expiresAt.map { .int($0 * 1000) } ?? .null, now])
        guard let invite = try db.query("SELECT \(inviteColumns) FROM funnel_invites WHERE invite_link = $1", [.string(link)]).first,
              invite[Key.memberID]?.stringValue == memberID
        else {
            throw ConnectorError.permanent("conflict", "the invite link is already recorded for another member")
        }
        try db.execute("""
            UPDATE funnel_invites SET status = 'revoked', revoked_by = $2
            WHERE member_id = $1 AND status = 'active' AND invite_link <> $2
            """, [.string(memberID), .string(link)])
        let revoked = try db.query("SELECT invite_link FROM funnel_invites WHERE revoked_by = $1 ORDER BY created_at, invite_link",
                                   [.string(link)]).map { $0[Key.inviteLink] ?? .null }
        var out = self.invite(invite)
        out[Key.revokedLinks] = .array(revoked)
        return .object(out)
    }

    /// An invite row as flows see it; `expires_at` back in epoch seconds, as Telegram gives it.
    static func invite(_ row: SQLRow) -> [String: Value] {
        var out: [String: Value] = [:]
        for name in inviteOutputs.names { out[name] = row[name] ?? .null }
        out[Key.expiresAt] = row[Key.expiresAt]?.int64.map { .int($0 / 1000) } ?? .null
        return out
    }
}

/// The values of `funnel_invites.status`.
enum InviteStatus {
    static let active = "active"
    static let used = "used"
    static let revoked = "revoked"
    static let all = [active, used, revoked]
}
