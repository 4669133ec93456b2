//! The UserInfo endpoint (OIDC Core §5.3).

use serde_json::{json, Value};

use crate::error::{ErrorCode, OAuthError};
use crate::issue::{bearer_token, validate_access_token};
use crate::Provider;

/// Answers a UserInfo request given its `Authorization` header. Errors are
/// RFC 6750 §3.1 bearer errors: send [`OAuthError::www_authenticate`].
pub fn userinfo(p: &Provider<'_>, authorization: Option<&str>) -> Result<Value, OAuthError> {
    let token = bearer_token(authorization)?;
    let at = validate_access_token(p, token)?;
    // A client_credentials token has no user to describe.
    let user_id = at.user_id.as_deref().ok_or_else(|| OAuthError::invalid_token("The access token has no user."))?;
    // OIDC Core §5.3: UserInfo serves tokens granted the openid scope.
    if !at.scopes.contains("openid") {
        return Err(OAuthError::new(ErrorCode::InsufficientScope, "The access token lacks the openid scope."));
    }
    let user = p.users.user(user_id).ok_or_else(|| OAuthError::invalid_token("The user is no longer active."))?;
    let mut claims = user.for_scopes(&at.scopes, p.server.groups_filter.as_ref());
    claims.insert("sub".into(), json!(user.sub));
    Ok(Value::Object(claims))
}
