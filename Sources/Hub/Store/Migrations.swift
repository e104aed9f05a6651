import Flows

/// Versioned schema changes, applied in order on start and by `hub migrate`. Each is written
/// once in SQL both SQLite and PostgreSQL accept (`BIGINT` epoch milliseconds, JSON as `TEXT`);
/// where the dialects differ, the statements switch on the dialect.
enum Migrations {
    /// The hub's own tables, under the component name "hub"; connectors add theirs under their type name.
    static let hub: [SchemaMigration] = [runtime, AdminSchema.migration, orderedRuns, runsByTime, runRetries, flowVersions]

    /// Events, runs, step results, schedule slots: the durable runtime.
    static let runtime = SchemaMigration(version: 1, name: "runtime") { _ in
        [
            """
            CREATE TABLE hub_events (
                id TEXT PRIMARY KEY,
                source TEXT NOT NULL,
                dedup_key TEXT NOT NULL,
                payload TEXT NOT NULL,
                received_at BIGINT NOT NULL,
                UNIQUE (source, dedup_key)
            )
            """,
            """
            CREATE TABLE hub_runs (
                id TEXT PRIMARY KEY,
                flow TEXT NOT NULL,
                flow_version TEXT NOT NULL,
                event_id TEXT NOT NULL REFERENCES hub_events(id),
                status TEXT NOT NULL,
                not_before BIGINT NOT NULL,
                lease_owner TEXT,
                lease_until BIGINT,
                failed_step TEXT,
                error TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                finished_at BIGINT
            )
            """,
            "CREATE INDEX hub_runs_claim ON hub_runs (status, not_before)",
            "CREATE INDEX hub_runs_flow ON hub_runs (flow, created_at)",
            "CREATE INDEX hub_runs_event ON hub_runs (event_id)",
            """
            CREATE TABLE hub_run_steps (
                run_id TEXT NOT NULL REFERENCES hub_runs(id),
                step_id TEXT NOT NULL,
                step_index INTEGER NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                result TEXT,
                error TEXT,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (run_id, step_id)
            )
            """,
            """
            CREATE TABLE hub_schedule_slots (
                flow TEXT NOT NULL,
                slot BIGINT NOT NULL,
                run_id TEXT,
                claimed_at BIGINT NOT NULL,
                PRIMARY KEY (flow, slot)
            )
            """,
            """
            CREATE TABLE hub_leader (
                name TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                lease_until BIGINT NOT NULL
            )
            """,
        ]
    }

    /// Runs that must start one after another (one Telegram chat's messages): a key and a position.
    static let orderedRuns = SchemaMigration(version: 3, name: "ordered runs") { _ in
        [
            "ALTER TABLE hub_runs ADD COLUMN order_key TEXT",
            "ALTER TABLE hub_runs ADD COLUMN order_position BIGINT",
            "CREATE INDEX hub_runs_order ON hub_runs (order_key, order_position) WHERE order_key IS NOT NULL",
        ]
    }

    /// Runs newest first (the admin's runs page, `hub runs`) from an index instead of a sort of
    /// every run. The index by event goes: nothing looks runs up by event, and events are never
    /// deleted, so it only cost every stored run (and on Postgres every finished one) a write.
    static let runsByTime = SchemaMigration(version: 4, name: "runs by time") { _ in
        [
            "DROP INDEX IF EXISTS hub_runs_event",
            "CREATE INDEX hub_runs_created ON hub_runs (created_at, id)",
        ]
    }

    /// How often an admin re-played a failed run: each failure of it is reported once, and a
    /// failure after a re-play is a new one.
    static let runRetries = SchemaMigration(version: 5, name: "run retries") { _ in
        ["ALTER TABLE hub_runs ADD COLUMN retries INTEGER NOT NULL DEFAULT 0"]
    }

    /// The text of every flow version runs were stored under (see `FlowArchive`).
    static let flowVersions = SchemaMigration(version: 6, name: "flow versions") { _ in
        ["""
        CREATE TABLE hub_flow_versions (
            version TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            file TEXT NOT NULL,
            source TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """]
    }
}
