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
}
