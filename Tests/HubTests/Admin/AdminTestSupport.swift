import Flows
import Foundation
import HTTPTypes
@testable import Hub
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// A dashboard on a fresh, migrated database, served in-process through Hummingbird's router tester.
struct AdminHarness {
    let store: Store
    let dashboard: AdminDashboard
    static let password = "correct horse battery"

    /// Runs `body` with a dashboard whose database has one admin (`admin` / `password`).
    static func with(_ kind: TestDatabaseKind = .sqlite, publicURL: String = "http://127.0.0.1:8080", connectors: [String: any Connector] = [:],
                     flows: [Flow] = [], keepRuns: Duration? = nil, _ body: @Sendable (AdminHarness, any TestClientProtocol) async throws -> Void) async throws
    {
        try await TestDatabases.withURL(kind) { url in
            let store = try Store.open(url, poolSize: 2)
            do {
                try await store.migrate()
                let states = [AdminDashboard.ConnectorState(name: "db", type: "database", running: true)]
                    + connectors.map { AdminDashboard.ConnectorState(name: $0.key, type: type(of: $0.value).spec.name, running: true) }
                let dashboard = AdminDashboard(store: store, flows: FlowRegistry(flows), connectors: connectors, connectorStates: states,
                                               specs: BuiltinConnectors.registry.specs, publicURL: publicURL, keepRuns: keepRuns)
                try await dashboard.prepare(adminPassword: password)
                let router = Router()
                dashboard.addRoutes(to: router)
                let harness = AdminHarness(store: store, dashboard: dashboard)
                try await Application(router: router).test(.router) { client in try await body(harness, client) }
                await store.close()
            } catch {
                await store.close()
                throw error
            }
        }
    }

    /// A member row as the funnel writes it, with a pending payment of 3000.00.
    @discardableResult
    func addMember(id: String = UUID().uuidString.lowercased(), name: String, phone: String? = nil, email: String? = nil,
                   username: String? = nil, status: String = "registered", createdAt: Int64 = Store.now()) async throws -> String
    {
        try await Self.insertMember(store.database, id: id, name: name, phone: phone, email: email, username: username, status: status, createdAt: createdAt)
    }

    /// The same rows, into any database with the funnel's tables (a child hub's SQLite file too).
    @discardableResult
    static func insertMember(_ database: any SQLDatabase, id: String = UUID().uuidString.lowercased(), name: String, phone: String? = nil,
                             email: String? = nil, username: String? = nil, status: String = "registered",
                             createdAt: Int64 = Store.now()) async throws -> String
    {
        try await database.execute("""
            INSERT INTO funnel_members (id, full_name, phone, email, telegram_username, status, token, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
            """, [.string(id), .string(name), phone.map(Value.string) ?? .null, email.map(Value.string) ?? .null,
                  username.map(Value.string) ?? .null, .string(status), .string(UUID().uuidString), .millis(createdAt)])
        try await database.execute("""
            INSERT INTO funnel_payments (id, member_id, order_id, amount, currency, status, created_at)
            VALUES ($1, $2, $3, '3000.00', 'rub', 'pending', $4)
            """, [.string(UUID().uuidString), .string(id), .string("order-" + id), .millis(createdAt)])
        return id
    }
}

/// A signed-in browser: the session cookie and the CSRF token from the last page.
struct AdminBrowser {
    var cookie: String

    static func signIn(_ client: some TestClientProtocol, login: String = "admin", password: String = AdminHarness.password) async throws -> AdminBrowser {
        let response = try await client.post("/admin/login", form: [("login", login), ("password", password)])
        #expect(response.status == .seeOther)
        let setCookie = try #require(response.headers[.setCookie])
        return AdminBrowser(cookie: String(setCookie.split(separator: ";")[0]))
    }

    func get(_ client: some TestClientProtocol, _ uri: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get, headers: [.cookie: cookie])
    }

    func post(_ client: some TestClientProtocol, _ uri: String, _ fields: [(String, String)]) async throws -> TestResponse {
        try await client.post(uri, form: fields, cookie: cookie)
    }

    /// The id the page gave its forms (one per page view; a form sent twice carries it twice).
    static func formID(_ page: String) throws -> String {
        let marker = "name=\"form\" value=\""
        let start = try #require(page.range(of: marker)).upperBound
        return String(page[start...].prefix { $0 != "\"" })
    }

    /// The CSRF token the dashboard put into its forms.
    func csrf(_ client: some TestClientProtocol) async throws -> String {
        let page = try await get(client, "/admin/connectors").text
        let marker = "name=\"csrf\" value=\""
        let start = try #require(page.range(of: marker)).upperBound
        return String(page[start...].prefix { $0 != "\"" })
    }
}

extension TestClientProtocol {
    func post(_ uri: String, form fields: [(String, String)], cookie: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookie { headers[.cookie] = cookie }
        let body = fields.map { "\(TestHTTP.encode($0.0))=\(TestHTTP.encode($0.1))" }.joined(separator: "&")
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
}
