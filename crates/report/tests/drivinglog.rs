//! The driving log PDF, checked structurally (the bytes are read back without a PDF library)
//! and, where poppler's `pdftotext` is installed, by a real PDF reader's text extraction.

mod fixture;

use fixture::{
    business, contains, deviations, extras, find, month, page_count, readings, report, streams,
    xref,
};
use report::{Lang, driving_log_pdf};

fn sample(lang: Lang) -> Vec<u8> {
    let (entries, devs, reads, x) = (month(), deviations(), readings(), extras());
    driving_log_pdf(&report(&entries, &devs, &reads, &x), lang)
}

fn all_text(pdf: &[u8]) -> Vec<u8> {
    streams(pdf).concat()
}

#[test]
fn header_and_trailer() {
    let pdf = sample(Lang::Nb);
    assert!(pdf.starts_with(b"%PDF-1.4\n"));
    assert!(pdf.ends_with(b"%%EOF\n"));
    assert!(contains(&pdf, b"/Type /Catalog /Pages 2 0 R"));
    for font in ["Helvetica", "Helvetica-Bold"] {
        let dict =
            format!("/Type /Font /Subtype /Type1 /BaseFont /{font} /Encoding /WinAnsiEncoding");
        assert!(contains(&pdf, dict.as_bytes()), "{font}");
    }
}

#[test]
fn every_xref_entry_points_at_its_object() {
    for pdf in [
        sample(Lang::Nb),
        sample(Lang::En),
        many_trips(200, Lang::Nb),
    ] {
        let entries = xref(&pdf);
        assert!(entries.len() >= 7);
        for (n, offset) in entries {
            let at = &pdf[offset..];
            assert!(
                at.starts_with(format!("{n} 0 obj\n").as_bytes()),
                "object {n} at {offset}: {:?}",
                String::from_utf8_lossy(&at[..at.len().min(20)])
            );
            let end = find(at, b"endobj").expect("endobj");
            let header = format!("{n} 0 obj\n").len();
            assert!(
                !at[header..end].windows(4).any(|w| w == b" obj"),
                "object {n} holds one object"
            );
        }
    }
}

#[test]
fn streams_match_their_lengths_and_pages() {
    let pdf = sample(Lang::Nb);
    let s = streams(&pdf);
    assert_eq!(s.len(), page_count(&pdf));
    assert!(
        s.len() <= 2,
        "the sample month fits two pages, got {}",
        s.len()
    );
}

#[test]
fn text_is_winansi_in_the_content_streams() {
    let text = all_text(&sample(Lang::Nb));
    // Raw WinAnsi bytes, written out.
    for needle in [
        &b"(Lager Alnabru)"[..],
        b"(Levering til T\xf8yen Bygg)",
        b"(Elektronisk kj\xf8rebok)",
        b"(R\xf8rlegger \xc6rlig & S\xf8nner AS)",
    ] {
        assert!(
            contains(&text, needle),
            "missing {:?}",
            String::from_utf8_lossy(needle)
        );
    }
    for s in [
        "Tøyen Bygg AS, Hagegata 23",
        "987 654 321",
        "EL 12345 (varebil)",
        "Åse Kjærstad-Øvrebø, ansattnr. E-1042",
        "Yrke",
        "Ikke klassifisert",
        "Privat",
        "Sjåfør",
        "Formål / kunde / sted",
        "Stedsnavn: GeoNames (geonames.org), CC BY 4.0",
    ] {
        assert!(has(&text, s), "missing {s}");
    }
    // No UTF-8 sequences leak into the streams.
    assert!(!contains(&text, "ø".as_bytes()));
    assert!(!contains(&text, "å".as_bytes()));
    // The gazetteer credit is in the document's language.
    assert!(!contains(&text, b"Place names"));
}

#[test]
fn generated_in_norwegian_time_not_utc() {
    let text = all_text(&sample(Lang::Nb));
    // Generated 08:00 UTC on 1 December = 09:00 CET.
    assert!(has(&text, "01.12.2026 kl. 09:00 (norsk tid)"));
    assert!(!contains(&text, b"2026-12-01T08:00"));
    assert!(!contains(&text, b"08:00:00Z"));
}

#[test]
fn times_are_local_and_numbers_norwegian() {
    let text = all_text(&sample(Lang::Nb));
    // Trip 0 starts 06:13 UTC on 2 November = 07:13 CET, lasts 42 minutes.
    assert!(contains(&text, b"(07:13)"));
    assert!(contains(&text, b"(07:55)"));
    assert!(contains(&text, b"(02.11.2026)"));
    assert!(contains(&text, b"(48 000,0)"));
    assert!(contains(&text, b"(48 023,5)"));
    // The distance source is named per trip, and a track-measured trip is explained.
    assert!(has(&text, "Kilometerteller"));
    assert!(has(&text, "GPS-spor"));
    assert!(has(&text, "Distansekilde «GPS-spor»: km er målt langs"));
}

#[test]
fn the_driver_is_named_with_the_employee_number() {
    let text = all_text(&sample(Lang::Nb));
    // In the trip table the column wraps; the name and the number are both there.
    assert!(has(&text, "Åse Kjærstad-Øvrebø (E-1042)"));
}

#[test]
fn private_trips_show_no_place_time_or_driver() {
    let pdf = sample(Lang::Nb);
    let text = all_text(&pdf);
    for secret in [
        "Hemmelig Hjemmeadresse",
        "Legesenteret Privatklinikk",
        "E-PRIVATSJ",
        "04:17",
        "04:59",
        "51 111,1",
        "51 133,3",
    ] {
        let enc = report::pdf::encode_winansi(secret);
        assert!(!contains(&text, &enc), "{secret} leaked into the PDF");
        assert!(!contains(&pdf, &enc), "{secret} leaked into the file");
    }
    // Their date and km do show, and the km count in the totals.
    assert!(contains(&text, b"(17,3)"));
    assert!(contains(&text, b"(22,2)"));
    assert!(contains(&text, b"(39,5)"), "private km total 17.3 + 22.2");
}

#[test]
fn totals_readings_deviations_signatures_and_footer() {
    let text = all_text(&sample(Lang::Nb));
    // Business: trips 0, 1, 5 of 23.5 km; unclassified: trip 2.
    assert!(has(&text, "Sum per type"));
    assert!(contains(&text, b"(70,5)"));
    assert!(contains(&text, b"(Totalt)"));
    // 70.5 + 23.5 + 39.5 = 133.5 km in 6 trips.
    assert!(contains(&text, b"(133,5)"));
    assert!(contains(&text, b"(6)"));
    assert!(has(&text, "Månedlig avlesning av kilometerteller"));
    // The readings carry the date they were read, not a month end.
    assert!(contains(&text, b"(49 310,4)"));
    assert!(has(&text, "27.11.2026"));
    // An odometer deviation shows both readings.
    assert!(has(&text, "10 091,8 / 10 000,5"));
    assert!(has(&text, "november 2026"));
    assert!(contains(&text, b"(1 360,4)"), "km since previous reading");
    // Deviations in words, with start and end.
    assert!(has(
        &text,
        "Enheten var uten forbindelse mens kjøretøyet var i bevegelse"
    ));
    assert!(has(&text, "Kilometertelleren gikk bakover"));
    assert!(!contains(&text, b"device_silent"));
    assert!(!contains(&text, b"odometer_backwards"));
    assert!(has(&text, "04.11.2026 kl. 10:00"));
    assert!(has(&text, "04.11.2026 kl. 10:15"));
    assert!(has(&text, "Enheten mistet strøm (sikring)"));
    assert!(contains(&text, b"(7,2)"));
    assert!(has(&text, "Avvik per type"));
    // Signatures: who, role, when, what they confirmed.
    assert!(has(&text, "Signaturer"));
    assert!(has(&text, "Kjørebokfører"));
    assert!(has(&text, "Bjørn Bokholder (E-2001)"));
    assert!(has(&text, "01.12.2026 kl. 09:05"));
    assert!(has(&text, "01.12.2026 kl. 10:30"));
    assert!(has(&text, "Bekrefter at turene i"));
    assert!(has(&text, "signert av sjåfør og kjørebokfører"));
    // What the log cannot do, in full on the first page and short on every page.
    assert!(contains(
        &text,
        b"(Registrert distanse, dato og klokkeslett kan ikke endres eller slettes.)"
    ));
    assert!(has(&text, "Om kjøreboken: Turene registreres automatisk"));
    assert!(contains(&text, b"(Side 1 av "));
}

#[test]
fn english() {
    let text = all_text(&sample(Lang::En));
    for s in [
        "Electronic driving log",
        "Page 1 of ",
        "Business",
        "Private",
        "Unclassified",
        "2026-11-02",
        "48,000.0",
        "The device was out of contact while the vehicle was moving",
        "Recorded distance, date and time cannot be changed",
        "Place names: GeoNames",
        "Log keeper",
        "2026-12-01 09:00 (Norwegian time)",
    ] {
        assert!(has(&text, s), "missing {s}");
    }
}

fn many_trips(n: i64, lang: Lang) -> Vec<u8> {
    let entries: Vec<_> = (0..n).map(|i| business(i, "Kundebesøk")).collect();
    let (devs, reads, x) = (deviations(), readings(), extras());
    driving_log_pdf(&report(&entries, &devs, &reads, &x), lang)
}

#[test]
fn two_hundred_trips_span_pages_numbered_n_of_m() {
    let pdf = many_trips(200, Lang::Nb);
    let pages = page_count(&pdf);
    assert!(pages >= 4, "200 rows need several pages, got {pages}");
    let s = streams(&pdf);
    assert_eq!(s.len(), pages);
    for (i, stream) in s.iter().enumerate() {
        let label = format!("(Side {} av {pages})", i + 1);
        assert!(
            contains(stream, label.as_bytes()),
            "page {} lacks {label}",
            i + 1
        );
        // The table header repeats on every page that holds trip rows.
        if contains(stream, b"(Kundebes\xf8k)") {
            assert!(contains(stream, b"(Km-stand)"), "header on page {}", i + 1);
        }
    }
    // Every trip is there exactly once: trip i ends at odometer 48 023.5 + 23.5 i.
    let text = s.concat();
    let rows = text
        .windows(b"(Kundebes\xf8k)".len())
        .filter(|w| w == b"(Kundebes\xf8k)")
        .count();
    assert_eq!(rows, 200);
    assert!(contains(&text, b"(52 700,0)"), "last trip's odometer end");
    assert!(contains(&text, b"(4 700,0)"), "total km");
    assert!(contains(&text, b"(200)"), "trip count");
}

#[test]
fn empty_log_still_makes_a_valid_pdf() {
    let x = extras();
    let pdf = driving_log_pdf(&report(&[], &[], &[], &x), Lang::Nb);
    assert!(pdf.starts_with(b"%PDF-1.4") && pdf.ends_with(b"%%EOF\n"));
    assert_eq!(page_count(&pdf), 1);
    let text = all_text(&pdf);
    assert!(has(&text, "Ingen turer registrert i perioden."));
    assert!(has(&text, "Ingen avvik registrert i perioden."));
    assert!(has(
        &text,
        "Ingen avlesning fra kjøretøyets kilometerteller"
    ));
    for (n, offset) in xref(&pdf) {
        assert!(pdf[offset..].starts_with(format!("{n} 0 obj").as_bytes()));
    }
}

/// A purpose of 120 characters, as a real one reads.
const PURPOSE_120: &str = "Service varmtvannsbereder hos Lillestrøm Sykehjem (Storgata 12), avtale 2026-114, ordre 5521-B for Ærø Øvrebø og Åsen AS";

#[test]
fn long_text_wraps_and_is_never_cut() {
    assert_eq!(PURPOSE_120.chars().count(), 120);
    let place = "Kunde: Lillestrøm Sykehjem (Sykehjemsveien 14, inngang B, varelevering bak)";
    let mut entries = vec![business(0, PURPOSE_120)];
    if let domain::drivinglog::LogEntry::Trip(t) = &mut entries[0] {
        t.end_place = place.into();
    }
    let x = extras();
    let pdf = driving_log_pdf(&report(&entries, &[], &[], &x), Lang::Nb);
    let text = all_text(&pdf);
    assert!(!contains(&text, b"\x85) Tj"), "no cell ends in an ellipsis");
    // Every word is there, in order, spread over the cell's lines.
    let shown = shown_strings(&text).join(" ");
    for needle in [PURPOSE_120, place] {
        let words: Vec<String> = needle.split(" ").map(winansi).collect();
        let joined = words.join(" ");
        assert!(shown.contains(&joined), "{needle} is not there in full");
    }
}

/// Whether the page text shows `s`, also when it wraps over several lines of a cell.
fn has(text: &[u8], s: &str) -> bool {
    shown_strings(text).join(" ").contains(&winansi(s))
}

fn winansi(s: &str) -> String {
    report::pdf::encode_winansi(s)
        .iter()
        .map(|&b| char::from(b))
        .collect()
}

/// The strings the content streams show, in order, unescaped, as Latin-1 characters.
fn shown_strings(text: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(start) = find(&text[i..], b"Td\n(").or_else(|| find(&text[i..], b"Td (")) {
        let mut j = i + start + 4;
        let mut s = String::new();
        while j < text.len() && text[j] != b')' {
            if text[j] == b'\\' {
                j += 1;
            }
            s.push(char::from(text[j]));
            j += 1;
        }
        out.push(s);
        i = j;
    }
    out
}

#[test]
fn unencodable_characters_become_question_marks() {
    let entries = vec![business(0, "Møte i Kraków 🚗")];
    let x = extras();
    let pdf = driving_log_pdf(&report(&entries, &[], &[], &x), Lang::Nb);
    assert!(contains(&all_text(&pdf), b"(M\xf8te i Krak\xf3w ?)"));
}

/// Runs poppler's `pdftotext` on `pdf` (`-raw`: content-stream order, so a wrapped cell's lines
/// stay together), or says why it cannot.
fn pdftotext(pdf: &[u8], name: &str) -> Option<String> {
    if std::process::Command::new("pdftotext")
        .arg("-v")
        .output()
        .is_err()
    {
        println!(
            "SKIPPED {name}: pdftotext (poppler-utils) is not installed; scripts/setup.sh installs it"
        );
        return None;
    }
    let dir = std::env::temp_dir().join(format!("report-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("log.pdf");
    std::fs::write(&file, pdf).expect("write pdf");
    let out = std::process::Command::new("pdftotext")
        .args(["-raw", "-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("run pdftotext");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "pdftotext: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("utf-8 text"))
}

/// Whitespace (line breaks from wrapping included) as single spaces.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A real PDF reader finds what an auditor looks for: the signatures, the full 120-character
/// purpose, the driver's name and the deviations in words.
#[test]
fn pdftotext_finds_what_an_auditor_looks_for() {
    let mut entries = month();
    entries.insert(0, business(7, PURPOSE_120));
    let (devs, reads, x) = (deviations(), readings(), extras());
    let pdf = driving_log_pdf(&report(&entries, &devs, &reads, &x), Lang::Nb);
    let Some(text) = pdftotext(&pdf, "auditor") else {
        return;
    };
    let flat = squash(&text);
    for needle in [
        PURPOSE_120,
        "Åse Kjærstad-Øvrebø, ansattnr. E-1042",
        "Signaturer",
        "Bjørn Bokholder (E-2001)",
        "01.12.2026 kl. 09:05",
        "01.12.2026 kl. 10:30",
        "Bekrefter at kjøreboken for måneden er kontrollert",
        "Enheten var uten forbindelse mens kjøretøyet var i bevegelse",
        "Kilometertelleren gikk bakover",
        "Rørlegger Ærlig & Sønner AS",
        "01.12.2026 kl. 09:00 (norsk tid)",
        "Registrert distanse, dato og klokkeslett kan ikke endres eller slettes.",
        "Stedsnavn: GeoNames (geonames.org), CC BY 4.0",
    ] {
        assert!(flat.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!flat.contains("device_silent"));
    let pages = page_count(&pdf);
    assert!(flat.contains(&format!("Side 1 av {pages}")), "{flat}");
}

#[test]
fn pdftotext_reads_every_page_of_a_long_log() {
    let pdf = many_trips(200, Lang::Nb);
    let Some(text) = pdftotext(&pdf, "long") else {
        return;
    };
    assert!(text.contains("Elektronisk kjørebok"));
    assert!(text.contains("Tøyen Bygg AS"));
    assert_eq!(text.matches("Kundebesøk").count(), 200);
    let pages = page_count(&pdf);
    assert!(text.contains(&format!("Side 1 av {pages}")));
    assert!(text.contains(&format!("Side {pages} av {pages}")));
}

/// A corrected driver shows beside the trip, and the recorded one stays in the supplements;
/// a month the keeper sent back shows the comment and is not signed by the keeper.
#[test]
fn supplements_and_a_returned_month() {
    let entries = month();
    let (devs, reads) = (deviations(), readings());
    let mut x = extras();
    x.drivers.push(report::Person {
        number: "E-2001".into(),
        name: "Bjørn Bokholder".into(),
    });
    x.supplements.push(report::Supplement {
        trip: 1,
        recorded: Some("E-1042".into()),
        driver: "E-2001".into(),
        reason: "Byttet bil med Åse den dagen".into(),
        by: "bokholder".into(),
        // 2026-11-20 12:00 UTC = 13:00 CET.
        at: domain::Timestamp::from_secs(1_795_176_000),
    });
    let mut returned = x.signatures[1].clone();
    returned.returned = Some("Tur 2 mangler formål".into());
    let mut again = x.signatures[0].clone();
    again.at = domain::Timestamp::from_secs(returned.at.millis() / 1000 + 600);
    x.signatures = vec![x.signatures[0].clone(), returned, again];
    let pdf = driving_log_pdf(&report(&entries, &devs, &reads, &x), Lang::Nb);
    let text = all_text(&pdf);
    for s in [
        "Tillegg: rettet sjåfør",
        "Bjørn Bokholder (E-2001) (rettet, se tillegg)",
        "Åse Kjærstad-Øvrebø (E-1042)",
        "Byttet bil med Åse den dagen",
        "20.11.2026 kl. 13:00",
        "Sendte måneden tilbake til sjåføren: «Tur 2 mangler formål»",
        "signert av sjåføren, venter på kjørebokføreren",
    ] {
        assert!(has(&text, s), "missing {s}");
    }
    assert!(!has(&text, "signert av sjåfør og kjørebokfører"));
}
