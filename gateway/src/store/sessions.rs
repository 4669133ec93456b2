//! Sessions, API tokens and one-time tokens. Every bearer secret is stored
//! as its SHA-256 digest (see `crypto::digest_token`), never as itself.

use sqlx::any::AnyRow;
use sqlx::Row;
use time::OffsetDateTime;

use super::{parse_ts, ts, Result, Store};

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: String,
    pub cookie_digest: String,
    pub user_id: String,
    pub created: OffsetDateTime,
    pub last_active: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub ip: String,
    pub user_agent: String,
}

#[derive(Debug, Clone)]
pub struct ApiTokenRecord {
    pub id: String,
    pub name: String,
    pub user_id: String,
    pub created: OffsetDateTime,
    pub last_used: Option<OffsetDateTime>,
}

const SESSION_COLUMNS: &str = "id, cookie_digest, user_id, created, last_active, expires_at, ip, user_agent";

fn session_from_row(row: &AnyRow) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id: row.try_get("id")?,
        cookie_digest: row.try_get("cookie_digest")?,
        user_id: row.try_get("user_id")?,
        created: parse_ts(&row.try_get::<String, _>("created")?)?,
        last_active: parse_ts(&row.try_get::<String, _>("last_active")?)?,
        expires_at: parse_ts(&row.try_get::<String, _>("expires_at")?)?,
        ip: row.try_get("ip")?,
        user_agent: row.try_get("user_agent")?,
    })
}

fn token_from_row(row: &AnyRow) -> Result<ApiTokenRecord> {
    Ok(ApiTokenRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        user_id: row.try_get("user_id")?,
        created: parse_ts(&row.try_get::<String, _>("created")?)?,
        last_used: row.try_get::<Option<String>, _>("last_used")?.as_deref().map(parse_ts).transpose()?,
    })
}

impl Store {
    pub async fn insert_session(&self, s: &SessionRecord) -> Result<()> {
        sqlx::query(&format!("INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
            .bind(&s.id)
            .bind(&s.cookie_digest)
            .bind(&s.user_id)
            .bind(ts(s.created))
            .bind(ts(s.last_active))
            .bind(ts(s.expires_at))
            .bind(&s.ip)
            .bind(&s.user_agent)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn session_by_cookie(&self, cookie_digest: &str) -> Result<Option<SessionRecord>> {
        let row = sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE cookie_digest = $1"))
            .bind(cookie_digest)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    pub async fn session(&self, id: &str) -> Result<Option<SessionRecord>> {
        let row = sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    pub async fn touch_session(&self, id: &str, at: OffsetDateTime) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_active = $1 WHERE id = $2").bind(ts(at)).bind(id).execute(self.pool()).await?;
        Ok(())
    }

    /// Deletes a session; returns its cookie digest so caches can forget it.
    pub async fn delete_session(&self, id: &str) -> Result<Option<String>> {
        let row = sqlx::query("DELETE FROM sessions WHERE id = $1 RETURNING cookie_digest")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    /// Deletes all of a user's sessions; returns their cookie digests.
    pub async fn delete_user_sessions(&self, user_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("DELETE FROM sessions WHERE user_id = $1 RETURNING cookie_digest")
            .bind(user_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect())
    }

    pub async fn count_live_sessions(&self, now: OffsetDateTime) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM sessions WHERE expires_at > $1")
            .bind(ts(now))
            .fetch_one(self.pool())
            .await?
            .try_get(0)?)
    }

    pub async fn delete_expired_sessions(&self, now: OffsetDateTime) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(ts(now)).execute(self.pool()).await?;
        sqlx::query("DELETE FROM one_time_tokens WHERE expires_at <= $1").bind(ts(now)).execute(self.pool()).await?;
        Ok(done.rows_affected())
    }

    // API tokens.

    pub async fn insert_api_token(&self, t: &ApiTokenRecord, digest: &str) -> Result<()> {
        sqlx::query("INSERT INTO api_tokens (id, name, token_digest, user_id, created) VALUES ($1, $2, $3, $4, $5)")
            .bind(&t.id)
            .bind(&t.name)
            .bind(digest)
            .bind(&t.user_id)
            .bind(ts(t.created))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn api_token_by_digest(&self, digest: &str) -> Result<Option<ApiTokenRecord>> {
        let row = sqlx::query("SELECT id, name, user_id, created, last_used FROM api_tokens WHERE token_digest = $1")
            .bind(digest)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    pub async fn api_tokens(&self) -> Result<Vec<ApiTokenRecord>> {
        let rows = sqlx::query("SELECT id, name, user_id, created, last_used FROM api_tokens ORDER BY created, id")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(token_from_row).collect()
    }

    pub async fn touch_api_token(&self, id: &str, at: OffsetDateTime) -> Result<()> {
        sqlx::query("UPDATE api_tokens SET last_used = $1 WHERE id = $2").bind(ts(at)).bind(id).execute(self.pool()).await?;
        Ok(())
    }

    /// Deletes a token; returns its digest so caches can forget it.
    pub async fn delete_api_token(&self, id: &str) -> Result<Option<String>> {
        let row = sqlx::query("DELETE FROM api_tokens WHERE id = $1 RETURNING token_digest")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    // One-time tokens: session tokens from /api/v1/authn, activation and password reset.

    pub async fn insert_one_time_token(
        &self,
        digest: &str,
        purpose: &str,
        user_id: &str,
        at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<()> {
        sqlx::query("INSERT INTO one_time_tokens (digest, purpose, user_id, created, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(digest)
            .bind(purpose)
            .bind(user_id)
            .bind(ts(at))
            .bind(ts(expires_at))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Consumes a one-time token: it is deleted whether or not it is still
    /// valid, and the user id is returned only if it was.
    pub async fn take_one_time_token(&self, digest: &str, purpose: &str, now: OffsetDateTime) -> Result<Option<String>> {
        let row = sqlx::query("DELETE FROM one_time_tokens WHERE digest = $1 AND purpose = $2 RETURNING user_id, expires_at")
            .bind(digest)
            .bind(purpose)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let expires_at = parse_ts(&row.try_get::<String, _>(1)?)?;
        Ok((expires_at > now).then(|| row.get::<String, _>(0)))
    }

    /// Whether a one-time token is valid, without consuming it (to show a form).
    pub async fn peek_one_time_token(&self, digest: &str, purpose: &str, now: OffsetDateTime) -> Result<Option<String>> {
        let row = sqlx::query("SELECT user_id FROM one_time_tokens WHERE digest = $1 AND purpose = $2 AND expires_at > $3")
            .bind(digest)
            .bind(purpose)
            .bind(ts(now))
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    pub async fn delete_one_time_tokens(&self, user_id: &str, purpose: &str) -> Result<()> {
        sqlx::query("DELETE FROM one_time_tokens WHERE user_id = $1 AND purpose = $2")
            .bind(user_id)
            .bind(purpose)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
