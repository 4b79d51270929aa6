//! Which database: the embedded SQLite in the data folder by default, PostgreSQL when a
//! `postgres://` URL is configured (`--database`, `SPORVERN_DATABASE`, `database_url` in
//! sporvern.toml). The one place that knows more than one backend; everything past it speaks
//! `storage::Store`.

use std::path::Path;

use anyhow::Context as _;

use crate::Settings;

/// Where the data lives, for logs, `/healthz` and messages (never a password).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Database {
    /// The embedded SQLite file in the data folder.
    Embedded(std::path::PathBuf),
    /// A PostgreSQL database, by URL.
    Postgres(String),
}

impl Database {
    pub fn of(settings: &Settings) -> Database {
        Database::chosen(&settings.data_dir, settings.database_url.as_deref())
    }

    pub fn chosen(data_dir: &Path, url: Option<&str>) -> Database {
        match url {
            Some(u) => Database::Postgres(u.to_owned()),
            None => Database::Embedded(data_dir.to_path_buf()),
        }
    }

    /// `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self {
            Database::Embedded(_) => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }

    /// Opens (creating and migrating if needed) the store.
    pub fn open(&self) -> anyhow::Result<Box<dyn storage::Store>> {
        match self {
            Database::Embedded(dir) => storage::open(dir)
                .with_context(|| format!("opening the data folder {}", dir.display())),
            Database::Postgres(url) if storage_postgres::is_postgres_url(url) => {
                storage_postgres::open(url).with_context(|| format!("opening {self}"))
            }
            Database::Postgres(url) => anyhow::bail!(
                "the database is given as a postgres:// URL, not {:?}",
                storage_postgres::redact(url)
            ),
        }
    }

    /// Applies the migrations the database lacks; says what it did.
    pub fn migrate(&self) -> anyhow::Result<String> {
        match self {
            Database::Embedded(_) => {
                drop(self.open()?);
                Ok(format!("{self}: schema up to date"))
            }
            Database::Postgres(url) => {
                let applied =
                    storage_postgres::migrate(url).with_context(|| format!("migrating {self}"))?;
                Ok(if applied.is_empty() {
                    format!("{self}: schema up to date")
                } else {
                    let v: Vec<String> = applied.iter().map(|v| format!("{v:04}")).collect();
                    format!("{self}: applied migrations {}", v.join(", "))
                })
            }
        }
    }
}

impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Embedded(dir) => write!(f, "the embedded database in {}", dir.display()),
            Database::Postgres(url) => {
                write!(f, "PostgreSQL at {}", storage_postgres::redact(url))
            }
        }
    }
}

/// Opens the store the settings name.
pub fn open(settings: &Settings) -> anyhow::Result<Box<dyn storage::Store>> {
    Database::of(settings).open()
}
