//! The compliance register's rows. The register is small, so it is saved whole: every table is
//! rewritten in one transaction together with the ledger entries for the change, under a lock
//! on the version row (so two nodes saving at once cannot both pass the version check). Lists
//! are read back in the order they were written (`row`, `position`).

use register::{
    AccessCase, AccessGround, Acknowledgement, Art34Decision, BalancingTest, Breach, BreachRecord,
    Concerned, Decision, Discussion, Dpia, Duties, EmployeesInformed, Entry, Evaluation,
    Information, LegalBasis, Measure, MeasureKind, Notice, Origin, Presence, ProcessorAgreement,
    Register, RiskAssessment, RoleReview, Status, TariffCheck,
};
use storage::{AuditRecord, RegisterStore, StoreError};
use time::OffsetDateTime;
use tokio_postgres::{GenericClient, Row, Transaction};

use crate::store::PgStore;
use crate::{audit, batch, block_on, db_err, execute, get, query, query_one, query_opt};

/// Lists are joined with the unit separator, which no one types.
const SEP: char = '\u{1f}';

fn join(v: &[String]) -> String {
    v.iter()
        .map(|s| s.replace(SEP, " "))
        .collect::<Vec<_>>()
        .join(&SEP.to_string())
}

fn split(s: &str) -> Vec<String> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split(SEP).map(str::to_owned).collect()
    }
}

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("register: unreadable {what} {v:?}"))
}

fn ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn from_ms(v: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * 1_000_000)
        .map_err(|_| corrupt("time", &v.to_string()))
}

fn version<C: GenericClient>(c: &C) -> Result<i64, StoreError> {
    get(
        &query_one(c, "SELECT version FROM register_version WHERE id = 1", &[])?,
        0,
    )
}

fn load<C: GenericClient>(c: &C) -> Result<Register, StoreError> {
    let mut reg = Register::default();
    for r in query(
        c,
        "SELECT id, name, kind, origin, retired, facts, concerns, status, started_on, legal_basis, processor
         FROM register_measure ORDER BY position",
        &[],
    )? {
        let id: String = get(&r, 0)?;
        let kind: String = get(&r, 2)?;
        let origin: String = get(&r, 3)?;
        let status: String = get(&r, 7)?;
        let basis: String = get(&r, 9)?;
        let kind = MeasureKind::parse(&kind).ok_or_else(|| corrupt("measure kind", &kind))?;
        // The assessment is made again from the stored facts with today's rules: the gate
        // follows the law as this build knows it.
        let mut measure = Measure::new(id.clone(), get::<String>(&r, 1)?, kind, get::<String>(&r, 5)?).map_err(|e| {
            StoreError::Corrupt(format!("register: the facts of {id} no longer assess: {e}"))
        })?;
        measure.concerns = split(&get::<String>(&r, 6)?)
            .iter()
            .map(|c| Concerned::parse(c).ok_or_else(|| corrupt("group", c)))
            .collect::<Result<_, _>>()?;
        measure.status = Status::parse(&status).ok_or_else(|| corrupt("status", &status))?;
        measure.started_on = get(&r, 8)?;
        measure.legal_basis =
            LegalBasis::parse(&basis).ok_or_else(|| corrupt("legal basis", &basis))?;
        measure.processor = get(&r, 10)?;
        reg.entries.push(Entry {
            measure,
            origin: Origin::parse(&origin).ok_or_else(|| corrupt("origin", &origin))?,
            retired: get(&r, 4)?,
            duties: Duties::default(),
        });
    }
    load_duties(c, &mut reg)?;
    load_breaches(c, &mut reg)?;
    load_access_cases(c, &mut reg)?;
    if let Some(r) = query_opt(c, "SELECT body FROM register_extra WHERE id = 1", &[])? {
        let body: String = get(&r, 0)?;
        register::persist::apply_extras(&mut reg, &body)
            .map_err(|e| StoreError::Corrupt(format!("register: unreadable extra records: {e}")))?;
    }
    Ok(reg)
}

fn duties_of<'a>(reg: &'a mut Register, r: &Row) -> Result<&'a mut Duties, StoreError> {
    let id: String = get(r, 0)?;
    reg.entry_mut(&id)
        .map(|e| &mut e.duties)
        .ok_or_else(|| corrupt("duty record for the unknown measure", &id))
}

fn load_duties<C: GenericClient>(c: &C, reg: &mut Register) -> Result<(), StoreError> {
    for r in query(
        c,
        "SELECT measure_id, by_name, interest, necessity, employees_side, outcome, decided_on FROM register_balancing_test",
        &[],
    )? {
        duties_of(reg, &r)?.balancing_test = Some(BalancingTest {
            by: get(&r, 1)?,
            interest: get(&r, 2)?,
            necessity: get(&r, 3)?,
            employees_side: get(&r, 4)?,
            outcome: get(&r, 5)?,
            decided_on: get(&r, 6)?,
        });
    }
    for r in query(
        c,
        "SELECT measure_id, by_name, done_on, employees_views, dpo_advice FROM register_dpia",
        &[],
    )? {
        duties_of(reg, &r)?.dpia = Some(Dpia {
            by: get(&r, 1)?,
            done_on: get(&r, 2)?,
            employees_views: get(&r, 3)?,
            dpo_advice: get(&r, 4)?,
            residual_risk: None,
        });
    }
    for r in query(
        c,
        "SELECT measure_id, date, by_name, participants, minutes FROM register_discussion ORDER BY row",
        &[],
    )? {
        let d = Discussion {
            date: get(&r, 1)?,
            by: get(&r, 2)?,
            participants: split(&get::<String>(&r, 3)?),
            minutes: get(&r, 4)?,
        };
        duties_of(reg, &r)?.discussions.push(d);
    }
    for r in query(
        c,
        "SELECT measure_id, by_name, controller, purpose, practical_consequences, how_carried_out,
                expected_duration, legal_basis, retention, access, published_on
         FROM register_information",
        &[],
    )? {
        duties_of(reg, &r)?.information = Some(Information {
            by: get(&r, 1)?,
            controller: get(&r, 2)?,
            purpose: get(&r, 3)?,
            practical_consequences: get(&r, 4)?,
            how_carried_out: get(&r, 5)?,
            expected_duration: get(&r, 6)?,
            legal_basis: get(&r, 7)?,
            retention: get(&r, 8)?,
            access: get(&r, 9)?,
            published_on: get(&r, 10)?,
            dpo_contact: None,
            transfers_abroad: None,
        });
    }
    for r in query(
        c,
        "SELECT measure_id, employee, on_date FROM register_acknowledgement ORDER BY row",
        &[],
    )? {
        let a = Acknowledgement {
            employee: get(&r, 1)?,
            on: get(&r, 2)?,
        };
        duties_of(reg, &r)?.acknowledgements.push(a);
    }
    for r in query(
        c,
        "SELECT measure_id, date, by_name, with_representatives, need_still_present, decision
         FROM register_evaluation ORDER BY row",
        &[],
    )? {
        let decision: String = get(&r, 5)?;
        let e = Evaluation {
            date: get(&r, 1)?,
            by: get(&r, 2)?,
            with_representatives: split(&get::<String>(&r, 3)?),
            need_still_present: get(&r, 4)?,
            decision: Decision::parse(&decision).ok_or_else(|| corrupt("decision", &decision))?,
            reason_to_continue: None,
        };
        duties_of(reg, &r)?.evaluations.push(e);
    }
    for r in query(
        c,
        "SELECT measure_id, processor, by_name, signed_on FROM register_processor_agreement ORDER BY row",
        &[],
    )? {
        let p = ProcessorAgreement {
            processor: get(&r, 1)?,
            by: get(&r, 2)?,
            signed_on: get(&r, 3)?,
            covers: Vec::new(),
            processor_security: String::new(),
            services: Vec::new(),
        };
        duties_of(reg, &r)?.processor_agreements.push(p);
    }
    for r in query(
        c,
        "SELECT measure_id, by_name, done_on, conclusion FROM register_risk_assessment",
        &[],
    )? {
        duties_of(reg, &r)?.risk_assessment = Some(RiskAssessment {
            by: get(&r, 1)?,
            done_on: get(&r, 2)?,
            conclusion: get(&r, 3)?,
            shows_necessity: None,
        });
    }
    for r in query(
        c,
        "SELECT measure_id, by_name, checked_on, agreements, requires_discussion FROM register_tariff_check",
        &[],
    )? {
        duties_of(reg, &r)?.tariff_check = Some(TariffCheck {
            by: get(&r, 1)?,
            checked_on: get(&r, 2)?,
            agreements: split(&get::<String>(&r, 3)?),
            requires_discussion: get(&r, 4)?,
        });
    }
    for r in query(
        c,
        "SELECT measure_id, date, by_name, notes FROM register_role_review ORDER BY row",
        &[],
    )? {
        let v = RoleReview {
            date: get(&r, 1)?,
            by: get(&r, 2)?,
            notes: get(&r, 3)?,
        };
        duties_of(reg, &r)?.role_reviews.push(v);
    }
    Ok(())
}

fn load_breaches<C: GenericClient>(c: &C, reg: &mut Register) -> Result<(), StoreError> {
    for r in query(
        c,
        "SELECT id, measure_id, discovered_at, description, personal_data_affected, notified_at,
                art34_decision, art34_reason, art34_decided_on
         FROM register_breach ORDER BY position",
        &[],
    )? {
        let decision: Option<String> = get(&r, 6)?;
        let reason: Option<String> = get(&r, 7)?;
        let on: Option<time::Date> = get(&r, 8)?;
        let employees_informed = match (decision.as_deref(), on) {
            (Some(d), Some(on)) => Some(EmployeesInformed {
                decision: match d {
                    "inform" => Art34Decision::Inform,
                    _ => Art34Decision::NotRequired {
                        reason: reason.unwrap_or_default(),
                    },
                },
                decided_on: on,
            }),
            _ => None,
        };
        reg.breaches.push(BreachRecord {
            id: get(&r, 0)?,
            measure: get(&r, 1)?,
            breach: Breach {
                discovered_at: from_ms(get(&r, 2)?)?,
                description: get(&r, 3)?,
                personal_data_affected: get(&r, 4)?,
                notified_datatilsynet_at: get::<Option<i64>>(&r, 5)?.map(from_ms).transpose()?,
                employees_informed,
                not_notified: None,
            },
        });
    }
    Ok(())
}

fn load_access_cases<C: GenericClient>(c: &C, reg: &mut Register) -> Result<(), StoreError> {
    for r in query(
        c,
        "SELECT id, employee, ground, ground_explanation, notice, notice_on, notice_reason,
                presence, presence_detail, opened, documentation, closed_on
         FROM register_access_case ORDER BY position",
        &[],
    )? {
        let ground: Option<String> = get(&r, 2)?;
        let expl: String = get::<Option<String>>(&r, 3)?.unwrap_or_default();
        let ground = match ground.as_deref() {
            Some("daily_operation") => Some(AccessGround::DailyOperation(expl)),
            Some("suspected_serious_breach") => Some(AccessGround::SuspectedSeriousBreach(expl)),
            Some(g) => return Err(corrupt("ground", g)),
            None => None,
        };
        let notice: String = get(&r, 4)?;
        let notice_on: Option<time::Date> = get(&r, 5)?;
        let notice_reason: Option<String> = get(&r, 6)?;
        let notice = match notice.as_str() {
            "given" => Notice::GivenOn(notice_on.ok_or_else(|| corrupt("notice date", ""))?),
            "impossible" => Notice::Impossible {
                reason: notice_reason.unwrap_or_default(),
            },
            _ => Notice::NotGiven,
        };
        let presence: String = get(&r, 7)?;
        let detail: Option<String> = get(&r, 8)?;
        let presence = match presence.as_str() {
            "present" => Presence::Present {
                representative: detail,
            },
            "declined" => Presence::Declined,
            "not_possible" => Presence::NotPossible {
                reason: detail.unwrap_or_default(),
            },
            _ => Presence::NotRecorded,
        };
        reg.access_cases.push(AccessCase {
            id: get(&r, 0)?,
            employee: get(&r, 1)?,
            ground,
            notice,
            presence,
            opened: split(&get::<String>(&r, 9)?),
            documentation: get(&r, 10)?,
            closed_on: get(&r, 11)?,
        });
    }
    Ok(())
}

fn write(tx: &Transaction<'_>, reg: &Register) -> Result<(), StoreError> {
    batch(
        tx,
        "DELETE FROM register_balancing_test; DELETE FROM register_dpia;
         DELETE FROM register_discussion; DELETE FROM register_information;
         DELETE FROM register_acknowledgement; DELETE FROM register_evaluation;
         DELETE FROM register_processor_agreement; DELETE FROM register_risk_assessment;
         DELETE FROM register_tariff_check; DELETE FROM register_role_review;
         DELETE FROM register_breach; DELETE FROM register_access_case;
         DELETE FROM register_measure; DELETE FROM register_extra;",
    )?;
    for (pos, e) in reg.entries.iter().enumerate() {
        let m = &e.measure;
        let concerns: Vec<String> = m.concerns.iter().map(|c| c.as_str().to_owned()).collect();
        execute(
            tx,
            "INSERT INTO register_measure (id, position, name, kind, origin, retired, facts, verdict,
                 assessment, concerns, status, started_on, legal_basis, processor)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            &[
                &m.id,
                &(pos as i64),
                &m.name,
                &m.kind.as_str(),
                &e.origin.as_str(),
                &e.retired,
                &m.facts,
                &m.assessment.verdict().as_str(),
                &m.assessment.to_json(register::Lang::En).to_string(),
                &join(&concerns),
                &m.status.as_str(),
                &m.started_on,
                &m.legal_basis.as_str(),
                &m.processor,
            ],
        )?;
        let x = &e.duties;
        if let Some(b) = &x.balancing_test {
            execute(
                tx,
                "INSERT INTO register_balancing_test (measure_id, by_name, interest, necessity, employees_side, outcome, decided_on)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &m.id,
                    &b.by,
                    &b.interest,
                    &b.necessity,
                    &b.employees_side,
                    &b.outcome,
                    &b.decided_on,
                ],
            )?;
        }
        if let Some(p) = &x.dpia {
            execute(
                tx,
                "INSERT INTO register_dpia (measure_id, by_name, done_on, employees_views, dpo_advice)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&m.id, &p.by, &p.done_on, &p.employees_views, &p.dpo_advice],
            )?;
        }
        for v in &x.discussions {
            execute(
                tx,
                "INSERT INTO register_discussion (measure_id, date, by_name, participants, minutes)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&m.id, &v.date, &v.by, &join(&v.participants), &v.minutes],
            )?;
        }
        if let Some(i) = &x.information {
            execute(
                tx,
                "INSERT INTO register_information (measure_id, by_name, controller, purpose,
                     practical_consequences, how_carried_out, expected_duration, legal_basis,
                     retention, access, published_on)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                &[
                    &m.id,
                    &i.by,
                    &i.controller,
                    &i.purpose,
                    &i.practical_consequences,
                    &i.how_carried_out,
                    &i.expected_duration,
                    &i.legal_basis,
                    &i.retention,
                    &i.access,
                    &i.published_on,
                ],
            )?;
        }
        for a in &x.acknowledgements {
            execute(
                tx,
                "INSERT INTO register_acknowledgement (measure_id, employee, on_date) VALUES ($1, $2, $3)",
                &[&m.id, &a.employee, &a.on],
            )?;
        }
        for v in &x.evaluations {
            execute(
                tx,
                "INSERT INTO register_evaluation (measure_id, date, by_name, with_representatives,
                     need_still_present, decision)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &m.id,
                    &v.date,
                    &v.by,
                    &join(&v.with_representatives),
                    &v.need_still_present,
                    &v.decision.as_str(),
                ],
            )?;
        }
        for p in &x.processor_agreements {
            execute(
                tx,
                "INSERT INTO register_processor_agreement (measure_id, processor, by_name, signed_on)
                 VALUES ($1, $2, $3, $4)",
                &[&m.id, &p.processor, &p.by, &p.signed_on],
            )?;
        }
        if let Some(r) = &x.risk_assessment {
            execute(
                tx,
                "INSERT INTO register_risk_assessment (measure_id, by_name, done_on, conclusion)
                 VALUES ($1, $2, $3, $4)",
                &[&m.id, &r.by, &r.done_on, &r.conclusion],
            )?;
        }
        if let Some(t) = &x.tariff_check {
            execute(
                tx,
                "INSERT INTO register_tariff_check (measure_id, by_name, checked_on, agreements, requires_discussion)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &m.id,
                    &t.by,
                    &t.checked_on,
                    &join(&t.agreements),
                    &t.requires_discussion,
                ],
            )?;
        }
        for r in &x.role_reviews {
            execute(
                tx,
                "INSERT INTO register_role_review (measure_id, date, by_name, notes) VALUES ($1, $2, $3, $4)",
                &[&m.id, &r.date, &r.by, &r.notes],
            )?;
        }
    }
    for (pos, r) in reg.breaches.iter().enumerate() {
        let b = &r.breach;
        let (decision, reason, on) = match &b.employees_informed {
            None => (None, None, None),
            Some(i) => match &i.decision {
                Art34Decision::Inform => (Some("inform"), None, Some(i.decided_on)),
                Art34Decision::NotRequired { reason } => (
                    Some("not_required"),
                    Some(reason.clone()),
                    Some(i.decided_on),
                ),
            },
        };
        execute(
            tx,
            "INSERT INTO register_breach (id, position, measure_id, discovered_at, description,
                 personal_data_affected, notified_at, art34_decision, art34_reason, art34_decided_on)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &r.id,
                &(pos as i64),
                &r.measure,
                &ms(b.discovered_at),
                &b.description,
                &b.personal_data_affected,
                &b.notified_datatilsynet_at.map(ms),
                &decision,
                &reason,
                &on,
            ],
        )?;
    }
    execute(
        tx,
        "INSERT INTO register_extra (id, body) VALUES (1, $1)",
        &[&register::persist::extras_json(reg)],
    )?;
    for (pos, c) in reg.access_cases.iter().enumerate() {
        let (ground, expl) = match &c.ground {
            None => (None, None),
            Some(g @ AccessGround::DailyOperation(_)) => {
                (Some("daily_operation"), Some(g.explanation().to_owned()))
            }
            Some(g @ AccessGround::SuspectedSeriousBreach(_)) => (
                Some("suspected_serious_breach"),
                Some(g.explanation().to_owned()),
            ),
        };
        let (notice, notice_on, notice_reason) = match &c.notice {
            Notice::NotGiven => ("not_given", None, None),
            Notice::GivenOn(on) => ("given", Some(*on), None),
            Notice::Impossible { reason } => ("impossible", None, Some(reason.clone())),
        };
        let (presence, detail) = match &c.presence {
            Presence::NotRecorded => ("not_recorded", None),
            Presence::Present { representative } => ("present", representative.clone()),
            Presence::Declined => ("declined", None),
            Presence::NotPossible { reason } => ("not_possible", Some(reason.clone())),
        };
        execute(
            tx,
            "INSERT INTO register_access_case (id, position, employee, ground, ground_explanation,
                 notice, notice_on, notice_reason, presence, presence_detail, opened, documentation, closed_on)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            &[
                &c.id,
                &(pos as i64),
                &c.employee,
                &ground,
                &expl,
                &notice,
                &notice_on,
                &notice_reason,
                &presence,
                &detail,
                &join(&c.opened),
                &c.documentation,
                &c.closed_on,
            ],
        )?;
    }
    Ok(())
}

impl RegisterStore for PgStore {
    fn register_version(&self) -> Result<i64, StoreError> {
        self.pool().with(|c| version(c))
    }

    fn load_register(&self) -> Result<(i64, Register), StoreError> {
        self.pool().with(|c| {
            // One snapshot: the version and the rows belong together.
            let tx = block_on(
                c.build_transaction()
                    .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start(),
            )
            .map_err(db_err)?;
            let v = version(&tx)?;
            let reg = load(&tx)?;
            block_on(tx.commit()).map_err(db_err)?;
            Ok((v, reg))
        })
    }

    fn save_register(
        &self,
        reg: &Register,
        expected_version: i64,
        audit_records: Vec<AuditRecord>,
    ) -> Result<i64, StoreError> {
        self.pool().with(|c| {
            let tx = block_on(c.transaction()).map_err(db_err)?;
            let current: i64 = get(
                &query_one(
                    &tx,
                    "SELECT version FROM register_version WHERE id = 1 FOR UPDATE",
                    &[],
                )?,
                0,
            )?;
            if current != expected_version {
                return Err(StoreError::Refused(
                    "the register was changed by someone else meanwhile; nothing was saved: run the command again".into(),
                ));
            }
            write(&tx, reg)?;
            audit::append_in(&tx, audit_records)?;
            execute(
                &tx,
                "UPDATE register_version SET version = version + 1 WHERE id = 1",
                &[],
            )?;
            block_on(tx.commit()).map_err(db_err)?;
            Ok(current + 1)
        })
    }
}
