ALTER TABLE operation ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1));
UPDATE operation SET blocked = 1
    WHERE state < 3 AND dependency_token IS NOT NULL AND EXISTS (
        SELECT 1 FROM operation AS p WHERE p.dependency_token = operation.dependency_token
        AND p.state < 3 AND p.id < operation.id);
-- Replaces operation_ready: one Ready index, so a claim dirties no more pages than before.
DROP INDEX operation_ready;
CREATE INDEX operation_ready_type ON operation (operation_type, id) WHERE state = 0 AND blocked = 0;
-- The Ready rows that wait behind their token, for System Jobs queries of Ready
-- rows (with operation_ready_type: every Ready row is in one of the two).
-- Written only by operations with a dependency token, never by a plain
-- submit -> claim -> complete.
CREATE INDEX operation_ready_blocked ON operation (id) WHERE state = 0 AND blocked = 1;

-- A new unfinished row with a token is blocked if an earlier one is unfinished
-- (ids only grow, so no later row can be the token's head).
CREATE TRIGGER operation_token_insert AFTER INSERT ON operation
WHEN NEW.dependency_token IS NOT NULL AND NEW.state < 3
BEGIN
    UPDATE operation SET blocked = 1 WHERE id = NEW.id AND EXISTS (
        SELECT 1 FROM operation AS p WHERE p.dependency_token = NEW.dependency_token
        AND p.state < 3 AND p.id < NEW.id);
END;

-- A row that completes (any status) or is deleted unfinished releases the
-- token's next unfinished row (lowest id), whichever row it was. A Completed
-- row made unfinished again (none of today's moves does this) is blocked by an
-- earlier unfinished row, and blocks the token's head if that head is later.
-- One trigger for both directions: each trigger costs every UPDATE of state
-- (every claim and outcome) a sub-program call, even when WHEN is false.
CREATE TRIGGER operation_token_state AFTER UPDATE OF state ON operation
WHEN NEW.dependency_token IS NOT NULL AND (OLD.state = 3) != (NEW.state = 3)
BEGIN
    UPDATE operation SET blocked = 0 WHERE NEW.state = 3 AND blocked = 1 AND id = (
        SELECT min(id) FROM operation
        WHERE dependency_token = NEW.dependency_token AND state < 3);
    UPDATE operation SET blocked = EXISTS (
        SELECT 1 FROM operation AS p WHERE p.dependency_token = NEW.dependency_token
        AND p.state < 3 AND p.id < NEW.id) WHERE NEW.state < 3 AND id = NEW.id;
    UPDATE operation SET blocked = 1 WHERE NEW.state < 3 AND blocked = 0 AND id = (
        SELECT min(id) FROM operation
        WHERE dependency_token = NEW.dependency_token AND state < 3 AND id > NEW.id);
END;

CREATE TRIGGER operation_token_delete AFTER DELETE ON operation
WHEN OLD.dependency_token IS NOT NULL AND OLD.state < 3
BEGIN
    UPDATE operation SET blocked = 0 WHERE blocked = 1 AND id = (
        SELECT min(id) FROM operation
        WHERE dependency_token = OLD.dependency_token AND state < 3);
END;

-- The name index is filled every NAME_TAIL = 256 ids (128 in version 4): the
-- fold's pages per submit halve (about 0.01), which pays for the row's
-- `blocked` byte; a name query reads at most 256 unfolded rows by id.
DROP TRIGGER operation_names_folded;
CREATE TRIGGER operation_names_folded AFTER INSERT ON operation
WHEN new.id - (SELECT value FROM operation_mark WHERE key = 'named_to') >= 256 BEGIN
    INSERT OR IGNORE INTO operation_by_name (name, id)
        SELECT name, id FROM operation
        WHERE id > (SELECT value FROM operation_mark WHERE key = 'named_to') AND id <= new.id;
    UPDATE operation_mark SET value = new.id WHERE key = 'named_to';
END;
