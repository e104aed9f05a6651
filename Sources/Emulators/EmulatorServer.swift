import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Runs an emulator's router on a loopback port chosen by the system, in the background of a
/// test or the sandbox, until `stop()`.
public final class EmulatorServer: Sendable {
    public let port: Int
    private let task: Task<Void, Error>

    /// Starts `router` on 127.0.0.1 (port 0 = any free port) and returns once it listens.
    public static func start(_ router: Router<BasicRequestContext>, port: Int = 0, name: String) async throws -> EmulatorServer {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "emulator.\(name)")
        logger.logLevel = .critical  // stopping by cancellation logs errors that say nothing
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: name),
                              onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0); continuation.finish() },
                              logger: logger)
        let task = Task { try await app.runService() }
        var iterator = stream.makeAsyncIterator()
        guard let bound = await iterator.next() else { throw CancellationError() }
        return EmulatorServer(port: bound, task: task)
    }

    private init(port: Int, task: Task<Void, Error>) {
        self.port = port
        self.task = task
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public func stop() async {
        task.cancel()
        _ = await task.result
    }
}
