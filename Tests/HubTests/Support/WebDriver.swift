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
    /// HTTP/1.1 over a plain socket.
    @discardableResult
    func call(_ method: String, _ path: String, _ body: Value? = nil) async throws -> Value {
        let port = Int(base.split(separator: ":").last!)!
        let payload = Array((body?.json ?? "").utf8)
        let head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(payload.count)\r\nConnection: close\r\n"
        let answer = await RawHTTP.exchange(port: port, head: head, body: payload, timeout: .seconds(60))
        guard let status = answer.status, let split = answer.text.range(of: "\r\n\r\n") else {
            throw HubProcessError(message: "webdriver \(method) \(path): no answer")
        }
        let value = try Value(jsonData: Data(answer.text[split.upperBound...].utf8))["value"] ?? .null
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

