//! What applying an organisation file changes, for the report `org apply` prints and for the
//! audit ledger.

use std::fmt;

use crate::model::Org;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Changed,
    /// Gone from the file. Nothing is deleted: history (trips, the ledger) still refers to it,
    /// so it is retired and can come back.
    Retired,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    /// `vehicle`, `device`, `employee`, `assignment`, `site`, `organisation`, `classification`.
    pub entity: &'static str,
    pub key: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = match self.kind {
            ChangeKind::Added => "+",
            ChangeKind::Changed => "~",
            ChangeKind::Retired => "-",
        };
        write!(f, "{sign} {} {}", self.entity, self.key)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes(pub Vec<Change>);

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return writeln!(f, "no changes");
        }
        for c in &self.0 {
            writeln!(f, "{c}")?;
        }
        Ok(())
    }
}

fn compare<T: PartialEq, K: PartialEq + fmt::Display>(
    out: &mut Vec<Change>,
    entity: &'static str,
    current: &[T],
    desired: &[T],
    key: impl Fn(&T) -> K,
) {
    for d in desired {
        match current.iter().find(|c| key(c) == key(d)) {
            None => out.push(Change {
                kind: ChangeKind::Added,
                entity,
                key: key(d).to_string(),
            }),
            Some(c) if c != d => out.push(Change {
                kind: ChangeKind::Changed,
                entity,
                key: key(d).to_string(),
            }),
            Some(_) => {}
        }
    }
    for c in current {
        if !desired.iter().any(|d| key(d) == key(c)) {
            out.push(Change {
                kind: ChangeKind::Retired,
                entity,
                key: key(c).to_string(),
            });
        }
    }
}

/// The changes that turn `current` into `desired`.
pub fn diff(current: &Org, desired: &Org) -> Changes {
    let mut out = Vec::new();
    if current.organisation != desired.organisation {
        out.push(Change {
            kind: if current.organisation.name.is_empty() {
                ChangeKind::Added
            } else {
                ChangeKind::Changed
            },
            entity: "organisation",
            key: desired.organisation.name.clone(),
        });
    }
    compare(
        &mut out,
        "vehicle",
        &current.vehicles,
        &desired.vehicles,
        |v| v.reg.clone(),
    );
    compare(
        &mut out,
        "device",
        &current.devices,
        &desired.devices,
        |d| format!("{} {}", d.protocol, d.external_id),
    );
    compare(
        &mut out,
        "employee",
        &current.employees,
        &desired.employees,
        |e| e.number.clone(),
    );
    compare(
        &mut out,
        "assignment",
        &current.assignments,
        &desired.assignments,
        |a| format!("{} {} from {}", a.employee, a.vehicle, a.from),
    );
    compare(&mut out, "site", &current.sites, &desired.sites, |s| {
        s.name.clone()
    });
    compare(&mut out, "user", &current.users, &desired.users, |u| {
        u.name.clone()
    });
    if current.classification != desired.classification {
        out.push(Change {
            kind: if current.classification == crate::ClassificationRules::default() {
                ChangeKind::Added
            } else {
                ChangeKind::Changed
            },
            entity: "classification",
            key: "rules".to_owned(),
        });
    }
    Changes(out)
}
