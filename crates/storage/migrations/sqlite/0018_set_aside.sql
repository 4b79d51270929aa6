-- Staged fixes the purpose engine could not process, set aside with the reason so that the
-- engine's cursor moves on and no other vehicle waits. For the operator (logs, metrics and
-- this table), never for users: it holds no position, only which staged row,
-- which device, its claimed time and why. Purged with the staging area's lifetime.
CREATE TABLE staged_set_aside (
    staged_id    INTEGER PRIMARY KEY,
    device_id    INTEGER NOT NULL,
    fix_time     INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    set_aside_at INTEGER NOT NULL
);
CREATE INDEX staged_set_aside_received ON staged_set_aside (received_at);
