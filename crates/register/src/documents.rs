//! Documents generated from the register: self-contained, printable HTML pages in bokmål or
//! English. Every value from the register is escaped.

use std::fmt::Write;

use assess::{Lang, Verdict};
use time::Date;

use crate::access::{AccessCase, Notice, Presence};
use crate::book::{Entry, Register};
use crate::duties::Information;
use crate::measure::{Concerned, LegalBasis, Measure, MeasureKind};

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
        "<!DOCTYPE html>\n<html lang=\"{code}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\nbody{{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#111}}\nh1{{font-size:1.6rem}}h2{{font-size:1.2rem;margin-top:1.6rem}}\ntable{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top}}\n.cite{{color:#555;font-size:.9em}}\nnav a,button{{font-size:1rem}}button{{padding:.7rem 1.2rem;min-height:44px}}\n.table{{overflow-x:auto}}\n@media print{{body{{margin:0;max-width:none}}a{{color:inherit}}}}\n</style>\n</head>\n<body>\n<h1>{}</h1>\n{body}</body>\n</html>\n",
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

/// A section tagged with the provision it answers (`data-article`), so each item can be found
/// and checked.
fn article(out: &mut String, tag: &str, heading: &str, text: &str) {
    let _ = write!(
        out,
        "<section data-article=\"{tag}\">\n<h2>{}</h2>\n<p>{}</p>\n</section>\n",
        escape(heading),
        escape(text)
    );
}

/// What a measure is, in words.
pub fn kind_label(k: MeasureKind, lang: Lang) -> &'static str {
    use org::Purpose::*;
    match k {
        MeasureKind::Vehicle(DrivingLog) => {
            t(lang, "elektronisk kjørebok", "electronic driving log")
        }
        MeasureKind::Vehicle(FleetView) => t(
            lang,
            "flåtestyring (sanntidskart)",
            "fleet management (live map)",
        ),
        MeasureKind::Vehicle(Alarm) => t(lang, "sikkerhet og alarm", "security and alarm"),
        MeasureKind::Vehicle(Utilization) => t(
            lang,
            "rasjonalisering (anonym statistikk)",
            "rationalisation (anonymous statistics)",
        ),
        MeasureKind::Vehicle(DriverBehaviour) => t(
            lang,
            "kjøreatferd (sensordata)",
            "driver behaviour (sensor data)",
        ),
        MeasureKind::FirewallLogging => t(lang, "logging i brannmuren", "firewall logging"),
        MeasureKind::SpamQuarantine => {
            t(lang, "karantene i spamfilteret", "spam-filter quarantine")
        }
        MeasureKind::Dlp => t(
            lang,
            "datatapsteknologi (DLP)",
            "data loss prevention (DLP)",
        ),
        MeasureKind::ScreenRecording => t(lang, "skjermopptak", "screen recording"),
        MeasureKind::EmailForwarding => t(lang, "videresending av e-post", "e-mail forwarding"),
        MeasureKind::Other => t(lang, "annet kontrolltiltak", "other monitoring measure"),
    }
}

/// A verdict in words, never its code.
pub fn verdict_label(v: Verdict, lang: Lang) -> &'static str {
    match v {
        Verdict::NotPersonalData => t(lang, "ikke personopplysninger", "not personal data"),
        Verdict::OutsideProhibition => t(
            lang,
            "lovlig: utenfor forbudet i e-postforskriften, personvernforordningen gjelder",
            "lawful: outside the ban in e-postforskriften, the GDPR applies",
        ),
        Verdict::Prohibited => t(lang, "forbudt", "prohibited"),
        Verdict::PermittedException => t(
            lang,
            "lovlig: omfattet av et unntak i e-postforskriften § 2",
            "lawful: covered by an exception in e-postforskriften § 2",
        ),
        Verdict::Compliant => t(lang, "lovlig", "lawful"),
        Verdict::NonCompliant => t(
            lang,
            "ikke lovlig slik det er beskrevet",
            "not lawful as described",
        ),
    }
}

fn field_label(f: &str, lang: Lang) -> &'static str {
    match f {
        "position" => t(lang, "posisjon", "position"),
        "time" => t(lang, "tidspunkt", "time"),
        "odometer" => t(lang, "kilometerstand", "odometer"),
        "driver_id" => t(lang, "hvem som kjørte", "who drove"),
        "speed" => t(lang, "hastighet", "speed"),
        "pedal" => t(lang, "pedalbruk", "pedal use"),
        "idling" => t(lang, "tomgang", "idling"),
        "harsh_events" => t(
            lang,
            "krappe svinger, bremsing og akselerasjon",
            "harsh turns, braking and acceleration",
        ),
        "g_force" => t(lang, "g-krefter", "g-forces"),
        "fuel" => t(lang, "drivstofforbruk", "fuel consumption"),
        "rpm" => t(lang, "turtall", "engine speed"),
        _ => t(lang, "andre opplysninger", "other data"),
    }
}

fn fields_text(m: &Measure, lang: Lang) -> String {
    let f = m.fields();
    if f.is_empty() {
        return t(
            lang,
            "opplysninger om bruken av utstyret",
            "data about the use of the equipment",
        )
        .to_owned();
    }
    f.iter()
        .map(|x| field_label(x, lang))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How long the data is kept, in words, from the retention rules Sporvern enforces
/// (`storage::RetentionPolicy`); never a raw number of days. For a measure Sporvern does not
/// collect itself, what the information to employees says.
pub fn retention_words(m: &Measure, info: Option<&Information>, lang: Lang) -> String {
    use org::Purpose::*;
    let raw = t(
        lang,
        " Rådata fra enhetene slettes senest etter 72 timer.",
        " Raw data from the devices is deleted after 72 hours at the latest.",
    );
    let own = |nb: &str, en: &str| format!("{}{raw}", t(lang, nb, en));
    match m.kind {
        MeasureKind::Vehicle(DrivingLog) => own(
            "Til utgangen av regnskapsåret + 5 år (bokføringsloven § 13 andre ledd); deretter slettes turene. Private turer lagres bare med dato og kilometer.",
            "Until the end of the fiscal year + 5 years (bokføringsloven § 13 (2)); then the trips are deleted. Private trips are kept as date and kilometres only.",
        ),
        MeasureKind::Vehicle(FleetView) => own(
            "Lagres ikke: bare siste posisjon vises, i minnet, og forsvinner når den er foreldet.",
            "Not stored: only the latest position is shown, in memory, and it disappears when stale.",
        ),
        MeasureKind::Vehicle(Alarm) => own(
            "Posisjoner bare mens en alarm er åpen; de slettes 30 dager etter at alarmen er løst, eller ett år etter når den er registrert som hendelse.",
            "Positions only while an alarm is open; deleted 30 days after the alarm is resolved, or a year after when it is recorded as an incident.",
        ),
        MeasureKind::Vehicle(Utilization) => own(
            "Turfakta uten sjåfør til uken er summert, deretter bare anonyme ukesummer per biltype og avdeling.",
            "Trip facts without the driver until the week is summed up, then only anonymous weekly sums per vehicle kind and department.",
        ),
        _ => match info.map(|i| i.retention.trim()).filter(|r| !r.is_empty()) {
            Some(r) => r.to_owned(),
            None => t(
                lang,
                "Ikke angitt i registeret.",
                "Not stated in the register.",
            )
            .to_owned(),
        },
    }
}

/// What Sporvern itself does to protect the data of a measure it collects (art. 25 and 32).
fn safeguards(m: &Measure, lang: Lang) -> Vec<String> {
    use org::Purpose::*;
    let mut out: Vec<&str> = Vec::new();
    if let MeasureKind::Vehicle(p) = m.kind {
        out.push(t(lang,
            "Opplysninger formålet ikke trenger (hastighet, pedalbruk, g-krefter, turtall, drivstoff), forkastes ved mottak; de lagres aldri.",
            "Data the purpose does not need (speed, pedal use, g-forces, engine speed, fuel) is dropped on arrival; it is never stored."));
        out.push(t(lang,
            "Rådata venter i et mellomlager som ingen bruker kan lese, og slettes senest etter 72 timer.",
            "Raw data waits in a staging area no user can read, and is deleted after 72 hours at the latest."));
        if matches!(p, DrivingLog | FleetView) {
            out.push(t(lang,
                "Privatmodus: sjåføren kan slå av sporingen for et privat ærend; bilen forsvinner fra kartet og turen lagres bare med dato og kilometer.",
                "Privacy mode: the driver can switch tracking off for a private errand; the vehicle disappears from the map and the trip is kept as date and kilometres only."));
        }
        if p == Alarm {
            out.push(t(lang,
                "Posisjoner lagres bare inne i et alarmvindu (alarmknapp, kollisjon, manipulering, meldt tyveri).",
                "Positions are kept only inside an alarm window (panic button, crash, tamper, reported theft)."));
        }
        if p == Utilization {
            out.push(t(lang,
                "Statistikken publiseres bare som anonyme summer når minst fem biler inngår.",
                "Statistics are published only as anonymous sums when at least five vehicles are included."));
        }
        out.push(t(lang,
            "Sletting etter lagringstiden gjøres av serveren selv etter en fast plan, med kvittering for hver sletting.",
            "Deletion after the retention period is done by the server itself on a schedule, with a receipt for each deletion."));
    }
    out.push(t(lang,
        "Hver lesing skjer for et oppgitt formål og prøves mot brukerens rolle; bruk til uforenlige formål (som kontroll av timelister) avvises.",
        "Every read is made for a stated purpose and checked against the user's role; use for incompatible purposes (such as checking timesheets) is refused."));
    out.push(t(lang,
        "All tilgang og endring står i en hashkjedet revisjonslogg som ikke kan endres i ettertid, og den ansatte ser selv hvem som har sett opplysningene.",
        "All access and changes are in a hash-chained audit ledger that cannot be altered afterwards, and employees see for themselves who looked at their data."));
    out.into_iter().map(str::to_owned).collect()
}

/// The page around the information notice when an employee reads it on the web.
#[derive(Debug, Clone, Default)]
pub struct NoticePage {
    /// Where «back» goes (the employee's own page).
    pub back: Option<String>,
    /// The form that records the acknowledgement: (action, CSRF token).
    pub acknowledge: Option<(String, String)>,
    /// When the employee acknowledged it, if they have.
    pub acknowledged_on: Option<Date>,
    /// A link to the same notice as PDF.
    pub pdf: Option<String>,
}

/// The information notice to employees (GDPR art. 13 and arbeidsmiljøloven § 9-2 (2) a–c),
/// as a printable document.
pub fn information_notice(e: &Entry, info: &Information, lang: Lang) -> String {
    information_notice_page(e, info, lang, &NoticePage::default())
}

/// The information notice with the web page's navigation and «I have read it» button.
pub fn information_notice_page(
    e: &Entry,
    info: &Information,
    lang: Lang,
    p: &NoticePage,
) -> String {
    let m = &e.measure;
    let d = &e.duties;
    let mut b = String::new();
    if let Some(back) = &p.back {
        let _ = writeln!(
            b,
            "<nav><a href=\"{}\">{}</a></nav>",
            escape(back),
            t(lang, "← Tilbake til Mine data", "← Back to My data")
        );
    }
    if let Some(pdf) = &p.pdf {
        let _ = writeln!(
            b,
            "<p><a href=\"{}\">{}</a></p>",
            escape(pdf),
            t(lang, "Last ned som PDF", "Download as PDF")
        );
    }
    let _ = writeln!(
        b,
        "<p>{} {}: {}.</p>",
        t(lang, "Dette gjelder", "This concerns"),
        escape(kind_label(m.kind, lang)),
        escape(&concerns_text(&m.concerns, lang))
    );
    // Arbeidsmiljøloven § 9-2 (2) a–c.
    article(
        &mut b,
        "aml-9-2-2-a",
        t(
            lang,
            "Formålet med kontrolltiltaket (arbeidsmiljøloven § 9-2 (2) a)",
            "The purpose of the measure (arbeidsmiljøloven § 9-2 (2) a)",
        ),
        &info.purpose,
    );
    article(
        &mut b,
        "aml-9-2-2-b",
        t(
            lang,
            "Praktiske konsekvenser og hvordan det gjennomføres (§ 9-2 (2) b)",
            "Practical consequences and how it is carried out (§ 9-2 (2) b)",
        ),
        &format!(
            "{} {}",
            info.practical_consequences.trim(),
            info.how_carried_out.trim()
        ),
    );
    article(
        &mut b,
        "aml-9-2-2-c",
        t(
            lang,
            "Antatt varighet (§ 9-2 (2) c)",
            "Expected duration (§ 9-2 (2) c)",
        ),
        &info.expected_duration,
    );
    // GDPR art. 13.
    article(
        &mut b,
        "art13-1-a",
        t(
            lang,
            "Behandlingsansvarlig (art. 13 nr. 1 a)",
            "Controller (art. 13(1)(a))",
        ),
        &info.controller,
    );
    let dpo = info.dpo_contact.clone().unwrap_or_else(|| {
        t(lang, "Virksomheten har ikke personvernombud. Spørsmål om personvern rettes til den behandlingsansvarlige ovenfor.", "The organisation has no data protection officer. Questions about privacy go to the controller above.").to_owned()
    });
    article(
        &mut b,
        "art13-1-b",
        t(
            lang,
            "Personvernombud (art. 13 nr. 1 b)",
            "Data protection officer (art. 13(1)(b))",
        ),
        &dpo,
    );
    article(
        &mut b,
        "art13-1-c",
        t(
            lang,
            "Formål og behandlingsgrunnlag (art. 13 nr. 1 c)",
            "Purposes and legal basis (art. 13(1)(c))",
        ),
        &format!("{} {}", info.purpose.trim(), info.legal_basis.trim()),
    );
    if m.legal_basis == LegalBasis::LegitimateInterests {
        let interest = d
            .balancing_test
            .as_ref()
            .map(|bt| bt.interest.clone())
            .unwrap_or_else(|| {
                t(
                    lang,
                    "Interesseavveiningen er ikke registrert ennå.",
                    "The balancing test is not recorded yet.",
                )
                .to_owned()
            });
        article(
            &mut b,
            "art13-1-d",
            t(
                lang,
                "Den berettigede interessen (art. 13 nr. 1 d)",
                "The legitimate interest pursued (art. 13(1)(d))",
            ),
            &interest,
        );
    }
    let mut recipients = info.access.trim().to_owned();
    let processors: Vec<&str> = d
        .processor_agreements
        .iter()
        .map(|a| a.processor.as_str())
        .collect();
    if !processors.is_empty() {
        let _ = write!(
            recipients,
            " {} {}.",
            t(lang, "Databehandlere:", "Processors:"),
            processors.join(", ")
        );
    }
    article(
        &mut b,
        "art13-1-e",
        t(
            lang,
            "Mottakere (art. 13 nr. 1 e)",
            "Recipients (art. 13(1)(e))",
        ),
        &recipients,
    );
    let transfers = info.transfers_abroad.clone().unwrap_or_else(|| {
        t(
            lang,
            "Ingen overføring til land utenfor EU/EØS er oppgitt.",
            "No transfer to countries outside the EU/EEA is stated.",
        )
        .to_owned()
    });
    article(
        &mut b,
        "art13-1-f",
        t(
            lang,
            "Overføring til land utenfor EU/EØS (art. 13 nr. 1 f)",
            "Transfers outside the EU/EEA (art. 13(1)(f))",
        ),
        &transfers,
    );
    let retention = retention_words(m, Some(info), lang);
    article(
        &mut b,
        "art13-2-a",
        t(
            lang,
            "Lagringstid (art. 13 nr. 2 a)",
            "Retention (art. 13(2)(a))",
        ),
        &retention,
    );
    // Rights: only those that apply to this basis, and only what the data store can honour.
    let driving_log = m.kind == MeasureKind::Vehicle(org::Purpose::DrivingLog);
    let mut rights: Vec<String> = vec![
        t(lang, "Innsyn i opplysningene om deg og i hvem som har sett dem (art. 15). I Sporvern ser du dem selv under «Mine data», og du kan laste ned alt.", "Access to the data about you and to who has looked at it (art. 15). In Sporvern you see it yourself under “My data”, and you can download all of it.").to_owned(),
        if driving_log {
            t(lang, "Retting (art. 16): dato, tid og kilometer i kjøreboken kan ikke endres (Skatteetaten krever det). En feil rettes med et tillegg som viser både det som ble registrert og rettelsen; klassifisering og formål kan du endre til måneden er signert.", "Rectification (art. 16): date, time and distance in the driving log cannot be edited (the tax authority requires it). An error is corrected by a supplement that shows both what was recorded and the correction; the classification and purpose you can change until the month is signed.").to_owned()
        } else {
            t(lang, "Retting av uriktige opplysninger (art. 16).", "Rectification of inaccurate data (art. 16).").to_owned()
        },
        if driving_log {
            t(lang, "Sletting (art. 17): kjøreboken må oppbevares til lagringstiden er ute (bokføringsloven § 13, art. 17 nr. 3 b); deretter slettes den av seg selv.", "Erasure (art. 17): the driving log must be kept until the retention period ends (bokføringsloven § 13, art. 17(3)(b)); then it is deleted by itself.").to_owned()
        } else {
            t(lang, "Sletting når opplysningene ikke lenger trengs for formålet (art. 17).", "Erasure when the data is no longer needed for the purpose (art. 17).").to_owned()
        },
        t(lang, "Begrensning av behandlingen mens en innsigelse eller en feil vurderes (art. 18).", "Restriction of processing while an objection or an error is looked into (art. 18).").to_owned(),
    ];
    if m.legal_basis == LegalBasis::LegitimateInterests {
        rights.push(t(lang, "Å protestere mot behandlingen på grunn av din særlige situasjon (art. 21).", "To object to the processing on grounds relating to your particular situation (art. 21).").to_owned());
    }
    if matches!(m.legal_basis, LegalBasis::Consent | LegalBasis::Contract) {
        rights.push(t(lang, "Dataportabilitet: å få opplysningene du har gitt, i et maskinlesbart format (art. 20).", "Data portability: to receive the data you provided in a machine-readable format (art. 20).").to_owned());
    }
    let _ = writeln!(
        b,
        "<section data-article=\"art13-2-b\">\n<h2>{}</h2>",
        t(
            lang,
            "Dine rettigheter (art. 13 nr. 2 b)",
            "Your rights (art. 13(2)(b))"
        )
    );
    list(&mut b, &rights);
    b.push_str("</section>\n");
    if m.legal_basis == LegalBasis::Consent {
        article(
            &mut b,
            "art13-2-c",
            t(
                lang,
                "Å trekke samtykket tilbake (art. 13 nr. 2 c)",
                "Withdrawing consent (art. 13(2)(c))",
            ),
            t(
                lang,
                "Du kan når som helst trekke samtykket tilbake, like enkelt som du ga det, ved å si fra til den behandlingsansvarlige. Det påvirker ikke behandlingen før du trakk det tilbake, og det får ingen følger for deg i arbeidsforholdet (art. 7 nr. 3).",
                "You may withdraw your consent at any time, as easily as you gave it, by telling the controller. It does not affect the processing before you withdrew it, and it has no consequences for you at work (art. 7(3)).",
            ),
        );
    }
    article(
        &mut b,
        "art13-2-d",
        t(
            lang,
            "Klage til Datatilsynet (art. 13 nr. 2 d)",
            "Complaint to Datatilsynet (art. 13(2)(d))",
        ),
        t(
            lang,
            "Du kan klage til Datatilsynet om du mener opplysningene behandles i strid med regelverket (art. 77): www.datatilsynet.no.",
            "You can complain to Datatilsynet, the Norwegian Data Protection Authority, if you think the data is processed unlawfully (art. 77): www.datatilsynet.no.",
        ),
    );
    article(
        &mut b,
        "art13-2-e",
        t(
            lang,
            "Må du gi opplysningene? (art. 13 nr. 2 e)",
            "Must you provide the data? (art. 13(2)(e))",
        ),
        t(
            lang,
            "Du gir ikke opplysningene selv: de registreres av tiltaket når du bruker utstyret eller kjøretøyet, slik det er beskrevet over.",
            "You do not provide the data yourself: the measure registers it when you use the equipment or vehicle, as described above.",
        ),
    );
    article(
        &mut b,
        "art13-2-f",
        t(
            lang,
            "Automatiserte avgjørelser (art. 13 nr. 2 f)",
            "Automated decisions (art. 13(2)(f))",
        ),
        t(
            lang,
            "Opplysningene brukes ikke til automatiserte avgjørelser eller profilering (art. 22).",
            "The data is not used for automated decisions or profiling (art. 22).",
        ),
    );
    let _ = writeln!(
        b,
        "<p>{} {}.</p>\n<p class=\"cite\">arbeidsmiljøloven § 9-2 (2) a–c; personvernforordningen art. 13</p>",
        t(lang, "Publisert", "Published"),
        info.published_on
    );
    if let Some(on) = p.acknowledged_on {
        let _ = writeln!(
            b,
            "<p role=\"status\"><strong>{} {on}.</strong></p>",
            t(
                lang,
                "Du bekreftet at du har lest informasjonen",
                "You acknowledged reading the information on"
            )
        );
    } else if let Some((action, csrf)) = &p.acknowledge {
        let _ = writeln!(
            b,
            "<form method=\"post\" action=\"{}\">\n<input type=\"hidden\" name=\"csrf\" value=\"{}\">\n<button type=\"submit\">{}</button>\n</form>",
            escape(action),
            escape(csrf),
            t(
                lang,
                "Jeg har lest informasjonen",
                "I have read the information"
            )
        );
    }
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

/// A draft DPIA (GDPR art. 35(7) a–d) from the measure and what is on record.
pub fn dpia_draft(e: &Entry, today: Date, lang: Lang) -> String {
    let m = &e.as_recorded(today);
    let d = &e.duties;
    let info = d.information.as_ref();
    let not_yet = t(lang, "[ikke registrert ennå]", "[not recorded yet]");
    let mut b = String::new();
    // (a) systematic description of the processing and its purposes.
    let purpose = info
        .map(|i| i.purpose.clone())
        .unwrap_or_else(|| not_yet.to_owned());
    let how = info
        .map(|i| {
            format!(
                "{} {}",
                i.how_carried_out.trim(),
                i.practical_consequences.trim()
            )
        })
        .unwrap_or_default();
    let mut description = format!(
        "{} {}: {}. {} {}. {} {}. {} {}. {} {}",
        t(lang, "Tiltaket er", "The measure is"),
        kind_label(m.kind, lang),
        m.name,
        t(lang, "Formål:", "Purpose:"),
        purpose.trim_end_matches('.'),
        t(lang, "Opplysninger som behandles:", "Data processed:"),
        fields_text(m, lang),
        t(lang, "De registrerte:", "Data subjects:"),
        concerns_text(&m.concerns, lang),
        t(lang, "Lagringstid:", "Retention:"),
        retention_words(m, info, lang)
    );
    if !how.trim().is_empty() {
        let _ = write!(description, " {how}");
    }
    article(
        &mut b,
        "art35-7-a",
        t(
            lang,
            "Systematisk beskrivelse av behandlingen og formålene (art. 35 nr. 7 a)",
            "Systematic description of the processing and its purposes (art. 35(7)(a))",
        ),
        &description,
    );
    // (b) necessity and proportionality.
    let necessity = match &d.balancing_test {
        Some(bt) => format!(
            "{} {} {} {} {} {} ({} {})",
            t(lang, "Interessen:", "The interest:"),
            bt.interest.trim(),
            t(
                lang,
                "Hvorfor tiltaket er nødvendig:",
                "Why the measure is necessary:"
            ),
            bt.necessity.trim(),
            t(lang, "De ansattes side:", "The employees' side:"),
            bt.employees_side.trim(),
            bt.outcome.trim(),
            bt.decided_on
        ),
        None => format!(
            "{} {}",
            t(
                lang,
                "Interesseavveiningen er ikke registrert.",
                "The balancing test is not recorded."
            ),
            not_yet
        ),
    };
    article(
        &mut b,
        "art35-7-b",
        t(
            lang,
            "Nødvendighet og forholdsmessighet (art. 35 nr. 7 b)",
            "Necessity and proportionality (art. 35(7)(b))",
        ),
        &format!(
            "{necessity} {} {}.",
            t(
                lang,
                "Vurderingen i registeret:",
                "The register's assessment:"
            ),
            verdict_label(m.assessment.verdict(), lang)
        ),
    );
    // (c) the risks to the employees' rights and freedoms.
    let _ = writeln!(
        b,
        "<section data-article=\"art35-7-c\">\n<h2>{}</h2>\n<div class=\"table\" tabindex=\"0\"><table>\n<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t(
            lang,
            "Risiko for de ansattes rettigheter og friheter (art. 35 nr. 7 c)",
            "Risks to the employees' rights and freedoms (art. 35(7)(c))"
        ),
        t(lang, "Risiko", "Risk"),
        t(lang, "Sannsynlighet", "Likelihood"),
        t(lang, "Konsekvens", "Consequence"),
        t(lang, "Tiltak som reduserer den", "What reduces it")
    );
    let sensor = m
        .fields()
        .iter()
        .any(|f| !matches!(f.as_str(), "position" | "time" | "odometer" | "driver_id"));
    // (risk, likelihood, consequence, what reduces it), each in bokmål and English.
    type Pair = (&'static str, &'static str);
    let more = if sensor {
        ("middels", "medium")
    } else {
        ("lav", "low")
    };
    let rows: [(Pair, Pair, Pair, Pair); 4] = [
        (
            (
                "Opplysningene brukes til noe annet enn formålet, for eksempel kontroll av arbeidstid",
                "The data is used for something other than its purpose, such as checking working hours",
            ),
            ("lav", "low"),
            ("høy", "high"),
            (
                "Lesing bare for oppgitt formål og rolle; uforenlig bruk avvises og logges.",
                "Reads only for a stated purpose and role; incompatible use is refused and logged.",
            ),
        ),
        (
            ("Uvedkommende får tilgang", "Unauthorised access"),
            ("lav", "low"),
            ("høy", "high"),
            (
                "Tilgang per rolle, innlogging, revisjonslogg, kort mellomlagring.",
                "Access per role, login, audit ledger, short staging.",
            ),
        ),
        (
            (
                "Det samles inn mer enn nødvendig",
                "More is collected than necessary",
            ),
            more,
            ("middels", "medium"),
            (
                "Opplysninger formålet ikke trenger, forkastes ved mottak.",
                "Data the purpose does not need is dropped on arrival.",
            ),
        ),
        (
            (
                "De ansatte føler seg overvåket, også i private ærend",
                "Employees feel watched, also on private errands",
            ),
            ("middels", "medium"),
            ("middels", "medium"),
            (
                "Privatmodus, ingen historikk i kartet, informasjon og drøfting med de tillitsvalgte.",
                "Privacy mode, no history on the map, information and discussion with the representatives.",
            ),
        ),
    ];
    for (risk, likelihood, consequence, reduces) in rows {
        let w = |p: Pair| t(lang, p.0, p.1);
        let _ = writeln!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(w(risk)),
            w(likelihood),
            w(consequence),
            escape(w(reduces))
        );
    }
    b.push_str("</table></div>\n");
    let residual = d
        .dpia
        .as_ref()
        .and_then(|x| x.residual_risk)
        .map(|r| match r {
            crate::duties::RiskLevel::Low => t(lang, "lav", "low"),
            crate::duties::RiskLevel::Medium => t(lang, "middels", "medium"),
            crate::duties::RiskLevel::High => t(
                lang,
                "høy: Datatilsynet skal konsulteres før behandlingen starter (art. 36)",
                "high: Datatilsynet must be consulted before processing starts (art. 36)",
            ),
        })
        .unwrap_or(not_yet);
    let _ = writeln!(
        b,
        "<p>{} {}.</p>\n</section>",
        t(
            lang,
            "Restrisiko etter tiltakene:",
            "Residual risk after the measures:"
        ),
        escape(residual)
    );
    // (d) the measures envisaged to address the risks.
    let _ = writeln!(
        b,
        "<section data-article=\"art35-7-d\">\n<h2>{}</h2>",
        t(
            lang,
            "Tiltak for å håndtere risikoen (art. 35 nr. 7 d)",
            "Measures to address the risks (art. 35(7)(d))"
        )
    );
    list(&mut b, &safeguards(m, lang));
    b.push_str("</section>\n");
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
        None => (not_yet.to_owned(), not_yet.to_owned()),
    };
    article(
        &mut b,
        "art35-9",
        t(
            lang,
            "De ansattes eller deres representanters synspunkter (art. 35 nr. 9)",
            "The views of the employees or their representatives (art. 35(9))",
        ),
        &views,
    );
    article(
        &mut b,
        "art35-2",
        t(
            lang,
            "Råd fra personvernombudet (art. 35 nr. 2)",
            "Advice of the data protection officer (art. 35(2))",
        ),
        &dpo,
    );
    page(
        lang,
        &format!(
            "{}: {}",
            t(
                lang,
                "Utkast til vurdering av personvernkonsekvenser (DPIA)",
                "Draft data protection impact assessment (DPIA)"
            ),
            m.name
        ),
        &b,
    )
}

/// The record of processing activities (GDPR art. 30(1) a–g): one row per measure, a column
/// per letter.
pub fn records_of_processing(o: &org::Org, reg: &Register, today: Date, lang: Lang) -> String {
    let mut b = String::new();
    let controller = format!(
        "{}{}",
        o.organisation.name,
        o.organisation
            .org_number
            .as_ref()
            .map(|n| format!(", {} {n}", t(lang, "org.nr.", "org. no.")))
            .unwrap_or_default()
    );
    let _ = writeln!(
        b,
        "<div class=\"table\" tabindex=\"0\"><table>\n<tr><th data-article=\"art30-1-a\">{}</th><th data-article=\"art30-1-b\">{}</th><th data-article=\"art30-1-c\">{}</th><th data-article=\"art30-1-d\">{}</th><th data-article=\"art30-1-e\">{}</th><th data-article=\"art30-1-f\">{}</th><th data-article=\"art30-1-g\">{}</th></tr>",
        t(
            lang,
            "a) Behandlingsansvarlig og kontakt",
            "a) Controller and contact"
        ),
        t(lang, "b) Formål", "b) Purposes"),
        t(
            lang,
            "c) Registrerte og opplysninger",
            "c) Data subjects and personal data"
        ),
        t(lang, "d) Mottakere", "d) Recipients"),
        t(
            lang,
            "e) Overføring utenfor EU/EØS",
            "e) Transfers outside the EU/EEA"
        ),
        t(lang, "f) Slettefrister", "f) Time limits for erasure"),
        t(lang, "g) Sikkerhetstiltak", "g) Security measures"),
    );
    for e in reg.entries.iter().filter(|e| !e.retired) {
        let m = &e.as_recorded(today);
        let info = e.duties.information.as_ref();
        let contact = info
            .map(|i| i.controller.clone())
            .unwrap_or_else(|| controller.clone());
        let contact = match info.and_then(|i| i.dpo_contact.as_deref()) {
            Some(dpo) => format!("{contact}; {} {dpo}", t(lang, "personvernombud:", "DPO:")),
            None => contact,
        };
        let purpose = format!(
            "{} ({}){}",
            m.name,
            kind_label(m.kind, lang),
            info.map(|i| format!(": {}", i.purpose.trim()))
                .unwrap_or_default()
        );
        let subjects = format!(
            "{}. {}",
            concerns_text(&m.concerns, lang),
            fields_text(m, lang)
        );
        let mut recipients = info
            .map(|i| i.access.trim().to_owned())
            .unwrap_or_else(|| t(lang, "ikke angitt", "not stated").to_owned());
        let processors: Vec<&str> = e
            .duties
            .processor_agreements
            .iter()
            .map(|a| a.processor.as_str())
            .collect();
        if !processors.is_empty() {
            let _ = write!(
                recipients,
                "; {} {}",
                t(lang, "databehandlere:", "processors:"),
                processors.join(", ")
            );
        }
        let transfers = info
            .and_then(|i| i.transfers_abroad.clone())
            .unwrap_or_else(|| t(lang, "ingen oppgitt", "none stated").to_owned());
        let security = safeguards(m, lang).join(" ");
        let _ = writeln!(
            b,
            "<tr><td>{}</td><td>{}<br><small>{} {}</small></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&contact),
            escape(&purpose),
            t(lang, "Vurdering:", "Assessment:"),
            escape(verdict_label(m.assessment.verdict(), lang)),
            escape(&subjects),
            escape(&recipients),
            escape(&transfers),
            escape(&retention_words(m, info, lang)),
            escape(&security)
        );
    }
    b.push_str("</table></div>\n");
    if let Some(g) = reg.security.goals_and_strategy(today) {
        let _ = writeln!(
            b,
            "<p>{} {}</p>",
            t(
                lang,
                "Sikkerhetsmål og strategi:",
                "Security goals and strategy:"
            ),
            escape(&g.text)
        );
    }
    let _ = writeln!(
        b,
        "<p>{}: {} {}.</p>\n<p class=\"cite\">personvernforordningen art. 30 nr. 1 a–g</p>",
        t(lang, "Registrert", "Registered"),
        o.vehicles.len(),
        t(lang, "kjøretøy", "vehicles"),
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
pub fn discussion_agenda(e: &Entry, today: Date, lang: Lang) -> String {
    let m = &e.as_recorded(today);
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<p class=\"cite\">arbeidsmiljøloven § 9-2 (1): {}</p>",
        t(
            lang,
            "drøfting så tidlig som mulig av behov, utforming, gjennomføring og vesentlig endring av kontrolltiltak",
            "discussion as early as possible of the need, design, implementation and significant change of control measures"
        )
    );
    let items: Vec<String> = [
        t(lang, "Behovet for tiltaket", "The need for the measure"),
        t(lang, "Utformingen: hvilke opplysninger, hvem får tilgang, lagringstid", "The design: what data, who has access, retention"),
        t(lang, "Gjennomføringen og informasjonen til de ansatte (§ 9-2 (2))", "Implementation and the information to employees (§ 9-2 (2))"),
        t(lang, "Vesentlige endringer i tiltaket siden sist det ble drøftet (§ 9-2 (1)): nye opplysninger, nye formål, ny tilgang, lengre lagring", "Significant changes to the measure since it was last discussed (§ 9-2 (1)): new data, new purposes, new access, longer retention"),
        t(lang, "De ansattes synspunkter til vurderingen av personvernkonsekvenser (personvernforordningen art. 35 nr. 9)", "The employees' views for the data protection impact assessment (GDPR art. 35(9))"),
        t(lang, "Evaluering: når og hvordan (§ 9-2 (3))", "Evaluation: when and how (§ 9-2 (3))"),
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
            "{}. {}",
            verdict_label(verdict, lang),
            assess::verdict(verdict).map(|e| e.text(lang)).unwrap_or("")
        ),
    );
    let _ = writeln!(b, "<h2>{}</h2>", t(lang, "Plikter", "Duties"));
    let duties: Vec<String> = m
        .assessment
        .duties()
        .iter()
        .filter_map(|c| assess::rule(*c))
        .map(|e| format!("{} ({})", e.text(lang), e.citation))
        .collect();
    list(&mut b, &duties);
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
            "Til stede med tillitsvalgt (§ 4 (2))",
            "Present with a representative (§ 4 (2))",
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
