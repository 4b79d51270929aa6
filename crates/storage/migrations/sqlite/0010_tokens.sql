-- Bearer tokens for the API, stored as SHA-256 hashes only; revocable, with expiry.
CREATE TABLE api_token (
    hash        TEXT PRIMARY KEY,
    user_name   TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked     INTEGER NOT NULL DEFAULT 0
);
