import Emulators
import Flows
import Foundation
import Logging
import Testing
@testable import OpenAIConnector

/// An OpenAI emulator on a loopback port, a knowledge file in a temp folder, and connectors
/// built against both.
struct OpenAIHarness {
    static let apiKey = "sk-proj-TEST0123456789abcdefghijklmnopqrstuvwxyzSECRET"

    let emulator: OpenAIEmulator
    let server: EmulatorServer
    let directory: URL

    var knowledgePath: String { directory.appendingPathComponent("faq.md").path }
    var baseURL: String { server.baseURL + "/v1" }

    /// Runs `body` with a fresh emulator (accepting `apiKey`) and the shipped FAQ, then stops both.
    static func with<T>(apiKey: String? = OpenAIHarness.apiKey, _ body: (OpenAIHarness) async throws -> T) async throws -> T {
        let emulator = OpenAIEmulator(apiKey: apiKey)
        let server = try await EmulatorServer.start(emulator.router(), name: "openai")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("openai-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let harness = OpenAIHarness(emulator: emulator, server: server, directory: directory)
        try harness.writeKnowledge(try String(contentsOf: shippedFAQ, encoding: .utf8))
        do {
            let result = try await body(harness)
            await harness.stop()
            return result
        } catch {
            await harness.stop()
            throw error
        }
    }

    /// `knowledge/faq.md` of this package.
    static var shippedFAQ: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("knowledge/faq.md")
    }

    func stop() async {
        await server.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    func writeKnowledge(_ text: String) throws {
        try text.write(toFile: knowledgePath, atomically: true, encoding: .utf8)
    }

    /// A connector on the emulator with the API key; settings override these defaults.
    func connector(apiKey: String? = OpenAIHarness.apiKey, settings: [String: Value] = [:],
                   logger: Logger = Logger(label: "test.openai")) throws -> OpenAIConnector
    {
        var config: [String: Value] = ["base_url": .string(baseURL), "knowledge": .string(knowledgePath), "timeout": 5]
        if let apiKey { config["api_key"] = .string(apiKey) }
        config.merge(settings) { _, new in new }
        // As the hub does: defaults from the spec fill what the config leaves out.
        for field in OpenAIConnector.spec.config where config[field.name] == nil {
            if let value = field.defaultValue { config[field.name] = value }
        }
        let services = ConnectorServices(instance: "openai", logger: logger, database: nil, http: CurlHTTPClient(),
                                         events: NoEvents(), publicURL: "http://127.0.0.1:1")
        return try OpenAIConnector(config: Fields(config), services: services)
    }

    static func call(_ inputs: [String: Value]) -> ActionCall {
        ActionCall(action: "answer", inputs: Fields(inputs), idempotencyKey: UUID().uuidString, runID: "run-1", stepID: "answer",
                   flow: "support", logger: Logger(label: "test.openai.call"))
    }

    /// The messages of the last request the emulator received.
    var lastMessages: [Value] { emulator.requests.last?["messages"]?.arrayValue ?? [] }
}

/// The connector raises no events; the sink is never used.
struct NoEvents: EventSink {
    func emit(_ event: IncomingEvent) async throws -> EmitOutcome { .accepted(runs: 0) }
}

/// The `ConnectorError` that `body` throws; records an issue when it throws something else or nothing.
func connectorError(_ body: () async throws -> Value, sourceLocation: Testing.SourceLocation = #_sourceLocation) async -> ConnectorError? {
    do {
        let value = try await body()
        Issue.record("expected a ConnectorError, got \(value.json)", sourceLocation: sourceLocation)
        return nil
    } catch let error as ConnectorError {
        return error
    } catch {
        Issue.record("expected a ConnectorError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

extension Value {
    /// A message's `role` and `content`, for assertions.
    var role: String? { self["role"]?.stringValue }
    var content: String? { self["content"]?.stringValue }
}
