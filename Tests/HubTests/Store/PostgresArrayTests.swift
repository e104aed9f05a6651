import Flows
@testable import Hub
import Testing

/// Batches go to Postgres as array literals: every text comes back as it went in.
@Suite struct PostgresArrayTests {
    @Test("hostile texts, NULLs and integers survive the array literal", .enabled(if: TestDatabases.available.contains(.postgres)))
    func roundTrip() async throws {
        let texts: [String?] = [
            "plain", "", "NULL", nil, #"a "quoted" word"#, #"back\slash\"#, #"\""#, "{braces},commas", "  spaced  ",
            "строка с юникодом 🎉", "line\nbreak\ttab", #"'); DROP TABLE hub_runs; --"#,
        ]
        let numbers: [Int64?] = [0, -1, nil, .max, .min, 1_764_000_000_000]
        try await TestDatabases.with(.postgres) { db in
            let rows = try await db.query(
                "SELECT t, CAST(n AS TEXT) AS n FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS BIGINT[])) WITH ORDINALITY AS a (t, n, i) ORDER BY i",
                [PostgresArray.text(texts), PostgresArray.integers(numbers)])
            #expect(rows.count == texts.count)
            #expect(rows.map { $0["t"]?.stringValue } == texts)
            // Compared as text: a BIGINT at the ends of its range does not fit a Double.
            #expect(rows.prefix(numbers.count).map { $0["n"]?.stringValue } == numbers.map { $0.map(String.init) })
        }
    }
}
