-- The audit ledger: append-only, hash-chained (and a Merkle tree over the entries, computed by
-- the `ledger` crate). Never the personal data itself: who, role, purpose, whose (an employee
-- number), what, when, outcome. The triggers refuse edits through SQLite; `sporvern audit
-- verify` finds any edit made around them.
CREATE TABLE audit_entry (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    role        TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    subject     TEXT,
    action      TEXT NOT NULL,
    object      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    chain       BLOB NOT NULL
);

CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
BEGIN
    SELECT RAISE(ABORT, 'the audit ledger is append-only');
END;

CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
BEGIN
    SELECT RAISE(ABORT, 'the audit ledger is append-only');
END;
