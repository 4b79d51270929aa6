//! The driving log as a PDF an auditor accepts (A4 landscape): who kept it and who drove,
//! every trip with every field in full (long places and purposes wrap, nothing is cut), the
//! totals by type, the monthly odometer readings with the moment they were read, the
//! deviations in words, the signatures and what each confirmed, and what the log cannot do.
//! Every page carries its number ("Side 2 av 3"), the statement that recorded values cannot
//! be changed, and the place-name credit in the document's language.

use domain::Timestamp;
use domain::drivinglog::{Classification, LogEntry};
use time::Date;

use crate::Lang;
use crate::accounts::Totals;
use crate::model::{DrivingLogReport, Signer, attribution, kind_label};
use crate::pdf::{A4_LONG, A4_SHORT, Align, Document, Font, Info, Page, text_width, wrap};
use crate::words;

// Page geometry (A4 landscape).
const PAGE_W: f32 = A4_LONG;
const PAGE_H: f32 = A4_SHORT;
const MARGIN: f32 = 30.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
const TOP: f32 = PAGE_H - MARGIN;
/// Content stops here; the footer lives below.
const BOTTOM: f32 = 50.0;

const BODY: f32 = 7.5;
const LINE: f32 = 9.0;
const VPAD: f32 = 2.5;
const HEAD: f32 = 6.8;
const HEAD_LINE: f32 = 8.0;
const PAD: f32 = 3.0;
const FOOT: f32 = 6.5;

const DASH: &str = "–";

/// The driving log of one vehicle for one period, as PDF bytes.
pub fn driving_log_pdf(r: &DrivingLogReport, lang: Lang) -> Vec<u8> {
    let mut w = Writer::new(r, lang);
    w.first_page_header();
    w.statement();
    w.trips();
    w.totals();
    w.odometer();
    w.deviations();
    w.supplements();
    w.signatures();
    w.footers();
    let info = Info {
        title: format!(
            "{} {} {}",
            lang.pick("Kjørebok", "Driving log"),
            r.vehicle,
            r.period
        ),
        author: r.organisation.to_owned(),
        subject: lang
            .pick("Elektronisk kjørebok", "Electronic driving log")
            .to_owned(),
    };
    w.doc.finish(&info)
}

/// A table column: header (lines separated by `\n`), width in points, alignment.
struct Col {
    head: &'static str,
    width: f32,
    align: Align,
}

const fn col(head: &'static str, width: f32, align: Align) -> Col {
    Col { head, width, align }
}

/// Where a cell's text is anchored in a column starting at `x`.
fn anchor(c: &Col, x: f32) -> f32 {
    match c.align {
        Align::Left => x + PAD,
        Align::Right => x + c.width - PAD - 3.0,
        Align::Center => x + c.width / 2.0,
    }
}

/// The width a cell's text may take in column `c`.
fn room(c: &Col) -> f32 {
    match c.align {
        Align::Right => c.width - 2.0 * PAD - 3.0,
        Align::Left | Align::Center => c.width - 2.0 * PAD,
    }
}

struct Row {
    cells: Vec<String>,
    bold: bool,
}

impl Row {
    fn plain(cells: Vec<String>) -> Row {
        Row { cells, bold: false }
    }
    fn bold(cells: Vec<String>) -> Row {
        Row { cells, bold: true }
    }
}

struct Writer<'r, 'a> {
    r: &'r DrivingLogReport<'a>,
    lang: Lang,
    doc: Document,
    y: f32,
}

impl<'r, 'a> Writer<'r, 'a> {
    fn new(r: &'r DrivingLogReport<'a>, lang: Lang) -> Self {
        let mut doc = Document::new();
        doc.add_page(PAGE_W, PAGE_H);
        Writer {
            r,
            lang,
            doc,
            y: TOP,
        }
    }

    fn l(&self, nb: &'static str, en: &'static str) -> &'static str {
        self.lang.pick(nb, en)
    }

    fn page(&mut self) -> &mut Page {
        if self.doc.pages().is_empty() {
            self.doc.add_page(PAGE_W, PAGE_H);
        }
        let last = self.doc.pages().len() - 1;
        &mut self.doc.pages_mut()[last]
    }

    fn title(&self) -> &'static str {
        self.l("Elektronisk kjørebok", "Electronic driving log")
    }

    /// Label/value pairs in a block `width` wide from `x`, values wrapped; the height used.
    fn pairs(&mut self, x: f32, top: f32, width: f32, pairs: &[(&str, String)]) -> f32 {
        let label_w = 78.0;
        let mut y = top;
        let page = self.page();
        for (label, value) in pairs {
            let lines = wrap(value, Font::Helvetica, 8.5, width - label_w);
            page.text(Font::HelveticaBold, 8.5, x, y, Align::Left, label);
            for (i, line) in lines.iter().enumerate() {
                page.text(
                    Font::Helvetica,
                    8.5,
                    x + label_w,
                    y - i as f32 * 10.5,
                    Align::Left,
                    line,
                );
            }
            y -= lines.len().max(1) as f32 * 10.5 + 1.5;
        }
        top - y
    }

    fn first_page_header(&mut self) {
        let lang = self.lang;
        let title = self.title();
        let r = self.r;
        let y = self.y - 16.0;
        let period = period_label(r.period, lang);
        let page = self.page();
        page.text(Font::HelveticaBold, 16.0, MARGIN, y, Align::Left, title);
        page.text(
            Font::HelveticaBold,
            10.0,
            PAGE_W - MARGIN,
            y,
            Align::Right,
            &format!("{}  ·  {period}", r.vehicle),
        );

        let mut left: Vec<(&str, String)> = vec![(
            lang.pick("Organisasjon", "Organisation"),
            r.organisation.to_owned(),
        )];
        if let Some(n) = r.org_number.filter(|n| !n.trim().is_empty()) {
            left.push((lang.pick("Org.nr.", "Org. no."), n.to_owned()));
        }
        left.push((
            lang.pick("Kjøretøy", "Vehicle"),
            format!("{} ({})", r.vehicle, kind_label(r.vehicle_kind, lang)),
        ));
        let drivers = if r.drivers.is_empty() {
            lang.pick("ingen tildelt i perioden", "none assigned in the period")
                .to_owned()
        } else {
            r.drivers
                .iter()
                .map(|p| match lang {
                    Lang::Nb => format!("{}, ansattnr. {}", p.name, p.number),
                    Lang::En => format!("{}, employee no. {}", p.name, p.number),
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        left.push((lang.pick("Sjåfør", "Driver"), drivers));

        let year_status;
        let status = match (r.signed_by(Signer::Driver), r.signed_by(Signer::Keeper)) {
            (_, Some(_)) => lang.pick(
                "signert av sjåfør og kjørebokfører",
                "signed by the driver and the log keeper",
            ),
            (Some(_), None) => lang.pick(
                "signert av sjåføren, venter på kjørebokføreren",
                "signed by the driver, awaiting the log keeper",
            ),
            (None, None) if r.period.len() == 7 => lang.pick("ikke signert", "not signed"),
            (None, None) => {
                let keeper = r
                    .signatures
                    .iter()
                    .filter(|s| s.signer == Signer::Keeper)
                    .count();
                year_status = match lang {
                    Lang::Nb => format!("{keeper} av 12 måneder signert av kjørebokføreren"),
                    Lang::En => format!("{keeper} of 12 months signed by the log keeper"),
                };
                year_status.as_str()
            }
        };
        let right: Vec<(&str, String)> = vec![
            (lang.pick("Periode", "Period"), period_range(r.period, lang)),
            (
                lang.pick("Generert", "Generated"),
                match lang {
                    Lang::Nb => format!("{} (norsk tid)", fmt_datetime(r.generated_at, lang)),
                    Lang::En => format!("{} (Norwegian time)", fmt_datetime(r.generated_at, lang)),
                },
            ),
            (
                lang.pick("Klokkeslett", "Times"),
                lang.pick(
                    "norsk tid (Europe/Oslo, sommertid når den gjelder)",
                    "Norwegian time (Europe/Oslo, summer time when in force)",
                )
                .to_owned(),
            ),
            (lang.pick("Status", "Status"), status.to_owned()),
        ];
        let top = y - 22.0;
        let half = CONTENT_W / 2.0 - 10.0;
        let hl = self.pairs(MARGIN, top, half, &left);
        let hr = self.pairs(MARGIN + CONTENT_W / 2.0 + 10.0, top, half, &right);
        let bottom = top - hl.max(hr) - 2.0;
        self.page()
            .line(MARGIN, bottom, PAGE_W - MARGIN, bottom, 0.6, 0.0);
        self.y = bottom - 4.0;
    }

    /// What the log is and what it cannot do, in full.
    fn statement(&mut self) {
        let text = self.l(
            "Om kjøreboken: Turene registreres automatisk av sporingsenheten i kjøretøyet. Registrert distanse, dato og klokkeslett kan ikke rettes eller slettes av noen, heller ikke av arbeidsgiveren. Bare klassifiseringen (yrke eller privat) og formålet føres i ettertid, av sjåføren, og hver endring tas vare på. Private turer vises bare med dato og km. Avvik, for eksempel at enheten var uten forbindelse, registreres og står i kjøreboken; de skjules ikke.",
            "About this log: trips are recorded automatically by the tracking unit in the vehicle. Recorded distance, date and time cannot be corrected or deleted by anyone, the employer included. Only the classification (business or private) and the purpose are entered afterwards, by the driver, and every change is kept. Private trips are shown with their date and km only. Deviations, such as the device being out of contact, are recorded and stay in the log; they are not hidden.",
        );
        self.paragraph(text, 7.8);
    }

    fn paragraph(&mut self, text: &str, size: f32) {
        for line in wrap(text, Font::Helvetica, size, CONTENT_W) {
            self.ensure(size + 3.0);
            let y = self.y - size - 1.5;
            self.page()
                .text(Font::Helvetica, size, MARGIN, y, Align::Left, &line);
            self.y = y - 1.5;
        }
    }

    fn new_page(&mut self) {
        let title = self.title();
        let r = self.r;
        let tail = format!(
            "{}  ·  {}  ·  {}",
            r.organisation,
            r.vehicle,
            period_label(r.period, self.lang)
        );
        let page = self.doc.add_page(PAGE_W, PAGE_H);
        let y = TOP - 10.0;
        page.text(Font::HelveticaBold, 10.0, MARGIN, y, Align::Left, title);
        let room = CONTENT_W - text_width(title, Font::HelveticaBold, 10.0) - 20.0;
        let lines = wrap(&tail, Font::Helvetica, 8.5, room);
        for (i, line) in lines.iter().enumerate() {
            page.text(
                Font::Helvetica,
                8.5,
                PAGE_W - MARGIN,
                y - i as f32 * 10.0,
                Align::Right,
                line,
            );
        }
        let below = y - 6.0 - (lines.len().max(1) - 1) as f32 * 10.0;
        page.line(MARGIN, below, PAGE_W - MARGIN, below, 0.6, 0.0);
        self.y = below - 8.0;
    }

    /// Starts a new page unless `h` points still fit. True when it broke the page.
    fn ensure(&mut self, h: f32) -> bool {
        if self.y - h < BOTTOM {
            self.new_page();
            true
        } else {
            false
        }
    }

    fn heading(&mut self, s: &str, following: f32) {
        self.ensure(24.0 + following);
        let y = self.y - 18.0;
        self.page()
            .text(Font::HelveticaBold, 11.0, MARGIN, y, Align::Left, s);
        self.y = y - 7.0;
    }

    fn note(&mut self, s: &str) {
        self.y -= 2.0;
        self.paragraph(s, 7.5);
    }

    fn header_height(cols: &[Col]) -> f32 {
        let lines = cols
            .iter()
            .map(|c| c.head.lines().count())
            .max()
            .unwrap_or(1)
            .max(1);
        lines as f32 * HEAD_LINE + 5.0
    }

    fn table_header(&mut self, cols: &[Col]) {
        let h = Self::header_height(cols);
        let total_w: f32 = cols.iter().map(|c| c.width).sum();
        let top = self.y;
        let page = self.page();
        page.fill_rect(MARGIN, top - h, total_w, h, 0.86);
        let mut x = MARGIN;
        for c in cols {
            let n = c.head.lines().count();
            for (i, line) in c.head.lines().enumerate() {
                // Bottom-align the header lines so single-line headers sit on the last line.
                let yy = top - h + 4.0 + (n - 1 - i) as f32 * HEAD_LINE;
                page.text(Font::HelveticaBold, HEAD, anchor(c, x), yy, c.align, line);
            }
            x += c.width;
        }
        self.y = top - h;
    }

    /// Draws `rows` under a header, repeating the header on every page the table spans. A
    /// cell's text wraps within its column; a row taller than what is left of the page moves
    /// to the next, and a row taller than a whole page continues over it.
    fn table(&mut self, cols: &[Col], rows: &[Row]) {
        let header_h = Self::header_height(cols);
        self.ensure(header_h + LINE + 2.0 * VPAD);
        self.table_header(cols);
        let total_w: f32 = cols.iter().map(|c| c.width).sum();
        let page_room = TOP - BOTTOM - 40.0 - header_h;
        for (i, row) in rows.iter().enumerate() {
            let font = if row.bold {
                Font::HelveticaBold
            } else {
                Font::Helvetica
            };
            let lines: Vec<Vec<String>> = cols
                .iter()
                .zip(&row.cells)
                .map(|(c, cell)| wrap(cell, font, BODY, room(c)))
                .collect();
            let n = lines.iter().map(Vec::len).max().unwrap_or(0).max(1);
            let h = n as f32 * LINE + 2.0 * VPAD;
            if self.y - h < BOTTOM && h <= page_room {
                self.new_page();
                self.table_header(cols);
            }
            let mut start = 0;
            while start < n {
                let fit = ((self.y - BOTTOM - 2.0 * VPAD) / LINE).floor();
                let fit = if fit < 1.0 { 0 } else { fit as usize };
                if fit == 0 {
                    self.new_page();
                    self.table_header(cols);
                    continue;
                }
                let k = fit.min(n - start);
                let top = self.y;
                let chunk_h = k as f32 * LINE + 2.0 * VPAD;
                let page = self.page();
                if row.bold {
                    page.line(MARGIN, top, MARGIN + total_w, top, 0.5, 0.3);
                } else if i % 2 == 1 {
                    page.fill_rect(MARGIN, top - chunk_h, total_w, chunk_h, 0.95);
                }
                let mut x = MARGIN;
                for (c, cell_lines) in cols.iter().zip(&lines) {
                    for (j, line) in cell_lines.iter().enumerate().skip(start).take(k) {
                        let baseline = top - VPAD - (j - start + 1) as f32 * LINE + 2.2;
                        page.text(font, BODY, anchor(c, x), baseline, c.align, line);
                    }
                    x += c.width;
                }
                self.y = top - chunk_h;
                start += k;
                if start < n {
                    self.new_page();
                    self.table_header(cols);
                }
            }
        }
        let y = self.y;
        self.page().line(MARGIN, y, MARGIN + total_w, y, 0.6, 0.0);
        self.y = y - 4.0;
    }

    fn trips(&mut self) {
        let lang = self.lang;
        let l = |nb, en| lang.pick(nb, en);
        self.heading(l("Turer", "Trips"), 40.0);
        let fixed = 48.0 + 26.0 + 38.0 + 94.0 + 94.0 + 46.0 + 46.0 + 34.0 + 60.0 + 80.0 + 62.0;
        let cols = [
            col(l("Dato", "Date"), 48.0, Align::Left),
            col(l("Start", "Start"), 26.0, Align::Left),
            col(l("Slutt", "End"), 38.0, Align::Left),
            col(l("Fra", "From"), 94.0, Align::Left),
            col(l("Til", "To"), 94.0, Align::Left),
            col(l("Km-stand\nstart", "Odometer\nstart"), 46.0, Align::Right),
            col(l("Km-stand\nslutt", "Odometer\nend"), 46.0, Align::Right),
            col("Km", 34.0, Align::Right),
            col(l("Distanse-\nkilde", "Distance\nsource"), 60.0, Align::Left),
            col(l("Sjåfør", "Driver"), 80.0, Align::Left),
            col(l("Type", "Type"), 62.0, Align::Left),
            col(
                l("Formål / kunde / sted", "Purpose / customer / site"),
                CONTENT_W - fixed,
                Align::Left,
            ),
        ];
        let rows: Vec<TripRow> = self
            .r
            .entries
            .iter()
            .map(|e| trip_row(self.r, e, lang))
            .collect();
        if rows.is_empty() {
            self.note(l(
                "Ingen turer registrert i perioden.",
                "No trips recorded in the period.",
            ));
            return;
        }
        let table: Vec<Row> = rows.iter().map(|t| Row::plain(t.cells.to_vec())).collect();
        self.table(&cols, &table);
        if rows.iter().any(|t| t.by_track) {
            self.note(l(
                "Distansekilde «GPS-spor»: km er målt langs GPS-sporet fordi kjøretøyets kilometerteller ikke var tilgjengelig; turen har da ingen km-stand.",
                "Distance source “GPS track”: km measured along the GPS track because the vehicle's odometer was not available; the trip then has no odometer reading.",
            ));
        }
        if rows.iter().any(|t| t.private) {
            self.note(l(
                "Private turer vises bare med dato og km.",
                "Private trips are shown with their date and km only.",
            ));
        }
        if rows.iter().any(|t| t.pending) {
            self.note(l(
                "«Ikke klassifisert»: sjåføren har ikke sagt om turen var yrke eller privat; til da viser kjøreboken bare dato og km.",
                "“Unclassified”: the driver has not said whether the trip was business or private; until then the log shows its date and km only.",
            ));
        }
    }

    fn totals(&mut self) {
        let lang = self.lang;
        let t = Totals::of(self.r.entries);
        let cols = [
            col("", 150.0, Align::Left),
            col(lang.pick("Turer", "Trips"), 60.0, Align::Right),
            col("Km", 80.0, Align::Right),
        ];
        let rows = vec![
            Row::plain(vec![
                lang.pick("Yrke", "Business").into(),
                t.business.to_string(),
                fmt_km(t.business_km, lang),
            ]),
            Row::plain(vec![
                lang.pick("Privat", "Private").into(),
                t.private.to_string(),
                fmt_km(t.private_km, lang),
            ]),
            Row::plain(vec![
                lang.pick("Ikke klassifisert", "Unclassified").into(),
                t.unclassified.to_string(),
                fmt_km(t.unclassified_km, lang),
            ]),
            Row::bold(vec![
                lang.pick("Totalt", "Total").into(),
                t.count().to_string(),
                fmt_km(t.total_km(), lang),
            ]),
        ];
        self.heading(lang.pick("Sum per type", "Totals by type"), 5.0 * LINE);
        self.table(&cols, &rows);
        let y = self.r.year;
        let year = match lang {
            Lang::Nb => format!(
                "Hittil i år: yrke {} km, privat {} km på {} dager, ikke klassifisert {} km.",
                fmt_km(y.business_km, lang),
                fmt_km(y.private_km, lang),
                y.private_days,
                fmt_km(y.unclassified_km, lang)
            ),
            Lang::En => format!(
                "This year so far: business {} km, private {} km on {} days, unclassified {} km.",
                fmt_km(y.business_km, lang),
                fmt_km(y.private_km, lang),
                y.private_days,
                fmt_km(y.unclassified_km, lang)
            ),
        };
        self.note(&year);
        for n in purposes::tax::notices(self.r.vehicle_kind, y) {
            let text = match lang {
                Lang::Nb => n.nb,
                Lang::En => n.en,
            };
            self.note(&text);
        }
    }

    fn odometer(&mut self) {
        let lang = self.lang;
        self.heading(
            lang.pick(
                "Månedlig avlesning av kilometerteller",
                "Monthly odometer readings",
            ),
            3.0 * LINE,
        );
        if self.r.odometer_readings.is_empty() {
            self.note(lang.pick(
                "Ingen avlesning fra kjøretøyets kilometerteller i perioden: turenes distanse er målt langs GPS-sporet.",
                "No reading of the vehicle's odometer in the period: the trips' distance was measured along the GPS track.",
            ));
            return;
        }
        let cols = [
            col(lang.pick("Måned", "Month"), 90.0, Align::Left),
            col(lang.pick("Lest", "Read on"), 110.0, Align::Left),
            col(lang.pick("Km-stand", "Odometer"), 80.0, Align::Right),
            col(
                lang.pick("Kjørt siden forrige", "Since previous"),
                100.0,
                Align::Right,
            ),
        ];
        let mut prev: Option<f64> = None;
        let rows: Vec<Row> = self
            .r
            .odometer_readings
            .iter()
            .map(|r| {
                let diff = prev.map_or(String::new(), |p| fmt_km(r.km - p, lang));
                prev = Some(r.km);
                Row::plain(vec![
                    month_label(r.date, lang),
                    fmt_date(r.date, lang),
                    fmt_km(r.km, lang),
                    diff,
                ])
            })
            .collect();
        self.table(&cols, &rows);
        self.note(lang.pick(
            "Avlesningen er den siste fra kjøretøyets egen kilometerteller i måneden, med datoen den ble lest; en telefons GPS-distanse er aldri en km-stand.",
            "The reading is the month's last from the vehicle's own odometer, with the date it was read; a phone's GPS distance is never an odometer reading.",
        ));
    }

    fn deviations(&mut self) {
        let lang = self.lang;
        self.heading(lang.pick("Avvik", "Deviations"), 3.0 * LINE);
        if self.r.deviations.is_empty() {
            self.note(lang.pick(
                "Ingen avvik registrert i perioden.",
                "No deviations recorded in the period.",
            ));
            return;
        }
        let fixed = 230.0 + 78.0 + 78.0 + 44.0 + 100.0;
        let cols = [
            col(lang.pick("Avvik", "Deviation"), 230.0, Align::Left),
            col(lang.pick("Start", "Start"), 78.0, Align::Left),
            col(lang.pick("Slutt", "End"), 78.0, Align::Left),
            col("Km", 44.0, Align::Right),
            col(
                lang.pick("Km-stand\nfør / etter", "Odometer\nbefore / after"),
                100.0,
                Align::Right,
            ),
            col(lang.pick("Merknad", "Note"), CONTENT_W - fixed, Align::Left),
        ];
        let rows: Vec<Row> = self
            .r
            .deviations
            .iter()
            .map(|d| {
                let (nb, en) = words::deviation(&d.kind);
                Row::plain(vec![
                    lang.pick(nb, en).to_owned(),
                    fmt_datetime(d.from, lang),
                    fmt_datetime(d.to, lang),
                    fmt_km(d.km, lang),
                    d.odometer_km.map_or_else(String::new, |(a, b)| {
                        format!("{} / {}", fmt_km(a, lang), fmt_km(b, lang))
                    }),
                    d.note.clone(),
                ])
            })
            .collect();
        self.table(&cols, &rows);
        // Totals by kind, in the order the kinds first occur.
        let mut kinds: Vec<(&'static str, &'static str, usize, f64)> = Vec::new();
        for d in self.r.deviations {
            let (nb, en) = words::deviation(&d.kind);
            let km = if d.km.is_finite() { d.km } else { 0.0 };
            match kinds.iter_mut().find(|k| k.0 == nb) {
                Some(k) => {
                    k.2 += 1;
                    k.3 += km;
                }
                None => kinds.push((nb, en, 1, km)),
            }
        }
        let cols = [
            col(
                lang.pick("Avvik per type", "Deviations by type"),
                300.0,
                Align::Left,
            ),
            col(lang.pick("Antall", "Count"), 60.0, Align::Right),
            col("Km", 80.0, Align::Right),
        ];
        let rows: Vec<Row> = kinds
            .iter()
            .map(|(nb, en, n, km)| {
                Row::plain(vec![
                    lang.pick(nb, en).to_owned(),
                    n.to_string(),
                    fmt_km(*km, lang),
                ])
            })
            .collect();
        self.y -= 6.0;
        self.table(&cols, &rows);
    }

    /// Corrections of a trip's driver: the recorded driver stays visible here.
    fn supplements(&mut self) {
        if self.r.supplements.is_empty() {
            return;
        }
        let lang = self.lang;
        self.heading(
            lang.pick("Tillegg: rettet sjåfør", "Supplements: corrected drivers"),
            3.0 * LINE,
        );
        let r = self.r;
        let fixed = 60.0 + 60.0 + 140.0 + 140.0 + 80.0 + 90.0;
        let cols = [
            col(lang.pick("Tur", "Trip"), 60.0, Align::Left),
            col(lang.pick("Dato", "Date"), 60.0, Align::Left),
            col(
                lang.pick("Registrert sjåfør", "Recorded driver"),
                140.0,
                Align::Left,
            ),
            col(
                lang.pick("Riktig sjåfør", "Right driver"),
                140.0,
                Align::Left,
            ),
            col(lang.pick("Rettet av", "Corrected by"), 80.0, Align::Left),
            col(lang.pick("Tidspunkt", "When"), 90.0, Align::Left),
            col(
                lang.pick("Begrunnelse", "Reason"),
                CONTENT_W - fixed,
                Align::Left,
            ),
        ];
        let rows: Vec<Row> = r
            .supplements
            .iter()
            .map(|s| {
                let date = r
                    .entries
                    .iter()
                    .find(|e| entry_id(e) == s.trip)
                    .map_or_else(|| DASH.to_owned(), |e| fmt_date(e.date(), lang));
                Row::plain(vec![
                    s.trip.to_string(),
                    date,
                    s.recorded
                        .as_deref()
                        .map_or_else(|| DASH.to_owned(), |d| r.driver_label(d)),
                    r.driver_label(&s.driver),
                    s.by.clone(),
                    fmt_datetime(s.at, lang),
                    s.reason.clone(),
                ])
            })
            .collect();
        self.table(&cols, &rows);
        self.note(lang.pick(
            "Rettelsen står ved siden av turen; registrert sjåfør, distanse, dato og klokkeslett er uendret.",
            "The correction stands beside the trip; the recorded driver, distance, date and time are unchanged.",
        ));
    }

    fn signatures(&mut self) {
        let lang = self.lang;
        self.heading(lang.pick("Signaturer", "Signatures"), 3.0 * LINE);
        if self.r.signatures.is_empty() {
            self.note(if self.r.period.len() == 7 {
                lang.pick(
                    "Måneden er ikke signert ennå. Sjåføren signerer først, deretter kjørebokføreren.",
                    "The month is not signed yet. The driver signs first, then the log keeper.",
                )
            } else {
                lang.pick(
                    "Kjøreboken signeres per måned; ingen måned i perioden er signert ennå.",
                    "The log is signed per month; no month of the period is signed yet.",
                )
            });
            return;
        }
        let fixed = 70.0 + 80.0 + 150.0 + 70.0 + 90.0;
        let cols = [
            col(lang.pick("Måned", "Month"), 70.0, Align::Left),
            col(lang.pick("Rolle", "Role"), 80.0, Align::Left),
            col(
                lang.pick("Navn (ansattnr.)", "Name (employee no.)"),
                150.0,
                Align::Left,
            ),
            col(lang.pick("Bruker", "User"), 70.0, Align::Left),
            col(lang.pick("Signert", "Signed"), 90.0, Align::Left),
            col(
                lang.pick("Bekrefter", "Confirms"),
                CONTENT_W - fixed,
                Align::Left,
            ),
        ];
        let rows: Vec<Row> = self
            .r
            .signatures
            .iter()
            .map(|s| {
                Row::plain(vec![
                    period_label(&s.month, lang),
                    s.signer.label(lang).to_owned(),
                    s.person
                        .as_ref()
                        .map_or_else(|| DASH.to_owned(), |p| format!("{} ({})", p.name, p.number)),
                    s.user.clone(),
                    fmt_datetime(s.at, lang),
                    s.says(lang),
                ])
            })
            .collect();
        self.table(&cols, &rows);
    }

    /// The footer of every page, written once the page count is known.
    fn footers(&mut self) {
        let lang = self.lang;
        let credit = attribution(lang);
        let fixed = lang.pick(
            "Registrert distanse, dato og klokkeslett kan ikke endres eller slettes.",
            "Recorded distance, date and time cannot be changed or deleted.",
        );
        let ident = format!(
            "{} {}  ·  {}  ·  {} {}",
            lang.pick("Kjørebok", "Driving log"),
            self.r.vehicle,
            period_label(self.r.period, lang),
            lang.pick("generert", "generated"),
            fmt_datetime(self.r.generated_at, lang)
        );
        let total = self.doc.pages().len();
        for (i, page) in self.doc.pages_mut().iter_mut().enumerate() {
            let label = match lang {
                Lang::Nb => format!("Side {} av {}", i + 1, total),
                Lang::En => format!("Page {} of {}", i + 1, total),
            };
            page.line(MARGIN, 38.0, PAGE_W - MARGIN, 38.0, 0.4, 0.5);
            page.text(
                Font::HelveticaBold,
                8.0,
                PAGE_W - MARGIN,
                28.0,
                Align::Right,
                &label,
            );
            page.text(Font::Helvetica, FOOT, MARGIN, 29.0, Align::Left, &ident);
            page.text(Font::Helvetica, FOOT, MARGIN, 21.0, Align::Left, fixed);
            page.text(Font::Helvetica, FOOT, MARGIN, 13.0, Align::Left, credit);
        }
    }
}

/// One row of the trip table, and what the notes under the table need to know about it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TripRow {
    pub(crate) cells: [String; 12],
    pub(crate) private: bool,
    pub(crate) pending: bool,
    pub(crate) by_track: bool,
}

/// The row for one log entry. A private trip, whichever way it is stored, shows its date, km
/// and "Privat" and nothing else.
pub(crate) fn trip_row(r: &DrivingLogReport, e: &LogEntry, lang: Lang) -> TripRow {
    let short = |date: Date, km: f64, private: bool| {
        let mut cells: [String; 12] = Default::default();
        cells[0] = fmt_date(date, lang);
        cells[7] = fmt_km(km, lang);
        cells[10] = if private {
            lang.pick("Privat", "Private")
        } else {
            lang.pick("Ikke klassifisert", "Unclassified")
        }
        .to_owned();
        TripRow {
            cells,
            private,
            pending: !private,
            by_track: false,
        }
    };
    let t = match e {
        LogEntry::Private(p) => return short(p.date, p.km, true),
        // The log keeper's view of a trip its driver has not classified: date and km.
        LogEntry::Unclassified(p) => return short(p.date, p.km, false),
        LogEntry::Trip(t) if t.classification == Classification::Private => {
            return short(t.date, t.km, true);
        }
        LogEntry::Trip(t) => t,
    };
    let by_track = t.distance_source != "odometer";
    let (kind, purpose) = match &t.classification {
        Classification::Business { purpose } => (lang.pick("Yrke", "Business"), purpose.clone()),
        _ => (
            lang.pick("Ikke klassifisert", "Unclassified"),
            String::new(),
        ),
    };
    let odo = |v: Option<f64>| match v {
        Some(v) if !by_track => fmt_km(v, lang),
        _ => DASH.to_owned(),
    };
    let (src_nb, src_en) = words::distance_source(&t.distance_source);
    let cells = [
        fmt_date(t.date, lang),
        fmt_time(t.start, t.date),
        fmt_time(t.end, t.date),
        place(&t.start_place),
        place(&t.end_place),
        odo(t.odometer_start_km),
        odo(t.odometer_end_km),
        fmt_km(t.km, lang),
        lang.pick(src_nb, src_en).to_owned(),
        match r.driver_of(t.id, t.driver.as_deref().filter(|d| !d.trim().is_empty())) {
            Some(d) if r.supplements.iter().any(|s| s.trip == t.id) => format!(
                "{} {}",
                r.driver_label(&d),
                lang.pick("(rettet, se tillegg)", "(corrected, see supplements)")
            ),
            Some(d) => r.driver_label(&d),
            None => DASH.to_owned(),
        },
        kind.to_owned(),
        purpose,
    ];
    TripRow {
        cells,
        private: false,
        pending: t.classification == Classification::Unclassified,
        by_track,
    }
}

fn entry_id(e: &LogEntry) -> i64 {
    match e {
        LogEntry::Trip(t) => t.id,
        LogEntry::Private(p) => p.id,
        LogEntry::Unclassified(p) => p.id,
    }
}

fn place(s: &str) -> String {
    if s.trim().is_empty() {
        DASH.to_owned()
    } else {
        s.to_owned()
    }
}

const MONTHS_NB: [&str; 12] = [
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `november 2026` / `November 2026`.
fn month_label(d: Date, lang: Lang) -> String {
    let i = usize::from(u8::from(d.month())) - 1;
    let name = match lang {
        Lang::Nb => MONTHS_NB[i],
        Lang::En => MONTHS_EN[i],
    };
    format!("{name} {}", d.year())
}

/// The period in words: `november 2026`, or the year.
fn period_label(period: &str, lang: Lang) -> String {
    match crate::csv::period(period) {
        Ok((from, _)) if period.len() == 7 => month_label(from, lang),
        _ => period.to_owned(),
    }
}

/// `01.11.2026–30.11.2026`.
fn period_range(period: &str, lang: Lang) -> String {
    match crate::csv::period(period) {
        Ok((from, to)) => format!("{}–{}", fmt_date(from, lang), fmt_date(to, lang)),
        Err(_) => period.to_owned(),
    }
}

/// `dd.mm.yyyy` in bokmål, ISO 8601 in English.
pub(crate) fn fmt_date(d: Date, lang: Lang) -> String {
    let (y, m, day) = (d.year(), u8::from(d.month()), d.day());
    match lang {
        Lang::Nb => format!("{day:02}.{m:02}.{y:04}"),
        Lang::En => format!("{y:04}-{m:02}-{day:02}"),
    }
}

/// `HH:MM` in Norwegian local time.
pub(crate) fn clock(t: Timestamp) -> String {
    t.to_offset_date_time()
        .map(|utc| utc.to_offset(trips::oslo_offset(t)))
        .map_or_else(
            || DASH.to_owned(),
            |l| format!("{:02}:{:02}", l.hour(), l.minute()),
        )
}

/// Date and time in Norwegian local time: `02.11.2026 kl. 07:13` / `2026-11-02 07:13`.
pub(crate) fn fmt_datetime(t: Timestamp, lang: Lang) -> String {
    let d = trips::oslo_date(t);
    match lang {
        Lang::Nb => format!("{} kl. {}", fmt_date(d, lang), clock(t)),
        Lang::En => format!("{} {}", fmt_date(d, lang), clock(t)),
    }
}

/// Norwegian local time `HH:MM`, with `(+n)` when it falls `n` days after `date`.
pub(crate) fn fmt_time(t: Timestamp, date: Date) -> String {
    let hm = clock(t);
    let days = (trips::oslo_date(t) - date).whole_days();
    if days > 0 {
        format!("{hm} (+{days})")
    } else {
        hm
    }
}

/// A distance with one decimal: `12 345,6` in bokmål, `12,345.6` in English; never `-0,0`.
pub(crate) fn fmt_km(v: f64, lang: Lang) -> String {
    let Some(v) = crate::table::km1(v) else {
        return DASH.to_owned();
    };
    let s = format!("{:.1}", v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((s.as_str(), "0"));
    let (sep, dec) = match lang {
        Lang::Nb => (' ', ','),
        Lang::En => (',', '.'),
    };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(sep);
        }
        grouped.push(c);
    }
    format!("{}{grouped}{dec}{frac}", if v < 0.0 { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Person;
    use domain::drivinglog::{PrivateTrip, RecordedTrip};
    use time::macros::date;

    fn trip(classification: Classification) -> RecordedTrip {
        RecordedTrip {
            id: 1,
            date: date!(2026 - 11 - 03),
            // 2026-11-03 06:42 UTC = 07:42 CET.
            start: Timestamp::from_secs(1_793_688_120),
            end: Timestamp::from_secs(1_793_688_120 + 3_600),
            start_place: "Hjemme, Kirkeveien 1".into(),
            end_place: "Legesenteret Majorstuen".into(),
            odometer_start_km: Some(12_345.0),
            odometer_end_km: Some(12_357.4),
            km: 12.4,
            distance_source: "odometer".into(),
            driver: Some("1001".into()),
            classification,
        }
    }

    fn with_report<T>(f: impl FnOnce(&DrivingLogReport) -> T) -> T {
        let year = purposes::tax::YearTotals::default();
        let drivers = [Person {
            number: "1001".into(),
            name: "Kari Nordmann".into(),
        }];
        let r = DrivingLogReport {
            organisation: "Org",
            org_number: None,
            vehicle: "EK 12345",
            vehicle_kind: domain::VehicleKind::Car,
            period: "2026-11",
            generated_at: Timestamp::from_secs(0),
            entries: &[],
            deviations: &[],
            odometer_readings: &[],
            drivers: &drivers,
            signatures: &[],
            year: &year,
            supplements: &[],
        };
        f(&r)
    }

    #[test]
    fn business_trip_row_has_every_field() {
        let row = with_report(|r| {
            trip_row(
                r,
                &LogEntry::Trip(trip(Classification::Business {
                    purpose: "Kunde: Tøyen Bygg".into(),
                })),
                Lang::Nb,
            )
        });
        assert_eq!(
            row.cells,
            [
                "03.11.2026",
                "07:42",
                "08:42",
                "Hjemme, Kirkeveien 1",
                "Legesenteret Majorstuen",
                "12 345,0",
                "12 357,4",
                "12,4",
                "Kilometerteller",
                "Kari Nordmann (1001)",
                "Yrke",
                "Kunde: Tøyen Bygg",
            ]
            .map(String::from)
        );
        assert!(!row.private && !row.by_track);
    }

    #[test]
    fn private_rows_show_date_and_km_only() {
        let rows = with_report(|r| {
            [
                trip_row(r, &LogEntry::Trip(trip(Classification::Private)), Lang::Nb),
                trip_row(
                    r,
                    &LogEntry::Private(PrivateTrip {
                        id: 2,
                        date: date!(2026 - 11 - 03),
                        km: 12.4,
                    }),
                    Lang::Nb,
                ),
            ]
        });
        for row in rows {
            assert!(row.private);
            for (i, cell) in row.cells.iter().enumerate() {
                match i {
                    0 => assert_eq!(cell, "03.11.2026"),
                    7 => assert_eq!(cell, "12,4"),
                    10 => assert_eq!(cell, "Privat"),
                    _ => assert!(cell.is_empty(), "column {i} shows {cell:?}"),
                }
            }
        }
    }

    #[test]
    fn a_track_distance_has_no_odometer_reading() {
        let mut t = trip(Classification::Unclassified);
        t.distance_source = "track".into();
        t.driver = None;
        let row = with_report(|r| trip_row(r, &LogEntry::Trip(t), Lang::En));
        assert_eq!(row.cells[5], "–", "a phone's distance is not a km reading");
        assert_eq!(row.cells[7], "12.4");
        assert_eq!(row.cells[8], "GPS track");
        assert_eq!(row.cells[9], "–");
        assert_eq!(row.cells[10], "Unclassified");
        assert!(row.by_track && row.pending);
    }

    #[test]
    fn times_are_norwegian_local() {
        let d = date!(2026 - 07 - 01);
        // 2026-07-01 10:00 UTC = 12:00 CEST.
        assert_eq!(fmt_time(Timestamp::from_secs(1_782_900_000), d), "12:00");
        // 2026-07-01 22:30 UTC = 00:30 the next day.
        assert_eq!(
            fmt_time(Timestamp::from_secs(1_782_945_000), d),
            "00:30 (+1)"
        );
        // 2026-12-01 08:15 UTC = 09:15 CET.
        assert_eq!(
            fmt_datetime(Timestamp::from_secs(1_796_112_900), Lang::Nb),
            "01.12.2026 kl. 09:15"
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(fmt_km(0.0, Lang::Nb), "0,0");
        assert_eq!(fmt_km(999.95, Lang::Nb), "1 000,0");
        assert_eq!(fmt_km(1_234_567.89, Lang::Nb), "1 234 567,9");
        assert_eq!(fmt_km(1_234_567.89, Lang::En), "1,234,567.9");
        assert_eq!(fmt_km(-0.01, Lang::Nb), "0,0");
        assert_eq!(fmt_km(-12.0, Lang::Nb), "-12,0");
        assert_eq!(fmt_km(f64::NAN, Lang::Nb), "–");
        assert_eq!(fmt_date(date!(2026 - 01 - 05), Lang::Nb), "05.01.2026");
        assert_eq!(fmt_date(date!(2026 - 01 - 05), Lang::En), "2026-01-05");
        assert_eq!(period_label("2026-11", Lang::Nb), "november 2026");
        assert_eq!(period_range("2026-11", Lang::Nb), "01.11.2026–30.11.2026");
    }

    #[test]
    fn totals_split_by_classification() {
        let entries = [
            LogEntry::Trip(trip(Classification::Business {
                purpose: "x".into(),
            })),
            LogEntry::Trip(trip(Classification::Unclassified)),
            LogEntry::Trip(trip(Classification::Private)),
            LogEntry::Private(PrivateTrip {
                id: 9,
                date: date!(2026 - 11 - 04),
                km: 5.0,
            }),
        ];
        let t = Totals::of(&entries);
        assert_eq!((t.business, t.private, t.unclassified), (1, 2, 1));
        assert!((t.private_km - 17.4).abs() < 1e-9);
        assert!((t.total_km() - 42.2).abs() < 1e-9);
        assert_eq!(t.count(), 4);
    }
}
