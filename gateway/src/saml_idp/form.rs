//! The HTTP-POST binding's page (SAML bindings §3.5.4): a form that carries
//! the message to the SP and submits itself. It sets its own
//! Content-Security-Policy (kept by the security-headers layer): the one
//! inline script by hash, and form-action only to the SP's origin.

use std::sync::LazyLock;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use maud::{html, PreEscaped, DOCTYPE};
use sha2::Digest as _;

const SUBMIT_SCRIPT: &str = "document.getElementById('saml-post').submit();";

static SCRIPT_HASH: LazyLock<String> = LazyLock::new(|| {
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(SUBMIT_SCRIPT)))
});

/// The origin of `url` for a CSP source expression, e.g. `https://sp.example.com:8443`.
fn origin(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    match parsed.origin() {
        origin @ url::Origin::Tuple(..) => Some(origin.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

/// A page that POSTs `field` (`SAMLResponse` or `SAMLRequest`) and RelayState
/// to `action`, which must be a URL the app registered.
pub fn auto_post(org_name: &str, action: &str, field: &str, value: &str, relay_state: Option<&str>) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Signing in · " (org_name) }
                link rel="stylesheet" href="/assets/vestibule.css";
            }
            body {
                main class="card" {
                    form id="saml-post" method="post" action=(action) {
                        input type="hidden" name=(field) value=(value);
                        @if let Some(relay) = relay_state {
                            input type="hidden" name="RelayState" value=(relay);
                        }
                        p { "Signing you in…" }
                        // Shown to everyone: with JavaScript off, it is how the form is sent.
                        button type="submit" { "Continue" }
                    }
                }
                script { (PreEscaped(SUBMIT_SCRIPT)) }
            }
        }
    };
    let form_action = origin(action).unwrap_or_else(|| "'none'".into());
    let csp = format!(
        "default-src 'none'; script-src {}; style-src 'self'; img-src 'self' data:; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'",
        *SCRIPT_HASH
    );
    let mut response = crate::web::html_response(StatusCode::OK, markup, &[]);
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_for_csp() {
        assert_eq!(origin("https://sp.example.com/acs?x=1").as_deref(), Some("https://sp.example.com"));
        assert_eq!(origin("http://127.0.0.1:8080/acs").as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(origin("data:text/html,x"), None);
        assert!(SCRIPT_HASH.starts_with("'sha256-"));
    }
}
