import Flows
import Foundation
@testable import Hub
import Testing

/// An `http` flow checks its caller's credentials in `if:`; the credentials themselves are never
/// stored, so neither the database nor the dashboard's run pages show them.
@Suite(.serialized, .timeLimit(.minutes(2))) struct HTTPTriggerCredentialsTests {
    static let flow = """
        name: guarded
        on: { http: /hooks/guarded }
        if: "{{ event.headers['x-api-key'] == 'open-sesame' }}"
        steps:
          - id: seen
            do: core.set
            with: { values: { headers: "{{ event.headers | json }}" } }
        """

    @Test func credentialsAreCheckedButNotStored() async throws {
        let folder = try FlowFolder(["guarded.yaml": Self.flow])
        defer { folder.remove() }
        let database = "sqlite:" + folder.root.appendingPathComponent("hub.db").path
        let hub = try HubProcess(environment: ["HUB_DATABASE_URL": database, "HUB_FLOWS": folder.flows], workingDirectory: folder.root)
        let port = try await hub.waitForPort()
        let url = "http://127.0.0.1:\(port)/hooks/guarded"
        func post(key: String, id: String) async -> (status: Int, body: String)? {
            await FaultHTTP.post(url, body: Data(#"{"n":1}"#.utf8), headers: [
                "Content-Type": "application/json", "X-Api-Key": key, "Authorization": "Bearer tok-AUTH-42",
                "X-Webhook-Secret": "sec-HOOK-42", "X-Authentication": "tok-AUTHN-42", "X-Session": "ses-SESSION-42",
                "Idempotency-Key": id, "X-Trace": "visible"])
        }
        #expect(await post(key: "open-sesame", id: "right")?.body.contains(#""runs":1"#) == true)
        #expect(await post(key: "guess", id: "wrong")?.body.contains(#""runs":0"#) == true)
        let store = try Store.open(database, poolSize: 1)
        for _ in 0..<100 where try await store.runCounts() != ["completed": 1] { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try await store.runCounts() == ["completed": 1])
        let payloads = try await store.database.query("SELECT payload FROM hub_events").compactMap { $0["payload"]?.text }
        let results = try await store.database.query("SELECT result FROM hub_run_steps").compactMap { $0["result"]?.text }
        #expect(payloads.count == 1 && results.count == 1)
        for text in payloads + results {
            for secret in ["open-sesame", "tok-AUTH-42", "sec-HOOK-42", "tok-AUTHN-42", "ses-SESSION-42"] { #expect(!text.contains(secret), "\(secret) stored: \(text)") }
        }
        let headers = try Value(json: payloads[0])["headers"]
        #expect(headers?["x-api-key"] == "[redacted]")
        #expect(headers?["x-trace"] == "visible")
        #expect(headers?["idempotency-key"] == "right")
        await store.close()
        hub.kill(SIGTERM)
        #expect(try await hub.waitForExit() == 0)
    }

    static let queryFlow = """
        name: guarded-by-query
        on: { http: /hooks/crm }
        if: "{{ event.query.token == 'open-sesame' }}"
        steps:
          - id: seen
            do: core.set
            with: { values: { query: "{{ event.query | json }}" } }
        """

    /// Some callers can only put their key in the URL (`/hooks/crm?token=…`): it is checked the
    /// same way and stored the same way, as "[redacted]".
    @Test func aCredentialInTheQueryIsCheckedButNotStored() async throws {
        let folder = try FlowFolder(["guarded-by-query.yaml": Self.queryFlow])
        defer { folder.remove() }
        let database = "sqlite:" + folder.root.appendingPathComponent("hub.db").path
        let hub = try HubProcess(environment: ["HUB_DATABASE_URL": database, "HUB_FLOWS": folder.flows], workingDirectory: folder.root)
        let port = try await hub.waitForPort()
        func post(token: String, id: String) async -> (status: Int, body: String)? {
            await FaultHTTP.post("http://127.0.0.1:\(port)/hooks/crm?token=\(token)&Api_Key=key-QUERY-42&accessToken=tok-QUERY-42&lead=7"
                                 + "&session=2026-12-01&author=anna&keyword=yoga", body: Data(#"{"n":1}"#.utf8),
                                 headers: ["Content-Type": "application/json", "Idempotency-Key": id])
        }
        #expect(await post(token: "open-sesame", id: "right")?.body.contains(#""runs":1"#) == true)
        #expect(await post(token: "guess", id: "wrong")?.body.contains(#""runs":0"#) == true)
        let store = try Store.open(database, poolSize: 1)
        for _ in 0..<100 where try await store.runCounts() != ["completed": 1] { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try await store.runCounts() == ["completed": 1])
        let payloads = try await store.database.query("SELECT payload FROM hub_events").compactMap { $0["payload"]?.text }
        let results = try await store.database.query("SELECT result FROM hub_run_steps").compactMap { $0["result"]?.text }
        #expect(payloads.count == 1 && results.count == 1)
        for text in payloads + results {
            for secret in ["open-sesame", "key-QUERY-42", "tok-QUERY-42"] { #expect(!text.contains(secret), "\(secret) stored: \(text)") }
        }
        let query = try Value(json: payloads[0])["query"]
        #expect(query?["token"] == "[redacted]")
        #expect(query?["Api_Key"] == "[redacted]")
        #expect(query?["accessToken"] == "[redacted]")
        // Names are read by their parts: a session's date, an author or a keyword are data, not keys.
        #expect(query?["lead"] == "7")
        #expect(query?["session"] == "2026-12-01")
        #expect(query?["author"] == "anna")
        #expect(query?["keyword"] == "yoga")
        await store.close()
        hub.kill(SIGTERM)
        #expect(try await hub.waitForExit() == 0)
    }

    @Test("every header naming a credential is hidden; query parameters are read by parts, so data named like a session stays")
    func whichNamesAreCredentials() {
        let headers = ["Authorization", "Proxy-Authorization", "X-Authentication", "Cookie", "Set-Cookie", "X-Api-Key", "X-API-KEY",
                       "X-Auth-Token", "X-Telegram-Bot-Api-Secret-Token", "X-Hub-Signature-256", "X-Webhook-Secret", "Signature",
                       "X-Session", "X-Session-Id", "X-CSRF-Token", "X-Amz-Security-Token", "X-Goog-Api-Key", "X-Passphrase"]
        for name in headers { #expect([String: String].namesCredential(name, inQuery: false), "\(name)") }
        #expect(![String: String].namesCredential("Idempotency-Key", inQuery: false))
        #expect(![String: String].namesCredential("X-Trace", inQuery: false))
        let credentials = ["token", "api_key", "apikey", "APIKEY", "Api_Key", "access_token", "accessToken", "client_secret", "secrets",
                           "x-api-keys", "signature", "sig", "password", "PASSWORD", "passphrase", "auth", "authorization", "authentication",
                           "session_id", "sessionId", "PHPSESSID", "sid", "jwt", "cookies"]
        for name in credentials { #expect([String: String].namesCredential(name, inQuery: true), "\(name)") }
        for name in ["session", "session_date", "author", "authors", "keyword", "lead", "utm_source", "sort"] {
            #expect(![String: String].namesCredential(name, inQuery: true), "\(name)")
        }
    }
}
