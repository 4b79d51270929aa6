//! The audit ledger's writer: appends in group commits, so that many readers at once share one
//! durable transaction, and each reader waits until its own entry is on disk before it is shown
//! anything (a failed append shows nothing).

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::thread;

use storage::{AuditRecord, Store};

/// At most this many records go into one transaction.
const MAX_BATCH: usize = 1024;

type Reply = SyncSender<Result<(), String>>;

/// Where audit records go: straight into the store (the command line, one reader), or through
/// the group-commit thread (the server).
#[derive(Clone)]
pub enum AuditLog {
    Direct(Arc<dyn Store>),
    Group(SyncSender<(AuditRecord, Reply)>),
}

/// The ledger could not record an access; nothing may be shown.
#[derive(Debug, thiserror::Error)]
#[error("the audit ledger could not record this access, so nothing is shown: {0}")]
pub struct AuditError(pub String);

impl AuditLog {
    /// Starts the group-commit thread on its own connection to `store`.
    pub fn start(store: &dyn Store) -> Result<AuditLog, AuditError> {
        let mut conn = store
            .audit_writer()
            .map_err(|e| AuditError(e.to_string()))?;
        let (tx, rx) = sync_channel::<(AuditRecord, Reply)>(4 * MAX_BATCH);
        thread::Builder::new()
            .name("audit-ledger".to_owned())
            .spawn(move || writer(conn.as_mut(), &rx))
            .map_err(|e| AuditError(e.to_string()))?;
        Ok(AuditLog::Group(tx))
    }

    /// Appends durably; returns when the record is committed.
    pub fn append(&self, record: AuditRecord) -> Result<(), AuditError> {
        self.submit(record)?.wait()
    }

    /// Hands the record to the writer and returns at once; [`Pending::wait`] returns when it
    /// is committed. A reader runs its query meanwhile and shows nothing before the wait.
    pub fn submit(&self, record: AuditRecord) -> Result<Pending, AuditError> {
        match self {
            AuditLog::Direct(store) => store
                .audit_append(record)
                .map(|_| Pending(None))
                .map_err(|e| AuditError(e.to_string())),
            AuditLog::Group(tx) => {
                let (reply, wait) = sync_channel(1);
                tx.send((record, reply))
                    .map_err(|_| AuditError("the ledger writer has stopped".to_owned()))?;
                Ok(Pending(Some(wait)))
            }
        }
    }
}

/// An audit record on its way to disk.
#[must_use = "wait for the record to be durable before showing anything"]
pub struct Pending(Option<Receiver<Result<(), String>>>);

impl Pending {
    /// Returns when the record is committed, or why it could not be.
    pub fn wait(self) -> Result<(), AuditError> {
        match self.0 {
            None => Ok(()),
            Some(rx) => rx
                .recv()
                .map_err(|_| AuditError("the ledger writer has stopped".to_owned()))?
                .map_err(AuditError),
        }
    }
}

fn writer(conn: &mut dyn storage::AuditWriter, rx: &Receiver<(AuditRecord, Reply)>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(more) => batch.push(more),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let (records, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        let outcome = conn
            .append_many(records)
            .map(|_| ())
            .map_err(|e| e.to_string());
        if let Err(e) = &outcome {
            tracing::error!(error = %e, "audit ledger append failed; the reads waiting on it are refused");
        }
        for reply in replies {
            let _ = reply.send(outcome.clone());
        }
    }
}
