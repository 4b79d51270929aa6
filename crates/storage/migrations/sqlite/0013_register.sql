-- The compliance register (SPEC.md section 4): measures with their facts and latest
-- assessment, the duty records, breaches and access cases. Numbers 0011 and 0012 belong to the
-- access work. Dates are 'YYYY-MM-DD' text; times are Unix milliseconds; lists are joined with
-- the unit separator (U+001F).
CREATE TABLE register_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO register_version (id, version) VALUES (1, 0);

CREATE TABLE register_measure (
    id           TEXT PRIMARY KEY,
    position     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    origin       TEXT NOT NULL CHECK (origin IN ('organisation', 'entered')),
    retired      INTEGER NOT NULL DEFAULT 0,
    facts        TEXT NOT NULL,
    -- The latest assessment of the facts: its verdict and the JSON of SPEC.md (English).
    verdict      TEXT NOT NULL,
    assessment   TEXT NOT NULL,
    concerns     TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('planned', 'active', 'ended')),
    started_on   TEXT,
    legal_basis  TEXT NOT NULL,
    processor    TEXT
);

CREATE TABLE register_balancing_test (
    measure_id     TEXT PRIMARY KEY REFERENCES register_measure(id),
    by_name        TEXT NOT NULL,
    interest       TEXT NOT NULL,
    necessity      TEXT NOT NULL,
    employees_side TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    decided_on     TEXT NOT NULL
);

CREATE TABLE register_dpia (
    measure_id      TEXT PRIMARY KEY REFERENCES register_measure(id),
    by_name         TEXT NOT NULL,
    done_on         TEXT NOT NULL,
    employees_views TEXT NOT NULL,
    dpo_advice      TEXT
);

CREATE TABLE register_discussion (
    measure_id   TEXT NOT NULL REFERENCES register_measure(id),
    date         TEXT NOT NULL,
    by_name      TEXT NOT NULL,
    participants TEXT NOT NULL,
    minutes      TEXT NOT NULL,
    PRIMARY KEY (measure_id, date)
);

CREATE TABLE register_information (
    measure_id             TEXT PRIMARY KEY REFERENCES register_measure(id),
    by_name                TEXT NOT NULL,
    controller             TEXT NOT NULL,
    purpose                TEXT NOT NULL,
    practical_consequences TEXT NOT NULL,
    how_carried_out        TEXT NOT NULL,
    expected_duration      TEXT NOT NULL,
    legal_basis            TEXT NOT NULL,
    retention              TEXT NOT NULL,
    access                 TEXT NOT NULL,
    published_on           TEXT NOT NULL
);

-- Employee numbers only.
CREATE TABLE register_acknowledgement (
    measure_id TEXT NOT NULL REFERENCES register_measure(id),
    employee   TEXT NOT NULL,
    on_date    TEXT NOT NULL,
    PRIMARY KEY (measure_id, employee)
);

CREATE TABLE register_evaluation (
    measure_id           TEXT NOT NULL REFERENCES register_measure(id),
    date                 TEXT NOT NULL,
    by_name              TEXT NOT NULL,
    with_representatives TEXT NOT NULL,
    need_still_present   INTEGER NOT NULL,
    decision             TEXT NOT NULL CHECK (decision IN ('continue', 'end')),
    PRIMARY KEY (measure_id, date)
);

CREATE TABLE register_processor_agreement (
    measure_id TEXT NOT NULL REFERENCES register_measure(id),
    processor  TEXT NOT NULL,
    by_name    TEXT NOT NULL,
    signed_on  TEXT NOT NULL,
    PRIMARY KEY (measure_id, processor)
);

CREATE TABLE register_risk_assessment (
    measure_id TEXT PRIMARY KEY REFERENCES register_measure(id),
    by_name    TEXT NOT NULL,
    done_on    TEXT NOT NULL,
    conclusion TEXT NOT NULL
);

CREATE TABLE register_tariff_check (
    measure_id          TEXT PRIMARY KEY REFERENCES register_measure(id),
    by_name             TEXT NOT NULL,
    checked_on          TEXT NOT NULL,
    agreements          TEXT NOT NULL,
    requires_discussion INTEGER NOT NULL
);

CREATE TABLE register_role_review (
    measure_id TEXT NOT NULL REFERENCES register_measure(id),
    date       TEXT NOT NULL,
    by_name    TEXT NOT NULL,
    notes      TEXT NOT NULL,
    PRIMARY KEY (measure_id, date)
);

CREATE TABLE register_breach (
    id                     TEXT PRIMARY KEY,
    position               INTEGER NOT NULL,
    measure_id             TEXT,
    discovered_at          INTEGER NOT NULL,
    description            TEXT NOT NULL,
    personal_data_affected INTEGER NOT NULL,
    notified_at            INTEGER,
    art34_decision         TEXT CHECK (art34_decision IN ('inform', 'not_required')),
    art34_reason           TEXT,
    art34_decided_on       TEXT
);

CREATE TABLE register_access_case (
    id                 TEXT PRIMARY KEY,
    position           INTEGER NOT NULL,
    employee           TEXT NOT NULL,
    ground             TEXT CHECK (ground IN ('daily_operation', 'suspected_serious_breach')),
    ground_explanation TEXT,
    notice             TEXT NOT NULL CHECK (notice IN ('not_given', 'given', 'impossible')),
    notice_on          TEXT,
    notice_reason      TEXT,
    presence           TEXT NOT NULL CHECK (presence IN ('not_recorded', 'present', 'declined', 'not_possible')),
    presence_detail    TEXT,
    opened             TEXT NOT NULL,
    documentation      TEXT NOT NULL,
    closed_on          TEXT
);
