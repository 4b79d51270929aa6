-- One vehicle, several devices, and which odometer is a km reading (issue 12).
-- `virtual_odometer`: the unit's own total odometer was set to the vehicle's reading and
-- counts as one. `rank`: the device's rank on its vehicle (NULL: by protocol, a fixed tracker
-- first, a phone after it).
ALTER TABLE device ADD COLUMN virtual_odometer INTEGER NOT NULL DEFAULT 0 CHECK (virtual_odometer IN (0, 1));
ALTER TABLE device ADD COLUMN rank INTEGER;

-- The organisation's classification rules, as the `[classification]` section of the
-- organisation file (org::classification_toml); NULL when none are configured.
ALTER TABLE organisation ADD COLUMN classification TEXT;

-- An odometer deviation keeps both readings (before, after), in km.
ALTER TABLE deviation ADD COLUMN odometer_before_km REAL;
ALTER TABLE deviation ADD COLUMN odometer_after_km REAL;
