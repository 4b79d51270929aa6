//! The audit ledger's rows. Appends from every connection (and every node) are serialised on
//! one advisory lock, taken in the appending transaction: the next sequence number and the
//! previous chain hash are read under it, so the chain cannot fork.

use ledger::{Action, Entry, GENESIS_CHAIN, StoredEntry, chain_next};
use storage::{AuditRecord, StoreError};
use tokio_postgres::{Client, GenericClient, Transaction};

use crate::{Args, block_on, db_err, execute, get, lock, query, query_opt};

pub(crate) fn append_many(
    client: &mut Client,
    records: Vec<AuditRecord>,
) -> Result<Vec<StoredEntry>, StoreError> {
    let tx = block_on(client.transaction()).map_err(db_err)?;
    let out = append_in(&tx, records)?;
    block_on(tx.commit()).map_err(db_err)?;
    Ok(out)
}

/// Appends inside the caller's transaction, so a change and its ledger entries commit together
/// or not at all. Takes the ledger's lock until that transaction ends.
pub(crate) fn append_in(
    tx: &Transaction<'_>,
    records: Vec<AuditRecord>,
) -> Result<Vec<StoredEntry>, StoreError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    execute(tx, "SELECT pg_advisory_xact_lock($1)", &[&lock::LEDGER])?;
    let last = query_opt(
        tx,
        "SELECT seq, chain FROM audit_entry ORDER BY seq DESC LIMIT 1",
        &[],
    )?;
    let (mut seq, mut prev) = match last {
        Some(r) => {
            let seq: i64 = get(&r, 0)?;
            let chain: Vec<u8> = get(&r, 1)?;
            let prev: [u8; 32] = chain.try_into().map_err(|_| {
                StoreError::Corrupt(format!("audit entry {seq} has a malformed chain hash"))
            })?;
            (seq as u64 + 1, prev)
        }
        None => (0, GENESIS_CHAIN),
    };
    let insert = block_on(tx.prepare(
        "INSERT INTO audit_entry (seq, at, actor, role, purpose, subject, action, object, outcome, chain)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    ))
    .map_err(db_err)?;
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
        block_on(tx.execute(
            &insert,
            &[
                &(seq as i64),
                &entry.at_ms,
                &entry.actor,
                &entry.role,
                &entry.purpose,
                &entry.subject,
                &entry.action.as_str(),
                &entry.object,
                &entry.outcome,
                &chain.as_slice(),
            ],
        ))
        .map_err(db_err)?;
        seq += 1;
        prev = chain;
        out.push(StoredEntry { entry, chain });
    }
    Ok(out)
}

pub(crate) fn entries<C: GenericClient>(c: &C) -> Result<Vec<StoredEntry>, StoreError> {
    select(c, "ORDER BY seq", Args::default())
}

/// The newest `limit` entries, or those about one employee (a subject may name several
/// employees, comma-separated), newest first.
pub(crate) fn entries_about<C: GenericClient>(
    c: &C,
    subject: Option<&str>,
    limit: usize,
) -> Result<Vec<StoredEntry>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut args = Args::default();
    let tail = match subject {
        None => format!("ORDER BY seq DESC LIMIT {}", args.push(limit)),
        Some(s) => {
            let s = args.push(s.to_owned());
            format!(
                "WHERE strpos(',' || subject || ',', ',' || {s} || ',') > 0 ORDER BY seq DESC LIMIT {}",
                args.push(limit)
            )
        }
    };
    select(c, &tail, args)
}

fn select<C: GenericClient>(c: &C, tail: &str, args: Args) -> Result<Vec<StoredEntry>, StoreError> {
    let rows = query(
        c,
        &format!(
            "SELECT seq, at, actor, role, purpose, subject, action, object, outcome, chain
             FROM audit_entry {tail}"
        ),
        &args.refs(),
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let seq: i64 = get(&r, 0)?;
        let action: String = get(&r, 6)?;
        let chain: Vec<u8> = get(&r, 9)?;
        out.push(StoredEntry {
            entry: Entry {
                seq: seq as u64,
                at_ms: get(&r, 1)?,
                actor: get(&r, 2)?,
                role: get(&r, 3)?,
                purpose: get(&r, 4)?,
                subject: get(&r, 5)?,
                // An unreadable action is itself tampering: keep the row, make it fail.
                action: action.parse().unwrap_or(Action::Config),
                object: get(&r, 7)?,
                outcome: get(&r, 8)?,
            },
            chain: chain.try_into().unwrap_or([0u8; 32]),
        });
    }
    Ok(out)
}
