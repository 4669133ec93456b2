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

/// An access policy of a custom authorization server, Okta's
/// `AuthorizationServerPolicy` (its `conditions` as Okta's JSON).
#[derive(Debug, Clone)]
pub struct OAuthPolicyRecord {
    pub id: String,
    pub server_id: String,
    pub name: String,
    pub description: String,
    pub status: String,
    pub priority: i64,
    pub system: bool,
    pub conditions: Map<String, Value>,
    pub created: OffsetDateTime,
    pub last_updated: OffsetDateTime,
}

/// A rule of an access policy, Okta's `AuthorizationServerPolicyRule`.
#[derive(Debug, Clone)]
pub struct OAuthPolicyRuleRecord {
    pub id: String,
    pub policy_id: String,
    pub server_id: String,
    pub name: String,
    pub status: String,
    pub priority: i64,
    pub system: bool,
    pub conditions: Map<String, Value>,
    pub actions: Map<String, Value>,
    pub created: OffsetDateTime,
    pub last_updated: OffsetDateTime,
}

/// The fixed ids of the `default` server's Default Policy and its rule:
/// migration 7 gives them to a server that existed before it, and
/// `oauth::runtime` to one created after, so two nodes creating it at once
/// still make one policy.
pub const DEFAULT_POLICY_ID: &str = "00pdefaultpolicy0001";
pub const DEFAULT_RULE_ID: &str = "0prdefaultpolicyrul1";

/// One client secret of an OIDC app, as its digest (the secret itself is
/// shown once, when it is made).
#[derive(Debug, Clone)]
pub struct ClientSecretRecord {
    pub id: String,
    pub client_id: String,
    pub digest: String,
    pub active: bool,
    pub created: OffsetDateTime,
    pub last_updated: OffsetDateTime,
}

/// A person's consent to one scope for one client on one server (Okta's
/// `OAuth2ScopeConsentGrant` with source `END_USER`).
#[derive(Debug, Clone)]
pub struct ConsentRecord {
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    pub server_id: String,
    pub issuer: String,
    pub scope: String,
    pub created: OffsetDateTime,
    pub last_updated: OffsetDateTime,
}

/// A refresh token as the user-grants API lists it: the newest token of a
/// grant (rotated ones are not listed), by its public id.
#[derive(Debug, Clone)]
pub struct RefreshTokenListing {
    pub id: String,
    pub server_id: String,
    pub created: OffsetDateTime,
    pub token: RefreshToken,
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

fn policy_from_row(row: &AnyRow) -> Result<OAuthPolicyRecord> {
    Ok(OAuthPolicyRecord {
        id: row.try_get("id")?,
        server_id: row.try_get("server_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        status: row.try_get("status")?,
        priority: row.try_get("priority")?,
        system: row.try_get::<i64, _>("system")? != 0,
        conditions: object(row, "conditions")?,
        created: parse_ts(&row.try_get::<String, _>("created")?)?,
        last_updated: parse_ts(&row.try_get::<String, _>("last_updated")?)?,
    })
}

fn rule_from_row(row: &AnyRow) -> Result<OAuthPolicyRuleRecord> {
    Ok(OAuthPolicyRuleRecord {
        id: row.try_get("id")?,
        policy_id: row.try_get("policy_id")?,
        server_id: row.try_get("server_id")?,
        name: row.try_get("name")?,
        status: row.try_get("status")?,
        priority: row.try_get("priority")?,
        system: row.try_get::<i64, _>("system")? != 0,
        conditions: object(row, "conditions")?,
        actions: object(row, "actions")?,
        created: parse_ts(&row.try_get::<String, _>("created")?)?,
        last_updated: parse_ts(&row.try_get::<String, _>("last_updated")?)?,
    })
}

fn consent_from_row(row: &AnyRow) -> Result<ConsentRecord> {
    Ok(ConsentRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        client_id: row.try_get("client_id")?,
        server_id: row.try_get("server_id")?,
        issuer: row.try_get("issuer")?,
        scope: row.try_get("scope")?,
        created: parse_ts(&row.try_get::<String, _>("created")?)?,
        last_updated: parse_ts(&row.try_get::<String, _>("last_updated")?)?,
    })
}

const POLICY_COLUMNS: &str = "id, server_id, name, description, status, priority, system, conditions, created, last_updated";
const RULE_COLUMNS: &str = "id, policy_id, server_id, name, status, priority, system, conditions, actions, created, last_updated";
const CONSENT_COLUMNS: &str = "id, user_id, client_id, server_id, issuer, scope, created, last_updated";

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
        "grant_expires_at": unix(t.grant_expires_at), "idle_seconds": t.idle_window.whole_seconds(),
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
        // Tokens stored before access policies had the server's default window.
        idle_window: v["idle_seconds"]
            .as_i64()
            .map(time::Duration::seconds)
            .unwrap_or_else(|| oidc::Lifetimes::default().refresh_token_idle),
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

    /// An app's client secrets, oldest first.
    pub async fn client_secrets(&self, client_id: &str) -> Result<Vec<ClientSecretRecord>> {
        let rows = sqlx::query(
            "SELECT id, client_id, secret_digest, status, created, last_updated FROM oauth_app_secrets WHERE client_id = $1 ORDER BY created, id",
        )
        .bind(client_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ClientSecretRecord {
                    id: row.try_get("id")?,
                    client_id: row.try_get("client_id")?,
                    digest: row.try_get("secret_digest")?,
                    active: row.try_get::<String, _>("status")? == "ACTIVE",
                    created: parse_ts(&row.try_get::<String, _>("created")?)?,
                    last_updated: parse_ts(&row.try_get::<String, _>("last_updated")?)?,
                })
            })
            .collect()
    }

    /// Adds a secret; with `replace`, the app's other secrets go in the same
    /// transaction.
    pub async fn insert_client_secret(&self, secret: &ClientSecretRecord, replace: bool) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        if replace {
            sqlx::query("DELETE FROM oauth_app_secrets WHERE client_id = $1").bind(&secret.client_id).execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO oauth_app_secrets (id, client_id, secret_digest, status, created, last_updated) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&secret.id)
        .bind(&secret.client_id)
        .bind(&secret.digest)
        .bind(if secret.active { "ACTIVE" } else { "INACTIVE" })
        .bind(ts(secret.created))
        .bind(ts(secret.last_updated))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_client_secret_active(&self, client_id: &str, id: &str, active: bool, at: OffsetDateTime) -> Result<bool> {
        let n = sqlx::query("UPDATE oauth_app_secrets SET status = $1, last_updated = $2 WHERE client_id = $3 AND id = $4")
            .bind(if active { "ACTIVE" } else { "INACTIVE" })
            .bind(ts(at))
            .bind(client_id)
            .bind(id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    pub async fn delete_client_secret(&self, client_id: &str, id: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM oauth_app_secrets WHERE client_id = $1 AND id = $2").bind(client_id).bind(id).execute(self.pool()).await?.rows_affected();
        Ok(n == 1)
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

    /// Stores a refresh token with a public id (`oar…`) for the user-grants
    /// API, and its person, so that a person's tokens can be listed.
    pub async fn insert_refresh_token(&self, server_id: &str, token_hash: &str, token: &RefreshToken) -> Result<()> {
        let id = vestibule_core::id::generate("oar", &mut rand::thread_rng());
        sqlx::query(
            "INSERT INTO oauth_refresh_tokens (token_hash, server_id, grant_id, client_id, data, expires_at, id, user_id, created) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(token_hash)
        .bind(server_id)
        .bind(&token.grant_id)
        .bind(&token.client_id)
        .bind(refresh_to_json(token))
        .bind(ts(token.grant_expires_at))
        .bind(id)
        .bind(&token.user_id)
        .bind(ts(token.issued_at))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The live refresh tokens of a person (optionally for one client):
    /// the newest of each grant, unexpired, its grant not revoked.
    pub async fn refresh_tokens_of_user(&self, user_id: &str, client_id: Option<&str>, now: OffsetDateTime) -> Result<Vec<RefreshTokenListing>> {
        let rows = sqlx::query(
            "SELECT t.id, t.server_id, t.created, t.data, t.rotated_at, t.successor_hash FROM oauth_refresh_tokens t \
             WHERE t.user_id = $1 AND ($2 = '' OR t.client_id = $2) AND t.rotated_at IS NULL AND t.expires_at > $3 AND t.id IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM oauth_revoked_grants g WHERE g.grant_id = t.grant_id) ORDER BY t.created, t.id",
        )
        .bind(user_id)
        .bind(client_id.unwrap_or_default())
        .bind(ts(now))
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            let token = refresh_from_row(row)?;
            // Idle past its window: as dead as an expired one.
            if now >= token.issued_at + token.idle_window {
                continue;
            }
            out.push(RefreshTokenListing {
                id: row.try_get("id")?,
                server_id: row.try_get("server_id")?,
                created: parse_ts(&row.try_get::<String, _>("created")?)?,
                token,
            });
        }
        Ok(out)
    }

    /// The grant ids of a person's refresh tokens for a client on a server
    /// whose scopes include `scope` (every scope when `None`), for revoking
    /// what a withdrawn consent issued.
    pub async fn refresh_grants_of(&self, user_id: &str, client_id: &str, server_id: Option<&str>) -> Result<Vec<(String, Scopes)>> {
        let rows = sqlx::query(
            "SELECT grant_id, server_id, data, rotated_at, successor_hash FROM oauth_refresh_tokens \
             WHERE user_id = $1 AND client_id = $2 AND ($3 = '' OR server_id = $3)",
        )
        .bind(user_id)
        .bind(client_id)
        .bind(server_id.unwrap_or_default())
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<(String, Scopes)> = Vec::new();
        for row in &rows {
            let token = refresh_from_row(row)?;
            if !out.iter().any(|(g, _)| *g == token.grant_id) {
                out.push((token.grant_id, token.scopes));
            }
        }
        Ok(out)
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

impl Store {
    // --- access policies and their rules

    /// A server's policies, by priority.
    pub async fn oauth_policies(&self, server_id: &str) -> Result<Vec<OAuthPolicyRecord>> {
        let rows = sqlx::query(&format!("SELECT {POLICY_COLUMNS} FROM oauth_policies WHERE server_id = $1 ORDER BY priority, created, id"))
            .bind(server_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(policy_from_row).collect()
    }

    /// Every rule of a server's policies, by policy and priority.
    pub async fn oauth_policy_rules(&self, server_id: &str) -> Result<Vec<OAuthPolicyRuleRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {RULE_COLUMNS} FROM oauth_policy_rules WHERE server_id = $1 ORDER BY policy_id, priority, created, id"
        ))
        .bind(server_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(rule_from_row).collect()
    }

    /// Inserts a policy and its rules; an existing id is left alone (the
    /// Default Policy made by two nodes at once).
    pub async fn insert_oauth_policy(&self, policy: &OAuthPolicyRecord, rules: &[OAuthPolicyRuleRecord]) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO oauth_policies ({POLICY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING"
        ))
        .bind(&policy.id)
        .bind(&policy.server_id)
        .bind(&policy.name)
        .bind(&policy.description)
        .bind(&policy.status)
        .bind(policy.priority)
        .bind(i64::from(policy.system))
        .bind(Value::Object(policy.conditions.clone()).to_string())
        .bind(ts(policy.created))
        .bind(ts(policy.last_updated))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            for rule in rules {
                insert_rule(&mut tx, rule).await?;
            }
        }
        tx.commit().await?;
        Ok(inserted)
    }

    pub async fn update_oauth_policy(&self, policy: &OAuthPolicyRecord) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE oauth_policies SET name = $3, description = $4, status = $5, priority = $6, conditions = $7, last_updated = $8 \
             WHERE id = $1 AND server_id = $2",
        )
        .bind(&policy.id)
        .bind(&policy.server_id)
        .bind(&policy.name)
        .bind(&policy.description)
        .bind(&policy.status)
        .bind(policy.priority)
        .bind(Value::Object(policy.conditions.clone()).to_string())
        .bind(ts(policy.last_updated))
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Deletes a policy with its rules.
    pub async fn delete_oauth_policy(&self, server_id: &str, id: &str) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM oauth_policy_rules WHERE policy_id = $1 AND server_id = $2").bind(id).bind(server_id).execute(&mut *tx).await?;
        let n = sqlx::query("DELETE FROM oauth_policies WHERE id = $1 AND server_id = $2")
            .bind(id)
            .bind(server_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Renumbers priorities in one transaction: `(id, priority)` pairs of
    /// policies (`rules` false) or rules (`rules` true) of one server.
    pub async fn set_oauth_priorities(&self, server_id: &str, rules: bool, order: &[(String, i64)]) -> Result<()> {
        let table = if rules { "oauth_policy_rules" } else { "oauth_policies" };
        let mut tx = self.pool().begin().await?;
        for (id, priority) in order {
            sqlx::query(&format!("UPDATE {table} SET priority = $3 WHERE id = $1 AND server_id = $2"))
                .bind(id)
                .bind(server_id)
                .bind(priority)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn insert_oauth_policy_rule(&self, rule: &OAuthPolicyRuleRecord) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        insert_rule(&mut tx, rule).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn update_oauth_policy_rule(&self, rule: &OAuthPolicyRuleRecord) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE oauth_policy_rules SET name = $3, status = $4, priority = $5, conditions = $6, actions = $7, last_updated = $8 \
             WHERE id = $1 AND policy_id = $2",
        )
        .bind(&rule.id)
        .bind(&rule.policy_id)
        .bind(&rule.name)
        .bind(&rule.status)
        .bind(rule.priority)
        .bind(Value::Object(rule.conditions.clone()).to_string())
        .bind(Value::Object(rule.actions.clone()).to_string())
        .bind(ts(rule.last_updated))
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn delete_oauth_policy_rule(&self, policy_id: &str, id: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM oauth_policy_rules WHERE id = $1 AND policy_id = $2")
            .bind(id)
            .bind(policy_id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    // --- remembered consent (user grants)

    /// Records consent to each of `scopes`; already consented ones are kept.
    pub async fn insert_consents(&self, user_id: &str, client_id: &str, server_id: &str, issuer: &str, scopes: &[String], at: OffsetDateTime) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        for scope in scopes {
            let id = vestibule_core::id::generate("oag", &mut rand::thread_rng());
            sqlx::query(&format!(
                "INSERT INTO oauth_consents ({CONSENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                 ON CONFLICT (user_id, client_id, server_id, scope) DO NOTHING"
            ))
            .bind(id)
            .bind(user_id)
            .bind(client_id)
            .bind(server_id)
            .bind(issuer)
            .bind(scope)
            .bind(ts(at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A person's consents, optionally for one client and one server.
    pub async fn consents(&self, user_id: &str, client_id: Option<&str>, server_id: Option<&str>) -> Result<Vec<ConsentRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {CONSENT_COLUMNS} FROM oauth_consents WHERE user_id = $1 AND ($2 = '' OR client_id = $2) AND ($3 = '' OR server_id = $3) \
             ORDER BY created, id"
        ))
        .bind(user_id)
        .bind(client_id.unwrap_or_default())
        .bind(server_id.unwrap_or_default())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(consent_from_row).collect()
    }

    pub async fn delete_consent(&self, user_id: &str, id: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM oauth_consents WHERE user_id = $1 AND id = $2").bind(user_id).bind(id).execute(self.pool()).await?.rows_affected();
        Ok(n == 1)
    }

    /// Deletes a person's consents (for one client when given); returns how many.
    pub async fn delete_consents(&self, user_id: &str, client_id: Option<&str>) -> Result<u64> {
        let n = sqlx::query("DELETE FROM oauth_consents WHERE user_id = $1 AND ($2 = '' OR client_id = $2)")
            .bind(user_id)
            .bind(client_id.unwrap_or_default())
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n)
    }

    /// One refresh token of a person and client by its public id (the
    /// newest of its grant, live or not).
    pub async fn refresh_token_by_id(&self, user_id: &str, client_id: &str, id: &str) -> Result<Option<RefreshTokenListing>> {
        let row = sqlx::query(
            "SELECT id, server_id, created, data, rotated_at, successor_hash FROM oauth_refresh_tokens \
             WHERE id = $1 AND user_id = $2 AND client_id = $3",
        )
        .bind(id)
        .bind(user_id)
        .bind(client_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(RefreshTokenListing {
            id: row.try_get("id")?,
            server_id: row.try_get("server_id")?,
            created: parse_ts(&row.try_get::<String, _>("created")?)?,
            token: refresh_from_row(&row)?,
        }))
    }

    // --- apps' groups claims (org authorization server ID tokens)

    pub async fn app_groups_claim(&self, app_id: &str) -> Result<Option<Map<String, Value>>> {
        let row = sqlx::query("SELECT data FROM oauth_app_groups_claims WHERE app_id = $1").bind(app_id).fetch_optional(self.pool()).await?;
        row.map(|r| match serde_json::from_str(&r.get::<String, _>(0)) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(StoreError::Corrupt("app groups claim".into())),
        })
        .transpose()
    }

    pub async fn put_app_groups_claim(&self, app_id: &str, data: &Map<String, Value>, at: OffsetDateTime) -> Result<()> {
        sqlx::query(
            "INSERT INTO oauth_app_groups_claims (app_id, data, last_updated) VALUES ($1, $2, $3) \
             ON CONFLICT (app_id) DO UPDATE SET data = $2, last_updated = $3",
        )
        .bind(app_id)
        .bind(Value::Object(data.clone()).to_string())
        .bind(ts(at))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn delete_app_groups_claim(&self, app_id: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM oauth_app_groups_claims WHERE app_id = $1").bind(app_id).execute(self.pool()).await?.rows_affected();
        Ok(n == 1)
    }
}

async fn insert_rule(tx: &mut sqlx::Transaction<'_, sqlx::Any>, rule: &OAuthPolicyRuleRecord) -> Result<()> {
    sqlx::query(&format!("INSERT INTO oauth_policy_rules ({RULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
        .bind(&rule.id)
        .bind(&rule.policy_id)
        .bind(&rule.server_id)
        .bind(&rule.name)
        .bind(&rule.status)
        .bind(rule.priority)
        .bind(i64::from(rule.system))
        .bind(Value::Object(rule.conditions.clone()).to_string())
        .bind(Value::Object(rule.actions.clone()).to_string())
        .bind(ts(rule.created))
        .bind(ts(rule.last_updated))
        .execute(&mut **tx)
        .await
        .map_err(|e| conflict_as(e, "policy rule"))?;
    Ok(())
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
