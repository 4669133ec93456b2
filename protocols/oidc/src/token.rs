//! The token endpoint (RFC 6749 §3.2, §4.1.3, §4.4, §6; OIDC Core §3.1.3).

use serde_json::{json, Value};

use crate::client::{Client, GrantType};
use crate::client_auth::authenticate_client;
use crate::error::OAuthError;
use crate::issue::{issue_access_token, issue_id_token, AccessTokenGrant, IdTokenGrant};
use crate::pkce;
use crate::policy::{PolicyRequest, Subject, TokenPolicy};
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
    let policy = user_token_policy(p, client, &user, &code.scopes)?;
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
            policy,
        },
    )
}

/// The access policy rule for a person's tokens (custom servers), checked
/// again at every exchange and refresh: a policy changed since the
/// authorization applies to the next token. Okta evaluates a refresh with
/// the grant it came from, `authorization_code`.
fn user_token_policy(
    p: &Provider<'_>,
    client: &Client,
    user: &crate::claims::UserClaims,
    scopes: &Scopes,
) -> Result<TokenPolicy, OAuthError> {
    p.server.token_policy(&PolicyRequest {
        client_id: &client.client_id,
        grant_type: GrantType::AuthorizationCode.as_str(),
        subject: Some(Subject { user_id: &user.sub, group_ids: &user.group_ids }),
        scopes,
    })
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

/// The checks on a presented refresh token, in order. Reuse detection
/// comes last, in [`check_not_reused`], because it changes state.
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
    let policy = user_token_policy(p, client, &user, &scopes)?;
    let rotating = check_not_reused(p, &refresh)?;
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
            policy,
        },
    )?;
    if let Some(new_hash) = response.refresh_token.as_deref().map(token_hash) {
        if !p.refresh_tokens.mark_rotated(&rotating, p.clock.now(), &new_hash) {
            // Another request rotated the same token first: reuse.
            p.grants.revoke_grant(&refresh.token.grant_id);
            return Err(OAuthError::invalid_grant("The refresh token has already been used."));
        }
    }
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
    if now >= r.token.grant_expires_at || now >= r.token.issued_at + r.token.idle_window {
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
/// response was lost. Returns the hash of the token the new one replaces.
/// Marking it rotated is atomic, so of two concurrent uses of one token
/// only one wins; the caller treats the loser as reuse.
fn check_not_reused(p: &Provider<'_>, r: &Refresh<'_>) -> Result<String, OAuthError> {
    let Some((at, successor)) = &r.token.rotated else { return Ok(r.hash.clone()) };
    let in_grace = p.clock.now() - *at <= p.server.lifetimes.refresh_token_reuse_grace;
    let successor_unused = p.refresh_tokens.find(successor).is_some_and(|s| s.rotated.is_none());
    if in_grace && successor_unused {
        return Ok(successor.clone());
    }
    p.grants.revoke_grant(&r.token.grant_id);
    Err(OAuthError::invalid_grant("The refresh token has already been used."))
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
    let policy = p.server.token_policy(&PolicyRequest {
        client_id: &client.client_id,
        grant_type: GrantType::ClientCredentials.as_str(),
        subject: None,
        scopes: &scopes,
    })?;
    let grant_id = format!("grant.{}", p.random.token());
    let (access_token, at) = issue_access_token(
        p,
        &AccessTokenGrant {
            client_id: &client.client_id,
            user_id: None,
            scopes: &scopes,
            grant_id: &grant_id,
            auth_time: None,
            lifetime: policy.access_token,
        },
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
    /// The lifetimes of the tokens issued.
    policy: TokenPolicy,
}

/// A refresh token whose rule sets no absolute lifetime (Okta's 0) still
/// needs an end for the store's clean-up; it is so far off that only the
/// refresh window ends the grant in practice.
const UNLIMITED_GRANT: time::Duration = time::Duration::days(365 * 100);

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
            lifetime: g.policy.access_token,
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
                grant_expires_at: g.grant_expires_at.unwrap_or(now + g.policy.refresh_token.unwrap_or(UNLIMITED_GRANT)),
                idle_window: g.policy.refresh_window,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issue::validate_access_token;
    use crate::testing::*;
    use crate::store::RefreshTokenStore;
    use crate::ErrorCode;

    fn form(params: &[(&str, &str)], auth: Option<&str>) -> FormRequest {
        FormRequest::new(params.iter().copied(), auth)
    }

    #[test]
    fn code_exchange_issues_tokens_bound_to_the_request() {
        let bed = TestBed::with_clients();
        let code = bed.web_code("openid email offline_access");
        let r = bed.redeem_web_code(&code).expect("tokens");
        assert_eq!(r.scope.to_string(), "openid email offline_access");
        assert_eq!(r.expires_in, 3600);
        assert!(r.refresh_token.is_some());
        let id = bed.keys.verify(r.id_token.as_deref().unwrap()).unwrap();
        let c = &id.claims;
        let expected = [
            ("iss", serde_json::json!("https://sso.example.com/oauth2/default")),
            ("sub", serde_json::json!("00ualice")),
            ("aud", serde_json::json!(WEB)),
            ("nonce", serde_json::json!("n-0S6_WzA2Mj")),
            ("email", serde_json::json!("alice@example.com")),
            ("amr", serde_json::json!(["pwd"])),
            ("sid", serde_json::json!("102session")),
            ("auth_time", serde_json::json!((T0 - time::Duration::minutes(5)).unix_timestamp())),
            ("iat", serde_json::json!(T0.unix_timestamp())),
            ("exp", serde_json::json!((T0 + time::Duration::hours(1)).unix_timestamp())),
            ("at_hash", serde_json::json!(crate::SigningAlg::Rs256.half_hash(&r.access_token))),
            ("c_hash", serde_json::json!(crate::SigningAlg::Rs256.half_hash(&code))),
        ];
        for (name, value) in expected {
            assert_eq!(c[name], value, "{name}");
        }
        assert!(!c.contains_key("name"), "profile was not granted");
        let at = validate_access_token(&bed.provider(), &r.access_token).unwrap();
        assert_eq!(at.user_id.as_deref(), Some("00ualice"));
        assert_eq!(at.audiences, ["api://default"]);
        assert_eq!(at.client_id, WEB);
        let header = bed.keys.verify(&r.access_token).unwrap().header;
        assert_eq!(header["typ"], "at+jwt");
    }

    #[test]
    fn id_token_uses_the_clients_algorithm() {
        for alg in crate::SigningAlg::ALL {
            let bed = TestBed::with_clients();
            let mut c = Client::web("0oaalg", vec![WEB_REDIRECT.into()]);
            c.id_token_signed_response_alg = alg;
            bed.add_client(c, Some("pw"));
            let code = bed.code(&[
                ("client_id", "0oaalg"),
                ("redirect_uri", WEB_REDIRECT),
                ("response_type", "code"),
                ("scope", "openid"),
            ]);
            let r = token(
                &bed.provider(),
                &form(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", WEB_REDIRECT)], Some(&basic("0oaalg", "pw"))),
            )
            .unwrap();
            let id = bed.keys.verify(r.id_token.as_deref().unwrap()).unwrap();
            assert_eq!(id.alg, alg);
            assert_eq!(id.claims["at_hash"], serde_json::json!(alg.half_hash(&r.access_token)));
        }
    }

    /// Each case gets a fresh code for the web client (`{code}` in the
    /// parameters), optionally moves the clock, and expects an error.
    #[test]
    fn code_exchange_failures() {
        let ok_auth = basic(WEB, WEB_SECRET);
        let bad_auth = basic(WEB, "wrong-secret");
        let cases: Vec<(&str, Vec<(&str, &str)>, Option<&str>, i64, ErrorCode)> = vec![
            ("PKCE mismatch", vec![("code_verifier", "x".repeat(43).leak())], Some(&ok_auth), 0, ErrorCode::InvalidGrant),
            ("PKCE verifier missing", vec![("code_verifier", "")], Some(&ok_auth), 0, ErrorCode::InvalidGrant),
            ("wrong redirect_uri", vec![("redirect_uri", "https://app.example.com/other")], Some(&ok_auth), 0, ErrorCode::InvalidGrant),
            ("missing redirect_uri", vec![("redirect_uri", "")], Some(&ok_auth), 0, ErrorCode::InvalidGrant),
            ("expired code", vec![], Some(&ok_auth), 61, ErrorCode::InvalidGrant),
            ("unknown code", vec![("code", "made-up")], Some(&ok_auth), 0, ErrorCode::InvalidGrant),
            ("missing code", vec![("code", "")], Some(&ok_auth), 0, ErrorCode::InvalidRequest),
            ("bad client secret", vec![], Some(&bad_auth), 0, ErrorCode::InvalidClient),
            ("no client authentication", vec![], None, 0, ErrorCode::InvalidClient),
            ("secret in body when registered for basic", vec![("client_id", WEB), ("client_secret", WEB_SECRET)], None, 0, ErrorCode::InvalidClient),
            ("two authentication methods", vec![("client_secret", WEB_SECRET)], Some(&ok_auth), 0, ErrorCode::InvalidRequest),
            ("body client_id disagrees with Basic", vec![("client_id", NATIVE)], Some(&ok_auth), 0, ErrorCode::InvalidRequest),
            ("unknown grant type", vec![("grant_type", "password")], Some(&ok_auth), 0, ErrorCode::UnsupportedGrantType),
            ("missing grant type", vec![("grant_type", "")], Some(&ok_auth), 0, ErrorCode::InvalidRequest),
            ("grant not registered", vec![("grant_type", "client_credentials"), ("scope", "reports.read")], Some(&ok_auth), 0, ErrorCode::UnauthorizedClient),
        ];
        for (name, edits, auth, advance, expected) in cases {
            let bed = TestBed::with_clients();
            let code = bed.web_code("openid");
            let mut params: Vec<(&str, &str)> = vec![
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", WEB_REDIRECT),
                ("code_verifier", VERIFIER),
            ];
            for (k, v) in edits {
                params.retain(|(key, _)| *key != k);
                params.push((k, v));
            }
            bed.clock.advance(time::Duration::seconds(advance));
            let err = token(&bed.provider(), &form(&params, auth)).expect_err(name);
            assert_eq!(err.code, expected, "{name}: {err}");
            if expected == ErrorCode::InvalidClient {
                assert_eq!(err.status(), 401, "{name}");
                assert!(err.www_authenticate().is_some(), "{name}");
            }
        }
    }

    #[test]
    fn repeated_parameters_are_refused() {
        let bed = TestBed::with_clients();
        let code = bed.web_code("openid");
        let params = [("grant_type", "authorization_code"), ("code", code.as_str()), ("code", code.as_str())];
        let err = token(&bed.provider(), &form(&params, Some(&basic(WEB, WEB_SECRET)))).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn verifier_without_challenge_is_a_downgrade() {
        let bed = TestBed::with_clients();
        let code = bed.code(&[("client_id", WEB), ("redirect_uri", WEB_REDIRECT), ("response_type", "code"), ("scope", "openid")]);
        assert_eq!(bed.redeem_web_code(&code).unwrap_err().code, ErrorCode::InvalidGrant);
    }

    #[test]
    fn code_for_another_client_is_refused() {
        let bed = TestBed::with_clients();
        let code = bed.code(&[
            ("client_id", NATIVE),
            ("redirect_uri", "http://127.0.0.1/cb"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]);
        let err = bed.redeem_web_code(&code).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidGrant);
    }

    #[test]
    fn public_client_redeems_with_pkce_only() {
        let bed = TestBed::with_clients();
        let code = bed.code(&[
            ("client_id", NATIVE),
            ("redirect_uri", "http://127.0.0.1:4567/cb"),
            ("response_type", "code"),
            ("scope", "openid offline_access"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]);
        let params = [
            ("grant_type", "authorization_code"),
            ("client_id", NATIVE),
            ("code", code.as_str()),
            ("redirect_uri", "http://127.0.0.1:4567/cb"),
            ("code_verifier", VERIFIER),
        ];
        let r = token(&bed.provider(), &form(&params, None)).unwrap();
        let refresh = [("grant_type", "refresh_token"), ("client_id", NATIVE), ("refresh_token", r.refresh_token.as_deref().unwrap())];
        token(&bed.provider(), &form(&refresh, None)).unwrap();
    }

    #[test]
    fn a_replayed_code_revokes_everything_it_issued() {
        let bed = TestBed::with_clients();
        let code = bed.web_code("openid offline_access");
        let first = bed.redeem_web_code(&code).unwrap();
        assert!(validate_access_token(&bed.provider(), &first.access_token).is_ok());
        let err = bed.redeem_web_code(&code).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidGrant);
        assert_eq!(validate_access_token(&bed.provider(), &first.access_token).unwrap_err().code, ErrorCode::InvalidToken);
        assert_eq!(bed.refresh_web(first.refresh_token.as_deref().unwrap()).unwrap_err().code, ErrorCode::InvalidGrant);
    }

    #[test]
    fn a_deactivated_user_gets_nothing() {
        let bed = TestBed::with_clients();
        let code = bed.web_code("openid");
        bed.users.0.lock().unwrap().clear();
        assert_eq!(bed.redeem_web_code(&code).unwrap_err().code, ErrorCode::InvalidGrant);
    }

    #[test]
    fn refresh_tokens_rotate() {
        let bed = TestBed::with_clients();
        let first = bed.redeem_web_code(&bed.web_code("openid offline_access")).unwrap();
        let rt1 = first.refresh_token.unwrap();
        let second = bed.refresh_web(&rt1).unwrap();
        let rt2 = second.refresh_token.unwrap();
        assert_ne!(rt1, rt2);
        assert!(second.id_token.is_some());
        let id = bed.keys.verify(second.id_token.as_deref().unwrap()).unwrap();
        assert!(!id.claims.contains_key("nonce"), "OIDC Core §12.2");
        let third = bed.refresh_web(&rt2).unwrap();
        assert!(validate_access_token(&bed.provider(), &third.access_token).is_ok());
    }

    #[test]
    fn reusing_a_rotated_refresh_token_revokes_the_grant() {
        let bed = TestBed::with_clients();
        let first = bed.redeem_web_code(&bed.web_code("openid offline_access")).unwrap();
        let rt1 = first.refresh_token.unwrap();
        let second = bed.refresh_web(&rt1).unwrap();
        let rt2 = second.refresh_token.unwrap();
        let _third = bed.refresh_web(&rt2).unwrap();
        // rt1 is no longer the immediately previous token.
        assert_eq!(bed.refresh_web(&rt1).unwrap_err().code, ErrorCode::InvalidGrant);
        assert_eq!(validate_access_token(&bed.provider(), &second.access_token).unwrap_err().code, ErrorCode::InvalidToken);
        assert_eq!(bed.refresh_web(&rt2).unwrap_err().code, ErrorCode::InvalidGrant);
    }

    #[test]
    fn the_previous_refresh_token_has_a_short_grace() {
        let cases = [("within grace", 10, true), ("after grace", 31, false)];
        for (name, advance, ok) in cases {
            let bed = TestBed::with_clients();
            let first = bed.redeem_web_code(&bed.web_code("openid offline_access")).unwrap();
            let rt1 = first.refresh_token.unwrap();
            let second = bed.refresh_web(&rt1).unwrap();
            bed.clock.advance(time::Duration::seconds(advance));
            let again = bed.refresh_web(&rt1);
            assert_eq!(again.is_ok(), ok, "{name}");
            if ok {
                let rt3 = again.unwrap().refresh_token.unwrap();
                assert!(bed.refresh_web(&rt3).is_ok(), "{name}: the newest token works");
                // rt2 was superseded unused, and rt3 has now been rotated: rt2 is two back.
                assert!(bed.refresh_web(second.refresh_token.as_deref().unwrap()).is_err(), "{name}: rt2 is dead");
            } else {
                assert!(bed.refresh_web(second.refresh_token.as_deref().unwrap()).is_err(), "{name}: grant revoked");
            }
        }
    }

    #[test]
    fn refresh_failures() {
        let cases: Vec<(&str, Vec<(&str, &str)>, Option<String>, i64, ErrorCode)> = vec![
            ("scope narrowing beyond grant", vec![("scope", "openid phone")], None, 0, ErrorCode::InvalidScope),
            ("unknown token", vec![("refresh_token", "nope")], None, 0, ErrorCode::InvalidGrant),
            ("missing token", vec![("refresh_token", "")], None, 0, ErrorCode::InvalidRequest),
            ("idle expiry", vec![], None, 8 * 86400, ErrorCode::InvalidGrant),
            ("another client", vec![("client_id", NATIVE)], Some(String::new()), 0, ErrorCode::InvalidGrant),
        ];
        for (name, edits, auth, advance, expected) in cases {
            let bed = TestBed::with_clients();
            let rt = bed.redeem_web_code(&bed.web_code("openid offline_access")).unwrap().refresh_token.unwrap();
            let mut params: Vec<(&str, &str)> = vec![("grant_type", "refresh_token"), ("refresh_token", &rt)];
            for (k, v) in edits {
                params.retain(|(key, _)| *key != k);
                params.push((k, v));
            }
            bed.clock.advance(time::Duration::seconds(advance));
            let auth = match auth {
                Some(a) if a.is_empty() => None,
                Some(a) => Some(a),
                None => Some(basic(WEB, WEB_SECRET)),
            };
            let err = token(&bed.provider(), &form(&params, auth.as_deref())).expect_err(name);
            assert_eq!(err.code, expected, "{name}: {err}");
        }
    }

    #[test]
    fn narrowed_refresh_keeps_the_grant_scope() {
        let bed = TestBed::with_clients();
        let rt = bed.redeem_web_code(&bed.web_code("openid email offline_access")).unwrap().refresh_token.unwrap();
        let params = [("grant_type", "refresh_token"), ("refresh_token", rt.as_str()), ("scope", "openid")];
        let narrowed = token(&bed.provider(), &form(&params, Some(&basic(WEB, WEB_SECRET)))).unwrap();
        assert_eq!(narrowed.scope.to_string(), "openid");
        let widened_again = bed.refresh_web(narrowed.refresh_token.as_deref().unwrap()).unwrap();
        assert_eq!(widened_again.scope.to_string(), "openid email offline_access");
    }

    #[test]
    fn client_credentials_cases() {
        let auth = basic(SERVICE, WEB_SECRET);
        let cases: [(&str, &str, Option<&str>, Result<&str, ErrorCode>); 6] = [
            ("allowed scope", "reports.read", Some(&auth), Ok("reports.read")),
            ("missing scope", "", Some(&auth), Err(ErrorCode::InvalidScope)),
            ("user scope", "openid", Some(&auth), Err(ErrorCode::InvalidScope)),
            ("scope not allowed for the client", "reports.write", Some(&auth), Err(ErrorCode::InvalidScope)),
            ("bad secret", "reports.read", Some("Basic MG9hc2VydmljZTpub3Bl"), Err(ErrorCode::InvalidClient)),
            ("public client", "reports.read", None, Err(ErrorCode::UnauthorizedClient)),
        ];
        for (name, scope, auth, expected) in cases {
            let bed = TestBed::with_clients().with_custom_scope("reports.read").with_custom_scope("reports.write");
            let mut public = Client::web("0oapublicsvc", vec![]);
            public.token_endpoint_auth_method = crate::TokenEndpointAuthMethod::None;
            public.grant_types = vec![GrantType::ClientCredentials];
            public.allowed_scopes = Some(vec!["reports.read".into()]);
            bed.add_client(public, None);
            let mut params = vec![("grant_type", "client_credentials"), ("scope", scope)];
            if auth.is_none() {
                params.push(("client_id", "0oapublicsvc"));
            }
            let got = token(&bed.provider(), &form(&params, auth));
            match (got, expected) {
                (Ok(r), Ok(scope)) => {
                    assert_eq!(r.scope.to_string(), scope, "{name}");
                    assert!(r.id_token.is_none() && r.refresh_token.is_none(), "{name}");
                    let at = validate_access_token(&bed.provider(), &r.access_token).unwrap();
                    assert_eq!((at.sub.as_str(), at.user_id), (SERVICE, None), "{name}");
                }
                (Err(e), Err(code)) => assert_eq!(e.code, code, "{name}: {e}"),
                (got, expected) => panic!("{name}: got {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn token_response_body_shape() {
        let r = TokenResponse {
            access_token: "at".into(),
            expires_in: 3600,
            scope: Scopes::parse("openid").unwrap(),
            id_token: Some("id".into()),
            refresh_token: None,
        };
        assert_eq!(
            r.body(),
            serde_json::json!({"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "scope": "openid", "id_token": "id"})
        );
    }

    #[test]
    fn the_grant_ends_at_its_absolute_lifetime_despite_rotation() {
        let mut bed = TestBed::with_clients();
        bed.server.lifetimes.refresh_token_absolute = time::Duration::days(10);
        let mut rt = bed.redeem_web_code(&bed.web_code("openid offline_access")).unwrap().refresh_token.unwrap();
        for _ in 0..3 {
            bed.clock.advance(time::Duration::days(3));
            rt = bed.refresh_web(&rt).unwrap().refresh_token.unwrap();
        }
        bed.clock.advance(time::Duration::days(1) + time::Duration::seconds(1));
        assert_eq!(bed.refresh_web(&rt).unwrap_err().code, ErrorCode::InvalidGrant);
    }

    #[test]
    fn access_tokens_follow_the_servers_algorithm() {
        let mut bed = TestBed::with_clients();
        bed.server.access_token_alg = crate::SigningAlg::Es256;
        let r = bed.redeem_web_code(&bed.web_code("openid")).unwrap();
        assert_eq!(bed.keys.verify(&r.access_token).unwrap().alg, crate::SigningAlg::Es256);
        assert!(validate_access_token(&bed.provider(), &r.access_token).is_ok());
    }

    /// A server whose only policy covers the web client and the service
    /// client with three rules: web sign-ins for alice's admins group with
    /// 15-minute access tokens, an 8-hour refresh lifetime and a 2-hour window;
    /// the service's reports.read; nothing else.
    fn policy_bed() -> TestBed {
        use crate::policy::{AccessPolicy, PolicyRule};
        let mut bed = TestBed::with_clients().with_custom_scope("reports.read").with_custom_scope("reports.write");
        let rule = |id: &str, priority, grant: &str, groups: &[&str], scopes: &[&str], token| PolicyRule {
            id: id.into(),
            name: id.into(),
            priority,
            active: true,
            grant_types: vec![grant.into()],
            users: vec![],
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            token,
        };
        let short = TokenPolicy {
            access_token: time::Duration::minutes(15),
            refresh_token: Some(time::Duration::hours(8)),
            refresh_window: time::Duration::hours(2),
        };
        bed.server.access_policies = Some(vec![AccessPolicy {
            id: "00pweb".into(),
            name: "web".into(),
            priority: 1,
            active: true,
            clients: vec![WEB.into(), SERVICE.into()],
            rules: vec![
                rule("0prweb", 1, "authorization_code", &["00gadmins"], &["openid", "email", "offline_access"], short),
                rule("0prsvc", 2, "client_credentials", &[], &["reports.read"], TokenPolicy::OKTA_DEFAULT),
            ],
        }]);
        bed
    }

    #[test]
    fn rule_lifetimes_reach_the_tokens() {
        let bed = policy_bed();
        let r = bed.redeem_web_code(&bed.web_code("openid email offline_access")).unwrap();
        assert_eq!(r.expires_in, 15 * 60);
        let at = validate_access_token(&bed.provider(), &r.access_token).unwrap();
        assert_eq!(at.expires_at, T0 + time::Duration::minutes(15), "exp is the rule's");
        let rt = r.refresh_token.unwrap();
        let stored = bed.refresh_tokens.find(&token_hash(&rt)).unwrap();
        assert_eq!((stored.grant_expires_at, stored.idle_window), (T0 + time::Duration::hours(8), time::Duration::hours(2)));
        // Used within the window, the token rotates; unused for longer it is dead.
        bed.clock.advance(time::Duration::minutes(110));
        let rt2 = bed.refresh_web(&rt).unwrap().refresh_token.unwrap();
        bed.clock.advance(time::Duration::minutes(121));
        assert_eq!(bed.refresh_web(&rt2).unwrap_err().code, ErrorCode::InvalidGrant, "past the window");
    }

    #[test]
    fn the_token_endpoint_enforces_the_policies() {
        let bed = policy_bed();
        // A scope no rule allows for the code grant: denied at the exchange
        // too (the authorization request was already refused; the code here
        // was issued before the policy changed).
        let mut open = policy_bed();
        open.server.access_policies = None;
        let code = open.web_code("openid profile");
        open.server.access_policies = policy_bed().server.access_policies;
        let err = open.redeem_web_code(&code).unwrap_err();
        assert_eq!((err.code, err.status()), (ErrorCode::AccessDenied, 403));
        // The rule for client_credentials lists reports.read only.
        let cc = |scope: &str| {
            token(&bed.provider(), &form(&[("grant_type", "client_credentials"), ("scope", scope)], Some(&basic(SERVICE, WEB_SECRET))))
        };
        assert_eq!(cc("reports.read").unwrap().expires_in, 3600);
        // A refresh under a policy that no longer allows it is refused.
        let rt = bed.redeem_web_code(&bed.web_code("openid offline_access")).unwrap().refresh_token.unwrap();
        let mut later = bed;
        if let Some(ps) = later.server.access_policies.as_mut() {
            ps[0].rules[0].groups = vec!["00gsomeoneelse".into()];
        }
        assert_eq!(later.refresh_web(&rt).unwrap_err().code, ErrorCode::AccessDenied);
    }

    #[test]
    fn a_rule_restricting_grant_types() {
        let mut bed = policy_bed();
        // The service client is covered, but no rule gives it the code grant;
        // give the web client's rule only client_credentials: both refused.
        if let Some(ps) = bed.server.access_policies.as_mut() {
            ps[0].rules[0].grant_types = vec!["client_credentials".into()];
        }
        let request = crate::authorize::AuthorizationRequest::from_pairs([
            ("client_id", WEB),
            ("redirect_uri", WEB_REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
        ]);
        let d = crate::authorize::authorize(&bed.provider(), &request, Some(&alice_session()), crate::authorize::Interactions::default());
        let crate::authorize::AuthorizeDecision::Respond(r) = d else { panic!("expected an error redirect") };
        assert_eq!(r.param("error"), Some("access_denied"));
    }

    #[test]
    fn an_id_token_is_not_an_access_token() {
        let bed = TestBed::with_clients();
        let r = bed.redeem_web_code(&bed.web_code("openid")).unwrap();
        let e = validate_access_token(&bed.provider(), r.id_token.as_deref().unwrap()).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidToken);
    }
}
