-- Users of the server. No default user and no default password: the first admin is made with
-- `sporvern user add --role admin` on the server itself. Passwords are Argon2id PHC strings.
CREATE TABLE app_user (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    roles           TEXT NOT NULL,
    employee_number TEXT,
    password_hash   TEXT,
    created_at      INTEGER NOT NULL,
    disabled        INTEGER NOT NULL DEFAULT 0
);
