import ArgumentParser
import Foundation

/// `hub bench`: the hub's performance claims, measured on this machine and printed as a table
/// beside their targets. Not part of the test run; build with `-c release` first.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure webhook intake, end-to-end delivery (beside the outbound HTTP client alone), flow runs, hub check, start-up, memory and admin pages."
    )

    @Flag(help: "Short runs (about a minute in all) instead of the full ones.")
    var quick = false

    @Option(help: "A PostgreSQL connection string to measure intake on too (default: HUB_TEST_POSTGRES_URL).")
    var postgres: String?

    @Option(help: "Concurrent keep-alive connections of the load generator.")
    var connections = 64

    @Option(help: "Load generator threads.")
    var threads = 2

    @Option(help: "Seconds each intake measurement lasts, after a warm-up (default: 3 with --quick, 10 otherwise).")
    var duration: Double?

    @Option(help: "Webhooks per second offered in the steady intake runs, which measure latency below saturation.")
    var rate = 3_000

    @Option(help: "Run only these measures, comma-separated: intake, e2e, flows, check, startup, admin.")
    var only: String?

    @Flag(help: .hidden)
    var serveBare = false

    /// Loads a hub that is already running (for profiling it), instead of the measures.
    @Option(help: .hidden)
    var loadPort: Int?

    /// With `--load-port`: at `--rate` per second instead of flat out.
    @Flag(help: .hidden)
    var steady = false

    func run() async throws {
        if serveBare { return try await BareServer.run() }
        if let loadPort {
            let load = LoadGenerator.Parameters(connections: connections, threads: threads, warmUp: 1, duration: duration ?? 5)
            let signing = LoadGenerator.Clock.nanos()
            let requests = ProdamusWebhooks.requests(count: Int(25_000 * (load.warmUp + load.duration)), tag: "p\(Int(Date().timeIntervalSince1970))")
            progress(String(format: "signed %d webhooks in %.2f s; load starts", requests.count, Double(LoadGenerator.Clock.nanos() - signing) / 1e9))
            let outcome = load.generator(port: loadPort).run(feed: RequestFeed(requests: requests), warmUp: load.warmUp, duration: load.duration,
                                                             rate: steady ? Double(rate) : nil)
            return print(Self.throughput(outcome))
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var rows: [BenchRow] = []
        var peakResident = 0
        if wanted("intake") {
            let (intakeRows, peak) = intake()
            rows += intakeRows
            peakResident = peak
        }
        if wanted("e2e") { rows += await endToEnd() }
        if wanted("flows") { rows.append(await flowRuns()) }
        if wanted("check") { rows.append(check()) }
        if wanted("startup") { rows += startUp() }
        if peakResident > 0 {
            rows.append(BenchRow(measure: "resident memory, under intake load (peak)", figure: BenchReport.megabytes(peakResident), target: "-", verdict: .info))
        }
        if wanted("admin") { rows += await adminPages() }
        print(BenchReport.table(rows, cores: cores, mode: quick ? "--quick" : "full"))
    }

    private func wanted(_ measure: String) -> Bool {
        only.map { $0.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == measure } } ?? true
    }

    /// The bare route, then the hub on SQLite and on Postgres, fed the same signed webhooks.
    private func intake() -> ([BenchRow], peakResident: Int) {
        let load = LoadGenerator.Parameters(connections: connections, threads: threads, warmUp: quick ? 1 : 2, duration: duration ?? (quick ? 3 : 10))
        let postgresURL = postgres ?? ProcessInfo.processInfo.environment["HUB_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
        progress("signing webhooks")
        let tag = "b\(Int(Date().timeIntervalSince1970))"
        let requests = ProdamusWebhooks.requests(count: Int((quick ? 15_000 : 25_000) * (load.warmUp + load.duration)), tag: tag)
        let intake = IntakeBench(load: load)
        // Latency needs fewer samples than throughput: the quick steady runs are shorter.
        var steadyLoad = load
        if quick { steadyLoad.duration = min(load.duration, 2) }
        let steady = IntakeBench(load: steadyLoad)
        var rows: [BenchRow] = []
        progress("bare Hummingbird route")
        let bare: LoadGenerator.Outcome
        let bareCPU: Double
        do {
            (bare, bareCPU) = try intake.bare(requests)
        } catch {
            return ([.skipped("bare Hummingbird route", target: "yardstick", "failed: \(error)")], 0)
        }
        rows.append(BenchRow(measure: "bare Hummingbird route (same requests)", figure: Self.throughput(bare, cpu: bareCPU), target: "yardstick", verdict: .info))
        // New orders for the steady runs: Postgres keeps the flat-out run's, and a repeat is cheaper.
        let steadyRequests = ProdamusWebhooks.requests(count: Int(Double(rate) * (steadyLoad.warmUp + steadyLoad.duration) * 1.1), tag: tag + "s")
        progress("webhook intake on SQLite")
        var peakResident = 0
        do {
            let sqlite = try intake.hub(database: nil, requests)
            peakResident = sqlite.peakResident
            rows += Self.intakeRows("SQLite", sqlite, bare: bare, target: 8_000)
            progress("webhook intake on SQLite at \(rate)/s")
            rows.append(steadyRow("SQLite", try steady.hub(database: nil, steadyRequests, rate: Double(rate))))
        } catch {
            rows.append(.skipped("webhook intake, SQLite", target: "≥ 8,000/s", "failed: \(error)"))
        }
        guard let postgresURL else {
            rows.append(.skipped("webhook intake, PostgreSQL", target: "≥ 3,000/s, p99 < 15 ms", "no --postgres URL or HUB_TEST_POSTGRES_URL"))
            return (rows, peakResident)
        }
        progress("webhook intake on PostgreSQL")
        do {
            rows += Self.intakeRows("PostgreSQL", try intake.hub(database: postgresURL, requests), bare: bare, target: 3_000)
            progress("webhook intake on PostgreSQL at \(rate)/s")
            rows.append(steadyRow("PostgreSQL", try steady.hub(database: postgresURL, steadyRequests, rate: Double(rate))))
        } catch {
            rows.append(.skipped("webhook intake, PostgreSQL", target: "≥ 3,000/s", "failed: \(error)"))
        }
        return (rows, peakResident)
    }

    /// Latency below saturation: webhooks offered at `rate` per second whatever the answers do.
    /// It passes when every one in the window was answered with 2xx, at the rate, within 15 ms (p99).
    private func steadyRow(_ database: String, _ figures: IntakeBench.HubFigures) -> BenchRow {
        let outcome = figures.outcome
        let keptUp = outcome.perSecond >= Double(rate) * 0.98 && outcome.non2xx == 0 && outcome.socketErrors == 0
        return .check("webhook intake, \(database), steady \(BenchReport.rate(Double(rate)))/s offered (open loop)",
                      Self.throughput(outcome, cpu: figures.cpuPerRequest), target: "p99 < 15 ms", keptUp && outcome.percentile(0.99) < 15)
    }

    private func flowRuns() async -> BenchRow {
        progress("durable flow runs")
        do {
            let runs = try await HubChecks.flowRuns(count: quick ? 2_000 : 10_000, connections: 16)
            return BenchRow(measure: "flow engine: 5 pure steps, durable runs (SQLite)",
                            figure: "\(BenchReport.rate(runs.perSecond)) runs/s (\(runs.completed) runs)", target: "n8n: 220/s", verdict: .info)
        } catch {
            return .skipped("flow engine: 5 pure steps", target: "-", "failed: \(error)")
        }
    }

    private func check() -> BenchRow {
        progress("hub check on 1,000 flows")
        do {
            let seconds = try HubChecks.check(count: 1_000)
            return .check("hub check, 1,000 flow files", String(format: "%.2f s", seconds), target: "< 2 s", seconds < 2)
        } catch {
            return .skipped("hub check, 1,000 flow files", target: "< 2 s", "failed: \(error)")
        }
    }

    private func startUp() -> [BenchRow] {
        progress("start-up and memory")
        do {
            let startUp = try HubChecks.startUp(times: quick ? 3 : 7)
            let median = startUp.millis.sorted()[startUp.millis.count / 2]
            return [
                .check("start-up of hub serve until it listens (median of \(startUp.millis.count))", BenchReport.millis(median),
                       target: "< 300 ms", median < 300),
                .check("resident memory, idle", "\(BenchReport.megabytes(startUp.idleResident)) (anonymous \(BenchReport.megabytes(startUp.idleAnonymous)), "
                           + "the rest file-backed: binary and shared libraries)", target: "< 30 MB", startUp.idleResident < 30 << 20),
                bareIdle(startUp.bareIdleResident),
            ]
        } catch {
            return [.skipped("start-up", target: "< 300 ms", "failed: \(error)")]
        }
    }

    private func bareIdle(_ resident: Result<Int, any Error>) -> BenchRow {
        switch resident {
        case .success(let bytes):
            BenchRow(measure: "resident memory, idle: bare Hummingbird route (same binary and libraries)",
                     figure: BenchReport.megabytes(bytes), target: "yardstick", verdict: .info)
        case .failure(let error):
            .skipped("resident memory, idle: bare route", target: "yardstick", "failed: \(error)")
        }
    }

    private func adminPages() async -> [BenchRow] {
        progress("admin pages at 100,000 members and 300,000 runs")
        do {
            return try await HubChecks.adminPages(members: 100_000, runs: 300_000, repeats: quick ? 5 : 11).map { name, millis in
                .check("admin page, 100,000 members, 300,000 runs: \(name)", BenchReport.millis(millis), target: "< 100 ms", millis < 100)
            }
        } catch {
            return [.skipped("admin pages", target: "< 100 ms", "failed: \(error)")]
        }
    }

    /// A burst of payments (the throughput), then a steady stream under Telegram's 30 messages/s
    /// (the latency of one payment when nothing queues behind Telegram's limit), then the
    /// outbound client by itself (the yardstick: what each of a payment's two calls costs).
    private func endToEnd() async -> [BenchRow] {
        progress("end to end: paid webhook → invite")
        let measure = "end to end: paid webhook → invite in the Telegram emulator"
        let target = "≥ 1,000/s, p99 < 100 ms"
        guard let flow = try? String(contentsOfFile: "flows/payment.yaml", encoding: .utf8) else {
            return [.skipped(measure, target: target, "run from the repository root: flows/payment.yaml not found")]
        }
        var rows: [BenchRow] = []
        let payments = quick ? 200 : 1_000
        do {
            let burst = try await EndToEndBench(payments: payments, connections: 16).run(paymentFlow: flow, extraEnvironment: [:])
            let p99 = LoadGenerator.Outcome.percentile(burst.latencies, 0.99)
            rows.append(.check(measure + ", \(payments) at once", Self.endToEndFigure(burst, payments: payments), target: target,
                               burst.perSecond >= 1_000 && p99 < 100 && burst.delivered == payments))
        } catch {
            rows.append(.skipped(measure, target: target, "failed: \(error)"))
        }
        do {
            let paced = quick ? 100 : 300
            let steady = try await EndToEndBench(payments: paced, connections: 1, rate: 25).run(paymentFlow: flow, extraEnvironment: [:])
            let p99 = LoadGenerator.Outcome.percentile(steady.latencies, 0.99)
            rows.append(.check(measure + ", 25 payments/s", Self.endToEndFigure(steady, payments: paced), target: "p99 < 100 ms",
                               p99 < 100 && steady.delivered == paced))
        } catch {
            rows.append(.skipped(measure + ", 25 payments/s", target: "p99 < 100 ms", "failed: \(error)"))
        }
        do {
            let calls = quick ? 2_000 : 20_000
            let outbound = try await OutboundBench(requests: calls, concurrency: 16).run()
            rows.append(BenchRow(measure: "outbound HTTP alone: the hub's libcurl client POSTs to the bare route, 16 in flight (a payment makes two)",
                                 figure: BenchReport.rateAndLatency(outbound.perSecond, latencies: outbound.latencies)
                                     + String(format: ", %.0f µs client CPU/request (%d/%d answered)", outbound.clientCPU, outbound.answered, calls),
                                 target: "yardstick", verdict: .info))
        } catch {
            rows.append(.skipped("outbound HTTP alone", target: "yardstick", "failed: \(error)"))
        }
        return rows
    }

    private static func endToEndFigure(_ figures: EndToEndBench.Figures, payments: Int) -> String {
        BenchReport.rateAndLatency(figures.perSecond, latencies: figures.latencies) + " (\(figures.delivered)/\(payments) delivered)"
            + (figures.failures.isEmpty ? "" : "; \(figures.failures)")
    }

    private static func intakeRows(_ database: String, _ figures: IntakeBench.HubFigures, bare: LoadGenerator.Outcome, target: Double) -> [BenchRow] {
        let outcome = figures.outcome
        let p99 = outcome.percentile(0.99)
        let ratio = bare.perSecond > 0 ? outcome.perSecond / bare.perSecond : 0
        let clean = outcome.non2xx == 0 && outcome.socketErrors == 0
        return [
            .check("webhook intake, \(database) (signed, stored before 200)", throughput(outcome, cpu: figures.cpuPerRequest),
                   target: "≥ \(BenchReport.rate(target))/s, p99 < 15 ms", outcome.perSecond >= target && p99 < 15 && clean),
            .check("webhook intake, \(database) ÷ bare route", String(format: "%.0f %%", ratio * 100), target: "≥ 40 %", ratio >= 0.4),
        ]
    }

    private static func throughput(_ outcome: LoadGenerator.Outcome, cpu: Double? = nil) -> String {
        var text = BenchReport.rateAndLatency(outcome.perSecond, p50: outcome.percentile(0.5), p99: outcome.percentile(0.99))
        if let cpu { text += String(format: ", %.0f µs CPU/request", cpu) }
        if outcome.non2xx > 0 { text += ", \(outcome.non2xx) non-2xx" }
        if outcome.socketErrors > 0 { text += ", \(outcome.socketErrors) socket errors" }
        return text
    }

    private func progress(_ step: String) {
        FileHandle.standardError.write(Data("bench: \(step)…\n".utf8))
    }
}
