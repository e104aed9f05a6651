import Foundation
import Synchronization

/// A child process of this very binary (`hub serve`, `hub check`, the bare server), so what is
/// measured is the shipped executable with nothing of the load generator inside it.
final class BenchProcess: Sendable {
    private let process: Process
    private let captured = Captured()
    let startedAt: UInt64

    /// This executable, absolute.
    static var executable: URL {
        let argument = CommandLine.arguments[0]
        if argument.contains("/") {
            return URL(fileURLWithPath: argument, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
        }
        return URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    }

    /// The yardstick: `hub bench --serve-bare` (a Hummingbird hello-world), started and listening.
    static func bareRoute() throws -> (BenchProcess, port: Int) {
        let process = try BenchProcess(["bench", "--serve-bare"], environment: [:], directory: FileManager.default.temporaryDirectory)
        do {
            return (process, try process.waitForPort())
        } catch {
            process.stop()
            throw error
        }
    }

    /// Starts `hub ARGUMENTS` with a clean environment plus `environment`.
    init(_ arguments: [String], environment: [String: String], directory: URL) throws {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HUB_SANDBOX": "off"]
        env.merge(environment) { _, new in new }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let captured = captured
        out.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil; return }
            captured.output.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        err.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil; return }
            // Keep the tail only: a hub under load may log a lot.
            captured.errors.withLock { $0 = String(($0 + String(decoding: data, as: UTF8.self)).suffix(4000)) }
        }
        startedAt = LoadGenerator.Clock.nanos()
        try process.run()
        self.process = process
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var stdout: String { captured.output.withLock { $0 } }
    var stderr: String { captured.errors.withLock { $0 } }

    /// What the child printed, filled from pipe handlers on other threads.
    private final class Captured: Sendable {
        let output = Mutex("")
        let errors = Mutex("")
    }

    /// Waits for the hub's "listening on http://HOST:PORT" line and returns the port.
    func waitForPort(timeout: Double = 30) throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = stdout.split(separator: "\n").first(where: { $0.contains("listening on http://") }),
               let port = line.split(separator: ":").dropFirst(2).first.flatMap({ Int($0.prefix { $0.isNumber }) })
            {
                return port
            }
            guard process.isRunning else { throw BenchError("\(Self.executable.lastPathComponent) exited with \(process.terminationStatus): \(stderr)") }
            usleep(1000)
        }
        throw BenchError("no 'listening on' line within \(Int(timeout)) s: \(stderr)")
    }

    /// Resident memory in bytes (VmRSS from /proc), or nil once the process is gone.
    var residentBytes: Int? { statusField("VmRSS") }

    /// A memory figure of /proc/PID/status (VmRSS, RssAnon, RssFile) in bytes.
    func statusField(_ name: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }),
              let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kb * 1024
    }

    /// CPU time used so far (user + system), in seconds, from /proc/PID/stat.
    var cpuSeconds: Double { Self.cpuSeconds(of: pid) }

    /// CPU time process `pid` used so far (user + system), in seconds; the bench's own with `getpid()`.
    static func cpuSeconds(of pid: pid_t) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        // Fields after the command name, which may itself hold spaces: state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Waits for the process to exit (killing it after `timeout`) and returns its status.
    @discardableResult
    func wait(timeout: Double = 30) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(2000) }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// SIGTERM (a graceful stop), then waits.
    func stop() {
        if process.isRunning { kill(pid, SIGTERM) }
        wait()
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A free loopback port (bound, then released) for a child to listen on.
func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length); return getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Whether something accepts connections on the loopback port now.
func acceptsConnections(port: Int) -> Bool {
    guard let fd = connectLoopback(port: port) else { return false }
    close(fd)
    return true
}

/// A socket connected to the loopback port, or nil when nothing accepts there.
func connectLoopback(port: Int) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        return nil
    }
    return fd
}
