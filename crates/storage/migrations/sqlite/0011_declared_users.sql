-- Users can be declared in the organisation file (roles from the file, no password; one is set
-- on the server). `declared` marks them, so that a user who leaves the file is disabled while
-- users made with `sporvern user add` are left alone.
ALTER TABLE app_user ADD COLUMN declared INTEGER NOT NULL DEFAULT 0 CHECK (declared IN (0, 1));
