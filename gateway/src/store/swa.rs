//! The SWA credential vault (per person and shared per app) and the
//! WS-Federation relying parties each session signed in to.
//!
//! Passwords are stored only as `Vault`-sealed text; this layer never sees
//! them in the clear. Re-wrapping under a new master key is a compare-and-set
//! per row, so a write that lands meanwhile is never overwritten.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{parse_ts, ts, Result, Store, StoreError};
use crate::swa::{SetBy, SharedPassword, StoredCredential};
use crate::wsfed::WsFedSignIn;

const CREDENTIAL_COLUMNS: &str = "app_id, user_id, user_name, sealed_password, set_by, created, last_updated";

fn credential_from_row(row: &AnyRow) -> Result<StoredCredential> {
    let set_by: String = row.try_get("set_by")?;
    Ok(StoredCredential {
        app_id: row.try_get("app_id")?,
        user_id: row.try_get("user_id")?,
        user_name: row.try_get("user_name")?,
        sealed_password: row.try_get("sealed_password")?,
        set_by: SetBy::parse(&set_by).ok_or_else(|| StoreError::Corrupt(format!("swa_credentials.set_by {set_by}")))?,
        created: parse_ts(&row.try_get::<String, _>("created")?)?,
        last_updated: parse_ts(&row.try_get::<String, _>("last_updated")?)?,
    })
}

fn shared_from_row(row: &AnyRow) -> Result<SharedPassword> {
    Ok(SharedPassword {
        app_id: row.try_get("app_id")?,
        sealed_password: row.try_get("sealed_password")?,
        created: parse_ts(&row.try_get::<String, _>("created")?)?,
        last_updated: parse_ts(&row.try_get::<String, _>("last_updated")?)?,
    })
}

impl Store {
    pub async fn swa_credential(&self, app_id: &str, user_id: &str) -> Result<Option<StoredCredential>> {
        let row = sqlx::query(&format!("SELECT {CREDENTIAL_COLUMNS} FROM swa_credentials WHERE app_id = $1 AND user_id = $2"))
            .bind(app_id)
            .bind(user_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(credential_from_row).transpose()
    }

    /// A person's stored credentials for every app, for their credentials page.
    pub async fn swa_credentials_of_user(&self, user_id: &str) -> Result<Vec<StoredCredential>> {
        let rows = sqlx::query(&format!("SELECT {CREDENTIAL_COLUMNS} FROM swa_credentials WHERE user_id = $1 ORDER BY app_id"))
            .bind(user_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(credential_from_row).collect()
    }

    /// Inserts or replaces one person's credentials for one app.
    pub async fn put_swa_credential(&self, c: &StoredCredential) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO swa_credentials ({CREDENTIAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (app_id, user_id) DO UPDATE SET user_name = $3, sealed_password = $4, set_by = $5, last_updated = $7"
        ))
        .bind(&c.app_id)
        .bind(&c.user_id)
        .bind(&c.user_name)
        .bind(&c.sealed_password)
        .bind(c.set_by.as_str())
        .bind(ts(c.created))
        .bind(ts(c.last_updated))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn delete_swa_credential(&self, app_id: &str, user_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM swa_credentials WHERE app_id = $1 AND user_id = $2")
            .bind(app_id)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn swa_shared_password(&self, app_id: &str) -> Result<Option<SharedPassword>> {
        let row = sqlx::query("SELECT app_id, sealed_password, created, last_updated FROM swa_shared_credentials WHERE app_id = $1")
            .bind(app_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(shared_from_row).transpose()
    }

    pub async fn put_swa_shared_password(&self, s: &SharedPassword) -> Result<()> {
        sqlx::query(
            "INSERT INTO swa_shared_credentials (app_id, sealed_password, created, last_updated) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (app_id) DO UPDATE SET sealed_password = $2, last_updated = $4",
        )
        .bind(&s.app_id)
        .bind(&s.sealed_password)
        .bind(ts(s.created))
        .bind(ts(s.last_updated))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    // WS-Federation sign-ins of a session.

    /// Records that a session signed in to a WS-Federation app (kept until the
    /// session ends, for wsignoutcleanup1.0).
    pub async fn put_wsfed_sign_in(&self, s: &WsFedSignIn) -> Result<()> {
        sqlx::query(
            "INSERT INTO wsfed_sign_ins (session_id, app_id, reply_url, created) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (session_id, app_id) DO UPDATE SET reply_url = $3",
        )
        .bind(&s.session_id)
        .bind(&s.app_id)
        .bind(&s.reply_url)
        .bind(ts(s.created))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn wsfed_sign_ins(&self, session_id: &str) -> Result<Vec<WsFedSignIn>> {
        let rows = sqlx::query("SELECT session_id, app_id, reply_url, created FROM wsfed_sign_ins WHERE session_id = $1 ORDER BY created, app_id")
            .bind(session_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(WsFedSignIn {
                    session_id: row.try_get("session_id")?,
                    app_id: row.try_get("app_id")?,
                    reply_url: row.try_get("reply_url")?,
                    created: parse_ts(&row.try_get::<String, _>("created")?)?,
                })
            })
            .collect()
    }
}
