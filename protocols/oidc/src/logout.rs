//! RP-Initiated Logout 1.0.

use std::sync::Arc;

use serde_json::Value;
use url::Url;

use crate::client::Client;
use crate::error::OAuthError;
use crate::Provider;

/// The parameters of a logout request (RP-Initiated Logout §2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogoutRequest {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

impl LogoutRequest {
    /// From the query (GET) or form (POST) parameters; empty values count as absent.
    pub fn from_pairs<K: AsRef<str>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let mut out = Self::default();
        for (k, v) in pairs {
            let v: String = v.into();
            if v.is_empty() {
                continue;
            }
            let slot = match k.as_ref() {
                "id_token_hint" => &mut out.id_token_hint,
                "post_logout_redirect_uri" => &mut out.post_logout_redirect_uri,
                "state" => &mut out.state,
                "client_id" => &mut out.client_id,
                _ => continue,
            };
            slot.get_or_insert(v);
        }
        out
    }
}

/// What the gateway does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutDecision {
    /// The request is not acceptable: show this error and do not redirect.
    ShowErrorPage(OAuthError),
    /// End the user's session (if the browser's session is this `sub`'s,
    /// and `sid` if given), then go on as `then` says.
    EndSession { sub: String, session_id: Option<String>, client_id: String, then: AfterLogout },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterLogout {
    /// Redirect here (the registered URI with `state` added).
    Redirect(String),
    /// No redirect was asked for: show a signed-out page.
    ShowSignedOutPage,
}

struct Hint {
    sub: String,
    session_id: Option<String>,
    client: Arc<Client>,
}

/// Checks a logout request, in order: the `id_token_hint` is required (as
/// Okta requires it) and must be an ID token we signed for a known client
/// (§2; its expiry does not matter there); a `client_id` must be the hint's
/// audience (§2); a `post_logout_redirect_uri` must be registered for that
/// client exactly (§3), and gets `state` added (§3).
pub fn logout(p: &Provider<'_>, request: &LogoutRequest) -> LogoutDecision {
    let hint = match check_id_token_hint(p, request) {
        Ok(hint) => hint,
        Err(e) => return LogoutDecision::ShowErrorPage(e),
    };
    let then = match check_post_logout_redirect_uri(&hint.client, request) {
        Ok(then) => then,
        Err(e) => return LogoutDecision::ShowErrorPage(e),
    };
    LogoutDecision::EndSession { sub: hint.sub, session_id: hint.session_id, client_id: hint.client.client_id.clone(), then }
}

/// RP-Initiated Logout §2: the hint was issued by us, to the client.
fn check_id_token_hint(p: &Provider<'_>, request: &LogoutRequest) -> Result<Hint, OAuthError> {
    let invalid = || OAuthError::invalid_request("The id_token_hint is not a valid ID token from this server.");
    let hint = request.id_token_hint.as_deref().ok_or_else(|| OAuthError::invalid_request("The id_token_hint is required."))?;
    let jwt = p.keys.verify(hint).map_err(|_| invalid())?;
    // An access token is no ID token (RFC 9068 §4 gives it a distinct typ).
    if jwt.header.get("typ").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("at+jwt")) {
        return Err(invalid());
    }
    let c = &jwt.claims;
    let s = |n: &str| c.get(n).and_then(Value::as_str);
    if s("iss") != Some(p.server.issuer.as_str()) {
        return Err(invalid());
    }
    let aud = match c.get("aud") {
        Some(Value::String(a)) => a.clone(),
        Some(Value::Array(a)) if a.len() == 1 => a[0].as_str().ok_or_else(invalid)?.to_owned(),
        _ => return Err(invalid()),
    };
    if request.client_id.as_deref().is_some_and(|id| id != aud) {
        return Err(OAuthError::invalid_request("The client_id is not the id_token_hint's audience."));
    }
    let client = p.clients.client(&aud).ok_or_else(invalid)?;
    let sub = s("sub").ok_or_else(invalid)?.to_owned();
    Ok(Hint { sub, session_id: s("sid").map(str::to_owned), client })
}

/// RP-Initiated Logout §3: only a registered URI, compared exactly.
fn check_post_logout_redirect_uri(client: &Client, request: &LogoutRequest) -> Result<AfterLogout, OAuthError> {
    let Some(uri) = request.post_logout_redirect_uri.as_deref() else { return Ok(AfterLogout::ShowSignedOutPage) };
    if !client.post_logout_redirect_uris.iter().any(|r| r == uri) {
        return Err(OAuthError::invalid_request("The post_logout_redirect_uri is not registered for this client."));
    }
    let mut url = Url::parse(uri).map_err(|_| OAuthError::invalid_request("The post_logout_redirect_uri is malformed."))?;
    if let Some(state) = &request.state {
        url.query_pairs_mut().append_pair("state", state);
    }
    Ok(AfterLogout::Redirect(url.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    #[test]
    fn logout_cases() {
        let bed = TestBed::with_clients();
        let r = bed.redeem_web_code(&bed.web_code("openid")).unwrap();
        let id_token = r.id_token.unwrap();
        let req = |hint: Option<&str>, uri: Option<&str>, state: Option<&str>, client: Option<&str>| LogoutRequest {
            id_token_hint: hint.map(str::to_owned),
            post_logout_redirect_uri: uri.map(str::to_owned),
            state: state.map(str::to_owned),
            client_id: client.map(str::to_owned),
        };
        let bye = "https://app.example.com/bye";
        let cases: Vec<(&str, LogoutRequest, Result<AfterLogout, ()>)> = vec![
            ("redirect with state", req(Some(&id_token), Some(bye), Some("s1"), None), Ok(AfterLogout::Redirect(format!("{bye}?state=s1")))),
            ("no redirect asked", req(Some(&id_token), None, None, None), Ok(AfterLogout::ShowSignedOutPage)),
            ("matching client_id", req(Some(&id_token), Some(bye), None, Some(WEB)), Ok(AfterLogout::Redirect(bye.into()))),
            ("unregistered redirect", req(Some(&id_token), Some("https://evil.example/"), None, None), Err(())),
            ("other client_id", req(Some(&id_token), Some(bye), None, Some(NATIVE)), Err(())),
            ("no hint", req(None, Some(bye), None, Some(WEB)), Err(())),
            ("access token as hint", req(Some(&r.access_token), Some(bye), None, None), Err(())),
            ("forged hint", req(Some("eyJhbGciOiJub25lIn0.e30."), Some(bye), None, None), Err(())),
        ];
        for (name, request, expected) in cases {
            match (logout(&bed.provider(), &request), expected) {
                (LogoutDecision::EndSession { sub, session_id, client_id, then }, Ok(after)) => {
                    assert_eq!((sub.as_str(), session_id.as_deref(), client_id.as_str()), ("00ualice", Some("102session"), WEB), "{name}");
                    assert_eq!(then, after, "{name}");
                }
                (LogoutDecision::ShowErrorPage(_), Err(())) => {}
                (got, expected) => panic!("{name}: got {got:?}, expected {expected:?}"),
            }
        }
        // An expired hint is still accepted (RP-Initiated Logout §2).
        bed.clock.advance(time::Duration::days(2));
        assert!(matches!(logout(&bed.provider(), &req(Some(&id_token), None, None, None)), LogoutDecision::EndSession { .. }));
    }

    #[test]
    fn from_pairs_keeps_the_first_value() {
        let r = LogoutRequest::from_pairs([("id_token_hint", "a"), ("state", ""), ("id_token_hint", "b"), ("other", "x")]);
        assert_eq!(r, LogoutRequest { id_token_hint: Some("a".into()), ..LogoutRequest::default() });
    }
}
