import Flows

/// The dashboard's tables (hub migration 2): admins, their sessions and the audit log.
/// SQL both SQLite and PostgreSQL accept: `TEXT`, `BIGINT` epoch milliseconds, JSON as `TEXT`.
enum AdminSchema {
    static let migration = SchemaMigration(version: 2, name: "admin") { _ in
        [
            """
            CREATE TABLE hub_admins (
                login TEXT PRIMARY KEY,
                password_hash TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            // The id column holds SHA-256 of the cookie's token: a leaked table opens no session.
            """
            CREATE TABLE hub_admin_sessions (
                id TEXT PRIMARY KEY,
                admin TEXT NOT NULL REFERENCES hub_admins(login),
                csrf_token TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX hub_admin_sessions_expiry ON hub_admin_sessions (expires_at)",
            """
            CREATE TABLE hub_audit_log (
                id TEXT PRIMARY KEY,
                at BIGINT NOT NULL,
                admin TEXT NOT NULL,
                action TEXT NOT NULL,
                subject TEXT,
                details TEXT NOT NULL DEFAULT '{}'
            )
            """,
            "CREATE INDEX hub_audit_log_subject ON hub_audit_log (subject, at)",
            "CREATE INDEX hub_audit_log_at ON hub_audit_log (at)",
        ]
    }

    /// Indexes on the funnel's tables for the members page's filters and sorts. The hub's
    /// migrations run before the connectors' (the tables may not exist yet then), so these are
    /// created idempotently when the dashboard starts, once the `database` component migrated.
    static let funnelIndexes = [
        "CREATE INDEX IF NOT EXISTS hub_admin_members_status ON funnel_members (status, created_at)",
        "CREATE INDEX IF NOT EXISTS hub_admin_members_paid ON funnel_members (paid_at)",
        "CREATE INDEX IF NOT EXISTS hub_admin_members_name ON funnel_members (full_name)",
    ]
}
