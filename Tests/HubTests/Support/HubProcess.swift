import Foundation
import Synchronization

/// A child `hub serve` process, for tests that kill it, restart it or run two side by side.
final class HubProcess: @unchecked Sendable {
    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private let captured = Captured()

    /// The `hub` executable built next to the test bundle.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("hub")
    }

    /// Starts `hub serve` with `environment` (merged over a clean base) and waits until it listens.
    init(environment: [String: String], workingDirectory: URL, arguments: [String] = ["serve", "--log-level", "warning"]) throws {
        process.executableURL = Self.executable
        process.arguments = arguments
        process.currentDirectoryURL = workingDirectory
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HUB_LISTEN": "127.0.0.1:0", "HUB_SANDBOX": "off"]
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardOutput = output
        process.standardError = errors
        // At end of file the handler would be called again and again with no data: stop it there.
        output.fileHandleForReading.readabilityHandler = { [captured] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil; return }
            captured.output.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        errors.fileHandleForReading.readabilityHandler = { [captured] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil; return }
            captured.errors.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
    }

    /// Waits up to `timeout` for the "listening on" line and returns the port.
    func waitForPort(timeout: Duration = .seconds(30)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = captured.output.withLock({ $0.split(separator: "\n").first { $0.contains("listening on http://") } }),
               let port = line.split(separator: ":").dropFirst(2).first.flatMap({ Int($0.prefix { $0.isNumber }) })
            {
                return port
            }
            if !process.isRunning { throw HubProcessError(message: "hub exited with \(process.terminationStatus): \(stderr)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw HubProcessError(message: "hub did not start listening within \(timeout): \(stderr)")
    }

    var stderr: String { captured.errors.withLock { $0 } }
    var stdout: String { captured.output.withLock { $0 } }

    func kill(_ signal: Int32 = SIGKILL) {
        Foundation.kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit and returns its status.
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                kill()
                throw HubProcessError(message: "hub did not exit within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill() }
    }
}

/// What the child printed, filled from pipe handlers on other threads.
final class Captured: Sendable {
    let output = Mutex("")
    let errors = Mutex("")
}

struct HubProcessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A temporary folder with flow files, removed when the test ends.
struct FlowFolder {
    let root: URL

    init(_ files: [String: String]) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("hub-flows-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("flows"), withIntermediateDirectories: true)
        for (name, text) in files { try write(name, text) }
    }

    var flows: String { root.appendingPathComponent("flows").path }

    func write(_ name: String, _ text: String) throws {
        try text.write(to: root.appendingPathComponent("flows").appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}
