import Foundation
import Hummingbird
import Logging

/// The yardstick: a Hummingbird application with one hello-world route, configured like the
/// hub's server (loopback, default event loops, quiet logger), run as its own process.
enum BareServer {
    static func run() async throws {
        let router = Router()
        // Any path, any method: the load generator sends it the very requests the hub gets.
        router.on("**", method: .post) { _, _ in "Hello, world!" }
        router.on("**", method: .get) { _, _ in "Hello, world!" }
        var logger = Logger(label: "bench.bare")
        logger.logLevel = .error
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "bare"),
            onServerRunning: { channel in
                FileHandle.standardOutput.write(Data("bare route listening on http://127.0.0.1:\(channel.localAddress?.port ?? 0)\n".utf8))
            },
            logger: logger)
        try await app.runService()
    }
}
