//! A plain PDF of one of the register's HTML documents (information notice, DPIA draft,
//! record of processing, discussion agenda, access-case record): the same content laid out as
//! text on A4 pages — headings, paragraphs, list items and table rows — so the PDF and the HTML
//! never say different things.
//!
//! It reads only the small, fixed subset of HTML those documents are made of (`h1`, `h2`, `p`,
//! `ul`/`ol`/`li`, `table`/`tr`/`th`/`td`, `strong`; the `head` is skipped) and never fails:
//! unknown tags are ignored and their text kept.

use crate::pdf::{A4_LONG, A4_SHORT, Align, Document, Font, Info, text_width};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Title,
    Heading,
    Paragraph,
    Item,
    Row,
    HeaderRow,
}

#[derive(Debug)]
struct Block {
    kind: Kind,
    text: String,
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// The blocks of text in an HTML document, in order.
fn blocks(html: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    let mut skip_depth = 0usize;
    let mut ordered: Vec<Option<u32>> = Vec::new();
    let mut cells_in_row = 0usize;
    let mut rest = html;
    let flush = |current: &mut Option<Block>, out: &mut Vec<Block>| {
        if let Some(mut b) = current.take() {
            b.text = b.text.split_whitespace().collect::<Vec<_>>().join(" ");
            if !b.text.is_empty() {
                out.push(b);
            }
        }
    };
    while !rest.is_empty() {
        let (text, tag) = match rest.find('<') {
            Some(i) => {
                let text = &rest[..i];
                let after = &rest[i + 1..];
                match after.find('>') {
                    Some(j) => {
                        rest = &after[j + 1..];
                        (text, Some(&after[..j]))
                    }
                    None => {
                        rest = "";
                        (text, None)
                    }
                }
            }
            None => {
                let text = rest;
                rest = "";
                (text, None)
            }
        };
        if skip_depth == 0 && !text.is_empty() {
            let t = unescape(text);
            match &mut current {
                Some(b) => b.text.push_str(&t),
                None if !t.trim().is_empty() => {
                    current = Some(Block {
                        kind: Kind::Paragraph,
                        text: t,
                    })
                }
                None => {}
            }
        }
        let Some(tag) = tag else { continue };
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        match (name.as_str(), closing) {
            ("head" | "style" | "title", false) => skip_depth += 1,
            ("head" | "style" | "title", true) => skip_depth = skip_depth.saturating_sub(1),
            _ if skip_depth > 0 => {}
            ("h1", false) | ("h2", false) | ("p", false) | ("li", false) | ("tr", false) => {
                flush(&mut current, &mut out);
                let kind = match name.as_str() {
                    "h1" => Kind::Title,
                    "h2" => Kind::Heading,
                    "p" => Kind::Paragraph,
                    "li" => Kind::Item,
                    _ => Kind::Row,
                };
                let text = if kind == Kind::Item {
                    match ordered.last_mut() {
                        Some(Some(n)) => {
                            *n += 1;
                            format!("{n}. ")
                        }
                        _ => "• ".to_owned(),
                    }
                } else {
                    String::new()
                };
                cells_in_row = 0;
                current = Some(Block { kind, text });
            }
            ("h1" | "h2" | "p" | "li" | "tr", true) => flush(&mut current, &mut out),
            ("ol", false) => ordered.push(Some(0)),
            ("ul", false) => ordered.push(None),
            ("ol" | "ul", true) => {
                flush(&mut current, &mut out);
                ordered.pop();
            }
            ("td" | "th", false) => {
                if let Some(b) = &mut current {
                    if name == "th" {
                        b.kind = Kind::HeaderRow;
                    }
                    if cells_in_row > 0 {
                        b.text.push_str(" | ");
                    }
                }
                cells_in_row += 1;
            }
            ("br", _) => {
                if let Some(b) = &mut current {
                    b.text.push(' ');
                }
            }
            _ => {}
        }
    }
    flush(&mut current, &mut out);
    out
}

/// Splits `text` into lines no wider than `max` points.
fn wrap(text: &str, font: Font, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if text_width(&candidate, font, size) <= max || line.is_empty() {
            line = candidate;
            // A single word wider than the line is cut.
            while text_width(&line, font, size) > max && line.chars().count() > 1 {
                let mut head = String::new();
                for c in line.chars() {
                    let mut next = head.clone();
                    next.push(c);
                    if text_width(&next, font, size) > max {
                        break;
                    }
                    head = next;
                }
                if head.is_empty() {
                    break;
                }
                let tail = line[head.len()..].to_owned();
                lines.push(head);
                line = tail;
            }
        } else {
            lines.push(std::mem::take(&mut line));
            line = word.to_owned();
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The document as a PDF. `footer` is printed on every page with the page number.
pub fn html_document_pdf(html: &str, info: &Info, footer: &str) -> Vec<u8> {
    const MARGIN: f32 = 56.0;
    let width = A4_SHORT - 2.0 * MARGIN;
    let mut doc = Document::new();
    let mut y = A4_LONG - MARGIN;
    let mut page_no = 1;
    let new_page = |doc: &mut Document, page_no: usize| {
        let p = doc.add_page(A4_SHORT, A4_LONG);
        p.text(
            Font::Helvetica,
            8.0,
            A4_SHORT - MARGIN,
            MARGIN / 2.0,
            Align::Right,
            &format!("{footer} — {page_no}"),
        );
    };
    new_page(&mut doc, page_no);
    for b in blocks(html) {
        let (font, size, before, indent) = match b.kind {
            Kind::Title => (Font::HelveticaBold, 16.0, 0.0, 0.0),
            Kind::Heading => (Font::HelveticaBold, 12.0, 10.0, 0.0),
            Kind::Paragraph => (Font::Helvetica, 10.0, 4.0, 0.0),
            Kind::Item => (Font::Helvetica, 10.0, 2.0, 12.0),
            Kind::Row => (Font::Helvetica, 9.0, 3.0, 0.0),
            Kind::HeaderRow => (Font::HelveticaBold, 9.0, 3.0, 0.0),
        };
        let leading = size * 1.35;
        let lines = wrap(&b.text, font, size, width - indent);
        y -= before;
        for (i, line) in lines.iter().enumerate() {
            if y - leading < MARGIN {
                page_no += 1;
                new_page(&mut doc, page_no);
                y = A4_LONG - MARGIN;
            }
            y -= leading;
            // Continuation lines of a list item line up with its text, not its bullet.
            let x = MARGIN
                + indent
                + if i > 0 && b.kind == Kind::Item {
                    10.0
                } else {
                    0.0
                };
            if let Some(p) = doc.pages_mut().last_mut() {
                p.text(font, size, x, y, Align::Left, line);
            }
        }
        if b.kind == Kind::Title {
            y -= 6.0;
            if let Some(p) = doc.pages_mut().last_mut() {
                p.line(MARGIN, y, MARGIN + width, y, 0.6, 0.4);
            }
        }
    }
    doc.finish(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_follow_the_html() {
        let html = "<!DOCTYPE html><html><head><title>T</title><style>h1{x:y}</style></head><body>\
            <h1>Tittel &amp; mer</h1><p>Første <strong>avsnitt</strong></p>\
            <ol><li>En</li><li>To</li></ol><ul><li>Punkt</li></ul>\
            <table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table></body></html>";
        let got: Vec<(Kind, String)> = blocks(html).into_iter().map(|b| (b.kind, b.text)).collect();
        assert_eq!(
            got,
            vec![
                (Kind::Title, "Tittel & mer".to_owned()),
                (Kind::Paragraph, "Første avsnitt".to_owned()),
                (Kind::Item, "1. En".to_owned()),
                (Kind::Item, "2. To".to_owned()),
                (Kind::Item, "• Punkt".to_owned()),
                (Kind::HeaderRow, "A | B".to_owned()),
                (Kind::Row, "1 | 2".to_owned()),
            ]
        );
    }

    #[test]
    fn long_text_wraps_and_makes_pages() {
        let long = "ord ".repeat(3000);
        let pdf = html_document_pdf(
            &format!("<h1>T</h1><p>{long}</p>"),
            &Info::default(),
            "test",
        );
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.starts_with("%PDF-1.4"));
        assert!(text.matches("/Type /Page ").count() >= 2, "several pages");
        assert!(wrap("a b c", Font::Helvetica, 10.0, 5.0).len() == 3);
        assert!(
            blocks("<p>unclosed <b").len() == 1,
            "no panic on broken input"
        );
    }
}
