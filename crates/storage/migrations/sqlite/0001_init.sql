-- The organisation. Rows are never deleted: what leaves the organisation file is retired
-- (active = 0), because history refers to it.
CREATE TABLE organisation (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    name        TEXT NOT NULL,
    org_number  TEXT
);

CREATE TABLE vehicle (
    id          INTEGER PRIMARY KEY,
    reg         TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('car', 'van')),
    grp         TEXT,
    description TEXT,
    purposes    TEXT NOT NULL DEFAULT '',
    active      INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE device (
    id          INTEGER PRIMARY KEY,
    protocol    TEXT NOT NULL,
    external_id TEXT NOT NULL,
    vehicle_id  INTEGER NOT NULL REFERENCES vehicle (id),
    model       TEXT,
    active      INTEGER NOT NULL DEFAULT 1,
    UNIQUE (protocol, external_id)
);

CREATE TABLE employee (
    id          INTEGER PRIMARY KEY,
    number      TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    email       TEXT,
    status      TEXT NOT NULL CHECK (status IN ('current', 'former')),
    driver_id   TEXT,
    active      INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE assignment (
    id          INTEGER PRIMARY KEY,
    employee_id INTEGER NOT NULL REFERENCES employee (id),
    vehicle_id  INTEGER NOT NULL REFERENCES vehicle (id),
    valid_from  TEXT NOT NULL,
    valid_to    TEXT,
    active      INTEGER NOT NULL DEFAULT 1,
    UNIQUE (employee_id, vehicle_id, valid_from)
);

CREATE TABLE site (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    address     TEXT,
    -- 'circle lat lon radius_m' or 'polygon lat lon lat lon …'
    geometry    TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1
);

-- Bumped by every organisation change, so running servers know to reload.
CREATE TABLE org_version (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    version     INTEGER NOT NULL
);
INSERT INTO org_version (id, version) VALUES (1, 0);

-- The staging area: raw fixes as devices sent them. No user-facing path reads this table;
-- its only reader is the purpose engine, and rows are purged after a bounded lifetime.
-- `id` is arrival order (the purpose engine's cursor). The unique key puts time first so
-- inserts append at the right edge of the index (see shared MEASURED.md): the same
-- uniqueness that de-duplication needs, at a fraction of the write cost.
CREATE TABLE staged_fix (
    id          INTEGER PRIMARY KEY,
    fix_time    INTEGER NOT NULL,
    device_id   INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    lat         REAL,
    lon         REAL,
    altitude    REAL,
    course      INTEGER,
    satellites  INTEGER,
    speed_kmh   REAL,
    attrs       BLOB NOT NULL,
    UNIQUE (fix_time, device_id)
);

-- The device field inventory: which kinds of data each unit has sent, never the values
-- (seed 001, "Registrering av detaljopplysninger": the employer must know what it registers).
CREATE TABLE device_field (
    device_id   INTEGER NOT NULL,
    field_key   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (device_id, field_key)
);
