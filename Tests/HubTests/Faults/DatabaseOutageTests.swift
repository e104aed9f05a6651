import Emulators
import Flows
import Foundation
@testable import Hub
import Testing

/// The hub's own PostgreSQL server stops under it and comes back: meanwhile webhooks are
/// answered 503 (stored nothing, acknowledged nothing); afterwards the same hub process, never
/// restarted, takes the retried and the new webhooks, and each payment is processed once.
@Suite(.serialized, .timeLimit(.minutes(4))) struct DatabaseOutageTests {
    static let port = 54345

    @Test("Postgres stopped and restarted: intake answers 503, then recovers without a restart, nothing lost or doubled")
    func postgresStopsAndRestarts() async throws {
        guard DedicatedPostgres.available else {
            print("DatabaseOutageTests: no PostgreSQL server binaries on this machine; skipped")
            return
        }
        let postgres = try DedicatedPostgres(port: Self.port)
        defer { postgres.remove() }
        let url = try postgres.start()

        let funnel = PaidFunnel(count: 60)
        let telegram = PaidFunnel.telegram()
        let server = try await EmulatorServer.start(telegram.router(), name: "telegram")
        let folder = try PaidFunnel.paymentFlowFolder()
        defer { folder.remove() }
        let hub = try HubProcess(environment: funnel.environment(database: url, flows: folder.flows, telegramURL: server.baseURL),
                                 workingDirectory: folder.root)
        let hubURL = "http://127.0.0.1:\(try await hub.waitForPort())"
        try await funnel.seed(databaseURL: url, telegram: telegram)

        // Before: the first third is stored and acknowledged.
        for i in 0..<20 { #expect(await funnel.postWebhook(i, to: hubURL) == 200, "webhook \(i) before the outage") }

        // Their runs finish first: an invite sent just before the stop whose record could not be
        // written would go out again (Telegram has no idempotency key), which is not what this tests.
        try await PaidFunnel.waitForRuns(databaseURL: url, completed: 20)

        // During: the server is down; intake must say "try later", and health must say why.
        try postgres.stop()
        var during: [Int: Int?] = [:]
        for i in 20..<40 { during[i] = await funnel.postWebhook(i, to: hubURL) }
        #expect(during.values.allSatisfy { $0 == 503 }, "answers while the database is down: \(during.sorted { $0.key < $1.key }.map { $0.value.map(String.init) ?? "none" })")
        #expect(await TestHTTP.get(hubURL + "/healthz")?.status == 503)
        try await Task.sleep(for: .seconds(2))  // the workers and the Telegram poller meet the outage too
        #expect(hub.process.isRunning, "the hub died with its database: \(hub.stderr.suffix(2000))")

        // After: the same process, not restarted. Prodamus redelivers the refused ones; new ones arrive.
        _ = try postgres.start()
        var refusedAfter: [Int: Int?] = [:]
        for i in 20..<60 {
            // The first calls may find connections the restart broke; the provider's retry covers those, a bounded few.
            var status: Int?
            for attempt in 1...20 {
                status = await funnel.postWebhook(i, to: hubURL, attempt: attempt + 1)
                if status == 200 { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            if status != 200 { refusedAfter[i] = status }
        }
        #expect(refusedAfter.isEmpty, "not accepted after the restart: \(refusedAfter)")
        #expect(await TestHTTP.get(hubURL + "/healthz")?.status == 200)
        // Redelivered ones that were already stored are acknowledged, not stored again.
        for i in 0..<5 { #expect(await funnel.postWebhook(i, to: hubURL, attempt: 9) == 200) }

        try await PaidFunnel.waitForRuns(databaseURL: url, completed: funnel.count, timeout: .seconds(150))
        try await funnel.expectAllPaidOnce(databaseURL: url, telegram: telegram, label: "postgres outage")
        hub.kill(SIGTERM)
        #expect(try await hub.waitForExit() == 0)
        await telegram.shutdown()
        await server.stop()
    }

    @Test("Postgres stops answering (a silent network): intake answers 503 within HUB_INTAKE_TIMEOUT, then recovers, nothing lost or doubled")
    func postgresFallsSilent() async throws {
        guard DedicatedPostgres.available else {
            print("DatabaseOutageTests: no PostgreSQL server binaries on this machine; skipped")
            return
        }
        let postgres = try DedicatedPostgres(port: Self.port + 1)
        defer { postgres.remove() }
        let url = try postgres.start()
        let proxy = try SilentProxy(target: postgres.port)
        defer { proxy.stop() }
        let viaProxy = url.replacingOccurrences(of: ":\(postgres.port)/", with: ":\(proxy.port)/")

        let funnel = PaidFunnel(count: 30)
        let telegram = PaidFunnel.telegram()
        let server = try await EmulatorServer.start(telegram.router(), name: "telegram")
        let folder = try PaidFunnel.paymentFlowFolder()
        defer { folder.remove() }
        var environment = funnel.environment(database: viaProxy, flows: folder.flows, telegramURL: server.baseURL)
        environment["HUB_INTAKE_TIMEOUT"] = "2s"
        let hub = try HubProcess(environment: environment, workingDirectory: folder.root)
        let hubURL = "http://127.0.0.1:\(try await hub.waitForPort())"
        try await funnel.seed(databaseURL: url, telegram: telegram)
        for i in 0..<10 { #expect(await funnel.postWebhook(i, to: hubURL) == 200, "webhook \(i) before the silence") }
        try await PaidFunnel.waitForRuns(databaseURL: url, completed: 10)

        // Silent: nothing is refused, nothing answers. The client waits 10 s; the hub must say "later" before.
        proxy.silence()
        let during = await withTaskGroup(of: (Int, Int?).self) { group in
            for i in 10..<20 { group.addTask { (i, await funnel.postWebhook(i, to: hubURL)) } }
            return await group.reduce(into: [Int: Int?]()) { $0[$1.0] = $1.1 }
        }
        #expect(during.values.allSatisfy { $0 == 503 }, "answers while the database is silent: \(during.sorted { $0.key < $1.key }.map { $0.value.map(String.init) ?? "none" })")
        #expect(await TestHTTP.get(hubURL + "/healthz")?.status == 503)

        // The network comes back; the connections that lived through it are gone.
        proxy.restore()
        var refusedAfter: [Int: Int?] = [:]
        for i in 10..<30 {
            var status: Int?
            for attempt in 1...40 {
                status = await funnel.postWebhook(i, to: hubURL, attempt: attempt + 1)
                if status == 200 { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            if status != 200 { refusedAfter[i] = status }
        }
        #expect(refusedAfter.isEmpty, "not accepted after the network came back: \(refusedAfter)")
        try await PaidFunnel.waitForRuns(databaseURL: url, completed: funnel.count, timeout: .seconds(150))
        try await funnel.expectAllPaidOnce(databaseURL: url, telegram: telegram, label: "silent postgres")
        hub.kill(SIGTERM)
        #expect(try await hub.waitForExit() == 0)
        await telegram.shutdown()
        await server.stop()
    }
}

/// A PostgreSQL server of the test's own, on its own port and folder, started and stopped with
/// `scripts/postgres.sh` (stopped for a while with its `pg_ctl`, keeping the data).
struct DedicatedPostgres {
    let port: Int
    let directory: String

    static var binaries: String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return versions.compactMap(Int.init).max().map { "\(root)/\($0)/bin" }
    }

    static var available: Bool { binaries.map { FileManager.default.isExecutableFile(atPath: $0 + "/pg_ctl") } ?? false }

    init(port: Int) throws {
        self.port = port
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hub-pg-\(port)-\(UUID().uuidString.prefix(8))").path
    }

    /// Starts the server (creating the cluster the first time); returns its URL.
    func start() throws -> String {
        let output = try run(["bash", Repository.path("scripts/postgres.sh"), "start"])
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("HUB_TEST_POSTGRES_URL=") }) else {
            throw HubProcessError(message: "postgres.sh printed no URL: \(output)")
        }
        return String(line.dropFirst("HUB_TEST_POSTGRES_URL=".count))
    }

    /// Stops the server fast (open connections are cut), keeping its data for `start()`.
    func stop() throws {
        guard let bin = Self.binaries else { return }
        let command = [bin + "/pg_ctl", "-D", directory + "/data", "-m", "fast", "-w", "stop"]
        _ = try run(getuid() == 0 ? ["runuser", "-u", "postgres", "--"] + command : command)
    }

    /// Stops the server and deletes its folder.
    func remove() {
        _ = try? run(["bash", Repository.path("scripts/postgres.sh"), "stop"])
    }

    /// Runs a command with this server's port and folder in the environment; returns its output.
    /// posix_spawn and waitpid, not `Process`: its exit is not always noticed while a test awaits.
    private func run(_ arguments: [String]) throws -> String {
        // A file, not a pipe: the server that pg_ctl starts would inherit the pipe and keep it open.
        let outputPath = directory + ".out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let quoted = arguments.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let script = "HUB_PG_PORT=\(port) HUB_PG_DIR='\(directory)' \(quoted) >'\(outputPath)' 2>/dev/null"
        let argv: [UnsafeMutablePointer<CChar>?] = ["/bin/bash", "-c", script].map { (text: String) in strdup(text) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/bin/bash", nil, nil, argv, environ) == 0 else {
            throw HubProcessError(message: "cannot start \(arguments.first ?? "")")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // Exited normally with 0: the low 7 bits (signal) and the exit code are all zero.
        guard status == 0 else {
            throw HubProcessError(message: "\(arguments.joined(separator: " ")) failed with status \(status)")
        }
        return output
    }
}
