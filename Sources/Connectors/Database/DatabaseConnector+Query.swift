import Flows

extension DatabaseConnector {
    static let querySpec = ActionSpec(
        name: "query",
        summary: "Runs one of the admin's named queries (config 'queries') and returns its rows.",
        inputs: [
            .required(Key.name, .string, "the query's name in the instance's 'queries'"),
            .optional(Key.params, .array, "values for $1…$n, in order; always bound, never spliced into the SQL", default: []),
        ],
        outputs: [
            .output(Key.rows, .array, "the rows, each an object of column → value"),
            .output(Key.count, .integer, "how many rows"),
        ],
        hasSideEffects: false,
        example: """
            id: report
            do: db.query
            with: { name: paid_today, params: ["{{ event.body.since }}"] }
            """
    )

    static let execSpec = ActionSpec(
        name: "exec",
        summary: "Runs one of the admin's named statements (config 'queries') that changes data.",
        inputs: [
            .required(Key.name, .string, "the statement's name in the instance's 'queries'"),
            .optional(Key.params, .array, "values for $1…$n, in order; always bound, never spliced into the SQL", default: []),
        ],
        outputs: [.output(Key.changed, .integer, "how many rows changed")],
        hasSideEffects: true,
        example: """
            do: db.exec
            with: { name: remove_member, params: ["{{ event.body.member_id }}"] }
            """
    )

    func runQuery(_ inputs: Fields) async throws -> Value {
        let (sql, parameters) = try namedQuery(inputs)
        let rows = try await read { db in try db.query(sql, parameters) }
        return [Key.rows: .array(rows.map(\.object)), Key.count: .int(Int64(rows.count))]
    }

    func runExec(_ inputs: Fields) async throws -> Value {
        let (sql, parameters) = try namedQuery(inputs)
        let changed = try await transaction { db in try db.execute(sql, parameters) }
        return [Key.changed: .int(Int64(changed))]
    }

    /// The SQL of a configured query and its parameters; an unknown name is the flow's mistake.
    private func namedQuery(_ inputs: Fields) throws(ConnectorError) -> (sql: String, parameters: [Value]) {
        let name = try inputs.require(Key.name)
        guard let sql = queries[name] else {
            let known = queries.keys.sorted()
            let hint = Suggestions.closest(to: name, in: known).map { "did you mean '\($0)'?" }
                ?? (known.isEmpty ? "this instance has no 'queries' configured" : "known queries: " + known.map { "'\($0)'" }.joined(separator: ", "))
            throw .permanent("unknown-query", "unknown query '\(name)': \(hint)")
        }
        let parameters: [Value]
        switch inputs[Key.params] {
        case nil: parameters = []
        case .array(let values)?: parameters = values
        case let other?: throw .permanent("bad-input", "'params' must be a list of values for $1…$n, found \(other.typeName)")
        }
        return (sql, parameters)
    }
}
