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
    let client = p.clients.client(&at.client_id);
    let app_claim = client.as_deref().and_then(|c| crate::issue::app_groups_claim(p, c));
    let mut claims = user.for_client(&at.scopes, p.server.groups_filter.as_ref(), app_claim);
    claims.insert("sub".into(), json!(user.sub));
    Ok(Value::Object(claims))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    #[test]
    fn userinfo_cases() {
        let bed = TestBed::with_clients().with_custom_scope("reports.read");
        let full = bed.redeem_web_code(&bed.web_code("openid email groups")).unwrap().access_token;
        let no_openid = bed.redeem_web_code(&bed.web_code("email")).unwrap().access_token;
        let service = crate::token::token(
            &bed.provider(),
            &crate::request::FormRequest::new(
                [("grant_type", "client_credentials"), ("scope", "reports.read")],
                Some(&basic(SERVICE, WEB_SECRET)),
            ),
        )
        .unwrap()
        .access_token;
        let bearer = |t: &str| format!("Bearer {t}");
        let cases: Vec<(&str, Option<String>, Result<Value, (ErrorCode, u16)>)> = vec![
            (
                "claims for the granted scopes",
                Some(bearer(&full)),
                Ok(json!({"sub": "00ualice", "email": "alice@example.com", "email_verified": true, "groups": ["Everyone", "app-admins"]})),
            ),
            ("no header", None, Err((ErrorCode::InvalidToken, 401))),
            ("wrong scheme", Some(format!("Basic {full}")), Err((ErrorCode::InvalidToken, 401))),
            ("not our token", Some(bearer("abc.def.ghi")), Err((ErrorCode::InvalidToken, 401))),
            ("no openid scope", Some(bearer(&no_openid)), Err((ErrorCode::InsufficientScope, 403))),
            ("a client's token has no user", Some(bearer(&service)), Err((ErrorCode::InvalidToken, 401))),
        ];
        for (name, header, expected) in cases {
            let got = userinfo(&bed.provider(), header.as_deref());
            match expected {
                Ok(body) => assert_eq!(got.unwrap(), body, "{name}"),
                Err((code, status)) => {
                    let e = got.unwrap_err();
                    assert_eq!((e.code, e.status()), (code, status), "{name}");
                    assert!(e.www_authenticate().unwrap().starts_with("Bearer error="), "{name}");
                }
            }
        }
        bed.clock.advance(time::Duration::hours(2));
        assert_eq!(userinfo(&bed.provider(), Some(&bearer(&full))).unwrap_err().code, ErrorCode::InvalidToken);
    }
}
