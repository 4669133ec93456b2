//! The token endpoint (RFC 6749 §3.2, §4.1.3, §4.4, §6; OIDC Core §3.1.3).

use serde_json::{json, Value};

use crate::client::{Client, GrantType};
use crate::client_auth::authenticate_client;
use crate::error::OAuthError;
use crate::issue::{issue_access_token, issue_id_token, AccessTokenGrant, IdTokenGrant};
use crate::pkce;
use crate::request::FormRequest;
use crate::scope::Scopes;
use crate::server::OIDC_SCOPES;
use crate::store::{token_hash, AuthorizationCode, CodeRedemption, RefreshToken};
use crate::Provider;

/// A successful token response (RFC 6749 §5.1). The gateway sends
/// [`TokenResponse::body`] with status 200 and [`NO_STORE_HEADERS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: Scopes,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
}

/// RFC 6749 §5.1: responses with tokens must not be cached. Errors from
/// this endpoint carry them too.
pub const NO_STORE_HEADERS: [(&str, &str); 2] = [("Cache-Control", "no-store"), ("Pragma", "no-cache")];

impl TokenResponse {
    pub fn body(&self) -> Value {
        let mut body = json!({
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope.to_string(),
        });
        if let Some(id_token) = &self.id_token {
            body["id_token"] = json!(id_token);
        }
        if let Some(refresh_token) = &self.refresh_token {
            body["refresh_token"] = json!(refresh_token);
        }
        body
    }
}

/// Handles a token request: the parameters must not repeat (RFC 6749 §3.2),
/// the client must authenticate (§3.2.1), then the grant's own checks run.
pub fn token(p: &Provider<'_>, request: &FormRequest) -> Result<TokenResponse, OAuthError> {
    if let Some(name) = request.repeated_parameter() {
        return Err(OAuthError::invalid_request(format!("The {name} parameter is repeated.")));
    }
    let client = authenticate_client(p, request, &p.server.token_endpoint())?;
    let grant_type = request
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("The grant_type parameter is missing."))?;
    let grant = GrantType::parse(grant_type).ok_or_else(|| {
        OAuthError::new(crate::ErrorCode::UnsupportedGrantType, "The grant_type is not supported.")
    })?;
    // RFC 6749 §5.2 unauthorized_client: the client must be registered for the grant.
    if !client.may_use(grant) {
        return Err(OAuthError::unauthorized_client("The client may not use this grant type."));
    }
    match grant {
        GrantType::AuthorizationCode => authorization_code_grant(p, &client, request),
        GrantType::RefreshToken => refresh_token_grant(p, &client, request),
        GrantType::ClientCredentials => client_credentials_grant(p, &client, request),
    }
}

// ---------------------------------------------------------------------------
// authorization_code

struct CodeExchange<'r> {
    client: &'r Client,
    request: &'r FormRequest,
    code: AuthorizationCode,
}

type CodeCheck = fn(&Provider<'_>, &CodeExchange<'_>) -> Result<(), OAuthError>;

/// The checks on a redeemed code, in order. Redemption itself (single use,
/// replay revokes the grant) comes first, in [`redeem_code`].
const CODE_CHECKS: &[(&str, CodeCheck)] = &[
    ("code_not_expired", check_code_not_expired),
    ("code_client", check_code_client),
    ("code_redirect_uri", check_code_redirect_uri),
    ("code_verifier", check_code_verifier),
    ("grant_not_revoked", check_code_grant_not_revoked),
];

fn authorization_code_grant(p: &Provider<'_>, client: &Client, request: &FormRequest) -> Result<TokenResponse, OAuthError> {
    let code_value = request.get("code").ok_or_else(|| OAuthError::invalid_request("The code parameter is missing."))?;
    let code = redeem_code(p, code_value)?;
    let exchange = CodeExchange { client, request, code };
    for (_, check) in CODE_CHECKS {
        check(p, &exchange)?;
    }
    let code = exchange.code;
    let user = p.users.user(&code.user_id).ok_or_else(|| OAuthError::invalid_grant("The user is no longer active."))?;
    issue_user_tokens(
        p,
        client,
        UserGrant {
            grant_id: &code.grant_id,
            user: &user,
            scopes: &code.scopes,
            granted_scopes: &code.scopes,
            auth_time: code.auth_time,
            amr: &code.amr,
            session_id: code.session_id.as_deref(),
            nonce: code.nonce.as_deref(),
            code: Some(code_value),
            grant_expires_at: None,
        },
    )
}

/// RFC 6749 §4.1.2: a code is used once. A second redemption means the code
/// leaked; the server SHOULD revoke every token issued from it, so the
/// whole grant is revoked. Unknown codes are `invalid_grant` (§5.2).
fn redeem_code(p: &Provider<'_>, code: &str) -> Result<AuthorizationCode, OAuthError> {
    match p.codes.redeem(&token_hash(code)) {
        Some(CodeRedemption::First(code)) => Ok(code),
        Some(CodeRedemption::Replayed(code)) => {
            p.grants.revoke_grant(&code.grant_id);
            Err(OAuthError::invalid_grant("The authorization code has already been used."))
        }
        None => Err(OAuthError::invalid_grant("The authorization code is invalid or has expired.")),
    }
}

/// RFC 6749 §4.1.2: codes are short-lived.
fn check_code_not_expired(p: &Provider<'_>, x: &CodeExchange<'_>) -> Result<(), OAuthError> {
    if p.clock.now() < x.code.expires_at {
        Ok(())
    } else {
        Err(OAuthError::invalid_grant("The authorization code is invalid or has expired."))
    }
}

/// RFC 6749 §4.1.3: the code must have been issued to the authenticated client.
fn check_code_client(_: &Provider<'_>, x: &CodeExchange<'_>) -> Result<(), OAuthError> {
    if x.code.client_id == x.client.client_id {
        Ok(())
    } else {
        Err(OAuthError::invalid_grant("The authorization code was issued to another client."))
    }
}

/// RFC 6749 §4.1.3: `redirect_uri` must be present and identical to the
/// authorization request's (which always had one: OIDC Core §3.1.2.1).
fn check_code_redirect_uri(_: &Provider<'_>, x: &CodeExchange<'_>) -> Result<(), OAuthError> {
    if x.request.get("redirect_uri") == Some(x.code.redirect_uri.as_str()) {
        Ok(())
    } else {
        Err(OAuthError::invalid_grant("The redirect_uri does not match the authorization request."))
    }
}

/// RFC 7636 §4.6: with a challenge, the verifier must hash to it. Without
/// one, a verifier is refused too (RFC 9700 §2.1.1, PKCE downgrade).
fn check_code_verifier(_: &Provider<'_>, x: &CodeExchange<'_>) -> Result<(), OAuthError> {
    match (&x.code.code_challenge, x.request.get("code_verifier")) {
        (None, None) => Ok(()),
        (Some(challenge), Some(verifier)) if pkce::verify_s256(verifier, challenge) => Ok(()),
        (Some(_), None) => Err(OAuthError::invalid_grant("The code_verifier is missing.")),
        (None, Some(_)) => Err(OAuthError::invalid_grant("A code_verifier was sent for a code without a challenge.")),
        (Some(_), Some(_)) => Err(OAuthError::invalid_grant("The code_verifier does not match the code_challenge.")),
    }
}

/// A grant revoked since the code was issued (user signed out everywhere,
/// admin revoked) yields nothing.
fn check_code_grant_not_revoked(p: &Provider<'_>, x: &CodeExchange<'_>) -> Result<(), OAuthError> {
    if p.grants.is_grant_revoked(&x.code.grant_id) {
        Err(OAuthError::invalid_grant("The authorization code has been revoked."))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// refresh_token

struct Refresh<'r> {
    client: &'r Client,
    request: &'r FormRequest,
    hash: String,
    token: RefreshToken,
}

type RefreshCheck = fn(&Provider<'_>, &Refresh<'_>) -> Result<(), OAuthError>;

/// The checks on a presented refresh token, in order. Rotation and reuse
/// detection come last, in [`rotate_refresh_token`], because they change state.
const REFRESH_CHECKS: &[(&str, RefreshCheck)] = &[
    ("refresh_client", check_refresh_client),
    ("refresh_grant_not_revoked", check_refresh_grant_not_revoked),
    ("refresh_not_expired", check_refresh_not_expired),
    ("refresh_scope", check_refresh_scope),
];

fn refresh_token_grant(p: &Provider<'_>, client: &Client, request: &FormRequest) -> Result<TokenResponse, OAuthError> {
    let value = request
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("The refresh_token parameter is missing."))?;
    let hash = token_hash(value);
    let token = p.refresh_tokens.find(&hash).ok_or_else(|| OAuthError::invalid_grant("The refresh token is invalid."))?;
    let refresh = Refresh { client, request, hash, token };
    for (_, check) in REFRESH_CHECKS {
        check(p, &refresh)?;
    }
    let user = p.users.user(&refresh.token.user_id).ok_or_else(|| OAuthError::invalid_grant("The user is no longer active."))?;
    let scopes = requested_refresh_scopes(&refresh)?;
    let t = &refresh.token;
    let response = issue_user_tokens(
        p,
        client,
        UserGrant {
            grant_id: &t.grant_id,
            user: &user,
            scopes: &scopes,
            granted_scopes: &t.scopes,
            auth_time: t.auth_time,
            amr: &t.amr,
            session_id: t.session_id.as_deref(),
            nonce: None,
            code: None,
            grant_expires_at: Some(t.grant_expires_at),
        },
    )?;
    let new_hash = response.refresh_token.as_deref().map(token_hash);
    rotate_refresh_token(p, &refresh, new_hash.as_deref())?;
    Ok(response)
}

/// RFC 6749 §6 / §10.4: the token must have been issued to this client.
fn check_refresh_client(_: &Provider<'_>, r: &Refresh<'_>) -> Result<(), OAuthError> {
    if r.token.client_id == r.client.client_id {
        Ok(())
    } else {
        Err(OAuthError::invalid_grant("The refresh token was issued to another client."))
    }
}

/// RFC 7009 §2.1 and RFC 6749 §10.4: a revoked grant's tokens are dead.
fn check_refresh_grant_not_revoked(p: &Provider<'_>, r: &Refresh<'_>) -> Result<(), OAuthError> {
    if p.grants.is_grant_revoked(&r.token.grant_id) {
        Err(OAuthError::invalid_grant("The refresh token has been revoked."))
    } else {
        Ok(())
    }
}

/// The grant's absolute lifetime and the token's idle lifetime (RFC 9700 §4.14.2).
fn check_refresh_not_expired(p: &Provider<'_>, r: &Refresh<'_>) -> Result<(), OAuthError> {
    let now = p.clock.now();
    if now >= r.token.grant_expires_at || now >= r.token.issued_at + p.server.lifetimes.refresh_token_idle {
        Err(OAuthError::invalid_grant("The refresh token has expired."))
    } else {
        Ok(())
    }
}

/// RFC 6749 §6: a requested scope must not exceed the original grant.
fn check_refresh_scope(_: &Provider<'_>, r: &Refresh<'_>) -> Result<(), OAuthError> {
    requested_refresh_scopes(r).map(|_| ())
}

fn requested_refresh_scopes(r: &Refresh<'_>) -> Result<Scopes, OAuthError> {
    match r.request.get("scope") {
        None => Ok(r.token.scopes.clone()),
        Some(s) => {
            let scopes = Scopes::parse(s).ok_or_else(|| OAuthError::invalid_scope("The scope parameter is malformed."))?;
            if scopes.is_subset_of(&r.token.scopes) {
                Ok(scopes)
            } else {
                Err(OAuthError::invalid_scope("The scope exceeds what was originally granted."))
            }
        }
    }
}

/// RFC 9700 §4.14.2: refresh tokens rotate, and a rotated token presented
/// again means one of two parties holds a stolen token, so the whole grant
/// is revoked. The one exception: the immediately previous token, within a
/// short grace period, while its successor is still unused — a client whose
/// response was lost. Marking is atomic, so of two concurrent uses of one
/// token only one wins; the loser is treated as reuse.
fn rotate_refresh_token(p: &Provider<'_>, r: &Refresh<'_>, new_hash: Option<&str>) -> Result<(), OAuthError> {
    let now = p.clock.now();
    let reuse = || {
        p.grants.revoke_grant(&r.token.grant_id);
        Err(OAuthError::invalid_grant("The refresh token has already been used."))
    };
    let rotating = match &r.token.rotated {
        None => r.hash.clone(),
        Some((at, successor)) => {
            let in_grace = now - *at <= p.server.lifetimes.refresh_token_reuse_grace;
            let successor_unused = p.refresh_tokens.find(successor).is_some_and(|s| s.rotated.is_none());
            if !(in_grace && successor_unused) {
                return reuse();
            }
            successor.clone()
        }
    };
    let Some(new_hash) = new_hash else { return Ok(()) };
    if p.refresh_tokens.mark_rotated(&rotating, now, new_hash) {
        Ok(())
    } else {
        reuse()
    }
}

// ---------------------------------------------------------------------------
// client_credentials

type ClientCredentialsCheck = fn(&Provider<'_>, &Client, &Scopes) -> Result<(), OAuthError>;

/// The checks of the client credentials grant, in order.
const CLIENT_CREDENTIALS_CHECKS: &[(&str, ClientCredentialsCheck)] = &[
    ("confidential_client", check_confidential_client),
    ("scope_present", check_cc_scope_present),
    ("no_user_scopes", check_cc_no_user_scopes),
    ("scope_allowed", check_cc_scope_allowed),
];

fn client_credentials_grant(p: &Provider<'_>, client: &Client, request: &FormRequest) -> Result<TokenResponse, OAuthError> {
    let scopes = Scopes::parse(request.get("scope").unwrap_or_default())
        .ok_or_else(|| OAuthError::invalid_scope("The scope parameter is malformed."))?;
    for (_, check) in CLIENT_CREDENTIALS_CHECKS {
        check(p, client, &scopes)?;
    }
    let grant_id = format!("grant.{}", p.random.token());
    let (access_token, at) = issue_access_token(
        p,
        &AccessTokenGrant { client_id: &client.client_id, user_id: None, scopes: &scopes, grant_id: &grant_id, auth_time: None },
    )?;
    Ok(TokenResponse {
        access_token,
        expires_in: (at.expires_at - at.issued_at).whole_seconds(),
        scope: scopes,
        id_token: None,
        refresh_token: None,
    })
}

/// RFC 6749 §4.4: only confidential clients may use this grant.
fn check_confidential_client(_: &Provider<'_>, client: &Client, _: &Scopes) -> Result<(), OAuthError> {
    if client.is_public() {
        Err(OAuthError::unauthorized_client("Public clients may not use the client credentials grant."))
    } else {
        Ok(())
    }
}

/// RFC 6749 §3.3: with no default scope, a missing scope is `invalid_scope`.
fn check_cc_scope_present(_: &Provider<'_>, _: &Client, scopes: &Scopes) -> Result<(), OAuthError> {
    if scopes.is_empty() {
        Err(OAuthError::invalid_scope("The scope parameter is missing."))
    } else {
        Ok(())
    }
}

/// There is no user here, so no OIDC scope (OIDC Core §5.4, §11) applies.
fn check_cc_no_user_scopes(_: &Provider<'_>, _: &Client, scopes: &Scopes) -> Result<(), OAuthError> {
    match scopes.iter().find(|s| OIDC_SCOPES.contains(s)) {
        Some(s) => Err(OAuthError::invalid_scope(format!("The scope {s} needs a user; it cannot be granted to a client."))),
        None => Ok(()),
    }
}

/// RFC 6749 §3.3: each scope must be known to the server and explicitly
/// allowed for the client.
fn check_cc_scope_allowed(p: &Provider<'_>, client: &Client, scopes: &Scopes) -> Result<(), OAuthError> {
    let allowed = client.allowed_scopes.as_deref().unwrap_or_default();
    match scopes.iter().find(|s| !p.server.knows_scope(s) || !allowed.iter().any(|a| a == s)) {
        Some(s) => Err(OAuthError::invalid_scope(format!("The client may not request the scope {s}."))),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------
// issuing

struct UserGrant<'a> {
    grant_id: &'a str,
    user: &'a crate::claims::UserClaims,
    /// The scopes of this response (may be narrower on refresh).
    scopes: &'a Scopes,
    /// The scopes of the grant, which a new refresh token keeps (RFC 6749 §6).
    granted_scopes: &'a Scopes,
    auth_time: time::OffsetDateTime,
    amr: &'a [String],
    session_id: Option<&'a str>,
    nonce: Option<&'a str>,
    code: Option<&'a str>,
    /// Set on refresh: the grant's absolute end, which rotation keeps.
    grant_expires_at: Option<time::OffsetDateTime>,
}

/// Issues the access token, the ID token if `openid` was granted (OIDC Core
/// §3.1.3.3) and a refresh token if `offline_access` was (OIDC Core §11).
fn issue_user_tokens(p: &Provider<'_>, client: &Client, g: UserGrant<'_>) -> Result<TokenResponse, OAuthError> {
    let (access_token, at) = issue_access_token(
        p,
        &AccessTokenGrant {
            client_id: &client.client_id,
            user_id: Some(&g.user.sub),
            scopes: g.scopes,
            grant_id: g.grant_id,
            auth_time: Some(g.auth_time),
        },
    )?;
    let id_token = if g.scopes.contains("openid") {
        Some(issue_id_token(
            p,
            &IdTokenGrant {
                client,
                user: g.user,
                scopes: g.scopes,
                nonce: g.nonce,
                auth_time: g.auth_time,
                amr: g.amr,
                session_id: g.session_id,
                access_token: Some(&access_token),
                code: g.code,
            },
        )?)
    } else {
        None
    };
    let refresh_token = if g.granted_scopes.contains("offline_access") && client.may_use(GrantType::RefreshToken) {
        let value = p.random.token();
        let now = p.clock.now();
        p.refresh_tokens.insert(
            &token_hash(&value),
            RefreshToken {
                grant_id: g.grant_id.to_owned(),
                client_id: client.client_id.clone(),
                user_id: g.user.sub.clone(),
                scopes: g.granted_scopes.clone(),
                auth_time: g.auth_time,
                amr: g.amr.to_vec(),
                session_id: g.session_id.map(str::to_owned),
                issued_at: now,
                grant_expires_at: g.grant_expires_at.unwrap_or(now + p.server.lifetimes.refresh_token_absolute),
                rotated: None,
            },
        );
        Some(value)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        expires_in: (at.expires_at - at.issued_at).whole_seconds(),
        scope: g.scopes.clone(),
        id_token,
        refresh_token,
    })
}
