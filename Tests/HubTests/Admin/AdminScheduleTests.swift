import Flows
import Foundation
@testable import Hub
import HummingbirdTesting
import Testing

/// The overview's schedule block: whether today's session post went out, and when the next one is due.
@Suite struct AdminScheduleTests {
    @Test func overviewShowsLastRunAndNextSlotOfEachScheduledFlow() async throws {
        let daily = try SchedulerTests.flow("0 18 * * *", zone: "Europe/Moscow")
        try await AdminHarness.with(flows: [daily]) { harness, client in
            let browser = try await AdminBrowser.signIn(client)
            let before = try await browser.get(client, "/admin").text
            #expect(before.contains("data-flow=\"daily\""))
            #expect(before.contains("ещё не запускался"))

            let id = try #require(try await harness.store.storeEvent(source: "cron:daily", dedupKey: "slot-1", payload: [:],
                                                                    runs: [NewRun(flow: "daily", flowVersion: daily.version)])?.first)
            try await harness.store.database.execute("UPDATE hub_runs SET status = 'failed', error = 'zoom: token refused' WHERE id = $1", [.string(id)])
            let after = try await browser.get(client, "/admin").text
            let row = try #require(after.components(separatedBy: "data-flow=\"daily\"").dropFirst().first?.components(separatedBy: "</tr>").first)
            #expect(row.contains("/admin/runs/\(id)"))
            #expect(row.contains(AdminText.status("failed")))
            // The next slot: 18:00 Moscow time, shown in the dashboard's zone as dd.MM.yyyy HH:mm.
            let next = try #require(daily.trigger.nextSlot(after: Date()))
            #expect(row.contains(harness.dashboard.format.date(Int64(next.timeIntervalSince1970 * 1000))))
        }
    }

    @Test("'Run now' on the flows page queues a run of a flow whose name has '-' and '_'")
    func runNowFromTheFlowsPage() async throws {
        let text = "name: daily-session_link\non: { cron: \"0 18 * * *\", timezone: Europe/Moscow }\nsteps:\n  - do: core.log\n    with: { message: tick }\n"
        var compiler = FlowCompiler(catalog: Catalog.defaults(BuiltinConnectors.registry), environment: [:])
        let flow = try #require(compiler.compile(text, file: "daily.yaml").flow)
        try await AdminHarness.with(flows: [flow]) { harness, client in
            let browser = try await AdminBrowser.signIn(client)
            let page = try await browser.get(client, "/admin/flows").text
            // The form as the page writes it, followed as a browser would.
            let start = try #require(page.range(of: "action=\"/admin/flows/")).lowerBound
            let action = String(page[start...].dropFirst("action=\"".count).prefix { $0 != "\"" })
            #expect(action.hasPrefix("/admin/flows/") && action.hasSuffix("/run"))
            let fields = [("csrf", try await browser.csrf(client)), ("form", try AdminBrowser.formID(page))]
            let response = try await browser.post(client, action, fields)
            #expect(response.status == .seeOther)
            #expect(response.headers[.location]?.hasPrefix("/admin/runs/") == true)
            // A double click sends the same form again: it lands on the same run, and no second link is posted.
            let again = try await browser.post(client, action, fields)
            #expect(again.headers[.location] == response.headers[.location])
            let runs = try await harness.store.database.query("SELECT flow FROM hub_runs", [])
            #expect(runs.map { $0["flow"]?.stringValue } == ["daily-session_link"])
            #expect(try await harness.store.database.query("SELECT id FROM hub_audit_log WHERE action = 'run_flow'").count == 1)
        }
    }
}

private extension Trigger {
    func nextSlot(after date: Date) -> Date? {
        guard case .cron(let schedule, let zone, _) = self else { return nil }
        return schedule.next(after: date, in: zone)
    }
}
