import Foundation
import Logging
import Synchronization
import Testing
@testable import Flows

/// A journal in memory, for running flows without a store.
final class MemoryJournal: RunJournal {
    let finished = Mutex<[(step: String, result: Value, skipped: Bool)]>([])
    let failures = Mutex<[(step: String, attempt: Int, code: String)]>([])

    func stepFinished(runID: String, step: Step, index: Int, result: Value, skipped: Bool) async throws {
        finished.withLock { $0.append((step.id, result, skipped)) }
    }

    func stepFailed(runID: String, step: Step, index: Int, attempt: Int, error: ConnectorError) async throws {
        failures.withLock { $0.append((step.id, attempt, error.code)) }
    }
}

@Suite struct EngineTests {
    let recorder = Recorder()
    var engine: Engine {
        Engine(connectors: ["db": ShopConnector(recorder: recorder), "bot": BotConnector(recorder: recorder)])
    }

    func flow(_ text: String) throws -> Flow {
        let result = TestCatalog.compile(text)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        return try #require(result.flow)
    }

    @Test func passesResultsBetweenStepsAndSkipsByCondition() async throws {
        let flow = try flow("""
            on: db.paid
            steps:
              - id: member
                do: db.mark_paid
                with: { order: "{{ event.order_num }}", amount: "{{ event.sum }}" }
              - id: invite
                do: bot.send_invite
                if: "{{ member.telegram_id != null }}"
                with: { user: "{{ member.telegram_id }}" }
              - id: never
                do: bot.send_invite
                if: member.member.paid == false
                with: { user: 1 }
            """)
        let journal = MemoryJournal()
        let outcome = try await engine.execute(flow, state: RunState(runID: "r1", event: ["order_num": "A-7", "sum": "100.00"]), journal: journal)
        guard case .completed(let results) = outcome else { Issue.record("not completed: \(outcome)"); return }
        #expect(results["invite"] == ["link": "https://t.me/+42"])
        #expect(results["never"] == .null)
        let calls = recorder.calls
        #expect(calls.map(\.action) == ["mark_paid", "send_invite"])
        #expect(calls[0].inputs.values == ["order": "A-7", "amount": "100.00"])
        #expect(calls[1].inputs.values == ["user": 42, "protect_content": true])
        #expect(calls[1].idempotencyKey == "r1:invite")
        #expect(journal.finished.withLock { $0.map(\.step) } == ["member", "invite", "never"])
        #expect(journal.finished.withLock { $0[2].skipped })
    }

    @Test func resumesAfterTheLastRecordedStep() async throws {
        let flow = try flow("on: db.paid\nsteps:\n  - id: member\n    do: db.mark_paid\n    with: { order: x }\n  - do: bot.send_invite\n    with: { user: \"{{ member.telegram_id }}\" }\n")
        let state = RunState(runID: "r2", event: [:], results: ["member": ["telegram_id": 7]])
        _ = try await engine.execute(flow, state: state, journal: MemoryJournal())
        #expect(recorder.calls.map(\.action) == ["send_invite"])
        #expect(recorder.calls[0].inputs["user"] == 7)
    }

    @Test func permanentFailureCarriesTheStepID() async throws {
        let flow = try flow("on: db.paid\nsteps:\n  - id: member\n    do: db.mark_paid\n    with: { order: missing }\n")
        let journal = MemoryJournal()
        let outcome = try await engine.execute(flow, state: RunState(runID: "r3", event: [:]), journal: journal)
        guard case .failed(let failure) = outcome else { Issue.record("expected failure, got \(outcome)"); return }
        #expect(failure.stepID == "member")
        #expect(failure.error.code == "not-found")
        #expect(failure.attempts == 1)
        #expect(failure.description == "flow 'test' step 'member' failed after 1 attempt(s): no such order [not-found]")
    }

    @Test("an 'if' that cannot be evaluated fails its step for good, not the run for ever")
    func conditionThatCannotBeEvaluatedFailsTheStep() async throws {
        let flow = try flow("""
            on: db.paid
            steps:
              - id: member
                if: "{{ (now | date: 'HH', event.sum) >= '09' }}"
                do: db.mark_paid
                with: { order: "{{ event.order_num }}" }
            """)
        let outcome = try await engine.execute(flow, state: RunState(runID: "r9", event: ["sum": "Moscow", "order_num": "o1"]),
                                               journal: MemoryJournal())
        guard case .failed(let failure) = outcome else { Issue.record("expected failure, got \(outcome)"); return }
        #expect(failure.stepID == "member" && failure.error.code == "bad-condition")
        #expect(failure.error.message.contains("unknown time zone 'Moscow'"))
    }

    @Test func transientFailureAsksForRetryThenGivesUp() async throws {
        let flow = try flow("on: db.paid\nsteps:\n  - id: m\n    do: db.mark_paid\n    retry: { attempts: 2, backoff: 10s }\n    with: { order: flaky }\n")
        let first = try await engine.execute(flow, state: RunState(runID: "r4", event: [:]), journal: MemoryJournal())
        guard case .retry(let step, let delay, _) = first else { Issue.record("expected retry"); return }
        #expect(step == "m")
        #expect(delay >= .seconds(8) && delay <= .seconds(12))
        let second = try await engine.execute(flow, state: RunState(runID: "r4", event: [:], attempts: ["m": 1]), journal: MemoryJournal())
        guard case .failed(let failure) = second else { Issue.record("expected failure"); return }
        #expect(failure.attempts == 2)
    }

    @Test func continueOnErrorGoesOn() async throws {
        let flow = try flow("on: db.paid\nsteps:\n  - id: m\n    do: db.mark_paid\n    on_error: continue\n    with: { order: missing }\n  - do: bot.send_invite\n    with: { user: \"{{ m.telegram_id | default: 5 }}\" }\n")
        let outcome = try await engine.execute(flow, state: RunState(runID: "r5", event: [:]), journal: MemoryJournal())
        guard case .completed = outcome else { Issue.record("expected completion"); return }
        #expect(recorder.calls.last?.inputs["user"] == 5)
    }

    @Test func emptyRequiredInputFailsPermanently() async throws {
        let flow = try flow("on: db.paid\nsteps:\n  - do: bot.send_invite\n    with: { user: \"{{ event.order_num }}\" }\n")
        let outcome = try await engine.execute(flow, state: RunState(runID: "r6", event: [:]), journal: MemoryJournal())
        guard case .failed(let failure) = outcome else { Issue.record("expected failure"); return }
        #expect(failure.error.code == "missing-input")
        #expect(recorder.calls.isEmpty)
    }
}

@Suite struct RetryPolicyTests {
    @Test func backoffDoublesAndIsCapped() {
        let p = RetryPolicy(attempts: 10, backoff: .seconds(1), maxDelay: .seconds(5))
        #expect(p.delay(afterAttempt: 1, jitter: 1) == .seconds(1))
        #expect(p.delay(afterAttempt: 2, jitter: 1) == .seconds(2))
        #expect(p.delay(afterAttempt: 3, jitter: 1) == .seconds(4))
        #expect(p.delay(afterAttempt: 4, jitter: 1) == .seconds(5))
        let jittered = p.delay(afterAttempt: 2, jitter: 1.2)
        #expect(jittered > .milliseconds(2399) && jittered < .milliseconds(2401))
    }
}

@Suite struct ConfigTests {
    @Test func nestedSettingsAreKept() throws {
        var compiler = FlowCompiler(catalog: TestCatalog.catalog, environment: ["TEST_BOT_TOKEN": "t"])
        let (catalog, diagnostics) = compiler.compileConfig("""
            connectors:
              shop: { type: shop, greeting: hello }
              bot: { type: bot, token: "${TEST_BOT_TOKEN}" }
            """, file: "hub.yaml")
        #expect(diagnostics.isEmpty)
        #expect(catalog.instance("shop")?.settings == ["greeting": "hello"])
        #expect(catalog.instance("bot")?.config(environment: [:])["token"] == "t")
        #expect(catalog.instance("db") == nil, "a type configured under another name has no default instance")
    }

    @Test("a value from the environment is never quoted in a diagnostic; a secret's written default is inline")
    func environmentValuesStayOutOfDiagnostics() {
        let secret = "123456:s3cr3tTOKENvalue"
        let flow = """
            name: leak
            on: db.paid
            steps:
              - do: bot.send_invite
                with: { user: 1, protect_content: "${TEST_BOT_TOKEN}" }
              - do: bot.send_invite
                with: { user: 2, token: "${TEST_BOT_TOKEN:-777:written}" }
            """
        let (_, diagnostics) = TestCatalog.compile(flow, environment: ["TEST_BOT_TOKEN": secret])
        let text = diagnostics.map { $0.rendered(source: nil) }.joined(separator: "\n")
        #expect(!text.contains("s3cr3t"))
        #expect(text.contains("found string '${TEST_BOT_TOKEN}'"))
        #expect(diagnostics.map(\.code) == ["wrong-type", "inline-secret"])
    }

    @Test func inlineSecretAndUnknownSettingAreReported() {
        var compiler = FlowCompiler(catalog: TestCatalog.catalog, environment: [:])
        let (_, diagnostics) = compiler.compileConfig("connectors:\n  bot: { type: bot, token: 123:abc, tokn: x }\n", file: "hub.yaml")
        #expect(diagnostics.map(\.headline) == [
            "hub.yaml:2:28: error: 'token' is a secret and must not be written in the file [inline-secret]",
            "hub.yaml:2:37: error: unknown key 'tokn' in bot settings [unknown-key]",
        ])
    }

    /// The report goes to terminals and CI logs: the line holding an inline secret is not shown.
    @Test func anInlineSecretsLineIsNotQuoted() {
        var compiler = FlowCompiler(catalog: TestCatalog.catalog, environment: [:])
        let source = "connectors:\n  bot:\n    type: bot\n    token: 123456:ABCdef\n    tokn: x\n"
        let (_, diagnostics) = compiler.compileConfig(source, file: "hub.yaml")
        let text = diagnostics.map { $0.rendered(source: source) }.joined(separator: "\n")
        #expect(!text.contains("ABCdef"))
        #expect(text.contains("hub.yaml:4:12: error: 'token' is a secret and must not be written in the file [inline-secret]"))
        #expect(text.contains("    tokn: x\n    ^"), "other diagnostics keep their line and caret")
    }
}
