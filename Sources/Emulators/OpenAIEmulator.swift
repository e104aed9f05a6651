import Flows
import Foundation
import Hummingbird
import Synchronization

/// A local OpenAI-compatible server: `POST /v1/chat/completions` with OpenAI's envelopes, its
/// error body (`{"error": {message, type, param, code}}`), Bearer authentication and 429s, and
/// deterministic answers instead of a model. Serve `router()` with `EmulatorServer` and point
/// the connector's `base_url` at `<server>/v1`.
///
/// How it answers (the last `user` message decides):
/// 1. it contains "оператор", "человек" or "operator" (any case) and the request offers the
///    `escalate_to_human` tool → a tool call to it, `{"reason": "the client asked for a human"}`,
///    `finish_reason: "tool_calls"`, `content: null`; "возврат" or "refund" (what the support
///    prompt tells a model to hand over) → the same call with `{"reason": "the client asks for a refund"}`;
/// 2. else, when the system prompt has a `<knowledge>` … `</knowledge>` block, the section of it
///    (split at `#` headings) that best matches the question's keywords (words of four or more
///    letters, compared by their first five, so `ссылку` finds `ссылка`; a heading match counts
///    double) → `"По базе знаний: <the section's first line>"` (see `knowledgeLine`);
/// 3. else `"Ответ: <the question>"`.
///
/// Tests read `requests` (every JSON body, in order, also those answered with a fault) and
/// inject faults with `failNext`.
public final class OpenAIEmulator: Sendable {
    /// The key requests must carry as `Authorization: Bearer <key>`; nil accepts any request.
    public let apiKey: String?
    let state = Mutex(State())

    struct State {
        var requests: [Value] = []
        var faults: [Fault] = []
        var nextID = 1
    }

    struct Fault {
        var remaining: Int
        var status: Int
        var retryAfter: Double?
        var retryAfterMilliseconds: Int?
        var code: String?
    }

    /// Creates an emulator that accepts only `apiKey` (any key when nil).
    public init(apiKey: String?) {
        self.apiKey = apiKey
    }

    /// Every request body received, in order, as parsed JSON (`null` when it was not JSON).
    public var requests: [Value] { state.withLock { $0.requests } }

    /// Answers the next `count` requests with `status` before anything else is checked but the
    /// key: 429 with code `rate_limit_exceeded` (the default for 429, with a `retry-after`
    /// header of `retryAfter` seconds, 1 when not given) or `insufficient_quota` (no
    /// `retry-after`, as OpenAI sends it); 500 `server_error`; 503 "overloaded"; any other status
    /// with `code` as given. `retryAfterMilliseconds` adds a `retry-after-ms` header.
    public func failNext(_ count: Int, status: Int, retryAfter: Double? = nil, retryAfterMilliseconds: Int? = nil, code: String? = nil) {
        guard count > 0 else { return }
        let code = code ?? (status == 429 ? "rate_limit_exceeded" : nil)
        let retryAfter = retryAfter ?? (code == "rate_limit_exceeded" && retryAfterMilliseconds == nil ? 1 : nil)
        state.withLock {
            $0.faults.append(Fault(remaining: count, status: status, retryAfter: retryAfter,
                                   retryAfterMilliseconds: retryAfterMilliseconds, code: code))
        }
    }

    /// Forgets the recorded requests and pending faults.
    public func reset() {
        state.withLock { $0 = State() }
    }
}
