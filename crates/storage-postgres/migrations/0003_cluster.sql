-- Several nodes on one database (ARCHITECTURE.md, "Several nodes"): the purpose engine's
-- partitions by vehicle, each with its own cursor over staging; leases naming which node holds
-- each partition and the scheduled work (by the database's clock, in milliseconds); secrets
-- every node shares (the web's CSRF key, the NATS subjects' installation id).
CREATE FUNCTION sporvern_now_ms() RETURNS bigint
    LANGUAGE sql VOLATILE
    AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;

CREATE TABLE partition_cursor (
    part integer PRIMARY KEY CHECK (part >= 0 AND part < 16),
    last_staged_id bigint NOT NULL
);
INSERT INTO partition_cursor (part, last_staged_id)
    SELECT p, COALESCE((SELECT last_staged_id FROM purpose_cursor WHERE id = 1), 0)
    FROM generate_series(0, 15) AS p;
-- `purpose_cursor` stays as the lowest partition cursor: every staged id up to it is consumed.

CREATE TABLE engine_lease (
    name text PRIMARY KEY,
    holder text NOT NULL,
    expires_at bigint NOT NULL
);

CREATE TABLE shared_secret (
    name text PRIMARY KEY,
    secret bytea NOT NULL CHECK (length(secret) = 32)
);

-- Staged ids must become visible in the order they were given out: the purpose engine reads
-- past its cursor, so a lower id committing after a higher one was consumed would never be
-- read. Each node's ingest writer commits under this row's lock (one group commit at a time
-- across the nodes), so ids are taken and committed in one order.
CREATE TABLE staging_order (
    id integer PRIMARY KEY CHECK (id = 1)
);
INSERT INTO staging_order (id) VALUES (1);
