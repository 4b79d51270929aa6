//! The driving log as a PDF (A4 landscape, one table row per trip).

use domain::Timestamp;
use domain::drivinglog::{Classification, LogEntry, RecordedDeviation};
use time::Date;

use crate::Lang;
use crate::pdf::{A4_LONG, A4_SHORT, Align, Document, Font, Info, Page, fit, text_width};

/// Everything the driving log PDF shows. The caller reads it under the `driving_log` purpose;
/// this crate only lays it out.
#[derive(Clone, Copy, Debug)]
pub struct DrivingLogReport<'a> {
    pub organisation: &'a str,
    pub org_number: Option<&'a str>,
    /// The registration number.
    pub vehicle: &'a str,
    pub vehicle_kind: &'a str,
    /// E.g. "2026-11" or "2026".
    pub period: &'a str,
    pub generated_at: &'a str,
    /// In the order the log lists them (chronological).
    pub entries: &'a [LogEntry],
    pub deviations: &'a [RecordedDeviation],
    /// Monthly odometer readings; may be empty.
    pub odometer_readings: &'a [(Date, f64)],
    /// The credit line for place names (GeoNames).
    pub attribution: &'a str,
}

// Page geometry (A4 landscape).
const PAGE_W: f32 = A4_LONG;
const PAGE_H: f32 = A4_SHORT;
const MARGIN: f32 = 30.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
const TOP: f32 = PAGE_H - MARGIN;
/// Content stops here; the footer lives below.
const BOTTOM: f32 = 48.0;

const BODY: f32 = 8.0;
const HEAD: f32 = 7.0;
const ROW_H: f32 = 11.5;
const HEAD_LINE_H: f32 = 8.5;
const PAD: f32 = 3.0;
/// Right-aligned numbers keep a wider gap to the left-aligned column after them.
const RIGHT_PAD: f32 = 7.0;
const FOOT: f32 = 6.5;

const DASH: &str = "–";

/// The driving log of one vehicle for one period, as PDF bytes.
pub fn driving_log_pdf(r: &DrivingLogReport, lang: Lang) -> Vec<u8> {
    let mut w = Writer::new(r, lang);
    w.first_page_header();
    w.trips();
    w.totals();
    w.odometer();
    w.deviations();
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

/// Where a cell's text is anchored in a column starting at `x`.
fn anchor(c: &Col, x: f32) -> f32 {
    match c.align {
        Align::Left => x + PAD,
        Align::Right => x + c.width - RIGHT_PAD,
        Align::Center => x + c.width / 2.0,
    }
}

/// The width a cell's text may take in column `c`.
fn room(c: &Col) -> f32 {
    match c.align {
        Align::Right => c.width - PAD - RIGHT_PAD,
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

    fn page(&mut self) -> &mut Page {
        if self.doc.pages().is_empty() {
            self.doc.add_page(PAGE_W, PAGE_H);
        }
        let last = self.doc.pages().len() - 1;
        &mut self.doc.pages_mut()[last]
    }

    fn title(&self) -> &'static str {
        self.lang
            .pick("Elektronisk kjørebok", "Electronic driving log")
    }

    fn first_page_header(&mut self) {
        let lang = self.lang;
        let title = self.title();
        let r = self.r;
        let y = self.y - 16.0;
        let page = self.page();
        page.text(Font::HelveticaBold, 16.0, MARGIN, y, Align::Left, title);
        page.text(
            Font::HelveticaBold,
            10.0,
            PAGE_W - MARGIN,
            y,
            Align::Right,
            &format!(
                "{}  ·  {} {}",
                r.vehicle,
                lang.pick("periode", "period"),
                r.period
            ),
        );

        let vehicle = if r.vehicle_kind.is_empty() {
            r.vehicle.to_owned()
        } else {
            format!("{} ({})", r.vehicle, r.vehicle_kind)
        };
        let mut left: Vec<(&str, String)> = vec![(
            lang.pick("Organisasjon", "Organisation"),
            r.organisation.to_owned(),
        )];
        if let Some(n) = r.org_number.filter(|n| !n.trim().is_empty()) {
            left.push((lang.pick("Org.nr.", "Org. no."), n.to_owned()));
        }
        left.push((lang.pick("Kjøretøy", "Vehicle"), vehicle));
        let right: Vec<(&str, String)> = vec![
            (lang.pick("Periode", "Period"), r.period.to_owned()),
            (
                lang.pick("Generert", "Generated"),
                r.generated_at.to_owned(),
            ),
            (
                lang.pick("Klokkeslett", "Times"),
                lang.pick("norsk tid", "Norwegian local time").to_owned(),
            ),
        ];
        let top = y - 20.0;
        let block = |page: &mut Page, x: f32, pairs: &[(&str, String)]| {
            let label_w = 70.0;
            for (i, (label, value)) in pairs.iter().enumerate() {
                let yy = top - i as f32 * 12.0;
                page.text(Font::HelveticaBold, 8.5, x, yy, Align::Left, label);
                let v = fit(value, Font::Helvetica, 8.5, 300.0 - label_w);
                page.text(Font::Helvetica, 8.5, x + label_w, yy, Align::Left, &v);
            }
        };
        block(page, MARGIN, &left);
        block(page, MARGIN + 390.0, &right);
        let rows = left.len().max(right.len());
        let bottom = top - (rows as f32 - 1.0) * 12.0 - 8.0;
        page.line(MARGIN, bottom, PAGE_W - MARGIN, bottom, 0.6, 0.0);
        self.y = bottom - 10.0;
    }

    fn new_page(&mut self) {
        let lang = self.lang;
        let title = self.title();
        let r = self.r;
        let page = self.doc.add_page(PAGE_W, PAGE_H);
        let y = TOP - 10.0;
        page.text(Font::HelveticaBold, 10.0, MARGIN, y, Align::Left, title);
        let tail = format!(
            "{}  ·  {}  ·  {} {}",
            r.organisation,
            r.vehicle,
            lang.pick("periode", "period"),
            r.period
        );
        let room = CONTENT_W - text_width(title, Font::HelveticaBold, 10.0) - 20.0;
        let tail = fit(&tail, Font::Helvetica, 8.5, room);
        page.text(
            Font::Helvetica,
            8.5,
            PAGE_W - MARGIN,
            y,
            Align::Right,
            &tail,
        );
        page.line(MARGIN, y - 6.0, PAGE_W - MARGIN, y - 6.0, 0.6, 0.0);
        self.y = y - 18.0;
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
        self.y = y - 8.0;
    }

    fn note(&mut self, s: &str) {
        self.ensure(11.0);
        let y = self.y - 8.0;
        let s = fit(s, Font::Helvetica, 7.5, CONTENT_W);
        self.page()
            .text(Font::Helvetica, 7.5, MARGIN, y, Align::Left, &s);
        self.y = y - 3.0;
    }

    fn table_header(&mut self, cols: &[Col]) {
        let lines = cols
            .iter()
            .map(|c| c.head.lines().count())
            .max()
            .unwrap_or(1)
            .max(1);
        let h = lines as f32 * HEAD_LINE_H + 5.0;
        let total_w: f32 = cols.iter().map(|c| c.width).sum();
        let top = self.y;
        let page = self.page();
        page.fill_rect(MARGIN, top - h, total_w, h, 0.86);
        let mut x = MARGIN;
        for c in cols {
            let n = c.head.lines().count();
            for (i, line) in c.head.lines().enumerate() {
                // Bottom-align the header lines so single-line headers sit on the last line.
                let yy = top - h + 4.0 + (n - 1 - i) as f32 * HEAD_LINE_H;
                let s = fit(line, Font::HelveticaBold, HEAD, room(c));
                page.text(Font::HelveticaBold, HEAD, anchor(c, x), yy, c.align, &s);
            }
            x += c.width;
        }
        self.y = top - h;
    }

    /// Draws `rows` under a header, repeating the header on every page the table spans.
    fn table(&mut self, cols: &[Col], rows: &[Row]) {
        self.ensure(2.0 * HEAD_LINE_H + 5.0 + ROW_H);
        self.table_header(cols);
        let total_w: f32 = cols.iter().map(|c| c.width).sum();
        for (i, row) in rows.iter().enumerate() {
            if self.ensure(ROW_H) {
                self.table_header(cols);
            }
            let top = self.y;
            let font = if row.bold {
                Font::HelveticaBold
            } else {
                Font::Helvetica
            };
            let page = self.page();
            if row.bold {
                page.line(MARGIN, top, MARGIN + total_w, top, 0.5, 0.3);
            } else if i % 2 == 1 {
                page.fill_rect(MARGIN, top - ROW_H, total_w, ROW_H, 0.95);
            }
            let baseline = top - ROW_H + 3.5;
            let mut x = MARGIN;
            for (c, cell) in cols.iter().zip(&row.cells) {
                if !cell.is_empty() {
                    let s = fit(cell, font, BODY, room(c));
                    page.text(font, BODY, anchor(c, x), baseline, c.align, &s);
                }
                x += c.width;
            }
            self.y = top - ROW_H;
        }
        let y = self.y;
        self.page().line(MARGIN, y, MARGIN + total_w, y, 0.6, 0.0);
        self.y = y - 4.0;
    }

    fn trips(&mut self) {
        let lang = self.lang;
        let l = |nb, en| lang.pick(nb, en);
        let cols = [
            Col {
                head: l("Dato", "Date"),
                width: 50.0,
                align: Align::Left,
            },
            Col {
                head: l("Start", "Start"),
                width: 32.0,
                align: Align::Left,
            },
            Col {
                head: l("Slutt", "End"),
                width: 44.0,
                align: Align::Left,
            },
            Col {
                head: l("Fra", "From"),
                width: 126.0,
                align: Align::Left,
            },
            Col {
                head: l("Til", "To"),
                width: 126.0,
                align: Align::Left,
            },
            Col {
                head: l("Km-stand\nstart", "Odometer\nstart"),
                width: 56.0,
                align: Align::Right,
            },
            Col {
                head: l("Km-stand\nslutt", "Odometer\nend"),
                width: 56.0,
                align: Align::Right,
            },
            Col {
                head: "Km",
                width: 44.0,
                align: Align::Right,
            },
            Col {
                head: l("Sjåfør", "Driver"),
                width: 52.0,
                align: Align::Left,
            },
            Col {
                head: l("Type", "Type"),
                width: 70.0,
                align: Align::Left,
            },
            Col {
                head: l("Formål / kunde / sted", "Purpose / customer / site"),
                width: CONTENT_W - 656.0,
                align: Align::Left,
            },
        ];
        let rows: Vec<TripRow> = self.r.entries.iter().map(|e| trip_row(e, lang)).collect();
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
                "* Km beregnet fra GPS-sporet fordi kilometertelleren ikke var tilgjengelig.",
                "* Km computed from the GPS track because the odometer was not available.",
            ));
        }
        if rows.iter().any(|t| t.private) {
            self.note(l(
                "Private turer vises bare med dato og km.",
                "Private trips are shown with their date and km only.",
            ));
        }
    }

    fn totals(&mut self) {
        let lang = self.lang;
        let t = Totals::of(self.r.entries);
        let cols = [
            Col {
                head: "",
                width: 130.0,
                align: Align::Left,
            },
            Col {
                head: "Km",
                width: 70.0,
                align: Align::Right,
            },
            Col {
                head: lang.pick("Turer", "Trips"),
                width: 50.0,
                align: Align::Right,
            },
        ];
        let row = |label: &str, km: f64, n: usize, bold: bool| Row {
            cells: vec![label.to_owned(), fmt_km(km, lang), n.to_string()],
            bold,
        };
        let rows = [
            row(
                lang.pick("Yrkeskjøring", "Business"),
                t.business_km,
                t.business,
                false,
            ),
            row(
                lang.pick("Privat kjøring", "Private"),
                t.private_km,
                t.private,
                false,
            ),
            row(
                lang.pick("Ikke klassifisert", "Unclassified"),
                t.unclassified_km,
                t.unclassified,
                false,
            ),
            row(lang.pick("Totalt", "Total"), t.total_km(), t.count(), true),
        ];
        self.heading(lang.pick("Sum", "Totals"), 5.0 * ROW_H + 2.0 * HEAD_LINE_H);
        self.table(&cols, &rows);
    }

    fn odometer(&mut self) {
        let lang = self.lang;
        if self.r.odometer_readings.is_empty() {
            return;
        }
        let cols = [
            Col {
                head: lang.pick("Dato", "Date"),
                width: 70.0,
                align: Align::Left,
            },
            Col {
                head: lang.pick("Km-stand", "Odometer"),
                width: 80.0,
                align: Align::Right,
            },
            Col {
                head: lang.pick("Kjørt siden forrige", "Since previous"),
                width: 100.0,
                align: Align::Right,
            },
        ];
        let mut prev: Option<f64> = None;
        let rows: Vec<Row> = self
            .r
            .odometer_readings
            .iter()
            .map(|&(d, km)| {
                let diff = prev.map_or(String::new(), |p| fmt_km(km - p, lang));
                prev = Some(km);
                Row::plain(vec![fmt_date(d, lang), fmt_km(km, lang), diff])
            })
            .collect();
        self.heading(
            lang.pick(
                "Månedlig avlesning av kilometerteller",
                "Monthly odometer readings",
            ),
            3.0 * ROW_H,
        );
        self.table(&cols, &rows);
    }

    fn deviations(&mut self) {
        let lang = self.lang;
        self.heading(
            lang.pick(
                "Avvik (f.eks. enheten uten forbindelse)",
                "Deviations (e.g. device downtime)",
            ),
            3.0 * ROW_H,
        );
        if self.r.deviations.is_empty() {
            self.note(lang.pick(
                "Ingen avvik registrert i perioden.",
                "No deviations recorded in the period.",
            ));
            return;
        }
        let cols = [
            Col {
                head: lang.pick("Dato", "Date"),
                width: 60.0,
                align: Align::Left,
            },
            Col {
                head: lang.pick("Avvik", "Deviation"),
                width: 190.0,
                align: Align::Left,
            },
            Col {
                head: "Km",
                width: 50.0,
                align: Align::Right,
            },
            Col {
                head: lang.pick("Merknad", "Note"),
                width: CONTENT_W - 300.0,
                align: Align::Left,
            },
        ];
        let rows: Vec<Row> = self
            .r
            .deviations
            .iter()
            .map(|d| {
                Row::plain(vec![
                    fmt_date(d.date, lang),
                    deviation_kind(&d.kind, lang),
                    fmt_km(d.km, lang),
                    d.note.clone(),
                ])
            })
            .collect();
        self.table(&cols, &rows);
    }

    /// The footer of every page, written once the page count is known.
    fn footers(&mut self) {
        let lang = self.lang;
        let attribution = self.r.attribution.trim().to_owned();
        let fixed = lang.pick(
            "Registrert distanse, dato og klokkeslett kan ikke endres eller slettes; bare \
             klassifisering (yrke/privat) og formål føres i ettertid, og hver endring tas vare på.",
            "Recorded distance, date and time cannot be changed or deleted; only the \
             classification (business/private) and the purpose are entered afterwards, and every \
             change is kept.",
        );
        let total = self.doc.pages().len();
        for (i, page) in self.doc.pages_mut().iter_mut().enumerate() {
            let label = match lang {
                Lang::Nb => format!("Side {} av {}", i + 1, total),
                Lang::En => format!("Page {} of {}", i + 1, total),
            };
            let label_w = text_width(&label, Font::Helvetica, 8.0);
            page.line(MARGIN, 36.0, PAGE_W - MARGIN, 36.0, 0.4, 0.5);
            page.text(
                Font::Helvetica,
                8.0,
                PAGE_W - MARGIN,
                26.0,
                Align::Right,
                &label,
            );
            let room = CONTENT_W - label_w - 20.0;
            let fixed = fit(fixed, Font::Helvetica, FOOT, room);
            page.text(Font::Helvetica, FOOT, MARGIN, 26.0, Align::Left, &fixed);
            if !attribution.is_empty() {
                let a = fit(&attribution, Font::Helvetica, FOOT, room);
                page.text(Font::Helvetica, FOOT, MARGIN, 17.0, Align::Left, &a);
            }
        }
    }
}

/// One row of the trip table, and what the notes under the table need to know about it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TripRow {
    pub(crate) cells: [String; 11],
    pub(crate) private: bool,
    pub(crate) by_track: bool,
}

/// The row for one log entry. A private trip, whichever way it is stored, shows its date, km
/// and "Privat" and nothing else.
pub(crate) fn trip_row(e: &LogEntry, lang: Lang) -> TripRow {
    let private_row = |date: Date, km: f64| {
        let mut cells: [String; 11] = Default::default();
        cells[0] = fmt_date(date, lang);
        cells[7] = fmt_km(km, lang);
        cells[9] = lang.pick("Privat", "Private").to_owned();
        TripRow {
            cells,
            private: true,
            by_track: false,
        }
    };
    let t = match e {
        LogEntry::Private(p) => return private_row(p.date, p.km),
        LogEntry::Unclassified(p) => {
            // The log keeper's view of a trip its driver has not classified: date and km.
            let mut row = private_row(p.date, p.km);
            row.cells[9] = lang.pick("Ikke klassifisert", "Unclassified").to_owned();
            row.private = false;
            return row;
        }
        LogEntry::Trip(t) if t.classification == Classification::Private => {
            return private_row(t.date, t.km);
        }
        LogEntry::Trip(t) => t,
    };
    let by_track = t.distance_source == "track";
    let (kind, purpose) = match &t.classification {
        Classification::Business { purpose } => (lang.pick("Yrke", "Business"), purpose.clone()),
        _ => (
            lang.pick("Ikke klassifisert", "Unclassified"),
            String::new(),
        ),
    };
    let odo = |v: Option<f64>| v.map_or_else(|| DASH.to_owned(), |v| fmt_km(v, lang));
    let mut km = fmt_km(t.km, lang);
    if by_track {
        km.push('*');
    }
    let cells = [
        fmt_date(t.date, lang),
        fmt_time(t.start, t.date),
        fmt_time(t.end, t.date),
        place(&t.start_place),
        place(&t.end_place),
        odo(t.odometer_start_km),
        odo(t.odometer_end_km),
        km,
        t.driver
            .clone()
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| DASH.to_owned()),
        kind.to_owned(),
        purpose,
    ];
    TripRow {
        cells,
        private: false,
        by_track,
    }
}

fn place(s: &str) -> String {
    if s.trim().is_empty() {
        DASH.to_owned()
    } else {
        s.to_owned()
    }
}

#[derive(Debug, Default, PartialEq)]
pub(crate) struct Totals {
    pub(crate) business_km: f64,
    pub(crate) private_km: f64,
    pub(crate) unclassified_km: f64,
    pub(crate) business: usize,
    pub(crate) private: usize,
    pub(crate) unclassified: usize,
}

impl Totals {
    pub(crate) fn of(entries: &[LogEntry]) -> Totals {
        let mut t = Totals::default();
        for e in entries {
            let km = if e.km().is_finite() { e.km() } else { 0.0 };
            match e {
                LogEntry::Private(_) => {
                    t.private_km += km;
                    t.private += 1;
                }
                LogEntry::Unclassified(_) => {
                    t.unclassified_km += km;
                    t.unclassified += 1;
                }
                LogEntry::Trip(r) => match r.classification {
                    Classification::Business { .. } => {
                        t.business_km += km;
                        t.business += 1;
                    }
                    Classification::Private => {
                        t.private_km += km;
                        t.private += 1;
                    }
                    Classification::Unclassified => {
                        t.unclassified_km += km;
                        t.unclassified += 1;
                    }
                },
            }
        }
        t
    }

    pub(crate) fn total_km(&self) -> f64 {
        self.business_km + self.private_km + self.unclassified_km
    }

    pub(crate) fn count(&self) -> usize {
        self.business + self.private + self.unclassified
    }
}

fn deviation_kind(kind: &str, lang: Lang) -> String {
    match kind {
        "device_silent" => lang.pick(
            "Enheten var stille under kjøring",
            "Device silent while moving",
        ),
        "no_fix" => lang.pick("Ingen GPS-posisjon", "No GPS fix"),
        "late_data" => lang.pick("Data kom for sent", "Late data"),
        other => return other.to_owned(),
    }
    .to_owned()
}

/// `dd.mm.yyyy` in bokmål, ISO 8601 in English.
pub(crate) fn fmt_date(d: Date, lang: Lang) -> String {
    let (y, m, day) = (d.year(), u8::from(d.month()), d.day());
    match lang {
        Lang::Nb => format!("{day:02}.{m:02}.{y:04}"),
        Lang::En => format!("{y:04}-{m:02}-{day:02}"),
    }
}

/// Norwegian local time `HH:MM`, with `(+n)` when it falls `n` days after `date`.
pub(crate) fn fmt_time(t: Timestamp, date: Date) -> String {
    let Some(utc) = t.to_offset_date_time() else {
        return DASH.to_owned();
    };
    let local = utc.to_offset(trips::oslo_offset(t));
    let hm = format!("{:02}:{:02}", local.hour(), local.minute());
    let days = (local.date() - date).whole_days();
    if days > 0 {
        format!("{hm} (+{days})")
    } else {
        hm
    }
}

/// A distance with one decimal: `12 345,6` in bokmål, `12,345.6` in English.
pub(crate) fn fmt_km(v: f64, lang: Lang) -> String {
    if !v.is_finite() {
        return DASH.to_owned();
    }
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
    let negative = v < 0.0 && s.bytes().any(|b| matches!(b, b'1'..=b'9'));
    format!("{}{grouped}{dec}{frac}", if negative { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;
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
            driver: Some("E-1001".into()),
            classification,
        }
    }

    #[test]
    fn business_trip_row_has_every_field() {
        let row = trip_row(
            &LogEntry::Trip(trip(Classification::Business {
                purpose: "Kunde: Tøyen Bygg".into(),
            })),
            Lang::Nb,
        );
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
                "E-1001",
                "Yrke",
                "Kunde: Tøyen Bygg",
            ]
            .map(String::from)
        );
        assert!(!row.private && !row.by_track);
    }

    #[test]
    fn private_rows_show_date_and_km_only() {
        let stored_private = trip_row(&LogEntry::Trip(trip(Classification::Private)), Lang::Nb);
        let private_type = trip_row(
            &LogEntry::Private(PrivateTrip {
                id: 2,
                date: date!(2026 - 11 - 03),
                km: 12.4,
            }),
            Lang::Nb,
        );
        for row in [stored_private, private_type] {
            assert!(row.private);
            for (i, cell) in row.cells.iter().enumerate() {
                match i {
                    0 => assert_eq!(cell, "03.11.2026"),
                    7 => assert_eq!(cell, "12,4"),
                    9 => assert_eq!(cell, "Privat"),
                    _ => assert!(cell.is_empty(), "column {i} shows {cell:?}"),
                }
            }
        }
    }

    #[test]
    fn unclassified_and_track_distance() {
        let mut t = trip(Classification::Unclassified);
        t.distance_source = "track".into();
        t.odometer_start_km = None;
        t.driver = None;
        let row = trip_row(&LogEntry::Trip(t), Lang::En);
        assert_eq!(row.cells[5], "–");
        assert_eq!(row.cells[7], "12.4*");
        assert_eq!(row.cells[8], "–");
        assert_eq!(row.cells[9], "Unclassified");
        assert_eq!(row.cells[10], "");
        assert!(row.by_track);
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
