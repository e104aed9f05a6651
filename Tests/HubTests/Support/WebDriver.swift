import Flows
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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

    @discardableResult
    func call(_ method: String, _ path: String, _ body: Value? = nil) async throws -> Value {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.timeoutInterval = 60
        if let body {
            request.httpBody = Data(body.json.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let value = try Value(jsonData: data)["value"] ?? .null
        if (response as? HTTPURLResponse)?.statusCode != 200 {
            throw HubProcessError(message: "webdriver \(method) \(path): \(value.json.prefix(300))")
        }
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

    func quit() async {
        _ = try? await call("DELETE", "/session/\(session)")
        process.terminate()
        process.waitUntilExit()
    }
}
