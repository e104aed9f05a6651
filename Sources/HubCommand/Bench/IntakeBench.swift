import Foundation
import Synchronization

/// Signed Prodamus webhooks against the real hub (SQLite, Postgres) and, in the same run and
/// served the same way, a bare Hummingbird route answering the same requests.
struct IntakeBench {
    var load: LoadGenerator.Parameters

    struct HubFigures {
        var outcome: LoadGenerator.Outcome
        /// The server's CPU time per answered request, in microseconds.
        var cpuPerRequest: Double
        var peakResident: Int
        var idleResident: Int
    }

    /// The bare route: `hub bench --serve-bare` in a child process, fed the same requests.
    func bare(_ requests: [[UInt8]]) throws -> (LoadGenerator.Outcome, cpuPerRequest: Double) {
        let (process, port) = try BenchProcess.bareRoute()
        defer { process.stop() }
        let cpu = process.cpuSeconds
        let outcome = load.generator(port: port).run(feed: RequestFeed(requests: requests, repeating: true), warmUp: load.warmUp, duration: load.duration)
        return (outcome, Self.perRequest(process.cpuSeconds - cpu, outcome))
    }

    /// CPU seconds over the whole run (warm-up too) per answered request, in microseconds.
    static func perRequest(_ seconds: Double, _ outcome: LoadGenerator.Outcome) -> Double {
        outcome.answeredAll > 0 ? seconds / Double(outcome.answeredAll) * 1e6 : 0
    }

    /// The hub with one flow on `prodamus.paid`: each webhook stores its events and a run before
    /// the 200. Flat out (closed loop), or at a steady `rate` per second (open loop).
    func hub(database: String?, _ requests: [[UInt8]], rate: Double? = nil) throws -> HubFigures {
        let folder = try BenchHub(["intake.yaml": BenchHub.intakeFlow])
        defer { folder.remove() }
        let (process, port) = try folder.serve(database: database ?? folder.sqliteURL)
        defer { process.stop() }
        Thread.sleep(forTimeInterval: 0.5)
        let idle = process.residentBytes ?? 0
        let sampler = ResidentSampler(process)
        let cpu = process.cpuSeconds
        let outcome = load.generator(port: port).run(feed: RequestFeed(requests: requests), warmUp: load.warmUp, duration: load.duration, rate: rate)
        let peak = sampler.stop()
        let used = process.cpuSeconds - cpu
        if outcome.completed == 0 { throw BenchError("the hub answered no webhook: \(process.stderr)") }
        return HubFigures(outcome: outcome, cpuPerRequest: Self.perRequest(used, outcome), peakResident: max(peak, idle), idleResident: idle)
    }
}

extension LoadGenerator {
    /// How hard and how long to push.
    struct Parameters: Sendable {
        var connections: Int
        var threads: Int
        var warmUp: Double
        var duration: Double

        func generator(port: Int) -> LoadGenerator { LoadGenerator(port: port, connections: connections, threads: threads) }
    }
}

/// Samples a child's resident memory every 100 ms on a thread of its own and keeps the peak.
final class ResidentSampler: Sendable {
    private let peak = Atomic<Int>(0)
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)

    init(_ process: BenchProcess) {
        Thread { [self] in
            while running.load(ordering: .relaxed) {
                if let now = process.residentBytes {
                    var current = peak.load(ordering: .relaxed)
                    while now > current {
                        let (done, seen) = peak.compareExchange(expected: current, desired: now, ordering: .relaxed)
                        if done { break }
                        current = seen
                    }
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
            finished.signal()
        }.start()
    }

    /// Stops sampling; the peak seen.
    func stop() -> Int {
        running.store(false, ordering: .relaxed)
        finished.wait()
        return peak.load(ordering: .relaxed)
    }
}
