import Emulators
import Flows
import Foundation
@testable import Hub
import HTTPConnector
import HTTPTypes
import Hummingbird
import Logging
import Synchronization
import Testing

/// `http.request` as a flow step uses it: bad inputs fail the step, never the hub; a redirect
/// fails the step (a POST would arrive as an empty GET, headers at another host); a service's
/// wait is bounded.
@Suite(.timeLimit(.minutes(1))) struct HTTPConnectorTests {
    final class Service: Sendable {
        let arrivals = Mutex<[String]>([])

        var router: Router<BasicRequestContext> {
            let router = Router()
            router.post("/moved") { _, _ in Response(status: .found, headers: [.location: "/answer"]) }
            router.get("/moved-get") { _, _ in Response(status: .found, headers: [.location: "/answer"]) }
            router.on("/answer", method: .get) { _, _ -> String in self.arrivals.withLock { $0.append("GET") }; return "{}" }
            router.post("/answer") { _, _ -> String in self.arrivals.withLock { $0.append("POST") }; return "{}" }
            router.post("/busy") { _, _ in Response(status: .tooManyRequests, headers: [.retryAfter: "99999999999999999"]) }
            return router
        }
    }

    static func call(_ inputs: [String: Value]) -> ActionCall {
        ActionCall(action: "request", inputs: Fields(inputs), idempotencyKey: "run-1:call", runID: "run-1", stepID: "call",
                   flow: "test", logger: Logger(label: "test"))
    }

    static func connector() -> HTTPConnector {
        HTTPConnector(config: Fields([:]), services: ConnectorServices(
            instance: "http", logger: Logger(label: "test"), database: nil, http: CurlHTTPClient(), events: ConnectorHealth.NoEvents(), publicURL: "http://127.0.0.1"))
    }

    @Test("a timeout out of range is a bad input of the step", arguments: [1e19, 0, -1, 3601])
    func timeoutOutOfRange(_ timeout: Double) async {
        let error = await #expect(throws: ConnectorError.self) {
            try await Self.connector().perform(Self.call(["url": "http://127.0.0.1:9/x", "timeout": .number(timeout)]))
        }
        #expect(error?.code == "bad-input" && error?.disposition == .permanent)
    }

    @Test func aRedirectedPostFailsInsteadOfArrivingAsAGet() async throws {
        let service = Service()
        let server = try await EmulatorServer.start(service.router, name: "api")
        let error = await #expect(throws: ConnectorError.self) {
            try await Self.connector().perform(Self.call(["url": .string(server.baseURL + "/moved"), "json": ["lead": "Анна"]]))
        }
        await server.stop()
        #expect(error?.code == "http-302" && error?.disposition == .permanent)
        #expect(service.arrivals.withLock { $0 }.isEmpty)
    }

    @Test("a redirected GET is not followed either: its headers would go to whatever host the redirect names")
    func aRedirectedGetIsNotFollowed() async throws {
        let service = Service()
        let server = try await EmulatorServer.start(service.router, name: "api")
        let error = await #expect(throws: ConnectorError.self) {
            try await Self.connector().perform(Self.call(["url": .string(server.baseURL + "/moved-get"), "method": "GET",
                                                          "headers": ["X-Api-Key": "secret-key"]]))
        }
        await server.stop()
        #expect(error?.code == "http-302")
        #expect(service.arrivals.withLock { $0 }.isEmpty)
    }

    @Test func anAbsurdRetryAfterIsAnHourAtMost() async throws {
        let server = try await EmulatorServer.start(Service().router, name: "api")
        let error = await #expect(throws: ConnectorError.self) {
            try await Self.connector().perform(Self.call(["url": .string(server.baseURL + "/busy")]))
        }
        await server.stop()
        #expect(error?.disposition == .retryAfter(.seconds(3600)))
        #expect(Duration.seconds(Int64.max / 2).milliseconds == .max)
    }

    /// A step's error lands in the run's record, the logs and the dashboard: an API key in the URL
    /// must not come along with it.
    @Test("a URL that is not http(s) fails the step without repeating the URL", arguments: [
        ("ftp://x/?k=SECRET", "'ftp:'"), ("crm.example.com/leads?api_key=SECRET", "http:// or https://"),
    ])
    func aBadURLIsNotRepeated(_ url: String, _ says: String) async {
        let error = await #expect(throws: ConnectorError.self) {
            try await Self.connector().perform(Self.call(["url": .string(url)]))
        }
        #expect(error?.code == "bad-url" && error?.disposition == .permanent)
        #expect(error?.description.contains("SECRET") == false, "\(error?.description ?? "")")
        #expect(error?.message.contains("not an http(s) URL") == true && error?.message.contains(says) == true, "\(error?.message ?? "")")
    }
}
