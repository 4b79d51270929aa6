-- The register's records that 0013's tables do not hold (the DPIA's residual risk, prior
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
