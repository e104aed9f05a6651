import Flows
import Foundation
import Hummingbird
import Synchronization

/// Faults in front of a `TelegramEmulator`, for storm and crash tests: a repeating pattern of
/// 429s or 5xx, requests that hang (a timeout as the client sees it), and a gate that holds
/// requests and then drops them. Every injected failure is answered *before* the method takes
/// effect, as a front proxy does, so a client that retries delivers the message exactly once.
///
/// Serve the emulator with it in front: `EmulatorServer.start(telegram.router(faults: faults), name: "telegram")`.
public final class TelegramFaults: RouterMiddleware, Sendable {
    public typealias Context = BasicRequestContext

    private struct Pattern {
        var method: String?
        var status: Int
        var retryAfter: Int?
        var failures: Int
        var period: Int
        var remaining: Int
        var seen = 0
    }

    private struct Stall {
        var method: String?
        var remaining: Int
        var duration: Duration
    }

    private struct State {
        var patterns: [Pattern] = []
        var stalls: [Stall] = []
        var gatedMethods: Set<String>? = nil
        var held: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextHold = 0
        var injected: [String: Int] = [:]
        var arrivals: [Arrival] = []
    }

    /// One send request as it reached the emulator, answered or not.
    public struct Arrival: Sendable {
        public var chatID: Int64?
        public var at: ContinuousClock.Instant
        /// Whether it went on to the emulator (false: a fault answered it).
        public var passed: Bool
    }

    private let state = Mutex(State())

    public init() {}

    /// Of every `period` requests of `method` (any method when nil), the first `failures` are
    /// answered `status` (429 with `retry_after`), until `total` failures were injected.
    public func storm(method: String?, status: Int, retryAfter: Int? = nil, failures: Int, every period: Int, total: Int) {
        state.withLock {
            $0.patterns.append(Pattern(method: method?.lowercased(), status: status, retryAfter: status == 429 ? (retryAfter ?? 1) : nil,
                                       failures: max(0, failures), period: max(1, period), remaining: total))
        }
    }

    /// The next `count` requests of `method` hang for `duration`, then get 504 without taking effect.
    /// With `duration` above the client's timeout, the client sees a timeout.
    public func stallNext(_ count: Int, method: String?, for duration: Duration) {
        state.withLock { $0.stalls.append(Stall(method: method?.lowercased(), remaining: count, duration: duration)) }
    }

    /// From now on requests of `methods` are held; `openGate()` answers them 502 without effect.
    public func closeGate(methods: [String]) {
        state.withLock { $0.gatedMethods = Set(methods.map { $0.lowercased() }) }
    }

    /// Lets requests through again and drops the held ones (502, nothing done).
    public func openGate() {
        let held = state.withLock { s in
            s.gatedMethods = nil
            defer { s.held = [:] }
            return Array(s.held.values)
        }
        for continuation in held { continuation.resume() }
    }

    /// Requests held at the gate right now.
    public var heldCount: Int { state.withLock { $0.held.count } }

    /// Injected failures by kind (`429`, `500`, `timeout`, `dropped`), for the test's report.
    public var injected: [String: Int] { state.withLock { $0.injected } }

    /// Every send request (sendMessage and the like) in order of arrival, for pacing checks.
    public var arrivals: [Arrival] { state.withLock { $0.arrivals } }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        let method = request.uri.path.split(separator: "/").last.map { $0.lowercased() } ?? ""
        let decision = decide(method)
        if method.hasPrefix("send") || method == "copymessage" || method == "forwardmessage" {
            // The chat is read from a JSON body (what the hub sends); the body is put back for the emulator.
            let buffer = try await request.body.collect(upTo: 1 << 22)
            request.body = RequestBody(buffer: buffer)
            let chat = (try? Value(json: String(buffer: buffer)))?["chat_id"]?.intValue.map(Int64.init)
            let passed = if case .pass = decision { true } else { false }
            state.withLock { $0.arrivals.append(Arrival(chatID: chat, at: .now, passed: passed)) }
        }
        switch decision {
        case .pass:
            return try await next(request, context)
        case .fail(let status, let retryAfter):
            let error = APIError(code: status, description: TelegramEmulator.defaultDescription(status, retryAfter: retryAfter),
                                 retryAfter: retryAfter)
            return TelegramEmulator.response(status: status, body: TelegramEmulator.errorBody(error), retryAfter: retryAfter)
        case .stall(let duration):
            try? await Task.sleep(for: duration)
            return Self.proxyError(504, "Gateway Timeout")
        case .hold(let id):
            await withCheckedContinuation { continuation in
                let open = state.withLock { s -> Bool in
                    guard s.gatedMethods != nil else { return true }
                    s.held[id] = continuation
                    return false
                }
                if open { continuation.resume() }
            }
            return Self.proxyError(502, "Bad Gateway")
        }
    }

    private enum Decision {
        case pass
        case fail(Int, Int?)
        case stall(Duration)
        case hold(Int)
    }

    private func decide(_ method: String) -> Decision {
        state.withLock { s in
            if let gated = s.gatedMethods, gated.contains(method) {
                s.nextHold += 1
                s.injected["dropped", default: 0] += 1
                return .hold(s.nextHold)
            }
            if let index = s.stalls.firstIndex(where: { $0.method == nil || $0.method == method }) {
                s.stalls[index].remaining -= 1
                let duration = s.stalls[index].duration
                if s.stalls[index].remaining <= 0 { s.stalls.remove(at: index) }
                s.injected["timeout", default: 0] += 1
                return .stall(duration)
            }
            for index in s.patterns.indices where s.patterns[index].method == nil || s.patterns[index].method == method {
                guard s.patterns[index].remaining > 0 else { continue }
                let position = s.patterns[index].seen % s.patterns[index].period
                s.patterns[index].seen += 1
                if position < s.patterns[index].failures {
                    s.patterns[index].remaining -= 1
                    s.injected[String(s.patterns[index].status), default: 0] += 1
                    return .fail(s.patterns[index].status, s.patterns[index].retryAfter)
                }
            }
            return .pass
        }
    }

    /// What a front proxy answers: an HTML page, not the Bot API's JSON envelope.
    private static func proxyError(_ status: Int, _ reason: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "text/html"],
                 body: .init(byteBuffer: ByteBuffer(string: "<html><head><title>\(status) \(reason)</title></head><body>\(reason)</body></html>")))
    }
}

extension TelegramEmulator {
    /// `router()` with `faults` in front of every Bot API method.
    public func router(faults: TelegramFaults) -> Router<BasicRequestContext> { router(faults: Optional(faults)) }
}
