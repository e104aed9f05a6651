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
