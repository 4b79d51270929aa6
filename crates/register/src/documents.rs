//! Documents generated from the register: self-contained, printable HTML pages in bokmål or
//! English. Every value from the register is escaped.

use std::fmt::Write;

use assess::{Assessment, Lang};

use crate::access::{AccessCase, Notice, Presence};
use crate::duties::{Duties, Information};
use crate::gate::is_lawful;
use crate::measure::{Concerned, Measure};

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn t<'a>(lang: Lang, nb: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::Nb => nb,
        Lang::En => en,
    }
}

fn page(lang: Lang, title: &str, body: &str) -> String {
    let code = t(lang, "nb", "en");
    format!(
        "<!DOCTYPE html>\n<html lang=\"{code}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\nbody{{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#111}}\nh1{{font-size:1.6rem}}h2{{font-size:1.2rem;margin-top:1.6rem}}\ntable{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top}}\n.cite{{color:#555;font-size:.9em}}\n@media print{{body{{margin:0;max-width:none}}a{{color:inherit}}}}\n</style>\n</head>\n<body>\n<h1>{}</h1>\n{body}</body>\n</html>\n",
        escape(title),
        escape(title)
    )
}

fn section(out: &mut String, heading: &str, text: &str) {
    let _ = write!(
        out,
        "<h2>{}</h2>\n<p>{}</p>\n",
        escape(heading),
        escape(text)
    );
}

fn concerns_text(c: &[Concerned], lang: Lang) -> String {
    c.iter()
        .map(|c| match c {
            Concerned::CurrentEmployees => t(lang, "nåværende arbeidstakere", "current employees"),
            Concerned::FormerEmployees => t(lang, "tidligere arbeidstakere", "former employees"),
            Concerned::ContractorsOrCustomers => t(
                lang,
                "oppdragstakere og kunder (bare personvernforordningen)",
                "contractors and customers (GDPR only)",
            ),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn list(out: &mut String, items: &[String]) {
    out.push_str("<ul>\n");
    for i in items {
        let _ = writeln!(out, "<li>{}</li>", escape(i));
    }
    out.push_str("</ul>\n");
}

fn duty_list(out: &mut String, a: &Assessment, lang: Lang) {
    let items: Vec<String> = a
        .duties()
        .iter()
        .filter_map(|c| assess::rule(*c))
        .map(|e| format!("{} ({})", e.text(lang), e.citation))
        .collect();
    list(out, &items);
}

/// The information notice to employees: arbeidsmiljøloven § 9-2 (2) a–c and GDPR art. 13,
/// with their rights and the right to complain to Datatilsynet.
pub fn information_notice(m: &Measure, info: &Information, lang: Lang) -> String {
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<p>{} <strong>{}</strong>. {} {}.</p>",
        t(lang, "Behandlingsansvarlig:", "Controller:"),
        escape(&info.controller),
        t(lang, "Gjelder", "Concerns"),
        escape(&concerns_text(&m.concerns, lang))
    );
    section(&mut b, t(lang, "Tiltaket", "The measure"), &m.name);
    section(&mut b, t(lang, "Formål", "Purpose"), &info.purpose);
    section(
        &mut b,
        t(lang, "Praktiske konsekvenser", "Practical consequences"),
        &info.practical_consequences,
    );
    section(
        &mut b,
        t(
            lang,
            "Hvordan tiltaket gjennomføres",
            "How it is carried out",
        ),
        &info.how_carried_out,
    );
    section(
        &mut b,
        t(lang, "Antatt varighet", "Expected duration"),
        &info.expected_duration,
    );
    section(
        &mut b,
        t(lang, "Behandlingsgrunnlag", "Legal basis"),
        &info.legal_basis,
    );
    section(&mut b, t(lang, "Lagringstid", "Retention"), &info.retention);
    section(
        &mut b,
        t(lang, "Hvem har tilgang", "Who has access"),
        &info.access,
    );
    let _ = writeln!(b, "<h2>{}</h2>", t(lang, "Dine rettigheter", "Your rights"));
    let rights: Vec<String> = [
        t(lang, "Rett til innsyn i opplysningene om deg (art. 15)", "The right of access to the data about you (art. 15)"),
        t(lang, "Rett til retting av uriktige opplysninger (art. 16)", "The right to rectification of inaccurate data (art. 16)"),
        t(lang, "Rett til sletting (art. 17)", "The right to erasure (art. 17)"),
        t(lang, "Rett til å protestere mot behandlingen (art. 21)", "The right to object to the processing (art. 21)"),
        t(
            lang,
            "Rett til å klage til Datatilsynet (art. 77), www.datatilsynet.no",
            "The right to complain to Datatilsynet, the Norwegian Data Protection Authority (art. 77), www.datatilsynet.no",
        ),
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    list(&mut b, &rights);
    let _ = writeln!(
        b,
        "<p>{} {}.</p>\n<p class=\"cite\">arbeidsmiljøloven § 9-2 (2) a–c; GDPR art. 13</p>",
        t(lang, "Publisert", "Published"),
        info.published_on
    );
    page(
        lang,
        &format!(
            "{}: {}",
            t(lang, "Informasjon til ansatte", "Information to employees"),
            m.name
        ),
        &b,
    )
}

/// A draft DPIA (GDPR art. 35) from the measure and what is on record.
pub fn dpia_draft(m: &Measure, d: &Duties, lang: Lang) -> String {
    let mut b = String::new();
    section(
        &mut b,
        t(
            lang,
            "Systematisk beskrivelse (art. 35 (7) a)",
            "Systematic description (art. 35(7)(a))",
        ),
        &format!(
            "{} — {}: {}. {}: {}",
            m.name,
            t(lang, "type", "kind"),
            m.kind.as_str(),
            t(lang, "Berørte", "Data subjects"),
            concerns_text(&m.concerns, lang)
        ),
    );
    let fields = m.fields();
    if !fields.is_empty() {
        section(&mut b, t(lang, "Opplysninger", "Data"), &fields.join(", "));
    }
    let verdict = m.assessment.verdict();
    let vtext = assess::verdict(verdict)
        .map(|e| e.text(lang).to_owned())
        .unwrap_or_default();
    section(
        &mut b,
        t(lang, "Vurdering av lovlighet", "Assessment of lawfulness"),
        &format!("{} — {vtext}", verdict.as_str()),
    );
    let (necessity, outcome) = match &d.balancing_test {
        Some(bt) => (
            format!("{} {}", bt.interest, bt.necessity),
            format!("{} ({})", bt.outcome, bt.decided_on),
        ),
        None => (
            t(lang, "[Ikke dokumentert ennå]", "[Not documented yet]").to_owned(),
            t(lang, "[Ikke dokumentert ennå]", "[Not documented yet]").to_owned(),
        ),
    };
    section(
        &mut b,
        t(
            lang,
            "Nødvendighet og forholdsmessighet (art. 35 (7) b)",
            "Necessity and proportionality (art. 35(7)(b))",
        ),
        &necessity,
    );
    section(
        &mut b,
        t(lang, "Interesseavveiningen", "Balancing test"),
        &outcome,
    );
    let (views, dpo) = match &d.dpia {
        Some(x) => (
            x.employees_views.clone(),
            x.dpo_advice.clone().unwrap_or_else(|| {
                t(
                    lang,
                    "Virksomheten har ikke personvernombud.",
                    "The organisation has no DPO.",
                )
                .to_owned()
            }),
        ),
        None => (
            t(lang, "[Innhentes]", "[To be sought]").to_owned(),
            t(lang, "[Innhentes]", "[To be sought]").to_owned(),
        ),
    };
    section(
        &mut b,
        t(
            lang,
            "Arbeidstakernes synspunkter (art. 35 (9))",
            "Employees' views (art. 35(9))",
        ),
        &views,
    );
    section(
        &mut b,
        t(
            lang,
            "Råd fra personvernombudet (art. 35 (2))",
            "Advice of the data protection officer (art. 35(2))",
        ),
        &dpo,
    );
    let _ = writeln!(
        b,
        "<h2>{}</h2>",
        t(
            lang,
            "Tiltak for å håndtere risikoen (art. 35 (7) d)",
            "Measures to address the risks (art. 35(7)(d))"
        )
    );
    duty_list(&mut b, &m.assessment, lang);
    page(
        lang,
        &format!("{}: {}", t(lang, "Utkast til DPIA", "Draft DPIA"), m.name),
        &b,
    )
}

/// The record of processing activities (GDPR art. 30 (1)) from the organisation and its
/// measures.
pub fn records_of_processing(o: &org::Org, measures: &[Measure], lang: Lang) -> String {
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<p>{} <strong>{}</strong>{}</p>",
        t(lang, "Behandlingsansvarlig:", "Controller:"),
        escape(&o.organisation.name),
        o.organisation
            .org_number
            .as_ref()
            .map(|n| format!(", {} {}", t(lang, "org.nr.", "org. no."), escape(n)))
            .unwrap_or_default()
    );
    let _ = writeln!(
        b,
        "<table>\n<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t(lang, "Behandling og formål", "Processing and purpose"),
        t(lang, "Registrerte", "Data subjects"),
        t(lang, "Opplysninger", "Personal data"),
        t(lang, "Lagringstid", "Retention"),
        t(lang, "Databehandler", "Processor"),
        t(lang, "Vurdering", "Assessment")
    );
    for m in measures {
        let retention = match m.stored_days() {
            Some(0) => t(lang, "lagres ikke", "not stored").to_owned(),
            Some(d) => format!("{d} {}", t(lang, "dager", "days")),
            None => "—".to_owned(),
        };
        let lawful = if is_lawful(m.assessment.verdict()) {
            t(lang, "lovlig", "lawful")
        } else {
            t(lang, "ikke lovlig", "not lawful")
        };
        let _ = writeln!(
            b,
            "<tr><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ({})</td></tr>",
            escape(&m.name),
            escape(m.kind.as_str()),
            escape(&concerns_text(&m.concerns, lang)),
            escape(&m.fields().join(", ")),
            escape(&retention),
            escape(m.processor.as_deref().unwrap_or("—")),
            lawful,
            m.assessment.verdict().as_str()
        );
    }
    b.push_str("</table>\n");
    let _ = writeln!(
        b,
        "<p>{}: {} {}.</p>\n<p>{}</p>\n<p class=\"cite\">GDPR art. 30 (1)</p>",
        t(lang, "Registrert", "Registered"),
        o.vehicles.len(),
        t(lang, "kjøretøy", "vehicles"),
        t(
            lang,
            "Tekniske og organisatoriske sikkerhetstiltak (art. 32): tilgang bare per formål og rolle; hver tilgang og endring i en hashkjedet revisjonslogg; rådata fra enhetene slettes innen 72 timer; slettede data overskrives.",
            "Technical and organisational security measures (art. 32): access only per purpose and role; every access and change in a hash-chained audit ledger; raw device data deleted within 72 hours; deleted data overwritten."
        )
    );
    page(
        lang,
        t(
            lang,
            "Protokoll over behandlingsaktiviteter",
            "Record of processing activities",
        ),
        &b,
    )
}

/// The agenda for the discussion with the representatives (arbeidsmiljøloven § 9-2 (1)).
pub fn discussion_agenda(m: &Measure, lang: Lang) -> String {
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<p class=\"cite\">arbeidsmiljøloven § 9-2 (1): {}</p>",
        t(
            lang,
            "drøfting så tidlig som mulig av behov, utforming, gjennomføring og vesentlige endringer",
            "discussion as early as possible of the need, design, implementation and significant changes"
        )
    );
    let items: Vec<String> = [
        t(lang, "Behovet for tiltaket", "The need for the measure"),
        t(
            lang,
            "Utformingen: hvilke opplysninger, hvem får tilgang, lagringstid",
            "The design: what data, who has access, retention",
        ),
        t(
            lang,
            "Gjennomføringen og informasjonen til de ansatte",
            "Implementation and the information to employees",
        ),
        t(
            lang,
            "De ansattes synspunkter til DPIA (GDPR art. 35 (9))",
            "The employees' views for the DPIA (GDPR art. 35(9))",
        ),
        t(
            lang,
            "Evaluering: når og hvordan (§ 9-2 (3))",
            "Evaluation: when and how (§ 9-2 (3))",
        ),
        t(lang, "Eventuelt", "Any other business"),
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    let _ = writeln!(b, "<h2>{}</h2>", t(lang, "Dagsorden", "Agenda"));
    b.push_str("<ol>\n");
    for i in &items {
        let _ = writeln!(b, "<li>{}</li>", escape(i));
    }
    b.push_str("</ol>\n");
    let verdict = m.assessment.verdict();
    section(
        &mut b,
        t(lang, "Vurderingen", "The assessment"),
        &format!(
            "{}: {}",
            verdict.as_str(),
            assess::verdict(verdict).map(|e| e.text(lang)).unwrap_or("")
        ),
    );
    let _ = writeln!(b, "<h2>{}</h2>", t(lang, "Plikter", "Duties"));
    duty_list(&mut b, &m.assessment, lang);
    page(
        lang,
        &format!(
            "{}: {}",
            t(
                lang,
                "Drøftingsmøte med tillitsvalgte",
                "Discussion with the representatives"
            ),
            m.name
        ),
        &b,
    )
}

/// The record of a one-off access case (e-postforskriften §§ 3–4).
pub fn access_case_record(c: &AccessCase, lang: Lang) -> String {
    let none = t(lang, "ikke registrert", "not recorded");
    let mut b = String::new();
    section(&mut b, t(lang, "Arbeidstaker", "Employee"), &c.employee);
    let ground = c
        .ground
        .as_ref()
        .map(|g| format!("{} ({})", g.explanation(), g.citation()))
        .unwrap_or_else(|| none.to_owned());
    section(&mut b, t(lang, "Grunnlag", "Ground"), &ground);
    let notice = match &c.notice {
        Notice::NotGiven => none.to_owned(),
        Notice::GivenOn(d) => format!("{} {d}", t(lang, "Varslet", "Notified on")),
        Notice::Impossible { reason } => {
            format!(
                "{}: {reason}",
                t(lang, "Varsel var ikke mulig", "Notice was impossible")
            )
        }
    };
    section(
        &mut b,
        t(lang, "Varsel (§ 4 (1))", "Notice (§ 4 (1))"),
        &notice,
    );
    let presence = match &c.presence {
        Presence::NotRecorded => none.to_owned(),
        Presence::Present { representative } => format!(
            "{}{}",
            t(lang, "Til stede", "Present"),
            representative
                .as_ref()
                .map(|r| format!(", {} {r}", t(lang, "med", "with")))
                .unwrap_or_default()
        ),
        Presence::Declined => {
            t(lang, "Avslo å være til stede", "Declined to be present").to_owned()
        }
        Presence::NotPossible { reason } => {
            format!("{}: {reason}", t(lang, "Ikke mulig", "Not possible"))
        }
    };
    section(
        &mut b,
        t(
            lang,
            "Til stede med tillitsvalgt",
            "Present with a representative",
        ),
        &presence,
    );
    let _ = writeln!(
        b,
        "<h2>{}</h2>",
        t(lang, "Hva ble åpnet", "What was opened")
    );
    list(&mut b, &c.opened);
    section(
        &mut b,
        t(lang, "Dokumentasjon", "Documentation"),
        &c.documentation,
    );
    let closed = c
        .closed_on
        .map(|d| d.to_string())
        .unwrap_or_else(|| t(lang, "åpen", "open").to_owned());
    section(&mut b, t(lang, "Avsluttet", "Closed"), &closed);
    b.push_str("<p class=\"cite\">e-postforskriften §§ 3–4</p>\n");
    page(
        lang,
        &format!("{} {}", t(lang, "Innsynssak", "Access case"), c.id),
        &b,
    )
}
