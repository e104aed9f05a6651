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

extension FunnelSchema {
    /// `record_invite` reports the links a new one replaced (`revoked_by`); without an index
    /// that read every invite ever recorded, on each invite.
    static let revokedInvites = SchemaMigration(version: 4, name: "funnel-revoked-invites") { _ in
        ["CREATE INDEX funnel_invites_revoked_by ON funnel_invites (revoked_by) WHERE revoked_by IS NOT NULL"]
    }
}

extension FunnelSchema {
    /// The dashboard's member list: indexes for its filters and sorts, and a substring index for
    /// its search (name, phone, e-mail, Telegram username), kept in step with `funnel_members` by
    /// the database itself so every writer (flows, the dashboard, `db.exec`) updates it. These
    /// used to be created by the dashboard on start; they belong to the table's owner.
    static let memberSearch = SchemaMigration(version: 3, name: "funnel-member-search") { dialect in
        let indexes = [
            // Earlier dashboards created these under their own names when they started.
            "DROP INDEX IF EXISTS hub_admin_members_status",
            "DROP INDEX IF EXISTS hub_admin_members_paid",
            "DROP INDEX IF EXISTS hub_admin_members_name",
            "CREATE INDEX funnel_members_status ON funnel_members (status, created_at)",
            "CREATE INDEX funnel_members_paid ON funnel_members (paid_at)",
            "CREATE INDEX funnel_members_name ON funnel_members (full_name)",
        ]
        switch dialect {
        case .sqlite: return indexes + sqliteSearch
        case .postgres: return indexes + postgresSearch
        }
    }

    /// SQLite: an FTS5 table with the trigram tokenizer (SQLite 3.34 or later), which matches any
    /// substring of three or more characters and folds case across Unicode (LOWER() folds ASCII
    /// only). Its rows are keyed by `funnel_members_search_docs.docid`, not by the members' own
    /// rowid, which VACUUM may renumber (the table has a TEXT primary key).
    static let sqliteSearch = [
        "CREATE TABLE funnel_members_search_docs (docid INTEGER PRIMARY KEY, member_id TEXT NOT NULL UNIQUE)",
        "CREATE VIRTUAL TABLE funnel_members_search USING fts5(full_name, phone, email, telegram_username, tokenize = 'trigram')",
        "INSERT INTO funnel_members_search_docs (member_id) SELECT id FROM funnel_members",
        """
        INSERT INTO funnel_members_search (rowid, full_name, phone, email, telegram_username)
        SELECT d.docid, m.full_name, m.phone, m.email, m.telegram_username
        FROM funnel_members m JOIN funnel_members_search_docs d ON d.member_id = m.id
        """,
        // The first two statements clear what an INSERT OR REPLACE left behind: the row it
        // replaced went without firing the delete trigger.
        """
        CREATE TRIGGER funnel_members_search_insert AFTER INSERT ON funnel_members BEGIN
            DELETE FROM funnel_members_search WHERE rowid IN (SELECT docid FROM funnel_members_search_docs WHERE member_id = new.id);
            DELETE FROM funnel_members_search_docs WHERE member_id = new.id;
            INSERT INTO funnel_members_search_docs (member_id) VALUES (new.id);
            INSERT INTO funnel_members_search (rowid, full_name, phone, email, telegram_username)
            VALUES ((SELECT docid FROM funnel_members_search_docs WHERE member_id = new.id),
                    new.full_name, new.phone, new.email, new.telegram_username);
        END
        """,
        """
        CREATE TRIGGER funnel_members_search_update AFTER UPDATE OF id, full_name, phone, email, telegram_username ON funnel_members BEGIN
            UPDATE funnel_members_search_docs SET member_id = new.id WHERE member_id = old.id;
            UPDATE funnel_members_search
            SET full_name = new.full_name, phone = new.phone, email = new.email, telegram_username = new.telegram_username
            WHERE rowid = (SELECT docid FROM funnel_members_search_docs WHERE member_id = new.id);
        END
        """,
        """
        CREATE TRIGGER funnel_members_search_delete AFTER DELETE ON funnel_members BEGIN
            DELETE FROM funnel_members_search WHERE rowid = (SELECT docid FROM funnel_members_search_docs WHERE member_id = old.id);
            DELETE FROM funnel_members_search_docs WHERE member_id = old.id;
        END
        """,
    ]

    /// PostgreSQL: a pg_trgm GIN index that serves LOWER(column) LIKE '%…%' for each searched column. pg_trgm
    /// ships with PostgreSQL and is a trusted extension (the database owner may create it), but a
    /// server may lack it or the role may not be allowed: then search scans the table and still
    /// answers the same. The extension goes into `public` when it can, so it outlives whatever
    /// schema the hub's tables are in; the operator class is named through the schema it is in.
    static let postgresSearch = [
        """
        DO $$
        BEGIN
            BEGIN
                CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
            EXCEPTION WHEN OTHERS THEN
                BEGIN
                    CREATE EXTENSION IF NOT EXISTS pg_trgm;
                EXCEPTION WHEN OTHERS THEN
                    RAISE NOTICE 'pg_trgm is not available (%): member search scans funnel_members', SQLERRM;
                END;
            END;
        END
        $$
        """,
        """
        DO $$
        DECLARE
            trgm_schema TEXT;
        BEGIN
            SELECT n.nspname INTO trgm_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
            WHERE e.extname = 'pg_trgm';
            IF trgm_schema IS NOT NULL THEN
                EXECUTE format('CREATE INDEX funnel_members_search ON funnel_members USING gin '
                    '(LOWER(full_name) %1$I.gin_trgm_ops, LOWER(email) %1$I.gin_trgm_ops, '
                    'LOWER(telegram_username) %1$I.gin_trgm_ops, phone %1$I.gin_trgm_ops)',
                    trgm_schema);
            END IF;
        END
        $$
        """,
    ]
}

extension FunnelSchema {
    /// Message ids count per chat, and an operators' group moved to a supergroup counts anew, so
    /// a reply is matched by chat and id. Rows from before this have no chat and match any.
    static let supportChat = SchemaMigration(version: 5, name: "funnel-support-chat") { _ in
        ["ALTER TABLE funnel_support_messages ADD COLUMN operators_chat_id BIGINT"]
    }
}

extension FunnelSchema {
    /// When a member left the group: a join request made before it is over (see `mark_joined`).
    /// Not `updated_at`, which a re-registration or a /start also moves.
    static let leftAt = SchemaMigration(version: 6, name: "funnel-left-at") { _ in
        [
            "ALTER TABLE funnel_members ADD COLUMN left_at BIGINT",
            // Members who left before: their last change is the best date there is.
            "UPDATE funnel_members SET left_at = updated_at WHERE status = 'left'",
        ]
    }
}

extension FunnelSchema {
    /// Each order carries its own deep-link token, and the Telegram user who opened it before it
    /// was paid. A member's token used to be handed to whoever registered with their phone, who
    /// could then bind their own Telegram account to that member; an order's token binds only
    /// once the order is paid (see `bind_telegram`, `mark_paid`).
    static let orderTokens = SchemaMigration(version: 7, name: "funnel-order-tokens") { _ in
        [
            "ALTER TABLE funnel_payments ADD COLUMN token TEXT",
            "ALTER TABLE funnel_payments ADD COLUMN telegram_id BIGINT",
            "CREATE UNIQUE INDEX funnel_payments_token ON funnel_payments (token)",
        ]
    }
}
