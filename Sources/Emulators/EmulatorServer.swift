import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Runs an emulator's router on a loopback port chosen by the system, in the background of a
/// test or the sandbox, until `stop()`.
public final class EmulatorServer: Sendable {
    public let port: Int
    private let task: Task<Void, Error>
    private let group: ServiceGroup
    /// How long `stop()` lets requests under way finish before it cancels them.
    static let drainTime: Duration = .seconds(10)

    /// Starts `router` on 127.0.0.1 (port 0 = any free port) and returns once it listens.
    public static func start(_ router: Router<BasicRequestContext>, port: Int = 0, name: String) async throws -> EmulatorServer {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "emulator.\(name)")
        logger.logLevel = .critical  // a stop that has to cancel logs errors that say nothing
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: name),
                              onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0); continuation.finish() },
                              logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        var iterator = stream.makeAsyncIterator()
        guard let bound = await iterator.next() else { throw CancellationError() }
        return EmulatorServer(port: bound, task: task, group: group)
    }

    private init(port: Int, task: Task<Void, Error>, group: ServiceGroup) {
        self.port = port
        self.task = task
        self.group = group
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Stops gracefully: requests under way finish first. Cancelling a handler while its answer is
    /// written traps in NIO ("Deinited NIOAsyncWriter without calling finish()"), which in the
    /// sandbox would take the hub down with it; only requests still going after `drainTime` are.
    public func stop() async {
        await group.triggerGracefulShutdown()
        let task = self.task
        let finished = await withTaskGroup(of: Bool.self) { waiting in
            waiting.addTask { _ = await task.result; return true }
            waiting.addTask { try? await Task.sleep(for: Self.drainTime); return false }
            let first = await waiting.next() ?? true
            waiting.cancelAll()
            return first
        }
        if !finished {
            task.cancel()
            _ = await task.result
        }
    }
}
