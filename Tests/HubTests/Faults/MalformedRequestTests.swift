import Emulators
import Flows
import Foundation
@testable import Hub
import Testing

/// Broken, oversized, truncated and slow HTTP requests against a running hub: each gets a 4xx
/// (413 when too large) or is dropped, the hub keeps answering, and nothing is recorded.
@Suite(.serialized, .timeLimit(.minutes(2))) struct MalformedRequestTests {
    static let jsonFlow = """
        name: json-hook
        on: { http: /hooks/json }
        steps:
          - do: core.log
            with: { message: "got {{ event.body }}" }
        """

    struct Case: Sendable {
        var name: String
        var path: String
        var type: String?
        var body: [UInt8]
        var extraHeaders = ""
        var expected: ClosedRange<Int>
    }

    static let tenMegabytes = [UInt8](repeating: UInt8(ascii: "a"), count: 10 << 20)

    static var cases: [Case] {
        let form = "application/x-www-form-urlencoded"
        return [
            Case(name: "urlencoded garbage", path: "/hooks/prodamus", type: form, body: Array("%%%zz=&&&=%E0%A4%A&[]]=[".utf8),
                 extraHeaders: "Sign: 0123\r\n", expected: 400...400),
            Case(name: "no Sign header", path: "/hooks/prodamus", type: form, body: Array(PaidFunnel(count: 1).webhook(0).body.utf8), expected: 400...400),
            Case(name: "forged Sign", path: "/hooks/prodamus", type: form, body: Array(PaidFunnel(count: 1).webhook(0).body.utf8),
                 extraHeaders: "Sign: \(String(repeating: "ab", count: 32))\r\n", expected: 400...400),
            Case(name: "invalid UTF-8", path: "/hooks/prodamus", type: form, body: [0xFF, 0xFE, 0x3D, 0xC3, 0x28, 0x26, 0x80],
                 extraHeaders: "Sign: 00\r\n", expected: 400...400),
            Case(name: "multipart without boundary", path: "/hooks/prodamus", type: "multipart/form-data", body: Array("--x\r\n".utf8),
                 extraHeaders: "Sign: 00\r\n", expected: 400...400),
            Case(name: "broken multipart", path: "/hooks/prodamus", type: "multipart/form-data; boundary=XyZ",
                 body: Array("--XyZ\r\nContent-Disposition: form-data; name=\"order_id\r\n\r\n12\r\n--Xy".utf8),
                 extraHeaders: "Sign: 00\r\n", expected: 400...400),
            Case(name: "JSON to the form webhook", path: "/hooks/prodamus", type: "application/json", body: Array(#"{"order_id":"1"}"#.utf8),
                 extraHeaders: "Sign: 00\r\n", expected: 415...415),
            Case(name: "form not in UTF-8 to an http flow", path: "/hooks/json", type: form, body: Array("name=%C8%E2%E0%ED".utf8), expected: 400...400),
            Case(name: "truncated JSON", path: "/hooks/json", type: "application/json", body: Array(#"{"a": [1, 2"#.utf8), expected: 400...400),
            Case(name: "not JSON at all", path: "/hooks/json", type: "application/json", body: [0xFF, 0x00, 0x7B], expected: 400...400),
            Case(name: "10 MB form webhook", path: "/hooks/prodamus", type: form, body: tenMegabytes, extraHeaders: "Sign: 00\r\n", expected: 413...413),
            Case(name: "10 MB JSON", path: "/hooks/json", type: "application/json", body: tenMegabytes, expected: 413...413),
            Case(name: "10 MB registration form", path: "/", type: form, body: tenMegabytes, expected: 413...413),
            Case(name: "huge header", path: "/hooks/prodamus", type: form, body: Array("a=1".utf8),
                 extraHeaders: "X-Padding: \(String(repeating: "p", count: 200_000))\r\n", expected: 400...431),
        ]
    }

    @Test("malformed, oversized, truncated and slow requests: 4xx, the hub keeps answering, nothing recorded")
    func hostileRequests() async throws {
        let telegram = PaidFunnel.telegram()
        let server = try await EmulatorServer.start(telegram.router(), name: "telegram")
        let folder = try PaidFunnel.paymentFlowFolder()
        defer { folder.remove() }
        try folder.write("json-hook.yaml", Self.jsonFlow)
        try await TestDatabases.withURL(.sqlite) { url in
            let hub = try HubProcess(environment: PaidFunnel(count: 1).environment(database: url, flows: folder.flows, telegramURL: server.baseURL),
                                     workingDirectory: folder.root)
            let port = try await hub.waitForPort()
            for c in Self.cases {
                var head = "POST \(c.path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(c.body.count)\r\nConnection: close\r\n"
                if let type = c.type { head += "Content-Type: \(type)\r\n" }
                head += c.extraHeaders
                let answer = await RawHTTP.exchange(port: port, head: head, body: c.body)
                #expect(answer.status.map { c.expected.contains($0) } == true, "\(c.name): \(answer.status.map(String.init) ?? "no answer") \(answer.text.prefix(200))")
                #expect(hub.process.isRunning, "\(c.name) crashed the hub: \(hub.stderr.suffix(2000))")
            }

            // A chunked body without a length is cut off at the limit too.
            let chunked = "POST /hooks/json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
            let chunk = Array("100000\r\n".utf8) + [UInt8](repeating: UInt8(ascii: " "), count: 0x100000) + Array("\r\n".utf8)
            let chunkedAnswer = await RawHTTP.exchange(port: port, head: chunked, body: Array((0..<3).map { _ in chunk }.joined()), chunks: 3)
            #expect(chunkedAnswer.status == 413, "chunked: \(chunkedAnswer.text.prefix(200))")

            // A body shorter than its Content-Length, then the client gives up: no answer is owed, nothing is stored.
            let signed = PaidFunnel(count: 1).webhook(0)
            let truncatedHead = "POST /hooks/prodamus HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: \(signed.body.utf8.count)\r\nSign: \(signed.sign)\r\nConnection: close\r\n"
            let truncated = await RawHTTP.exchange(port: port, head: truncatedHead, body: Array(signed.body.utf8), sendOnly: signed.body.utf8.count / 2)
            #expect(truncated.status.map { (400..<500).contains($0) } ?? true, "truncated: \(truncated.text.prefix(200))")

            // A slow client dribbling a forged webhook over 2 s does not hold up anyone else.
            let forgedHead = "POST /hooks/prodamus HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: \(signed.body.utf8.count)\r\nSign: \(String(repeating: "0", count: 64))\r\nConnection: close\r\n"
            async let slow = RawHTTP.exchange(port: port, head: forgedHead, body: Array(signed.body.utf8), chunks: 20, pause: .milliseconds(100))
            let started = ContinuousClock.now
            let health = await TestHTTP.get("http://127.0.0.1:\(port)/healthz")
            #expect(health?.status == 200)
            #expect(ContinuousClock.now - started < .seconds(2), "the hub waited for the slow client")
            let slowAnswer = await slow
            #expect(slowAnswer.status == 400, "slow: \(slowAnswer.text.prefix(200))")

            // Still alive and nothing stored; then one good webhook is the only event.
            #expect(hub.process.isRunning)
            #expect(await TestHTTP.get("http://127.0.0.1:\(port)/healthz")?.status == 200)
            let store = try Store.open(url, poolSize: 1)
            #expect(try await store.database.query("SELECT COUNT(*) AS n FROM hub_events").first?["n"]?.intValue == 0)
            #expect(try await store.runCounts().isEmpty)
            let good = await FaultHTTP.post("http://127.0.0.1:\(port)/hooks/prodamus", body: Data(signed.body.utf8),
                                            headers: ["Content-Type": "application/x-www-form-urlencoded", "Sign": signed.sign])
            #expect(good?.status == 200)
            #expect(try await store.database.query("SELECT COUNT(*) AS n FROM hub_events WHERE source = 'prodamus.paid'").first?["n"]?.intValue == 1)
            // An `http` flow under /hooks/ is reachable beside the connectors' /hooks/prodamus and /hooks/telegram.
            #expect(await TestHTTP.postJSON("http://127.0.0.1:\(port)/hooks/json", #"{"ok":true}"#, key: "good-json") == 202)
            #expect(try await store.database.query("SELECT COUNT(*) AS n FROM hub_events WHERE source = 'http:/hooks/json'").first?["n"]?.intValue == 1)
            await store.close()
            hub.kill(SIGTERM)
            #expect(try await hub.waitForExit() == 0)
        }
        await telegram.shutdown()
        await server.stop()
    }

    /// A client that sends the head and part of the body, then nothing, without closing: SIGTERM
    /// must still stop the hub (its stop waits for requests in progress, but not for ever).
    @Test("a stalled request does not keep the hub from stopping")
    func stalledRequestDoesNotBlockTheStop() async throws {
        let folder = try FlowFolder(["json-hook.yaml": Self.jsonFlow])
        defer { folder.remove() }
        let database = "sqlite:" + folder.root.appendingPathComponent("hub.db").path
        let hub = try HubProcess(environment: ["HUB_DATABASE_URL": database, "HUB_FLOWS": folder.flows], workingDirectory: folder.root)
        let port = try await hub.waitForPort()
        let head = "POST /hooks/json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"
        async let stalled = RawHTTP.exchange(port: port, head: head, body: Array(repeating: UInt8(ascii: " "), count: 100),
                                             sendOnly: 10, stall: true, timeout: .seconds(60))
        try await Task.sleep(for: .milliseconds(500))
        #expect(hub.process.isRunning)
        let signalled = ContinuousClock.now
        hub.kill(SIGTERM)
        #expect(try await hub.waitForExit(timeout: .seconds(25)) == 0, "\(hub.stderr.suffix(2000))")
        #expect(ContinuousClock.now - signalled < .seconds(20))
        // The stalled client is cut off, not answered as if its request had been whole.
        let answer = await stalled
        #expect(answer.status.map { (400..<600).contains($0) } ?? true, "\(answer.text.prefix(200))")
        let store = try Store.open(database, poolSize: 1)
        #expect(try await store.database.query("SELECT COUNT(*) AS n FROM hub_events").first?["n"]?.intValue == 0)
        await store.close()
    }

    /// Such a client is not kept for ever either: a thousand of them would use up the hub's file
    /// descriptors. After 30 s of silence the hub closes the connection and stores nothing.
    @Test("a stalled request's connection is closed after the idle timeout")
    func stalledConnectionIsClosed() async throws {
        let folder = try FlowFolder(["json-hook.yaml": Self.jsonFlow])
        defer { folder.remove() }
        let database = "sqlite:" + folder.root.appendingPathComponent("hub.db").path
        let hub = try HubProcess(environment: ["HUB_DATABASE_URL": database, "HUB_FLOWS": folder.flows], workingDirectory: folder.root)
        let port = try await hub.waitForPort()
        let head = "POST /hooks/json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"
        let started = ContinuousClock.now
        let answer = await RawHTTP.exchange(port: port, head: head, body: Array(repeating: UInt8(ascii: " "), count: 100),
                                            sendOnly: 10, stall: true, timeout: .seconds(50))
        let held = ContinuousClock.now - started
        #expect(held >= .seconds(29) && held < .seconds(40), "the connection was held for \(held)")
        #expect(answer.status.map { (400..<600).contains($0) } ?? true, "\(answer.text.prefix(200))")
        #expect(await TestHTTP.get("http://127.0.0.1:\(port)/healthz")?.status == 200)
        let store = try Store.open(database, poolSize: 1)
        #expect(try await store.database.query("SELECT COUNT(*) AS n FROM hub_events").first?["n"]?.intValue == 0)
        await store.close()
        hub.kill(SIGTERM)
        #expect(try await hub.waitForExit() == 0)
    }
}
