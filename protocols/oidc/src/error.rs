//! Errors: what the client sees ([`OAuthError`], in OAuth's wire format) kept
//! apart from what only the operator should see ([`Error`]).

use std::borrow::Cow;

use serde_json::json;

/// The `error` codes of RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1, OIDC Core
/// §3.1.2.6 and RFC 9207, as they appear on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// RFC 6749 §5.2: a parameter is missing, repeated or malformed.
    InvalidRequest,
    /// RFC 6749 §5.2: client authentication failed (HTTP 401).
    InvalidClient,
    /// RFC 6749 §5.2: the code or refresh token is invalid, expired, revoked or
    /// was issued to another client or redirect URI.
    InvalidGrant,
    /// RFC 6749 §5.2: the client may not use this grant or response type.
    UnauthorizedClient,
    /// RFC 6749 §5.2: the grant type is not supported.
    UnsupportedGrantType,
    /// RFC 6749 §4.1.2.1: the response type is not supported.
    UnsupportedResponseType,
    /// RFC 6749 §5.2: the scope is invalid, unknown or exceeds what was granted.
    InvalidScope,
    /// RFC 6749 §4.1.2.1: the resource owner or the server denied the request.
    AccessDenied,
    /// RFC 6749 §4.1.2.1: an unexpected condition on the server.
    ServerError,
    /// OIDC Core §3.1.2.6: `prompt=none` but the user must log in.
    LoginRequired,
    /// OIDC Core §3.1.2.6: `prompt=none` but the user must consent.
    ConsentRequired,
    /// OIDC Core §3.1.2.6: `prompt=none` but the user must interact.
    InteractionRequired,
    /// OIDC Core §3.1.2.6: the `request` parameter is not supported.
    RequestNotSupported,
    /// OIDC Core §3.1.2.6: the `request_uri` parameter is not supported.
    RequestUriNotSupported,
    /// RFC 6750 §3.1: the bearer token is invalid, expired or revoked (HTTP 401).
    InvalidToken,
    /// RFC 6750 §3.1: the bearer token lacks a scope the resource needs (HTTP 403).
    InsufficientScope,
}

impl ErrorCode {
    /// The value of the `error` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
        }
    }

    /// The HTTP status a JSON error response with this code carries
    /// (RFC 6749 §5.2, RFC 6750 §3.1). A token request that the access
    /// policies refuse is `access_denied` with 403, as Okta answers it.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidClient | Self::InvalidToken => 401,
            Self::InsufficientScope | Self::AccessDenied => 403,
            Self::ServerError => 500,
            _ => 400,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as the client sees it: a wire code and a description safe to
/// show. Internal detail never goes in `description`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self { code, description: description.into() }
    }

    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }

    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    pub fn unauthorized_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, description)
    }

    pub fn invalid_token(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidToken, description)
    }

    /// For failures the client cannot fix; the detail goes to the log, not here.
    pub fn server_error() -> Self {
        Self::new(ErrorCode::ServerError, "The server could not complete the request.")
    }

    /// The HTTP status of the JSON response (RFC 6749 §5.2).
    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// The JSON body of RFC 6749 §5.2.
    pub fn body(&self) -> serde_json::Value {
        json!({ "error": self.code.as_str(), "error_description": self.description })
    }

    /// The `WWW-Authenticate` header value a 401 or 403 must carry: `Basic`
    /// for a failed client authentication (RFC 6749 §5.2), `Bearer` with the
    /// error for a rejected bearer token (RFC 6750 §3).
    pub fn www_authenticate(&self) -> Option<String> {
        match self.code {
            ErrorCode::InvalidClient => Some("Basic realm=\"vestibule\"".to_owned()),
            ErrorCode::InvalidToken | ErrorCode::InsufficientScope => Some(format!(
                "Bearer error=\"{}\", error_description=\"{}\"",
                self.code.as_str(),
                self.description.replace(['"', '\\'], "")
            )),
            _ => None,
        }
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl std::error::Error for OAuthError {}

/// What went wrong inside the crate, for the operator's log.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A key could not be generated, parsed or used.
    #[error("key {kid}: {what}")]
    Key {
        kid: String,
        what: &'static str,
        #[source]
        source: Option<josekit::JoseError>,
    },
    /// A key ring was assembled wrongly (no RS256 key, repeated kid).
    #[error("key ring: {0}")]
    KeyRing(&'static str),
    /// A rotation was asked for before the next key had been published for
    /// long enough; relying parties could still hold a JWKS without it.
    #[error("next key {kid} has been published for {published_for}, less than the {required} overlap")]
    RotationTooEarly { kid: String, published_for: time::Duration, required: time::Duration },
    /// A client's registered JWKS could not be parsed.
    #[error("client JWKS: {0}")]
    ClientJwks(&'static str, #[source] Option<josekit::JoseError>),
    /// Signing a token failed.
    #[error("signing with key {kid} failed")]
    Sign {
        kid: String,
        #[source]
        source: josekit::JoseError,
    },
}

impl From<Error> for OAuthError {
    /// Internal errors reach the client only as `server_error`.
    fn from(_: Error) -> Self {
        OAuthError::server_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format() {
        let cases = [
            (OAuthError::invalid_request("x"), 400, None),
            (OAuthError::invalid_client("x"), 401, Some("Basic realm=\"vestibule\"")),
            (OAuthError::invalid_grant("x"), 400, None),
            (OAuthError::new(ErrorCode::UnsupportedGrantType, "x"), 400, None),
            (OAuthError::invalid_token("bad \"quote\""), 401, Some("Bearer error=\"invalid_token\", error_description=\"bad quote\"")),
            (OAuthError::new(ErrorCode::InsufficientScope, "x"), 403, Some("Bearer error=\"insufficient_scope\", error_description=\"x\"")),
            (OAuthError::server_error(), 500, None),
            (OAuthError::new(ErrorCode::AccessDenied, "x"), 403, None),
        ];
        for (e, status, header) in cases {
            assert_eq!(e.status(), status, "{e}");
            assert_eq!(e.www_authenticate().as_deref(), header, "{e}");
            assert_eq!(e.body()["error"], e.code.as_str());
            assert!(e.body()["error_description"].is_string());
        }
    }

    #[test]
    fn internal_errors_reach_the_client_as_server_error_only() {
        let e: OAuthError = Error::KeyRing("secret detail").into();
        assert_eq!(e.code, ErrorCode::ServerError);
        assert!(!e.description.contains("secret detail"));
    }
}
