import Emulators
import Flows
import Hummingbird
import Synchronization
import Testing

/// The connectors' HTTP client talks to APIs: every call reaches the service, and nothing one
/// answer set (a cookie) rides along on the next call.
@Suite struct HTTPClientTests {
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
            return router
        }
    }

    @Test func everyCallReachesTheServiceWithoutCookies() async throws {
        let service = Service()
        let server = try await EmulatorServer.start(service.router, name: "api")
        let client = URLSessionHTTPClient()
        var bodies: [String] = []
        for _ in 0..<3 {
            bodies.append(try await client.send(HTTPClientRequest(url: server.baseURL + "/answer")).text)
        }
        await server.stop()
        #expect(bodies == ["answer 1", "answer 2", "answer 3"])
        #expect(service.hits.withLock { $0 } == 3)
        #expect(service.cookiesSeen.withLock { $0 } == ["", "", ""])
    }
}
