//! The compliance register's rows (migration 0013). The register is small (measures, their
//! duty records, breaches, access cases), so it is saved whole: every table is rewritten in
//! one IMMEDIATE transaction together with the ledger entries for the change. Lists are read
//! back in the order they were written (rowid).

use register::{
    AccessCase, AccessGround, Acknowledgement, Art34Decision, BalancingTest, Breach, BreachRecord,
    Concerned, Decision, Discussion, Dpia, Duties, EmployeesInformed, Entry, Evaluation,
    Information, LegalBasis, Measure, MeasureKind, Notice, Origin, Presence, ProcessorAgreement,
    Register, RiskAssessment, RoleReview, Status, TariffCheck,
};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use time::{Date, OffsetDateTime};

use super::{SqliteStore, audit, db_err};
use crate::register::RegisterStore;
use crate::{AuditRecord, StoreError};

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

fn date(s: &str) -> Result<Date, StoreError> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| corrupt("date", s))
}

fn opt_date(s: Option<String>) -> Result<Option<Date>, StoreError> {
    s.as_deref().map(date).transpose()
}

fn ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn from_ms(v: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * 1_000_000)
        .map_err(|_| corrupt("time", &v.to_string()))
}

/// Runs `sql` and maps each row with `f` (rusqlite errors become backend errors).
fn rows<T>(
    conn: &Connection,
    sql: &str,
    f: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare(sql).map_err(db_err)?;
    let it = stmt.query_map([], |r| f(r)).map_err(db_err)?;
    it.collect::<rusqlite::Result<Vec<T>>>().map_err(db_err)
}

fn version(conn: &Connection) -> Result<i64, StoreError> {
    conn.query_row(
        "SELECT version FROM register_version WHERE id = 1",
        [],
        |r| r.get(0),
    )
    .map_err(db_err)
}

type MeasureRow = (
    String,
    String,
    String,
    String,
    bool,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
);

fn load(conn: &Connection) -> Result<Register, StoreError> {
    let measures: Vec<MeasureRow> = rows(
        conn,
        "SELECT id, name, kind, origin, retired, facts, concerns, status, started_on, legal_basis, processor
         FROM register_measure ORDER BY position",
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
            ))
        },
    )?;
    let mut reg = Register::default();
    for (id, name, kind, origin, retired, facts, concerns, status, started_on, basis, processor) in
        measures
    {
        let kind = MeasureKind::parse(&kind).ok_or_else(|| corrupt("measure kind", &kind))?;
        // The assessment is made again from the stored facts with today's rules: the gate
        // follows the law as this build knows it.
        let mut measure = Measure::new(id.clone(), name, kind, facts).map_err(|e| {
            StoreError::Corrupt(format!("register: the facts of {id} no longer assess: {e}"))
        })?;
        measure.concerns = split(&concerns)
            .iter()
            .map(|c| Concerned::parse(c).ok_or_else(|| corrupt("group", c)))
            .collect::<Result<_, _>>()?;
        measure.status = Status::parse(&status).ok_or_else(|| corrupt("status", &status))?;
        measure.started_on = opt_date(started_on)?;
        measure.legal_basis =
            LegalBasis::parse(&basis).ok_or_else(|| corrupt("legal basis", &basis))?;
        measure.processor = processor;
        reg.entries.push(Entry {
            measure,
            origin: Origin::parse(&origin).ok_or_else(|| corrupt("origin", &origin))?,
            retired,
            duties: Duties::default(),
        });
    }
    load_duties(conn, &mut reg)?;
    load_breaches(conn, &mut reg)?;
    load_access_cases(conn, &mut reg)?;
    let extra: Option<String> = conn
        .query_row("SELECT body FROM register_extra WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(db_err)?;
    if let Some(body) = extra {
        register::persist::apply_extras(&mut reg, &body)
            .map_err(|e| StoreError::Corrupt(format!("register: unreadable extra records: {e}")))?;
    }
    Ok(reg)
}

fn duties_of<'a>(reg: &'a mut Register, id: &str) -> Result<&'a mut Duties, StoreError> {
    reg.entry_mut(id)
        .map(|e| &mut e.duties)
        .ok_or_else(|| corrupt("duty record for the unknown measure", id))
}

fn load_duties(conn: &Connection, reg: &mut Register) -> Result<(), StoreError> {
    type Bt = (String, String, String, String, String, String, String);
    let bt: Vec<Bt> = rows(
        conn,
        "SELECT measure_id, by_name, interest, necessity, employees_side, outcome, decided_on FROM register_balancing_test",
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        },
    )?;
    for (id, by, interest, necessity, employees_side, outcome, on) in bt {
        duties_of(reg, &id)?.balancing_test = Some(BalancingTest {
            by,
            interest,
            necessity,
            employees_side,
            outcome,
            decided_on: date(&on)?,
        });
    }
    let dpia: Vec<(String, String, String, String, Option<String>)> = rows(
        conn,
        "SELECT measure_id, by_name, done_on, employees_views, dpo_advice FROM register_dpia",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    for (id, by, on, employees_views, dpo_advice) in dpia {
        duties_of(reg, &id)?.dpia = Some(Dpia {
            by,
            done_on: date(&on)?,
            employees_views,
            dpo_advice,
            residual_risk: None,
        });
    }
    let disc: Vec<(String, String, String, String, String)> = rows(
        conn,
        "SELECT measure_id, date, by_name, participants, minutes FROM register_discussion ORDER BY rowid",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    for (id, on, by, participants, minutes) in disc {
        duties_of(reg, &id)?.discussions.push(Discussion {
            by,
            date: date(&on)?,
            participants: split(&participants),
            minutes,
        });
    }
    type Info = (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
    );
    let info: Vec<Info> = rows(
        conn,
        "SELECT measure_id, by_name, controller, purpose, practical_consequences, how_carried_out,
                expected_duration, legal_basis, retention, access, published_on
         FROM register_information",
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
            ))
        },
    )?;
    for (id, by, controller, purpose, pc, how, duration, basis, retention, access, on) in info {
        duties_of(reg, &id)?.information = Some(Information {
            by,
            controller,
            purpose,
            practical_consequences: pc,
            how_carried_out: how,
            expected_duration: duration,
            legal_basis: basis,
            retention,
            access,
            published_on: date(&on)?,
            dpo_contact: None,
            transfers_abroad: None,
        });
    }
    let acks: Vec<(String, String, String)> = rows(
        conn,
        "SELECT measure_id, employee, on_date FROM register_acknowledgement ORDER BY rowid",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    for (id, employee, on) in acks {
        duties_of(reg, &id)?.acknowledgements.push(Acknowledgement {
            employee,
            on: date(&on)?,
        });
    }
    let evals: Vec<(String, String, String, String, bool, String)> = rows(
        conn,
        "SELECT measure_id, date, by_name, with_representatives, need_still_present, decision
         FROM register_evaluation ORDER BY rowid",
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        },
    )?;
    for (id, on, by, with, need, decision) in evals {
        duties_of(reg, &id)?.evaluations.push(Evaluation {
            by,
            date: date(&on)?,
            with_representatives: split(&with),
            need_still_present: need,
            decision: Decision::parse(&decision).ok_or_else(|| corrupt("decision", &decision))?,
            reason_to_continue: None,
        });
    }
    let pas: Vec<(String, String, String, String)> = rows(
        conn,
        "SELECT measure_id, processor, by_name, signed_on FROM register_processor_agreement ORDER BY rowid",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    for (id, processor, by, on) in pas {
        duties_of(reg, &id)?
            .processor_agreements
            .push(ProcessorAgreement {
                by,
                processor,
                signed_on: date(&on)?,
                covers: Vec::new(),
                processor_security: String::new(),
                services: Vec::new(),
            });
    }
    let ras: Vec<(String, String, String, String)> = rows(
        conn,
        "SELECT measure_id, by_name, done_on, conclusion FROM register_risk_assessment",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    for (id, by, on, conclusion) in ras {
        duties_of(reg, &id)?.risk_assessment = Some(RiskAssessment {
            by,
            done_on: date(&on)?,
            conclusion,
            shows_necessity: None,
        });
    }
    let tcs: Vec<(String, String, String, String, bool)> = rows(
        conn,
        "SELECT measure_id, by_name, checked_on, agreements, requires_discussion FROM register_tariff_check",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    for (id, by, on, agreements, requires) in tcs {
        duties_of(reg, &id)?.tariff_check = Some(TariffCheck {
            by,
            checked_on: date(&on)?,
            agreements: split(&agreements),
            requires_discussion: requires,
        });
    }
    let rrs: Vec<(String, String, String, String)> = rows(
        conn,
        "SELECT measure_id, date, by_name, notes FROM register_role_review ORDER BY rowid",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    for (id, on, by, notes) in rrs {
        duties_of(reg, &id)?.role_reviews.push(RoleReview {
            by,
            date: date(&on)?,
            notes,
        });
    }
    Ok(())
}

type BreachRow = (
    String,
    Option<String>,
    i64,
    String,
    bool,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn load_breaches(conn: &Connection, reg: &mut Register) -> Result<(), StoreError> {
    let bs: Vec<BreachRow> = rows(
        conn,
        "SELECT id, measure_id, discovered_at, description, personal_data_affected, notified_at,
                art34_decision, art34_reason, art34_decided_on
         FROM register_breach ORDER BY position",
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        },
    )?;
    for (id, measure, discovered, description, affected, notified, decision, reason, on) in bs {
        let employees_informed = match (decision.as_deref(), on) {
            (Some(d), Some(on)) => Some(EmployeesInformed {
                decision: match d {
                    "inform" => Art34Decision::Inform,
                    _ => Art34Decision::NotRequired {
                        reason: reason.unwrap_or_default(),
                    },
                },
                decided_on: date(&on)?,
            }),
            _ => None,
        };
        reg.breaches.push(BreachRecord {
            id,
            measure,
            breach: Breach {
                discovered_at: from_ms(discovered)?,
                description,
                personal_data_affected: affected,
                notified_datatilsynet_at: notified.map(from_ms).transpose()?,
                employees_informed,
                not_notified: None,
            },
        });
    }
    Ok(())
}

type CaseRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
);

fn load_access_cases(conn: &Connection, reg: &mut Register) -> Result<(), StoreError> {
    let cs: Vec<CaseRow> = rows(
        conn,
        "SELECT id, employee, ground, ground_explanation, notice, notice_on, notice_reason,
                presence, presence_detail, opened, documentation, closed_on
         FROM register_access_case ORDER BY position",
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
            ))
        },
    )?;
    for (
        id,
        employee,
        ground,
        expl,
        notice,
        notice_on,
        notice_reason,
        presence,
        detail,
        opened,
        doc,
        closed,
    ) in cs
    {
        let expl = expl.unwrap_or_default();
        let ground = match ground.as_deref() {
            Some("daily_operation") => Some(AccessGround::DailyOperation(expl)),
            Some("suspected_serious_breach") => Some(AccessGround::SuspectedSeriousBreach(expl)),
            Some(g) => return Err(corrupt("ground", g)),
            None => None,
        };
        let notice = match notice.as_str() {
            "given" => Notice::GivenOn(date(notice_on.as_deref().unwrap_or(""))?),
            "impossible" => Notice::Impossible {
                reason: notice_reason.unwrap_or_default(),
            },
            _ => Notice::NotGiven,
        };
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
            id,
            employee,
            ground,
            notice,
            presence,
            opened: split(&opened),
            closed_on: opt_date(closed)?,
            documentation: doc,
        });
    }
    Ok(())
}

fn d(x: Date) -> String {
    x.to_string()
}

fn write(tx: &Transaction<'_>, reg: &Register) -> Result<(), StoreError> {
    tx.execute_batch(
        "DELETE FROM register_balancing_test; DELETE FROM register_dpia;
         DELETE FROM register_discussion; DELETE FROM register_information;
         DELETE FROM register_acknowledgement; DELETE FROM register_evaluation;
         DELETE FROM register_processor_agreement; DELETE FROM register_risk_assessment;
         DELETE FROM register_tariff_check; DELETE FROM register_role_review;
         DELETE FROM register_breach; DELETE FROM register_access_case;
         DELETE FROM register_measure; DELETE FROM register_extra;",
    )
    .map_err(db_err)?;
    for (pos, e) in reg.entries.iter().enumerate() {
        let m = &e.measure;
        let concerns: Vec<String> = m.concerns.iter().map(|c| c.as_str().to_owned()).collect();
        tx.execute(
            "INSERT INTO register_measure (id, position, name, kind, origin, retired, facts, verdict,
                 assessment, concerns, status, started_on, legal_basis, processor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                m.id,
                pos as i64,
                m.name,
                m.kind.as_str(),
                e.origin.as_str(),
                e.retired,
                m.facts,
                m.assessment.verdict().as_str(),
                m.assessment.to_json(register::Lang::En).to_string(),
                join(&concerns),
                m.status.as_str(),
                m.started_on.map(d),
                m.legal_basis.as_str(),
                m.processor,
            ],
        )
        .map_err(db_err)?;
        let x = &e.duties;
        if let Some(b) = &x.balancing_test {
            tx.execute(
                "INSERT INTO register_balancing_test VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    m.id,
                    b.by,
                    b.interest,
                    b.necessity,
                    b.employees_side,
                    b.outcome,
                    d(b.decided_on)
                ],
            )
            .map_err(db_err)?;
        }
        if let Some(p) = &x.dpia {
            tx.execute(
                "INSERT INTO register_dpia VALUES (?1, ?2, ?3, ?4, ?5)",
                params![m.id, p.by, d(p.done_on), p.employees_views, p.dpo_advice],
            )
            .map_err(db_err)?;
        }
        for v in &x.discussions {
            tx.execute(
                "INSERT INTO register_discussion VALUES (?1, ?2, ?3, ?4, ?5)",
                params![m.id, d(v.date), v.by, join(&v.participants), v.minutes],
            )
            .map_err(db_err)?;
        }
        if let Some(i) = &x.information {
            tx.execute(
                "INSERT INTO register_information VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    m.id,
                    i.by,
                    i.controller,
                    i.purpose,
                    i.practical_consequences,
                    i.how_carried_out,
                    i.expected_duration,
                    i.legal_basis,
                    i.retention,
                    i.access,
                    d(i.published_on)
                ],
            )
            .map_err(db_err)?;
        }
        for a in &x.acknowledgements {
            tx.execute(
                "INSERT INTO register_acknowledgement VALUES (?1, ?2, ?3)",
                params![m.id, a.employee, d(a.on)],
            )
            .map_err(db_err)?;
        }
        for v in &x.evaluations {
            tx.execute(
                "INSERT INTO register_evaluation VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    m.id,
                    d(v.date),
                    v.by,
                    join(&v.with_representatives),
                    v.need_still_present,
                    v.decision.as_str()
                ],
            )
            .map_err(db_err)?;
        }
        for p in &x.processor_agreements {
            tx.execute(
                "INSERT INTO register_processor_agreement VALUES (?1, ?2, ?3, ?4)",
                params![m.id, p.processor, p.by, d(p.signed_on)],
            )
            .map_err(db_err)?;
        }
        if let Some(r) = &x.risk_assessment {
            tx.execute(
                "INSERT INTO register_risk_assessment VALUES (?1, ?2, ?3, ?4)",
                params![m.id, r.by, d(r.done_on), r.conclusion],
            )
            .map_err(db_err)?;
        }
        if let Some(t) = &x.tariff_check {
            tx.execute(
                "INSERT INTO register_tariff_check VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    m.id,
                    t.by,
                    d(t.checked_on),
                    join(&t.agreements),
                    t.requires_discussion
                ],
            )
            .map_err(db_err)?;
        }
        for r in &x.role_reviews {
            tx.execute(
                "INSERT INTO register_role_review VALUES (?1, ?2, ?3, ?4)",
                params![m.id, d(r.date), r.by, r.notes],
            )
            .map_err(db_err)?;
        }
    }
    for (pos, r) in reg.breaches.iter().enumerate() {
        let b = &r.breach;
        let (decision, reason, on) = match &b.employees_informed {
            None => (None, None, None),
            Some(i) => match &i.decision {
                Art34Decision::Inform => (Some("inform"), None, Some(d(i.decided_on))),
                Art34Decision::NotRequired { reason } => (
                    Some("not_required"),
                    Some(reason.clone()),
                    Some(d(i.decided_on)),
                ),
            },
        };
        tx.execute(
            "INSERT INTO register_breach VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                r.id,
                pos as i64,
                r.measure,
                ms(b.discovered_at),
                b.description,
                b.personal_data_affected,
                b.notified_datatilsynet_at.map(ms),
                decision,
                reason,
                on
            ],
        )
        .map_err(db_err)?;
    }
    tx.execute(
        "INSERT INTO register_extra (id, body) VALUES (1, ?1)",
        params![register::persist::extras_json(reg)],
    )
    .map_err(db_err)?;
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
            Notice::GivenOn(on) => ("given", Some(d(*on)), None),
            Notice::Impossible { reason } => ("impossible", None, Some(reason.clone())),
        };
        let (presence, detail) = match &c.presence {
            Presence::NotRecorded => ("not_recorded", None),
            Presence::Present { representative } => ("present", representative.clone()),
            Presence::Declined => ("declined", None),
            Presence::NotPossible { reason } => ("not_possible", Some(reason.clone())),
        };
        tx.execute(
            "INSERT INTO register_access_case VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                c.id,
                pos as i64,
                c.employee,
                ground,
                expl,
                notice,
                notice_on,
                notice_reason,
                presence,
                detail,
                join(&c.opened),
                c.documentation,
                c.closed_on.map(d)
            ],
        )
        .map_err(db_err)?;
    }
    Ok(())
}

impl RegisterStore for SqliteStore {
    fn register_version(&self) -> Result<i64, StoreError> {
        self.with(|conn| version(conn))
    }

    fn load_register(&self) -> Result<(i64, Register), StoreError> {
        self.with(|conn| {
            // One read transaction: the version and the rows belong together.
            let tx = conn.transaction().map_err(db_err)?;
            let v = version(&tx)?;
            let reg = load(&tx)?;
            tx.commit().map_err(db_err)?;
            Ok((v, reg))
        })
    }

    fn save_register(
        &self,
        reg: &Register,
        expected_version: i64,
        audit_records: Vec<AuditRecord>,
    ) -> Result<i64, StoreError> {
        self.with(|conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let current: Option<i64> = tx
                .query_row(
                    "SELECT version FROM register_version WHERE id = 1",
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            let current = current.unwrap_or(0);
            if current != expected_version {
                return Err(StoreError::Refused(
                    "the register was changed by someone else meanwhile; nothing was saved: run the command again".into(),
                ));
            }
            write(&tx, reg)?;
            audit::append_in(&tx, audit_records)?;
            tx.execute(
                "UPDATE register_version SET version = version + 1 WHERE id = 1",
                [],
            )
            .map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            Ok(current + 1)
        })
    }
}
