//! The authorization servers' state: servers, signing keys (sealed), client
//! secrets (as digests), authorization codes and refresh tokens (under
//! their hashes), revocations, client-assertion jtis, authorization
//! transactions waiting for a sign-in, and the scope grants of API service
//! apps.
//!
//! Codes and refresh tokens are kept per server: a code issued by one
//! authorization server cannot be redeemed at another's token endpoint.

use oidc::{AuthorizationCode, RefreshToken, Scopes};
use serde_json::{json, Map, Value};
use sqlx::any::AnyRow;
use sqlx::Row;
use time::OffsetDateTime;

use super::{conflict_as, parse_ts, ts, Result, Store, StoreError};

/// An authorization server as stored: `org` or a custom server's id.
#[derive(Debug, Clone)]
pub struct OAuthServerRecord {
    pub id: String,
    pub name: String,
    pub description: String,
    pub audiences: Vec<String>,
    pub status: String,
    /// Scopes, claims, policies and lifetimes, in Okta's JSON shapes.
    pub settings: Map<String, Value>,
    pub created: OffsetDateTime,
    pub last_updated: OffsetDateTime,
}

/// One signing key of a server. `slot` is `next`, `current`, `previous` or
/// `retired` (no longer published).
#[derive(Debug, Clone)]
pub struct OAuthKeyRecord {
    pub kid: String,
    pub server_id: String,
    pub alg: String,
    pub slot: String,
    pub sealed_private_key: String,
    pub published_at: OffsetDateTime,
    pub created: OffsetDateTime,
}

/// A scope granted to an app (Okta's OAuth2ScopeConsentGrant).
#[derive(Debug, Clone)]
pub struct AppScopeGrant {
    pub id: String,
    pub app_id: String,
    pub issuer: String,
    pub scope_id: String,
    pub created: OffsetDateTime,
}

fn text_list(row: &AnyRow, column: &str) -> Result<Vec<String>> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|_| StoreError::Corrupt(format!("{column} is not a JSON list")))
}

fn object(row: &AnyRow, column: &str) -> Result<Map<String, Value>> {
    let text: String = row.try_get(column)?;
    match serde_json::from_str(&text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(StoreError::Corrupt(format!("{column} is not a JSON object"))),
    }
}

fn server_from_row(row: &AnyRow) -> Result<OAuthServerRecord> {
    Ok(OAuthServerRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        audiences: text_list(row, "audiences")?,
        status: row.try_get("status")?,
        settings: object(row, "settings")?,
        created: parse_ts(&row.try_get::<String, _>("created")?)?,
        last_updated: parse_ts(&row.try_get::<String, _>("last_updated")?)?,
    })
}

fn key_from_row(row: &AnyRow) -> Result<OAuthKeyRecord> {
    Ok(OAuthKeyRecord {
        kid: row.try_get("kid")?,
        server_id: row.try_get("server_id")?,
        alg: row.try_get("alg")?,
        slot: row.try_get("slot")?,
        sealed_private_key: row.try_get("sealed_private_key")?,
        published_at: parse_ts(&row.try_get::<String, _>("published_at")?)?,
        created: parse_ts(&row.try_get::<String, _>("created")?)?,
    })
}

fn unix(t: OffsetDateTime) -> Value {
    json!(t.unix_timestamp())
}

fn from_unix(v: &Value) -> Result<OffsetDateTime> {
    v.as_i64()
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .ok_or_else(|| StoreError::Corrupt("timestamp in an OAuth record".into()))
}

fn opt_text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn texts(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default()
}

fn scopes(v: &Value) -> Result<Scopes> {
    Scopes::parse(v.as_str().unwrap_or_default()).ok_or_else(|| StoreError::Corrupt("scopes in an OAuth record".into()))
}

fn code_to_json(c: &AuthorizationCode) -> String {
    json!({
        "grant_id": c.grant_id, "client_id": c.client_id, "redirect_uri": c.redirect_uri,
        "scopes": c.scopes.to_string(), "user_id": c.user_id, "auth_time": unix(c.auth_time), "amr": c.amr,
        "session_id": c.session_id, "nonce": c.nonce, "code_challenge": c.code_challenge, "expires_at": unix(c.expires_at),
    })
    .to_string()
}

fn code_from_json(text: &str) -> Result<AuthorizationCode> {
    let v: Value = serde_json::from_str(text).map_err(|_| StoreError::Corrupt("authorization code".into()))?;
    Ok(AuthorizationCode {
        grant_id: opt_text(&v["grant_id"]).unwrap_or_default(),
        client_id: opt_text(&v["client_id"]).unwrap_or_default(),
        redirect_uri: opt_text(&v["redirect_uri"]).unwrap_or_default(),
        scopes: scopes(&v["scopes"])?,
        user_id: opt_text(&v["user_id"]).unwrap_or_default(),
        auth_time: from_unix(&v["auth_time"])?,
        amr: texts(&v["amr"]),
        session_id: opt_text(&v["session_id"]),
        nonce: opt_text(&v["nonce"]),
        code_challenge: opt_text(&v["code_challenge"]),
        expires_at: from_unix(&v["expires_at"])?,
    })
}

fn refresh_to_json(t: &RefreshToken) -> String {
    json!({
        "grant_id": t.grant_id, "client_id": t.client_id, "user_id": t.user_id, "scopes": t.scopes.to_string(),
        "auth_time": unix(t.auth_time), "amr": t.amr, "session_id": t.session_id, "issued_at": unix(t.issued_at),
        "grant_expires_at": unix(t.grant_expires_at),
    })
    .to_string()
}

fn refresh_from_row(row: &AnyRow) -> Result<RefreshToken> {
    let text: String = row.try_get("data")?;
    let v: Value = serde_json::from_str(&text).map_err(|_| StoreError::Corrupt("refresh token".into()))?;
    let rotated_at: Option<String> = row.try_get("rotated_at")?;
    let successor: Option<String> = row.try_get("successor_hash")?;
    let rotated = match (rotated_at, successor) {
        (Some(at), Some(s)) => Some((parse_ts(&at)?, s)),
        _ => None,
    };
    Ok(RefreshToken {
        grant_id: opt_text(&v["grant_id"]).unwrap_or_default(),
        client_id: opt_text(&v["client_id"]).unwrap_or_default(),
        user_id: opt_text(&v["user_id"]).unwrap_or_default(),
        scopes: scopes(&v["scopes"])?,
        auth_time: from_unix(&v["auth_time"])?,
        amr: texts(&v["amr"]),
        session_id: opt_text(&v["session_id"]),
        issued_at: from_unix(&v["issued_at"])?,
        grant_expires_at: from_unix(&v["grant_expires_at"])?,
        rotated,
    })
}

impl Store {
    // --- authorization servers and their keys

    pub async fn oauth_servers(&self) -> Result<Vec<OAuthServerRecord>> {
        let rows = sqlx::query(
            "SELECT id, name, description, audiences, status, settings, created, last_updated FROM oauth_servers ORDER BY created, id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(server_from_row).collect()
    }

    /// Inserts a server with its first keys, in one transaction. Returns
    /// false if a server with this id exists (another node made it first).
    pub async fn insert_oauth_server(&self, server: &OAuthServerRecord, keys: &[OAuthKeyRecord]) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO oauth_servers (id, name, description, audiences, status, settings, created, last_updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&server.id)
        .bind(&server.name)
        .bind(&server.description)
        .bind(Value::from(server.audiences.clone()).to_string())
        .bind(&server.status)
        .bind(Value::Object(server.settings.clone()).to_string())
        .bind(ts(server.created))
        .bind(ts(server.last_updated))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            return Ok(false);
        }
        for key in keys {
            insert_key(&mut tx, key).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn update_oauth_server(&self, server: &OAuthServerRecord) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE oauth_servers SET name = $2, description = $3, audiences = $4, status = $5, settings = $6, last_updated = $7 WHERE id = $1",
        )
        .bind(&server.id)
        .bind(&server.name)
        .bind(&server.description)
        .bind(Value::from(server.audiences.clone()).to_string())
        .bind(&server.status)
        .bind(Value::Object(server.settings.clone()).to_string())
        .bind(ts(server.last_updated))
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn delete_oauth_server(&self, id: &str) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM oauth_keys WHERE server_id = $1").bind(id).execute(&mut *tx).await?;
        let n = sqlx::query("DELETE FROM oauth_servers WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }

    /// The published keys of a server (every slot but `retired`).
    pub async fn oauth_keys(&self, server_id: &str) -> Result<Vec<OAuthKeyRecord>> {
        let rows = sqlx::query(
            "SELECT kid, server_id, alg, slot, sealed_private_key, published_at, created FROM oauth_keys \
             WHERE server_id = $1 AND slot <> 'retired' ORDER BY created, kid",
        )
        .bind(server_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(key_from_row).collect()
    }

    /// Moves one algorithm's keys one slot on, as `KeyRing::rotate` does in
    /// memory: previous → retired, current → previous, next → current, and
    /// `new_next` is published. Returns false, changing nothing, when the
    /// next key is no longer `expected_next` (another node rotated first).
    pub async fn rotate_oauth_keys(&self, server_id: &str, alg: &str, expected_next: &str, new_next: &OAuthKeyRecord) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        let claimed = sqlx::query("UPDATE oauth_keys SET slot = 'rotating' WHERE kid = $1 AND server_id = $2 AND slot = 'next'")
            .bind(expected_next)
            .bind(server_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if claimed != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        for (from, to) in [("previous", "retired"), ("current", "previous"), ("rotating", "current")] {
            sqlx::query("UPDATE oauth_keys SET slot = $4 WHERE server_id = $1 AND alg = $2 AND slot = $3")
                .bind(server_id)
                .bind(alg)
                .bind(from)
                .bind(to)
                .execute(&mut *tx)
                .await?;
        }
        insert_key(&mut tx, new_next).await?;
        tx.commit().await?;
        Ok(true)
    }

    // --- client secrets

    pub async fn put_client_secret(&self, client_id: &str, digest: &str, at: OffsetDateTime) -> Result<()> {
        sqlx::query(
            "INSERT INTO oauth_client_secrets (client_id, secret_digest, created) VALUES ($1, $2, $3) \
             ON CONFLICT (client_id) DO UPDATE SET secret_digest = $2, created = $3",
        )
        .bind(client_id)
        .bind(digest)
        .bind(ts(at))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn client_secret_digest(&self, client_id: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT secret_digest FROM oauth_client_secrets WHERE client_id = $1")
            .bind(client_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    // --- authorization codes

    pub async fn insert_code(&self, server_id: &str, code_hash: &str, code: &AuthorizationCode) -> Result<()> {
        sqlx::query("INSERT INTO oauth_codes (code_hash, server_id, data, redeemed, expires_at) VALUES ($1, $2, $3, 0, $4)")
            .bind(code_hash)
            .bind(server_id)
            .bind(code_to_json(code))
            .bind(ts(code.expires_at))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Redeems a code atomically: the returned flag is true on the first
    /// redemption only, whatever the concurrency.
    pub async fn redeem_code(&self, server_id: &str, code_hash: &str) -> Result<Option<(AuthorizationCode, bool)>> {
        let row = sqlx::query(
            "UPDATE oauth_codes SET redeemed = redeemed + 1 WHERE code_hash = $1 AND server_id = $2 RETURNING redeemed, data",
        )
        .bind(code_hash)
        .bind(server_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let redeemed: i64 = row.try_get("redeemed")?;
        let data: String = row.try_get("data")?;
        Ok(Some((code_from_json(&data)?, redeemed == 1)))
    }

    // --- refresh tokens

    pub async fn insert_refresh_token(&self, server_id: &str, token_hash: &str, token: &RefreshToken) -> Result<()> {
        sqlx::query(
            "INSERT INTO oauth_refresh_tokens (token_hash, server_id, grant_id, client_id, data, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(server_id)
        .bind(&token.grant_id)
        .bind(&token.client_id)
        .bind(refresh_to_json(token))
        .bind(ts(token.grant_expires_at))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn refresh_token(&self, server_id: &str, token_hash: &str) -> Result<Option<RefreshToken>> {
        let row = sqlx::query(
            "SELECT data, rotated_at, successor_hash FROM oauth_refresh_tokens WHERE token_hash = $1 AND server_id = $2",
        )
        .bind(token_hash)
        .bind(server_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(refresh_from_row).transpose()
    }

    /// Marks a refresh token rotated; false if it already was.
    pub async fn mark_refresh_rotated(&self, token_hash: &str, at: OffsetDateTime, successor_hash: &str) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE oauth_refresh_tokens SET rotated_at = $2, successor_hash = $3 WHERE token_hash = $1 AND rotated_at IS NULL",
        )
        .bind(token_hash)
        .bind(ts(at))
        .bind(successor_hash)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    // --- revocation

    pub async fn revoke_grant(&self, grant_id: &str, at: OffsetDateTime) -> Result<()> {
        sqlx::query("INSERT INTO oauth_revoked_grants (grant_id, revoked_at) VALUES ($1, $2) ON CONFLICT (grant_id) DO NOTHING")
            .bind(grant_id)
            .bind(ts(at))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn is_grant_revoked(&self, grant_id: &str) -> Result<bool> {
        let row = sqlx::query("SELECT 1 FROM oauth_revoked_grants WHERE grant_id = $1").bind(grant_id).fetch_optional(self.pool()).await?;
        Ok(row.is_some())
    }

    pub async fn revoke_access_token(&self, jti: &str, expires_at: OffsetDateTime) -> Result<()> {
        sqlx::query("INSERT INTO oauth_revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING")
            .bind(jti)
            .bind(ts(expires_at))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn is_access_token_revoked(&self, jti: &str) -> Result<bool> {
        let row = sqlx::query("SELECT 1 FROM oauth_revoked_tokens WHERE jti = $1").bind(jti).fetch_optional(self.pool()).await?;
        Ok(row.is_some())
    }

    /// Records a client assertion's jti; false if it was there already.
    pub async fn first_use_of_jti(&self, key: &str, expires_at: OffsetDateTime) -> Result<bool> {
        let n = sqlx::query("INSERT INTO oauth_jtis (jti_key, expires_at) VALUES ($1, $2) ON CONFLICT (jti_key) DO NOTHING")
            .bind(key)
            .bind(ts(expires_at))
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Forgets codes, refresh tokens past their grant's end, revoked access
    /// tokens, jtis and transactions that have expired.
    pub async fn delete_expired_oauth_state(&self, now: OffsetDateTime) -> Result<()> {
        for table in ["oauth_codes", "oauth_refresh_tokens", "oauth_revoked_tokens", "oauth_jtis", "oauth_transactions"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE expires_at < $1")).bind(ts(now)).execute(self.pool()).await?;
        }
        Ok(())
    }

    // --- authorization transactions (an authorize request waiting for sign-in or consent)

    pub async fn put_oauth_transaction(&self, id: &str, data: &Value, expires_at: OffsetDateTime) -> Result<()> {
        sqlx::query("INSERT INTO oauth_transactions (id, data, expires_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(data.to_string())
            .bind(ts(expires_at))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn oauth_transaction(&self, id: &str, now: OffsetDateTime) -> Result<Option<Value>> {
        let row = sqlx::query("SELECT data FROM oauth_transactions WHERE id = $1 AND expires_at > $2")
            .bind(id)
            .bind(ts(now))
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| serde_json::from_str(&r.get::<String, _>(0)).map_err(|_| StoreError::Corrupt("transaction".into()))).transpose()
    }

    pub async fn delete_oauth_transaction(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM oauth_transactions WHERE id = $1").bind(id).execute(self.pool()).await?;
        Ok(())
    }

    // --- scope grants of apps

    pub async fn app_scope_grants(&self, app_id: &str) -> Result<Vec<AppScopeGrant>> {
        let rows = sqlx::query("SELECT id, app_id, issuer, scope_id, created FROM oauth_app_grants WHERE app_id = $1 ORDER BY created, id")
            .bind(app_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(AppScopeGrant {
                    id: row.try_get("id")?,
                    app_id: row.try_get("app_id")?,
                    issuer: row.try_get("issuer")?,
                    scope_id: row.try_get("scope_id")?,
                    created: parse_ts(&row.try_get::<String, _>("created")?)?,
                })
            })
            .collect()
    }

    pub async fn insert_app_scope_grant(&self, g: &AppScopeGrant) -> Result<()> {
        sqlx::query("INSERT INTO oauth_app_grants (id, app_id, issuer, scope_id, created) VALUES ($1, $2, $3, $4, $5)")
            .bind(&g.id)
            .bind(&g.app_id)
            .bind(&g.issuer)
            .bind(&g.scope_id)
            .bind(ts(g.created))
            .execute(self.pool())
            .await
            .map_err(|e| conflict_as(e, "scope grant"))?;
        Ok(())
    }

    pub async fn delete_app_scope_grant(&self, app_id: &str, id: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM oauth_app_grants WHERE app_id = $1 AND id = $2")
            .bind(app_id)
            .bind(id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }
}

async fn insert_key(tx: &mut sqlx::Transaction<'_, sqlx::Any>, key: &OAuthKeyRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO oauth_keys (kid, server_id, alg, slot, sealed_private_key, published_at, created) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&key.kid)
    .bind(&key.server_id)
    .bind(&key.alg)
    .bind(&key.slot)
    .bind(&key.sealed_private_key)
    .bind(ts(key.published_at))
    .bind(ts(key.created))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
