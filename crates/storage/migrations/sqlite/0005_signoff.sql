-- A month of the driving log is signed off by the driver, then by the log keeper. Once the
-- keeper has signed, the month's classifications are final too.
CREATE TABLE month_signoff (
    vehicle_id  INTEGER NOT NULL REFERENCES vehicle (id),
    month       TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('driver', 'keeper')),
    by_user     TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (vehicle_id, month, role)
);
