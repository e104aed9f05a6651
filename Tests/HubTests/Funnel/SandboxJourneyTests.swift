import Emulators
import Flows
import Foundation
@testable import Hub
import Testing

/// The newcomer's walk through the sandbox, over HTTP only: the same emulators `hub serve`
/// starts without credentials, the repository's flows, and the pages a person would click —
/// the site, the emulated payment page, the emulated Telegram app (bot, group, operators), the dashboard.
@Suite(.serialized, .timeLimit(.minutes(3))) struct SandboxJourneyTests {
    @Test func registerPayJoinSeeThePostAndTheDashboard() async throws {
        let setup = try await SandboxHub.start()
        let (sandbox, hub, hubURL) = (setup.sandbox, setup.hub, setup.url)
        let person = PageClient()
        let chat = sandbox.chatURL

        // 1. The site: register, land on the emulated payment page, pay, come back to "Спасибо".
        let form = try await person.post(hubURL + "/", [
            ("full_name", "Анна Смирнова"), ("phone", "+7 (916) 555-12-34"), ("city", "Тверь"),
            ("email", "anna@example.ru"), ("consent", "on"),
        ])
        #expect(form.status == 303, "\(form.body.prefix(300)) \(hub.stderr)")
        let paymentURL = try #require(form.location)
        #expect(try await person.get(paymentURL).body.contains("Оплатить"))
        let paid = try await person.post(setup.environment["PRODAMUS_FORM_URL"]! + "pay",
                                          [("query", String(paymentURL.split(separator: "?", maxSplits: 1)[1]))])
        let success = try await person.get(try #require(paid.location))
        #expect(sandbox.prodamus.webhooksSent.map(\.status) == [200])

        // 2. "Открыть бота": the deep link opens the emulated Telegram app and presses Start.
        let deepLink = try #require(Self.href(in: success.body, startingWith: chat + "/" + Sandbox.botUsername + "?start="))
        let opened = try await person.get(deepLink)
        #expect(opened.status == 303)
        #expect(opened.location == "/chat")
        let userID = try #require(person.cookies["sandbox_tg_user"].flatMap { Int64($0) })
        let withInvite = try await Self.eventually { () -> String? in
            let page = try await person.get(chat + "/chat?fragment=1").body
            return page.contains("href=\"/+") ? page : nil
        }
        let invitePath = try #require(Self.href(in: withInvite, startingWith: "/+"))

        // 3. The invite: request to join; the bot approves the payer; the group shows it.
        #expect(try await person.get(chat + invitePath).body.contains("Подать заявку на вступление"))
        let joined = try await person.post(chat + "/join", [("link", "https://t.me" + invitePath)])
        #expect(joined.location == "/group")
        _ = try await Self.eventually { try await person.get(chat + "/group").body.contains("Вы в группе.") ? true : nil }
        #expect(sandbox.telegram.isMember(userID, of: Sandbox.groupID))

        // 4. The daily post, run now by the admin: a Zoom link in the group, protected from copying.
        #expect(try await setup.runNow("daily-session-link") == 0)
        let post = try await Self.eventually { sandbox.telegram.messages(to: Sandbox.groupID).first }
        #expect(post.protectContent)
        #expect(post.text?.contains("Ссылка на сеанс") == true)
        let group = try await person.get(chat + "/group?fragment=1").body
        #expect(group.contains("Ссылка на сеанс"))
        #expect(group.contains("защищено от копирования"))
        #expect(sandbox.zoom.meetingsCreated.count == 1)

        // 5. Support: the bot answers; asked for a person, it hands over; the operator's reply comes back.
        _ = try await person.post(chat + "/chat/send", [("text", "Сколько стоит участие?")])
        _ = try await Self.eventually { try await person.get(chat + "/chat?fragment=1").body.contains("Позвать оператора") ? true : nil }
        _ = try await person.post(chat + "/chat/send", [("text", "Позовите оператора, пожалуйста")])
        _ = try await Self.eventually { try await person.get(chat + "/chat?fragment=1").body.contains("Вернуться к боту") ? true : nil }
        let operators = try await Self.eventually { () -> String? in
            let page = try await person.get(chat + "/operators?fragment=1").body
            return page.contains("Позовите оператора, пожалуйста") ? page : nil
        }
        #expect(operators.contains("Анна Смирнова"))
        // The operator answers the copied message (the last one in the chat), as Telegram's Reply does.
        let replyLink = try #require(operators.components(separatedBy: "href=\"/operators?reply=").last?.prefix { $0.isNumber })
        #expect(try await person.get(chat + "/operators?reply=\(replyLink)").body.contains("name=\"reply_to\" value=\"\(replyLink)\""))
        let replied = try await person.post(chat + "/operators/reply", [("reply_to", String(replyLink)), ("text", "Здравствуйте! Участие стоит 3000 ₽.")])
        #expect(replied.location == "/operators")
        _ = try await Self.eventually {
            try await person.get(chat + "/chat?fragment=1").body.contains("Здравствуйте! Участие стоит 3000 ₽.") ? true : nil
        }

        // 6. The dashboard shows the member as joined.
        let admin = PageClient()
        let login = try await admin.post(hubURL + "/admin/login", [("login", "admin"), ("password", SandboxHub.adminPassword)])
        #expect(login.status == 303)
        let members = try await admin.get(hubURL + "/admin/members?q=Смирнова").body
        #expect(members.contains("Анна Смирнова"))
        // The member's page: the payment, the invite, the support conversation.
        let memberPath = try #require(Self.href(in: members, startingWith: "/admin/members/"))
        let memberPage = try await admin.get(hubURL + memberPath).body
        let store = try Store.open("sqlite:" + setup.database, poolSize: 1)
        let order = try #require(try await store.database.query("SELECT order_id FROM funnel_payments").first?["order_id"]?.stringValue)
        for shown in [order, "3000.00 rub", "в группе", "https://t.me" + invitePath, "Позовите оператора, пожалуйста",
                      "Здравствуйте! Участие стоит 3000 ₽."] {
            #expect(memberPage.contains(shown), "\(shown)")
        }

        let member = try #require(try await store.database.query("SELECT status, telegram_id FROM funnel_members").first)
        #expect(member["status"] == "joined")
        #expect(member["telegram_id"] == .number(Double(userID)))
        let thread = try await store.database.query("SELECT direction FROM funnel_support_messages WHERE telegram_id = $1 ORDER BY created_at, id",
                                                    [.number(Double(userID))]).map { $0["direction"]?.text ?? "" }
        #expect(thread.filter { $0 == "in" }.count == 2)
        #expect(thread.contains("operator"))
        #expect(sandbox.telegram.messages(to: userID).contains { $0.text == "Здравствуйте! Участие стоит 3000 ₽." })
        #expect(try await store.runs(status: "failed").isEmpty)
        await store.close()
        #expect(try await setup.stop() == 0)
    }

    @Test("the sandbox started again on the same database takes new payments, chats and operator replies: the emulators never reuse an earlier start's numbers")
    func startedAgainOnTheSameDatabase() async throws {
        let first = try await SandboxHub.start()
        let anna = PageClient()
        try await Self.payAndAskForAnOperator(first, anna, name: "Анна Смирнова", phone: "+7 916 555-12-34")
        #expect(try await first.stop(keepingFolder: true) == 0)

        let second = try await SandboxHub.start(in: first.folder)
        let boris = PageClient()
        try await Self.payAndAskForAnOperator(second, boris, name: "Борис Петров", phone: "+7 916 555-43-21")
        let chat = second.sandbox.chatURL
        let operators = try await boris.get(chat + "/operators?fragment=1").body
        let replyLink = try #require(operators.components(separatedBy: "href=\"/operators?reply=").last?.prefix { $0.isNumber })
        _ = try await boris.post(chat + "/operators/reply", [("reply_to", String(replyLink)), ("text", "Борис, здравствуйте!")])
        _ = try await Self.eventually { try await boris.get(chat + "/chat?fragment=1").body.contains("Борис, здравствуйте!") ? true : nil }

        let store = try Store.open("sqlite:" + second.database, poolSize: 1)
        let members = try await store.database.query("SELECT full_name, status FROM funnel_members ORDER BY full_name")
        #expect(members.map { "\($0["full_name"]?.text ?? ""): \($0["status"]?.text ?? "")" } == ["Анна Смирнова: paid", "Борис Петров: paid"])
        #expect(try await store.runs(status: "failed").isEmpty)
        await store.close()
        #expect(try await second.stop() == 0)
    }

    @Test("hub serve with nothing set, as `swift run hub` runs it, starts the sandbox: a registration, a payment and the bot's invite go through")
    func serveWithNothingSet() async throws {
        let folder = try FlowFolder([:])
        defer { folder.remove() }
        for file in FlowSet.flowFiles(in: Repository.path("flows")) {
            try folder.write(URL(fileURLWithPath: file).lastPathComponent, String(contentsOfFile: file, encoding: .utf8))
        }
        let port = TestHTTP.freePort()
        let hub = try HubProcess(environment: ["HUB_SANDBOX": "", "HUB_FLOWS": folder.flows, "HUB_LISTEN": "127.0.0.1:\(port)"],
                                 workingDirectory: folder.root)
        _ = try await hub.waitForPort()
        #expect(hub.stdout.hasPrefix("sandbox: no credentials set, so Prodamus, Telegram, Zoom and OpenAI are local emulators"), "\(hub.stdout)")
        let appLine = try #require(hub.stdout.split(separator: "\n").first { $0.hasPrefix("sandbox: the Telegram app") })
        let chat = try #require(appLine.split(separator: " ").last.map(String.init))

        let person = PageClient()
        let form = try await person.post("http://127.0.0.1:\(port)/", [
            ("full_name", "Анна Смирнова"), ("phone", "+7 916 555-12-34"), ("city", "Тверь"), ("email", "anna@example.ru"), ("consent", "on"),
        ])
        let paymentURL = try #require(form.location, "\(form.status) \(hub.stderr)")
        let parts = paymentURL.split(separator: "?", maxSplits: 1).map(String.init)
        let paid = try await person.post(parts[0] + "pay", [("query", parts[1])])
        let success = try await person.get(try #require(paid.location))
        let deepLink = try #require(Self.href(in: success.body, startingWith: chat + "/" + Sandbox.botUsername + "?start="))
        _ = try await person.get(deepLink)
        _ = try await Self.eventually { try await person.get(chat + "/chat?fragment=1").body.contains("href=\"/+") ? true : nil }

        hub.kill(SIGTERM)
        #expect(try await hub.waitForExit() == 0)
        // The sandbox's database is the newcomer's ./hub.db.
        let store = try Store.open("sqlite:" + folder.root.appendingPathComponent("hub.db").path, poolSize: 1)
        #expect(try await store.database.query("SELECT status FROM funnel_members").map { $0["status"] } == ["paid"])
        await store.close()
    }

    /// Registers and pays on the site, opens the bot (the invite arrives) and asks for an operator
    /// (the operators' chat gets the question).
    static func payAndAskForAnOperator(_ setup: SandboxHub, _ person: PageClient, name: String, phone: String) async throws {
        let chat = setup.sandbox.chatURL
        let form = try await person.post(setup.url + "/", [("full_name", name), ("phone", phone), ("city", "Тверь"),
                                                        ("email", "client\(phone.filter(\.isNumber).suffix(4))@example.ru"), ("consent", "on")])
        let paymentURL = try #require(form.location, "\(form.status) \(form.body.prefix(300))")
        let paid = try await person.post(setup.environment["PRODAMUS_FORM_URL"]! + "pay",
                                          [("query", String(paymentURL.split(separator: "?", maxSplits: 1)[1]))])
        let success = try await person.get(try #require(paid.location))
        let deepLink = try #require(Self.href(in: success.body, startingWith: chat + "/" + Sandbox.botUsername + "?start="))
        _ = try await person.get(deepLink)
        _ = try await Self.eventually { try await person.get(chat + "/chat?fragment=1").body.contains("href=\"/+") ? true : nil }
        _ = try await person.post(chat + "/chat/send", [("text", "Позовите оператора, пожалуйста")])
        _ = try await Self.eventually { () -> Bool? in
            try await person.get(chat + "/operators?fragment=1").body.contains("Позовите оператора, пожалуйста") ? true : nil
        }
        // The relay is logged after the copy is sent: an operator's reply finds the client from then on.
        let store = try Store.open("sqlite:" + setup.database, poolSize: 1)
        defer { Task { await store.close() } }
        _ = try await Self.eventually { () -> Bool? in
            let logged = try await store.database.query("""
                SELECT 1 FROM funnel_support_messages m JOIN funnel_members c ON c.telegram_id = m.telegram_id
                WHERE c.full_name = $1 AND m.operators_message_id IS NOT NULL
                """, [.string(name)])
            return logged.isEmpty ? nil : true
        }
    }

    /// The first `href="…"` in `html` that starts with `prefix`, unescaped.
    static func href(in html: String, startingWith prefix: String) -> String? {
        for piece in html.components(separatedBy: "href=\"").dropFirst() {
            let value = String(piece.prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
            if value.hasPrefix(prefix) { return value }
        }
        return nil
    }

    static func eventually<T>(_ probe: () async throws -> T?) async throws -> T { try await FunnelTests.eventually(probe) }
}
