-- Several nodes on one database (ARCHITECTURE.md, "Several nodes"): the purpose engine's
-- partitions by vehicle, each with its own cursor over staging; leases naming which node holds
-- each partition and the scheduled work; secrets every node shares (the web's CSRF key).
CREATE TABLE partition_cursor (
    part INTEGER PRIMARY KEY CHECK (part >= 0 AND part < 16),
    last_staged_id INTEGER NOT NULL
);
INSERT INTO partition_cursor (part, last_staged_id)
    WITH RECURSIVE n(p) AS (SELECT 0 UNION ALL SELECT p + 1 FROM n WHERE p < 15)
    SELECT p, COALESCE((SELECT last_staged_id FROM purpose_cursor WHERE id = 1), 0) FROM n;
-- `purpose_cursor` stays as the lowest partition cursor: every staged id up to it is consumed.
CREATE TABLE engine_lease (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE shared_secret (
    name TEXT PRIMARY KEY,
    secret BLOB NOT NULL CHECK (length(secret) = 32)
);
