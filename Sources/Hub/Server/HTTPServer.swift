import Flows
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Builds the hub's routes: health, metrics, connector webhooks and `http` flow triggers.
/// Pages (landing, dashboard) are added by their own route builders.
struct HTTPServer {
    let intake: Intake
    let flows: FlowRegistry
    let store: Store
    let connectorRoutes: [WebhookRoute]
    /// The dashboard under `/admin`, when the hub serves one.
    var admin: AdminDashboard? = nil
    /// `HUB_METRICS_TOKEN`: the bearer token `/metrics` asks for; nil serves it to anyone.
    var metricsToken: String? = nil
    /// Largest accepted body; anything bigger is refused with 413 before it is read whole.
    let maxBody = 1 << 20
    /// How long a connection may send nothing, between requests or within one, before it is closed.
    static let idleTimeout = TimeAmount.seconds(30)
    /// How long a stop waits for requests in progress before it closes their connections.
    static let stopLimit = Duration.seconds(5)

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { [store, intake] _, _ -> Response in
            // A server that stopped answering would hold the probe as long as it holds a webhook.
            let answered = await Deadline.result(within: intake.writeTimeout) {
                (try? await store.database.query("SELECT 1 AS ok")) != nil
            }
            return answered == true ? HTTPServer.text(.ok, "ok\n") : HTTPServer.text(.serviceUnavailable, "database unavailable\n")
        }
        router.get("/metrics") { [metricsToken] request, _ -> Response in
            // The runs counted per flow are the business's sales figures: with a token, only its holder reads them.
            if let metricsToken {
                let given = Array((request.headers[.authorization] ?? "").utf8)
                let expected = Array("Bearer \(metricsToken)".utf8)
                guard Crypto.constantTimeEquals(given, expected) else {
                    var refused = HTTPServer.text(.unauthorized, "a bearer token is needed: HUB_METRICS_TOKEN\n")
                    refused.headers[.wwwAuthenticate] = "Bearer"
                    return refused
                }
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(bytes: HubMetrics.exposition())))
        }
        for route in connectorRoutes {
            let handler = route.handler
            router.on(RouterPath(route.path), method: HTTPRequest.Method(route.method) ?? .post) { request, context -> Response in
                let incoming = try await webhookRequest(request, context: context)
                return HTTPServer.response(await handler(incoming))
            }
        }
        admin?.addRoutes(to: router)
        router.post("**") { request, context -> Response in
            try await httpTrigger(request, context: context)
        }
        // The router does not fall back from a matched literal segment to the catch-all above, so
        // `/hooks/prodamus` would hide an `http: /hooks/orders` flow: each such folder gets its own.
        for folder in Set(connectorRoutes.flatMap { HTTPServer.folders(of: $0.path) }) {
            router.post(RouterPath(folder + "/**")) { request, context -> Response in
                try await httpTrigger(request, context: context)
            }
        }
        return router
    }

    /// The folders above a route: `/a/b/c` → `/a`, `/a/b`.
    static func folders(of path: String) -> [String] {
        let parts = path.split(separator: "/")
        return parts.indices.dropLast().map { "/" + parts[...$0].joined(separator: "/") }
    }

    private func webhookRequest(_ request: Request, context: BasicRequestContext) async throws -> WebhookRequest {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBody)
        } catch {
            throw HTTPError(.contentTooLarge, message: "the body is larger than \(maxBody) bytes")
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        var query: [String: String] = [:]
        for (k, v) in request.uri.queryParameters { query[String(k)] = String(v) }
        return WebhookRequest(headers: headers, query: query, body: Array(buffer: body))
    }

    /// `on: { http: /path }` flows: JSON or form body becomes `event.body`; answered 202 once stored.
    private func httpTrigger(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let key = "http:\(request.uri.path)"
        guard !flows.flows(for: key).isEmpty else { return HTTPServer.text(.notFound, "not found\n") }
        let incoming = try await webhookRequest(request, context: context)
        let body: Value
        let type = incoming.headers["content-type"] ?? ""
        if type.contains("application/x-www-form-urlencoded") {
            let form = FormDecoding.decode(incoming.body)
            // Text with U+FFFD in place of the sender's bytes would reach the flow as if it were what was sent.
            guard form.notUTF8.isEmpty else { return HTTPServer.text(.badRequest, "the form must be UTF-8 text\n") }
            body = .object(form.fields.mapValues(Value.string))
        } else if incoming.body.isEmpty {
            body = .null
        } else {
            guard let parsed = try? Value(jsonData: Data(incoming.body)) else {
                return HTTPServer.text(.badRequest, "the body must be JSON or a urlencoded form\n")
            }
            body = parsed
        }
        // The delivery's own key, when it has one: a key too long to store would fail every
        // delivery for good (PostgreSQL's unique index cannot hold a few kilobytes).
        let delivery = HTTPServer.deliveryKeyHeaders.lazy.compactMap { name in incoming.headers[name.lowercased()].map { (name: name, key: $0) } }.first
        if let delivery, delivery.key.unicodeScalars.count > HTTPServer.maxDeliveryKey {
            return HTTPServer.text(.badRequest, "the \(delivery.name) header is longer than \(HTTPServer.maxDeliveryKey) characters\n")
        }
        // An empty key (a sender's template that rendered nothing) would make every later delivery a duplicate.
        if let delivery, delivery.key.trimmingCharacters(in: .whitespaces).isEmpty {
            return HTTPServer.text(.badRequest, "the \(delivery.name) header is empty\n")
        }
        let dedupKey = delivery?.key ?? UUID().uuidString
        // A caller's credentials, in headers or the query, are for the flow's `if:` to check, not
        // for the database and the dashboard's run pages: stored events carry them as "[redacted]".
        let allHeaders: [String: Value] = incoming.headers.mapValues(Value.string)
        let storedHeaders: [String: Value] = incoming.headers.redactingCredentials(inQuery: false).mapValues(Value.string)
        let allQuery: [String: Value] = incoming.query.mapValues(Value.string)
        let storedQuery: [String: Value] = incoming.query.redactingCredentials(inQuery: true).mapValues(Value.string)
        let screened = Value.object(["body": body, "query": .object(allQuery), "headers": .object(allHeaders)])
        let stored = Value.object(["body": body, "query": .object(storedQuery), "headers": .object(storedHeaders)])
        do {
            switch try await intake.emit(key: key, payload: stored, dedupKey: dedupKey, screened: screened) {
            case .accepted(let runs): return HTTPServer.text(.accepted, "{\"accepted\":true,\"runs\":\(runs)}\n", type: "application/json")
            case .duplicate: return HTTPServer.text(.ok, "{\"accepted\":false,\"duplicate\":true}\n", type: "application/json")
            }
        } catch let error as SQLError where error.kind == .unavailable || error.kind == .busy {
            return HTTPServer.text(.serviceUnavailable, "temporarily unavailable, try again\n")
        } catch {
            // Retrying would fail the same way: the caller hears so, and the operator reads why. Only
            // the error's code is logged: a database's message may quote the row, the caller's body.
            let reason = (error as? SQLError).map { "database error \($0.code)" } ?? "\(Swift.type(of: error))"
            intake.logger.error("cannot store a request to an http flow", metadata: ["trigger": "\(key)", "error": "\(reason)"])
            return HTTPServer.text(.internalServerError, "the request could not be stored; it is logged for the hub's operator\n")
        }
    }

    /// The headers that name a delivery, so a redelivery is taken as a duplicate; the first present is used.
    static let deliveryKeyHeaders = ["Idempotency-Key", "X-Request-Id"]
    /// Longest delivery key taken: a UUID or a hash is far shorter.
    static let maxDeliveryKey = 200

    static func text(_ status: HTTPResponse.Status, _ text: String, type: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func response(_ r: WebhookResponse) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = r.headers["content-type"] ?? "text/plain; charset=utf-8"
        for (name, value) in r.headers where name.lowercased() != "content-type" {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return Response(status: HTTPResponse.Status(code: r.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: r.body)))
    }
}

extension [String: String] {
    /// Headers are rarely data: any whose name contains one of these carries a credential
    /// (`Authorization`, `X-Authentication`, `Cookie`, `X-Api-Key`, `X-Session`, `X-Hub-Signature-256`).
    static let credentialWords = ["auth", "cookie", "key", "token", "secret", "signature", "password", "passphrase", "session", "jwt", "bearer"]

    /// Query parameters are often data (`?session=2026-12-01`, `?author=`, `?keyword=`), so their
    /// names are read by parts: a part that is, or ends in, one of these words (`api_key`,
    /// `accessToken`, `client_secret`, `x-api-keys`), starts like `auth` (`auth`, `authorization`,
    /// `authentication`, but not `author`), or a session id.
    static let credentialEndings = ["key", "keys", "token", "tokens", "secret", "secrets", "signature", "sig", "password", "passwd", "pwd",
                                    "passphrase", "cookie", "cookies", "jwt", "bearer"]

    /// Whether a header (`inQuery` false) or query parameter name carries a credential (`Idempotency-Key` does not).
    static func namesCredential(_ name: String, inQuery: Bool) -> Bool {
        let lowered = name.lowercased()
        guard lowered != "idempotency-key" else { return false }
        guard inQuery else { return credentialWords.contains(where: lowered.contains) }
        let parts = nameParts(name)
        if parts.contains(where: { part in
            credentialEndings.contains(where: part.hasSuffix)
                || (part.hasPrefix("auth") && !part.hasPrefix("author")) || part.hasPrefix("authoris") || part.hasPrefix("authoriz")
        }) { return true }
        // "sid", "session_id", "sessionId", "PHPSESSID".
        return parts.contains("sid") || parts.joined().contains("sessionid") || parts.joined().contains("sessid")
    }

    /// A name split on punctuation and at lower-to-upper case changes: "X-Api-Key", "api_key", "accessToken".
    static func nameParts(_ name: String) -> [String] {
        var parts: [String] = [], current = ""
        var previousLower = false
        for character in name {
            guard character.isLetter || character.isNumber else {
                if !current.isEmpty { parts.append(current.lowercased()) }
                current = ""
                previousLower = false
                continue
            }
            if character.isUppercase && previousLower {
                parts.append(current.lowercased())
                current = ""
            }
            current.append(character)
            previousLower = character.isLowercase
        }
        if !current.isEmpty { parts.append(current.lowercased()) }
        return parts
    }

    /// The headers (or query parameters) with every credential's value replaced by "[redacted]";
    /// names are kept as given.
    func redactingCredentials(inQuery: Bool) -> [String: String] {
        var fields = self
        for name in keys where Self.namesCredential(name, inQuery: inQuery) { fields[name] = "[redacted]" }
        return fields
    }
}
