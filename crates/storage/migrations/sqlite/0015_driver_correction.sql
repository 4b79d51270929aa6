-- A wrong driver attribution is corrected by a supplement, never by changing the trip: the
-- log keeper (or the employee the trip was wrongly attributed to) records the right driver
-- and why. The recorded driver stays in `trip`; the latest correction says who drove.
CREATE TABLE trip_driver_correction (
    id              INTEGER PRIMARY KEY,
    trip_id         INTEGER NOT NULL REFERENCES trip (id),
    at              INTEGER NOT NULL,
    by_user         TEXT NOT NULL,
    driver_number   TEXT NOT NULL,
    reason          TEXT NOT NULL
);
CREATE INDEX trip_driver_correction_trip ON trip_driver_correction (trip_id, id);

CREATE TRIGGER trip_driver_correction_is_kept BEFORE UPDATE ON trip_driver_correction
BEGIN
    SELECT RAISE(ABORT, 'a driver correction is kept as recorded; a new one supersedes it');
END;

CREATE TRIGGER trip_driver_correction_deleted_only_by_retention BEFORE DELETE ON trip_driver_correction
WHEN (SELECT open FROM retention_gate WHERE id = 1) = 0
BEGIN
    SELECT RAISE(ABORT, 'driver corrections are deleted only by retention, with their trip');
END;

CREATE TRIGGER trip_driver_final_after_approval BEFORE INSERT ON trip_driver_correction
WHEN (SELECT s.step FROM trip t JOIN month_step s
        ON s.vehicle_id = t.vehicle_id AND s.month = substr(t.local_date, 1, 7)
      WHERE t.id = NEW.trip_id ORDER BY s.id DESC LIMIT 1) = 'approved'
BEGIN
    SELECT RAISE(ABORT, 'the month is approved by the log keeper: its driving log is final');
END;
