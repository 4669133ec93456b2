//! Client authentication at the token, introspection and revocation
//! endpoints (RFC 6749 §2.3, OIDC Core §9, RFC 7523 §3).

use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::Value;
use time::OffsetDateTime;
use vestibule_core::Secret;

use crate::client::{Client, TokenEndpointAuthMethod};
use crate::error::OAuthError;
use crate::request::FormRequest;
use crate::Provider;

/// RFC 7523 §2.2.
pub const JWT_BEARER_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The credentials a request carries.
#[derive(Debug)]
enum Presented {
    Basic { client_id: String, secret: Secret },
    Post { client_id: String, secret: Secret },
    Jwt { client_id: String, assertion: String },
    None { client_id: String },
}

impl Presented {
    fn client_id(&self) -> &str {
        match self {
            Self::Basic { client_id, .. }
            | Self::Post { client_id, .. }
            | Self::Jwt { client_id, .. }
            | Self::None { client_id } => client_id,
        }
    }

    fn method(&self) -> TokenEndpointAuthMethod {
        match self {
            Self::Basic { .. } => TokenEndpointAuthMethod::ClientSecretBasic,
            Self::Post { .. } => TokenEndpointAuthMethod::ClientSecretPost,
            Self::Jwt { .. } => TokenEndpointAuthMethod::PrivateKeyJwt,
            Self::None { .. } => TokenEndpointAuthMethod::None,
        }
    }
}

/// What a check sees.
struct Attempt<'r> {
    presented: Presented,
    client: Arc<Client>,
    /// The URL of the endpoint called: an assertion's `aud` must name it.
    endpoint: &'r str,
}

type Check = fn(&Provider<'_>, &Attempt<'_>) -> Result<(), OAuthError>;

/// The checks after the client is found, in order.
const CHECKS: &[(&str, Check)] = &[
    ("registered_method", check_registered_method),
    ("client_secret", check_client_secret),
    ("assertion", check_assertion),
];

/// Authenticates the client of a request to `endpoint` (the URL of the
/// token, introspection or revocation endpoint). Every failure is
/// `invalid_client` (HTTP 401) except a malformed request.
pub fn authenticate_client(p: &Provider<'_>, request: &FormRequest, endpoint: &str) -> Result<Arc<Client>, OAuthError> {
    let presented = presented_credentials(request)?;
    let client = p
        .clients
        .client(presented.client_id())
        .ok_or_else(|| OAuthError::invalid_client("Client authentication failed."))?;
    let attempt = Attempt { presented, client, endpoint };
    for (_, check) in CHECKS {
        check(p, &attempt)?;
    }
    Ok(attempt.client)
}

/// RFC 6749 §2.3: a client must not use more than one authentication method
/// in a request; RFC 6749 §2.3.1: Basic credentials are form-encoded before
/// base64; a `client_id` in the body must agree with them.
fn presented_credentials(request: &FormRequest) -> Result<Presented, OAuthError> {
    let body_id = request.get("client_id");
    let basic = request.authorization().map(parse_basic).transpose()?;
    let secret = request.get("client_secret");
    let assertion = request.get("client_assertion");
    let methods = [basic.is_some(), secret.is_some(), assertion.is_some()].iter().filter(|m| **m).count();
    if methods > 1 {
        return Err(OAuthError::invalid_request("The request uses more than one client authentication method."));
    }
    if let Some((client_id, secret)) = basic {
        if body_id.is_some_and(|b| b != client_id) {
            return Err(OAuthError::invalid_request("The client_id does not match the Authorization header."));
        }
        return Ok(Presented::Basic { client_id, secret });
    }
    if let Some(secret) = secret {
        let client_id = body_id.ok_or_else(|| OAuthError::invalid_request("The client_id parameter is missing."))?;
        return Ok(Presented::Post { client_id: client_id.to_owned(), secret: Secret::new(secret) });
    }
    if let Some(assertion) = assertion {
        if request.get("client_assertion_type") != Some(JWT_BEARER_ASSERTION_TYPE) {
            return Err(OAuthError::invalid_request("The client_assertion_type must be jwt-bearer (RFC 7523)."));
        }
        // RFC 7523 §3: the client is named by the assertion's sub; the body's
        // client_id, if any, must agree. The signature is checked later
        // with the keys of the client so named.
        let sub = unverified_claim(assertion, "sub")
            .ok_or_else(|| OAuthError::invalid_client("The client assertion is malformed."))?;
        if body_id.is_some_and(|b| b != sub) {
            return Err(OAuthError::invalid_client("The client assertion is for another client."));
        }
        return Ok(Presented::Jwt { client_id: sub, assertion: assertion.to_owned() });
    }
    let client_id = body_id.ok_or_else(|| OAuthError::invalid_client("Client authentication is missing."))?;
    Ok(Presented::None { client_id: client_id.to_owned() })
}

/// OIDC Core §9: a client uses the method it registered, and no other;
/// a confidential client cannot authenticate as `none`.
fn check_registered_method(_: &Provider<'_>, a: &Attempt<'_>) -> Result<(), OAuthError> {
    if a.presented.method() == a.client.token_endpoint_auth_method {
        Ok(())
    } else {
        Err(OAuthError::invalid_client("Client authentication failed."))
    }
}

/// RFC 6749 §2.3.1: the secret must match, compared by the gateway's
/// verifier in constant time against what it stores.
fn check_client_secret(p: &Provider<'_>, a: &Attempt<'_>) -> Result<(), OAuthError> {
    match &a.presented {
        Presented::Basic { secret, .. } | Presented::Post { secret, .. } if !p.clients.verify_secret(&a.client, secret) => {
            Err(OAuthError::invalid_client("Client authentication failed."))
        }
        _ => Ok(()),
    }
}

/// RFC 7523 §3: the assertion is signed by a key the client registered,
/// `iss` and `sub` are the client id, `aud` names this endpoint, `exp` is
/// in the future (and not too far), `nbf`/`iat` are not in the future, and
/// the `jti` has not been seen (item 7), recorded last so that a rejected
/// assertion does not use up its jti.
fn check_assertion(p: &Provider<'_>, a: &Attempt<'_>) -> Result<(), OAuthError> {
    let Presented::Jwt { client_id, assertion } = &a.presented else { return Ok(()) };
    let fail = |why: &'static str| Err(OAuthError::invalid_client(why));
    let Some(jwks) = &a.client.jwks else { return fail("The client has no registered keys.") };
    let Ok(jwt) = jwks.verify(assertion) else { return fail("The client assertion signature is not valid.") };
    let c = &jwt.claims;
    let s = |name: &str| c.get(name).and_then(Value::as_str);
    if s("iss") != Some(client_id) || s("sub") != Some(client_id) {
        return fail("The client assertion's iss and sub must be the client_id.");
    }
    let audience_ok = match c.get("aud") {
        Some(Value::String(aud)) => aud == a.endpoint,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(a.endpoint)),
        _ => false,
    };
    if !audience_ok {
        return fail("The client assertion's aud must be this endpoint's URL.");
    }
    let now = p.clock.now();
    let time = |name: &str| c.get(name).and_then(Value::as_i64).and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok());
    let lifetimes = &p.server.lifetimes;
    let Some(exp) = time("exp") else { return fail("The client assertion has no exp.") };
    if exp <= now {
        return fail("The client assertion has expired.");
    }
    if exp > now + lifetimes.client_assertion_max_lifetime {
        return fail("The client assertion's exp is too far in the future.");
    }
    if ["nbf", "iat"].iter().any(|n| time(n).is_some_and(|t| t > now + lifetimes.clock_skew)) {
        return fail("The client assertion is not yet valid.");
    }
    let Some(jti) = s("jti") else { return fail("The client assertion has no jti.") };
    if !p.jtis.first_use(&format!("{client_id}\u{0}{jti}"), exp) {
        return fail("The client assertion has been used before.");
    }
    Ok(())
}

/// Reads one string claim of a JWT without checking its signature, only to
/// find whose keys to check it with.
fn unverified_claim(jwt: &str, name: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.get(name)?.as_str().map(str::to_owned)
}

/// RFC 7617 Basic credentials, each part form-urlencoded (RFC 6749 §2.3.1).
fn parse_basic(header: &str) -> Result<(String, Secret), OAuthError> {
    let bad = || OAuthError::invalid_client("The Authorization header is malformed.");
    let (scheme, value) = header.trim().split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let decoded = STANDARD.decode(value.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let id = form_decode(id).ok_or_else(bad)?;
    let secret = form_decode(secret).ok_or_else(bad)?;
    if id.is_empty() {
        return Err(bad());
    }
    Ok((id, Secret::new(secret)))
}

/// `application/x-www-form-urlencoded` decoding of one value.
fn form_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = |s: &str| format!("Basic {}", STANDARD.encode(s));
        let cases = [
            (header("client:secret"), Some(("client", "secret"))),
            (header("client%3Aone:se%2Bcret+x"), Some(("client:one", "se+cret x"))),
            (header("client:pa:ss"), Some(("client", "pa:ss"))),
            (header("nocolon"), None),
            (header(":secret"), None),
            ("Bearer abc".to_owned(), None),
            ("Basic !!!".to_owned(), None),
            (header("client:%zz"), None),
        ];
        for (h, expected) in cases {
            let got = parse_basic(&h).ok();
            assert_eq!(got.as_ref().map(|(i, s)| (i.as_str(), s.expose())), expected, "{h}");
        }
    }

    use crate::keys::{ClientJwks, SigningAlg, SigningKey};
    use crate::testing::*;
    use crate::ErrorCode;
    use serde_json::json;

    const JWT_CLIENT: &str = "0oajwt";
    const TOKEN_ENDPOINT: &str = "https://sso.example.com/oauth2/default/v1/token";

    fn client_key() -> &'static SigningKey {
        static KEY: std::sync::OnceLock<SigningKey> = std::sync::OnceLock::new();
        KEY.get_or_init(|| SigningKey::generate("client-key-1", SigningAlg::Es256).unwrap())
    }

    fn bed_with_jwt_client() -> TestBed {
        let bed = TestBed::with_clients();
        let mut c = Client::web(JWT_CLIENT, vec![WEB_REDIRECT.into()]);
        c.token_endpoint_auth_method = TokenEndpointAuthMethod::PrivateKeyJwt;
        c.jwks = Some(ClientJwks::parse(&json!({ "keys": [Value::Object(client_key().public_jwk().clone())] })).unwrap());
        bed.add_client(c, None);
        bed
    }

    fn assertion(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
        let mut claims = serde_json::Map::new();
        claims.insert("iss".into(), json!(JWT_CLIENT));
        claims.insert("sub".into(), json!(JWT_CLIENT));
        claims.insert("aud".into(), json!(TOKEN_ENDPOINT));
        claims.insert("jti".into(), json!("jti-1"));
        claims.insert("iat".into(), json!(T0.unix_timestamp()));
        claims.insert("exp".into(), json!(T0.unix_timestamp() + 300));
        edit(&mut claims);
        client_key().sign_jwt("JWT", &claims).unwrap()
    }

    fn attempt(bed: &TestBed, assertion: &str) -> Result<Arc<Client>, OAuthError> {
        let request = FormRequest::new(
            [("client_assertion_type", JWT_BEARER_ASSERTION_TYPE), ("client_assertion", assertion)],
            None,
        );
        authenticate_client(&bed.provider(), &request, TOKEN_ENDPOINT)
    }

    #[test]
    fn private_key_jwt_cases() {
        let other_key = SigningKey::generate("client-key-1", SigningAlg::Es256).unwrap();
        let mut foreign = serde_json::Map::new();
        foreign.insert("iss".into(), json!(JWT_CLIENT));
        foreign.insert("sub".into(), json!(JWT_CLIENT));
        foreign.insert("aud".into(), json!(TOKEN_ENDPOINT));
        foreign.insert("jti".into(), json!("j"));
        foreign.insert("exp".into(), json!(T0.unix_timestamp() + 60));
        let unsigned = {
            use base64::engine::general_purpose::URL_SAFE_NO_PAD as B;
            format!("{}.{}.", B.encode(r#"{"alg":"none"}"#), B.encode(Value::Object(foreign.clone()).to_string()))
        };
        let cases: Vec<(&str, String, bool)> = vec![
            ("valid", assertion(|_| {}), true),
            ("aud as array", assertion(|c| { c.insert("aud".into(), json!(["x", TOKEN_ENDPOINT])); }), true),
            ("aud is the issuer, not the endpoint", assertion(|c| { c.insert("aud".into(), json!("https://sso.example.com/oauth2/default")); }), false),
            ("expired", assertion(|c| { c.insert("exp".into(), json!(T0.unix_timestamp() - 1)); }), false),
            ("no exp", assertion(|c| { c.remove("exp"); }), false),
            ("exp too far ahead", assertion(|c| { c.insert("exp".into(), json!(T0.unix_timestamp() + 86400)); }), false),
            ("not yet valid", assertion(|c| { c.insert("nbf".into(), json!(T0.unix_timestamp() + 600)); }), false),
            ("iss is not sub", assertion(|c| { c.insert("iss".into(), json!("0oaother")); }), false),
            ("no jti", assertion(|c| { c.remove("jti"); }), false),
            ("signed with an unknown key", other_key.sign_jwt("JWT", &foreign).unwrap(), false),
            ("alg none", unsigned, false),
            ("garbage", "not.a.jwt".into(), false),
        ];
        for (name, jwt, ok) in cases {
            let bed = bed_with_jwt_client();
            match attempt(&bed, &jwt) {
                Ok(c) => assert!(ok, "{name}: accepted {}", c.client_id),
                Err(e) => {
                    assert!(!ok, "{name}: refused: {e}");
                    assert_eq!(e.code, ErrorCode::InvalidClient, "{name}");
                }
            }
        }
    }

    #[test]
    fn a_client_assertion_is_single_use() {
        let bed = bed_with_jwt_client();
        let jwt = assertion(|_| {});
        assert!(attempt(&bed, &jwt).is_ok());
        assert_eq!(attempt(&bed, &jwt).unwrap_err().code, ErrorCode::InvalidClient);
    }

    #[test]
    fn a_rejected_assertion_does_not_use_up_its_jti() {
        let bed = bed_with_jwt_client();
        let wrong_aud = assertion(|c| { c.insert("aud".into(), json!("https://elsewhere")); });
        assert!(attempt(&bed, &wrong_aud).is_err());
        assert!(attempt(&bed, &assertion(|_| {})).is_ok());
    }

    #[test]
    fn method_must_be_the_registered_one() {
        let bed = bed_with_jwt_client();
        // A secret-based client cannot authenticate with an assertion, nor a JWT client with nothing.
        let cases: Vec<(&str, FormRequest)> = vec![
            ("jwt client without assertion", FormRequest::new([("client_id", JWT_CLIENT)], None)),
            ("basic client as public", FormRequest::new([("client_id", WEB)], None)),
            ("public client with a secret", FormRequest::new([("client_id", NATIVE), ("client_secret", "x")], None)),
            ("wrong assertion type", FormRequest::new([("client_assertion_type", "urn:x"), ("client_assertion", "a.b.c")], None)),
        ];
        for (name, request) in cases {
            assert!(authenticate_client(&bed.provider(), &request, TOKEN_ENDPOINT).is_err(), "{name}");
        }
    }
}
