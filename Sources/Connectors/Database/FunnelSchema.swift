import Flows

/// The funnel's tables, applied by the hub under the component name "database". Times are
/// epoch milliseconds (`BIGINT`), amounts decimal text ("3000.00"), JSON is `TEXT`: SQL that
/// SQLite and PostgreSQL both accept.
enum FunnelSchema {
    static let initial = SchemaMigration(version: 1, name: "funnel") { _ in
        [
            """
            CREATE TABLE funnel_members (
                id TEXT PRIMARY KEY,
                full_name TEXT NOT NULL,
                phone TEXT UNIQUE,
                city TEXT,
                email TEXT,
                telegram_id BIGINT UNIQUE,
                telegram_username TEXT,
                status TEXT NOT NULL DEFAULT 'registered'
                    CHECK (status IN ('registered', 'paid', 'joined', 'left', 'removed')),
                token TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                paid_at BIGINT,
                joined_at BIGINT
            )
            """,
            "CREATE INDEX funnel_members_email ON funnel_members (LOWER(email))",
            "CREATE INDEX funnel_members_created ON funnel_members (created_at)",
            """
            CREATE TABLE funnel_payments (
                id TEXT PRIMARY KEY,
                member_id TEXT NOT NULL REFERENCES funnel_members(id),
                order_id TEXT NOT NULL UNIQUE,
                provider TEXT NOT NULL DEFAULT 'prodamus',
                provider_order_id TEXT,
                amount TEXT NOT NULL,
                currency TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'cancelled')),
                raw_payload TEXT,
                note TEXT,
                created_at BIGINT NOT NULL,
                paid_at BIGINT
            )
            """,
            "CREATE INDEX funnel_payments_member ON funnel_payments (member_id, created_at)",
            "CREATE INDEX funnel_payments_paid ON funnel_payments (status, paid_at)",
            // revoked_by names the link that replaced a revoked one, so recording the same
            // invite again reports the same revoked links.
            """
            CREATE TABLE funnel_invites (
                id TEXT PRIMARY KEY,
                member_id TEXT NOT NULL REFERENCES funnel_members(id),
                telegram_id BIGINT NOT NULL,
                invite_link TEXT NOT NULL UNIQUE,
                status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'used', 'revoked')),
                expires_at BIGINT,
                created_at BIGINT NOT NULL,
                used_at BIGINT,
                revoked_by TEXT
            )
            """,
            "CREATE INDEX funnel_invites_member ON funnel_invites (member_id, status)",
            """
            CREATE TABLE funnel_support_threads (
                telegram_id BIGINT PRIMARY KEY,
                member_id TEXT REFERENCES funnel_members(id),
                mode TEXT NOT NULL DEFAULT 'ai' CHECK (mode IN ('ai', 'operator')),
                updated_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE funnel_support_messages (
                id TEXT PRIMARY KEY,
                telegram_id BIGINT NOT NULL,
                direction TEXT NOT NULL CHECK (direction IN ('in', 'out', 'operator')),
                text TEXT NOT NULL,
                operators_message_id BIGINT,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX funnel_support_messages_thread ON funnel_support_messages (telegram_id, created_at)",
            "CREATE INDEX funnel_support_messages_relay ON funnel_support_messages (operators_message_id)",
        ]
    }
}

extension FunnelSchema {
    /// Support hand-over: who switched a thread's mode (so a retried switch reports the same
    /// outcome), why, and the header line relayed before each client message (operators reply to
    /// either). Version 1 shipped with the support tables, so these are additions, not edits.
    static let support = SchemaMigration(version: 2, name: "funnel-support") { _ in
        [
            "ALTER TABLE funnel_support_threads ADD COLUMN mode_changed_by TEXT",
            "ALTER TABLE funnel_support_threads ADD COLUMN mode_changed_at BIGINT",
            "ALTER TABLE funnel_support_threads ADD COLUMN reason TEXT",
            "ALTER TABLE funnel_support_messages ADD COLUMN header_message_id BIGINT",
            "ALTER TABLE funnel_support_messages ADD COLUMN media_type TEXT",
            "CREATE INDEX funnel_support_messages_header ON funnel_support_messages (header_message_id)",
        ]
    }
}
