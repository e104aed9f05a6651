import Flows
import Foundation
@testable import Hub
import Testing

/// Settings a typo would otherwise turn into something else than the admin wrote.
@Suite struct HubSettingsTests {
    @Test("HUB_PUBLIC_URL needs a scheme and a host", arguments: ["hub.example.com", "ftp://hub.example.com", "https://", "/hooks"])
    func publicURLIsChecked(_ value: String) {
        #expect { try HubSettings(environment: ["HUB_PUBLIC_URL": value]) } throws: { "\($0)".contains("HUB_PUBLIC_URL must be") }
    }

    @Test func publicURLLosesItsTrailingSlash() throws {
        #expect(try HubSettings(environment: ["HUB_PUBLIC_URL": "https://hub.example.ru/"]).publicURL == "https://hub.example.ru")
        #expect(try HubSettings(environment: ["HUB_LISTEN": "0.0.0.0:9090"]).publicURL == "http://0.0.0.0:9090")
    }

    @Test("a config file HUB_CONFIG names must exist and be UTF-8")
    func configFileIsChecked() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hub-settings-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let registry = BuiltinConnectors.registry
        let missing = folder.appendingPathComponent("hub.yml").path
        #expect(try HubSettings(environment: ["HUB_CONFIG": missing]).catalog(registry: registry).diagnostics.map(\.headline)
                == ["\(missing):1:1: error: no such file (HUB_CONFIG names it) [missing-file]"])
        let cp1251 = folder.appendingPathComponent("hub.yaml")
        try Data([0xCF, 0xF0, 0xE8, 0x0A]).write(to: cp1251)
        #expect(try HubSettings(environment: ["HUB_CONFIG": cp1251.path]).catalog(registry: registry).diagnostics.map(\.code) == ["unreadable-file"])
    }
}
