import Emulators
import Flows
import Foundation
@testable import Hub
import ProdamusConnector
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The paid-member funnel that the fault tests break: members who registered and whose Telegram
/// account the bot already knows, each with a pending order; a signed Prodamus webhook per order.
struct PaidFunnel {
    static let secret = "fault-secret-key"
    static let botToken = "123456:FAULT-token"
    static let groupID: Int64 = -1001234500000
    /// What the repository's payment flow says when it sends the way into the group.
    static let inviteText = "Оплата получена"

    let count: Int

    func user(_ i: Int) -> EmulatedUser { EmulatedUser(id: 700_000 + Int64(i), firstName: "Клиент \(i)", username: "client\(i)") }
    func order(_ i: Int) -> String { "order-\(i)" }

    /// An emulator for the bot, with the group it administers.
    static func telegram() -> TelegramEmulator {
        let telegram = TelegramEmulator(token: botToken)
        telegram.addGroup(id: groupID, title: "Сеансы", hasProtectedContent: true)
        return telegram
    }

    /// The environment for a child hub that talks to this Telegram emulator.
    func environment(database: String, flows: String, telegramURL: String) -> [String: String] {
        ["HUB_DATABASE_URL": database, "HUB_FLOWS": flows, "PRODAMUS_SECRET_KEY": Self.secret,
         "PRODAMUS_FORM_URL": "http://127.0.0.1:9/", "TELEGRAM_BOT_TOKEN": Self.botToken,
         "TELEGRAM_API_URL": telegramURL, "TELEGRAM_GROUP_ID": String(Self.groupID)]
    }

    /// A flow folder with only the repository's payment flow.
    static func paymentFlowFolder() throws -> FlowFolder {
        try FlowFolder(["payment.yaml": String(contentsOfFile: Repository.path("flows/payment.yaml"), encoding: .utf8)])
    }

    /// Writes the members and their pending payments (the hub has migrated the database) and lets
    /// each user press Start, so the bot may write to them.
    func seed(databaseURL: String, telegram: TelegramEmulator) async throws {
        let store = try Store.open(databaseURL, poolSize: 1)
        let now = Value.number(Double(Store.now()))
        for i in 0..<count {
            let member = Value.string("member-\(i)")
            try await store.database.execute("""
                INSERT INTO funnel_members (id, full_name, phone, telegram_id, telegram_username, status, token, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, 'registered', $6, $7, $7)
                """, [member, .string("Клиент \(i)"), .string(String(format: "+7900%07d", i)), .number(Double(user(i).id)),
                      .string("client\(i)"), .string("token-\(i)"), now])
            try await store.database.execute("""
                INSERT INTO funnel_payments (id, member_id, order_id, amount, currency, status, created_at)
                VALUES ($1, $2, $3, '3000.00', 'rub', 'pending', $4)
                """, [.string("payment-\(i)"), member, .string(order(i)), now])
        }
        await store.close()
        for i in 0..<count { _ = await telegram.userSends("/start", from: user(i)) }
    }

    /// The urlencoded body of Prodamus' notification for order `i` and its `Sign` header.
    func webhook(_ i: Int, attempt: Int = 1) -> (body: String, sign: String) {
        let fields = [
            ("date", "2026-11-28T09:00:00+03:00"), ("order_id", String(9_000_000 + i)), ("order_num", order(i)),
            ("domain", "shop.payform.ru"), ("sum", "3000.00"), ("currency", "rub"), ("customer_phone", String(format: "+7900%07d", i)),
            ("customer_email", "client\(i)@example.ru"), ("payment_type", "Пластиковая карта Visa, MasterCard, МИР"),
            ("attempt", String(attempt)), ("products[0][name]", "Онлайн-сеанс"), ("products[0][price]", "3000.00"),
            ("products[0][quantity]", "1"), ("products[0][sum]", "3000.00"), ("payment_status", "success"),
            ("payment_status_description", "Успешная оплата"),
        ]
        let body = fields.map { "\(TestHTTP.encode($0.0))=\(TestHTTP.encode($0.1))" }.joined(separator: "&")
        return (body, ProdamusSignature.sign(PHPForm.parse(urlencoded: Array(body.utf8)), secret: Self.secret))
    }

    /// Posts order `i`'s webhook; the status, or nil when the hub did not answer.
    func postWebhook(_ i: Int, to hubURL: String, attempt: Int = 1) async -> Int? {
        let (body, sign) = webhook(i, attempt: attempt)
        return await FaultHTTP.post(hubURL + "/hooks/prodamus", body: Data(body.utf8),
                                    headers: ["Content-Type": "application/x-www-form-urlencoded", "Sign": sign], timeout: 10)?.status
    }

    /// Invite messages the bot sent to each user, by user index.
    func invites(in telegram: TelegramEmulator) -> [Int: Int] {
        var counts: [Int: Int] = [:]
        for message in telegram.sentMessages where message.text?.contains(Self.inviteText) == true {
            counts[Int(message.chatID - 700_000), default: 0] += 1
        }
        return counts
    }

    /// Checks the end state: every payment recorded once, every member paid, one invite each.
    func expectAllPaidOnce(databaseURL: String, telegram: TelegramEmulator, label: String) async throws {
        let store = try Store.open(databaseURL, poolSize: 1)
        let events = try await store.database.query("SELECT COUNT(*) AS n, COUNT(DISTINCT dedup_key) AS k FROM hub_events WHERE source = 'prodamus.paid'")
        let payments = try await store.database.query("SELECT status, COUNT(*) AS n FROM funnel_payments GROUP BY status")
        let members = try await store.database.query("SELECT status, COUNT(*) AS n FROM funnel_members GROUP BY status")
        let runs = try await store.runCounts()
        let failed = try await store.runs(status: "failed").map { "\($0.flow): \($0.error ?? "")" }
        await store.close()
        #expect(events.first?["n"]?.intValue == count, "\(label): paid events")
        #expect(events.first?["k"]?.intValue == count, "\(label): distinct paid events")
        #expect(payments.count == 1 && payments.first?["status"] == "paid" && payments.first?["n"]?.intValue == count, "\(label): \(payments)")
        #expect(members.count == 1 && members.first?["status"] == "paid" && members.first?["n"]?.intValue == count, "\(label): \(members)")
        #expect(runs == ["completed": count], "\(label): runs \(runs)")
        #expect(failed.isEmpty, "\(label): \(failed.prefix(3))")
        let invites = invites(in: telegram)
        let missing = (0..<count).filter { invites[$0] == nil }
        let repeated = invites.filter { $0.value > 1 }
        #expect(missing.isEmpty, "\(label): no invite for \(missing.prefix(10))")
        #expect(repeated.isEmpty, "\(label): more than one invite for \(repeated.prefix(10))")
    }

    /// Waits (at most `timeout`) until every run completed.
    static func waitForRuns(databaseURL: String, completed expected: Int, timeout: Duration = .seconds(90)) async throws {
        let store = try Store.open(databaseURL, poolSize: 1)
        let deadline = ContinuousClock.now + timeout
        var counts: [String: Int] = [:]
        while ContinuousClock.now < deadline {
            counts = (try? await store.runCounts()) ?? [:]
            if counts["completed", default: 0] >= expected && counts.count == 1 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        await store.close()
        #expect(counts["completed"] == expected, "runs did not complete in time: \(counts)")
    }
}

/// Raw HTTP for fault tests: any body, any headers.
enum FaultHTTP {
    static func post(_ url: String, body: Data, headers: [String: String], timeout: TimeInterval = 10) async -> (status: Int, body: String)? {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.timeoutInterval = timeout
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        guard let (data, response) = try? await URLSession.shared.data(for: request) else { return nil }
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}
