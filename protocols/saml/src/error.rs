//! The crate's one error type, and the SAML status code each error answers with.

/// A SAML 2.0 status code (SAML core §3.2.2.2).
///
/// The first three are top-level codes; the rest are second-level codes that
/// travel nested inside `Requester` or `Responder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCode {
    Success,
    Requester,
    Responder,
    VersionMismatch,
    AuthnFailed,
    InvalidNameIdPolicy,
    NoAuthnContext,
    NoPassive,
    RequestDenied,
    RequestUnsupported,
    UnsupportedBinding,
    UnknownPrincipal,
    PartialLogout,
}

impl StatusCode {
    /// The URI carried in `StatusCode/@Value`.
    pub fn uri(self) -> &'static str {
        match self {
            Self::Success => "urn:oasis:names:tc:SAML:2.0:status:Success",
            Self::Requester => "urn:oasis:names:tc:SAML:2.0:status:Requester",
            Self::Responder => "urn:oasis:names:tc:SAML:2.0:status:Responder",
            Self::VersionMismatch => "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch",
            Self::AuthnFailed => "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed",
            Self::InvalidNameIdPolicy => "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy",
            Self::NoAuthnContext => "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext",
            Self::NoPassive => "urn:oasis:names:tc:SAML:2.0:status:NoPassive",
            Self::RequestDenied => "urn:oasis:names:tc:SAML:2.0:status:RequestDenied",
            Self::RequestUnsupported => "urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported",
            Self::UnsupportedBinding => "urn:oasis:names:tc:SAML:2.0:status:UnsupportedBinding",
            Self::UnknownPrincipal => "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal",
            Self::PartialLogout => "urn:oasis:names:tc:SAML:2.0:status:PartialLogout",
        }
    }

    /// Parses a status URI, as found in a LogoutResponse.
    pub fn from_uri(uri: &str) -> Option<Self> {
        ALL.iter().copied().find(|code| code.uri() == uri)
    }

    /// The top-level code and, for second-level codes, the nested one
    /// (SAML core §3.2.2.2: second-level codes sit under Requester or Responder).
    pub fn levels(self) -> (StatusCode, Option<StatusCode>) {
        match self {
            Self::Success | Self::Requester | Self::Responder | Self::VersionMismatch => (self, None),
            Self::AuthnFailed | Self::UnknownPrincipal | Self::PartialLogout => (Self::Responder, Some(self)),
            _ => (Self::Requester, Some(self)),
        }
    }
}

const ALL: [StatusCode; 13] = [
    StatusCode::Success,
    StatusCode::Requester,
    StatusCode::Responder,
    StatusCode::VersionMismatch,
    StatusCode::AuthnFailed,
    StatusCode::InvalidNameIdPolicy,
    StatusCode::NoAuthnContext,
    StatusCode::NoPassive,
    StatusCode::RequestDenied,
    StatusCode::RequestUnsupported,
    StatusCode::UnsupportedBinding,
    StatusCode::UnknownPrincipal,
    StatusCode::PartialLogout,
];

/// Everything that can go wrong in this crate.
///
/// [`SamlError::status_code`] says what to answer the peer with; the
/// `Display` text is internal detail for logs, not for the peer.
#[derive(Debug, thiserror::Error)]
pub enum SamlError {
    /// The message is larger than the configured bound, before or after inflating.
    #[error("message larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// The document has more elements than the configured bound.
    #[error("more than {limit} elements")]
    TooManyElements { limit: usize },
    /// Elements are nested deeper than the configured bound.
    #[error("XML nested deeper than {limit} elements")]
    TooDeep { limit: usize },
    /// A DOCTYPE was present. DTDs are never loaded and entities never expanded.
    #[error("DOCTYPE declarations are not accepted")]
    Doctype,
    /// The XML is not well formed, or uses something SAML messages never need.
    #[error("malformed XML: {0}")]
    Malformed(String),
    /// The XML parser failed.
    #[error("XML parse error")]
    Xml(#[source] quick_xml::Error),
    /// Base64 decoding failed.
    #[error("invalid base64")]
    Base64(#[source] base64::DecodeError),
    /// The HTTP-Redirect DEFLATE payload could not be inflated.
    #[error("invalid DEFLATE payload")]
    Inflate(#[source] std::io::Error),
    /// The query string of an HTTP-Redirect message is malformed.
    #[error("malformed query string: {0}")]
    Query(&'static str),
    /// The root element is not the message that was expected.
    #[error("expected {expected}, found {found}")]
    UnexpectedMessage { expected: &'static str, found: String },
    /// A required element or attribute is absent.
    #[error("missing {0}")]
    Missing(&'static str),
    /// An attribute or element has a value that is not allowed.
    #[error("invalid {field}: {value:?}")]
    Invalid { field: &'static str, value: String },
    /// The message's Version is not 2.0 (SAML core §3.2.1).
    #[error("unsupported SAML version {0:?}")]
    VersionMismatch(String),
    /// IssueInstant lies outside the allowed clock skew.
    #[error("IssueInstant outside the allowed clock skew")]
    IssueInstantOutOfRange,
    /// The request ID was seen before while still valid.
    #[error("request ID was already used")]
    Replay,
    /// The Issuer is not the service provider the message was checked against.
    #[error("unexpected issuer {0:?}")]
    IssuerMismatch(String),
    /// The Destination is not this identity provider's endpoint.
    #[error("unexpected destination {0:?}")]
    DestinationMismatch(String),
    /// The requested AssertionConsumerService is not one the app registered.
    #[error("assertion consumer service not registered: {0}")]
    UnknownAcs(String),
    /// The requested binding is not one this identity provider answers with.
    #[error("unsupported binding {0:?}")]
    UnsupportedBinding(String),
    /// The requested NameID format is not one the app can produce.
    #[error("unsupported NameID format {0:?}")]
    InvalidNameIdPolicy(String),
    /// The request asked for IsPassive but the user would have to interact.
    #[error("passive authentication not possible")]
    NoPassive,
    /// The requested authentication context cannot be satisfied.
    #[error("requested authentication context cannot be satisfied")]
    NoAuthnContext,
    /// The app requires signed requests and this one was not signed.
    #[error("message is not signed")]
    SignatureMissing,
    /// The signature's structure is not one accepted (wrong reference, several
    /// signatures, unknown transforms): defeats signature wrapping.
    #[error("signature rejected: {0}")]
    SignatureStructure(&'static str),
    /// The signature or digest algorithm is not allowed by policy.
    #[error("algorithm not allowed: {0}")]
    AlgorithmNotAllowed(String),
    /// The digest of the signed content does not match the reference.
    #[error("digest mismatch")]
    DigestMismatch,
    /// No trusted key verifies the signature.
    #[error("signature does not verify")]
    SignatureInvalid,
    /// A key or certificate could not be loaded.
    #[error("invalid key or certificate: {0}")]
    Key(&'static str),
    /// OpenSSL failed while signing, verifying or encrypting.
    #[error("cryptographic operation failed")]
    Crypto(#[source] openssl::error::ErrorStack),
}

impl SamlError {
    /// The status code to answer the peer with (SAML core §3.2.2.2).
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::VersionMismatch(_) => StatusCode::VersionMismatch,
            Self::UnknownAcs(_)
            | Self::Replay
            | Self::IssueInstantOutOfRange
            | Self::SignatureMissing
            | Self::SignatureStructure(_)
            | Self::AlgorithmNotAllowed(_)
            | Self::DigestMismatch
            | Self::SignatureInvalid
            | Self::IssuerMismatch(_)
            | Self::DestinationMismatch(_) => StatusCode::RequestDenied,
            Self::UnsupportedBinding(_) => StatusCode::UnsupportedBinding,
            Self::InvalidNameIdPolicy(_) => StatusCode::InvalidNameIdPolicy,
            Self::NoPassive => StatusCode::NoPassive,
            Self::NoAuthnContext => StatusCode::NoAuthnContext,
            Self::Key(_) | Self::Crypto(_) => StatusCode::Responder,
            _ => StatusCode::Requester,
        }
    }
}

impl From<openssl::error::ErrorStack> for SamlError {
    fn from(e: openssl::error::ErrorStack) -> Self {
        Self::Crypto(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_round_trip_and_nest() {
        for code in ALL {
            assert_eq!(StatusCode::from_uri(code.uri()), Some(code));
        }
        let cases = [
            (SamlError::Replay, StatusCode::Requester, Some(StatusCode::RequestDenied)),
            (SamlError::NoPassive, StatusCode::Requester, Some(StatusCode::NoPassive)),
            (SamlError::VersionMismatch("1.1".into()), StatusCode::VersionMismatch, None),
            (SamlError::Key("x"), StatusCode::Responder, None),
            (SamlError::Doctype, StatusCode::Requester, None),
        ];
        for (error, top, second) in cases {
            assert_eq!(error.status_code().levels(), (top, second), "{error}");
        }
    }
}
