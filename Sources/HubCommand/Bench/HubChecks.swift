import Flows
import Foundation
import Hub

/// The measures that time one thing at a time: durable flow runs, `hub check`, start-up,
/// idle memory, and the admin pages.
enum HubChecks {
    /// Durable runs of the 5-step pure flow: `count` events posted to its http trigger, then the
    /// time until the last run completed. Runs per second over that time.
    static func flowRuns(count: Int, connections: Int) async throws -> (perSecond: Double, completed: Int) {
        let folder = try BenchHub(["engine.yaml": BenchHub.engineFlow])
        defer { folder.remove() }
        let (process, port) = try folder.serve(database: folder.sqliteURL)
        defer { process.stop() }
        let requests = (0..<count).map { i in
            RequestFeed.request(method: "POST", path: "/bench/engine", headers: [("Content-Type", "application/json"), ("Idempotency-Key", "engine-\(i)")],
                                body: Array("{\"n\":\(i),\"name\":\"анна \(i)\"}".utf8))
        }
        let store = try Store.open(folder.sqliteURL, poolSize: 1)
        let start = LoadGenerator.Clock.nanos()
        let sent = LoadGenerator(port: port, connections: connections, threads: 1).run(feed: RequestFeed(requests: requests), warmUp: 0, duration: 60)
        var completed = 0
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            completed = try await store.database.query("SELECT COUNT(*) AS n FROM hub_runs WHERE status = 'completed'").first?["n"]?.intValue ?? 0
            if completed >= count { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        let seconds = Double(LoadGenerator.Clock.nanos() - start) / 1e9
        await store.close()
        guard sent.non2xx == 0 else { throw BenchError("\(sent.non2xx) flow triggers were refused: \(process.stderr)") }
        return (Double(completed) / seconds, completed)
    }

    /// `hub check` on `count` generated flow files, as a child process; the seconds it took.
    static func check(count: Int) throws -> Double {
        let folder = try BenchHub([:])
        defer { folder.remove() }
        for i in 0..<count {
            try generatedFlow(i).write(to: folder.flows.appendingPathComponent(String(format: "flow-%04d.yaml", i)), atomically: false, encoding: .utf8)
        }
        let start = LoadGenerator.Clock.nanos()
        let process = try BenchProcess(["check", folder.flows.path], environment: folder.environment(database: folder.sqliteURL), directory: folder.root)
        let status = process.wait(timeout: 60)
        let seconds = Double(LoadGenerator.Clock.nanos() - start) / 1e9
        guard status == 0 else { throw BenchError("hub check exited with \(status): \(process.stdout.suffix(600))") }
        return seconds
    }

    /// A valid flow of a few steps; the kind varies with `i` (webhook, http trigger, cron).
    static func generatedFlow(_ i: Int) -> String {
        let trigger: String
        switch i % 3 {
        case 0: trigger = "prodamus.paid"
        case 1: trigger = "{ http: /hooks/generated-\(i) }"
        default: trigger = "{ cron: \"\(i % 60) \(i % 24) * * *\", timezone: Europe/Moscow }"
        }
        return """
            # generated flow \(i)
            name: generated-\(i)
            on: \(trigger)
            steps:
              - id: first
                do: core.set
                with:
                  values: { n: \(i), label: "flow \(i)", when: "{{ now | date: 'dd.MM HH:mm' }}" }
              - id: second
                if: "{{ first.n > 10 and first.label != null }}"
                do: core.set
                with: { values: { text: "{{ first.label | upper }} {{ first.n }}" } }
              - do: core.log
                with: { level: info, message: "{{ second.text | default: 'none' }}" }

            """
    }

    /// `hub serve` start-up: from spawning the binary until its port accepts a connection
    /// (migrated SQLite database, the intake flow). Also the resident memory once idle, and as a
    /// yardstick the bare route's (`hub bench --serve-bare`: the same binary and shared
    /// libraries; why not, if it did not start).
    static func startUp(times: Int) throws -> (millis: [Double], idleResident: Int, idleAnonymous: Int,
                                               bareIdleResident: Result<Int, any Error>) {
        let folder = try BenchHub(["intake.yaml": BenchHub.intakeFlow])
        defer { folder.remove() }
        var millis: [Double] = []
        var idle = 0, anonymous = 0
        var bareIdle: Result<Int, any Error> = .failure(BenchError("not measured"))
        for attempt in 0...times {
            let port = freeLoopbackPort()
            let process = try BenchProcess(["serve", "--log-level", "error"],
                                           environment: folder.environment(database: folder.sqliteURL, extra: ["HUB_LISTEN": "127.0.0.1:\(port)"]),
                                           directory: folder.root)
            let deadline = Date().addingTimeInterval(20)
            while !acceptsConnections(port: port) {
                guard process.isRunning, Date() < deadline else {
                    process.stop()
                    throw BenchError("hub serve did not listen: \(process.stderr)")
                }
                usleep(500)
            }
            let elapsed = Double(LoadGenerator.Clock.nanos() - process.startedAt) / 1e6
            // The first start creates and migrates the database: not what a restart costs.
            if attempt > 0 { millis.append(elapsed) }
            if attempt == times {
                // The bare route settles at the same time (one wait instead of two).
                let bare = Result { try BenchProcess.bareRoute().0 }
                Thread.sleep(forTimeInterval: 2)
                idle = process.residentBytes ?? 0
                anonymous = process.statusField("RssAnon") ?? 0
                bareIdle = bare.map { $0.residentBytes ?? 0 }
                try? bare.get().stop()
            }
            process.stop()
        }
        return (millis, idle, anonymous, bareIdle)
    }

    /// Admin pages on SQLite with `members` members and `runs` finished runs (over eleven flows),
    /// through the real routes of a `hub serve` with a signed-in admin: the median of `repeats`
    /// requests per page, in ms.
    static func adminPages(members: Int, runs: Int, repeats: Int) async throws -> [(String, Double)] {
        // Generated flows with http triggers only (every third): no schedule fires during the measure.
        let generated = Array(stride(from: 1, to: 31, by: 3))
        var files = ["intake.yaml": BenchHub.intakeFlow]
        for i in generated { files["generated-\(i).yaml"] = generatedFlow(i) }
        let folder = try BenchHub(files)
        defer { folder.remove() }
        try await MemberSeeder.seed(folder.sqliteURL, count: members, paidEvery: 3)
        try await RunSeeder.seed(folder.sqliteURL, count: runs, flows: ["bench-intake"] + generated.map { "generated-\($0)" })
        let password = "bench-admin-password"
        let (process, port) = try folder.serve(database: folder.sqliteURL, extra: ["HUB_ADMIN_PASSWORD": password])
        defer { process.stop() }
        let login = try SimpleHTTP.send(port: port, RequestFeed.request(
            method: "POST", path: "/admin/login", headers: [("Content-Type", "application/x-www-form-urlencoded")],
            body: Array("login=admin&password=\(password)".utf8)))
        guard login.status == 303, let cookie = login.header("set-cookie")?.split(separator: ";").first.map(String.init) else {
            throw BenchError("admin sign-in failed with \(login.status)")
        }
        let pages = [
            ("members, first page", "/admin/members"),
            ("members, search", "/admin/members?q=\(percentEncoded("иван"))"),
            ("members, filter + sort, page 20", "/admin/members?status=paid&sort=name_asc&page=20"),
            ("runs, first page", "/admin/runs"),
            ("runs, failed ones", "/admin/runs?status=failed"),
            ("runs of one flow", "/admin/runs?flow=generated-4"),
            ("flows, each with its last run", "/admin/flows"),
            ("overview", "/admin"),
        ]
        var out: [(String, Double)] = []
        for (name, path) in pages {
            var times: [Double] = []
            for _ in 0..<repeats {
                let start = LoadGenerator.Clock.nanos()
                let page: SimpleHTTP.Response
                do {
                    page = try SimpleHTTP.send(port: port, RequestFeed.request(method: "GET", path: path, headers: [("Cookie", cookie)]))
                } catch {
                    throw BenchError("GET \(path) (request \(times.count + 1)): \(error); hub: \(process.stderr.suffix(300))")
                }
                times.append(Double(LoadGenerator.Clock.nanos() - start) / 1e6)
                guard page.status == 200 else { throw BenchError("\(path) answered \(page.status)") }
            }
            out.append((name, times.sorted()[times.count / 2]))
        }
        return out
    }

    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
}

/// One request on a fresh blocking connection, for the few calls that are timed one by one.
enum SimpleHTTP {
    struct Response {
        var status: Int
        var head: String
        func header(_ name: String) -> String? {
            for line in head.split(separator: "\r\n").dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                if line[..<colon].lowercased() == name { return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
            }
            return nil
        }
    }

    static func send(port: Int, _ request: [UInt8]) throws -> Response {
        guard let fd = connectLoopback(port: port) else { throw BenchError("cannot connect to port \(port)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        var buffer: [UInt8] = []
        var scratch = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            var copy = buffer
            if let headEnd = copy.firstRange(of: [13, 10, 13, 10]), let status = HTTPResponseParser.complete(&copy) {
                return Response(status: status, head: String(decoding: buffer[..<headEnd.lowerBound], as: UTF8.self))
            }
            let n = scratch.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw BenchError(n == 0 ? "connection closed before a whole response" : "read failed: errno \(errno)") }
            buffer += scratch[0..<n]
        }
    }
}
