import ArgumentParser
import Flows
import Foundation
import Hub

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List flow runs, show one with its steps, re-play a failed one, or prune old ones.",
        subcommands: [List.self, Show.self, Retry.self, Prune.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Newest runs first.")
        @Option(help: "Only this flow.") var flow: String?
        @Option(help: "Only this status: queued, running, completed, failed.") var status: String?
        @Option(help: "How many.") var limit = 30

        /// A misspelt status would list nothing and look like "no runs".
        func validate() throws {
            if let status, RunStatus(rawValue: status) == nil {
                throw ValidationError("--status must be one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", ")), not '\(status)'")
            }
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 10000") }
        }

        func run() async throws {
            let settings = try HubSettings()
            let store = try Store.open(settings.databaseURL, poolSize: 1, mustExist: true)
            defer { Task { await store.close() } }
            try await store.migrate()
            let runs = try await store.runs(flow: flow, status: status, limit: limit)
            if runs.isEmpty {
                if let flow { try RunsCommand.checkFlowName(flow, settings: settings) }
                print("no runs")
                return
            }
            for run in runs {
                let created = Date(timeIntervalSince1970: Double(run.createdAt) / 1000).formatted(.iso8601)
                var line = "\(run.id)  \(created)  \(run.status.padding(toLength: 9, withPad: " ", startingAt: 0))  \(run.flow)"
                if let step = run.failedStep { line += "  step \(step): \(run.error ?? "")" }
                print(line)
            }
        }
    }

    /// A misspelt flow would list nothing too: a name that is no flow of the hub's, with no runs
    /// stored, is an error.
    private static func checkFlowName(_ flow: String, settings: HubSettings) throws {
        let catalog = settings.catalog(registry: BuiltinConnectors.registry).catalog
        let names = FlowSet.load(paths: [settings.flowsPath], catalog: catalog, environment: settings.environment).flows.map(\.name)
        guard !names.contains(flow) else { return }
        throw ValidationError("no flow named '\(flow)' in \(settings.flowsPath); " + Suggestions.note(for: flow, in: names.sorted(), kind: "flow"))
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One run: its event and each step's result.")
        @Argument var id: String

        func run() async throws {
            let store = try Store.open(try HubSettings().databaseURL, poolSize: 1, mustExist: true)
            guard let found = try await store.run(id: id) else {
                await store.close()
                throw ValidationError("no run \(id)")
            }
            await store.close()
            print("run \(found.run.id)\nflow: \(found.run.flow)\nstatus: \(found.run.status)")
            if let error = found.run.error { print("error: \(error)") }
            print("event: \(found.event.json)")
            for step in found.steps {
                print("  \(step.index + 1). \(step.stepID): \(step.status), \(step.attempts) failed attempt(s)"
                      + (step.result.map { " → \($0)" } ?? "") + (step.error.map { " (last error: \($0))" } ?? ""))
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Re-play a failed (dead-lettered) run from its failed step.")
        @Argument var id: String

        func run() async throws {
            let store = try Store.open(try HubSettings().databaseURL, poolSize: 1, mustExist: true)
            let ok = try await store.retry(runID: id)
            await store.close()
            guard ok else { throw ValidationError("run \(id) is not a failed run") }
            print("run \(id) is queued again; a running hub picks it up")
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete finished runs older than --keep (default HUB_KEEP_RUNS) with their steps; their events keep only their dedup keys.")
        @Option(help: "How long finished runs stay, e.g. 90d (at least 7d).") var keep: String?

        func run() async throws {
            let settings = try HubSettings()
            guard let keep = try self.keep.map({ try HubSettings.keepRuns($0, setting: "--keep") }) ?? settings.keepRuns else {
                throw ValidationError("say how long finished runs stay: --keep 90d, or HUB_KEEP_RUNS")
            }
            let store = try Store.open(settings.databaseURL, poolSize: 1, mustExist: true)
            do {
                try await store.migrate()
                let pruned = try await store.pruneRuns(olderThan: keep)
                await store.close()
                print("deleted \(pruned.runs) finished run(s), the payloads of \(pruned.events) event(s), \(pruned.records) connector record(s) of deleted runs and \(pruned.slots) old schedule slot(s)")
            } catch {
                await store.close()
                throw error
            }
        }
    }
}
