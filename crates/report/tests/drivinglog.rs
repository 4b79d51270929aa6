//! The driving log PDF, checked structurally: the bytes are read back without a PDF library.

mod fixture;

use fixture::{
    business, contains, deviations, find, month, page_count, pdf_string, readings, report, streams,
    xref,
};
use report::{Lang, driving_log_pdf};

fn sample(lang: Lang) -> Vec<u8> {
    let (entries, devs, reads) = (month(), deviations(), readings());
    driving_log_pdf(&report(&entries, &devs, &reads), lang)
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
    assert_eq!(s.len(), 1, "the sample month fits one page");
}

#[test]
fn text_is_winansi_in_the_content_streams() {
    let text = all_text(&sample(Lang::Nb));
    // Raw WinAnsi bytes, written out.
    for needle in [
        &b"(Lager Alnabru)"[..],
        b"(T\xf8yen Bygg AS, Hagegata 23)",
        b"(Levering til T\xf8yen Bygg)",
        b"(Kunde: \xd8deg\xe5rd & S\xf8nn \\(\xc5s\\))",
        b"(Elektronisk kj\xf8rebok)",
        b"(R\xf8rlegger \xc6rlig & S\xf8nner AS)",
        b"(Side 1 av 1)",
    ] {
        assert!(
            contains(&text, needle),
            "missing {:?}",
            String::from_utf8_lossy(needle)
        );
    }
    for s in [
        "987 654 321",
        "EL 12345 (varebil)",
        "2026-12-01 08:00",
        "E-1042",
        "Yrke",
        "Ikke klassifisert",
        "Privat",
        "Sjåfør",
        "Formål / kunde / sted",
        "Stedsnavn: GeoNames (geonames.org), CC BY 4.0",
    ] {
        assert!(contains(&text, &pdf_string(s)), "missing {s}");
    }
    // No UTF-8 sequences leak into the streams.
    assert!(!contains(&text, "ø".as_bytes()));
    assert!(!contains(&text, "å".as_bytes()));
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
    // A track-measured trip is marked and explained.
    assert!(contains(&text, b"(23,5*)"));
    assert!(contains(
        &text,
        &pdf_string("* Km beregnet fra GPS-sporet fordi kilometertelleren ikke var tilgjengelig.")
    ));
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
    assert!(contains(&text, b"(Privat kj\xf8ring)"));
    assert!(contains(&text, b"(39,5)"), "private km total 17.3 + 22.2");
}

#[test]
fn totals_readings_deviations_and_footer() {
    let text = all_text(&sample(Lang::Nb));
    // Business: trips 0, 1, 5 of 23.5 km; unclassified: trip 2.
    assert!(contains(&text, b"(70,5)"));
    assert!(contains(&text, b"(Totalt)"));
    // 70.5 + 23.5 + 39.5 = 133.5 km in 6 trips.
    assert!(contains(&text, b"(133,5)"));
    assert!(contains(&text, b"(6)"));
    assert!(contains(
        &text,
        &pdf_string("Månedlig avlesning av kilometerteller")
    ));
    assert!(contains(&text, b"(49 310,4)"));
    assert!(contains(&text, b"(1 360,4)"), "km since previous reading");
    assert!(contains(
        &text,
        &pdf_string("Enheten var stille under kjøring")
    ));
    assert!(contains(
        &text,
        &pdf_string("Enheten mistet strøm (sikring)")
    ));
    assert!(contains(&text, b"(7,2)"));
    assert!(contains(
        &text,
        b"(Registrert distanse, dato og klokkeslett kan ikke endres"
    ));
}

#[test]
fn english() {
    let text = all_text(&sample(Lang::En));
    for s in [
        "Electronic driving log",
        "Page 1 of 1",
        "Business",
        "Private",
        "Unclassified",
        "2026-11-02",
        "48,000.0",
        "Device silent while moving",
        "Recorded distance, date and time cannot be changed",
    ] {
        assert!(
            contains(&text, report::pdf::encode_winansi(s).as_slice()),
            "missing {s}"
        );
    }
}

fn many_trips(n: i64, lang: Lang) -> Vec<u8> {
    let entries: Vec<_> = (0..n).map(|i| business(i, "Kundebesøk")).collect();
    let (devs, reads) = (deviations(), readings());
    driving_log_pdf(&report(&entries, &devs, &reads), lang)
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
    let pdf = driving_log_pdf(&report(&[], &[], &[]), Lang::Nb);
    assert!(pdf.starts_with(b"%PDF-1.4") && pdf.ends_with(b"%%EOF\n"));
    assert_eq!(page_count(&pdf), 1);
    let text = all_text(&pdf);
    assert!(contains(
        &text,
        &pdf_string("Ingen turer registrert i perioden.")
    ));
    assert!(contains(
        &text,
        &pdf_string("Ingen avvik registrert i perioden.")
    ));
    assert!(!contains(
        &text,
        &pdf_string("Månedlig avlesning av kilometerteller")
    ));
    for (n, offset) in xref(&pdf) {
        assert!(pdf[offset..].starts_with(format!("{n} 0 obj").as_bytes()));
    }
}

#[test]
fn long_text_is_truncated_not_overflowing() {
    let long = "Et svært langt formål som aldri får plass i kolonnen, med både æ, ø og å";
    let entries = vec![business(0, long)];
    let pdf = driving_log_pdf(&report(&entries, &[], &[]), Lang::Nb);
    let text = all_text(&pdf);
    assert!(!contains(&text, &pdf_string(long)));
    assert!(contains(&text, b"\x85) Tj"), "an ellipsis ends the cell");
}

#[test]
fn unencodable_characters_become_question_marks() {
    let entries = vec![business(0, "Møte i Kraków 🚗")];
    let pdf = driving_log_pdf(&report(&entries, &[], &[]), Lang::Nb);
    assert!(contains(&all_text(&pdf), b"(M\xf8te i Krak\xf3w ?)"));
}

/// Extra check with poppler's `pdftotext`, when it is installed. The structural tests above are
/// the proof; this one confirms a real PDF reader agrees.
#[test]
fn pdftotext_reads_it_back() {
    let probe = std::process::Command::new("pdftotext").arg("-v").output();
    if probe.is_err() {
        println!("skipped: pdftotext (poppler-utils) is not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("report-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("log.pdf");
    std::fs::write(&file, many_trips(200, Lang::Nb)).expect("write pdf");
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("run pdftotext");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8 text");
    assert!(text.contains("Elektronisk kjørebok"));
    assert!(text.contains("Rørlegger Ærlig & Sønner AS"));
    assert!(text.contains("Tøyen Bygg AS"));
    assert!(text.contains("Kundebesøk"));
    let pages = text.matches('\u{c}').count().max(1);
    assert!(
        text.contains(&format!("Side 1 av {pages}")),
        "{pages} pages"
    );
    assert!(text.contains(&format!("Side {pages} av {pages}")));
}
