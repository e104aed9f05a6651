import Flows
import Foundation
import Hummingbird
import NIOCore

extension OpenAIEmulator {
    /// Routes `POST /v1/chat/completions` and `GET /v1/models`; any other path answers OpenAI's JSON 404.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("v1/chat/completions") { [self] request, _ in await self.chatCompletions(request) }
        router.get("v1/models") { [self] request, _ in self.listModels(request) }
        router.add(middleware: OpenAINotFound())
        return router
    }

    /// OpenAI answers unknown URLs with its error envelope, not an HTML page.
    struct OpenAINotFound<Context: RequestContext>: RouterMiddleware {
        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            do {
                return try await next(request, context)
            } catch let error as HTTPError where error.status == .notFound {
                return OpenAIEmulator.error(404, "Invalid URL (\(request.method) \(request.uri.path))", type: "invalid_request_error")
            }
        }
    }

    func chatCompletions(_ request: Request) async -> Response {
        let bytes: ByteBuffer
        do {
            bytes = try await request.body.collect(upTo: 4 << 20)
        } catch {
            return Self.error(400, "The request body is too large or unreadable.", type: "invalid_request_error")
        }
        let body = (try? Value(json: String(buffer: bytes))) ?? .null
        let id = state.withLock { s -> Int in
            s.requests.append(body)
            s.nextID += 1
            return s.nextID
        }
        if let apiKey {
            let authorization = request.headers[.authorization] ?? ""
            guard authorization.hasPrefix("Bearer ") else {
                return Self.error(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                                  type: "invalid_request_error")
            }
            let given = String(authorization.dropFirst("Bearer ".count))
            guard given == apiKey else {
                return Self.error(401, "Incorrect API key provided: \(Self.masked(given)). You can find your API key at https://platform.openai.com/account/api-keys.",
                                  type: "invalid_request_error", code: "invalid_api_key")
            }
        }
        // Taken only now: a request with a wrong key must not use up a fault meant for the client.
        if let fault = state.withLock({ $0.faults.isEmpty ? nil : $0.takeFault() }) { return Self.response(for: fault) }
        guard let messages = body["messages"]?.arrayValue, !messages.isEmpty else {
            return Self.error(400, body.isNull ? "We could not parse the JSON body of your request." : "Missing required parameter: 'messages'.",
                              type: "invalid_request_error", param: "messages")
        }
        guard let model = body["model"]?.stringValue, !model.isEmpty else {
            return Self.error(400, "Missing required parameter: 'model'.", type: "invalid_request_error", param: "model")
        }
        // Reasoning models take only the default temperature, as OpenAI's do.
        if Self.isReasoningModel(model), let temperature = body["temperature"]?.numberValue, temperature != 1 {
            return Self.error(400, "Unsupported value: 'temperature' does not support \(temperature) with this model. Only the default (1) value is supported.",
                              type: "invalid_request_error", param: "temperature", code: "unsupported_value")
        }
        let message = Self.reply(to: messages, tools: body["tools"]?.arrayValue ?? [])
        let json: Value = [
            "id": .string("chatcmpl-emulated\(id)"), "object": "chat.completion", "created": .number(Date().timeIntervalSince1970.rounded(.down)),
            "model": .string(model), "service_tier": "default", "system_fingerprint": nil,
            "choices": [["index": 0, "logprobs": nil, "message": message.json,
                         "finish_reason": .string(message.toolCall == nil ? "stop" : "tool_calls")]],
            "usage": ["prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120,
                      "prompt_tokens_details": ["cached_tokens": 0], "completion_tokens_details": ["reasoning_tokens": 0]],
        ]
        return Self.json(200, json, extra: ["x-request-id": "req_emulated\(id)"])
    }

    /// The o-series and GPT-5 models.
    static func isReasoningModel(_ model: String) -> Bool {
        ["o1", "o3", "o4", "gpt-5"].contains { model == $0 || model.hasPrefix($0 + "-") }
    }

    static func response(for fault: Fault) -> Response {
        var headers: [String: String] = [:]
        if let seconds = fault.retryAfter { headers["retry-after"] = headerValue(seconds: seconds) }
        if let ms = fault.retryAfterMilliseconds { headers["retry-after-ms"] = String(ms) }
        switch (fault.status, fault.code) {
        case (429, "insufficient_quota"):
            return error(429, "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
                         type: "insufficient_quota", code: "insufficient_quota", headers: headers)
        case (429, let code):
            return error(429, "Rate limit reached for gpt-4o-mini in organization org-emulated on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.",
                         type: "requests", code: code ?? "rate_limit_exceeded", headers: headers)
        case (503, let code):
            return error(503, "The engine is currently overloaded, please try again later.", type: "server_error", code: code, headers: headers)
        case (500..., let code):
            return error(fault.status, "The server had an error while processing your request. Sorry about that!", type: "server_error", code: code, headers: headers)
        case (let status, let code):
            return error(status, "Emulated failure.", type: "invalid_request_error", code: code, headers: headers)
        }
    }

    /// Whole seconds as digits, however many (`1e19` → "10000000000000000000", which `Int` cannot
    /// hold); anything else (`1.5`, `inf`) as Swift prints it.
    static func headerValue(seconds: Double) -> String {
        seconds.isFinite && seconds.rounded() == seconds ? String(format: "%.0f", seconds) : String(seconds)
    }

    /// OpenAI's error envelope: all four keys present, `param` and `code` null when unknown.
    static func error(_ status: Int, _ message: String, type: String, param: String? = nil, code: String? = nil,
                      headers: [String: String] = [:]) -> Response
    {
        let body: Value = ["error": ["message": .string(message), "type": .string(type),
                                     "param": param.map(Value.string) ?? .null, "code": code.map(Value.string) ?? .null]]
        return json(status, body, extra: headers)
    }

    static func json(_ status: Int, _ body: Value, extra: [String: String] = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        for (name, value) in extra { headers[.init(name)!] = value }
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: body.json)))
    }

    /// Like OpenAI: the first characters and the last four, stars between.
    static func masked(_ key: String) -> String {
        guard key.count > 12 else { return String(repeating: "*", count: key.count) }
        return String(key.prefix(3)) + String(repeating: "*", count: key.count - 7) + String(key.suffix(4))
    }
}

extension OpenAIEmulator.State {
    mutating func takeFault() -> OpenAIEmulator.Fault? {
        guard var fault = faults.first else { return nil }
        fault.remaining -= 1
        if fault.remaining <= 0 { faults.removeFirst() } else { faults[0] = fault }
        return fault
    }
}
