import Flows
import Foundation
@testable import Hub
import Testing

/// The write-ahead log stays bounded even when writes never pause long enough for a background
/// checkpoint to finish it.
@Suite struct WALCheckpointerTests {
    @Test("under writes that never pause, the write-ahead log starts over within its limit")
    func logStaysBoundedUnderSteadyWrites() async throws {
        try await TestDatabases.withURL(.sqlite) { url in
            let path = String(url.dropFirst("sqlite:".count))
            let db = try SQLiteDatabase(path: path)
            try await db.execute("CREATE TABLE blob (n INTEGER PRIMARY KEY, body TEXT)")
            // Eight writers without a pause between commits, a page a row: 40,000 pages, ten
            // times the size at which the writer catches up, two and a half times the limit.
            let body = String(repeating: "x", count: 4000)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        for i in 0..<5000 {
                            let n = Double(writer * 5000 + i)
                            try await db.transaction { c in try c.execute("INSERT INTO blob (n, body) VALUES ($1, $2)", [.number(n), .string(body)]) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await db.query("SELECT COUNT(*) AS n FROM blob").first?["n"]?.intValue == 40_000)
            // The log file keeps its largest size. One that never started over holds every page
            // (about 850 MB); a bounded one at most the limit plus one commit of eight rows
            // (a frame is a page and a 24-byte header).
            let log = try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int ?? 0
            let bound = 32 + (WALCheckpointer.limit + 100) * (4096 + 24)
            #expect(log <= bound, "write-ahead log \(log) bytes, more than \(bound)")
            await db.close()
        }
    }
}
