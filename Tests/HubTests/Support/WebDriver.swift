import Flows
import Foundation

/// A minimal W3C WebDriver client for headless Chromium through chromedriver, over plain HTTP.
final class WebDriver: @unchecked Sendable {
    let process = Process()
    let base: String
    private(set) var session = ""

    /// chromedriver from Debian's `chromium-driver`, if installed.
    static var driverPath: String? {
        ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    init(port: Int) throws {
        guard let path = WebDriver.driverPath else { throw HubProcessError(message: "chromedriver is not installed") }
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--port=\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        base = "http://127.0.0.1:\(port)"
    }

    func start() async throws {
        for _ in 0..<100 {
            if (try? await call("GET", "/status")) != nil { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let caps: Value = ["capabilities": ["alwaysMatch": ["goog:chromeOptions": [
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=420,900", "--disable-dev-shm-usage"],
        ]]]]
        let answer = try await call("POST", "/session", caps)
        session = answer["sessionId"]?.stringValue ?? ""
    }

    /// One WebDriver command. chromedriver writes headers without a space after the colon
    /// (`Content-Length:250`), which URLSession on Linux never completes, so this speaks
    /// HTTP/1.1 over a plain socket on its own thread.
    @discardableResult
    func call(_ method: String, _ path: String, _ body: Value? = nil) async throws -> Value {
        let port = UInt16(base.split(separator: ":").last!)!
        let payload = body?.json ?? ""
        let request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(payload.utf8.count)\r\nConnection: close\r\n\r\n" + payload
        let answer = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, Error>) in
            Thread.detachNewThread { continuation.resume(with: Result { try LoopbackHTTP.exchange(port: port, request: request, timeout: 60) }) }
        }
        guard let split = answer.range(of: "\r\n\r\n") else { throw HubProcessError(message: "webdriver \(method) \(path): no answer") }
        let status = answer.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        let value = try Value(jsonData: Data(answer[split.upperBound...].utf8))["value"] ?? .null
        if status != 200 { throw HubProcessError(message: "webdriver \(method) \(path): \(value.json.prefix(300))") }
        return value
    }

    func open(_ url: String) async throws { try await call("POST", "/session/\(session)/url", ["url": .string(url)]) }

    var url: String { get async throws { try await call("GET", "/session/\(session)/url").text } }

    func element(_ css: String) async throws -> String {
        let found = try await call("POST", "/session/\(session)/element", ["using": "css selector", "value": .string(css)])
        return found.objectValue?.values.first?.text ?? ""
    }

    func type(_ css: String, _ text: String) async throws {
        try await call("POST", "/session/\(session)/element/\(try await element(css))/value", ["text": .string(text)])
    }

    func click(_ css: String) async throws {
        try await call("POST", "/session/\(session)/element/\(try await element(css))/click", [:])
    }

    func pageText() async throws -> String {
        try await call("POST", "/session/\(session)/execute/sync", ["script": "return document.body.innerText", "args": []]).text
    }

    /// Saves a PNG screenshot to `.artifacts/screenshots/NAME.png` in the repository.
    func screenshot(_ name: String) async throws {
        let encoded = try await call("GET", "/session/\(session)/screenshot").text
        let folder = Repository.root.appendingPathComponent(".artifacts/screenshots")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(base64Encoded: encoded)?.write(to: folder.appendingPathComponent("\(name).png"))
    }

    /// Waits until the current URL satisfies `condition` (at most 15 s).
    func waitForURL(_ condition: (String) -> Bool) async throws -> String {
        for _ in 0..<150 {
            let current = try await url
            if condition(current) { return current }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HubProcessError(message: "the browser stayed at \(try await url)")
    }

    /// Waits until the page's text contains `text` (at most 15 s; the sandbox pages refresh themselves).
    func waitForText(_ text: String) async throws {
        for _ in 0..<150 {
            if try await pageText().contains(text) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HubProcessError(message: "the page never showed «\(text)»: \(try await pageText().prefix(500))")
    }

    func quit() async {
        _ = try? await call("DELETE", "/session/\(session)")
        // chromedriver ignores SIGTERM while it has children; the session is already closed.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// A blocking HTTP/1.1 exchange with a loopback server (chromedriver keeps connections open,
/// so the answer ends at its Content-Length).
enum LoopbackHTTP {
    /// Header size plus Content-Length, once the headers are in.
    static func completeLength(_ bytes: [UInt8]) -> Int? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        let head = text[..<end.lowerBound].lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
              let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) else { return nil }
        return text[..<end.upperBound].utf8.count + length
    }

    static func exchange(port: UInt16, request: String, timeout: Int) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HubProcessError(message: "socket() failed") }
        defer { close(fd) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw HubProcessError(message: "connection to port \(port) refused") }
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw HubProcessError(message: "send to port \(port) failed") }
            sent += n
        }
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { throw HubProcessError(message: "no answer from port \(port) in \(timeout) s") }
            received += buffer[0..<n]
            if let complete = completeLength(received), received.count >= complete { break }
        }
        return String(decoding: received, as: UTF8.self)
    }
}
