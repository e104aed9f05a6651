import Flows
import Foundation
@testable import Hub
import Testing

/// What an `http` flow's caller hears when its request cannot be stored: 400 for a request that
/// will never be storable, 503 ("try again") only while the database is away, and 500 (logged)
/// for any other failure, so a caller is never told to retry for ever what can never succeed.
@Suite(.serialized, .timeLimit(.minutes(2))) struct HTTPTriggerStorageTests {
    static let flow = """
        name: leads
        on: { http: /hooks/leads }
        steps:
          - do: core.log
            with: { message: "lead {{ event.body.n }}" }
        """

    @Test func anOverlongDeliveryKeyIsRefusedAndAPermanentFailureIsNotRetried() async throws {
        guard TestDatabases.available.contains(.postgres) else { return }
        let folder = try FlowFolder(["leads.yaml": Self.flow])
        defer { folder.remove() }
        try await TestDatabases.withURL(.postgres) { database in
            let hub = try HubProcess(environment: ["HUB_DATABASE_URL": database, "HUB_FLOWS": folder.flows], workingDirectory: folder.root)
            let port = try await hub.waitForPort()
            func post(_ headers: [String: String]) async -> (status: Int, body: String)? {
                await FaultHTTP.post("http://127.0.0.1:\(port)/hooks/leads", body: Data(#"{"n":"lead-BODY-42"}"#.utf8),
                                     headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a })
            }
            // Too long for PostgreSQL's unique index, which takes about 2.7 kB after compression
            // (random letters do not compress): a write that could never succeed.
            let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            let long = String((0..<4000).map { _ in letters.randomElement()! })
            let byKey = await post(["Idempotency-Key": long])
            #expect(byKey?.status == 400)
            #expect(byKey?.body == "the Idempotency-Key header is longer than 200 characters\n")
            let byRequestID = await post(["X-Request-Id": long])
            #expect(byRequestID?.status == 400)
            #expect(byRequestID?.body == "the X-Request-Id header is longer than 200 characters\n")
            // An empty key (a sender's template that rendered nothing) would make every later delivery a duplicate.
            // (URLSession leaves an empty header out: the request is written by hand.)
            let body = Array(#"{"n":"lead-BODY-42"}"#.utf8)
            let empty = await RawHTTP.exchange(port: port, head: "POST /hooks/leads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Idempotency-Key: \r\nContent-Length: \(body.count)\r\nConnection: close\r\n", body: body)
            #expect(empty.status == 400)
            #expect(empty.text.hasSuffix("the Idempotency-Key header is empty\n"), "\(empty.text)")
            // The longest allowed key is stored.
            #expect(await post(["Idempotency-Key": String(repeating: "k", count: 200)])?.status == 202)

            // A write the database refuses for good (here a constraint the table was given) is a
            // server error, logged, not an invitation to deliver the same request again.
            let store = try Store.open(database, poolSize: 1)
            _ = try await store.database.execute("ALTER TABLE hub_events ADD CONSTRAINT refuses_one CHECK (dedup_key <> 'refused-for-good')")
            let refused = await post(["Idempotency-Key": "refused-for-good"])
            #expect(refused?.status == 500)
            #expect(refused?.body == "the request could not be stored; it is logged for the hub's operator\n")
            #expect(hub.stderr.contains("cannot store a request to an http flow") && hub.stderr.contains("23514"), "\(hub.stderr.suffix(2000))")
            #expect(!hub.stderr.contains("lead-BODY-42"))

            let keys = try await store.database.query("SELECT dedup_key FROM hub_events").compactMap { $0["dedup_key"]?.text }
            #expect(keys.map(\.count) == [200])
            await store.close()
            hub.kill(SIGTERM)
            #expect(try await hub.waitForExit() == 0)
        }
    }
}
