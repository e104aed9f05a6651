import Emulators
import Foundation
@testable import Hub
import Testing

/// `hub check --online` as an owner runs it: the `hub` binary against the Telegram, Zoom and
/// OpenAI emulators, its exact report and exit status.
@Suite(.serialized, .timeLimit(.minutes(2))) struct HealthTests {
    static let protectionOff = """
        telegram.group_protection: warning: GROUP 'Сеансы' CONTENT IS NOT PROTECTED: members can forward and save what is posted there. \
        The group's owner must turn it on in a Telegram app: open the group → Edit (group settings) → Group type (Content protection) → \
        "Restrict saving content". A bot cannot change this setting; posts from post_group are protected one by one meanwhile.
        """

    @Test("a group without content protection is a loud warning with the owner's how-to; the check still passes")
    func protectionOff() async throws {
        try await Services.with(protected: false) { services in
            let run = try await CheckRun.run(services.environment, in: services.folder)
            #expect(run.status == 0, "\(run.output)\n\(run.errors)")
            // Set apart by blank lines, so it stands out among the ok lines.
            #expect(run.output.contains("\n\n" + Self.protectionOff + "\n\n"), "\(run.output)")
            #expect(run.output.contains("\ntelegram.bot: ok: bot @session_hub_bot is reachable\n"))
            #expect(run.output.hasSuffix("online: 0 errors, 1 warning\n"), "\(run.output)")
        }
    }

    @Test("with protection on every service is ok, and no secret is printed")
    func protectionOn() async throws {
        try await Services.with(protected: true) { services in
            let run = try await CheckRun.run(services.environment, in: services.folder)
            #expect(run.status == 0, "\(run.output)\n\(run.errors)")
            let openAI = services.environment["OPENAI_BASE_URL"]!
            let lines = run.output.split(separator: "\n").map(String.init)
            #expect(Array(lines.drop { $0 != "online checks:" }) == [
                "online checks:",
                "openai.api: ok: \(openAI) is reachable; model gpt-4o-mini",
                "openai.knowledge: ok: knowledge file knowledge/faq.md (\(Services.knowledge.count) characters)",
                "prodamus.secret: ok: secret key is set",
                "prodamus.form: ok: payment page https://shop.payform.ru/; notifications at http://127.0.0.1:0/hooks/prodamus",
                "telegram.mode: ok: updates by long polling; no database, so no receiver lease",
                "telegram.bot: ok: bot @session_hub_bot is reachable",
                "telegram.group_protection: ok: group 'Сеансы': content protection is on",
                "telegram.group_admin: ok: the bot is an administrator of the group and can invite users",
                "telegram.operators: ok: operators' chat 'Операторы' (-100555): the bot is there",
                "zoom.oauth: ok: Server-to-Server OAuth token obtained",
                "zoom.api: ok: the API lists the meetings of the host (ZOOM_HOST)",
                "zoom.link: ok: standing meeting link configured (zoom.link)",
                "online: 0 errors, 0 warnings",
            ], "\(run.output)")
            for secret in Services.secrets { #expect(!(run.output + run.errors).contains(secret)) }
        }
    }

    @Test("while a hub serves, the check reads from the database that another process receives updates")
    func receiverLease() async throws {
        try await Services.with(protected: true) { services in
            var environment = services.environment
            let database = "sqlite:" + services.folder.root.appendingPathComponent("hub.db").path
            environment["HUB_DATABASE_URL"] = database
            let hub = try HubProcess(environment: environment, workingDirectory: services.folder.root)
            _ = try await hub.waitForPort()
            let store = try Store.open(database, poolSize: 1)
            var held = false
            for _ in 0..<200 where !held {
                held = try await store.database.query("SELECT owner FROM hub_leader WHERE name = 'telegram:77'").count == 1
                if !held { try await Task.sleep(for: .milliseconds(50)) }
            }
            await store.close()
            #expect(held, "\(hub.stderr)")
            let serving = try await CheckRun.run(environment, in: services.folder)
            #expect(serving.output.contains("\ntelegram.mode: ok: updates by long polling; another hub process receives them\n"), "\(serving.output)")
            hub.kill(SIGTERM)
            #expect(try await hub.waitForExit() == 0)
            // A stopping hub hands the lease back at once: nobody receives now, and the check says so.
            let stopped = try await CheckRun.run(environment, in: services.folder)
            #expect(stopped.output.contains("\n\ntelegram.mode: warning: updates by long polling; "
                + "no hub process receives updates right now (is the hub running?)\n\n"), "\(stopped.output)")
        }
    }

    @Test("webhook mode: the check compares Telegram's webhook with the hub's address")
    func webhookMode() async throws {
        try await Services.with(protected: true) { services in
            var environment = services.environment
            environment["HUB_PUBLIC_URL"] = "https://hub.example.ru"
            let before = try await CheckRun.run(environment, in: services.folder)
            #expect(before.output.contains("\n\ntelegram.mode: warning: webhook mode, but no webhook is registered yet (the receiving hub "
                + "registers https://hub.example.ru/hooks/telegram when it starts); no database, so no receiver lease\n\n"), "\(before.output)")
            // What the receiving hub does at start.
            let api = environment["TELEGRAM_API_URL"]! + "/bot" + environment["TELEGRAM_BOT_TOKEN"]! + "/setWebhook"
            #expect(await TestHTTP.postJSON(api, #"{"url": "https://hub.example.ru/hooks/telegram", "secret_token": "s3cr3t"}"#) == 200)
            let after = try await CheckRun.run(environment, in: services.folder)
            #expect(after.output.contains("\ntelegram.mode: ok: webhook at https://hub.example.ru/hooks/telegram; no database, so no receiver lease\n"),
                    "\(after.output)")
            #expect(after.status == 0)
        }
    }

    @Test("refused Zoom credentials and a wrong OpenAI key are errors: exit 1, secrets not echoed")
    func refusedCredentials() async throws {
        try await Services.with(protected: true) { services in
            var environment = services.environment
            environment["ZOOM_CLIENT_SECRET"] = "wrong-zoom-secret"
            environment["OPENAI_API_KEY"] = "sk-wrong-key-123456"
            let run = try await CheckRun.run(environment, in: services.folder)
            #expect(run.status == 1)
            #expect(run.output.contains("\n\nopenai.api: error: \(environment["OPENAI_BASE_URL"]!) answered: "
                + "the OpenAI API rejected the API key (HTTP 401); check OPENAI_API_KEY\n\n"), "\(run.output)")
            #expect(run.output.contains("\n\nzoom.oauth: error: Zoom refused the Server-to-Server OAuth credentials"), "\(run.output)")
            #expect(run.output.hasSuffix("online: 2 errors, 0 warnings\n"), "\(run.output)")
            for secret in Services.secrets + ["wrong-zoom-secret", "sk-wrong-key-123456", "123456"] {
                #expect(!(run.output + run.errors).contains(secret))
            }
        }
    }
}

extension HealthTests {
    @Test("Zoom's API failing after the token was had is an error now, not a failed run at post time")
    func zoomAPIDownIsAnError() async throws {
        try await Services.with(protected: true) { services in
            services.zoom.failNext(3, status: 503)
            let run = try await CheckRun.run(services.environment, in: services.folder)
            #expect(run.status == 1)
            #expect(run.output.contains("\nzoom.oauth: ok: Server-to-Server OAuth token obtained\n"), "\(run.output)")
            #expect(run.output.contains("\n\nzoom.api: error: cannot list the meetings of the host (ZOOM_HOST): Zoom answered 503 (code 503): Internal Error.\n\n"),
                    "\(run.output)")
            #expect(run.output.hasSuffix("online: 1 error, 0 warnings\n"), "\(run.output)")
        }
    }

    /// A wrong operators' chat is an error now, not when a client is handed over to nobody.
    @Test func aWrongOperatorsChatIsAnError() async throws {
        try await Services.with(protected: true) { services in
            var environment = services.environment
            environment["TELEGRAM_OPERATORS_CHAT_ID"] = "-100999"
            let run = try await CheckRun.run(environment, in: services.folder)
            #expect(run.status == 1)
            #expect(run.output.contains("\n\ntelegram.operators: error: cannot reach the operators' chat -100999 (Telegram refused getChat: Bad Request: chat not found): "
                + "check TELEGRAM_OPERATORS_CHAT_ID and that the bot was added there; until then a client handed over waits for nobody\n\n"),
                    "\(run.output)")
        }
    }
}

/// The emulators on loopback and an environment that points every connector at them.
struct Services {
    static let secrets = ["77:HEALTH-TOKEN", "zoom-health-secret", "sk-health-key", "prodamus-health-secret"]
    static let knowledge = "## Когда сеанс?\nКаждый день в 19:00"

    let telegram: TelegramEmulator
    let zoom: ZoomEmulator
    let folder: FlowFolder
    let environment: [String: String]

    static func with(protected: Bool, _ body: (Services) async throws -> Void) async throws {
        let telegram = TelegramEmulator(token: "77:HEALTH-TOKEN", botUsername: "session_hub_bot")
        telegram.addGroup(id: -100777, title: "Сеансы", hasProtectedContent: protected)
        telegram.addGroup(id: -100555, title: "Операторы", hasProtectedContent: false)
        let zoom = ZoomEmulator(accountID: "acc", clientID: "cid", clientSecret: "zoom-health-secret")
        let openAI = OpenAIEmulator(apiKey: "sk-health-key")
        let servers = [try await EmulatorServer.start(telegram.router(), name: "telegram"),
                       try await EmulatorServer.start(zoom.router(), name: "zoom"),
                       try await EmulatorServer.start(openAI.router(), name: "openai")]
        let folder = try FlowFolder([:])
        try FileManager.default.createDirectory(at: folder.root.appendingPathComponent("knowledge"), withIntermediateDirectories: true)
        try knowledge.write(to: folder.root.appendingPathComponent("knowledge/faq.md"), atomically: true, encoding: .utf8)
        let environment = [
            "HUB_FLOWS": folder.flows, "HUB_DATABASE_URL": "sqlite:" + folder.root.appendingPathComponent("absent.db").path,
            "TELEGRAM_BOT_TOKEN": "77:HEALTH-TOKEN", "TELEGRAM_API_URL": servers[0].baseURL,
            "TELEGRAM_GROUP_ID": "-100777", "TELEGRAM_OPERATORS_CHAT_ID": "-100555",
            "ZOOM_ACCOUNT_ID": "acc", "ZOOM_CLIENT_ID": "cid", "ZOOM_CLIENT_SECRET": "zoom-health-secret", "ZOOM_HOST": "host@example.ru",
            "ZOOM_API_URL": servers[1].baseURL + "/v2", "ZOOM_OAUTH_URL": servers[1].baseURL,
            "ZOOM_MEETING_URL": "https://us02web.zoom.us/j/85746065123?pwd=standing",
            "OPENAI_API_KEY": "sk-health-key", "OPENAI_BASE_URL": servers[2].baseURL + "/v1",
            "PRODAMUS_FORM_URL": "https://shop.payform.ru/", "PRODAMUS_SECRET_KEY": "prodamus-health-secret",
        ]
        do {
            try await body(Services(telegram: telegram, zoom: zoom, folder: folder, environment: environment))
        } catch {
            await stop(telegram, servers, folder)
            throw error
        }
        await stop(telegram, servers, folder)
    }

    private static func stop(_ telegram: TelegramEmulator, _ servers: [EmulatorServer], _ folder: FlowFolder) async {
        await telegram.shutdown()
        for server in servers { await server.stop() }
        folder.remove()
    }
}

/// One `hub check --online` run: its exit status and everything it printed.
struct CheckRun {
    var status: Int32
    var output: String
    var errors: String

    /// Runs the `hub` binary with `environment` over a clean base; output goes to files, so nothing is lost at exit.
    static func run(_ environment: [String: String], in folder: FlowFolder, timeout: Duration = .seconds(60)) async throws -> CheckRun {
        let out = folder.root.appendingPathComponent("check.out"), err = folder.root.appendingPathComponent("check.err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = HubProcess.executable
        process.arguments = ["check", "--online"]
        process.currentDirectoryURL = folder.root
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HUB_LISTEN": "127.0.0.1:0", "HUB_SANDBOX": "off"]
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                process.terminate()
                throw HubProcessError(message: "hub check --online did not finish within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return CheckRun(status: process.terminationStatus, output: try String(contentsOf: out, encoding: .utf8),
                        errors: try String(contentsOf: err, encoding: .utf8))
    }
}
