import Foundation
@testable import Hub
import Testing

/// Commands that would quietly do the wrong thing refuse instead, with a non-zero exit and a
/// message saying why, and change nothing.
@Suite(.serialized, .timeLimit(.minutes(2))) struct CommandLineTests {
    static let flows = [
        "hook.yaml": "name: hook\non: { http: /hook }\nsteps:\n  - do: core.log\n    with: { message: hi }\n",
        "left.yaml": """
            name: left
            on: { http: /left }
            if: "{{ event.body.status == 'left' }}"
            steps:
              - do: core.log
                with: { message: "left" }
            """,
    ]

    /// Runs `hub ARGUMENTS` in `folder` and returns its exit status and what it printed.
    static func hub(_ arguments: [String], in folder: FlowFolder, environment: [String: String] = [:], input: String? = nil) async throws
        -> (status: Int32, output: String)
    {
        var env = ["HUB_DATABASE_URL": "sqlite:hub.db", "HUB_FLOWS": folder.flows]
        env.merge(environment) { _, new in new }
        let process = try HubProcess(environment: env, workingDirectory: folder.root, arguments: arguments)
        let status = try await process.waitForExit()
        return (status, process.stdout + process.stderr)
    }

    @Test func readingCommandsDoNotCreateADatabase() async throws {
        let folder = try FlowFolder(Self.flows)
        defer { folder.remove() }
        for command in [["runs"], ["runs", "show", "x"], ["runs", "retry", "x"], ["run", "hook", "--event", "{}"]] {
            let (status, output) = try await Self.hub(command, in: folder, environment: ["HUB_DATABASE_URL": "sqlite:absent.db"])
            #expect(status != 0, "\(command)")
            #expect(output.contains("there is no database at absent.db (HUB_DATABASE_URL)"), "\(command): \(output)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.root.appendingPathComponent("absent.db").path))
    }

    @Test func runQueuesOnlyWhatTheFlowWouldTake() async throws {
        let folder = try FlowFolder(Self.flows)
        defer { folder.remove() }
        #expect(try await Self.hub(["migrate"], in: folder).status == 0)
        let madeUp = try await Self.hub(["run", "hook"], in: folder)
        #expect(madeUp.status != 0)
        #expect(madeUp.output.contains("'hook' runs on http:/hook, not on a schedule: give its event with --event"))
        let turnedDown = try await Self.hub(["run", "left", "--event", #"{"body":{"status":"member"}}"#], in: folder)
        #expect(turnedDown.status != 0)
        #expect(turnedDown.output.contains("the flow's 'if:' turns this event down; nothing was queued"))
        let store = try Store.open("sqlite:" + folder.root.appendingPathComponent("hub.db").path, poolSize: 1)
        #expect(try await store.runCounts().isEmpty)
        let taken = try await Self.hub(["run", "left", "--event", #"{"body":{"status":"left"}}"#], in: folder)
        #expect(taken.status == 0, "\(taken.output)")
        #expect(try await store.runCounts() == ["queued": 1])
        await store.close()
    }

    @Test func aMisspeltFlowIsNotNoRuns() async throws {
        let folder = try FlowFolder(Self.flows)
        defer { folder.remove() }
        #expect(try await Self.hub(["migrate"], in: folder).status == 0)
        let misspelt = try await Self.hub(["runs", "--flow", "hok"], in: folder)
        #expect(misspelt.status != 0)
        #expect(misspelt.output.contains("no flow named 'hok'") && misspelt.output.contains("did you mean 'hook'?"))
        let known = try await Self.hub(["runs", "--flow", "hook"], in: folder)
        #expect(known.status == 0 && known.output.contains("no runs"))
    }

    /// A secret this shell does not have is not needed to write the schema or queue a run.
    @Test func anUnsetSecretInTheConfigDoesNotStopSchema() async throws {
        let folder = try FlowFolder(Self.flows)
        defer { folder.remove() }
        try "connectors:\n  payments:\n    type: prodamus\n    secret_key: ${UNSET_SECRET_FOR_TEST}\n"
            .write(to: folder.root.appendingPathComponent("hub.yaml"), atomically: true, encoding: .utf8)
        let schema = try await Self.hub(["schema"], in: folder)
        #expect(schema.status == 0, "\(schema.output)")
        #expect(schema.output.contains("payments.payment_link"))
    }

    @Test func aMissingConfigStopsSchemaAndRun() async throws {
        let folder = try FlowFolder(Self.flows)
        defer { folder.remove() }
        for command in [["schema"], ["run", "hook", "--event", "{}"]] {
            let (status, output) = try await Self.hub(command, in: folder, environment: ["HUB_CONFIG": "missing.yaml"])
            #expect(status != 0, "\(command)")
            #expect(output.contains("missing.yaml:1:1: error: no such file (HUB_CONFIG names it) [missing-file]"), "\(command): \(output)")
        }
    }
}
