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
}
