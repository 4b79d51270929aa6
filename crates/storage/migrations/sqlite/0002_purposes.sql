-- The purpose engine's progress: the last staged fix it has consumed.
CREATE TABLE purpose_cursor (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    last_staged_id  INTEGER NOT NULL
);
INSERT INTO purpose_cursor (id, last_staged_id) VALUES (1, 0);

-- Privacy mode switches, per vehicle: visible to the driver, the source of truth for whether
-- a stretch of driving is private.
CREATE TABLE privacy_switch (
    id          INTEGER PRIMARY KEY,
    vehicle_id  INTEGER NOT NULL REFERENCES vehicle (id),
    at          INTEGER NOT NULL,
    private     INTEGER NOT NULL CHECK (private IN (0, 1)),
    source      TEXT NOT NULL
);
CREATE INDEX privacy_switch_vehicle ON privacy_switch (vehicle_id, at);

-- The driving log (elektronisk kjørebok). A private trip holds its date and km and nothing
-- else: the CHECK makes any other value on a private row impossible. No coordinates are
-- kept: the log names places (a site, or the nearest locality).
CREATE TABLE trip (
    id                  INTEGER PRIMARY KEY,
    vehicle_id          INTEGER NOT NULL REFERENCES vehicle (id),
    local_date          TEXT NOT NULL,
    km                  REAL NOT NULL,
    private             INTEGER NOT NULL CHECK (private IN (0, 1)),
    start_time          INTEGER,
    end_time            INTEGER,
    start_place         TEXT,
    end_place           TEXT,
    odometer_start_km   REAL,
    odometer_end_km     REAL,
    distance_source     TEXT,
    driver_number       TEXT,
    recorded_at         INTEGER NOT NULL,
    CHECK (private = 0 OR (start_time IS NULL AND end_time IS NULL AND start_place IS NULL
        AND end_place IS NULL AND odometer_start_km IS NULL AND odometer_end_km IS NULL
        AND distance_source IS NULL AND driver_number IS NULL))
);
CREATE INDEX trip_vehicle_date ON trip (vehicle_id, local_date);

-- Skatteetaten: recorded distance, date and time cannot be corrected or deleted. Only the
-- retention job may delete, and only while it holds the gate below.
CREATE TABLE retention_gate (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    open  INTEGER NOT NULL
);
INSERT INTO retention_gate (id, open) VALUES (1, 0);

CREATE TRIGGER trip_recorded_values_are_final BEFORE UPDATE ON trip
BEGIN
    SELECT RAISE(ABORT, 'the driving log''s recorded distance, date and time cannot be changed');
END;

CREATE TRIGGER trip_deleted_only_by_retention BEFORE DELETE ON trip
WHEN (SELECT open FROM retention_gate WHERE id = 1) = 0
BEGIN
    SELECT RAISE(ABORT, 'driving log entries are deleted only by retention, after their retention period');
END;

-- Classification of trips: business (with purpose), private, or not yet classified. Every
-- change is a new row; the latest row is the trip's classification.
CREATE TABLE trip_class (
    id          INTEGER PRIMARY KEY,
    trip_id     INTEGER NOT NULL REFERENCES trip (id),
    at          INTEGER NOT NULL,
    by_user     TEXT NOT NULL,
    class       TEXT NOT NULL CHECK (class IN ('business', 'private', 'unclassified')),
    purpose     TEXT
);
CREATE INDEX trip_class_trip ON trip_class (trip_id, id);

-- Deviations the log records rather than hides: device silence while moving, late data that
-- would have changed a trip already written.
CREATE TABLE deviation (
    id          INTEGER PRIMARY KEY,
    vehicle_id  INTEGER NOT NULL REFERENCES vehicle (id),
    local_date  TEXT NOT NULL,
    from_time   INTEGER NOT NULL,
    to_time     INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    km          REAL NOT NULL,
    note        TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX deviation_vehicle_date ON deviation (vehicle_id, local_date);

-- Per vehicle, the last staged fix the driving log has closed a trip on: after a restart the
-- trip builder replays the staged fixes after it. A staged id, not a time, so that nothing
-- here tells when a private trip ended once staging is purged.
CREATE TABLE drivinglog_watermark (
    vehicle_id  INTEGER PRIMARY KEY REFERENCES vehicle (id),
    staged_id   INTEGER NOT NULL
);

-- Device inputs mapped to privacy mode and to a panic button (organisation file).
ALTER TABLE device ADD COLUMN privacy_input TEXT;
ALTER TABLE device ADD COLUMN panic_input TEXT;
