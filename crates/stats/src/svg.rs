//! A small server-rendered SVG bar chart, for the analyst's page.

use std::fmt::Write as _;

const WIDTH: u32 = 640;
const LABEL_W: u32 = 180;
const BAR_MAX_W: u32 = 360;
const ROW_H: u32 = 24;
const TOP: u32 = 40;
const MAX_LABEL_CHARS: usize = 32;

/// Escapes text for XML content and attribute values; drops characters XML 1.0 forbids.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

fn format_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A horizontal bar chart: one row per `(label, value)`, bars scaled to the largest value.
/// Negative and non-finite values are drawn as 0 (statistics here are never negative). Labels
/// longer than 32 characters are shortened; all text is escaped. Self-contained: no scripts,
/// no external references.
pub fn render_svg_bars(values: &[(String, f64)], title: &str) -> String {
    let rows = u32::try_from(values.len().max(1)).unwrap_or(u32::MAX / ROW_H);
    let height = TOP + rows.saturating_mul(ROW_H) + 16;
    let title = escape_xml(title);
    let clean = |v: f64| if v.is_finite() && v > 0.0 { v } else { 0.0 };
    let max = values.iter().map(|(_, v)| clean(*v)).fold(0.0, f64::max);

    let mut s = String::new();
    // Writing to a String cannot fail; the results are ignored deliberately.
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{title}" font-family="sans-serif" font-size="13">"#
    );
    let _ = write!(s, "<title>{title}</title>");
    let _ = write!(
        s,
        r#"<text x="8" y="22" font-size="16" font-weight="bold">{title}</text>"#
    );
    if values.is_empty() {
        let _ = write!(
            s,
            r##"<text x="8" y="{}" fill="#666">no data</text>"##,
            TOP + 16
        );
    }
    for (i, (label, value)) in values.iter().enumerate() {
        let y = TOP
            + u32::try_from(i)
                .unwrap_or(u32::MAX / ROW_H)
                .saturating_mul(ROW_H);
        let v = clean(*value);
        let w = if max > 0.0 {
            (v / max * f64::from(BAR_MAX_W)).round()
        } else {
            0.0
        };
        let label = escape_xml(&truncate(label, MAX_LABEL_CHARS));
        let text_y = y + 16;
        let _ = write!(
            s,
            r##"<g><text x="{}" y="{text_y}" text-anchor="end">{label}</text><rect x="{LABEL_W}" y="{}" width="{w}" height="{}" fill="#4a7ab5"/><text x="{}" y="{text_y}">{}</text></g>"##,
            LABEL_W - 8,
            y + 4,
            ROW_H - 6,
            f64::from(LABEL_W) + w + 6.0,
            escape_xml(&format_value(v)),
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks that tags are balanced and that every `&` starts a known entity. Returns the
    /// text content.
    fn check_well_formed(svg: &str) -> String {
        let mut stack: Vec<String> = Vec::new();
        let mut text = String::new();
        let mut rest = svg;
        while let Some(open) = rest.find('<') {
            text.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let close = after.find('>').expect("tag closed");
            let tag = &after[..close];
            assert!(!tag.contains('<'), "stray < inside tag {tag:?}");
            if let Some(name) = tag.strip_prefix('/') {
                let top = stack.pop().expect("closing tag has an opener");
                assert_eq!(top, name.trim());
            } else {
                let name: String = tag
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '/')
                    .collect();
                assert!(!name.is_empty(), "empty tag");
                assert!(
                    name.chars().all(|c| c.is_ascii_alphanumeric()),
                    "odd tag name {name:?}"
                );
                if !tag.ends_with('/') {
                    stack.push(name);
                }
            }
            rest = &after[close + 1..];
        }
        text.push_str(rest);
        assert!(stack.is_empty(), "unclosed: {stack:?}");
        assert!(!text.contains('>'), "raw > in text");
        for (i, _) in svg.match_indices('&') {
            let ent = &svg[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                    .iter()
                    .any(|e| ent.starts_with(e)),
                "bare & at {i}"
            );
        }
        text
    }

    #[test]
    fn well_formed_and_escaped() {
        let values = vec![
            ("Servicebiler <Øst> & Co".to_owned(), 120.0),
            ("\"quoted\" 'label'".to_owned(), 60.5),
            ("<script>alert(1)</script>".to_owned(), 0.0),
            ("negative".to_owned(), -5.0),
            ("nan".to_owned(), f64::NAN),
        ];
        let svg = render_svg_bars(&values, "Km per uke < 2024 & mer");
        let text = check_well_formed(&svg);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("Servicebiler &lt;Øst&gt; &amp; Co"));
        assert!(svg.contains("Km per uke &lt; 2024 &amp; mer"));
        assert!(svg.contains("&quot;quoted&quot; &#39;label&#39;"));
        assert!(!svg.contains("<script"));
        assert!(text.contains("120"));
        assert!(text.contains("60.5"));
        assert_eq!(svg.matches("<rect").count(), 5);
        // The largest value gets the full bar; negative and NaN get none.
        assert!(svg.contains(&format!("width=\"{BAR_MAX_W}\"")));
        assert_eq!(svg.matches("width=\"0\"").count(), 3);
    }

    #[test]
    fn empty_chart_is_well_formed() {
        let svg = render_svg_bars(&[], "Ingen data");
        let text = check_well_formed(&svg);
        assert!(text.contains("no data"));
    }

    #[test]
    fn long_labels_are_shortened_and_control_characters_dropped() {
        let long = "ø".repeat(100);
        let svg = render_svg_bars(&[(long, 1.0), ("a\u{0}b\u{7}".to_owned(), 2.0)], "t");
        check_well_formed(&svg);
        assert!(svg.contains(&format!("{}…", "ø".repeat(MAX_LABEL_CHARS - 1))));
        assert!(!svg.contains('\u{0}'));
        assert!(svg.contains(">ab<"));
    }
}
