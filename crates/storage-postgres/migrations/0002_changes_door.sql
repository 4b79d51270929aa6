-- The embedded backend's migrations 0014, 0015, 0018, 0022, 0028 and 0032 in PostgreSQL's
-- types: the month's review and the private erasure, driver corrections, the staged rows set
-- aside, several devices per vehicle and the classification rules, the alarm desk's columns,
-- and the register's later records. Append-only: a change is a new file.

-- A month's review (the approval flow): the driver submits a month, the log keeper approves
-- it or returns it with a comment, the driver submits again. Every step is a new row; the
-- latest decides. Only approval makes the month final.
CREATE TABLE month_step (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vehicle_id  BIGINT NOT NULL REFERENCES vehicle (id),
    month       TEXT NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    step        TEXT NOT NULL CHECK (step IN ('submitted', 'returned', 'approved')),
    by_user     TEXT NOT NULL,
    at          BIGINT NOT NULL,
    comment     TEXT
);
CREATE INDEX month_step_vehicle_month ON month_step (vehicle_id, month, id);

-- The sign-offs made before: a driver's signature was a submission, a keeper's an approval.
INSERT INTO month_step (vehicle_id, month, step, by_user, at)
    SELECT vehicle_id, month, CASE role WHEN 'driver' THEN 'submitted' ELSE 'approved' END, by_user, at
    FROM month_signoff ORDER BY vehicle_id, month, at, role = 'keeper';
DROP TABLE month_signoff;

CREATE FUNCTION month_step_is_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a month''s review steps are kept as recorded';
END $$;
CREATE TRIGGER month_step_is_kept BEFORE UPDATE ON month_step
    FOR EACH ROW EXECUTE FUNCTION month_step_is_kept();

CREATE FUNCTION month_step_deleted_only_by_retention() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('sporvern.retention_gate', true) IS DISTINCT FROM 'open' THEN
        RAISE EXCEPTION 'a month''s review steps are deleted only by retention, with its driving log';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER month_step_deleted_only_by_retention BEFORE DELETE ON month_step
    FOR EACH ROW EXECUTE FUNCTION month_step_deleted_only_by_retention();
CREATE TRIGGER month_step_never_truncated BEFORE TRUNCATE ON month_step
    FOR EACH STATEMENT EXECUTE FUNCTION month_step_deleted_only_by_retention();

-- After the log keeper's approval nothing in the month changes, whatever the door: the
-- changes door refuses with the reason first; this is the database's own guard, for a new
-- classification and for a new driver correction of a trip in an approved month.
CREATE FUNCTION trip_final_after_approval() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT s.step FROM trip t JOIN month_step s
          ON s.vehicle_id = t.vehicle_id AND s.month = to_char(t.local_date, 'YYYY-MM')
        WHERE t.id = NEW.trip_id ORDER BY s.id DESC LIMIT 1) = 'approved' THEN
        RAISE EXCEPTION 'the month is approved by the log keeper: its driving log is final';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER trip_class_final_after_approval BEFORE INSERT ON trip_class
    FOR EACH ROW EXECUTE FUNCTION trip_final_after_approval();

-- Private means date and km in storage: a trip classified private is erased to its date and
-- km, once and for ever. That erasure is the only update the driving log accepts: it keeps
-- the vehicle, the date and the km, empties every other column (the CHECK
-- `private_trip_is_date_and_km` demands it of a private row), and coarsens the recording time
-- to the date's midnight (UTC milliseconds), so nothing tells when the trip ended. Recorded
-- distance, date and time still cannot be corrected.
DROP TRIGGER trip_recorded_values_are_final ON trip;
-- Private trips recorded before: their recording time, coarsened to the date the same way
-- (they hold no other value: the CHECK saw to that).
UPDATE trip SET recorded_at = (local_date - DATE '1970-01-01')::bigint * 86400000 WHERE private;
-- Trips classified private before this migration kept everything: erase them now.
UPDATE trip_class SET purpose = NULL WHERE trip_id IN (
    SELECT t.id FROM trip t WHERE NOT t.private
      AND (SELECT c.class FROM trip_class c WHERE c.trip_id = t.id ORDER BY c.id DESC LIMIT 1) = 'private');
UPDATE trip SET private = TRUE, start_time = NULL, end_time = NULL, start_place = NULL,
    end_place = NULL, odometer_start_km = NULL, odometer_end_km = NULL, distance_source = NULL,
    driver_number = NULL, recorded_at = (local_date - DATE '1970-01-01')::bigint * 86400000
WHERE NOT private
  AND (SELECT c.class FROM trip_class c WHERE c.trip_id = trip.id ORDER BY c.id DESC LIMIT 1) = 'private';

-- A private trip's recording time is its date's midnight, whichever way it became private.
ALTER TABLE trip ADD CONSTRAINT private_trip_recorded_at_its_date
    CHECK (NOT private OR recorded_at = (local_date - DATE '1970-01-01')::bigint * 86400000);

CREATE OR REPLACE FUNCTION trip_recorded_values_are_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT OLD.private AND NEW.private AND NEW.id = OLD.id
        AND NEW.vehicle_id = OLD.vehicle_id AND NEW.local_date = OLD.local_date AND NEW.km = OLD.km
        AND NEW.recorded_at = (OLD.local_date - DATE '1970-01-01')::bigint * 86400000 THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the driving log''s recorded distance, date and time cannot be changed';
END $$;
CREATE TRIGGER trip_recorded_values_are_final BEFORE UPDATE ON trip
    FOR EACH ROW EXECUTE FUNCTION trip_recorded_values_are_final();

-- A classification is kept as recorded; the one update allowed is the erasure's, which
-- empties the purpose of a trip that is now private (a customer's name tells where it went).
CREATE FUNCTION trip_class_is_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id = OLD.id AND NEW.trip_id = OLD.trip_id AND NEW.at = OLD.at
        AND NEW.by_user = OLD.by_user AND NEW.class = OLD.class AND NEW.purpose IS NULL
        AND (SELECT private FROM trip WHERE id = OLD.trip_id) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'a trip''s classifications are kept as recorded; a new one supersedes them';
END $$;
CREATE TRIGGER trip_class_is_kept BEFORE UPDATE ON trip_class
    FOR EACH ROW EXECUTE FUNCTION trip_class_is_kept();

CREATE FUNCTION trip_class_deleted_only_by_retention() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('sporvern.retention_gate', true) IS DISTINCT FROM 'open' THEN
        RAISE EXCEPTION 'trip classifications are deleted only by retention, with their trip';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER trip_class_deleted_only_by_retention BEFORE DELETE ON trip_class
    FOR EACH ROW EXECUTE FUNCTION trip_class_deleted_only_by_retention();
CREATE TRIGGER trip_class_never_truncated BEFORE TRUNCATE ON trip_class
    FOR EACH STATEMENT EXECUTE FUNCTION trip_class_deleted_only_by_retention();

-- A wrong driver attribution is corrected by a supplement, never by changing the trip: the
-- log keeper (or the employee the trip was wrongly attributed to) records the right driver
-- and why. The recorded driver stays in `trip`; the latest correction says who drove.
CREATE TABLE trip_driver_correction (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trip_id         BIGINT NOT NULL REFERENCES trip (id),
    at              BIGINT NOT NULL,
    by_user         TEXT NOT NULL,
    driver_number   TEXT NOT NULL,
    reason          TEXT NOT NULL
);
CREATE INDEX trip_driver_correction_trip ON trip_driver_correction (trip_id, id);

CREATE FUNCTION trip_driver_correction_is_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a driver correction is kept as recorded; a new one supersedes it';
END $$;
CREATE TRIGGER trip_driver_correction_is_kept BEFORE UPDATE ON trip_driver_correction
    FOR EACH ROW EXECUTE FUNCTION trip_driver_correction_is_kept();

CREATE FUNCTION trip_driver_correction_deleted_only_by_retention() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('sporvern.retention_gate', true) IS DISTINCT FROM 'open' THEN
        RAISE EXCEPTION 'driver corrections are deleted only by retention, with their trip';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER trip_driver_correction_deleted_only_by_retention BEFORE DELETE ON trip_driver_correction
    FOR EACH ROW EXECUTE FUNCTION trip_driver_correction_deleted_only_by_retention();
CREATE TRIGGER trip_driver_correction_never_truncated BEFORE TRUNCATE ON trip_driver_correction
    FOR EACH STATEMENT EXECUTE FUNCTION trip_driver_correction_deleted_only_by_retention();

CREATE TRIGGER trip_driver_final_after_approval BEFORE INSERT ON trip_driver_correction
    FOR EACH ROW EXECUTE FUNCTION trip_final_after_approval();

-- Staged fixes the purpose engine could not process, set aside with the reason so that the
-- engine's cursor moves on and no other vehicle waits. For the operator, never for users: it
-- holds no position, only which staged row, which device, its claimed time and why. Purged
-- with the staging area's lifetime.
CREATE TABLE staged_set_aside (
    staged_id    BIGINT PRIMARY KEY,
    device_id    BIGINT NOT NULL,
    fix_time     BIGINT NOT NULL,
    received_at  BIGINT NOT NULL,
    reason       TEXT NOT NULL,
    set_aside_at BIGINT NOT NULL
);
CREATE INDEX staged_set_aside_received ON staged_set_aside (received_at);

-- One vehicle, several devices, and which odometer is a km reading. `virtual_odometer`: the
-- unit's own total odometer was set to the vehicle's reading and counts as one. `rank`: the
-- device's rank on its vehicle (NULL: by protocol, a fixed tracker first, a phone after it).
ALTER TABLE device ADD COLUMN virtual_odometer BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE device ADD COLUMN rank SMALLINT CHECK (rank BETWEEN 0 AND 255);

-- The organisation's classification rules, as the `[classification]` section of the
-- organisation file (org::classification_toml); NULL when none are configured.
ALTER TABLE organisation ADD COLUMN classification TEXT;

-- An odometer deviation keeps both readings (before, after), in km.
ALTER TABLE deviation ADD COLUMN odometer_before_km DOUBLE PRECISION;
ALTER TABLE deviation ADD COLUMN odometer_after_km DOUBLE PRECISION;

-- The operations desk: who opened an alarm window by hand and the police report's reference
-- (a theft window stays open until an operator resolves it), the operator's note when a
-- window is resolved, and an employee's phone number for the operator to call the driver.
ALTER TABLE alarm_window ADD COLUMN opened_by TEXT;
ALTER TABLE alarm_window ADD COLUMN reference TEXT;
ALTER TABLE alarm_window ADD COLUMN note TEXT;
-- Windows opened by hand before this migration carried "<reason> (reported by <user>)".
UPDATE alarm_window
   SET opened_by = substring(triggers FROM ' \(reported by (.*)\)$'),
       triggers = substring(triggers FROM '^(.*?) \(reported by .*\)$')
 WHERE triggers ~ ' \(reported by .*\)$';
ALTER TABLE employee ADD COLUMN phone TEXT;

-- The register's records that 0001's tables do not hold (the DPIA's residual risk, prior
-- consultation, the risk assessment's conclusion on necessity, reasons to continue after an
-- evaluation, processor agreements' art. 28(3) content and linked services, late duties'
-- closing, the private-driving routine and its reviews, the organisation's security records,
-- a breach's art. 33(1) decision not to notify): one JSON document written by
-- `register::persist::extras_json` and read back by `register::persist::apply_extras`, saved
-- whole with the rest of the register.
CREATE TABLE register_extra (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    body TEXT NOT NULL
);
