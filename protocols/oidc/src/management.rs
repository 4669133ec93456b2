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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;
    use crate::{AuthorizationServer, Client, GrantType};

    #[test]
    fn management_scope_cases() {
        let mut bed = TestBed::with_clients();
        bed.server = AuthorizationServer::org("https://sso.example.com");
        let mut admin = Client::web("0oaadmin", vec![]);
        admin.grant_types = vec![GrantType::ClientCredentials];
        admin.allowed_scopes = Some(vec!["okta.users.read".into(), "okta.apps.manage".into()]);
        bed.add_client(admin, Some("pw"));
        let token = crate::token::token(
            &bed.provider(),
            &crate::request::FormRequest::new(
                [("grant_type", "client_credentials"), ("scope", "okta.users.read okta.apps.manage")],
                Some(&basic("0oaadmin", "pw")),
            ),
        )
        .unwrap()
        .access_token;
        let at = authenticate(&bed.provider(), Some(&format!("Bearer {token}"))).unwrap();
        let cases = [
            ("okta.users.read", true),
            ("okta.users.manage", false),
            ("okta.apps.read", true),
            ("okta.apps.manage", true),
            ("okta.groups.read", false),
        ];
        for (scope, ok) in cases {
            let got = require_scope(&at, scope);
            assert_eq!(got.is_ok(), ok, "{scope}");
            if let Err(e) = got {
                assert_eq!(e.status(), 403);
            }
        }
        // A token of another server (the default custom server) is refused.
        let custom = TestBed::with_clients().with_custom_scope("reports.read");
        let foreign = crate::token::token(
            &custom.provider(),
            &crate::request::FormRequest::new(
                [("grant_type", "client_credentials"), ("scope", "reports.read")],
                Some(&basic(SERVICE, WEB_SECRET)),
            ),
        )
        .unwrap()
        .access_token;
        assert!(authenticate(&bed.provider(), Some(&format!("Bearer {foreign}"))).is_err());
        bed.clock.advance(time::Duration::hours(1));
        assert!(authenticate(&bed.provider(), Some(&format!("Bearer {token}"))).is_err(), "expired");
    }
}
