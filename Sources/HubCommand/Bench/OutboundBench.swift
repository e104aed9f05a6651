import Flows
import Foundation
import Synchronization

/// The end-to-end yardstick: the hub's own outbound client (`CurlHTTPClient`, libcurl's
/// multi interface) posting Bot-API-sized JSON to the bare route, with nothing else to do. Each
/// payment makes two such calls: twice the CPU per request here is what a payment spends in the
/// client before the hub does anything else.
struct OutboundBench {
    var requests: Int
    var concurrency: Int

    struct Figures {
        var answered: Int
        var seconds: Double
        var latencies: [Double]
        /// CPU of this process (the client) per request, in microseconds.
        var clientCPU: Double
        var perSecond: Double { seconds > 0 ? Double(answered) / seconds : 0 }
    }

    func run() async throws -> Figures {
        let (server, port) = try BenchProcess.bareRoute()
        defer { server.stop() }
        let client = CurlHTTPClient()
        let body = Array(#"{"chat_id":880000042,"text":"Оплата получена. Ваша ссылка в группу: https://t.me/+AbCdEfGhIjKlMnOp","protect_content":true}"#.utf8)
        let request = HTTPClientRequest(method: "POST", url: "http://127.0.0.1:\(port)/bot700000:BENCH-token/sendMessage",
                                        headers: ["Content-Type": "application/json"], body: body, timeout: .seconds(10))
        // Warm-up: connections opened and libcurl's handles pooled before the clock starts.
        _ = try await send(request, client: client, count: concurrency * 10)
        let cpu = BenchProcess.cpuSeconds(of: getpid())
        let start = LoadGenerator.Clock.nanos()
        let latencies = try await send(request, client: client, count: requests)
        let seconds = Double(LoadGenerator.Clock.nanos() - start) / 1e9
        let used = BenchProcess.cpuSeconds(of: getpid()) - cpu
        return Figures(answered: latencies.count, seconds: seconds, latencies: latencies,
                       clientCPU: latencies.isEmpty ? 0 : used / Double(latencies.count) * 1e6)
    }

    /// `count` requests over `concurrency` tasks; the latency of each one answered with 200, in ms.
    private func send(_ request: HTTPClientRequest, client: CurlHTTPClient, count: Int) async throws -> [Double] {
        let next = Ticket()
        return try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var latencies: [Double] = []
                    while next.take() < count {
                        let sent = LoadGenerator.Clock.nanos()
                        let response = try await client.send(request)
                        if response.status == 200 { latencies.append(Double(LoadGenerator.Clock.nanos() - sent) / 1e6) }
                    }
                    return latencies
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }
}

/// Hands out 0, 1, 2, … to the tasks that share it.
private final class Ticket: Sendable {
    private let counter = Atomic<Int>(0)
    func take() -> Int { counter.add(1, ordering: .relaxed).oldValue }
}
