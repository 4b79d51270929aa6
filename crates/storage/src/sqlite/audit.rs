//! The audit ledger's rows.

use ledger::{Action, Entry, GENESIS_CHAIN, StoredEntry, chain_next};
use rusqlite::{Connection, OptionalExtension, params};

use super::db_err;
use crate::{AuditRecord, StoreError};

pub fn append(conn: &mut Connection, r: AuditRecord) -> Result<StoredEntry, StoreError> {
    let mut out = append_many(conn, vec![r])?;
    out.pop()
        .ok_or_else(|| StoreError::Corrupt("an append returned no entry".into()))
}

/// Appends several records in one transaction (a group commit for the ledger).
pub fn append_many(
    conn: &mut Connection,
    records: Vec<AuditRecord>,
) -> Result<Vec<StoredEntry>, StoreError> {
    // IMMEDIATE: the next sequence number and the previous chain hash are read and written
    // under one write lock, so concurrent appenders cannot fork the chain.
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let out = append_in(&tx, records)?;
    tx.commit().map_err(db_err)?;
    Ok(out)
}

/// Appends inside the caller's transaction, which must hold the write lock (IMMEDIATE), so a
/// change and its ledger entries commit together or not at all.
pub fn append_in(
    tx: &rusqlite::Transaction<'_>,
    records: Vec<AuditRecord>,
) -> Result<Vec<StoredEntry>, StoreError> {
    let last: Option<(i64, Vec<u8>)> = tx
        .query_row(
            "SELECT seq, chain FROM audit_entry ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(db_err)?;
    let (mut seq, mut prev) = match last {
        Some((seq, chain)) => {
            let prev: [u8; 32] = chain.try_into().map_err(|_| {
                StoreError::Corrupt(format!("audit entry {seq} has a malformed chain hash"))
            })?;
            (seq as u64 + 1, prev)
        }
        None => (0, GENESIS_CHAIN),
    };
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let entry = Entry {
            seq,
            at_ms: r.at.millis(),
            actor: r.actor,
            role: r.role,
            purpose: r.purpose,
            subject: r.subject,
            action: r.action,
            object: r.object,
            outcome: r.outcome,
        };
        let chain = chain_next(&prev, &entry.leaf_hash());
        tx.prepare_cached(
        "INSERT INTO audit_entry (seq, at, actor, role, purpose, subject, action, object, outcome, chain)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .map_err(db_err)?
    .execute(params![
            seq as i64,
            entry.at_ms,
            entry.actor,
            entry.role,
            entry.purpose,
            entry.subject,
            entry.action.as_str(),
            entry.object,
            entry.outcome,
            chain.as_slice()
        ],
    )
    .map_err(db_err)?;
        seq += 1;
        prev = chain;
        out.push(StoredEntry { entry, chain });
    }
    Ok(out)
}

pub fn entries(conn: &Connection) -> Result<Vec<StoredEntry>, StoreError> {
    select(conn, "ORDER BY rowid", Vec::new())
}

/// The newest `limit` entries, or those about one employee (a subject may name several
/// employees, comma-separated), newest first.
pub fn entries_about(
    conn: &Connection,
    subject: Option<&str>,
    limit: usize,
) -> Result<Vec<StoredEntry>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    match subject {
        None => select(conn, "ORDER BY rowid DESC LIMIT ?", vec![limit.into()]),
        Some(s) => select(
            conn,
            "WHERE ',' || subject || ',' LIKE '%,' || ? || ',%' ORDER BY rowid DESC LIMIT ?",
            vec![s.to_owned().into(), limit.into()],
        ),
    }
}

fn select(
    conn: &Connection,
    tail: &str,
    args: Vec<rusqlite::types::Value>,
) -> Result<Vec<StoredEntry>, StoreError> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT seq, at, actor, role, purpose, subject, action, object, outcome, chain
             FROM audit_entry {tail}"
        ))
        .map_err(db_err)?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(args))
        .map_err(db_err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err)? {
        let seq: i64 = row.get(0).map_err(db_err)?;
        let action: String = row.get(6).map_err(db_err)?;
        let chain: Vec<u8> = row.get(9).map_err(db_err)?;
        out.push(StoredEntry {
            entry: Entry {
                seq: seq as u64,
                at_ms: row.get(1).map_err(db_err)?,
                actor: row.get(2).map_err(db_err)?,
                role: row.get(3).map_err(db_err)?,
                purpose: row.get(4).map_err(db_err)?,
                subject: row.get(5).map_err(db_err)?,
                // An unreadable action is itself tampering: keep the row, make it fail.
                action: action.parse().unwrap_or(Action::Config),
                object: row.get(7).map_err(db_err)?,
                outcome: row.get(8).map_err(db_err)?,
            },
            chain: chain.try_into().unwrap_or([0u8; 32]),
        });
    }
    Ok(out)
}
