import DatabaseConnector
import Flows
import Foundation
import Testing

@Suite("db: Telegram binding, invites and joins")
struct TelegramAccessTests {
    @Test("bind_telegram binds once; a forwarded link is a conflict and moves nothing", arguments: TestFunnel.available)
    func bindConflict(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let member = try await funnel.register()
            let token = member["token"]!
            // Before the order is paid its link binds nobody: the user is kept on the order.
            let first = try await funnel.call("bind_telegram", ["token": token, "telegram_id": 111, "username": "@anna"])
            #expect(first == ["found": true, "id": member["id"]!, "full_name": "Анна Петрова", "status": "registered", "paid": false,
                              "joined": false, "order_id": member["order_id"]!, "amount": "3000.00", "conflict": false])
            #expect(try await funnel.rows("SELECT telegram_id FROM funnel_members").map(\.values) == [[.null]])
            let early = try await funnel.call("bind_telegram", ["token": token, "telegram_id": 222])
            #expect(early["conflict"] == true, "the order's first opener holds it")
            // Paid: its opener is bound, and the link goes on working for them alone.
            let paid = try await funnel.call("mark_paid", ["order": member["order_id"]!, "amount": "3000.00"])
            #expect(paid["telegram_id"] == 111)
            let again = try await funnel.call("bind_telegram", ["token": token, "telegram_id": "111", "username": "anna_new"])
            #expect(again["conflict"] == false)
            let stranger = try await funnel.call("bind_telegram", ["token": token, "telegram_id": 222, "username": "thief"])
            #expect(stranger["conflict"] == true)
            #expect(stranger["found"] == true)
            let rows = try await funnel.rows("SELECT telegram_id, telegram_username FROM funnel_members")
            #expect(rows.map(\.values) == [[111, "anna_new"]])

            let unknown = try await funnel.call("bind_telegram", ["token": "not-a-token", "telegram_id": 999])
            #expect(unknown["found"] == false)
            #expect(unknown["id"] == .null)

            // A plain /start: the member bound to this user, nobody else's; nothing changes hands.
            let plain = try await funnel.call("bind_telegram", ["token": "", "telegram_id": 111])
            #expect(plain["found"] == true && plain["id"] == member["id"]! && plain["conflict"] == false)
            #expect(try await funnel.call("bind_telegram", ["telegram_id": 222])["found"] == false)
            #expect(try await funnel.rows("SELECT telegram_id FROM funnel_members").map(\.values) == [[111]])
        }
    }

    @Test("a Telegram user bound to an unpaid registration can bind a paid one; bound to a paid one, it is a conflict", arguments: TestFunnel.available)
    func oneMemberPerTelegramUser(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let stale = try await funnel.register(phone: "+79160000010", email: nil)
            try await funnel.bindThroughMemberToken(stale, telegramID: 333)
            let paidID = try await funnel.paidMember(phone: "+79160000011", telegramID: 333)
            #expect(try await funnel.rows("SELECT id FROM funnel_members WHERE telegram_id = 333").map { $0["id"] } == [.string(paidID)])
            let third = try await funnel.register(phone: "+79160000012", email: nil)
            try await funnel.call("mark_paid", ["order": third["order_id"]!, "amount": "3000.00"])
            let result = try await funnel.call("bind_telegram", ["token": third["token"]!, "telegram_id": 333])
            #expect(result["conflict"] == true)
            #expect(try await funnel.rows("SELECT id FROM funnel_members WHERE telegram_id = 333").map { $0["id"] } == [.string(paidID)])
        }
    }

    @Test("record_invite revokes the member's older active invites, and says the same when recorded again", arguments: TestFunnel.available)
    func recordInviteRevokesOlder(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let id = try await funnel.paidMember(phone: "+79160000020", telegramID: 444)
            let expires = Int(Date().timeIntervalSince1970) + 86_400
            let invite: (String) -> [String: Value] = { link in
                ["member_id": .string(id), "telegram_id": 444, "invite_link": .string(link), "expires_at": .number(Double(expires))]
            }
            let a = try await funnel.call("record_invite", invite("https://t.me/+AAAA"))
            #expect(a["revoked_links"] == [])
            #expect(a["status"] == "active")
            #expect(a["expires_at"] == .number(Double(expires)))
            #expect(a["member_id"] == .string(id))
            let b = try await funnel.call("record_invite", invite("https://t.me/+BBBB"))
            #expect(b["revoked_links"] == ["https://t.me/+AAAA"])
            let bAgain = try await funnel.call("record_invite", invite("https://t.me/+BBBB"))
            #expect(bAgain == b)
            let rows = try await funnel.rows("SELECT invite_link, status FROM funnel_invites ORDER BY invite_link")
            #expect(rows.map(\.values) == [["https://t.me/+AAAA", "revoked"], ["https://t.me/+BBBB", "active"]])

            let unknown = await #expect(throws: ConnectorError.self) {
                try await funnel.call("record_invite", ["member_id": "nobody", "telegram_id": 444, "invite_link": "https://t.me/+CCCC"])
            }
            #expect(unknown?.message == "no member has the id 'nobody'")
        }
    }

    @Test("record_invite finds the links it revoked through an index, not by reading every invite", arguments: TestFunnel.available)
    func revokedLinksUseAnIndex(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            // The statement record_invite runs after revoking.
            let sql = "SELECT invite_link FROM funnel_invites WHERE revoked_by = $1 ORDER BY created_at, invite_link"
            let dialect = funnel.database.dialect
            let plan = try await funnel.database.transaction { db -> String in
                switch dialect {
                case .sqlite:
                    return try db.query("EXPLAIN QUERY PLAN " + sql, ["https://t.me/+AAAA"]).compactMap { $0["detail"]?.stringValue }
                        .joined(separator: "\n")
                case .postgres:
                    // An empty table is cheapest to scan; forbid that to see whether an index serves the query.
                    try db.execute("SET LOCAL enable_seqscan = off", [])
                    return try db.query("EXPLAIN " + sql, ["https://t.me/+AAAA"]).compactMap { $0["QUERY PLAN"]?.stringValue }
                        .joined(separator: "\n")
                }
            }
            #expect(plan.contains("funnel_invites_revoked_by"), "\(plan)")
        }
    }

    @Test("check_join approves only the paid member's own active, unexpired link", arguments: TestFunnel.available)
    func checkJoin(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let id = try await funnel.paidMember(phone: "+79160000030", telegramID: 555)
            let later = Value.number(Double(Int(Date().timeIntervalSince1970) + 3600))
            let earlier = Value.number(Double(Int(Date().timeIntervalSince1970) - 10))
            try await funnel.call("record_invite", ["member_id": .string(id), "telegram_id": 555, "invite_link": "https://t.me/+OLD", "expires_at": later])
            try await funnel.call("record_invite", ["member_id": .string(id), "telegram_id": 555, "invite_link": "https://t.me/+NEW", "expires_at": later])

            let unpaid = try await funnel.register(phone: "+79160000031", email: nil)
            try await funnel.bindThroughMemberToken(unpaid, telegramID: 666)
            try await funnel.call("record_invite", ["member_id": unpaid["id"]!, "telegram_id": 666, "invite_link": "https://t.me/+UNPAID"])

            let late = try await funnel.paidMember(phone: "+79160000032", telegramID: 777)
            try await funnel.call("record_invite", ["member_id": .string(late), "telegram_id": 777, "invite_link": "https://t.me/+LATE", "expires_at": earlier])

            let cases: [(link: String, user: Int, approve: Bool, reason: String, member: Value)] = [
                ("https://t.me/+NEW", 555, true, "ok", .string(id)),
                ("https://t.me/+NEW", 999, false, "wrong_user", .string(id)),
                ("https://t.me/+OLD", 555, false, "revoked", .string(id)),
                ("https://t.me/+UNPAID", 666, false, "not_paid", unpaid["id"]!),
                ("https://t.me/+LATE", 777, false, "expired", .string(late)),
                ("https://t.me/+NOPE", 555, false, "unknown_link", .null),
            ]
            for c in cases {
                let decision = try await funnel.call("check_join", ["invite_link": .string(c.link), "telegram_id": .number(Double(c.user))])
                #expect(decision == ["approve": .bool(c.approve), "reason": .string(c.reason), "member_id": c.member], "\(c.link) for \(c.user)")
            }

            // Joining uses the link up; leaving is recorded; a stranger's join uses nothing.
            #expect(try await funnel.call("mark_joined", ["telegram_id": 999, "invite_link": "https://t.me/+NEW"]) == ["found": false, "member_id": nil])
            #expect(try await funnel.call("mark_joined", ["telegram_id": 555, "invite_link": "https://t.me/+NEW"]) == ["found": true, "member_id": .string(id)])
            #expect(try await funnel.call("mark_joined", ["telegram_id": 555, "invite_link": "https://t.me/+NEW"]) == ["found": true, "member_id": .string(id)])
            let used = try await funnel.call("check_join", ["invite_link": "https://t.me/+NEW", "telegram_id": 555])
            #expect(used["reason"] == "used")
            let joined = try await funnel.call("find_member", ["telegram_id": 555])
            #expect(joined["status"] == "joined")
            #expect(joined["joined_at"] != .null)
            #expect(try await funnel.call("mark_left", ["telegram_id": 555]) == ["found": true, "member_id": .string(id)])
            #expect(try await funnel.call("find_member", ["id": .string(id)])["status"] == "left")
            #expect(try await funnel.call("mark_left", ["telegram_id": 12345]) == ["found": false, "member_id": nil])
            // Left after asking to join, with the step that records the join coming late: still left.
            // A new request after leaving is a new stay.
            let asked = Int(Date().timeIntervalSince1970) - 60
            #expect(try await funnel.call("mark_joined", ["telegram_id": 555, "requested_at": .number(Double(asked))]) == ["found": true, "member_id": .string(id)])
            #expect(try await funnel.call("find_member", ["id": .string(id)])["status"] == "left")
            // Something else touching the member after the request (a /start, an edit) is not leaving.
            try await funnel.database.execute("UPDATE funnel_members SET left_at = $2 WHERE id = $1",
                                              [.string(id), .number(Double((asked - 30) * 1000))])
            try await funnel.database.execute("UPDATE funnel_members SET updated_at = $2 WHERE id = $1",
                                              [.string(id), .number(Double((asked + 30) * 1000))])
            #expect(try await funnel.call("mark_joined", ["telegram_id": 555, "requested_at": .number(Double(asked))])["found"] == true)
            #expect(try await funnel.call("find_member", ["id": .string(id)])["status"] == "joined")
            #expect(try await funnel.call("mark_left", ["telegram_id": 555])["found"] == true)
            #expect(try await funnel.call("mark_joined", ["telegram_id": 555, "requested_at": .number(Double(asked + 3600))])["found"] == true)
            #expect(try await funnel.call("find_member", ["id": .string(id)])["status"] == "joined")
            // Removed by the admin while the join was on its way: a late mark_joined leaves it removed.
            try await funnel.database.execute("UPDATE funnel_members SET status = 'removed' WHERE id = $1", [.string(id)])
            #expect(try await funnel.call("mark_joined", ["telegram_id": 555]) == ["found": true, "member_id": .string(id)])
            #expect(try await funnel.call("find_member", ["id": .string(id)])["status"] == "removed")
        }
    }
}

/// Knowing a client's phone is not being the client: registering with it gives a link to one's own
/// order, which lets a Telegram account in only once that order is paid.
@Suite("db: deep links are per order")
struct OrderLinkTests {
    @Test("someone registering with a client's phone cannot take the client's place", arguments: TestFunnel.available)
    func aKnownPhoneGivesNoWayIn(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let client = try await funnel.register(name: "Анна Петрова")
            let stranger = try await funnel.register(name: "Кто-то", email: "other@example.com")
            #expect(stranger["id"] == client["id"] && stranger["token"] != client["token"])
            // The stranger opens their own link: nobody is bound, nothing is paid.
            let opened = try await funnel.call("bind_telegram", ["token": stranger["token"]!, "telegram_id": 666])
            #expect(opened["paid"] == false && opened["conflict"] == false)
            // The client pays their order and opens its link: theirs is the account bound.
            let paid = try await funnel.call("mark_paid", ["order": client["order_id"]!, "amount": "3000.00"])
            #expect(paid["telegram_id"] == .null)
            let bound = try await funnel.call("bind_telegram", ["token": client["token"]!, "telegram_id": 111])
            #expect(bound["paid"] == true && bound["conflict"] == false)
            // The stranger's link still lets nobody in: their order is unpaid, and the member is the client's.
            let again = try await funnel.call("bind_telegram", ["token": stranger["token"]!, "telegram_id": 666])
            #expect(again["paid"] == false && again["conflict"] == true)
            #expect(try await funnel.rows("SELECT telegram_id FROM funnel_members").map(\.values) == [[111]])
        }
    }

    @Test("a client who opens the link before the payment arrives is bound by the payment", arguments: TestFunnel.available)
    func theOpenerIsBoundWhenPaid(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let client = try await funnel.register()
            #expect(try await funnel.call("bind_telegram", ["token": client["token"]!, "telegram_id": 111])["paid"] == false)
            let paid = try await funnel.call("mark_paid", ["order": client["order_id"]!, "amount": "3000.00"])
            #expect(paid["newly_paid"] == true && paid["telegram_id"] == 111)
        }
    }
}

extension OrderLinkTests {
    @Test("a second paid order of a paid member binds nobody new and says the member had paid", arguments: TestFunnel.available)
    func aSecondPaymentBindsNobodyNew(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            // The client paid but has not opened the bot; someone with their phone pays a second order.
            let client = try await funnel.register()
            try await funnel.call("mark_paid", ["order": client["order_id"]!, "amount": "3000.00", "provider_order_id": "p1"])
            let stranger = try await funnel.register(name: "Кто-то")
            try await funnel.call("bind_telegram", ["token": stranger["token"]!, "telegram_id": 666])
            let second = try await funnel.call("mark_paid", ["order": stranger["order_id"]!, "amount": "3000.00", "provider_order_id": "p2"])
            #expect(second["newly_paid"] == true && second["already_paid"] == true && second["telegram_id"] == .null)
            // The client's own link still lets them in.
            let bound = try await funnel.call("bind_telegram", ["token": client["token"]!, "telegram_id": 111])
            #expect(bound["paid"] == true && bound["conflict"] == false)
        }
    }

    @Test("a renewal's link opened from the member's own account, and a /start with no token in it, answer for the member", arguments: TestFunnel.available)
    func ownAccountAndStrayPayload(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let id = try await funnel.paidMember(phone: "+79160000050", telegramID: 505)
            let renewal = try await funnel.register(phone: "+79160000050", email: nil)
            let own = try await funnel.call("bind_telegram", ["token": renewal["token"]!, "telegram_id": 505])
            #expect(own["id"] == .string(id) && own["paid"] == true && own["conflict"] == false)
            let stray = try await funnel.call("bind_telegram", ["token": "ad-campaign-7", "telegram_id": 505])
            #expect(stray["id"] == .string(id) && stray["paid"] == true)
        }
    }

    @Test("a webhook after the admin marked the order paid by hand is that payment; a later one is a second", arguments: TestFunnel.available)
    func manualThenWebhook(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let client = try await funnel.register()
            try await funnel.call("mark_paid", ["order": client["order_id"]!, "note": "paid in cash"])
            let late = try await funnel.call("mark_paid", ["order": client["order_id"]!, "amount": "3000.00", "provider_order_id": "p1"])
            #expect(late["newly_paid"] == false && late["paid_again"] == .null)
            let second = try await funnel.call("mark_paid", ["order": client["order_id"]!, "amount": "3000.00", "provider_order_id": "p2"])
            #expect(second["paid_again"] == "p2")
        }
    }
}
