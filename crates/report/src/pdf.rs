//! A small PDF 1.4 writer: just enough for tabular reports.
//!
//! Pages carry uncompressed content streams that draw text in the two standard Type1 fonts
//! Helvetica and Helvetica-Bold (`/WinAnsiEncoding`, so no font is embedded), lines and filled
//! rectangles. [`Document::finish`] writes the catalog, the page tree, the pages, the fonts, an
//! info dictionary, the cross-reference table with the byte offset of every object, and the
//! trailer.
//!
//! Text is given as `&str` and encoded to WinAnsi (Windows-1252) bytes: all of Latin-1 (æ ø å
//! Æ Ø Å é ü …) plus the typographic extras in 0x80–0x9F (– — ‘ ’ “ ” … € •). Anything else
//! becomes `?`. [`text_width`] measures with the fonts' AFM widths so callers can align and
//! wrap ([`wrap`]; [`fit`] shortens only the writer's own labels).
//!
//! Coordinates are PDF points (1/72 inch) with the origin at the bottom left of the page.

use std::fmt::Write as _;

use crate::metrics::{HELVETICA, HELVETICA_BOLD};

/// A4 width in points.
pub const A4_SHORT: f32 = 595.28;
/// A4 height in points.
pub const A4_LONG: f32 = 841.89;

/// The fonts every document carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Font {
    Helvetica,
    HelveticaBold,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Font::Helvetica => "F1",
            Font::HelveticaBold => "F2",
        }
    }

    fn widths(self) -> &'static [u16; 224] {
        match self {
            Font::Helvetica => &HELVETICA,
            Font::HelveticaBold => &HELVETICA_BOLD,
        }
    }
}

/// The WinAnsi byte for `c`, or `None` when the encoding has no glyph for it.
pub fn winansi_byte(c: char) -> Option<u8> {
    let u = u32::from(c);
    match u {
        0x20..=0x7E | 0xA0..=0xFF => u8::try_from(u).ok(),
        _ => Some(match c {
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8A,
            '‹' => 0x8B,
            'Œ' => 0x8C,
            'Ž' => 0x8E,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9A,
            '›' => 0x9B,
            'œ' => 0x9C,
            'ž' => 0x9E,
            'Ÿ' => 0x9F,
            _ => return None,
        }),
    }
}

/// `s` as WinAnsi bytes: whitespace controls (tab, newline) become a space, a few common
/// symbols their ASCII look-alikes (`→` is `->`), anything else the encoding cannot show `?`.
pub fn encode_winansi(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        match (winansi_byte(c), substitute(c)) {
            (Some(b), _) => out.push(b),
            (None, Some(sub)) => out.extend_from_slice(sub),
            (None, None) if c.is_whitespace() => out.push(b' '),
            (None, None) => out.push(b'?'),
        }
    }
    out
}

/// What a few common characters outside WinAnsi print as, instead of `?` (an arrow in a
/// deviation's note: "10 091,8 → 10 000,5").
fn substitute(c: char) -> Option<&'static [u8]> {
    Some(match c {
        '→' | '⟶' => b"->",
        '←' => b"<-",
        '≥' => b">=",
        '≤' => b"<=",
        '−' | '‐' | '‑' => b"-",
        '\u{2009}' | '\u{202f}' => b" ",
        _ => return None,
    })
}

fn bytes_width(bytes: &[u8], font: Font, size: f32) -> f32 {
    let table = font.widths();
    let units: u32 = bytes
        .iter()
        .map(|&b| {
            let i = usize::from(b.saturating_sub(32));
            u32::from(table.get(i).copied().unwrap_or(0))
        })
        .sum();
    units as f32 * size / 1000.0
}

/// The width in points of `s` set in `font` at `size` points.
pub fn text_width(s: &str, font: Font, size: f32) -> f32 {
    bytes_width(&encode_winansi(s), font, size)
}

/// `s`, shortened with a trailing "…" when it is wider than `max` points. For labels the
/// writer chooses itself; a document's data is wrapped ([`wrap`]), never cut.
pub fn fit(s: &str, font: Font, size: f32, max: f32) -> String {
    if text_width(s, font, size) <= max {
        return s.to_owned();
    }
    let ellipsis = text_width("…", font, size);
    let mut out = String::new();
    let mut width = 0.0;
    for c in s.chars() {
        let w = text_width(c.encode_utf8(&mut [0; 4]), font, size);
        if width + w + ellipsis > max {
            break;
        }
        width += w;
        out.push(c);
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    if ellipsis <= max {
        out.push('…');
    }
    out
}

/// `s` broken into lines no wider than `max` points, at spaces where it can and inside a word
/// only when the word alone is wider than a line. Nothing is dropped: the lines hold every
/// character of `s` (runs of whitespace become one space). An empty `s` is no lines.
pub fn wrap(s: &str, font: Font, size: f32, max: f32) -> Vec<String> {
    let space = text_width(" ", font, size);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut width = 0.0;
    for word in s.split_whitespace() {
        let w = text_width(word, font, size);
        if !line.is_empty() && width + space + w <= max {
            line.push(' ');
            line.push_str(word);
            width += space + w;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            width = 0.0;
        }
        if w <= max {
            line.push_str(word);
            width = w;
            continue;
        }
        // A word wider than the line: break it between characters.
        for c in word.chars() {
            let cw = text_width(c.encode_utf8(&mut [0; 4]), font, size);
            if !line.is_empty() && width + cw > max {
                lines.push(std::mem::take(&mut line));
                width = 0.0;
            }
            line.push(c);
            width += cw;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// How a run of text sits relative to its x coordinate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
    Center,
}

/// A number for a content stream: at most two decimals, no trailing zeros.
fn num(v: f32) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// Escapes WinAnsi bytes for a PDF literal string `( … )`.
fn escape_into(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        if matches!(b, b'(' | b')' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
}

/// One page and its content stream.
#[derive(Clone, Debug)]
pub struct Page {
    width: f32,
    height: f32,
    content: Vec<u8>,
}

impl Page {
    pub fn new(width: f32, height: f32) -> Page {
        Page {
            width,
            height,
            content: Vec::new(),
        }
    }

    pub fn width(&self) -> f32 {
        self.width
    }

    pub fn height(&self) -> f32 {
        self.height
    }

    /// The raw content stream drawn so far.
    pub fn content(&self) -> &[u8] {
        &self.content
    }

    fn op(&mut self, s: &str) {
        self.content.extend_from_slice(s.as_bytes());
        self.content.push(b'\n');
    }

    /// Draws `s` with its baseline at `y`, placed against `x` as `align` says.
    pub fn text(&mut self, font: Font, size: f32, x: f32, y: f32, align: Align, s: &str) {
        let bytes = encode_winansi(s);
        let w = bytes_width(&bytes, font, size);
        let x = match align {
            Align::Left => x,
            Align::Right => x - w,
            Align::Center => x - w / 2.0,
        };
        self.op(&format!(
            "BT /{} {} Tf {} {} Td",
            font.resource(),
            num(size),
            num(x),
            num(y)
        ));
        self.content.push(b'(');
        escape_into(&mut self.content, &bytes);
        self.content.extend_from_slice(b") Tj ET\n");
    }

    /// A straight line `width` points wide in `gray` (0 black, 1 white).
    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, width: f32, gray: f32) {
        self.op(&format!(
            "q {} G {} w {} {} m {} {} l S Q",
            num(gray),
            num(width),
            num(x1),
            num(y1),
            num(x2),
            num(y2)
        ));
    }

    /// A filled rectangle in `gray`, with its lower left corner at (`x`, `y`).
    pub fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, gray: f32) {
        self.op(&format!(
            "q {} g {} {} {} {} re f Q",
            num(gray),
            num(x),
            num(y),
            num(w),
            num(h)
        ));
    }
}

/// Document metadata for the info dictionary.
#[derive(Clone, Debug, Default)]
pub struct Info {
    pub title: String,
    pub author: String,
    pub subject: String,
}

/// A PDF document under construction.
#[derive(Clone, Debug, Default)]
pub struct Document {
    pages: Vec<Page>,
}

/// A text string for the info dictionary: UTF-16BE with a byte order mark, in hex.
fn text_string(s: &str) -> String {
    let mut out = String::from("<FEFF");
    for unit in s.encode_utf16() {
        let _ = write!(out, "{unit:04X}");
    }
    out.push('>');
    out
}

impl Document {
    pub fn new() -> Document {
        Document::default()
    }

    /// Appends a page and returns it for drawing.
    pub fn add_page(&mut self, width: f32, height: f32) -> &mut Page {
        let i = self.pages.len();
        self.pages.push(Page::new(width, height));
        &mut self.pages[i]
    }

    pub fn pages(&self) -> &[Page] {
        &self.pages
    }

    pub fn pages_mut(&mut self) -> &mut [Page] {
        &mut self.pages
    }

    /// The finished file. A document without pages gets one blank A4 page, since a page tree
    /// must not be empty.
    pub fn finish(mut self, info: &Info) -> Vec<u8> {
        if self.pages.is_empty() {
            self.pages.push(Page::new(A4_SHORT, A4_LONG));
        }
        // Objects: 1 catalog, 2 page tree, 3 Helvetica, 4 Helvetica-Bold, 5 info, then a page
        // object and its content stream per page.
        let page_obj = |i: usize| 6 + 2 * i;
        let total = 6 + 2 * self.pages.len(); // including object 0
        let mut out: Vec<u8> = Vec::new();
        let mut offsets = vec![0usize; total];
        out.extend_from_slice(b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");

        let mut obj = |out: &mut Vec<u8>, n: usize, body: &[u8]| {
            offsets[n] = out.len();
            out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        };

        obj(&mut out, 1, b"<< /Type /Catalog /Pages 2 0 R >>");
        let kids: Vec<String> = (0..self.pages.len())
            .map(|i| format!("{} 0 R", page_obj(i)))
            .collect();
        obj(
            &mut out,
            2,
            format!(
                "<< /Type /Pages /Kids [{}] /Count {} >>",
                kids.join(" "),
                self.pages.len()
            )
            .as_bytes(),
        );
        for (n, name) in [(3, "Helvetica"), (4, "Helvetica-Bold")] {
            obj(
                &mut out,
                n,
                format!(
                    "<< /Type /Font /Subtype /Type1 /BaseFont /{name} /Encoding /WinAnsiEncoding >>"
                )
                .as_bytes(),
            );
        }
        obj(
            &mut out,
            5,
            format!(
                "<< /Title {} /Author {} /Subject {} /Producer {} >>",
                text_string(&info.title),
                text_string(&info.author),
                text_string(&info.subject),
                text_string("Sporvern")
            )
            .as_bytes(),
        );
        for (i, page) in self.pages.iter().enumerate() {
            let n = page_obj(i);
            obj(
                &mut out,
                n,
                format!(
                    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] \
                     /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
                    num(page.width),
                    num(page.height),
                    n + 1
                )
                .as_bytes(),
            );
            let mut stream = format!("<< /Length {} >>\nstream\n", page.content.len()).into_bytes();
            stream.extend_from_slice(&page.content);
            stream.extend_from_slice(b"\nendstream");
            obj(&mut out, n + 1, &stream);
        }

        let xref = out.len();
        out.extend_from_slice(format!("xref\n0 {total}\n").as_bytes());
        out.extend_from_slice(b"0000000000 65535 f \n");
        for offset in offsets.iter().skip(1) {
            out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {total} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n"
            )
            .as_bytes(),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norwegian_letters_map_to_latin1_bytes() {
        assert_eq!(encode_winansi("æøåÆØÅ"), b"\xe6\xf8\xe5\xc6\xd8\xc5");
        assert_eq!(encode_winansi("T\u{f8}yen"), b"T\xf8yen");
    }

    #[test]
    fn typographic_extras_and_unknowns() {
        assert_eq!(encode_winansi("–…€"), b"\x96\x85\x80");
        assert_eq!(encode_winansi("a\u{0101}b🚗č"), b"a?b??");
        assert_eq!(encode_winansi("a\tb\nc\u{7}"), b"a b c?");
        assert_eq!(
            encode_winansi("10 091,8 → 10 000,5"),
            b"10 091,8 -> 10 000,5"
        );
    }

    #[test]
    fn strings_are_escaped() {
        let mut p = Page::new(100.0, 100.0);
        p.text(Font::Helvetica, 10.0, 0.0, 0.0, Align::Left, r"a(b)c\d");
        let s = String::from_utf8_lossy(p.content()).into_owned();
        assert!(s.contains(r"(a\(b\)c\\d) Tj"), "{s}");
    }

    #[test]
    fn widths_follow_the_afm() {
        // "Hello": H 722 e 556 l 222 l 222 o 556 = 2278.
        assert!((text_width("Hello", Font::Helvetica, 1000.0) - 2278.0).abs() < 0.01);
        // Bold: H 722 e 556 l 278 l 278 o 611 = 2445.
        assert!((text_width("Hello", Font::HelveticaBold, 1000.0) - 2445.0).abs() < 0.01);
        assert!((text_width("ø", Font::Helvetica, 1000.0) - 611.0).abs() < 0.01);
    }

    #[test]
    fn fit_truncates_with_an_ellipsis() {
        let s = "Lager Alnabru, Strømsveien 266";
        let max = 50.0;
        let f = fit(s, Font::Helvetica, 8.0, max);
        assert!(f.ends_with('…'), "{f}");
        assert!(text_width(&f, Font::Helvetica, 8.0) <= max);
        assert_eq!(fit("Kort", Font::Helvetica, 8.0, max), "Kort");
    }

    #[test]
    fn wrap_keeps_every_word_and_breaks_long_ones() {
        let s = "Service varmtvannsbereder, Lillestrøm Sykehjem (Storgata 12), avtale 2026-114";
        let lines = wrap(s, Font::Helvetica, 8.0, 90.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert_eq!(lines.join(" "), s);
        for l in &lines {
            assert!(text_width(l, Font::Helvetica, 8.0) <= 90.0, "{l}");
        }
        let long = "Sameiet-Tøyen-Torg-Fellesgarasje-Nord";
        let lines = wrap(long, Font::Helvetica, 8.0, 40.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), long);
        assert!(wrap("  ", Font::Helvetica, 8.0, 40.0).is_empty());
    }

    #[test]
    fn numbers_are_compact() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.5), "12.5");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(841.89), "841.89");
    }
}
