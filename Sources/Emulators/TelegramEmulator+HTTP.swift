import Flows
import Foundation
import Hummingbird

extension TelegramEmulator {
    /// Routes `/bot<token>/<method>` (GET and POST) like api.telegram.org; anything else is 404.
    public func router() -> Router<BasicRequestContext> { router(faults: nil) }

    /// The Bot API routes, with `faults` (if any) in front of every method. A router's middleware
    /// wraps only the routes added after it, so it goes in first.
    func router(faults: TelegramFaults?) -> Router<BasicRequestContext> {
        let router = Router()
        if let faults { router.add(middleware: faults) }
        let handle: @Sendable (Request, BasicRequestContext) async throws -> Response = { [self] request, context in
            await self.handle(request, context: context)
        }
        router.get("{bot}/{method}", use: handle)
        router.post("{bot}/{method}", use: handle)
        router.add(middleware: NotFoundAsJSON())
        return router
    }

    /// Telegram answers unknown paths with a JSON 404 envelope, not an HTML page.
    struct NotFoundAsJSON<Context: RequestContext>: RouterMiddleware {
        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            do {
                return try await next(request, context)
            } catch let error as HTTPError where error.status == .notFound {
                return TelegramEmulator.response(status: 404, body: TelegramEmulator.errorBody(APIError(code: 404, description: "Not Found")))
            }
        }
    }

    func handle(_ request: Request, context: BasicRequestContext) async -> Response {
        var request = request
        let segment = context.parameters.get("bot").map { $0.removingPercentEncoding ?? $0 } ?? ""
        let requested = context.parameters.get("method").map { $0.removingPercentEncoding ?? $0 } ?? ""
        guard segment.hasPrefix("bot") else {
            return Self.response(status: 404, body: Self.errorBody(APIError(code: 404, description: "Not Found")))
        }
        let spec = Self.methods[requested.lowercased()]
        let method = TelegramMethodName(spec?.name ?? requested)
        // The token is checked before the parameters, as on the real server. A stranger's body is
        // neither read nor kept: up to 50 MiB each, recorded in `calls` for good, it would let
        // anyone who reaches the port fill the sandbox hub's memory.
        guard String(segment.dropFirst(3)) == token else {
            return finish(method, requested, Params(values: [:]), .failure(APIError(code: 401, description: "Unauthorized")))
        }
        let params: Params
        do {
            params = try await Self.readParams(&request)
        } catch {
            let failure = error as? APIError ?? .badRequest("can't read request body")
            return finish(method, requested, Params(values: [:]), .failure(failure))
        }
        guard let spec else {
            return finish(method, requested, params, .failure(APIError(code: 404, description: "Not Found: method not found")))
        }
        if let fault = takeFault(for: spec.name) {
            return finish(method, requested, params, .failure(fault))
        }
        do {
            return finish(method, requested, params, .success(try await spec.run(self, params)))
        } catch let error as APIError {
            return finish(method, requested, params, .failure(error))
        } catch {
            return finish(method, requested, params, .failure(APIError(code: 500, description: "Internal Server Error")))
        }
    }

    private func finish(_ method: TelegramMethodName, _ requested: String, _ params: Params, _ outcome: Result<MethodOutput, APIError>) -> Response {
        let status: Int
        let body: Value
        var retryAfter: Int?
        var failure: String?
        switch outcome {
        case .success(let output):
            status = 200
            var o: [String: Value] = ["ok": true, "result": output.result]
            if let description = output.description { o["description"] = .string(description) }
            body = .object(o)
        case .failure(let error):
            status = error.code
            body = Self.errorBody(error)
            retryAfter = error.retryAfter
            failure = error.description
        }
        state.withLock { s in
            s.calls.append(RecordedCall(method: method, requestedName: requested, params: .object(params.values),
                                        status: status, errorDescription: failure))
        }
        return Self.response(status: status, body: body, retryAfter: retryAfter)
    }

    static func errorBody(_ error: APIError) -> Value {
        var o: [String: Value] = ["ok": false, "error_code": .number(Double(error.code)), "description": .string(error.description)]
        var parameters: [String: Value] = [:]
        if let retryAfter = error.retryAfter { parameters["retry_after"] = .number(Double(retryAfter)) }
        if let migrate = error.migrateToChatID { parameters["migrate_to_chat_id"] = .number(Double(migrate)) }
        if !parameters.isEmpty { o["parameters"] = .object(parameters) }
        return .object(o)
    }

    static func response(status: Int, body: Value, retryAfter: Int? = nil) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: body.json)))
    }

    private func takeFault(for method: String) -> APIError? {
        state.withLock { s in
            guard let index = s.faults.firstIndex(where: { $0.method == nil || $0.method == method.lowercased() }) else { return nil }
            let fault = s.faults[index]
            s.faults[index].remaining -= 1
            if s.faults[index].remaining <= 0 { s.faults.remove(at: index) }
            return APIError(code: fault.status, description: fault.description ?? Self.defaultDescription(fault.status, retryAfter: fault.retryAfter),
                            retryAfter: fault.status == 429 ? fault.retryAfter : nil)
        }
    }

    static func defaultDescription(_ status: Int, retryAfter: Int?) -> String {
        switch status {
        case 400: "Bad Request: emulated failure"
        case 401: "Unauthorized"
        case 403: "Forbidden: bot was blocked by the user"
        case 404: "Not Found"
        case 409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
        case 429: "Too Many Requests: retry after \(retryAfter ?? 1)"
        case 502: "Bad Gateway"
        default: "Internal Server Error"
        }
    }

    // MARK: Parameters

    /// Object parameters that form and query encodings carry as JSON-serialised strings.
    static let jsonParameters: Set<String> = [
        "reply_markup", "allowed_updates", "link_preview_options", "reply_parameters", "entities",
        "caption_entities", "commands", "scope", "permissions",
    ]

    /// Reads the query string and the body (JSON, urlencoded or multipart); body values win.
    static func readParams(_ request: inout Request) async throws -> Params {
        var values: [String: Value] = [:]
        if let query = request.uri.query {
            for (key, value) in decodeForm(query) { values[key] = .string(value) }
        }
        let buffer = try await request.collectBody(upTo: 50 << 20)
        let bytes = Array(buffer.readableBytesView)
        let contentType = (request.headers[.contentType] ?? "").lowercased()
        if !bytes.isEmpty {
            if contentType.hasPrefix("application/json") {
                guard case .object(let object)? = try? Value(jsonData: Data(bytes)) else {
                    throw APIError.badRequest("can't parse JSON object")
                }
                values.merge(object) { _, body in body }
            } else if contentType.hasPrefix("multipart/form-data") {
                guard let boundary = multipartBoundary(request.headers[.contentType] ?? "") else {
                    throw APIError.badRequest("can't find multipart boundary")
                }
                for part in parseMultipart(bytes, boundary: boundary) {
                    if let filename = part.filename {
                        values[part.name] = .object(["upload": .string(filename), "size": .number(Double(part.body.count))])
                    } else {
                        values[part.name] = .string(String(decoding: part.body, as: UTF8.self))
                    }
                }
            } else {
                // Telegram treats any other body as urlencoded form data.
                for (key, value) in decodeForm(String(decoding: bytes, as: UTF8.self)) { values[key] = .string(value) }
            }
        }
        for key in jsonParameters {
            if case .string(let text)? = values[key], let decoded = try? Value(json: text) { values[key] = decoded }
        }
        return Params(values: values)
    }

    static func decodeForm(_ text: String) -> [(String, String)] {
        text.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            guard let key = parts.first, !key.isEmpty else { return nil }
            return (decode(key), parts.count > 1 ? decode(parts[1]) : "")
        }
    }
}

/// A Bot API failure: `error_code` (also the HTTP status), `description`, `parameters`.
struct APIError: Error {
    var code: Int
    var description: String
    var retryAfter: Int? = nil
    var migrateToChatID: Int64? = nil

    static func badRequest(_ text: String) -> APIError { APIError(code: 400, description: "Bad Request: \(text)") }
    static func forbidden(_ text: String) -> APIError { APIError(code: 403, description: "Forbidden: \(text)") }
    static func conflict(_ text: String) -> APIError { APIError(code: 409, description: "Conflict: \(text)") }
    static func tooManyRequests(retryAfter: Int) -> APIError {
        APIError(code: 429, description: "Too Many Requests: retry after \(retryAfter)", retryAfter: retryAfter)
    }
    static let chatNotFound = APIError.badRequest("chat not found")
}

/// A method's success: `result` and an optional `description` ("Webhook was set").
struct MethodOutput {
    var result: Value
    var description: String? = nil
}

/// One method: its canonical name and implementation.
struct MethodSpec: Sendable {
    var name: String
    var run: @Sendable (TelegramEmulator, Params) async throws -> MethodOutput
}

/// A request's parameters with the Bot API's lenient typing (form values arrive as strings).
struct Params {
    var values: [String: Value]

    subscript(key: String) -> Value? {
        guard let value = values[key], !value.isNull else { return nil }
        return value
    }

    func string(_ key: String) -> String? {
        switch self[key] {
        case .string(let s)?: s
        case .number(let n)?: Value.number(n).text
        case .bool(let b)?: b ? "true" : "false"
        default: nil
        }
    }

    func int64(_ key: String) -> Int64? {
        switch self[key] {
        case .number(let n)? where n.rounded() == n: Int64(exactly: n)
        case .string(let s)?: Int64(s.trimmingCharacters(in: .whitespaces))
        default: nil
        }
    }

    func int(_ key: String) -> Int? { int64(key).map { Int(clamping: $0) } }

    func bool(_ key: String) -> Bool {
        switch self[key] {
        case .bool(let b)?: b
        case .number(let n)?: n != 0
        case .string(let s)?: ["true", "1", "yes"].contains(s.lowercased())
        default: false
        }
    }

    /// A nested object parameter; a string that is not JSON is a 400 with `what` in the text.
    func object(_ key: String, what: String) throws -> [String: Value]? {
        guard let value = self[key] else { return nil }
        guard case .object(let o) = value else { throw APIError.badRequest("can't parse \(what) JSON object") }
        return o
    }

    func requireChatID() throws -> Int64 {
        guard let raw = self["chat_id"] else { throw APIError.badRequest("chat_id is empty") }
        if let id = int64("chat_id") { return id }
        if case .string(let s) = raw, s.hasPrefix("@") { throw APIError.chatNotFound }
        throw APIError.badRequest("chat not found")
    }

    func requireUserID() throws -> Int64 {
        guard let id = int64("user_id") else { throw APIError.badRequest("invalid user_id specified") }
        return id
    }

    func requireMessageID(_ key: String = "message_id") throws -> Int64 {
        guard let id = int64(key) else { throw APIError.badRequest("message identifier is not specified") }
        return id
    }
}
