//! Initiating login from a third party (OIDC Core §4): the portal sends the
//! browser to the client's `initiate_login_uri`, which starts a normal
//! authorization request to us.

use url::Url;

use crate::client::Client;
use crate::error::OAuthError;
use crate::server::AuthorizationServer;

/// The URL to send the browser to: the client's `initiate_login_uri` with
/// `iss`, and `login_hint` and `target_link_uri` when given. OIDC Core §4
/// requires https; plain http is accepted only on a loopback address, for
/// development.
pub fn initiate_login_redirect(
    server: &AuthorizationServer,
    client: &Client,
    login_hint: Option<&str>,
    target_link_uri: Option<&str>,
) -> Result<String, OAuthError> {
    let uri = client
        .initiate_login_uri
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("The client has no initiate_login_uri."))?;
    let mut url = Url::parse(uri).map_err(|_| OAuthError::invalid_request("The initiate_login_uri is malformed."))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(OAuthError::invalid_request("The initiate_login_uri must use https."));
    }
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("iss", &server.issuer);
        if let Some(hint) = login_hint {
            q.append_pair("login_hint", hint);
        }
        if let Some(target) = target_link_uri {
            q.append_pair("target_link_uri", target);
        }
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_cases() {
        let server = AuthorizationServer::org("https://sso.example.com");
        let with = |uri: Option<&str>| {
            let mut c = Client::web("c1", vec![]);
            c.initiate_login_uri = uri.map(str::to_owned);
            c
        };
        let cases: [(Option<&str>, Option<&str>, Option<&str>, Result<&str, ()>); 5] = [
            (
                Some("https://app.example.com/login"),
                Some("alice@example.com"),
                Some("https://app.example.com/x?y=1"),
                Ok("https://app.example.com/login?iss=https%3A%2F%2Fsso.example.com&login_hint=alice%40example.com&target_link_uri=https%3A%2F%2Fapp.example.com%2Fx%3Fy%3D1"),
            ),
            (Some("https://app.example.com/login?a=b"), None, None, Ok("https://app.example.com/login?a=b&iss=https%3A%2F%2Fsso.example.com")),
            (Some("http://127.0.0.1:8080/login"), None, None, Ok("http://127.0.0.1:8080/login?iss=https%3A%2F%2Fsso.example.com")),
            (Some("http://app.example.com/login"), None, None, Err(())),
            (None, None, None, Err(())),
        ];
        for (uri, hint, target, expected) in cases {
            let got = initiate_login_redirect(&server, &with(uri), hint, target).map_err(|_| ());
            assert_eq!(got.as_deref(), expected.map_err(|_| &()), "{uri:?}");
        }
    }
}
