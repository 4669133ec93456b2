//! The storage layer: one API over embedded SQLite (the default) and
//! PostgreSQL (several gateway nodes sharing one database).
//!
//! Both backends run the same SQL through sqlx's `Any` driver: placeholders
//! are `$n` (SQLite accepts them too), timestamps are fixed-width UTC text
//! (so text order is time order), booleans and counters are BIGINT, and JSON
//! documents are TEXT. Where the dialects differ (JSON extraction, advisory
//! locks) the code asks [`Store::backend`].

mod apps;
mod directory;
mod log;
mod migrations;
pub mod oauth;
mod rekey;
mod sessions;
mod swa;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub use apps::{GroupAssignment, UserAssignment};
pub use directory::{NewUser, UserQuery, UserRecord};
pub use log::{LogQuery, LogWriter};
pub use rekey::{RekeyCount, RekeyOptions};
pub use sessions::{ApiTokenRecord, SessionRecord};

use crate::config::DatabaseUrl;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or refused the statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A unique constraint was violated (e.g. a login already in use).
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// Stored data could not be read back (a bug or a hand-edited row).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database has migrations newer than this build knows.
    #[error("the database schema is at version {found}, newer than this build's {known}")]
    SchemaTooNew { found: i64, known: i64 },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The store: a connection pool and the backend it talks to.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects (creating the SQLite file and its directory if needed).
    pub async fn connect(url: &DatabaseUrl, max_connections: u32) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let (text, backend) = match url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
                }
                (format!("sqlite://{}?mode=rwc", path.display()), Backend::Sqlite)
            }
            DatabaseUrl::Postgres(url) => (url.clone(), Backend::Postgres),
        };
        let options = AnyConnectOptions::from_str(&text)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            // A PostgreSQL connection can be dropped by the server or the network
            // while idle, so it is pinged before use; a SQLite connection is a
            // file handle that cannot go away, and the ping was a statement per
            // request for nothing.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers proceed during a write; synchronous=FULL makes
                        // every acknowledged commit durable; busy_timeout queues writers
                        // instead of failing them; foreign keys are off unless asked for.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Applies every migration this build knows that the database lacks.
    pub async fn migrate(&self) -> Result<Vec<i64>> {
        migrations::apply(self).await
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn setting(&self, name: &str) -> Result<Option<String>> {
        use sqlx::Row;
        let row = sqlx::query("SELECT value FROM settings WHERE name = $1").bind(name).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    /// Stores a setting if it is not there yet; returns the value in force.
    pub async fn setting_or_insert(&self, name: &str, value: &str) -> Result<String> {
        sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(self.setting(name).await?.unwrap_or_else(|| value.to_owned()))
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Formats a timestamp as stored and as Okta prints it: `2026-01-31T08:00:00.000Z`.
pub fn ts(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// Parses a stored timestamp.
pub fn parse_ts(text: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| StoreError::Corrupt(format!("timestamp `{text}`")))
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`].
fn conflict_as(err: sqlx::Error, what: &'static str) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Database(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps_are_fixed_width_utc() {
        assert_eq!(ts(datetime!(2026-01-02 03:04:05.678 UTC)), "2026-01-02T03:04:05.678Z");
        assert_eq!(ts(datetime!(2026-01-02 05:04:05 +02:00)), "2026-01-02T03:04:05.000Z");
        assert_eq!(parse_ts("2026-01-02T03:04:05.678Z").unwrap(), datetime!(2026-01-02 03:04:05.678 UTC));
    }
}
