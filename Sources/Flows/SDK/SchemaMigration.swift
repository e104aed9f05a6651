/// A versioned change to the tables a connector owns, applied by the hub on start and by
/// `hub migrate`, in version order, once per database. Write SQL both SQLite and PostgreSQL
/// accept, or switch on the dialect.
public struct SchemaMigration: Sendable {
    public let version: Int
    public let name: String
    public let statements: @Sendable (SQLDialect) -> [String]

    public init(version: Int, name: String, statements: @escaping @Sendable (SQLDialect) -> [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}
