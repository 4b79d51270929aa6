-- Utilisation statistics (rasjonalisering). Trip facts wait here only until their ISO week is
-- over; then the week is released as anonymous aggregates (groups with fewer than k vehicles
-- suppressed) and the facts are deleted. No driver is ever recorded here.
CREATE TABLE utilization_fact (
    id          INTEGER PRIMARY KEY,
    grp         TEXT NOT NULL,
    vehicle_key INTEGER NOT NULL,
    start_time  INTEGER NOT NULL,
    end_time    INTEGER NOT NULL,
    km          REAL NOT NULL,
    start_cell_lat INTEGER NOT NULL,
    start_cell_lon INTEGER NOT NULL,
    end_cell_lat   INTEGER NOT NULL,
    end_cell_lon   INTEGER NOT NULL
);
CREATE INDEX utilization_fact_start ON utilization_fact (start_time);

CREATE TABLE utilization_week (
    grp         TEXT NOT NULL,
    year        INTEGER NOT NULL,
    week        INTEGER NOT NULL,
    released_at INTEGER NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (grp, year, week)
);
