import Emulators
import Flows
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import Testing

/// The connectors' HTTP client (libcurl's multi interface on a thread of its own) talks to APIs:
/// every call reaches the service, nothing one answer set (a cookie) rides along on the next
/// call, and a call that fails says which host failed, never the path (bot tokens live there).
@Suite(.timeLimit(.minutes(1))) struct HTTPClientTests {
    /// A service that answers `/answer` cacheably with a cookie, and echoes the Cookie header it got.
    final class Service: Sendable {
        let hits = Mutex(0)
        let cookiesSeen = Mutex<[String]>([])

        var router: Router<BasicRequestContext> {
            let router = Router()
            router.get("/answer") { request, _ -> Response in
                let hit = self.hits.withLock { $0 += 1; return $0 }
                self.cookiesSeen.withLock { $0.append(request.headers[.cookie] ?? "") }
                return Response(status: .ok, headers: [.contentType: "text/plain", .cacheControl: "public, max-age=600",
                                                       .setCookie: "session=from-the-service; Path=/"],
                                body: .init(byteBuffer: ByteBuffer(string: "answer \(hit)")))
            }
            router.on("/echo", method: .put) { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                var headers: HTTPFields = [.contentType: "application/octet-stream"]
                headers[HTTPField.Name("X-Method")!] = request.method.rawValue
                headers[HTTPField.Name("X-Custom-Seen")!] = request.headers[HTTPField.Name("X-Custom")!] ?? ""
                headers.append(HTTPField(name: HTTPField.Name("X-Tag")!, value: "a"))
                headers.append(HTTPField(name: HTTPField.Name("X-Tag")!, value: "b"))
                return Response(status: .created, headers: headers, body: .init(byteBuffer: body))
            }
            router.get("/unavailable") { _, _ in Response(status: .serviceUnavailable) }
            router.get("/slow/:path") { _, _ -> String in
                try await Task.sleep(for: .seconds(5))
                return "late"
            }
            router.get("/to-a-file") { _, _ in Response(status: .found, headers: [.location: "file:///etc/passwd"]) }
            router.get("/huge") { _, _ in
                Response(status: .ok, body: .init(byteBuffer: ByteBuffer(repeating: UInt8(ascii: "x"), count: (32 << 20) + 1)))
            }
            router.get("/moved") { _, _ in Response(status: .movedPermanently, headers: [.location: "/answer"]) }
            return router
        }
    }

    @Test func everyCallReachesTheServiceWithoutCookies() async throws {
        let service = Service()
        let server = try await EmulatorServer.start(service.router, name: "api")
        let client = CurlHTTPClient()
        var bodies: [String] = []
        for _ in 0..<3 {
            bodies.append(try await client.send(HTTPClientRequest(url: server.baseURL + "/answer")).text)
        }
        await server.stop()
        #expect(bodies == ["answer 1", "answer 2", "answer 3"])
        #expect(service.hits.withLock { $0 } == 3)
        #expect(service.cookiesSeen.withLock { $0 } == ["", "", ""])
    }

    @Test func methodBodyAndHeadersGoBothWays() async throws {
        let server = try await EmulatorServer.start(Service().router, name: "api")
        let body: [UInt8] = Array("{\"name\": \"Иван\"}".utf8) + [0, 255, 13, 10]
        let response = try await CurlHTTPClient().send(HTTPClientRequest(method: "PUT", url: server.baseURL + "/echo",
                                                                         headers: ["X-Custom": "value 1"], body: body))
        await server.stop()
        #expect(response.status == 201)
        #expect(response.body == body)
        #expect(response.headers["x-method"] == "PUT")
        #expect(response.headers["x-custom-seen"] == "value 1")
        #expect(response.headers["x-tag"] == "a, b")
    }

    @Test func anErrorStatusIsAnAnswerAndARedirectIsFollowed() async throws {
        let server = try await EmulatorServer.start(Service().router, name: "api")
        let client = CurlHTTPClient()
        let unavailable = try await client.send(HTTPClientRequest(url: server.baseURL + "/unavailable"))
        let moved = try await client.send(HTTPClientRequest(url: server.baseURL + "/moved"))
        await server.stop()
        #expect(unavailable.status == 503)
        #expect(moved.status == 200)
        #expect(moved.text == "answer 1")
    }

    @Test func aTimeoutIsRetryableAndNamesOnlyTheHost() async throws {
        let server = try await EmulatorServer.start(Service().router, name: "api")
        let started = ContinuousClock.now
        let error = await #expect(throws: ConnectorError.self) {
            try await CurlHTTPClient().send(HTTPClientRequest(url: server.baseURL + "/slow/bot123:SECRET", timeout: .milliseconds(300)))
        }
        let waited = ContinuousClock.now - started
        await server.stop()
        #expect(error?.code == "network")
        #expect(error?.disposition == .retry)
        #expect(error?.message == "cannot reach 127.0.0.1: Timeout was reached")
        #expect(waited < .seconds(4))
    }

    @Test func aRefusedConnectionIsRetryable() async throws {
        let error = await #expect(throws: ConnectorError.self) {
            try await CurlHTTPClient().send(HTTPClientRequest(url: "http://127.0.0.1:1/bot123:SECRET/getMe"))
        }
        #expect(error?.code == "network")
        #expect(error?.disposition == .retry)
        #expect(error?.message == "cannot reach 127.0.0.1: Couldn't connect to server")
    }

    /// An answer too large to hold is refused for good: asking again would get the same.
    @Test func anAnswerOver32MBIsRefused() async throws {
        let server = try await EmulatorServer.start(Service().router, name: "api")
        let error = await #expect(throws: ConnectorError.self) {
            try await CurlHTTPClient().send(HTTPClientRequest(url: server.baseURL + "/huge"))
        }
        await server.stop()
        #expect(error?.code == "response-too-large")
        #expect(error?.disposition == .permanent)
        #expect(error?.message == "127.0.0.1 answered more than 32 MB")
    }

    /// A proxy in the environment (`http_proxy`, read by curl for each call) carries calls out,
    /// but loopback goes direct: the sandbox's emulators answer there, and no proxy could reach
    /// them. The "proxy" here is a service that answers every request it is sent.
    @Test func aProxyFromTheEnvironmentCarriesCallsOutButNotToLoopback() async throws {
        let proxy = Service(), direct = Service()
        let proxyServer = try await EmulatorServer.start(proxy.router, name: "proxy")
        let directServer = try await EmulatorServer.start(direct.router, name: "api")
        setenv("http_proxy", proxyServer.baseURL, 1)
        defer { unsetenv("http_proxy") }
        let client = CurlHTTPClient()
        let outside = try await client.send(HTTPClientRequest(url: "http://api.example.invalid/answer"))
        let loopback = try await client.send(HTTPClientRequest(url: directServer.baseURL + "/answer"))
        await proxyServer.stop()
        await directServer.stop()
        #expect(outside.text == "answer 1")
        #expect(proxy.hits.withLock { $0 } == 1)
        #expect(loopback.text == "answer 1")
        #expect(direct.hits.withLock { $0 } == 1)
    }

    /// Every call of a burst gets its own answer: the client's one thread takes them all in,
    /// over at most 16 connections to the host, and hands each answer to the task that asked
    /// (a lost wake-up would leave calls hanging until the suite's time limit).
    @Test func aBurstOfCallsEachGetsItsOwnAnswer() async throws {
        let server = try await EmulatorServer.start(Service().router, name: "api")
        let client = CurlHTTPClient()
        let answers = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for n in 0..<300 {
                group.addTask {
                    let response = try await client.send(HTTPClientRequest(method: "PUT", url: server.baseURL + "/echo",
                                                                           body: Array("call \(n)".utf8)))
                    return (n, response.body)
                }
            }
            return try await group.reduce(into: [Int: [UInt8]]()) { $0[$1.0] = $1.1 }
        }
        await server.stop()
        #expect(answers.count == 300)
        #expect(answers.allSatisfy { $0.value == Array("call \($0.key)".utf8) })
    }

    /// Calls cancelled at any moment (before curl took them, while waiting for an answer) all
    /// end at once, and the calls after them are served.
    @Test func callsCancelledAtAnyMomentEndAndTheClientGoesOn() async throws {
        let server = try await EmulatorServer.start(Service().router, name: "api")
        let client = CurlHTTPClient()
        let started = ContinuousClock.now
        let calls = (0..<100).map { _ in Task { try await client.send(HTTPClientRequest(url: server.baseURL + "/slow/x")) } }
        for (n, call) in calls.enumerated() {
            if n % 10 == 0 { try await Task.sleep(for: .milliseconds(5)) }
            call.cancel()
        }
        var cancelled = 0
        for call in calls {
            if case .failure(let error) = await call.result, error is CancellationError { cancelled += 1 }
        }
        let waited = ContinuousClock.now - started
        let next = try await client.send(HTTPClientRequest(url: server.baseURL + "/answer"))
        await server.stop()
        #expect(cancelled == 100)
        #expect(waited < .seconds(3))
        #expect(next.text == "answer 1")
    }

    /// A flow's URL comes from YAML and answers come from outside: neither may read a local file.
    @Test func onlyHTTPAndHTTPSAreFetchedEvenThroughARedirect() async throws {
        let server = try await EmulatorServer.start(Service().router, name: "api")
        let client = CurlHTTPClient()
        let direct = await #expect(throws: ConnectorError.self) {
            try await client.send(HTTPClientRequest(url: "file:///etc/passwd"))
        }
        let redirected = await #expect(throws: ConnectorError.self) {
            try await client.send(HTTPClientRequest(url: server.baseURL + "/to-a-file"))
        }
        await server.stop()
        #expect(direct?.code == "bad-url")
        #expect(direct?.disposition == .permanent)
        #expect(redirected?.code == "network")
        #expect(redirected?.message.contains("root:") == false)
    }

    @Test func aHeaderWithALineBreakIsRefusedBeforeAnythingIsSent() async throws {
        let service = Service()
        let server = try await EmulatorServer.start(service.router, name: "api")
        let error = await #expect(throws: ConnectorError.self) {
            try await CurlHTTPClient().send(HTTPClientRequest(url: server.baseURL + "/answer",
                                                              headers: ["X-Name": "Ivan\r\nCookie: session=stolen"]))
        }
        await server.stop()
        #expect(error?.code == "bad-header")
        #expect(service.hits.withLock { $0 } == 0)
    }

    /// A cancelled step must not wait for the service: the call ends at once, and the client
    /// goes on serving the calls after it.
    @Test func cancellingACallEndsItAtOnce() async throws {
        let server = try await EmulatorServer.start(Service().router, name: "api")
        let client = CurlHTTPClient()
        let call = Task { try await client.send(HTTPClientRequest(url: server.baseURL + "/slow/x")) }
        try await Task.sleep(for: .milliseconds(200))
        let started = ContinuousClock.now
        call.cancel()
        let outcome = await call.result
        let waited = ContinuousClock.now - started
        let next = try await client.send(HTTPClientRequest(url: server.baseURL + "/answer"))
        await server.stop()
        #expect(throws: CancellationError.self) { try outcome.get() }
        #expect(waited < .seconds(2))
        #expect(next.text == "answer 1")
    }

    /// Real services are reached over TLS, verified against the system's certificate store: a
    /// server with a self-signed certificate is refused, not talked to (`openssl s_server -www`
    /// would answer 200 to a client that skipped the check).
    @Test func aCertificateTheSystemDoesNotTrustIsRefused() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = folder.appendingPathComponent("key.pem").path, certificate = folder.appendingPathComponent("cert.pem").path
        let make = try Self.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                                     "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate])
        make.waitUntilExit()
        #expect(make.terminationStatus == 0)
        let port = TestHTTP.freePort()
        let server = try Self.openssl(["s_server", "-accept", "\(port)", "-cert", certificate, "-key", key, "-www", "-quiet"])
        defer { server.terminate() }
        let deadline = ContinuousClock.now + .seconds(10)
        while !Self.accepts(port: port), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }

        let error = await #expect(throws: ConnectorError.self) {
            try await CurlHTTPClient().send(HTTPClientRequest(url: "https://127.0.0.1:\(port)/bot123:SECRET/getMe", timeout: .seconds(5)))
        }
        #expect(error?.code == "network")
        #expect(error?.message == "cannot reach 127.0.0.1: SSL peer certificate or SSH remote key was not OK")
    }

    private static func openssl(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    private static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
