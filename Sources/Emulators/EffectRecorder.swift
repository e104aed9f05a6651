import Flows
import Hummingbird
import NIOCore
import Synchronization

/// A stand-in for any API that honours `Idempotency-Key` (as payment and CRM APIs do): it
/// records every delivery, performs each key's effect once, and answers with faults on demand.
/// Tests count effects with it; a second delivery of a key is answered like the first.
public final class EffectRecorder: Sendable {
    public struct Delivery: Sendable {
        public var path: String
        public var key: String?
        public var body: String
    }

    private struct State {
        var deliveries: [Delivery] = []
        var effects: [String: Int] = [:]
        var failures: [(status: Int, retryAfter: Int?)] = []
        var delay: Duration = .zero
    }

    private let state = Mutex(State())

    public init() {}

    /// Every request received, duplicates included.
    public var deliveries: [Delivery] { state.withLock { $0.deliveries } }
    /// Effects performed, by idempotency key (each at most once).
    public var effects: [String: Int] { state.withLock { $0.effects } }

    /// The next `count` requests are answered with `status` (and `Retry-After` when given).
    public func failNext(_ count: Int, status: Int, retryAfter: Int? = nil) {
        state.withLock { $0.failures += Array(repeating: (status, retryAfter), count: count) }
    }

    /// Every answer from now on comes `delay` after its request was recorded (a slow API).
    public func delayAnswers(by delay: Duration) {
        state.withLock { $0.delay = delay }
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("**") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let key = request.headers[.init("Idempotency-Key")!]
            let (fault, delay) = self.state.withLock { s -> ((Int, Int?)?, Duration) in
                s.deliveries.append(Delivery(path: request.uri.path, key: key, body: String(buffer: body)))
                if !s.failures.isEmpty { return (s.failures.removeFirst(), s.delay) }
                let id = key ?? "no-key-\(s.deliveries.count)"
                if s.effects[id] == nil { s.effects[id] = s.effects.count + 1 }
                return (nil, s.delay)
            }
            if delay > .zero { try await Task.sleep(for: delay) }
            if let (status, retryAfter) = fault {
                var headers: HTTPFields = [.contentType: "application/json"]
                if let retryAfter { headers[.retryAfter] = String(retryAfter) }
                return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: "{\"error\":\"injected\"}")))
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"ok\":true}")))
        }
        return router
    }
}
