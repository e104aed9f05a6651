import Flows
import Foundation
import Logging
@testable import Hub
import Testing

/// Cron flows fire once per slot in their time zone, with time driven by a manual clock.
@Suite struct SchedulerTests {
    static func flow(_ cron: String, zone: String, missed: String = "latest", grace: String = "1h") throws -> Flow {
        try flow(trigger: "{ cron: \"\(cron)\", timezone: \(zone), missed: \(missed), grace: \(grace) }")
    }

    static func flow(trigger: String, condition: String? = nil) throws -> Flow {
        let text = "name: daily\non: \(trigger)\n\(condition.map { "if: \"\($0)\"\n" } ?? "")steps:\n  - do: core.log\n    with: { message: tick }\n"
        var compiler = FlowCompiler(catalog: Catalog.defaults(BuiltinConnectors.registry), environment: [:])
        let result = compiler.compile(text, file: "daily.yaml")
        return try #require(result.flow, "\(result.diagnostics)")
    }

    static func date(_ iso: String) -> Date { try! Date(iso, strategy: .iso8601) }

    /// Runs a scheduler on `clock` until `body` returns.
    static func withScheduler(store: Store, flows: FlowRegistry, clock: ManualClock, _ body: () async throws -> Void) async throws {
        let scheduler = Scheduler(store: store, flows: flows, wakeUp: WakeUp(), clock: clock, recheck: 3600, logger: Logger(label: "test"))
        let task = Task { try await scheduler.run() }
        defer { task.cancel() }
        try await body()
        task.cancel()
        _ = await task.result
    }

    /// Moves the clock step by step (so the scheduler sees each slot) and lets it catch up.
    static func advance(_ clock: ManualClock, to end: Date, step: TimeInterval = 600) async throws {
        var t = clock.now()
        while t < end {
            t = min(end, t.addingTimeInterval(step))
            try await settle(clock)
            clock.set(t)
        }
        try await settle(clock)
    }

    /// Waits until the scheduler is asleep again (it has processed the current time).
    static func settle(_ clock: ManualClock) async throws {
        for _ in 0..<500 where clock.sleeping == 0 { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(20))
    }

    static func slots(_ store: Store) async throws -> [String] {
        try await store.database.query("SELECT slot FROM hub_schedule_slots ORDER BY slot").map {
            Date(timeIntervalSince1970: Double($0["slot"]?.intValue ?? 0) / 1000).formatted(.iso8601)
        }
    }

    @Test("a Berlin schedule across the spring-forward gap fires once per day", arguments: TestDatabases.available)
    func springForward(kind: TestDatabaseKind) async throws {
        try await TestDatabases.withURL(kind) { url in
            let store = try Store.open(url)
            try await store.migrate()
            let clock = ManualClock(Self.date("2026-03-28T12:00:00Z"))
            let flows = FlowRegistry([try Self.flow("30 2 * * *", zone: "Europe/Berlin")])
            try await Self.withScheduler(store: store, flows: flows, clock: clock) {
                try await Self.advance(clock, to: Self.date("2026-03-30T12:00:00Z"))
            }
            // 02:30 does not exist on 29 March: it fires at 03:00 CEST (01:00Z), once.
            #expect(try await Self.slots(store) == ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"])
            #expect(try await store.runCounts()["queued"] == 2)
            await store.close()
        }
    }

    @Test("the fall-back overlap fires the repeated hour once", arguments: TestDatabases.available)
    func fallBack(kind: TestDatabaseKind) async throws {
        try await TestDatabases.withURL(kind) { url in
            let store = try Store.open(url)
            try await store.migrate()
            let clock = ManualClock(Self.date("2026-10-24T12:00:00Z"))
            let flows = FlowRegistry([try Self.flow("30 2 * * *", zone: "Europe/Berlin")])
            try await Self.withScheduler(store: store, flows: flows, clock: clock) {
                try await Self.advance(clock, to: Self.date("2026-10-25T12:00:00Z"))
            }
            #expect(try await Self.slots(store) == ["2026-10-25T00:30:00Z"])
            await store.close()
        }
    }

    @Test("two schedulers on one database: each slot runs once", arguments: TestDatabases.available)
    func twoSchedulers(kind: TestDatabaseKind) async throws {
        try await TestDatabases.withURL(kind) { url in
            let store = try Store.open(url), other = try Store.open(url)
            try await store.migrate()
            let clock = ManualClock(Self.date("2026-06-01T05:00:00Z"))
            let flows = FlowRegistry([try Self.flow("0 9 * * *", zone: "Europe/Moscow")])
            try await Self.withScheduler(store: store, flows: flows, clock: clock) {
                try await Self.withScheduler(store: other, flows: flows, clock: clock) {
                    try await Self.advance(clock, to: Self.date("2026-06-03T07:00:00Z"))
                }
            }
            // 09:00 in Moscow is 06:00Z.
            #expect(try await Self.slots(store) == ["2026-06-01T06:00:00Z", "2026-06-02T06:00:00Z", "2026-06-03T06:00:00Z"])
            #expect(try await store.database.query("SELECT COUNT(*) AS n FROM hub_runs").first?["n"] == 3)
            await store.close()
            await other.close()
        }
    }

    @Test("a restart across a slot runs the missed slot once, by policy", arguments: [
        ("latest", "2026-06-02T06:10:00Z", ["2026-06-01T06:00:00Z", "2026-06-02T06:00:00Z"]),
        ("skip", "2026-06-02T06:10:00Z", ["2026-06-01T06:00:00Z"]),
        ("latest", "2026-06-02T08:00:00Z", ["2026-06-01T06:00:00Z"]),  // beyond the 1 h grace
        ("all", "2026-06-03T06:30:00Z", ["2026-06-01T06:00:00Z", "2026-06-03T06:00:00Z"]),  // within grace only
    ])
    func restartAcrossSlot(policy: String, restartAt: String, expected: [String]) async throws {
        try await TestDatabases.withURL(.sqlite) { url in
            let store = try Store.open(url)
            try await store.migrate()
            let clock = ManualClock(Self.date("2026-06-01T05:00:00Z"))
            let flows = FlowRegistry([try Self.flow("0 9 * * *", zone: "Europe/Moscow", missed: policy)])
            try await Self.withScheduler(store: store, flows: flows, clock: clock) {
                try await Self.advance(clock, to: Self.date("2026-06-01T07:00:00Z"))
            }
            // The hub is down while the clock passes the next slot(s), then starts again.
            clock.set(Self.date(restartAt))
            try await Self.withScheduler(store: store, flows: flows, clock: clock) {
                try await Self.settle(clock)
            }
            #expect(try await Self.slots(store) == expected)
            await store.close()
        }
    }

    @Test("after 20 hours down, a minutely schedule runs its latest slot, not one of the oldest missed")
    func longOutageRunsTheLatestSlot() async throws {
        try await TestDatabases.withURL(.sqlite) { url in
            let store = try Store.open(url)
            try await store.migrate()
            let clock = ManualClock(Self.date("2026-06-01T05:00:00Z"))
            let flows = FlowRegistry([try Self.flow("* * * * *", zone: "UTC")])
            try await Self.withScheduler(store: store, flows: flows, clock: clock) {
                try await Self.advance(clock, to: Self.date("2026-06-01T05:02:00Z"), step: 60)
            }
            clock.set(Self.date("2026-06-02T01:00:30Z"))
            try await Self.withScheduler(store: store, flows: flows, clock: clock) {
                try await Self.settle(clock)
            }
            #expect(try await Self.slots(store) == ["2026-06-01T05:01:00Z", "2026-06-01T05:02:00Z", "2026-06-02T01:00:00Z"])
            await store.close()
        }
    }

    @Test("a gap while the hub runs (the database away, a suspend, the clock stepped) is handled like a restart", arguments: [
        ("0 9 * * *", "Europe/Moscow", "latest", "2026-06-01T09:00:00Z", [String]()),  // 3 h late: beyond the 1 h grace
        ("0 9 * * *", "Europe/Moscow", "latest", "2026-06-01T06:30:00Z", ["2026-06-01T06:00:00Z"]),
        ("0 9 * * *", "Europe/Moscow", "skip", "2026-06-01T06:30:00Z", []),
        ("* * * * *", "UTC", "latest", "2026-06-02T05:00:30Z", ["2026-06-02T05:00:00Z"]),  // one run, not 1,440
    ])
    func gapWhileRunning(cron: String, zone: String, policy: String, wakeAt: String, expected: [String]) async throws {
        try await TestDatabases.withURL(.sqlite) { url in
            let store = try Store.open(url)
            try await store.migrate()
            let clock = ManualClock(Self.date("2026-06-01T05:00:00Z"))
            let flows = FlowRegistry([try Self.flow(cron, zone: zone, missed: policy)])
            try await Self.withScheduler(store: store, flows: flows, clock: clock) {
                try await Self.settle(clock)
                clock.set(Self.date(wakeAt))
                try await Self.settle(clock)
            }
            #expect(try await Self.slots(store) == expected)
            #expect(try await store.runCounts()["queued", default: 0] == expected.count)
            await store.close()
        }
    }

    @Test("a flow whose trigger went from cron to http and back starts its schedule afresh")
    func triggerChangedBackStartsAfresh() async throws {
        try await TestDatabases.withURL(.sqlite) { url in
            let store = try Store.open(url)
            try await store.migrate()
            let clock = ManualClock(Self.date("2026-06-01T05:00:00Z"))
            let cron = try Self.flow("0 9 * * *", zone: "Europe/Moscow", grace: "2h")
            let flows = FlowRegistry([cron])
            try await Self.withScheduler(store: store, flows: flows, clock: clock) {
                try await Self.settle(clock)
                // The 06:00Z slot passes while the flow is a webhook flow: it is no slot of this flow.
                flows.replace(with: [try Self.flow(trigger: "{ http: /hooks/daily }")])
                clock.set(Self.date("2026-06-01T06:00:00Z"))
                try await Self.settle(clock)
                flows.replace(with: [cron])
                clock.set(Self.date("2026-06-01T07:00:00Z"))
                try await Self.settle(clock)
            }
            #expect(try await Self.slots(store) == [])
            await store.close()
        }
    }

    @Test("a schedule's slot is claimed either way, and runs only when the flow's 'if:' holds", arguments: [
        ("event.timezone == 'Europe/Moscow'", 1),
        ("event.timezone == 'UTC'", 0),
    ])
    func conditionDecidesTheRun(condition: String, runs: Int) async throws {
        try await TestDatabases.withURL(.sqlite) { url in
            let store = try Store.open(url)
            try await store.migrate()
            let clock = ManualClock(Self.date("2026-06-01T05:00:00Z"))
            let trigger = "{ cron: \"0 9 * * *\", timezone: Europe/Moscow }"
            let flows = FlowRegistry([try Self.flow(trigger: trigger, condition: condition)])
            try await Self.withScheduler(store: store, flows: flows, clock: clock) {
                try await Self.advance(clock, to: Self.date("2026-06-01T07:00:00Z"))
            }
            #expect(try await Self.slots(store) == ["2026-06-01T06:00:00Z"])
            #expect(try await store.database.query("SELECT COUNT(*) AS n FROM hub_runs").first?["n"]?.intValue == runs)
            await store.close()
        }
    }

    @Test("a slot whose 'if:' cannot be evaluated is neither run nor claimed: a fixed flow may still run it within grace")
    func conditionThatCannotBeEvaluatedLeavesTheSlot() async throws {
        try await TestDatabases.withURL(.sqlite) { url in
            let store = try Store.open(url)
            try await store.migrate()
            let clock = ManualClock(Self.date("2026-06-01T05:00:00Z"))
            let trigger = "{ cron: \"0 9 * * *\", timezone: Europe/Moscow }"
            // The slot's own text is no time zone.
            let flows = FlowRegistry([try Self.flow(trigger: trigger, condition: "(event.slot | date: 'HH', event.slot) == '09'")])
            try await Self.withScheduler(store: store, flows: flows, clock: clock) {
                try await Self.advance(clock, to: Self.date("2026-06-01T07:00:00Z"))
            }
            #expect(try await Self.slots(store) == [])
            #expect(try await store.database.query("SELECT COUNT(*) AS n FROM hub_runs").first?["n"]?.intValue == 0)
            await store.close()
        }
    }

    @Test("after a restart the newest slot the 'if:' takes runs, not the newest slot")
    func conditionChoosesAmongTheSlotsWithinGrace() async throws {
        try await TestDatabases.withURL(.sqlite) { url in
            let store = try Store.open(url)
            try await store.migrate()
            let clock = ManualClock(Self.date("2026-06-01T16:59:00Z"))
            let trigger = "{ cron: \"*/30 * * * *\", timezone: UTC, missed: latest, grace: 1h }"
            // Only the full hours.
            let flows = FlowRegistry([try Self.flow(trigger: trigger, condition: "event.slot contains ':00:00'")])
            try await Self.withScheduler(store: store, flows: flows, clock: clock) {
                try await Self.advance(clock, to: Self.date("2026-06-01T17:05:00Z"))
            }
            // Down from 17:05 to 18:40: 17:30 and 18:30 are turned down, 18:00 is within grace.
            clock.set(Self.date("2026-06-01T18:40:00Z"))
            try await Self.withScheduler(store: store, flows: flows, clock: clock) { try await Self.settle(clock) }
            // 18:30 is claimed without a run, so no later look weighs it again; 17:30 was past its grace.
            #expect(try await Self.slots(store) == ["2026-06-01T17:00:00Z", "2026-06-01T18:00:00Z", "2026-06-01T18:30:00Z"])
            #expect(try await store.database.query("SELECT COUNT(*) AS n FROM hub_runs").first?["n"]?.intValue == 2)
            await store.close()
        }
    }

    @Test("with a day's grace, 20 hours down: latest runs the newest slot, all the newest 1,000")
    func longGraceTakesTheNewestSlots() async throws {
        for policy in ["latest", "all"] {
            try await TestDatabases.withURL(.sqlite) { url in
                let store = try Store.open(url)
                try await store.migrate()
                let clock = ManualClock(Self.date("2026-06-01T05:00:00Z"))
                let flows = FlowRegistry([try Self.flow("* * * * *", zone: "UTC", missed: policy, grace: "24h")])
                try await Self.withScheduler(store: store, flows: flows, clock: clock) {
                    try await Self.advance(clock, to: Self.date("2026-06-01T05:01:00Z"), step: 60)
                }
                clock.set(Self.date("2026-06-02T01:00:30Z"))
                try await Self.withScheduler(store: store, flows: flows, clock: clock) {
                    try await Self.settle(clock)
                }
                let slots = try await Self.slots(store).dropFirst()
                if policy == "latest" {
                    #expect(Array(slots) == ["2026-06-02T01:00:00Z"])
                } else {
                    #expect(slots.count == 1000)
                    #expect(slots.first == "2026-06-01T08:21:00Z")
                    #expect(slots.last == "2026-06-02T01:00:00Z")
                }
                await store.close()
            }
        }
    }

    @Test("a catch-up that failed (the database away) is tried again, and the missed slot runs")
    func failedCatchUpIsRetried() async throws {
        try await TestDatabases.withURL(.sqlite) { url in
            let store = try Store.open(url)
            try await store.migrate()
            let clock = ManualClock(Self.date("2026-06-01T05:00:00Z"))
            let flows = FlowRegistry([try Self.flow("0 9 * * *", zone: "Europe/Moscow")])
            try await Self.withScheduler(store: store, flows: flows, clock: clock) {
                try await Self.advance(clock, to: Self.date("2026-06-01T07:00:00Z"))
            }
            // Down across the next slot; at the restart the slots' table cannot be read.
            clock.set(Self.date("2026-06-02T06:10:00Z"))
            try await store.database.execute("ALTER TABLE hub_schedule_slots RENAME TO hub_schedule_slots_away")
            try await Self.withScheduler(store: store, flows: flows, clock: clock) {
                try await Self.settle(clock)
                try await store.database.execute("ALTER TABLE hub_schedule_slots_away RENAME TO hub_schedule_slots")
                // The scheduler retries 5 s after a failure.
                clock.set(Self.date("2026-06-02T06:10:10Z"))
                try await Self.settle(clock)
            }
            #expect(try await Self.slots(store) == ["2026-06-01T06:00:00Z", "2026-06-02T06:00:00Z"])
            await store.close()
        }
    }
}
