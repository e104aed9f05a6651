import Emulators
import Flows
import Foundation
import Hub
import Synchronization

/// Paid webhook → invite in the Telegram emulator, with the repository's `flows/payment.yaml`:
/// members registered and known to the bot are seeded first, then their payments arrive.
struct EndToEndBench {
    var payments: Int
    var connections: Int
    /// Payments per second sent at a steady pace; nil sends them all at once over `connections`.
    var rate: Double? = nil
    static let groupID: Int64 = -1001000000777
    static let token = "700000:BENCH-token"

    struct Figures {
        var delivered: Int
        var seconds: Double
        var latencies: [Double]
        var failures: String
        var perSecond: Double { seconds > 0 ? Double(delivered) / seconds : 0 }
    }

    func run(paymentFlow: String, extraEnvironment: [String: String]) async throws -> Figures {
        let telegram = TelegramEmulator(token: Self.token, botUsername: "session_hub_bench_bot")
        telegram.addGroup(id: Self.groupID, title: "Bench", hasProtectedContent: true)
        let server = try await EmulatorServer.start(telegram.router(), name: "telegram")
        do {
            let figures = try await run(paymentFlow: paymentFlow, extraEnvironment: extraEnvironment, telegram: telegram, server: server)
            await telegram.shutdown()
            await server.stop()
            return figures
        } catch {
            await telegram.shutdown()
            await server.stop()
            throw error
        }
    }

    private func run(paymentFlow: String, extraEnvironment: [String: String], telegram: TelegramEmulator, server: EmulatorServer) async throws -> Figures {
        let folder = try BenchHub(["payment.yaml": paymentFlow])
        defer { folder.remove() }
        let userBase: Int64 = 880_000_000
        // The bot knows every payer (each pressed Start) before the hub starts: no updates in the window.
        for index in 0..<payments {
            await telegram.userSends("/start", from: EmulatedUser(id: userBase + Int64(index), firstName: "Bench\(index)", username: nil))
        }
        try await MemberSeeder.seed(folder.sqliteURL, count: payments, telegramBase: userBase, orderPrefix: "e2e-")
        let (process, port) = try folder.serve(database: folder.sqliteURL, extra: [
            "TELEGRAM_BOT_TOKEN": Self.token, "TELEGRAM_API_URL": server.baseURL, "TELEGRAM_GROUP_ID": String(Self.groupID),
            // Without paid broadcast the connector holds the bot to Telegram's ~30 messages a second,
            // and the figure would measure that limit instead of the hub.
            "TELEGRAM_PAID_BROADCAST": "true",
        ].merging(extraEnvironment) { _, new in new })
        defer { process.stop() }
        // The hub takes the queued /start updates (no flow handles them here) before the clock starts.
        for _ in 0..<500 where telegram.pendingUpdateCount > 0 { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(300))

        let requests = ProdamusWebhooks.requests(count: payments, tag: "e2e") { "e2e-\($0)" }
        let stamps = SendStamps(count: payments)
        let feed = RequestFeed(requests: requests, onHandOut: { stamps.mark($0) })
        let start = LoadGenerator.Clock.nanos()
        let sender = Thread { [connections, rate] in
            guard let rate else {
                _ = LoadGenerator(port: port, connections: connections, threads: 1).run(feed: feed, warmUp: 0, duration: 120)
                return
            }
            // Open loop: each payment at its moment, whatever the answers before it took.
            for index in 0..<requests.count {
                let due = start + UInt64(Double(index) / rate * 1e9)
                let now = LoadGenerator.Clock.nanos()
                if due > now { usleep(UInt32((due - now) / 1000)) }
                guard let request = feed.next() else { return }
                _ = try? SimpleHTTP.send(port: port, request)
            }
        }
        sender.start()
        var seen = 0
        var latencies: [Double] = []
        var last = start
        let deadline = start + 120_000_000_000
        while seen < payments && LoadGenerator.Clock.nanos() < deadline {
            let messages = telegram.sentMessages(from: seen)
            if !messages.isEmpty {
                let now = LoadGenerator.Clock.nanos()
                for message in messages where message.chatID >= userBase {
                    let index = Int(message.chatID - userBase)
                    if index < payments, let sent = stamps.at(index) { latencies.append(Double(now - sent) / 1e6) }
                }
                seen += messages.count
                last = now
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        let store = try Store.open(folder.sqliteURL, poolSize: 1)
        let failed = try await store.database.query("SELECT COUNT(*) AS n FROM hub_runs WHERE status = 'failed'").first?["n"]?.intValue ?? 0
        await store.close()
        return Figures(delivered: latencies.count, seconds: Double(last - start) / 1e9, latencies: latencies,
                       failures: failed > 0 ? "\(failed) runs failed" : "")
    }
}

/// When each request left, by its index in the feed.
final class SendStamps: Sendable {
    private let stamps: Mutex<[UInt64]>
    init(count: Int) { stamps = Mutex([UInt64](repeating: 0, count: count)) }
    func mark(_ index: Int) {
        let now = LoadGenerator.Clock.nanos()
        stamps.withLock { if index < $0.count { $0[index] = now } }
    }
    func at(_ index: Int) -> UInt64? { stamps.withLock { $0[index] == 0 ? nil : $0[index] } }
}
