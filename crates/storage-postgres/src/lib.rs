//! Sporvern on PostgreSQL: the `storage` traits ([`storage::Store`], [`storage::IngestWriter`],
//! [`storage::PurposeFeed`], [`storage::AuditWriter`], [`storage::RegisterStore`]) over a
//! PostgreSQL database named by a `postgres://` URL.
//!
//! The client is `tokio-postgres`, driven by one small runtime of this crate's own
//! ([`runtime`]); the traits stay synchronous (their callers are the ingest writer's thread,
//! the purpose worker's thread, the ledger's writer thread and request handlers that already
//! block on SQLite), so every call parks its own thread until the answer is in
//! ([`block_on`]). That works from inside the server's async runtime too, where the
//! synchronous `postgres` crate would panic; ARCHITECTURE.md says why this client.
//!
//! Architecture Invariant: no PostgreSQL type leaves this crate; errors become
//! [`storage::StoreError`], and which rows a capability opens is decided by
//! `storage::capability`, shared with the embedded backend.
//!
//! Architecture Invariant: every connection runs with `synchronous_commit = on`, so a commit
//! that returned is flushed to the write-ahead log on disk: a device or user told "stored" can
//! rely on it.

mod audit;
mod changes;
mod org_rows;
mod purposes;
mod register;
mod retention;
mod store;

use std::future::Future;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::{Context, Poll, Wake, Waker};

use storage::StoreError;
use tokio_postgres::types::{FromSql, ToSql};
use tokio_postgres::{Client, Config, GenericClient, NoTls, Row};

pub use store::PgStore;

/// Append-only: a released migration is never edited; a change is a new file.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_changes_door.sql")),
    (3, include_str!("../migrations/0003_cluster.sql")),
];

/// The advisory-lock keys this backend takes (database-wide; both fit in a bigint).
pub(crate) mod lock {
    /// Serialises schema migrations of nodes starting at once.
    pub const MIGRATE: i64 = 0x5350_5256_0001;
    /// The audit ledger's chain head: one appender at a time, across every node.
    pub const LEDGER: i64 = 0x5350_5256_0002;
}

pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// The URL schemes this backend answers to.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// Opens (migrating if needed) the store in the database named by `url`.
pub fn open(url: &str) -> Result<Box<dyn storage::Store>, StoreError> {
    Ok(Box::new(PgStore::open(url)?))
}

/// Applies every migration not yet applied; returns the versions it applied.
pub fn migrate(url: &str) -> Result<Vec<i64>, StoreError> {
    let config = parse_url(url)?;
    let mut client = connect(&config)?;
    migrate_client(&mut client)
}

/// Makes an empty schema named `name` and returns `url` with that schema as the search path:
/// a fresh database for one test run, or for one installation among several in one database.
pub fn create_schema(url: &str, name: &str) -> Result<String, StoreError> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(StoreError::Refused(format!(
            "a schema name is lowercase letters, digits and _, not {name:?}"
        )));
    }
    let config = parse_url(url)?;
    let client = connect(&config)?;
    block_on(client.batch_execute(&format!("CREATE SCHEMA {name}"))).map_err(db_err)?;
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}options=-csearch_path%3D{name}"))
}

pub(crate) fn parse_url(url: &str) -> Result<Config, StoreError> {
    url.parse::<Config>().map_err(|e| StoreError::Open {
        path: redact(url),
        reason: format!("not a PostgreSQL URL ({e}); write postgres://user@host:port/database"),
    })
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let auth = &url[s + 3..at];
            match auth.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &auth[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The runtime that drives every connection's socket. Never dropped (a static), so that no
/// thread ever has to shut it down from inside another runtime.
fn runtime() -> Result<&'static tokio::runtime::Runtime, StoreError> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("sporvern-postgres")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| StoreError::Backend(format!("cannot start the PostgreSQL client: {e}")))
}

struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on the calling thread, parking it while the answer is on its
/// way. The sockets are served by [`runtime`]; the client's futures only talk to them through
/// channels, so this is safe on any thread, inside an async runtime or not (it blocks that
/// thread, as a SQLite call does).
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::park(),
        }
    }
}

pub(crate) fn db_err(e: tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(d) => StoreError::Backend(match d.detail() {
            Some(detail) => format!("{} ({detail})", d.message()),
            None => d.message().to_owned(),
        }),
        None => StoreError::Backend(format!("PostgreSQL: {e}")),
    }
}

/// Opens one connection, with `synchronous_commit = on`.
pub(crate) fn connect(config: &Config) -> Result<Client, StoreError> {
    let rt = runtime()?;
    let cfg = config.clone();
    let where_ = format!(
        "{:?}/{}",
        config.get_hosts(),
        config.get_dbname().unwrap_or("")
    );
    let (client, connection) = block_on(rt.spawn(async move { cfg.connect(NoTls).await }))
        .map_err(|e| StoreError::Backend(format!("the PostgreSQL client stopped: {e}")))?
        .map_err(|e| StoreError::Open {
            path: where_,
            reason: format!("cannot connect to PostgreSQL: {e}"),
        })?;
    rt.spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "a PostgreSQL connection ended");
        }
    });
    // On by default, but a server may be configured otherwise: this backend promises that a
    // commit which returned survives a crash of the database server.
    block_on(client.batch_execute("SET synchronous_commit = on; SET TIME ZONE 'UTC'"))
        .map_err(db_err)?;
    Ok(client)
}

fn migrate_client(client: &mut Client) -> Result<Vec<i64>, StoreError> {
    let tx = block_on(client.transaction()).map_err(db_err)?;
    execute(&tx, "SELECT pg_advisory_xact_lock($1)", &[&lock::MIGRATE])?;
    batch(
        &tx,
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )?;
    let applied: Vec<i64> = query(&tx, "SELECT version FROM schema_migrations", &[])?
        .iter()
        .map(|r| get(r, 0))
        .collect::<Result<_, _>>()?;
    let current = applied.iter().copied().max().unwrap_or(0);
    let known = MIGRATIONS.iter().map(|m| m.0).max().unwrap_or(0);
    if current > known {
        return Err(StoreError::TooNew {
            found: current,
            known,
        });
    }
    let mut done = Vec::new();
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| !applied.contains(v)) {
        batch(&tx, sql)?;
        execute(
            &tx,
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, (extract(epoch FROM now()))::bigint)",
            &[version],
        )?;
        tracing::info!(version, "applied PostgreSQL migration");
        done.push(*version);
    }
    reassert_guards(&tx)?;
    block_on(tx.commit()).map_err(db_err)?;
    Ok(done)
}

/// The append-only guards, as their migrations made them: (table, trigger, its SQL, the
/// function it runs, that function's SQL).
const GUARDS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "audit_entry",
        "audit_entry_no_update",
        "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
           FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
        "audit_entry_append_only",
        AUDIT_APPEND_ONLY,
    ),
    (
        "audit_entry",
        "audit_entry_no_delete",
        "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
           FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
        "audit_entry_append_only",
        AUDIT_APPEND_ONLY,
    ),
    (
        "audit_entry",
        "audit_entry_no_truncate",
        "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry
           FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()",
        "audit_entry_append_only",
        AUDIT_APPEND_ONLY,
    ),
    (
        "trip",
        "trip_recorded_values_are_final",
        "CREATE TRIGGER trip_recorded_values_are_final BEFORE UPDATE ON trip
           FOR EACH ROW EXECUTE FUNCTION trip_recorded_values_are_final()",
        "trip_recorded_values_are_final",
        TRIP_FINAL,
    ),
    (
        "trip",
        "trip_deleted_only_by_retention",
        "CREATE TRIGGER trip_deleted_only_by_retention BEFORE DELETE ON trip
           FOR EACH ROW EXECUTE FUNCTION trip_deleted_only_by_retention()",
        "trip_deleted_only_by_retention",
        TRIP_RETENTION_ONLY,
    ),
    (
        "trip",
        "trip_never_truncated",
        "CREATE TRIGGER trip_never_truncated BEFORE TRUNCATE ON trip
           FOR EACH STATEMENT EXECUTE FUNCTION trip_deleted_only_by_retention()",
        "trip_deleted_only_by_retention",
        TRIP_RETENTION_ONLY,
    ),
];

const AUDIT_APPEND_ONLY: &str =
    "CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit ledger is append-only';
END $$";

/// Migration 0002's version: the private erasure is the one update a trip takes.
const TRIP_FINAL: &str =
    "CREATE FUNCTION trip_recorded_values_are_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT OLD.private AND NEW.private AND NEW.id = OLD.id
        AND NEW.vehicle_id = OLD.vehicle_id AND NEW.local_date = OLD.local_date AND NEW.km = OLD.km
        AND NEW.recorded_at = (OLD.local_date - DATE '1970-01-01')::bigint * 86400000 THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the driving log''s recorded distance, date and time cannot be changed';
END $$";

const TRIP_RETENTION_ONLY: &str =
    "CREATE FUNCTION trip_deleted_only_by_retention() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('sporvern.retention_gate', true) IS DISTINCT FROM 'open' THEN
        RAISE EXCEPTION 'driving log entries are deleted only by retention, after their retention period';
    END IF;
    RETURN OLD;
END $$";

/// Re-asserted at every open (under the migration lock), as the embedded backend does: a
/// ledger or driving-log guard someone dropped or disabled with the database's password is
/// restored, and the log says so, so a tamperer cannot leave the door open behind them. (What
/// they changed meanwhile is for the ledger's verification to find.)
fn reassert_guards<C: GenericClient>(c: &C) -> Result<(), StoreError> {
    for (table, trigger, create, function, function_sql) in GUARDS {
        let has_function: bool = get(
            &query_one(
                c,
                "SELECT to_regprocedure($1) IS NOT NULL",
                &[&format!("{function}()")],
            )?,
            0,
        )?;
        if !has_function {
            batch(c, function_sql)?;
            tracing::error!(
                function,
                "an append-only guard's function was missing from the database and has been restored: someone with the database's password removed it; run `sporvern audit verify`"
            );
        }
        // Whether it is disabled (`ALTER TABLE … DISABLE TRIGGER`), if it is there at all.
        let disabled: Option<bool> = query_opt(
            c,
            "SELECT tgenabled = 'D' FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = $2",
            &[table, trigger],
        )?
        .map(|r| get(&r, 0))
        .transpose()?;
        match disabled {
            None => {
                batch(c, create)?;
                tracing::error!(
                    trigger,
                    "an append-only trigger was missing from the database and has been restored: someone with the database's password removed it; run `sporvern audit verify`"
                );
            }
            Some(true) => {
                batch(c, &format!("ALTER TABLE {table} ENABLE TRIGGER {trigger}"))?;
                tracing::error!(
                    trigger,
                    "an append-only trigger was disabled and has been enabled again: someone with the database's password disabled it; run `sporvern audit verify`"
                );
            }
            Some(false) => {}
        }
    }
    Ok(())
}

pub(crate) fn query<C: GenericClient>(
    c: &C,
    sql: &str,
    params: Params<'_>,
) -> Result<Vec<Row>, StoreError> {
    block_on(c.query(sql, params)).map_err(db_err)
}

pub(crate) fn query_opt<C: GenericClient>(
    c: &C,
    sql: &str,
    params: Params<'_>,
) -> Result<Option<Row>, StoreError> {
    block_on(c.query_opt(sql, params)).map_err(db_err)
}

pub(crate) fn query_one<C: GenericClient>(
    c: &C,
    sql: &str,
    params: Params<'_>,
) -> Result<Row, StoreError> {
    block_on(c.query_one(sql, params)).map_err(db_err)
}

pub(crate) fn execute<C: GenericClient>(
    c: &C,
    sql: &str,
    params: Params<'_>,
) -> Result<u64, StoreError> {
    block_on(c.execute(sql, params)).map_err(db_err)
}

pub(crate) fn batch<C: GenericClient>(c: &C, sql: &str) -> Result<(), StoreError> {
    block_on(c.batch_execute(sql)).map_err(db_err)
}

/// One column, with a type error as a store error (never a panic).
pub(crate) fn get<'a, T: FromSql<'a>>(r: &'a Row, i: usize) -> Result<T, StoreError> {
    r.try_get(i)
        .map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
}

/// Parameters for a query whose text is built at run time: `push` returns the placeholder.
#[derive(Default)]
pub(crate) struct Args {
    values: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Args {
    pub(crate) fn push(&mut self, v: impl ToSql + Sync + Send + 'static) -> String {
        self.values.push(Box::new(v));
        format!("${}", self.values.len())
    }

    pub(crate) fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.values
            .iter()
            .map(|v| v.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// A connection of its own (the ingest writer's, the purpose feed's, the ledger writer's) that
/// comes back after PostgreSQL dropped it (a restart, a failover, a terminated backend): the
/// call that met the dropped connection fails — nothing is acknowledged for it — and the next
/// one connects again.
pub(crate) struct Dedicated {
    config: Config,
    client: Client,
    /// Bumped at every reconnection, so prepared statements know to be prepared again.
    generation: u64,
}

impl Dedicated {
    pub(crate) fn new(config: &Config) -> Result<Dedicated, StoreError> {
        Ok(Dedicated {
            config: config.clone(),
            client: connect(config)?,
            generation: 0,
        })
    }

    pub(crate) fn client(&mut self) -> Result<&mut Client, StoreError> {
        if self.client.is_closed() {
            tracing::warn!("a PostgreSQL connection was lost; connecting again");
            self.client = connect(&self.config)?;
            self.generation += 1;
        }
        Ok(&mut self.client)
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }
}

/// A few connections shared by the store's methods (request handlers call them from many
/// threads at once); the writers and the purpose feed have connections of their own.
pub(crate) struct Pool {
    config: Config,
    state: Mutex<PoolState>,
    freed: Condvar,
}

struct PoolState {
    idle: Vec<Client>,
    open: usize,
}

const POOL_SIZE: usize = 8;

impl Pool {
    fn new(config: Config, first: Client) -> Pool {
        Pool {
            config,
            state: Mutex::new(PoolState {
                idle: vec![first],
                open: 1,
            }),
            freed: Condvar::new(),
        }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self.take()?;
        let out = f(&mut client);
        self.give(client);
        out
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, PoolState>, StoreError> {
        self.state
            .lock()
            .map_err(|_| StoreError::Backend("the connection pool's lock is poisoned".into()))
    }

    fn take(&self) -> Result<Client, StoreError> {
        let mut state = self.lock()?;
        loop {
            if let Some(c) = state.idle.pop() {
                if !c.is_closed() {
                    return Ok(c);
                }
                state.open -= 1;
                continue;
            }
            if state.open < POOL_SIZE {
                state.open += 1;
                drop(state);
                return connect(&self.config).inspect_err(|_| {
                    if let Ok(mut s) = self.state.lock() {
                        s.open -= 1;
                    }
                });
            }
            state = self.freed.wait(state).map_err(|_| {
                StoreError::Backend("the connection pool's lock is poisoned".into())
            })?;
        }
    }

    fn give(&self, client: Client) {
        if let Ok(mut state) = self.state.lock() {
            if client.is_closed() {
                state.open -= 1;
            } else {
                state.idle.push(client);
            }
        }
        self.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_migration_file_is_in_the_list_once_in_order() {
        let mut files: Vec<String> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
                .expect("migrations folder")
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".sql"))
                .collect();
        files.sort();
        let numbers: Vec<i64> = files
            .iter()
            .map(|f| f[..4].parse().expect("a file name starts with its number"))
            .collect();
        let listed: Vec<i64> = super::MIGRATIONS.iter().map(|m| m.0).collect();
        assert_eq!(
            numbers, listed,
            "a migration file is missing from MIGRATIONS"
        );
    }

    #[test]
    fn passwords_are_not_shown_in_messages() {
        assert_eq!(
            super::redact("postgres://sporvern:secret@db:5432/sporvern"),
            "postgres://sporvern:***@db:5432/sporvern"
        );
        assert_eq!(
            super::redact("postgres://root@127.0.0.1/test"),
            "postgres://root@127.0.0.1/test"
        );
    }
}
