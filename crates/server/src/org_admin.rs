//! Changes to the organisation made in the browser, through the same door as `sporvern org
//! apply`: the admin's edit becomes a whole organisation file, which `org::parse` validates
//! exactly as it validates a file from disk (errors name the field), `Store::apply_org`
//! writes, and the register's measures follow (`Register::sync_org`). Every change is on the
//! audit ledger with the admin's name: keys only (registration numbers, device ids, employee
//! numbers, site and user names), never names of people, phone numbers or positions.
//!
//! So the organisation file stays the import and export format: `sporvern org show` prints
//! what the browser changed, and `sporvern org apply` of that output changes nothing. A file
//! applied later is the whole truth, as it always was: what the browser added and the file
//! lacks is retired (kept for history, `active = 0`), never deleted — run `org show > org.toml`
//! before editing a file kept elsewhere.

use storage::{AuditRecord, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum OrgChangeError {
    /// The changed organisation is not valid: which field, and why.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who changes the organisation (an admin in the browser).
pub struct Changer<'a> {
    pub user: &'a str,
    pub role: &'a str,
}

/// The current organisation as its file (what `org show` prints).
pub fn current_text(store: &dyn Store) -> Result<String, StoreError> {
    Ok(org::to_toml(&store.load_org()?))
}

/// Applies an edited organisation file; returns what changed (nothing written when invalid).
pub fn apply_text(
    store: &dyn Store,
    who: &Changer<'_>,
    text: &str,
) -> Result<org::Changes, OrgChangeError> {
    let org = org::parse(text).map_err(|e| OrgChangeError::Invalid(e.field_message()))?;
    apply(store, who, &org)
}

/// Applies a whole organisation, records each change on the ledger and brings the register's
/// measures in step.
pub fn apply(
    store: &dyn Store,
    who: &Changer<'_>,
    org: &org::Org,
) -> Result<org::Changes, OrgChangeError> {
    let changes = store.apply_org(org)?;
    let at = crate::ingest::now();
    let records: Vec<AuditRecord> = changes
        .0
        .iter()
        .map(|c| AuditRecord {
            at,
            actor: who.user.to_owned(),
            role: who.role.to_owned(),
            purpose: "organisation".to_owned(),
            subject: (c.entity == "employee").then(|| c.key.clone()),
            action: ledger::Action::Config,
            object: format!("organisation {c}"),
            outcome: "done".to_owned(),
        })
        .collect();
    if !records.is_empty() {
        store.audit_append_many(records)?;
    }
    let (version, mut reg) = store.register().load_register()?;
    let synced = reg.sync_org(org);
    if !synced.is_empty() {
        let records = synced
            .iter()
            .map(|c| AuditRecord {
                at,
                actor: who.user.to_owned(),
                role: who.role.to_owned(),
                purpose: "register".to_owned(),
                subject: c.subject.clone(),
                action: ledger::Action::Change,
                object: format!("register {}", c.object),
                outcome: format!("{} {}", c.sign, c.what),
            })
            .collect();
        store.register().save_register(&reg, version, records)?;
    }
    Ok(changes)
}

/// A TOML table for one `[[section]]` entry, from (key, value) pairs; empty values are left
/// out, so the parser's own defaults and checks apply.
pub fn entry(section: &str, fields: &[(&str, toml::Value)]) -> String {
    let mut out = format!("\n[[{section}]]\n");
    for (k, v) in fields {
        if matches!(v, toml::Value::String(s) if s.trim().is_empty()) {
            continue;
        }
        // One line per key, nested values inline (`circle = { lat = …, … }`), so nothing
        // opens a table of its own outside this entry.
        out.push_str(&format!("{k} = {v}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_keeps_nested_values_inside_it() {
        let mut circle = toml::Table::new();
        circle.insert("lat".into(), toml::Value::Float(59.9));
        let text = entry(
            "sites",
            &[
                ("name", toml::Value::String("Lager \"Nord\"".into())),
                ("address", toml::Value::String(" ".into())),
                ("circle", toml::Value::Table(circle)),
            ],
        );
        let parsed: toml::Table = toml::from_str(&text).expect("toml");
        let site = &parsed["sites"].as_array().expect("array")[0];
        assert_eq!(site["name"].as_str(), Some("Lager \"Nord\""));
        assert!(site.get("address").is_none(), "empty values are left out");
        assert_eq!(site["circle"]["lat"].as_float(), Some(59.9));
        assert_eq!(parsed.len(), 1, "nothing outside the entry: {text}");
    }
}
