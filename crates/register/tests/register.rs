//! The register's API beyond the gate cases: measures from the organisation, the evaluation
//! clock, breaches, access cases and documents.

use register::{
    AccessCase, AccessCaseError, AccessGround, Art34Decision, BalancingTest, Breach, BreachStatus,
    Concerned, Decision, Discussion, Dpia, Duties, EmployeesInformed, Evaluation, Information,
    Lang, Measure, MeasureKind, Notice, Presence, Recipient, RiskAssessment, Status,
    access_case_record, add_months, breach_deadline, breach_status, escape, gate,
    measures_from_org, next_evaluation_due,
};
use time::macros::{date, datetime};
use time::{Date, Duration};

const ORG: &str = r#"
[organisation]
name = "Rør & <Co> AS"
org_number = "123456789"

[organisation.driver_behaviour_basis]
balancing_test = "docs/interesseavveining.pdf"
dpia = "docs/dpia.pdf"

[[vehicles]]
reg = "EK 12345"
kind = "car"
purposes = ["driving_log", "fleet_view"]

[[vehicles]]
reg = "EK 12346"
kind = "van"
purposes = ["driving_log", "driver_behaviour"]
"#;

fn org() -> org::Org {
    org::parse(ORG).expect("valid org file")
}

fn information(on: Date) -> Information {
    Information {
        by: "Personvernombud".into(),
        controller: "Rør & <Co> AS".into(),
        purpose: "Dokumentere yrkeskjøring <for skatteetaten>".into(),
        practical_consequences: "Alle turer i firmabilen registreres".into(),
        how_carried_out: "En sporingsenhet i bilen sender posisjon og kilometerstand".into(),
        expected_duration: "Så lenge bilen brukes i tjenesten".into(),
        legal_basis: "GDPR art. 6(1)(f)".into(),
        retention: "Seks år".into(),
        access: "Regnskapsavdelingen".into(),
        published_on: on,
        dpo_contact: None,
        transfers_abroad: None,
    }
}

/// Every duty a driving log needs before start, recorded on `on`.
fn all_done(on: Date) -> Duties {
    Duties {
        balancing_test: Some(BalancingTest {
            by: "HR".into(),
            interest: "Skattedokumentasjon".into(),
            necessity: "Kjøreboken krever det".into(),
            employees_side: "Privat kjøring skjules".into(),
            outcome: "Tillatt".into(),
            decided_on: on,
        }),
        dpia: Some(Dpia {
            by: "HR".into(),
            done_on: on,
            employees_views: "De tillitsvalgte støtter tiltaket".into(),
            dpo_advice: Some("Begrens tilgangen".into()),
            residual_risk: None,
        }),
        discussions: vec![Discussion {
            by: "HR".into(),
            date: on,
            participants: vec!["Kari (tillitsvalgt)".into()],
            minutes: "Drøftet behov og utforming".into(),
        }],
        information: Some(information(on)),
        risk_assessment: Some(RiskAssessment {
            by: "IT".into(),
            done_on: on,
            conclusion: "Akseptabel risiko".into(),
            shows_necessity: None,
        }),
        private_driving_routine: Some(register::PrivateDrivingRoutine {
            by: "HR".into(),
            reviewer: "Kjørebokfører".into(),
            interval_months: 1,
            how: "Antall turer, km og uklassifiserte turer per måned".into(),
            adopted_on: on,
        }),
        ..Duties::default()
    }
}

/// The organisation's security records, all adopted long ago.
fn security() -> register::Security {
    let rec = || register::SecurityRecord {
        by: "IT".into(),
        adopted_on: date!(2020 - 01 - 01),
        text: "Skrevet ned".into(),
    };
    register::Security {
        acceptance_criteria: Some(rec()),
        goals_and_strategy: Some(rec()),
        deviation_routine: Some(register::DeviationRoutine {
            by: "IT".into(),
            adopted_on: date!(2020 - 01 - 01),
            text: "Meld avvik til personvernombudet".into(),
            made_known: "På intranettet og i opplæringen".into(),
        }),
    }
}

fn driving_log() -> Measure {
    measures_from_org(&org())
        .into_iter()
        .find(|m| m.kind == MeasureKind::Vehicle(org::Purpose::DrivingLog))
        .expect("a driving log measure")
}

#[test]
fn one_measure_per_configured_purpose() {
    let ms = measures_from_org(&org());
    let ids: Vec<&str> = ms.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "vehicle.driving_log",
            "vehicle.fleet_view",
            "vehicle.driver_behaviour"
        ]
    );
    // Every generated measure is lawful as Sporvern collects it.
    for m in &ms {
        assert!(register::is_lawful(m.assessment.verdict()), "{}", m.id);
        assert_eq!(m.status, Status::Planned);
        assert_eq!(
            m.concerns,
            [Concerned::CurrentEmployees, Concerned::FormerEmployees]
        );
    }
    assert!(measures_from_org(&org::Org::default()).is_empty());
}

#[test]
fn who_is_covered_by_the_email_regulation() {
    assert!(Concerned::CurrentEmployees.email_regulation_applies());
    assert!(Concerned::FormerEmployees.email_regulation_applies());
    assert!(!Concerned::ContractorsOrCustomers.email_regulation_applies());
}

#[test]
fn generated_driver_behaviour_needs_balancing_test_and_dpia_in_the_register() {
    // The org file names where the basis is documented, but the gate wants the records.
    let m = measures_from_org(&org())
        .into_iter()
        .find(|m| m.is_driver_behaviour())
        .expect("driver behaviour measure");
    let now = date!(2025 - 03 - 01);
    let mut d = all_done(now);
    d.balancing_test = None;
    d.dpia = None;
    let g = gate(&m, &d, &security(), now);
    assert!(!g.may_collect);
    assert_eq!(
        g.missing_codes(),
        ["driver_behaviour_basis", "balancing_test", "dpia"]
    );
    assert!(gate(&m, &all_done(now), &security(), now).may_collect);
}

#[test]
fn a_record_dated_after_now_is_not_done() {
    let m = driving_log();
    let now = date!(2025 - 03 - 01);
    let mut d = all_done(now);
    d.information = Some(information(now + Duration::days(1)));
    let g = gate(&m, &d, &security(), now);
    assert_eq!(g.missing_codes(), ["information"]);
    // Each missing item carries its citation and both languages.
    let i = &g.missing[0];
    assert!(i.citation.contains("9-2"), "{}", i.citation);
    assert!(!i.text_nb.is_empty() && !i.text_en.is_empty());
}

#[test]
fn reassess_keeps_the_measure_when_the_facts_are_bad() {
    let mut m = driving_log();
    let before = m.clone();
    assert!(m.reassess("kind = \"nonsense\"").is_err());
    assert_eq!(m, before);
    let longer = m.facts.replace("stored_days = 2190", "stored_days = 4000");
    m.reassess(longer).expect("valid facts");
    let now = date!(2025 - 03 - 01);
    assert!(
        gate(&m, &all_done(now), &security(), now)
            .missing_codes()
            .contains(&"retention_too_long")
    );
}

#[test]
fn evaluation_clock_and_overdue_warning_recipients() {
    let mut m = driving_log();
    m.status = Status::Active;
    m.started_on = Some(date!(2023 - 01 - 31));
    let mut d = all_done(date!(2023 - 01 - 01));
    let cfg = register::GateConfig::default();
    let now = date!(2023 - 06 - 01);
    assert_eq!(
        next_evaluation_due(&m, &d, now, &cfg),
        Some(date!(2024 - 01 - 31))
    );
    let late = date!(2024 - 03 - 02); // more than 30 days after the due date
    let g = gate(&m, &d, &security(), late);
    assert!(
        g.may_collect,
        "an overdue evaluation does not stop collection"
    );
    let w = g
        .warnings
        .iter()
        .find(|w| w.code == "evaluation_overdue")
        .expect("evaluation warning");
    assert_eq!(
        w.notify,
        [Recipient::PrivacyOfficer, Recipient::Representatives]
    );
    assert!(w.citation.contains("9-2 (3)"));

    // A shorter interval, configured.
    let six = register::GateConfig {
        evaluation_interval_months: 6,
        ..cfg
    };
    assert_eq!(
        next_evaluation_due(&m, &d, now, &six),
        Some(date!(2023 - 07 - 31))
    );

    // The evaluation held ends the measure: collection stops, deletion is due.
    d.evaluations.push(Evaluation {
        by: "HR".into(),
        date: date!(2024 - 03 - 01),
        with_representatives: vec!["Kari".into()],
        need_still_present: false,
        decision: Decision::End,
        reason_to_continue: None,
    });
    let g = gate(&m, &d, &security(), late);
    assert!(!g.may_collect);
    assert!(g.schedule_deletion);
    assert!(g.missing[0].text_en.contains("deletion"));
    assert!(g.warnings.iter().all(|w| w.code != "evaluation_overdue"));
}

#[test]
fn add_months_clamps_the_day() {
    assert_eq!(add_months(date!(2024 - 01 - 31), 1), date!(2024 - 02 - 29));
    assert_eq!(add_months(date!(2023 - 11 - 15), 3), date!(2024 - 02 - 15));
    assert_eq!(add_months(date!(2023 - 05 - 01), 12), date!(2024 - 05 - 01));
}

fn breach() -> Breach {
    Breach {
        discovered_at: datetime!(2025-03-03 09:30 UTC),
        description: "En bærbar PC med kjørebokdata ble stjålet".into(),
        personal_data_affected: true,
        notified_datatilsynet_at: None,
        employees_informed: None,
        not_notified: None,
    }
}

#[test]
fn breach_clock_is_72_hours() {
    let b = breach();
    assert_eq!(breach_deadline(&b), datetime!(2025-03-06 09:30 UTC));
    assert_eq!(
        breach_status(&b, datetime!(2025-03-03 09:30 UTC)),
        BreachStatus::Due { hours_left: 72 }
    );
    assert_eq!(
        breach_status(&b, datetime!(2025-03-05 10:00 UTC)),
        BreachStatus::Due { hours_left: 23 }
    );
    assert_eq!(
        breach_status(&b, datetime!(2025-03-06 09:30 UTC)),
        BreachStatus::Due { hours_left: 0 }
    );
    assert_eq!(
        breach_status(&b, datetime!(2025-03-06 09:30:01 UTC)),
        BreachStatus::Overdue { hours_over: 1 }
    );
    assert_eq!(
        breach_status(&b, datetime!(2025-03-07 11:30 UTC)),
        BreachStatus::Overdue { hours_over: 26 }
    );
    assert!(b.art34_decision_pending());

    let notified = Breach {
        notified_datatilsynet_at: Some(datetime!(2025-03-04 08:00 UTC)),
        employees_informed: Some(EmployeesInformed {
            decision: Art34Decision::NotRequired {
                reason: "Disken var kryptert".into(),
            },
            decided_on: date!(2025 - 03 - 04),
        }),
        ..breach()
    };
    assert_eq!(
        breach_status(&notified, datetime!(2025-03-10 00:00 UTC)),
        BreachStatus::Notified
    );
    assert!(!notified.art34_decision_pending());

    let deviation = Breach {
        personal_data_affected: false,
        ..breach()
    };
    assert_eq!(
        breach_status(&deviation, datetime!(2025-03-10 00:00 UTC)),
        BreachStatus::NotNotifiable
    );
}

fn open_case() -> AccessCase {
    AccessCase {
        id: "2025-1".into(),
        employee: "E042".into(),
        ground: Some(AccessGround::DailyOperation(
            "Kunde venter svar på tilbud; arbeidstakeren er langtidssykmeldt".into(),
        )),
        notice: Notice::GivenOn(date!(2025 - 03 - 01)),
        presence: Presence::Present {
            representative: Some("Kari (tillitsvalgt)".into()),
        },
        opened: vec!["Innboks/Tilbud <Nordbygg>".into()],
        closed_on: None,
        documentation: "Åpnet én e-posttråd; melding sendt etterpå".into(),
    }
}

#[test]
fn access_case_closes_only_when_complete() {
    let mut c = open_case();
    c.ground = None;
    c.notice = Notice::NotGiven;
    c.opened.clear();
    assert_eq!(
        c.close_problems(),
        [
            AccessCaseError::NoGround,
            AccessCaseError::NoNotice,
            AccessCaseError::NothingOpenedRecorded
        ]
    );
    assert_eq!(
        c.close(date!(2025 - 03 - 02)),
        Err(AccessCaseError::NoGround)
    );
    assert_eq!(c.closed_on, None);

    // Notice impossible needs a reason.
    let mut c = open_case();
    c.notice = Notice::Impossible {
        reason: "  ".into(),
    };
    assert_eq!(
        c.close(date!(2025 - 03 - 02)),
        Err(AccessCaseError::EmptyImpossibleReason)
    );
    c.notice = Notice::Impossible {
        reason: "Arbeidstakeren er død; boet er varslet".into(),
    };
    assert_eq!(c.close(date!(2025 - 03 - 02)), Ok(()));
    assert_eq!(c.closed_on, Some(date!(2025 - 03 - 02)));
    assert_eq!(
        c.close(date!(2025 - 03 - 03)),
        Err(AccessCaseError::AlreadyClosed)
    );

    let mut c = open_case();
    c.ground = Some(AccessGround::SuspectedSeriousBreach(String::new()));
    assert_eq!(c.close_problems(), [AccessCaseError::NoGround]);
    assert!(open_case().close(date!(2025 - 03 - 02)).is_ok());
}

#[test]
fn escape_covers_html_specials() {
    assert_eq!(
        escape(r#"<a href="x">&'</a>"#),
        "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
    );
}

fn assert_page(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains("@media print"));
    assert!(!html.contains("<Co>"), "unescaped value in\n{html}");
    assert!(!html.contains("<script"));
}

#[test]
fn access_case_record_is_escaped() {
    let mut c = open_case();
    c.close(date!(2025 - 03 - 05)).expect("complete case");
    let nb = access_case_record(&c, Lang::Nb);
    assert_page(&nb);
    for s in [
        "Innsynssak 2025-1",
        "§ 3 (1) a",
        "Varslet 2025-03-01",
        "Kari (tillitsvalgt)",
        "Innboks/Tilbud &lt;Nordbygg&gt;",
        "2025-03-05",
    ] {
        assert!(nb.contains(s), "{s} missing in\n{nb}");
    }
    assert!(!nb.contains("<Nordbygg>"));
    let en = access_case_record(&c, Lang::En);
    assert!(en.contains("What was opened") && en.contains("Access case 2025-1"));
}

#[test]
fn every_vehicle_purpose_generates_a_lawful_measure() {
    let text = ORG.replace(
        r#"purposes = ["driving_log", "fleet_view"]"#,
        r#"purposes = ["driving_log", "fleet_view", "alarm", "utilization"]"#,
    );
    let ms = measures_from_org(&org::parse(&text).expect("valid org file"));
    assert_eq!(ms.len(), org::Purpose::ALL.len());
    let now = date!(2025 - 03 - 01);
    for m in &ms {
        // With every duty on record, Sporvern's own collection passes its own gate.
        let g = gate(m, &all_done(now), &security(), now);
        assert!(g.may_collect, "{}: {:?}", m.id, g.missing_codes());
    }
}

#[test]
fn acknowledgements_per_employee() {
    let mut d = all_done(date!(2025 - 01 - 10));
    d.acknowledgements.push(register::Acknowledgement {
        employee: "E001".into(),
        on: date!(2025 - 01 - 11),
    });
    assert_eq!(
        d.unacknowledged(&["E001", "E002", "E003"]),
        ["E002", "E003"]
    );
}
