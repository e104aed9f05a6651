import Flows

extension DatabaseConnector {
    static let checkJoinSpec = ActionSpec(
        name: "check_join",
        summary: "Decides a join request to the private group: approve only the paid member the invite was made for, while the invite is active.",
        inputs: [
            .required(Key.inviteLink, .string, "the invite link the request came through"),
            .required(Key.telegramID, .integer, "the Telegram user asking to join"),
        ],
        outputs: [
            .output(Key.approve, .boolean, "whether to approve the request"),
            .output(Key.reason, .choice(JoinDecision.all),
                    "why: ok, unknown_link, wrong_user (a forwarded link), not_paid, removed (by an admin), revoked (replaced by a newer invite), used, expired"),
            .output(Key.memberID, .string, "the member the invite was made for, or null"),
        ],
        hasSideEffects: false,
        example: """
            id: decision
            do: db.check_join
            with:
              invite_link: "{{ event.body.invite_link.invite_link }}"
              telegram_id: "{{ event.body.from.id }}"
            """
    )

    func checkJoin(_ inputs: Fields) async throws -> Value {
        let link = try inputs.requireText(Key.inviteLink)
        let telegramID = try inputs.requireWholeNumber(Key.telegramID)
        let nowSeconds = Self.now() / 1000
        return try await read { db in
            guard let invite = try db.query("""
                SELECT i.member_id, i.telegram_id, i.status, i.expires_at, m.status AS member_status, m.paid_at
                FROM funnel_invites i JOIN funnel_members m ON m.id = i.member_id
                WHERE i.invite_link = $1
                """, [.string(link)]).first
            else {
                return [Key.approve: false, Key.reason: .string(JoinDecision.unknownLink), Key.memberID: nil]
            }
            let reason: String
            if invite[Key.telegramID]?.int64 != telegramID {
                reason = JoinDecision.wrongUser
            } else if invite["member_status"]?.stringValue == MemberStatus.removed {
                reason = JoinDecision.removed
            } else if (invite[Key.paidAt] ?? .null).isNull {
                reason = JoinDecision.notPaid
            } else if invite[Key.status]?.stringValue == InviteStatus.revoked {
                reason = JoinDecision.revoked
            } else if invite[Key.status]?.stringValue == InviteStatus.used {
                reason = JoinDecision.used
            } else if let expiresAt = invite[Key.expiresAt]?.int64, expiresAt / 1000 <= nowSeconds {
                reason = JoinDecision.expired
            } else {
                reason = JoinDecision.ok
            }
            return [Key.approve: .bool(reason == JoinDecision.ok), Key.reason: .string(reason), Key.memberID: invite[Key.memberID] ?? .null]
        }
    }
}

/// The reasons `check_join` gives.
enum JoinDecision {
    static let ok = "ok"
    static let unknownLink = "unknown_link"
    static let wrongUser = "wrong_user"
    static let notPaid = "not_paid"
    static let removed = "removed"
    static let revoked = "revoked"
    static let used = "used"
    static let expired = "expired"
    static let all = [ok, unknownLink, wrongUser, notPaid, removed, revoked, used, expired]
}
