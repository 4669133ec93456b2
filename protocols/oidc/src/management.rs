//! Scope checks for Vestibule's management API (Okta's `/api/v1/*` with
//! OAuth access tokens of the org authorization server).

use crate::error::{ErrorCode, OAuthError};
use crate::issue::{bearer_token, validate_access_token, AccessToken};
use crate::Provider;

/// Validates the bearer access token of a management API request: our
/// signature, the org server's issuer and audience, expiry and revocation.
/// The caller then asks [`require_scope`] for what the operation needs
/// (e.g. `okta.users.read`). `p.server` must be the org server.
pub fn authenticate(p: &Provider<'_>, authorization: Option<&str>) -> Result<AccessToken, OAuthError> {
    validate_access_token(p, bearer_token(authorization)?)
}

/// RFC 6750 §3.1 `insufficient_scope` (HTTP 403) unless the token has `scope`.
/// A `.manage` scope grants the matching `.read` scope, as in Okta.
pub fn require_scope(token: &AccessToken, scope: &str) -> Result<(), OAuthError> {
    let manage = scope.strip_suffix(".read").map(|base| format!("{base}.manage"));
    if token.scopes.contains(scope) || manage.is_some_and(|m| token.scopes.contains(&m)) {
        Ok(())
    } else {
        Err(OAuthError::new(ErrorCode::InsufficientScope, format!("The access token lacks the {scope} scope.")))
    }
}
