import Emulators
import Flows
import Foundation
import Hub
import Synchronization
import Testing
@testable import OpenAIConnector

/// `openai.answer` as a step of a checked flow, run by the hub's engine: the retry rules and
/// `on_error` do what the admin wrote.
@Suite struct OpenAIFlowTests {
    typealias H = OpenAIHarness

    final class Journal: RunJournal {
        let failed = Mutex<[String]>([])
        func stepFinished(runID: String, step: Step, index: Int, result: Value, skipped: Bool) async throws {}
        func stepFailed(runID: String, step: Step, index: Int, attempt: Int, error: ConnectorError) async throws {
            failed.withLock { $0.append(error.code) }
        }
    }

    static func flow(onError: String) throws -> Flow {
        let text = """
            name: support
            on: { http: /hooks/support }
            steps:
              - id: reply
                do: openai.answer
                retry: { attempts: 3, backoff: 1s }
                on_error: \(onError)
                with:
                  question: "{{ event.body.text }}"
                  member: { full_name: "{{ event.body.name }}", paid: true }
            """
        let set = FlowSet.compile([("support.yaml", text)], catalog: Catalog.defaults(BuiltinConnectors.registry))
        #expect(set.diagnostics.isEmpty, "\(set.rendered())")
        return try #require(set.flows.first)
    }

    static let event: Value = ["body": ["text": "Как оплатить участие?", "name": "Анна"]]

    @Test func aRateLimitedStepWaitsAsToldThenAnswers() async throws {
        try await H.with { h in
            let engine = Engine(connectors: ["openai": try h.connector()])
            let flow = try Self.flow(onError: "fail")
            h.emulator.failNext(1, status: 429, retryAfter: 7)
            let first = try await engine.execute(flow, state: RunState(runID: "r1", event: Self.event), journal: Journal())
            guard case .retry(let step, let delay, let error) = first else { Issue.record("expected a retry, got \(first)"); return }
            #expect(step == "reply" && delay == .seconds(7) && error.code == "openai-rate-limit")

            let second = try await engine.execute(flow, state: RunState(runID: "r1", event: Self.event, attempts: ["reply": 1]), journal: Journal())
            guard case .completed(let results) = second else { Issue.record("expected completion, got \(second)"); return }
            #expect(results["reply"]?["escalate"] == false)
            #expect(results["reply"]?["text"]?.stringValue?.contains("Заполните форму на сайте") == true)
            #expect(h.lastMessages.first?.content?.contains("Имя: Анна") == true)
        }
    }

    @Test func noQuotaFailsAtOnceAndTheFlowDecides() async throws {
        try await H.with { h in
            let engine = Engine(connectors: ["openai": try h.connector()])
            h.emulator.failNext(2, status: 429, code: "insufficient_quota")
            let journal = Journal()
            let failed = try await engine.execute(try Self.flow(onError: "fail"), state: RunState(runID: "r2", event: Self.event), journal: journal)
            guard case .failed(let failure) = failed else { Issue.record("expected a failure, got \(failed)"); return }
            #expect(failure.attempts == 1 && failure.error.code == "openai-insufficient-quota")
            #expect(!failure.description.contains(H.apiKey))

            let continued = try await engine.execute(try Self.flow(onError: "continue"), state: RunState(runID: "r3", event: Self.event), journal: journal)
            guard case .completed(let results) = continued else { Issue.record("expected completion, got \(continued)"); return }
            #expect(results["reply"] == .null)
            #expect(journal.failed.withLock { $0 } == ["openai-insufficient-quota", "openai-insufficient-quota"])
        }
    }
}
