//! The organisation written back as an organisation file: `org show` prints it, and applying
//! what it prints changes nothing.

use std::fmt::Write;

use crate::classify::{ClassificationRules, RuleClass, SiteMatch, WEEKDAYS};
use crate::model::{Geometry, Org};

fn q(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `[classification]` section, or nothing when no rule is configured.
pub fn classification_toml(c: &ClassificationRules) -> String {
    let mut s = String::new();
    if c.is_empty()
        && c.unclassified_after_days == ClassificationRules::default().unclassified_after_days
    {
        return s;
    }
    let _ = writeln!(s, "\n[classification]");
    let hours: Vec<String> = WEEKDAYS
        .iter()
        .zip(&c.working_hours)
        .filter_map(|(d, h)| {
            h.map(|h| {
                format!(
                    "{d} = \"{:02}:{:02}-{:02}:{:02}\"",
                    h.from.hour(),
                    h.from.minute(),
                    h.to.hour(),
                    h.to.minute()
                )
            })
        })
        .collect();
    if !hours.is_empty() {
        let _ = writeln!(s, "working_hours = {{ {} }}", hours.join(", "));
    }
    let _ = writeln!(
        s,
        "outside_working_hours = {}",
        q(c.outside_working_hours.map_or("none", RuleClass::as_str))
    );
    let _ = writeln!(s, "unclassified_after_days = {}", c.unclassified_after_days);
    for r in &c.sites {
        let _ = writeln!(s, "\n[[classification.sites]]");
        match &r.site {
            SiteMatch::Named(n) => {
                let _ = writeln!(s, "site = {}", q(n));
            }
            SiteMatch::Kind(k) => {
                let _ = writeln!(s, "kind = {}", q(k.as_str()));
            }
        }
        let _ = writeln!(s, "class = {}", q(r.class.as_str()));
    }
    for p in &c.periods {
        let _ = writeln!(
            s,
            "\n[[classification.periods]]\nname = {}\nfrom = {}\nto = {}\nclass = {}",
            q(&p.name),
            p.from,
            p.to,
            q(p.class.as_str())
        );
    }
    s
}

pub fn to_toml(org: &Org) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "[organisation]\nname = {}", q(&org.organisation.name));
    if let Some(n) = &org.organisation.org_number {
        let _ = writeln!(s, "org_number = {}", q(n));
    }
    if let Some(b) = &org.organisation.driver_behaviour_basis {
        let _ = writeln!(
            s,
            "driver_behaviour_basis = {{ balancing_test = {}, dpia = {} }}",
            q(&b.balancing_test),
            q(&b.dpia)
        );
    }
    for v in &org.vehicles {
        let _ = writeln!(
            s,
            "\n[[vehicles]]\nreg = {}\nkind = {}",
            q(v.reg.as_str()),
            q(v.kind.as_str())
        );
        if let Some(g) = &v.group {
            let _ = writeln!(s, "group = {}", q(g));
        }
        if let Some(d) = &v.description {
            let _ = writeln!(s, "description = {}", q(d));
        }
        let purposes: Vec<String> = v.purposes.iter().map(|p| q(p.as_str())).collect();
        let _ = writeln!(s, "purposes = [{}]", purposes.join(", "));
    }
    for d in &org.devices {
        let _ = writeln!(
            s,
            "\n[[devices]]\nprotocol = {}\nid = {}\nvehicle = {}",
            q(d.protocol.as_str()),
            q(d.external_id.as_str()),
            q(d.vehicle.as_str())
        );
        if let Some(m) = &d.model {
            let _ = writeln!(s, "model = {}", q(m));
        }
        if let Some(m) = &d.privacy_input {
            let _ = writeln!(s, "privacy_input = {}", q(m));
        }
        if let Some(m) = &d.panic_input {
            let _ = writeln!(s, "panic_input = {}", q(m));
        }
        if d.virtual_odometer {
            let _ = writeln!(s, "virtual_odometer = true");
        }
        if let Some(r) = d.rank {
            let _ = writeln!(s, "rank = {r}");
        }
    }
    for e in &org.employees {
        let _ = writeln!(
            s,
            "\n[[employees]]\nnumber = {}\nname = {}",
            q(&e.number),
            q(&e.name)
        );
        if let Some(m) = &e.email {
            let _ = writeln!(s, "email = {}", q(m));
        }
        if let Some(p) = &e.phone {
            let _ = writeln!(s, "phone = {}", q(p));
        }
        let _ = writeln!(s, "status = {}", q(e.status.as_str()));
        if let Some(d) = &e.driver_id {
            let _ = writeln!(s, "driver_id = {}", q(d));
        }
    }
    for a in &org.assignments {
        let _ = writeln!(
            s,
            "\n[[assignments]]\nemployee = {}\nvehicle = {}\nfrom = {}",
            q(&a.employee),
            q(a.vehicle.as_str()),
            a.from
        );
        if let Some(to) = a.to {
            let _ = writeln!(s, "to = {to}");
        }
    }
    for site in &org.sites {
        let _ = writeln!(
            s,
            "\n[[sites]]\nname = {}\nkind = {}",
            q(&site.name),
            q(site.kind.as_str())
        );
        if let Some(a) = &site.address {
            let _ = writeln!(s, "address = {}", q(a));
        }
        match &site.geometry {
            Geometry::Circle { lat, lon, radius_m } => {
                let _ = writeln!(
                    s,
                    "circle = {{ lat = {lat:?}, lon = {lon:?}, radius_m = {radius_m:?} }}"
                );
            }
            Geometry::Polygon(ring) => {
                let pts: Vec<String> = ring
                    .iter()
                    .map(|(a, b)| format!("[{a:?}, {b:?}]"))
                    .collect();
                let _ = writeln!(s, "polygon = [{}]", pts.join(", "));
            }
        }
    }
    for u in &org.users {
        let roles: Vec<String> = u.roles.iter().map(|r| q(r)).collect();
        let _ = writeln!(
            s,
            "\n[[users]]\nname = {}\nroles = [{}]",
            q(&u.name),
            roles.join(", ")
        );
        if let Some(e) = &u.employee {
            let _ = writeln!(s, "employee = {}", q(e));
        }
    }
    s.push_str(&classification_toml(&org.classification));
    s
}
