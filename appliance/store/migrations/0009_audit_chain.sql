-- Level 9: the audit log is append-only and tamper-evident (ADM-2, issue 13 item 3).
-- Each row written from now on carries the hash of the row before it and its
-- own: hash = sha256(prev_hash || '\n' || canonical JSON of the row), computed by
-- appliance/store/audit.py inside the inserting transaction. Rows written
-- before this level keep NULL hashes and are reported as outside the chain
-- by `appliancectl audit verify`.
-- The triggers refuse every UPDATE and DELETE: an edit needs the triggers
-- dropped first, which the chain then shows.

ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: rows cannot be changed');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: rows cannot be deleted');
END;

-- The rows outside the chain are exactly those that existed at this level:
-- a later row without a hash is a break, not an old row.
CREATE TABLE audit_chain (legacy_through INTEGER NOT NULL);
INSERT INTO audit_chain (legacy_through) SELECT coalesce(max(id), 0) FROM audit_log;

CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
BEGIN
    SELECT RAISE(ABORT, 'audit_chain is fixed at migration 0009');
END;

CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
BEGIN
    SELECT RAISE(ABORT, 'audit_chain is fixed at migration 0009');
END;
