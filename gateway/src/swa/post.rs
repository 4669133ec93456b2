//! The auto-submitting form page that carries a sign-in to an app: SWA
//! credentials to the app's login form, a WS-Federation token to its reply
//! URL. It sets its own Content-Security-Policy (kept by the security-headers
//! layer): the one inline script by hash, and form-action only to the
//! target's origin. With JavaScript off, the visible button sends the form.
//! The page is never cached (it can hold a password).

use std::sync::LazyLock;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use maud::{html, PreEscaped, DOCTYPE};
use sha2::Digest as _;

/// `requestSubmit` sends the named submit button too (some login forms look
/// for it); `submit` is the fallback for older browsers.
const SUBMIT_SCRIPT: &str =
    "var f=document.getElementById('auto-post');if(f.requestSubmit){f.requestSubmit(document.getElementById('auto-post-submit'))}else{f.submit()}";

static SCRIPT_HASH: LazyLock<String> = LazyLock::new(|| {
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(SUBMIT_SCRIPT)))
});

/// The origin of `url` for a CSP source expression, e.g. `https://app.example.com:8443`.
pub fn origin(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    match parsed.origin() {
        origin @ url::Origin::Tuple(..) => Some(origin.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

/// What to post where.
pub struct AutoPost<'a> {
    /// The URL the form is posted to; it must be one the app registered.
    pub action: &'a str,
    /// Other origins the post may be redirected to (CSP form-action applies to redirects).
    pub also_allow: Vec<String>,
    pub fields: Vec<(&'a str, &'a str)>,
    /// The submit button's name, when the target form expects it.
    pub button_name: Option<&'a str>,
    pub message: &'a str,
}

pub fn auto_post(org_name: &str, post: &AutoPost<'_>) -> Response {
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
                    form id="auto-post" method="post" action=(post.action) autocomplete="off" {
                        @for (name, value) in &post.fields {
                            input type="hidden" name=(name) value=(value);
                        }
                        p { (post.message) }
                        // Shown to everyone: with JavaScript off, it is how the form is sent.
                        button id="auto-post-submit" type="submit" name=[post.button_name] { "Continue" }
                    }
                }
                script { (PreEscaped(SUBMIT_SCRIPT)) }
            }
        }
    };
    let mut sources: Vec<String> = origin(post.action).into_iter().collect();
    for extra in &post.also_allow {
        if !sources.contains(extra) {
            sources.push(extra.clone());
        }
    }
    let form_action = if sources.is_empty() { "'none'".to_owned() } else { sources.join(" ") };
    let csp = format!(
        "default-src 'none'; script-src {}; style-src 'self'; img-src 'self' data:; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'",
        *SCRIPT_HASH
    );
    let mut response = crate::web::html_response(StatusCode::OK, markup, &[]);
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_for_csp() {
        assert_eq!(origin("https://app.example.com/login?x=1").as_deref(), Some("https://app.example.com"));
        assert_eq!(origin("http://127.0.0.1:8080/login").as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(origin("data:text/html,x"), None);
        assert!(SCRIPT_HASH.starts_with("'sha256-"));
    }
}
