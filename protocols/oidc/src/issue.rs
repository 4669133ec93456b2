//! Minting and validating the tokens: ID tokens (OIDC Core §2) and JWT
//! access tokens (RFC 9068).

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::claims::UserClaims;
use crate::client::Client;
use crate::error::{Error, OAuthError};
use crate::scope::Scopes;
use crate::Provider;

/// The claims of one of our access tokens, once validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub issuer: String,
    /// The user's id for user tokens; the client id for client_credentials
    /// tokens (RFC 9068 §2.2).
    pub sub: String,
    /// The user's id, present only when the subject is a user (Okta's `uid`).
    pub user_id: Option<String>,
    pub audiences: Vec<String>,
    pub client_id: String,
    pub scopes: Scopes,
    pub jti: String,
    pub grant_id: String,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub auth_time: Option<OffsetDateTime>,
}

/// What an access token is issued for.
pub(crate) struct AccessTokenGrant<'a> {
    pub client_id: &'a str,
    pub user_id: Option<&'a str>,
    pub scopes: &'a Scopes,
    pub grant_id: &'a str,
    pub auth_time: Option<OffsetDateTime>,
    /// From the access policy rule (custom servers) or the server.
    pub lifetime: time::Duration,
}

/// Signs an access token with the current key of the server's access-token
/// algorithm (RS256 unless configured otherwise), header `typ:
/// at+jwt`, claims of RFC 9068 §2.2 plus Okta's `cid`, `uid` and `scp`,
/// and `gid`, the grant id, so that revoking a grant revokes its access
/// tokens without a lookup per token issued.
pub(crate) fn issue_access_token(p: &Provider<'_>, grant: &AccessTokenGrant<'_>) -> Result<(String, AccessToken), Error> {
    let now = p.clock.now();
    let expires_at = now + grant.lifetime;
    let key = p
        .keys
        .signing_key(p.server.access_token_alg)
        .ok_or(Error::KeyRing("no key for the server's access_token_alg"))?;
    let jti = format!("AT.{}", p.random.token());
    let sub = grant.user_id.unwrap_or(grant.client_id);
    let aud = match p.server.audiences.as_slice() {
        [one] => Value::String(one.clone()),
        many => json!(many),
    };
    let mut claims = Map::new();
    claims.insert("ver".into(), json!(1));
    claims.insert("jti".into(), json!(jti));
    claims.insert("iss".into(), json!(p.server.issuer));
    claims.insert("aud".into(), aud);
    claims.insert("sub".into(), json!(sub));
    claims.insert("iat".into(), json!(now.unix_timestamp()));
    claims.insert("exp".into(), json!(expires_at.unix_timestamp()));
    claims.insert("client_id".into(), json!(grant.client_id));
    claims.insert("cid".into(), json!(grant.client_id));
    if let Some(uid) = grant.user_id {
        claims.insert("uid".into(), json!(uid));
    }
    if let Some(t) = grant.auth_time {
        claims.insert("auth_time".into(), json!(t.unix_timestamp()));
    }
    claims.insert("scope".into(), json!(grant.scopes.to_string()));
    claims.insert("scp".into(), json!(grant.scopes.iter().collect::<Vec<_>>()));
    claims.insert("gid".into(), json!(grant.grant_id));
    let token = key.sign_jwt("at+jwt", &claims)?;
    let parsed = AccessToken {
        issuer: p.server.issuer.clone(),
        sub: sub.to_owned(),
        user_id: grant.user_id.map(str::to_owned),
        audiences: p.server.audiences.clone(),
        client_id: grant.client_id.to_owned(),
        scopes: grant.scopes.clone(),
        jti,
        grant_id: grant.grant_id.to_owned(),
        issued_at: now,
        expires_at,
        auth_time: grant.auth_time,
    };
    Ok((token, parsed))
}

/// What an ID token is issued for.
pub(crate) struct IdTokenGrant<'a> {
    pub client: &'a Client,
    pub user: &'a UserClaims,
    pub scopes: &'a Scopes,
    pub nonce: Option<&'a str>,
    pub auth_time: OffsetDateTime,
    pub amr: &'a [String],
    pub session_id: Option<&'a str>,
    pub access_token: Option<&'a str>,
    pub code: Option<&'a str>,
}

/// Signs an ID token (OIDC Core §2, §3.1.3.6) with the algorithm the client
/// registered, carrying the claims its scopes release.
pub(crate) fn issue_id_token(p: &Provider<'_>, grant: &IdTokenGrant<'_>) -> Result<String, Error> {
    let now = p.clock.now();
    let alg = grant.client.id_token_signed_response_alg;
    let key = p.keys.signing_key(alg).ok_or(Error::KeyRing("no key for the client's id_token_signed_response_alg"))?;
    let mut claims = grant.user.for_client(grant.scopes, p.server.groups_filter.as_ref(), app_groups_claim(p, grant.client));
    claims.insert("iss".into(), json!(p.server.issuer));
    claims.insert("sub".into(), json!(grant.user.sub));
    claims.insert("aud".into(), json!(grant.client.client_id));
    claims.insert("iat".into(), json!(now.unix_timestamp()));
    claims.insert("exp".into(), json!((now + p.server.lifetimes.id_token).unix_timestamp()));
    claims.insert("auth_time".into(), json!(grant.auth_time.unix_timestamp()));
    claims.insert("jti".into(), json!(format!("ID.{}", p.random.token())));
    if !grant.amr.is_empty() {
        claims.insert("amr".into(), json!(grant.amr));
    }
    if let Some(nonce) = grant.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    if let Some(sid) = grant.session_id {
        claims.insert("sid".into(), json!(sid));
    }
    if let Some(at) = grant.access_token {
        claims.insert("at_hash".into(), json!(alg.half_hash(at)));
    }
    if let Some(code) = grant.code {
        claims.insert("c_hash".into(), json!(alg.half_hash(code)));
    }
    key.sign_jwt("JWT", &claims)
}

/// An app's own groups claim applies on the org authorization server only;
/// a custom server's claims are the server's (Okta's model).
pub(crate) fn app_groups_claim<'c>(p: &Provider<'_>, client: &'c Client) -> Option<&'c crate::client::GroupsClaim> {
    (p.server.kind == crate::server::ServerKind::Org).then_some(()).and(client.groups_claim.as_ref())
}

/// Validates one of our access tokens, as a resource server would (RFC 9068
/// §4) and then against our own revocation state. Each failure is
/// `invalid_token` (RFC 6750 §3.1) with a description that says which check
/// failed but nothing of the token.
pub fn validate_access_token(p: &Provider<'_>, token: &str) -> Result<AccessToken, OAuthError> {
    let jwt = p.keys.verify(token).map_err(|_| OAuthError::invalid_token("The access token is invalid."))?;
    let c = &jwt.claims;
    // RFC 9068 §4: the typ header must be at+jwt, so an ID token cannot pass as an access token.
    let typ = jwt.header.get("typ").and_then(Value::as_str).unwrap_or_default();
    if !typ.eq_ignore_ascii_case("at+jwt") && !typ.eq_ignore_ascii_case("application/at+jwt") {
        return Err(OAuthError::invalid_token("The token is not an access token."));
    }
    let str_claim = |name: &str| c.get(name).and_then(Value::as_str).map(str::to_owned);
    let time_claim =
        |name: &str| c.get(name).and_then(Value::as_i64).and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok());
    let malformed = || OAuthError::invalid_token("The access token is malformed.");
    let issuer = str_claim("iss").ok_or_else(malformed)?;
    if issuer != p.server.issuer {
        return Err(OAuthError::invalid_token("The access token was issued by another authorization server."));
    }
    let audiences: Vec<String> = match c.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => return Err(malformed()),
    };
    if !audiences.iter().any(|a| p.server.audiences.contains(a)) {
        return Err(OAuthError::invalid_token("The access token is for another audience."));
    }
    let expires_at = time_claim("exp").ok_or_else(malformed)?;
    if expires_at <= p.clock.now() {
        return Err(OAuthError::invalid_token("The access token has expired."));
    }
    let jti = str_claim("jti").ok_or_else(malformed)?;
    let grant_id = str_claim("gid").ok_or_else(malformed)?;
    if p.grants.is_access_token_revoked(&jti) || p.grants.is_grant_revoked(&grant_id) {
        return Err(OAuthError::invalid_token("The access token has been revoked."));
    }
    Ok(AccessToken {
        issuer,
        sub: str_claim("sub").ok_or_else(malformed)?,
        user_id: str_claim("uid"),
        audiences,
        client_id: str_claim("client_id").ok_or_else(malformed)?,
        scopes: Scopes::parse(&str_claim("scope").unwrap_or_default()).ok_or_else(malformed)?,
        jti,
        grant_id,
        issued_at: time_claim("iat").ok_or_else(malformed)?,
        expires_at,
        auth_time: time_claim("auth_time"),
    })
}

/// The token of an `Authorization: Bearer` header (RFC 6750 §2.1).
pub fn bearer_token(authorization: Option<&str>) -> Result<&str, OAuthError> {
    let missing = || OAuthError::invalid_token("A bearer access token is required.");
    let (scheme, token) = authorization.ok_or_else(missing)?.trim().split_once(' ').ok_or_else(missing)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(missing());
    }
    Ok(token)
}
