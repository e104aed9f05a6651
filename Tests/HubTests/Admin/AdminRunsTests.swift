import Flows
import Foundation
@testable import Hub
import HummingbirdTesting
import Testing

/// The runs pages: a dead letter is shown with its steps and error, and "Повторить" re-queues it.
@Suite struct AdminRunsTests {
    @Test func failedRunIsShownAndRetried() async throws {
        try await AdminHarness.with { harness, client in
            let store = harness.store
            let id = try #require(try await store.storeEvent(source: "test", dedupKey: "k1", payload: ["body": ["name": "<b>Ann</b>"]],
                                                            runs: [NewRun(flow: "greet", flowVersion: "v1")])?.first)
            try await store.database.execute("UPDATE hub_runs SET status = 'failed', failed_step = 'send', error = $2 WHERE id = $1",
                                             [.string(id), .string("telegram: <chat not found>")])
            try await store.database.execute("""
                INSERT INTO hub_run_steps (run_id, step_id, step_index, status, attempts, error, updated_at)
                VALUES ($1, 'send', 0, 'failed', 3, 'chat not found', 0)
                """, [.string(id)])
            let browser = try await AdminBrowser.signIn(client)
            let list = try await browser.get(client, "/admin/runs?status=failed").text
            #expect(list.contains("/admin/runs/\(id)"))
            #expect(list.contains("telegram: &lt;chat not found&gt;"))
            #expect(try await browser.get(client, "/admin/runs?status=completed").text.contains("/admin/runs/\(id)") == false)
            let page = try await browser.get(client, "/admin/runs/\(id)").text
            #expect(page.contains("Повторить"))
            #expect(page.contains("Ann") && !page.contains("<b>Ann"))
            #expect(!page.contains("<pre></pre>"))
            #expect(page.contains("chat not found"))

            let csrf = try await browser.csrf(client)
            let retried = try await browser.post(client, "/admin/runs/\(id)/retry", [("csrf", csrf)])
            #expect(retried.status == .seeOther)
            #expect(try await store.database.query("SELECT status FROM hub_runs WHERE id = $1", [.string(id)]).first?["status"] == "queued")
            #expect(try await store.database.query("SELECT action FROM hub_audit_log WHERE subject = $1", [.string("run:" + id)]).first?["action"] == "retry_run")
            // Only a failed run can be retried.
            #expect(try await browser.post(client, "/admin/runs/\(id)/retry", [("csrf", csrf)]).status == .conflict)
        }
    }

    @Test("the runs page says how long finished runs are kept", arguments: [
        (nil, "Завершённые запуски хранятся бессрочно (HUB_KEEP_RUNS)."),
        (Duration.seconds(90 * 86400), "Завершённые запуски хранятся 90 дней, затем удаляются вместе с шагами (HUB_KEEP_RUNS)."),
        (Duration.seconds(21 * 86400), "Завершённые запуски хранятся 21 день, затем удаляются вместе с шагами (HUB_KEEP_RUNS)."),
        (Duration.seconds(200 * 3600), "Завершённые запуски хранятся 200 часов, затем удаляются вместе с шагами (HUB_KEEP_RUNS)."),
    ] as [(Duration?, String)])
    func retentionIsSaid(keep: Duration?, sentence: String) async throws {
        try await AdminHarness.with(keepRuns: keep) { _, client in
            let browser = try await AdminBrowser.signIn(client)
            #expect(try await browser.get(client, "/admin/runs").text.contains(sentence))
        }
    }

    @Test func russianCounts() {
        let forms = [1, 2, 4, 5, 11, 12, 14, 21, 22, 25, 101, 111, 112].map { AdminText.count($0, "день", "дня", "дней") }
        #expect(forms == ["1 день", "2 дня", "4 дня", "5 дней", "11 дней", "12 дней", "14 дней", "21 день", "22 дня", "25 дней",
                          "101 день", "111 дней", "112 дней"])
    }
}
