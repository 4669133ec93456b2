//! Token introspection (RFC 7662).

use serde_json::{json, Value};

use crate::client::Client;
use crate::client_auth::authenticate_client;
use crate::error::OAuthError;
use crate::issue::validate_access_token;
use crate::request::FormRequest;
use crate::store::token_hash;
use crate::Provider;

/// Handles an introspection request. The client must authenticate (RFC 7662
/// §2.1); any token that is not one of ours, valid, unexpired and unrevoked
/// is `{"active": false}` (§2.2), with no reason given. Access tokens may be
/// introspected by any confidential client of this server (resource servers
/// do that); refresh tokens, and a public client's tokens, only by the
/// client they were issued to.
pub fn introspect(p: &Provider<'_>, request: &FormRequest) -> Result<Value, OAuthError> {
    let client = authenticate_client(p, request, &p.server.endpoint("introspect"))?;
    let token = request.get("token").ok_or_else(|| OAuthError::invalid_request("The token parameter is missing."))?;
    // RFC 7662 §2.1: the hint only orders the lookups.
    let refresh_first = request.get("token_type_hint") == Some("refresh_token");
    let lookups: [Lookup; 2] =
        if refresh_first { [refresh_token, access_token] } else { [access_token, refresh_token] };
    Ok(lookups.iter().find_map(|lookup| lookup(p, &client, token)).unwrap_or_else(|| json!({ "active": false })))
}

/// Looks a token up as one kind of token; `None` if it is not an active one.
type Lookup = fn(&Provider<'_>, &Client, &str) -> Option<Value>;

fn access_token(p: &Provider<'_>, client: &Client, token: &str) -> Option<Value> {
    let at = validate_access_token(p, token).ok()?;
    // A public client proves nothing about itself, so it learns only about
    // its own tokens (RFC 7662 §4: scanning for valid tokens).
    if client.is_public() && at.client_id != client.client_id {
        return None;
    }
    // A user deactivated since issuance no longer has active tokens.
    if at.user_id.as_deref().is_some_and(|uid| p.users.user(uid).is_none()) {
        return None;
    }
    let mut body = json!({
        "active": true,
        "token_type": "Bearer",
        "scope": at.scopes.to_string(),
        "client_id": at.client_id,
        "sub": at.sub,
        "aud": if at.audiences.len() == 1 { json!(at.audiences[0]) } else { json!(at.audiences) },
        "iss": at.issuer,
        "exp": at.expires_at.unix_timestamp(),
        "iat": at.issued_at.unix_timestamp(),
        "jti": at.jti,
    });
    if let Some(uid) = at.user_id {
        body["uid"] = json!(uid);
    }
    Some(body)
}

fn refresh_token(p: &Provider<'_>, client: &Client, token: &str) -> Option<Value> {
    let rt = p.refresh_tokens.find(&token_hash(token))?;
    let now = p.clock.now();
    let expires_at = rt.grant_expires_at.min(rt.issued_at + rt.idle_window);
    let active = rt.client_id == client.client_id
        && rt.rotated.is_none()
        && !p.grants.is_grant_revoked(&rt.grant_id)
        && now < expires_at;
    active.then(|| {
        json!({
            "active": true,
            "token_type": "refresh_token",
            "scope": rt.scopes.to_string(),
            "client_id": rt.client_id,
            "sub": rt.user_id,
            "uid": rt.user_id,
            "iss": p.server.issuer,
            "exp": expires_at.unix_timestamp(),
            "iat": rt.issued_at.unix_timestamp(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    fn ask(bed: &TestBed, token: &str, hint: Option<&str>, auth: &str) -> Result<Value, OAuthError> {
        let mut params = vec![("token", token)];
        if let Some(h) = hint {
            params.push(("token_type_hint", h));
        }
        if auth == "public" {
            params.push(("client_id", NATIVE));
            return introspect(&bed.provider(), &FormRequest::new(params, None));
        }
        introspect(&bed.provider(), &FormRequest::new(params, Some(auth)))
    }

    #[test]
    fn active_only_for_valid_unexpired_unrevoked_tokens() {
        let web = basic(WEB, WEB_SECRET);
        let service = basic(SERVICE, WEB_SECRET);
        #[allow(clippy::type_complexity)]
        let cases: Vec<(&str, &str, fn(&TestBed, &crate::token::TokenResponse) -> String, i64, bool)> = vec![
            ("access token", &web, |_, r| r.access_token.clone(), 0, true),
            ("access token, other client (a resource server)", &service, |_, r| r.access_token.clone(), 0, true),
            ("expired access token", &web, |_, r| r.access_token.clone(), 3601, false),
            ("refresh token", &web, |_, r| r.refresh_token.clone().unwrap(), 0, true),
            ("refresh token, other client", &service, |_, r| r.refresh_token.clone().unwrap(), 0, false),
            ("ID token is not an access token", &web, |_, r| r.id_token.clone().unwrap(), 0, false),
            ("garbage", &web, |_, _| "garbage".into(), 0, false),
            ("access token, public client", "public", |_, r| r.access_token.clone(), 0, false),
            ("user deactivated since", &web, |bed, r| {
                bed.users.0.lock().unwrap().clear();
                r.access_token.clone()
            }, 0, false),
            ("revoked grant", &web, |bed, r| {
                revoke_all(bed);
                r.access_token.clone()
            }, 0, false),
        ];
        for (name, auth, pick, advance, active) in cases {
            let bed = TestBed::with_clients();
            let r = bed.redeem_web_code(&bed.web_code("openid offline_access")).unwrap();
            let token = pick(&bed, &r);
            bed.clock.advance(time::Duration::seconds(advance));
            let body = ask(&bed, &token, None, auth).unwrap();
            assert_eq!(body["active"], active, "{name}: {body}");
            if !active {
                assert_eq!(body, json!({"active": false}), "{name}: nothing more is said");
            }
        }
    }

    fn revoke_all(bed: &TestBed) {
        let grants: Vec<String> = bed.refresh_tokens.0.lock().unwrap().values().map(|t| t.grant_id.clone()).collect();
        for g in grants {
            crate::GrantStore::revoke_grant(&bed.grants, &g);
        }
    }

    #[test]
    fn introspection_response_fields() {
        let bed = TestBed::with_clients();
        let r = bed.redeem_web_code(&bed.web_code("openid offline_access")).unwrap();
        let body = ask(&bed, &r.access_token, Some("access_token"), &basic(WEB, WEB_SECRET)).unwrap();
        for (k, v) in [("client_id", json!(WEB)), ("sub", json!("00ualice")), ("uid", json!("00ualice")), ("aud", json!("api://default")), ("token_type", json!("Bearer")), ("scope", json!("openid offline_access"))] {
            assert_eq!(body[k], v, "{k}");
        }
        let body = ask(&bed, r.refresh_token.as_deref().unwrap(), Some("refresh_token"), &basic(WEB, WEB_SECRET)).unwrap();
        assert_eq!(body["token_type"], "refresh_token");
    }

    #[test]
    fn the_caller_must_authenticate() {
        let bed = TestBed::with_clients();
        let err = ask(&bed, "x", None, &basic(WEB, "nope")).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::InvalidClient);
        let err = introspect(&bed.provider(), &FormRequest::new([("token", "x")], None)).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::InvalidClient);
    }
}
