import Flows
@testable import Hub
import Logging
import Testing

/// What intake writes for the events a delivery raises.
@Suite struct IntakeTests {
    @Test("an event no flow takes is acknowledged without a row; the one a flow takes is stored once with its run",
          arguments: TestDatabases.available)
    func eventsWithoutRuns(kind: TestDatabaseKind) async throws {
        try await StoreRunTests.withStore(kind) { store in
            var compiler = FlowCompiler(catalog: Catalog.defaults(BuiltinConnectors.registry), environment: [:])
            let compiled = compiler.compile("""
                name: paid
                on: prodamus.paid
                steps:
                  - do: core.log
                    with: { message: "{{ event.order_id }}" }
                """, file: "paid.yaml")
            let flow = try #require(compiled.flow, "\(compiled.diagnostics)")
            let intake = Intake(store: store, flows: FlowRegistry([flow]), owner: "test:1:intake", logger: Logger(label: "test"))
            // As one Prodamus webhook raises both; only `paid` has a flow here.
            let payload: Value = ["order_id": "7", "payment_status": "success"]
            let delivery = [IncomingEvent(instance: "prodamus", trigger: "paid", payload: payload, dedupKey: "7:success"),
                            IncomingEvent(instance: "prodamus", trigger: "notification", payload: payload, dedupKey: "7:success")]
            #expect(try await intake.emit(delivery) == [.accepted(runs: 1), .accepted(runs: 0)])
            #expect(try await intake.emit(delivery) == [.duplicate, .accepted(runs: 0)])
            let events = try await store.database.query("SELECT source FROM hub_events")
            #expect(events.map { $0["source"] } == ["prodamus.paid"])
            #expect(try await store.runCounts() == ["queued": 1])
        }
    }
}
