//! The documents, checked field by field against the provisions they answer: the information
//! notice (GDPR art. 13 (1) a–f and (2) a–f, arbeidsmiljøloven § 9-2 (2) a–c), the DPIA draft
//! (art. 35 (7) a–d), the record of processing (art. 30 (1) a–g) and the discussion agenda
//! (§ 9-2 (1), «vesentlig endring»). Each item sits in an element tagged `data-article`, and a
//! test per letter asserts it is there with real content. Bokmål documents carry no internal
//! codes and no English.

use register::{Lang, LegalBasis, NoticePage, Register};
use time::macros::date;

const TODAY: time::Date = date!(2026 - 11 - 23);

fn read(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../examples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("example file")
}

/// The demo organisation with its register (examples/).
fn example() -> (org::Org, Register) {
    let o = org::parse(&read("org.toml")).expect("org");
    let mut reg = Register::default();
    reg.sync_org(&o);
    reg.apply_str(&read("register.toml"), &o).expect("example");
    (o, reg)
}

fn notice(id: &str, lang: Lang) -> String {
    let (_, reg) = example();
    let e = reg.entry(id).expect("measure");
    register::information_notice(e, e.duties.information.as_ref().expect("info"), lang)
}

/// The text of the element tagged `data-article="tag"`, markup removed.
fn article(html: &str, tag: &str) -> Option<String> {
    let start = html.find(&format!("data-article=\"{tag}\""))?;
    let rest = &html[start..];
    let end = rest.find("</section>").unwrap_or(rest.len());
    let mut text = String::new();
    let mut in_tag = false;
    for c in rest[..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The item is there, and says more than its heading.
fn has(html: &str, tag: &str, needle: &str) {
    let text = article(html, tag).unwrap_or_else(|| panic!("no {tag} in\n{html}"));
    assert!(text.len() > 60, "{tag} is only a heading: {text}");
    assert!(
        text.contains(needle),
        "{tag} does not say {needle:?}: {text}"
    );
}

macro_rules! notice_item {
    ($name:ident, $tag:literal, $needle_nb:literal, $needle_en:literal) => {
        #[test]
        fn $name() {
            has(&notice("vehicle.driving_log", Lang::Nb), $tag, $needle_nb);
            has(&notice("vehicle.driving_log", Lang::En), $tag, $needle_en);
        }
    };
}

// GDPR art. 13 (1)
notice_item!(
    art13_1_a_controller_and_contact,
    "art13-1-a",
    "Rørlegger Hansen AS",
    "personvern@"
);
notice_item!(
    art13_1_b_dpo_contact,
    "art13-1-b",
    "personvernombud",
    "data protection officer"
);
notice_item!(
    art13_1_c_purposes_and_legal_basis,
    "art13-1-c",
    "art. 6 nr. 1 bokstav f",
    "art. 6"
);
notice_item!(
    art13_1_d_legitimate_interest,
    "art13-1-d",
    "dokumentere yrkeskjøring",
    "dokumentere yrkeskjøring"
);
notice_item!(
    art13_1_e_recipients,
    "art13-1-e",
    "kjørebokfører",
    "kjørebokfører"
);
notice_item!(art13_1_f_transfers, "art13-1-f", "EU/EØS", "EU/EEA");
// GDPR art. 13 (2)
notice_item!(
    art13_2_a_retention_in_words,
    "art13-2-a",
    "regnskapsåret + 5 år",
    "fiscal year + 5 years"
);
notice_item!(art13_2_b_rights, "art13-2-b", "art. 18", "art. 21");
notice_item!(
    art13_2_d_complaint,
    "art13-2-d",
    "Datatilsynet",
    "Datatilsynet"
);
notice_item!(
    art13_2_e_obligation,
    "art13-2-e",
    "registreres",
    "registers"
);
notice_item!(
    art13_2_f_automated_decisions,
    "art13-2-f",
    "art. 22",
    "art. 22"
);
// Arbeidsmiljøloven § 9-2 (2)
notice_item!(aml_9_2_2_a_purpose, "aml-9-2-2-a", "kjørebok", "kjørebok");
notice_item!(
    aml_9_2_2_b_consequences_and_how,
    "aml-9-2-2-b",
    "privatmodus",
    "privatmodus"
);
notice_item!(
    aml_9_2_2_c_duration,
    "aml-9-2-2-c",
    "evalueres",
    "evalueres"
);

/// Art. 13 (2) c: withdrawal only for consent; art. 20 portability only for consent or
/// contract; art. 21 objection only for legitimate interests. No right is promised that the
/// basis does not give.
#[test]
fn art13_2_c_withdrawal_and_the_rights_follow_the_legal_basis() {
    let (_, mut reg) = example();
    let li = notice("vehicle.driving_log", Lang::Nb);
    assert!(
        article(&li, "art13-2-c").is_none(),
        "no consent, no withdrawal"
    );
    let rights = article(&li, "art13-2-b").expect("rights");
    assert!(
        rights.contains("art. 21") && !rights.contains("art. 20"),
        "{rights}"
    );

    let e = reg.entry_mut("vehicle.alarm").expect("alarm");
    e.measure.legal_basis = LegalBasis::Consent;
    let e = reg.entry("vehicle.alarm").expect("alarm");
    let html =
        register::information_notice(e, e.duties.information.as_ref().expect("info"), Lang::Nb);
    has(&html, "art13-2-c", "trekke samtykket tilbake");
    let rights = article(&html, "art13-2-b").expect("rights");
    assert!(
        rights.contains("art. 20") && !rights.contains("art. 21"),
        "{rights}"
    );
    assert!(
        article(&html, "art13-1-d").is_none(),
        "no legitimate interest to state"
    );
}

/// Recorded distance and time cannot be edited: the notice says how a trip is corrected
/// instead of promising plain rectification or erasure the store cannot honour.
#[test]
fn the_driving_log_notice_promises_only_what_the_store_can_do() {
    let rights = article(&notice("vehicle.driving_log", Lang::Nb), "art13-2-b").expect("rights");
    assert!(
        rights.contains("tillegg") && rights.contains("kan ikke endres"),
        "{rights}"
    );
    assert!(rights.contains("bokføringsloven § 13"), "{rights}");
    let rights = article(&notice("vehicle.driving_log", Lang::En), "art13-2-b").expect("rights");
    assert!(rights.contains("supplement"), "{rights}");
}

/// The phone page: viewport, the way back, a PDF copy and the «I have read it» button posting
/// to the acknowledgement path; once acknowledged, the date instead of the button.
#[test]
fn the_notice_page_is_ready_for_a_phone_with_an_i_have_read_it_button() {
    let (_, reg) = example();
    let e = reg.entry("vehicle.driving_log").expect("log");
    let info = e.duties.information.as_ref().expect("info");
    let page = NoticePage {
        back: Some("/me".into()),
        acknowledge: Some((
            "/me/notice/vehicle.driving_log/ack".into(),
            "tok\"en".into(),
        )),
        acknowledged_on: None,
        pdf: Some("/me/notice/vehicle.driving_log?format=pdf".into()),
    };
    let html = register::information_notice_page(e, info, Lang::Nb, &page);
    assert!(html.contains("<meta name=\"viewport\" content=\"width=device-width"));
    assert!(html.contains("<nav><a href=\"/me\">"));
    assert!(html.contains("format=pdf"));
    assert!(html.contains("<form method=\"post\" action=\"/me/notice/vehicle.driving_log/ack\">"));
    assert!(
        html.contains("value=\"tok&quot;en\""),
        "the token is escaped"
    );
    assert!(html.contains("Jeg har lest informasjonen"));
    let done = NoticePage {
        acknowledged_on: Some(date!(2025 - 09 - 01)),
        ..page
    };
    let html = register::information_notice_page(e, info, Lang::Nb, &done);
    assert!(!html.contains("<form") && html.contains("2025-09-01"));
}

macro_rules! dpia_item {
    ($name:ident, $tag:literal, $needle_nb:literal, $needle_en:literal) => {
        #[test]
        fn $name() {
            let (_, reg) = example();
            let e = reg.entry("vehicle.driving_log").expect("log");
            has(&register::dpia_draft(e, TODAY, Lang::Nb), $tag, $needle_nb);
            has(&register::dpia_draft(e, TODAY, Lang::En), $tag, $needle_en);
        }
    };
}

// GDPR art. 35 (7)
dpia_item!(
    art35_7_a_systematic_description,
    "art35-7-a",
    "kilometerstand",
    "odometer"
);
dpia_item!(
    art35_7_b_necessity_and_proportionality,
    "art35-7-b",
    "manuell kjørebok",
    "manuell kjørebok"
);
dpia_item!(
    art35_7_c_risks_likelihood_consequence,
    "art35-7-c",
    "Sannsynlighet",
    "Likelihood"
);
dpia_item!(
    art35_7_d_safeguards_sporvern_applies,
    "art35-7-d",
    "Privatmodus",
    "Privacy mode"
);
dpia_item!(
    art35_9_employees_views,
    "art35-9",
    "tillitsvalgte",
    "tillitsvalgte"
);

#[test]
fn the_dpia_states_the_residual_risk_and_is_not_a_to_do_list() {
    let (_, reg) = example();
    let e = reg.entry("vehicle.driving_log").expect("log");
    let html = register::dpia_draft(e, TODAY, Lang::Nb);
    let risks = article(&html, "art35-7-c").expect("risks");
    assert!(risks.contains("Restrisiko"), "{risks}");
    let d = article(&html, "art35-7-d").expect("safeguards");
    for s in [
        "forkastes ved mottak",
        "revisjonslogg",
        "72 timer",
        "formål",
    ] {
        assert!(d.contains(s), "{s}: {d}");
    }
}

macro_rules! record_column {
    ($name:ident, $tag:literal, $needle:literal) => {
        #[test]
        fn $name() {
            let (o, reg) = example();
            let html = register::records_of_processing(&o, &reg, TODAY, Lang::Nb);
            assert!(
                html.contains(&format!("<th data-article=\"{}\">", $tag)),
                "no column {}",
                $tag
            );
            let col = [
                "art30-1-a",
                "art30-1-b",
                "art30-1-c",
                "art30-1-d",
                "art30-1-e",
                "art30-1-f",
                "art30-1-g",
            ]
            .iter()
            .position(|t| *t == $tag)
            .expect("a column");
            let rows: Vec<&str> = html.split("<tr><td>").skip(1).collect();
            assert_eq!(rows.len(), reg.entries.len(), "a row per measure");
            for row in rows {
                let cell = row.split("</td><td>").nth(col).expect("cell");
                assert!(!cell.trim().is_empty(), "{} empty in {row}", $tag);
            }
            assert!(html.contains($needle), "{} lacks {:?}", $tag, $needle);
        }
    };
}

// GDPR art. 30 (1)
record_column!(art30_1_a_controller, "art30-1-a", "Rørlegger Hansen AS");
record_column!(
    art30_1_b_purposes,
    "art30-1-b",
    "Planlegge størrelsen på bilparken"
);
record_column!(
    art30_1_c_subjects_and_data,
    "art30-1-c",
    "tidligere arbeidstakere"
);
record_column!(art30_1_d_recipients, "art30-1-d", "Eksempel E-post AS");
record_column!(art30_1_e_transfers, "art30-1-e", "ingen oppgitt");
record_column!(
    art30_1_f_erasure_in_words,
    "art30-1-f",
    "regnskapsåret + 5 år"
);
record_column!(art30_1_g_security, "art30-1-g", "revisjonslogg");

#[test]
fn the_record_gives_erasure_in_words_never_raw_days() {
    let (o, reg) = example();
    let html = register::records_of_processing(&o, &reg, TODAY, Lang::Nb);
    assert!(
        !html.contains("2190") && !html.contains("dager</td>"),
        "{html}"
    );
}

#[test]
fn the_agenda_has_an_item_for_significant_changes() {
    let (_, reg) = example();
    let e = reg.entry("vehicle.utilization").expect("util");
    let nb = register::discussion_agenda(e, TODAY, Lang::Nb);
    assert!(nb.contains("Vesentlige endringer i tiltaket"), "{nb}");
    assert!(nb.contains("vesentlig endring"), "§ 9-2 (1)'s words");
    let en = register::discussion_agenda(e, TODAY, Lang::En);
    assert!(en.contains("Significant changes"), "{en}");
}

/// No internal codes or English in bokmål, and user-facing citations name real sources.
#[test]
fn bokmal_documents_carry_no_codes_english_or_internal_sources() {
    let (o, reg) = example();
    let mut docs = vec![register::records_of_processing(&o, &reg, TODAY, Lang::Nb)];
    for e in &reg.entries {
        docs.push(register::dpia_draft(e, TODAY, Lang::Nb));
        docs.push(register::discussion_agenda(e, TODAY, Lang::Nb));
        if let Some(info) = &e.duties.information {
            docs.push(register::information_notice(e, info, Lang::Nb));
        }
    }
    for html in &docs {
        for bad in [
            "compliant",
            "permitted_exception",
            "outside_prohibition",
            "driving_log",
            "fleet_view",
            "spam_quarantine",
            "type:",
            "missing",
            "Seed ",
            "seed 0",
            "SPEC",
            "Not documented",
        ] {
            assert!(!html.contains(bad), "{bad:?} in a bokmål document:\n{html}");
        }
    }
}
