#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests.
#
#   scripts/postgres.sh [start]   start (or reuse) it and print HUB_TEST_POSTGRES_URL=…
#   source scripts/postgres.sh    the same, and export HUB_TEST_POSTGRES_URL into the calling shell
#   scripts/postgres.sh stop      stop it and delete its cluster
#
# Settings: HUB_PG_PORT (default 54329), HUB_PG_DIR (default /tmp/hub-ci-postgres-$HUB_PG_PORT).
# As root it installs the `postgresql` package when no initdb is found, and runs the server as user postgres.
# Logs go to stderr; stdout carries only the HUB_TEST_POSTGRES_URL=… line, so `eval "$(scripts/postgres.sh)"` works too.

# Runs in a subshell so that `set -e` and friends do not leak into a shell that sources this file.
hub_pg() (
    set -euo pipefail
    umask 077
    local action=${1:-start}
    local port=${HUB_PG_PORT:-54329}
    local dir=${HUB_PG_DIR:-/tmp/hub-ci-postgres-$port}
    local url="postgresql://hub:hub@127.0.0.1:$port/hub"

    log() { echo "postgres.sh: $*" >&2; }

    # initdb and postgres refuse to run as root.
    as_postgres() {
        if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
    }

    find_bin() {
        if [ -d /usr/lib/postgresql ]; then
            ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
        fi
    }

    local bin
    bin=$(find_bin)
    if [ -z "$bin" ] && command -v initdb >/dev/null 2>&1; then
        bin=$(dirname "$(command -v initdb)")
    fi

    if [ "$action" = stop ]; then
        if [ -f "$dir/data/PG_VERSION" ] && [ -n "$bin" ]; then
            as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || log "server in $dir was not running"
        fi
        rm -rf "$dir"
        log "stopped; removed $dir"
        return 0
    fi
    if [ "$action" != start ]; then
        log "unknown action '$action' (use start or stop)"
        return 2
    fi

    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        if [ "$(id -u)" != 0 ]; then
            log "PostgreSQL is not installed and installing it needs root"
            return 1
        fi
        log "installing postgresql with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update >&2
        apt-get install -y --no-install-recommends postgresql >&2
        bin=$(find_bin)
        if [ -z "$bin" ]; then
            log "postgresql installed but no /usr/lib/postgresql/*/bin found"
            return 1
        fi
    fi

    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
        if PGCONNECT_TIMEOUT=5 "$bin/psql" "$url" -Atqc "SELECT 1" >/dev/null 2>&1; then
            log "reusing the server already answering on 127.0.0.1:$port"
            echo "HUB_TEST_POSTGRES_URL=$url"
            return 0
        fi
        log "a server answers on 127.0.0.1:$port but not as hub/hub; set HUB_PG_PORT to another port"
        return 1
    fi

    if [ ! -f "$dir/data/PG_VERSION" ]; then
        log "creating a cluster in $dir with $bin"
        rm -rf "$dir"
        mkdir -p "$dir"
        local pwfile="$dir/superuser-password"
        # The superuser only logs in through the socket (trust); TCP needs a password, so hub/hub is really checked.
        head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$pwfile"
        if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$dir"; fi
        chmod 700 "$dir"
        as_postgres "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C \
            --auth-local=trust --auth-host=scram-sha-256 --pwfile="$pwfile" >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2
            return 1
        }
    fi

    log "starting the server on 127.0.0.1:$port (socket and log in $dir)"
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
        -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off" start >&2 || {
        tail -n 30 "$dir/log" >&2 || true
        return 1
    }

    local psql_admin=("$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -Atq)
    if [ -z "$(as_postgres "${psql_admin[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'hub'")" ]; then
        as_postgres "${psql_admin[@]}" -c "CREATE ROLE hub LOGIN PASSWORD 'hub'" >&2
    fi
    # CREATE DATABASE cannot share a -c string (an implicit transaction) with anything else.
    if [ -z "$(as_postgres "${psql_admin[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'hub'")" ]; then
        as_postgres "${psql_admin[@]}" -c "CREATE DATABASE hub OWNER hub" >&2
    fi

    "$bin/psql" "$url" -Atqc "SELECT 1" >/dev/null
    log "ready"
    echo "HUB_TEST_POSTGRES_URL=$url"
)

hub_pg_action=${1:-start}
if [ "${BASH_SOURCE[0]}" != "$0" ] && [ "$hub_pg_action" != stop ]; then
    # Sourced without arguments, "$1" is the caller's own first argument, not an action for us.
    hub_pg_action=start
fi
hub_pg_output=$(hub_pg "$hub_pg_action")
hub_pg_status=$?
if [ "$hub_pg_status" = 0 ] && [ -n "$hub_pg_output" ]; then
    export HUB_TEST_POSTGRES_URL=${hub_pg_output#HUB_TEST_POSTGRES_URL=}
    echo "$hub_pg_output"
fi
unset hub_pg_output hub_pg_action
# `return` works when sourced; `exit` is the fallback when run as a script.
return "$hub_pg_status" 2>/dev/null || exit "$hub_pg_status"
