-- The alarm purpose (sikkerhet): positions are kept only inside an alarm window — from a
-- panic button, crash, tamper or a reported theft until the window is resolved (seed 001,
-- Sikkerhetshensyn: the location is registered only when the situation occurs).
CREATE TABLE alarm_window (
    id          INTEGER PRIMARY KEY,
    vehicle_id  INTEGER NOT NULL REFERENCES vehicle (id),
    opened_at   INTEGER NOT NULL,
    triggers    TEXT NOT NULL,
    last_trigger_at INTEGER NOT NULL,
    resolved_at INTEGER,
    resolved_by TEXT,
    incident    INTEGER NOT NULL DEFAULT 0 CHECK (incident IN (0, 1))
);
CREATE INDEX alarm_window_vehicle ON alarm_window (vehicle_id, resolved_at);

CREATE TABLE alarm_position (
    window_id   INTEGER NOT NULL REFERENCES alarm_window (id),
    at          INTEGER NOT NULL,
    lat         REAL NOT NULL,
    lon         REAL NOT NULL,
    PRIMARY KEY (window_id, at)
) WITHOUT ROWID;
