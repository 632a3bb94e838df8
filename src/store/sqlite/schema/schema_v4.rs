//! Schema version 4 (issue 15, fewer WAL pages per commit): the operation
//! table without `AUTOINCREMENT`, group counters kept by triggers instead of
//! the `(state, status, operation_type)` index, and a name index filled in
//! batches instead of by every submit.
//!
//! What each submit, claim and complete writes beyond the table and its
//! partial indexes is one page of `operation_count`; see benches/NOTES.md for
//! the measured pages and docs/operation-model.md §5 and §11 for the rules.

/// Rows whose names are not yet in `operation_by_name`: at most this many
/// (by id) trail the last folded id; the insert that reaches it folds them.
/// A name query reads these rows by id range, so it costs O(log n + NAME_TAIL).
/// Version 4 folded every 128 ids; version 5 every 256 (`schema_v5.sql`:
/// half the fold's pages per submit, which paid for the `blocked` flag).
pub const NAME_TAIL: i64 = 256;

/// Version 4. Rebuilds `operation` (the SQLite "12-step" procedure: new table,
/// copy, drop, rename, indexes) because `AUTOINCREMENT` cannot be removed in
/// place; sqlite_sequence's value is kept as `operation_mark.deleted_id_max`.
///
/// Ids are never reused (§5): the insert takes
/// `max(max(id), deleted_id_max) + 1`, and only deletes raise the mark.
pub const SCHEMA_V4: &str = r#"
CREATE TABLE operation_v4 (
    -- Ids are never reused (§5): see operation_mark.deleted_id_max.
    id                   INTEGER PRIMARY KEY,
    name                 TEXT    NOT NULL,
    operation_type       INTEGER NOT NULL CHECK (operation_type > 0),
    state                INTEGER NOT NULL CHECK (state BETWEEN 0 AND 3),
    status               INTEGER NOT NULL
                         CHECK (status IN (0, 10, 20, 21, 22, 30, 31, 32) AND state = status / 10),
    data                 BLOB    NOT NULL,
    dependency_token     TEXT,
    postpone_until       INTEGER,
    host_id              TEXT,
    lease_expires_at     INTEGER,
    lock_token           INTEGER NOT NULL DEFAULT 0,
    retry_count          INTEGER NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
    error_code           INTEGER,
    message              TEXT,
    friendly_message     TEXT,
    created_on           INTEGER NOT NULL,
    modified_on          INTEGER NOT NULL,
    started_on           INTEGER,
    completed_on         INTEGER,
    execution_time_span  INTEGER,
    recurrence_pattern   TEXT,
    recurrence_start     INTEGER,
    correlation_id       TEXT,
    is_waiting_for_event INTEGER NOT NULL DEFAULT 0 CHECK (is_waiting_for_event IN (0, 1)),
    progress             INTEGER CHECK (progress BETWEEN 0 AND 100),
    progress_text        TEXT,
    output               BLOB,
    -- host_id and lease_expires_at are non-null exactly while Locked (§5).
    CHECK ((state = 2) = (host_id IS NOT NULL)),
    CHECK ((state = 2) = (lease_expires_at IS NOT NULL))
);
INSERT INTO operation_v4 (id, name, operation_type, state, status, data, dependency_token,
    postpone_until, host_id, lease_expires_at, lock_token, retry_count, error_code, message,
    friendly_message, created_on, modified_on, started_on, completed_on, execution_time_span,
    recurrence_pattern, recurrence_start, correlation_id, is_waiting_for_event, progress,
    progress_text, output)
SELECT id, name, operation_type, state, status, data, dependency_token,
    postpone_until, host_id, lease_expires_at, lock_token, retry_count, error_code, message,
    friendly_message, created_on, modified_on, started_on, completed_on, execution_time_span,
    recurrence_pattern, recurrence_start, correlation_id, is_waiting_for_event, progress,
    progress_text, output
FROM operation ORDER BY id;

-- Marks the library keeps beside the table, each written rarely:
-- deleted_id_max: the largest id ever deleted (or handed out before version 4),
--   written only by deletes; a new id is max(max(id), deleted_id_max) + 1.
-- named_to: every row with id <= named_to has its name in operation_by_name.
CREATE TABLE operation_mark (
    key   TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO operation_mark (key, value) VALUES
    ('deleted_id_max', coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'operation'), 0)),
    ('named_to', coalesce((SELECT max(id) FROM operation_v4), 0));

DROP TABLE operation;
ALTER TABLE operation_v4 RENAME TO operation;

-- The claim walks Ready rows in id order: O(log n) however many rows are Completed.
CREATE INDEX operation_ready ON operation (id) WHERE state = 0;
-- "Is an earlier unfinished operation with my token there?" (§7)
CREATE INDEX operation_dependency ON operation (dependency_token, id)
    WHERE state < 3 AND dependency_token IS NOT NULL;
-- Recovery of expired leases and promotion of due postponed rows (§6.4).
CREATE INDEX operation_lease ON operation (lease_expires_at) WHERE state = 2;
CREATE INDEX operation_postponed ON operation (postpone_until)
    WHERE state = 1 AND postpone_until IS NOT NULL;
-- Retention (§10) and completed_before queries.
CREATE INDEX operation_completed ON operation (completed_on) WHERE state = 3;
-- System Jobs queries by state Suspended (the other states have theirs above);
-- written by pause, suspend and back-off, never by submit -> claim -> complete.
CREATE INDEX operation_suspended ON operation (id) WHERE state = 1;

-- Sizes of the (state, status, operation_type) groups: counts() reads only
-- this, O(groups). Kept by the triggers below in the writing transaction.
-- Groups that emptied stay with n = 0 (counts() skips them).
CREATE TABLE operation_count (
    state          INTEGER NOT NULL,
    status         INTEGER NOT NULL,
    operation_type INTEGER NOT NULL,
    n              INTEGER NOT NULL,
    PRIMARY KEY (state, status, operation_type)
) WITHOUT ROWID;
INSERT INTO operation_count (state, status, operation_type, n)
    SELECT state, status, operation_type, count(*) FROM operation
    GROUP BY state, status, operation_type;

-- Names of the rows with id <= operation_mark.named_to: name and prefix
-- queries read a range of it, and the rows above the mark by id.
CREATE TABLE operation_by_name (
    name TEXT    NOT NULL,
    id   INTEGER NOT NULL,
    PRIMARY KEY (name, id)
) WITHOUT ROWID;
INSERT INTO operation_by_name (name, id) SELECT name, id FROM operation;

CREATE TRIGGER operation_inserted AFTER INSERT ON operation BEGIN
    INSERT INTO operation_count (state, status, operation_type, n)
        VALUES (new.state, new.status, new.operation_type, 1)
        ON CONFLICT (state, status, operation_type) DO UPDATE SET n = n + 1;
END;

-- Every NAME_TAIL-th id, the names above the mark go into the name index at once.
CREATE TRIGGER operation_names_folded AFTER INSERT ON operation
WHEN new.id - (SELECT value FROM operation_mark WHERE key = 'named_to') >= 128 BEGIN
    INSERT OR IGNORE INTO operation_by_name (name, id)
        SELECT name, id FROM operation
        WHERE id > (SELECT value FROM operation_mark WHERE key = 'named_to') AND id <= new.id;
    UPDATE operation_mark SET value = new.id WHERE key = 'named_to';
END;

CREATE TRIGGER operation_moved AFTER UPDATE OF state, status, operation_type ON operation
WHEN old.status <> new.status OR old.operation_type <> new.operation_type BEGIN
    UPDATE operation_count SET n = n - 1
        WHERE state = old.state AND status = old.status AND operation_type = old.operation_type;
    INSERT INTO operation_count (state, status, operation_type, n)
        VALUES (new.state, new.status, new.operation_type, 1)
        ON CONFLICT (state, status, operation_type) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER operation_deleted AFTER DELETE ON operation BEGIN
    UPDATE operation_count SET n = n - 1
        WHERE state = old.state AND status = old.status AND operation_type = old.operation_type;
    DELETE FROM operation_by_name WHERE name = old.name AND id = old.id;
    UPDATE operation_mark SET value = old.id WHERE key = 'deleted_id_max' AND value < old.id;
END;
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fold_trigger_uses_name_tail() {
        // Version 4 folded every 128 ids; version 5 replaces the trigger.
        assert!(SCHEMA_V4.contains(") >= 128 BEGIN"));
        let v5 = include_str!("schema_v5.sql");
        assert!(v5.contains(&format!(") >= {NAME_TAIL} BEGIN")));
    }
}
