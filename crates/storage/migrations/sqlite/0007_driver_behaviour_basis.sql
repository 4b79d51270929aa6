-- Where the organisation records the legal basis for driver-behaviour data (a balancing test
-- and a DPIA). Without it no vehicle may have the driver_behaviour purpose.
ALTER TABLE organisation ADD COLUMN db_balancing_test TEXT;
ALTER TABLE organisation ADD COLUMN db_dpia TEXT;
