-- A month's review (the approval flow): the driver submits a month, the log keeper approves
-- it or returns it with a comment, the driver submits again. Every step is a new row; the
-- latest decides. Only approval makes the month final.
CREATE TABLE month_step (
    id          INTEGER PRIMARY KEY,
    vehicle_id  INTEGER NOT NULL REFERENCES vehicle (id),
    month       TEXT NOT NULL,
    step        TEXT NOT NULL CHECK (step IN ('submitted', 'returned', 'approved')),
    by_user     TEXT NOT NULL,
    at          INTEGER NOT NULL,
    comment     TEXT
);
CREATE INDEX month_step_vehicle_month ON month_step (vehicle_id, month, id);

-- The sign-offs made before: a driver's signature was a submission, a keeper's an approval.
INSERT INTO month_step (vehicle_id, month, step, by_user, at)
    SELECT vehicle_id, month, CASE role WHEN 'driver' THEN 'submitted' ELSE 'approved' END, by_user, at
    FROM month_signoff ORDER BY vehicle_id, month, at, role = 'keeper';
DROP TABLE month_signoff;

CREATE TRIGGER month_step_is_kept BEFORE UPDATE ON month_step
BEGIN
    SELECT RAISE(ABORT, 'a month''s review steps are kept as recorded');
END;

CREATE TRIGGER month_step_deleted_only_by_retention BEFORE DELETE ON month_step
WHEN (SELECT open FROM retention_gate WHERE id = 1) = 0
BEGIN
    SELECT RAISE(ABORT, 'a month''s review steps are deleted only by retention, with its driving log');
END;

-- After the log keeper's approval nothing in the month changes, whatever the door: the
-- changes door refuses with the reason first; this is the database's own guard.
CREATE TRIGGER trip_class_final_after_approval BEFORE INSERT ON trip_class
WHEN (SELECT s.step FROM trip t JOIN month_step s
        ON s.vehicle_id = t.vehicle_id AND s.month = substr(t.local_date, 1, 7)
      WHERE t.id = NEW.trip_id ORDER BY s.id DESC LIMIT 1) = 'approved'
BEGIN
    SELECT RAISE(ABORT, 'the month is approved by the log keeper: its driving log is final');
END;

-- Private means date and km in storage: a trip classified private is erased to its date and
-- km, once and for ever. That erasure is the only update the driving log accepts: it keeps
-- the vehicle, the date and the km, empties every other column (the CHECK on `trip` demands
-- it of a private row), and coarsens the recording time to the date, so nothing tells when
-- the trip ended. Recorded distance, date and time still cannot be corrected.
DROP TRIGGER trip_recorded_values_are_final;
-- Private trips recorded before: their recording time, coarsened to the date the same way
-- (they hold no other value: the CHECK on `trip` saw to that).
UPDATE trip SET recorded_at = CAST(strftime('%s', local_date) AS INTEGER) * 1000 WHERE private = 1;
CREATE TRIGGER trip_recorded_values_are_final BEFORE UPDATE ON trip
WHEN NOT (OLD.private = 0 AND NEW.private = 1 AND NEW.id = OLD.id
    AND NEW.vehicle_id = OLD.vehicle_id AND NEW.local_date = OLD.local_date AND NEW.km = OLD.km
    AND NEW.recorded_at = CAST(strftime('%s', OLD.local_date) AS INTEGER) * 1000)
BEGIN
    SELECT RAISE(ABORT, 'the driving log''s recorded distance, date and time cannot be changed');
END;


-- Trips classified private before this migration kept everything: erase them now.
UPDATE trip_class SET purpose = NULL WHERE trip_id IN (
    SELECT t.id FROM trip t WHERE t.private = 0
      AND (SELECT c.class FROM trip_class c WHERE c.trip_id = t.id ORDER BY c.id DESC LIMIT 1) = 'private');
UPDATE trip SET private = 1, start_time = NULL, end_time = NULL, start_place = NULL,
    end_place = NULL, odometer_start_km = NULL, odometer_end_km = NULL, distance_source = NULL,
    driver_number = NULL, recorded_at = CAST(strftime('%s', local_date) AS INTEGER) * 1000
WHERE private = 0
  AND (SELECT c.class FROM trip_class c WHERE c.trip_id = trip.id ORDER BY c.id DESC LIMIT 1) = 'private';
