//! Discovery documents: OpenID Connect Discovery 1.0 §3 and RFC 8414 §2.

use serde_json::{json, Value};

use crate::client::{GrantType, TokenEndpointAuthMethod};
use crate::keys::{KeyRing, SigningAlg};
use crate::server::AuthorizationServer;

/// The claims the server can release.
pub const CLAIMS_SUPPORTED: [&str; 35] = [
    "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "at_hash", "c_hash", "sid", "jti",
    "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile",
    "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at", "email",
    "email_verified", "address", "phone_number", "phone_number_verified", "groups", "client_id", "scope", "uid",
];

/// The document served at `/.well-known/openid-configuration`.
pub fn openid_configuration(server: &AuthorizationServer, keys: &KeyRing) -> Value {
    let mut doc = oauth_authorization_server(server, keys);
    let map = doc.as_object_mut().expect("object");
    let algs: Vec<&str> = keys.algorithms().map(|a| a.as_str()).collect();
    map.insert("userinfo_endpoint".into(), json!(server.endpoint("userinfo")));
    map.insert("subject_types_supported".into(), json!(["public"]));
    map.insert("id_token_signing_alg_values_supported".into(), json!(algs));
    map.insert("claims_supported".into(), json!(&CLAIMS_SUPPORTED[..]));
    map.insert("claims_parameter_supported".into(), json!(false));
    map.insert("request_parameter_supported".into(), json!(false));
    map.insert("request_uri_parameter_supported".into(), json!(false));
    map.insert("frontchannel_logout_supported".into(), json!(false));
    doc
}

/// The document served at `/.well-known/oauth-authorization-server` (RFC 8414).
pub fn oauth_authorization_server(server: &AuthorizationServer, _keys: &KeyRing) -> Value {
    let auth_methods: Vec<&str> = TokenEndpointAuthMethod::ALL.iter().map(|m| m.as_str()).collect();
    let grants: Vec<&str> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
    json!({
        "issuer": server.issuer,
        "authorization_endpoint": server.endpoint("authorize"),
        "token_endpoint": server.endpoint("token"),
        "jwks_uri": server.endpoint("keys"),
        "introspection_endpoint": server.endpoint("introspect"),
        "revocation_endpoint": server.endpoint("revoke"),
        "end_session_endpoint": server.endpoint("logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": grants,
        "scopes_supported": server.scopes_supported(),
        "token_endpoint_auth_methods_supported": auth_methods,
        // Client assertions may use any algorithm we verify, whatever we sign with.
        "token_endpoint_auth_signing_alg_values_supported": SigningAlg::ALL.map(SigningAlg::as_str),
        // A public client introspects and revokes its own tokens with its
        // client_id alone (RFC 7009 §2.1, RFC 7662 §2.1; see `introspect`).
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "prompt_values_supported": ["none", "login", "consent"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_name_oktas_endpoints_and_our_choices() {
        let now = time::macros::datetime!(2026-01-01 00:00 UTC);
        let mut n = 0;
        let keys = KeyRing::generate(&[SigningAlg::Rs256, SigningAlg::Es256], now, || {
            n += 1;
            format!("k{n}")
        })
        .unwrap();
        let org = AuthorizationServer::org("https://sso.example.com");
        let doc = openid_configuration(&org, &keys);
        let cases = [
            ("issuer", json!("https://sso.example.com")),
            ("authorization_endpoint", json!("https://sso.example.com/oauth2/v1/authorize")),
            ("jwks_uri", json!("https://sso.example.com/oauth2/v1/keys")),
            ("userinfo_endpoint", json!("https://sso.example.com/oauth2/v1/userinfo")),
            ("code_challenge_methods_supported", json!(["S256"])),
            ("authorization_response_iss_parameter_supported", json!(true)),
            ("id_token_signing_alg_values_supported", json!(["RS256", "ES256"])),
            ("response_modes_supported", json!(["query", "form_post"])),
        ];
        for (field, expected) in cases {
            assert_eq!(doc[field], expected, "{field}");
        }
        let custom = AuthorizationServer::custom("https://sso.example.com", "default", vec!["api://default".into()]);
        let doc = oauth_authorization_server(&custom, &keys);
        assert_eq!(doc["token_endpoint"], "https://sso.example.com/oauth2/default/v1/token");
        assert!(doc.get("userinfo_endpoint").is_none());
    }

    /// Golden files: what relying parties read must not change by accident.
    /// `UPDATE_GOLDEN=1 cargo test -p oidc` rewrites them; review the diff.
    #[test]
    fn discovery_documents_match_golden_files() {
        let keys = crate::testing::keys();
        let org = AuthorizationServer::org("https://sso.example.com");
        let default = AuthorizationServer::custom("https://sso.example.com", "default", vec!["api://default".into()]);
        let cases = [
            ("org-openid-configuration.json", openid_configuration(&org, keys)),
            ("default-openid-configuration.json", openid_configuration(&default, keys)),
            ("default-oauth-authorization-server.json", oauth_authorization_server(&default, keys)),
        ];
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
        for (file, doc) in cases {
            let actual = serde_json::to_string_pretty(&doc).unwrap() + "\n";
            let path = dir.join(file);
            if std::env::var_os("UPDATE_GOLDEN").is_some() {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &actual).unwrap();
            }
            let expected = std::fs::read_to_string(&path).unwrap_or_default();
            assert_eq!(actual, expected, "{file} differs; rerun with UPDATE_GOLDEN=1 and review");
        }
    }
}
