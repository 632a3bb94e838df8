//! The PostgreSQL schema and its migrations, taken under a transaction-level
//! advisory lock so that hosts starting together do not race, and a refusal of
//! a schema newer than this library.

use crate::error::{Error, Result};
use postgres::Client;

/// Schema version this library writes (`schema_version.version`).
pub(crate) const PG_SCHEMA_VERSION: i32 = 5;

/// `MIGRATIONS[v - 1]` brings a schema from version v - 1 to v. Append only.
const MIGRATIONS: [&str; 5] = [SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_V5];

/// Version 5 (issue 15, item 8): `counts()` in O(groups). Each write appends
/// its change of the counts per (status, type) to `operation_count_change`
/// (a heap without indexes: writers never wait for each other there, no
/// counter row is shared), and the changes are folded into `operation_count`
/// (one row per group) now and then, by the writer whose trigger draws a
/// fold (1 in 128 calls), one at a time (a try-lock: the others go on). A
/// count is the group's row plus its pending changes, in one snapshot.
const SCHEMA_V5: &str = r#"
CREATE TABLE operation_count (
    status         integer NOT NULL,
    operation_type integer NOT NULL,
    n              bigint  NOT NULL,
    PRIMARY KEY (status, operation_type)
);
CREATE TABLE operation_count_change (
    status         integer NOT NULL,
    operation_type integer NOT NULL,
    n              bigint  NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);
INSERT INTO operation_count (status, operation_type, n)
    SELECT status, operation_type, count(*) FROM operation GROUP BY status, operation_type;

CREATE FUNCTION operation_count_fold() RETURNS void LANGUAGE plpgsql
SET search_path FROM CURRENT AS $f$
BEGIN
    IF pg_try_advisory_xact_lock(hashtextextended(current_schema() || '.operation_count', 0)) THEN
        WITH folded AS (DELETE FROM operation_count_change RETURNING status, operation_type, n)
        INSERT INTO operation_count AS c (status, operation_type, n)
            SELECT status, operation_type, sum(n) FROM folded GROUP BY status, operation_type
            ON CONFLICT (status, operation_type) DO UPDATE SET n = c.n + excluded.n;
        DELETE FROM operation_count WHERE n = 0;
    END IF;
END $f$;

CREATE FUNCTION operation_count_insert() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $f$
BEGIN
    INSERT INTO operation_count_change (status, operation_type, n)
        SELECT status, operation_type, count(*) FROM new_rows GROUP BY status, operation_type;
    IF random() < 1.0 / 128 THEN
        PERFORM operation_count_fold();
    END IF;
    RETURN NULL;
END $f$;
CREATE TRIGGER operation_count_insert AFTER INSERT ON operation
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION operation_count_insert();

CREATE FUNCTION operation_count_delete() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $f$
BEGIN
    INSERT INTO operation_count_change (status, operation_type, n)
        SELECT status, operation_type, -count(*) FROM old_rows GROUP BY status, operation_type;
    IF random() < 1.0 / 128 THEN
        PERFORM operation_count_fold();
    END IF;
    RETURN NULL;
END $f$;
CREATE TRIGGER operation_count_delete AFTER DELETE ON operation
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION operation_count_delete();

CREATE FUNCTION operation_count_move() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $f$
BEGIN
    INSERT INTO operation_count_change (status, operation_type, n)
        VALUES (OLD.status, OLD.operation_type, -1), (NEW.status, NEW.operation_type, 1);
    IF random() < 1.0 / 128 THEN
        PERFORM operation_count_fold();
    END IF;
    RETURN NULL;
END $f$;
CREATE TRIGGER operation_count_move AFTER UPDATE OF status ON operation FOR EACH ROW
    WHEN (OLD.status <> NEW.status)
    EXECUTE FUNCTION operation_count_move();
"#;

/// Version 4 (issue 15, item 7, as SQLite's schema 5): a `blocked` flag on the
/// unfinished rows that wait behind an earlier unfinished row of their
/// dependency token, kept by triggers, and one index of the Ready rows that
/// are not blocked, by (type, id). A claim takes the head of each type it may
/// take from that index, so it never visits a blocked row, a row of a type it
/// does not take, or a row of a held type.
///
/// Concurrency (READ COMMITTED): submits of a token hold its advisory lock
/// (exclusive, taken by the store before the INSERT); a row that finishes or
/// is deleted unfinished takes it shared in its trigger, so a submit and a
/// release of one token are serialised, and each statement of the trigger
/// runs on a fresh snapshot. Releases of one token may run together: each
/// unblocks the token's first unfinished row until the head it sees, after
/// waiting for any row lock on it, is unblocked (or there is none). The
/// functions keep the schema's search path (`FROM CURRENT`), whatever the
/// session's.
const SCHEMA_V4: &str = r#"
ALTER TABLE operation ADD COLUMN blocked boolean NOT NULL DEFAULT false;
UPDATE operation AS o SET blocked = true
    WHERE o.state < 3 AND o.dependency_token IS NOT NULL AND EXISTS (
        SELECT 1 FROM operation AS p WHERE p.dependency_token = o.dependency_token
        AND p.state < 3 AND p.id < o.id);
DROP INDEX operation_ready;
CREATE INDEX operation_ready_type ON operation (operation_type, id)
    WHERE state = 0 AND NOT blocked;

-- A new unfinished row with a token is blocked if an earlier one is unfinished.
CREATE FUNCTION operation_token_insert() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $f$
BEGIN
    NEW.blocked := EXISTS (
        SELECT 1 FROM operation AS p WHERE p.dependency_token = NEW.dependency_token
        AND p.state < 3 AND p.id < NEW.id);
    RETURN NEW;
END $f$;
CREATE TRIGGER operation_token_insert BEFORE INSERT ON operation FOR EACH ROW
    WHEN (NEW.dependency_token IS NOT NULL AND NEW.state < 3)
    EXECUTE FUNCTION operation_token_insert();

-- The token's first unfinished row is not blocked.
CREATE FUNCTION operation_token_release(token text) RETURNS void LANGUAGE plpgsql
SET search_path FROM CURRENT AS $f$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtextextended(token, 1));
    LOOP
        UPDATE operation SET blocked = false WHERE blocked AND id = (
            SELECT min(id) FROM operation WHERE dependency_token = token AND state < 3);
        EXIT WHEN NOT EXISTS (
            SELECT 1 FROM operation WHERE blocked AND id = (
                SELECT min(id) FROM operation WHERE dependency_token = token AND state < 3));
    END LOOP;
END $f$;

-- A row that finishes (any status) or is deleted unfinished releases its
-- token's next row. A finished row made unfinished again (none of today's
-- moves does this) is blocked by an earlier unfinished row, and blocks the
-- token's head if that head is later.
CREATE FUNCTION operation_token_state() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $f$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.state = 3 THEN
        PERFORM operation_token_release(OLD.dependency_token);
    ELSE
        PERFORM pg_advisory_xact_lock(hashtextextended(NEW.dependency_token, 1));
        UPDATE operation SET blocked = EXISTS (
            SELECT 1 FROM operation AS p WHERE p.dependency_token = NEW.dependency_token
            AND p.state < 3 AND p.id < NEW.id) WHERE id = NEW.id;
        UPDATE operation SET blocked = true WHERE NOT blocked AND id = (
            SELECT min(id) FROM operation
            WHERE dependency_token = NEW.dependency_token AND state < 3 AND id > NEW.id);
    END IF;
    RETURN NULL;
END $f$;
CREATE TRIGGER operation_token_state AFTER UPDATE OF state ON operation FOR EACH ROW
    WHEN (NEW.dependency_token IS NOT NULL AND (OLD.state = 3) <> (NEW.state = 3))
    EXECUTE FUNCTION operation_token_state();
CREATE TRIGGER operation_token_delete AFTER DELETE ON operation FOR EACH ROW
    WHEN (OLD.dependency_token IS NOT NULL AND OLD.state < 3)
    EXECUTE FUNCTION operation_token_state();
"#;

/// Version 2: one row per leadership (periodic work one host at a time does,
/// such as retention), held until `expires_at` by the database's clock.
const SCHEMA_V2: &str = r#"
CREATE TABLE leader (
    name       text   PRIMARY KEY,
    holder     text   NOT NULL,
    expires_at bigint NOT NULL
);
"#;

/// Version 3: the life cycle's records, as in the SQLite schema v3: progress,
/// output, the attempt history and the held operation types.
const SCHEMA_V3: &str = r#"
ALTER TABLE operation ADD COLUMN progress integer CHECK (progress BETWEEN 0 AND 100),
    ADD COLUMN progress_text text,
    ADD COLUMN output bytea;

CREATE TABLE attempt (
    operation_id bigint  NOT NULL,
    lock_token   bigint  NOT NULL,
    started_on   bigint,
    ended_on     bigint  NOT NULL,
    host_id      text,
    ending       text    NOT NULL CHECK (ending IN ('retry', 'failed', 'expired')),
    error_code   integer,
    message      text,
    detail       text,
    PRIMARY KEY (operation_id, lock_token)
);

-- The name index in the "C" collation (byte order), whatever the database's
-- default: exact names and name prefixes (a range) both use it.
DROP INDEX operation_name;
CREATE INDEX operation_name ON operation (name COLLATE "C");

CREATE TABLE held_type (
    operation_type integer PRIMARY KEY CHECK (operation_type > 0),
    held_on        bigint  NOT NULL
);
"#;

/// Version 1: the SQLite schema's columns and settings. Times are bigint UTC
/// ms (the ABI's unit). `fillfactor = 80` leaves room on each page so that a
/// renewal (which changes no indexed column: there is no index on
/// `lease_expires_at`) can be a HOT update.
const SCHEMA_V1: &str = r#"
CREATE TABLE operation (
    id                   bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                 text    NOT NULL,
    operation_type       integer NOT NULL CHECK (operation_type > 0),
    state                integer NOT NULL CHECK (state BETWEEN 0 AND 3),
    status               integer NOT NULL
                         CHECK (status IN (0, 10, 20, 21, 22, 30, 31, 32) AND state = status / 10),
    data                 bytea   NOT NULL,
    dependency_token     text,
    postpone_until       bigint,
    host_id              text,
    lease_expires_at     bigint,
    lock_token           bigint  NOT NULL DEFAULT 0,
    retry_count          integer NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
    error_code           integer,
    message              text,
    friendly_message     text,
    created_on           bigint  NOT NULL,
    modified_on          bigint  NOT NULL,
    started_on           bigint,
    completed_on         bigint,
    execution_time_span  bigint,
    recurrence_pattern   text,
    recurrence_start     bigint,
    correlation_id       text,
    is_waiting_for_event boolean NOT NULL DEFAULT false,
    CHECK ((state = 2) = (host_id IS NOT NULL)),
    CHECK ((state = 2) = (lease_expires_at IS NOT NULL))
) WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02);

CREATE INDEX operation_ready ON operation (id) WHERE state = 0;
CREATE INDEX operation_dependency ON operation (dependency_token, id)
    WHERE state < 3 AND dependency_token IS NOT NULL;
-- The backstop of dependency tokens: at most one Locked operation per token.
CREATE UNIQUE INDEX operation_one_locked_per_token ON operation (dependency_token)
    WHERE state = 2 AND dependency_token IS NOT NULL;
-- Leased rows by id, not by expiry: a renewal then changes no indexed column.
CREATE INDEX operation_locked ON operation (id) WHERE state = 2;
CREATE INDEX operation_postponed ON operation (postpone_until)
    WHERE state = 1 AND postpone_until IS NOT NULL;
CREATE INDEX operation_completed ON operation (completed_on) WHERE state = 3;
CREATE INDEX operation_group ON operation (state, status, operation_type);
CREATE INDEX operation_name ON operation (name);

CREATE TABLE setting (
    key   text PRIMARY KEY,
    value text NOT NULL
);

INSERT INTO setting (key, value) VALUES
    ('restricted_types', '9,16,18,19,20,22,24,25,27,31'),
    ('max_attempts', '4'),
    ('backoff_base_ms', '5000'),
    ('backoff_cap_ms', '3600000'),
    ('allow_delete_any', '0'),
    ('recurrence_updatable_types', ''),
    ('auto_delete_types', ''),
    ('cleanup_enabled', '1'),
    ('retention_succeeded_ms', '2592000000'),
    ('retention_failed_ms', '5184000000'),
    ('retention_canceled_ms', '5184000000'),
    ('last_purge_at', '0');
"#;

/// The key of the advisory lock every migration takes: "asyncop" in ASCII.
const MIGRATION_LOCK: i64 = 0x0061_7379_6e63_6f70;

/// Creates the schema or brings it to `PG_SCHEMA_VERSION`; refuses a newer one
/// with `Corrupt` and changes nothing then.
pub(super) fn migrate(client: &mut Client, schema: &str) -> Result<()> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET LOCAL search_path TO \"{schema}\"; \
         CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)"
    ))?;
    let version: i32 = match tx.query_opt("SELECT version FROM schema_version", &[])? {
        Some(row) => row.try_get(0)?,
        None => {
            tx.execute("INSERT INTO schema_version (version) VALUES (0)", &[])?;
            0
        }
    };
    if version > PG_SCHEMA_VERSION {
        return Err(Error::Corrupt(format!(
            "schema \"{schema}\" has version {version}, newer than this library's {PG_SCHEMA_VERSION}"
        )));
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.batch_execute(sql)?;
        let to = i32::try_from(i + 1).unwrap_or(PG_SCHEMA_VERSION);
        tx.execute("UPDATE schema_version SET version = $1", &[&to])?;
    }
    tx.commit()?;
    Ok(())
}

/// Checks a schema name: a plain lower-case identifier, so it can be written
/// into statements quoted without escaping.
pub(super) fn check_schema_name(schema: &str) -> Result<()> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "schema must be a lower-case identifier ([a-z_][a-z0-9_]*, at most 63), got {schema:?}"
        )))
    }
}
