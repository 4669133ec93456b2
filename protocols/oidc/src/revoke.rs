//! Token revocation (RFC 7009).

use serde_json::Value;
use time::OffsetDateTime;

use crate::client_auth::authenticate_client;
use crate::error::OAuthError;
use crate::request::FormRequest;
use crate::store::token_hash;
use crate::Provider;

/// Handles a revocation request; `Ok` is HTTP 200 with an empty body.
///
/// The client must authenticate (RFC 7009 §2.1). Unknown, invalid or
/// expired tokens get 200 too (§2.2). A token of another client is left
/// alone, also with 200, so that the endpoint tells nobody whether a token
/// exists. Revoking a refresh token revokes its whole grant, access tokens
/// included (§2.1 SHOULD); revoking an access token revokes just it.
pub fn revoke(p: &Provider<'_>, request: &FormRequest) -> Result<(), OAuthError> {
    let client = authenticate_client(p, request, &p.server.endpoint("revoke"))?;
    let token = request.get("token").ok_or_else(|| OAuthError::invalid_request("The token parameter is missing."))?;
    if let Some(rt) = p.refresh_tokens.find(&token_hash(token)) {
        if rt.client_id == client.client_id {
            p.grants.revoke_grant(&rt.grant_id);
        }
        return Ok(());
    }
    if let Ok(jwt) = p.keys.verify(token) {
        let c = &jwt.claims;
        let s = |n: &str| c.get(n).and_then(Value::as_str);
        let exp = c.get("exp").and_then(Value::as_i64).and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok());
        if let (Some(p_iss), Some(cid), Some(jti), Some(exp)) = (s("iss"), s("client_id"), s("jti"), exp) {
            if p_iss == p.server.issuer && cid == client.client_id && exp > p.clock.now() {
                p.grants.revoke_access_token(jti, exp);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issue::validate_access_token;
    use crate::testing::*;

    fn revoke_as(bed: &TestBed, token: &str, client: &str) -> Result<(), OAuthError> {
        revoke(&bed.provider(), &FormRequest::new([("token", token)], Some(&basic(client, WEB_SECRET))))
    }

    #[test]
    fn revocation_cases() {
        // (name, which token, revoking client, access token still valid after?, refresh still works after?)
        let cases: [(&str, bool, &str, bool, bool); 4] = [
            ("refresh token revokes the grant", true, WEB, false, false),
            ("access token revokes just itself", false, WEB, false, true),
            ("another client's refresh token is left alone", true, SERVICE, true, true),
            ("another client's access token is left alone", false, SERVICE, true, true),
        ];
        for (name, refresh, client, at_valid, rt_valid) in cases {
            let bed = TestBed::with_clients();
            let r = bed.redeem_web_code(&bed.web_code("openid offline_access")).unwrap();
            let token = if refresh { r.refresh_token.clone().unwrap() } else { r.access_token.clone() };
            assert!(revoke_as(&bed, &token, client).is_ok(), "{name}: always 200");
            assert_eq!(validate_access_token(&bed.provider(), &r.access_token).is_ok(), at_valid, "{name}");
            assert_eq!(bed.refresh_web(r.refresh_token.as_deref().unwrap()).is_ok(), rt_valid, "{name}");
        }
    }

    #[test]
    fn unknown_tokens_get_200_and_bad_clients_401() {
        let bed = TestBed::with_clients();
        assert!(revoke_as(&bed, "no-such-token", WEB).is_ok());
        let err = revoke(&bed.provider(), &FormRequest::new([("token", "x")], Some(&basic(WEB, "bad")))).unwrap_err();
        assert_eq!(err.status(), 401);
        let err = revoke(&bed.provider(), &FormRequest::new([("token", "")], Some(&basic(WEB, WEB_SECRET)))).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::InvalidRequest);
    }
}
