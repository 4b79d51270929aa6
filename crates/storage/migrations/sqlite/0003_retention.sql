-- Every deletion by retention leaves a receipt: what kind, how many, under which rule.
-- Never the data itself.
CREATE TABLE retention_receipt (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    count   INTEGER NOT NULL,
    rule    TEXT NOT NULL
);
