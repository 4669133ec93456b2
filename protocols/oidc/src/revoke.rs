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
