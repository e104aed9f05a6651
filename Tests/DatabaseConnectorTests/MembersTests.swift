import DatabaseConnector
import Flows
import Testing

@Suite("db: members and payments")
struct MembersTests {
    @Test("registering twice keeps one member, with a new order and token for each registration", arguments: TestFunnel.available)
    func registerTwice(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let first = try await funnel.register(name: "Анна", amount: 3000)
            let second = try await funnel.register(name: "Анна Петрова", city: "Казань", amount: "3500.5")
            #expect(first["created"] == true)
            #expect(second["created"] == false)
            #expect(second["id"] == first["id"])
            // Whoever registers with a known phone gets their own order's link, never the earlier one.
            #expect(second["token"] != first["token"])
            #expect(second["order_id"] != first["order_id"])
            #expect(second["amount"] == "3500.50")
            #expect(second["currency"] == "rub")
            #expect(second["status"] == "registered")

            let members = try await funnel.rows("SELECT full_name, city, phone, email, status FROM funnel_members")
            #expect(members.map(\.values) == [["Анна Петрова", "Казань", "+79161234567", "anna@example.com", "registered"]])
            let payments = try await funnel.rows("SELECT order_id, amount, currency, status, provider, token FROM funnel_payments ORDER BY amount")
            #expect(payments.map(\.values) == [[first["order_id"]!, "3000.00", "rub", "pending", "prodamus", first["token"]!],
                                                [second["order_id"]!, "3500.50", "rub", "pending", "prodamus", second["token"]!]])
        }
    }

    @Test("registering with a paid member's phone or e-mail changes none of their contacts, and still makes a new order",
          arguments: TestFunnel.available)
    func registerOverPaidMember(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let paid = try await funnel.register()
            try await funnel.call("mark_paid", ["order": paid["order_id"]!, "amount": "3000.00"])
            let stranger = try await funnel.register(name: "Борис Чужой", email: "boris@example.com", city: "Тверь")
            #expect(stranger["id"] == paid["id"])
            #expect(stranger["status"] == "paid")
            #expect(stranger["order_id"] != paid["order_id"])
            #expect(try await funnel.rows("SELECT status FROM funnel_payments WHERE order_id = $1", [stranger["order_id"]!]).first?["status"] == "pending")
            // Removed by the admin after paying: still theirs.
            try await funnel.database.execute("UPDATE funnel_members SET status = 'removed'")
            _ = try await funnel.register(name: "Борис Чужой", email: "boris@example.com", city: "Тверь")
            // Paid, known by e-mail only: a phone given with it is not attached either.
            let byEmail = try await funnel.register(name: "Ирина", phone: nil, email: "irina@example.com", city: "Омск")
            try await funnel.call("mark_paid", ["order": byEmail["order_id"]!, "amount": "3000.00"])
            let overEmail = try await funnel.register(name: "Борис Чужой", phone: "+79990000000", email: "IRINA@example.com", city: "Тверь")
            #expect(overEmail["id"] == byEmail["id"])

            let members = try await funnel.rows("SELECT full_name, city, phone, email, status FROM funnel_members ORDER BY full_name")
            #expect(members.map(\.values) == [["Анна Петрова", "Москва", "+79161234567", "anna@example.com", "removed"],
                                               ["Ирина", "Омск", .null, "irina@example.com", "paid"]])
            #expect(try await funnel.rows("SELECT COUNT(*) AS n FROM funnel_payments WHERE status = 'pending'").first?["n"] == 3)
        }
    }

    @Test("the same registration step again (a run resumed after its result was lost) gives the same order", arguments: TestFunnel.available)
    func registerStepRepeated(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let inputs: [String: Value] = ["full_name": "Анна", "phone": "+79161234567", "amount": "3000"]
            let first = try await funnel.call("upsert_member", inputs, key: "reg-run:member")
            let again = try await funnel.call("upsert_member", inputs, key: "reg-run:member")
            #expect(again == first)
            #expect(first["created"] == true)
            #expect(try await funnel.rows("SELECT COUNT(*) AS n FROM funnel_payments").first?["n"] == 1)
        }
    }

    @Test("without a phone, the e-mail identifies the client, and a phone given later joins the same member", arguments: TestFunnel.available)
    func emailIdentity(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let first = try await funnel.register(phone: nil, email: "Ivan@Example.com")
            let second = try await funnel.register(phone: nil, email: "ivan@example.com")
            let third = try await funnel.register(phone: "+79990001122", email: "IVAN@example.com")
            #expect(second["id"] == first["id"])
            #expect(third["id"] == first["id"])
            #expect(try await funnel.rows("SELECT phone FROM funnel_members").map(\.values) == [["+79990001122"]])
            let missing = await #expect(throws: ConnectorError.self) { try await funnel.register(phone: nil, email: nil) }
            #expect(missing?.message == "'phone' or 'email' needs a value: one of them identifies the client")
            let badAmount = await #expect(throws: ConnectorError.self) { try await funnel.register(amount: "три тысячи") }
            #expect(badAmount?.message == "'amount' must be a non-negative amount like 3000 or 3000.00, found 'три тысячи'")
            #expect(badAmount?.disposition == .permanent)
        }
    }

    @Test("tokens are 24 URL-safe characters, differ between members, and are never the order number", arguments: TestFunnel.available)
    func tokens(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            var tokens: Set<String> = []
            var orders: Set<String> = []
            for index in 0..<5 {
                let member = try await funnel.register(phone: "+7916000000\(index)", email: nil)
                let token = try #require(member["token"]?.stringValue)
                let order = try #require(member["order_id"]?.stringValue)
                #expect(token.count == 24)
                #expect(token.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") })
                #expect(order.hasPrefix("SH-") && order.count == 13)
                #expect(order.dropFirst(3).allSatisfy { "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains($0) })
                #expect(token != order)
                tokens.insert(token)
                orders.insert(order)
            }
            #expect(tokens.count == 5)
            #expect(orders.count == 5)
        }
    }

    @Test("find_member by each key, all given keys must match", arguments: TestFunnel.available)
    func findMember(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let id = try await funnel.paidMember(phone: "+79160000001", telegramID: 5_000_000_001)
            let member = try await funnel.call("find_member", ["id": .string(id)])
            #expect(member["found"] == true)
            #expect(member["paid"] == true)
            #expect(member["telegram_id"] == 5_000_000_001)
            for key: Value in [["token": member["token"]!], ["phone": "+79160000001"], ["telegram_id": 5_000_000_001],
                               ["telegram_id": "5000000001"], ["id": .string(id), "phone": "+79160000001"]] {
                let found = try await funnel.call("find_member", key.objectValue!)
                #expect(found == member)
            }
            let mismatch = try await funnel.call("find_member", ["id": .string(id), "phone": "+70000000000"])
            #expect(mismatch["found"] == false)
            #expect(mismatch["id"] == .null)
            #expect(mismatch["paid"] == false)
            let none = await #expect(throws: ConnectorError.self) { try await funnel.call("find_member", [:]) }
            #expect(none?.message == "find_member needs one of 'id', 'token', 'phone', 'email' or 'telegram_id'")
            let bad = await #expect(throws: ConnectorError.self) { try await funnel.call("find_member", ["telegram_id": "abc"]) }
            #expect(bad?.message == "'telegram_id' must be a whole number, found string")
        }
    }

    @Test("mark_paid twice: paid once, payload stored, nothing changes the second time", arguments: TestFunnel.available)
    func markPaidTwice(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let member = try await funnel.register()
            let payload: Value = ["order_num": member["order_id"]!, "sum": "3000.00", "payment_status": "success",
                                  "products": [["name": "Сеанс <b>", "price": "3000.00"]]]
            let inputs: [String: Value] = ["order": member["order_id"]!, "amount": "3000.00", "currency": "RUB",
                                           "provider_order_id": "1234567", "payload": payload]
            let first = try await funnel.call("mark_paid", inputs)
            #expect(first["found"] == true)
            #expect(first["newly_paid"] == true)
            #expect(first["status"] == "paid")
            #expect(first["paid"] == true)
            #expect(first["id"] == member["id"])
            #expect(first["token"] == (try await funnel.rows("SELECT token FROM funnel_members").first?["token"]))
            #expect(first["full_name"] == "Анна Петрова")
            #expect(first["telegram_id"] == .null)
            #expect(first["order_id"] == member["order_id"])
            let before = try await funnel.rows("SELECT * FROM funnel_payments")

            var again = inputs
            again["note"] = "second delivery"
            again["amount"] = "1.00"
            let second = try await funnel.call("mark_paid", again)
            #expect(second["found"] == true)
            #expect(second["newly_paid"] == false)
            #expect(second["paid_at"] == first["paid_at"])
            #expect(try await funnel.rows("SELECT * FROM funnel_payments") == before)

            let payments = try await funnel.rows("SELECT status, amount, currency, provider_order_id, raw_payload, note FROM funnel_payments")
            #expect(payments.count == 1)
            #expect(payments.first?.values.prefix(4) == ["paid", "3000.00", "rub", "1234567"])
            let stored = try #require(payments.first?["raw_payload"]?.stringValue)
            #expect(try Value(json: stored) == payload)
            #expect(payments.first?["note"] == .null)
            #expect(second["paid_again"] == .null)

            // The same order paid a second time (another Prodamus order): noted once, said so.
            var twice = inputs
            twice["provider_order_id"] = "7654321"
            for _ in 0..<2 {
                let repeated = try await funnel.call("mark_paid", twice)
                #expect(repeated["newly_paid"] == false && repeated["paid_again"] == "7654321")
            }
            let noted = try await funnel.rows("SELECT provider_order_id, note FROM funnel_payments")
            #expect(noted.first?.values == ["1234567", "paid again: 3000.00 by provider order 7654321"])

            // Registering again after paying opens a new order; the paid one stays as it was.
            let renewal = try await funnel.register()
            #expect(renewal["order_id"] != member["order_id"])
            #expect(renewal["status"] == "paid")
            #expect(try await funnel.rows("SELECT status FROM funnel_payments ORDER BY created_at, status").map { $0["status"] } .sorted { $0!.text < $1!.text } == ["paid", "pending"])
        }
    }

    @Test("a payment of less than the order, or in another currency, is kept but pays nothing", arguments: TestFunnel.available)
    func underpaymentPaysNothing(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let member = try await funnel.register()
            let order = member["order_id"]!
            let less = try await funnel.call("mark_paid", ["order": order, "amount": "1.00", "currency": "rub", "payload": ["sum": "1.00"]])
            #expect(less["found"] == true && less["newly_paid"] == false)
            #expect(less["mismatch"] == "paid 1.00 rub, the order is 3000.00 rub")
            let other = try await funnel.call("mark_paid", ["order": order, "amount": "3000.00", "currency": "KZT"])
            #expect(other["newly_paid"] == false && other["mismatch"] == "paid in kzt, the order is in rub")
            let payment = try #require(try await funnel.rows("SELECT status, amount, raw_payload FROM funnel_payments").first)
            #expect(payment["status"] == "pending" && payment["amount"] == "3000.00")
            #expect(payment["raw_payload"]?.stringValue?.contains("1.00") == true)
            #expect(try await funnel.rows("SELECT status FROM funnel_members").first?["status"] == "registered")
            // The full price (or more) pays it.
            let full = try await funnel.call("mark_paid", ["order": order, "amount": "3000", "currency": "rub"])
            #expect(full["newly_paid"] == true && full["mismatch"] == .null && full["status"] == "paid")
        }
    }

    @Test("a joined member who pays again stays joined", arguments: TestFunnel.available)
    func joinedStaysJoined(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let id = try await funnel.paidMember(phone: "+79160000002", telegramID: 42)
            #expect(try await funnel.call("mark_joined", ["telegram_id": 42]) == ["found": true, "member_id": .string(id)])
            let renewal = try await funnel.register(phone: "+79160000002", email: nil)
            let paid = try await funnel.call("mark_paid", ["order": renewal["order_id"]!, "note": "paid in cash"])
            #expect(paid["newly_paid"] == true)
            #expect(paid["status"] == "joined")
            #expect(try await funnel.rows("SELECT note FROM funnel_payments WHERE order_id = $1", [renewal["order_id"]!]).first?["note"] == "paid in cash")
        }
    }

    @Test("a member the admin removed stays removed when a payment comes in", arguments: TestFunnel.available)
    func removedStaysRemoved(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let id = try await funnel.paidMember(phone: "+79160000003", telegramID: 43)
            try await funnel.database.execute("UPDATE funnel_members SET status = 'removed' WHERE id = $1", [.string(id)])
            let renewal = try await funnel.register(phone: "+79160000003", email: nil)
            let paid = try await funnel.call("mark_paid", ["order": renewal["order_id"]!, "amount": "3000.00", "provider_order_id": "555"])
            #expect(paid["newly_paid"] == true && paid["status"] == "removed" && paid["paid"] == false)
        }
    }

    @Test("an unknown order is found: false, not an error", arguments: TestFunnel.available)
    func unknownOrder(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            try await funnel.register()
            let result = try await funnel.call("mark_paid", ["order": "SH-NOSUCHORDR", "amount": "3000.00", "payload": ["x": 1]])
            #expect(result["found"] == false)
            #expect(result["newly_paid"] == false)
            #expect(result["id"] == .null)
            #expect(result["telegram_id"] == .null)
            #expect(try await funnel.rows("SELECT status FROM funnel_payments").map { $0["status"] } == ["pending"])
            #expect(try await funnel.rows("SELECT status FROM funnel_members").map { $0["status"] } == ["registered"])
        }
    }

    @Test("hostile text is stored literally and read back equal", arguments: TestFunnel.available)
    func hostileText(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind, queries: ["by_name": "SELECT full_name, city FROM funnel_members WHERE full_name = $1"]) { funnel in
            let texts = [
                "<script>alert('x')</script>",
                "O'Brien \"the\" \\ back`tick` $1 ?",
                "'; DROP TABLE funnel_members; --",
                String(repeating: "Я", count: 10_240),
                "🙂👩‍👩‍👧 Ёжик\u{200B}",
            ]
            for (index, text) in texts.enumerated() {
                let member = try await funnel.register(name: text, phone: "+7900000000\(index)", email: "\(index)@example.com", city: text)
                let found = try await funnel.call("find_member", ["id": member["id"]!])
                #expect(found["full_name"] == .string(text))
                #expect(found["city"] == .string(text))
                let queried = try await funnel.call("query", ["name": "by_name", "params": [.string(text)]])
                #expect(queried["rows"] == [["full_name": .string(text), "city": .string(text)]])
            }
            #expect(try await funnel.rows("SELECT COUNT(*) AS n FROM funnel_members").first?["n"] == 5)
        }
    }
}
