import Flows
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The admin dashboard under `/admin`: server-rendered pages (Russian, no script, no CDN) and
/// a small JSON API. Every route but the sign-in form needs a session; every POST needs the
/// session's CSRF token; every change to a member is written to the audit log.
public struct AdminDashboard: Sendable {
    /// A connector instance as the overview reports it.
    public struct ConnectorState: Sendable {
        public var name: String
        public var type: String
        public var running: Bool

        public init(name: String, type: String, running: Bool) {
            self.name = name
            self.type = type
            self.running = running
        }
    }

    let store: Store
    let accounts: AdminAccounts
    let flows: FlowRegistry
    let connectors: [String: any Connector]
    let connectorStates: [ConnectorState]
    let specs: [ConnectorSpec]
    /// Called after a run was queued, so a worker picks it up at once.
    let wakeUp: @Sendable () -> Void
    let throttle: LoginThrottle
    /// `Secure` on the session cookie: the public URL is https.
    let secureCookie: Bool
    let timeZone: TimeZone
    /// The connectors' health checks, surveyed at most once a minute.
    let health: HealthCache
    /// `HUB_KEEP_RUNS`, said on the runs page so a run that is gone is not a mystery.
    let keepRuns: Duration?
    let logger: Logger

    static let cookieName = "hub_admin"
    static let maxForm = 64 * 1024

    public init(store: Store, flows: FlowRegistry, connectors: [String: any Connector], connectorStates: [ConnectorState],
                specs: [ConnectorSpec], publicURL: String, timeZone: TimeZone = TimeZone(identifier: "Europe/Moscow") ?? .current,
                keepRuns: Duration? = nil, wakeUp: @escaping @Sendable () -> Void = {}, logger: Logger = Logger(label: "hub.admin"))
    {
        self.init(store: store, flows: flows, connectors: connectors, connectorStates: connectorStates, specs: specs,
                  publicURL: publicURL, timeZone: timeZone, keepRuns: keepRuns, wakeUp: wakeUp, throttle: LoginThrottle(), logger: logger)
    }

    init(store: Store, flows: FlowRegistry, connectors: [String: any Connector], connectorStates: [ConnectorState], specs: [ConnectorSpec],
         publicURL: String, timeZone: TimeZone, keepRuns: Duration?, wakeUp: @escaping @Sendable () -> Void, throttle: LoginThrottle,
         logger: Logger)
    {
        self.store = store
        accounts = AdminAccounts(database: store.database)
        self.flows = flows
        self.connectors = connectors
        self.connectorStates = connectorStates
        self.specs = specs
        self.wakeUp = wakeUp
        self.throttle = throttle
        secureCookie = publicURL.lowercased().hasPrefix("https://")
        self.timeZone = timeZone
        self.keepRuns = keepRuns
        health = HealthCache { await ConnectorHealth.survey(connectors) }
        self.logger = logger
    }

    /// Creates the first admin from `HUB_ADMIN_PASSWORD` when none exists. The members page's
    /// indexes belong to the `database` connector's migrations, which ran before this.
    public func prepare(adminPassword: String?) async throws {
        if try await accounts.bootstrap(password: adminPassword) {
            logger.notice("created the first admin from HUB_ADMIN_PASSWORD", metadata: ["admin.login": "admin"])
        }
    }

    /// Adds the dashboard's routes.
    public func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/admin/login") { request, _ in try await loginPage(request) }
        router.post("/admin/login") { request, _ in try await signIn(request) }
        router.post("/admin/logout") { request, _ in try await form(request) { session, _ in try await signOut(request, session) } }
        router.get("/admin") { request, _ in try await page(request) { session in try await overview(request, session) } }
        router.get("/admin/members") { request, _ in try await page(request) { session in try await membersPage(request, session) } }
        router.get("/admin/members.csv") { request, _ in try await page(request) { _ in try await membersCSV(request) } }
        router.get("/admin/members/:id") { request, context in
            try await page(request) { session in try await memberPage(context.parameters.get("id") ?? "", session, notice: request.uri.queryParameters["notice"].map(String.init)) }
        }
        router.post("/admin/members/:id/:action") { request, context in
            try await form(request) { session, fields in
                try await memberAction(context.parameters.get("id") ?? "", action: context.parameters.get("action") ?? "", fields, session)
            }
        }
        router.get("/admin/runs") { request, _ in try await page(request) { session in try await runsPage(request, session) } }
        router.get("/admin/runs/:id") { request, context in
            try await page(request) { session in try await runPage(context.parameters.get("id") ?? "", session, notice: request.uri.queryParameters["notice"].map(String.init)) }
        }
        router.post("/admin/runs/:id/retry") { request, context in
            try await form(request) { session, _ in try await retryRun(context.parameters.get("id") ?? "", session) }
        }
        router.get("/admin/flows") { request, _ in try await page(request) { session in try await flowsPage(request, session) } }
        router.post("/admin/flows/:name/run") { request, context in
            try await form(request) { session, fields in
                // Path parameters come as written: a name percent-encoded by the page is decoded here.
                let name = context.parameters.get("name") ?? ""
                return try await runFlowNow(name.removingPercentEncoding ?? name, AdminForm(fields, action: "run"), session)
            }
        }
        router.get("/admin/connectors") { request, _ in try await page(request) { session in connectorsPage(session) } }
        router.get("/admin/api/stats") { request, _ in try await api(request) { try await stats() } }
        // Anything else under /admin: still no hint to anonymous visitors of what exists.
        router.get("/admin/**") { request, _ in try await page(request) { session in render("message", status: .notFound, session: session, ["problem": AdminText.notFound]) } }
        router.post("/admin/**") { request, _ in try await form(request) { session, _ in render("message", status: .notFound, session: session, ["problem": AdminText.notFound]) } }
    }

    // MARK: - Sessions and guards

    func session(_ request: Request) async throws -> AdminSession? {
        guard let token = request.cookies[Self.cookieName]?.value else { return nil }
        return try await accounts.session(token: token)
    }

    /// A page: anonymous visitors are sent to the sign-in form, and back here after it.
    func page(_ request: Request, _ body: (AdminSession) async throws -> Response) async throws -> Response {
        guard let session = try await session(request) else {
            // With its query: a filtered list (or its CSV) is what they asked for, not all of it.
            let path = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            let next = path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "%2Fadmin"
            return Self.redirect("/admin/login?next=\(next)")
        }
        return try await body(session)
    }

    /// A JSON endpoint: anonymous requests get 401.
    func api(_ request: Request, _ body: () async throws -> Value) async throws -> Response {
        guard try await session(request) != nil else {
            return HTTPServer.text(.unauthorized, "{\"error\":\"unauthorized\"}\n", type: "application/json")
        }
        return HTTPServer.text(.ok, try await body().json + "\n", type: "application/json")
    }

    /// A form post: needs a session and its CSRF token; otherwise 401/403 and nothing changes.
    func form(_ request: Request, _ body: (AdminSession, [String: String]) async throws -> Response) async throws -> Response {
        guard let session = try await session(request) else {
            return HTTPServer.text(.unauthorized, AdminText.unauthorized + "\n")
        }
        let fields = try await Self.formFields(request)
        guard Crypto.constantTimeEquals(Array((fields["csrf"] ?? "").utf8), Array(session.csrfToken.utf8)) else {
            logger.warning("admin form refused: bad CSRF token", metadata: ["admin.login": "\(session.admin)", "http.path": "\(request.uri.path)"])
            return render("message", status: .forbidden, session: session, ["problem": AdminText.csrfFailed])
        }
        return try await body(session, fields)
    }

    static func formFields(_ request: Request) async throws -> [String: String] {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxForm)
        } catch {
            throw HTTPError(.contentTooLarge)
        }
        return FormDecoding.fields(Array(buffer: body))
    }

    // MARK: - Rendering

    /// Renders a template with the labels, the session (for the header and CSRF fields) and `values`.
    func render(_ template: String, status: HTTPResponse.Status = .ok, session: AdminSession?, _ values: [String: Any]) -> Response {
        var context: [String: Any] = ["t": AdminText.labels]
        if let session {
            context["session"] = true
            context["csrf"] = session.csrfToken
            context["form"] = AdminForm.fresh()
            context["admin"] = session.admin
        }
        for (key, value) in values { context[key] = value }
        let html = AdminTemplates.library.render(context, withTemplate: template) ?? ""
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"]
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(_ location: String, cookie: String? = nil) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        if let cookie { headers[.setCookie] = cookie }
        return Response(status: .seeOther, headers: headers)
    }

    var format: AdminFormat { AdminFormat(timeZone: timeZone) }

    /// The query's parameters as a browser's GET form sends them: `+` is a space (Hummingbird's
    /// `queryParameters` leaves it a `+`, so "Анна Иванова" searched for "Анна+Иванова").
    static func query(_ request: Request) -> [String: String] {
        var out: [String: String] = [:]
        for pair in (request.uri.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decoded(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            out[decoded(parts[0])] = parts.count > 1 ? decoded(parts[1]) : ""
        }
        return out
    }
}
