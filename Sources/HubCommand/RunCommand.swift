import ArgumentParser
import Flows
import Foundation
import Hub

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Queue a run of a flow now (e.g. a scheduled post); a running hub executes it.")

    @Argument(help: "The flow's name.") var flow: String
    @Option(help: "The event as JSON (a scheduled flow's default: what its schedule would give).") var event: String?

    func run() async throws {
        let settings = try HubSettings()
        let catalog = try settings.checkedCatalog(registry: BuiltinConnectors.registry)
        let set = FlowSet.load(paths: [settings.flowsPath], catalog: catalog, environment: settings.environment)
        guard let target = set.flow(named: flow) else {
            throw ValidationError("no flow named '\(flow)' in \(settings.flowsPath); flows: " + set.flows.map(\.name).joined(separator: ", "))
        }
        let payload: Value
        if let event {
            payload = try Value(json: event)
        } else if case .cron = target.trigger {
            payload = ["slot": .string(Date().formatted(.iso8601)), "timezone": .string(target.timeZone.identifier), "manual": true]
        } else {
            // Only a schedule's event can be made up; a payment's or a message's would fail every step.
            throw ValidationError("'\(target.name)' runs on \(target.trigger.key), not on a schedule: give its event with --event '{…}'")
        }
        // The flow's own `if:` decides, as it does for every event that arrives.
        if !target.accepts(payload) {
            throw ValidationError("the flow's 'if:' turns this event down; nothing was queued")
        }
        let store = try Store.open(settings.databaseURL, poolSize: 1, mustExist: true)
        try await store.migrate()
        // The running hub may have other versions of these files: it takes this one from the archive.
        try await FlowArchive(store: store, catalog: catalog, environment: settings.environment, running: []).record(set)
        let ids = try await store.storeEvent(source: "manual:\(target.name)", dedupKey: UUID().uuidString, payload: payload,
                                             runs: [NewRun(flow: target.name, flowVersion: target.version)])
        await store.close()
        print("queued run \(ids?.first ?? "?") of '\(target.name)'; a running hub executes it (see: hub runs show ID)")
    }
}
