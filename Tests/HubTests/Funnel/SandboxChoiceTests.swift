import Foundation
@testable import HubCommand
import Testing

/// When `hub serve` starts the sandbox, and what it leaves of the environment.
@Suite struct SandboxChoiceTests {
    static let sandbox = ["PRODAMUS_SECRET_KEY": "sandbox-secret-key", "PRODAMUS_FORM_URL": "http://127.0.0.1:1/",
                          "TELEGRAM_BOT_TOKEN": "100000:SANDBOX", "OPENAI_API_KEY": "sandbox-key", "OPENAI_BASE_URL": "http://127.0.0.1:2/v1",
                          "ZOOM_ACCOUNT_ID": "sandbox", "ZOOM_API_URL": "http://127.0.0.1:3/v2"]

    @Test func noCredentialsNoConfigFileMeansTheSandbox() throws {
        #expect(try ServeCommand.sandboxNeeded(["HUB_CONFIG": "/nonexistent/hub.yaml"]) == true)
        #expect(try ServeCommand.sandboxNeeded(["TELEGRAM_BOT_TOKEN": "1:real"]) == false)
        #expect(try ServeCommand.sandboxNeeded(["PRODAMUS_SECRET_KEY": "real"]) == false)
        for off in ["off", "OFF", "false", "0", "no"] { #expect(try ServeCommand.sandboxNeeded(["HUB_SANDBOX": off]) == false, "\(off)") }
        #expect(try ServeCommand.sandboxSetting(["HUB_SANDBOX": "On"]) == true)
        #expect(throws: (any Error).self) { try ServeCommand.sandboxSetting(["HUB_SANDBOX": "of"]) }
    }

    @Test("a config file means its connectors' settings, whatever variables they read: no sandbox")
    func configFileRulesTheSandboxOut() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hub-\(UUID().uuidString).yaml")
        try "connectors: {}\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try ServeCommand.sandboxNeeded(["HUB_CONFIG": file.path]) == false)
    }

    @Test("a live installation restarted without its secrets (a PostgreSQL database, a public address) gets no sandbox")
    func liveInstallationsRuleTheSandboxOut() throws {
        let none = ["HUB_CONFIG": "/nonexistent/hub.yaml"]
        #expect(try ServeCommand.sandboxNeeded(none.merging(["HUB_DATABASE_URL": "postgresql://hub@db.internal/hub"]) { $1 }) == false)
        #expect(try ServeCommand.sandboxNeeded(none.merging(["HUB_PUBLIC_URL": "https://sessions.example.ru"]) { $1 }) == false)
        // A newcomer's own SQLite file and this machine's address are still the sandbox's.
        #expect(try ServeCommand.sandboxNeeded(none.merging(["HUB_DATABASE_URL": "sqlite:demo.db", "HUB_PUBLIC_URL": "http://localhost:8080"]) { $1 }))
        #expect(try ServeCommand.sandboxNeeded(none.merging(["HUB_PUBLIC_URL": "http://127.0.0.1:9000"]) { $1 }))
    }

    @Test("a forced sandbox refuses a config file: its connectors would keep settings the sandbox cannot see, some of them real")
    func forcedSandboxRefusesAConfigFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hub-\(UUID().uuidString).yaml")
        try "connectors: {}\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(throws: (any Error).self) { try ServeCommand.sandboxWanted(["HUB_CONFIG": file.path, "HUB_SANDBOX": "on"], flag: false) }
        #expect(throws: (any Error).self) { try ServeCommand.sandboxWanted(["HUB_CONFIG": file.path], flag: true) }
        do {
            _ = try ServeCommand.sandboxWanted(["HUB_CONFIG": file.path], flag: true)
        } catch {
            #expect("\(error)" == "the sandbox cannot start with \(file.path): its connectors keep their own settings, so some services could be real "
                + "ones; move the file away, or set HUB_CONFIG to a file that does not exist")
        }
        #expect(try ServeCommand.sandboxWanted(["HUB_CONFIG": "/nonexistent/hub.yaml"], flag: true) == .forced)
        #expect(try ServeCommand.sandboxWanted(["HUB_CONFIG": "/nonexistent/hub.yaml"], flag: false) == .automatic)
        #expect(try ServeCommand.sandboxWanted(["HUB_CONFIG": file.path], flag: false) == nil)
    }

    @Test("started for want of Prodamus and Telegram credentials, the sandbox leaves a real OpenAI key and Zoom app alone")
    func realServicesAreKept() {
        let real = ["OPENAI_API_KEY": "sk-real", "ZOOM_ACCOUNT_ID": "acc-real", "ZOOM_API_URL": "https://api.zoom.us/v2"]
        let auto = ServeCommand.sandboxed(real, with: Self.sandbox, forced: false)
        #expect(auto["OPENAI_API_KEY"] == "sk-real" && auto["OPENAI_BASE_URL"] == nil)
        #expect(auto["ZOOM_ACCOUNT_ID"] == "acc-real" && auto["ZOOM_API_URL"] == "https://api.zoom.us/v2")
        #expect(auto["TELEGRAM_BOT_TOKEN"] == "100000:SANDBOX" && auto["PRODAMUS_FORM_URL"] == "http://127.0.0.1:1/")
        // --sandbox: every service is the emulator's.
        let forced = ServeCommand.sandboxed(real, with: Self.sandbox, forced: true)
        #expect(forced["OPENAI_API_KEY"] == "sandbox-key" && forced["ZOOM_API_URL"] == "http://127.0.0.1:3/v2")
    }
}
