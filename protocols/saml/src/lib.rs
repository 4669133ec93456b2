//! The SAML 2.0 identity-provider protocol core of Vestibule.
//!
//! This crate does no I/O. It builds and signs Responses and logout messages,
//! writes IdP metadata, reads SP metadata, and parses, verifies and checks
//! AuthnRequests and logout messages. Time comes from a [`Clock`], randomness
//! and keys are passed in, and the one piece of state it needs (request IDs
//! already seen) is behind [`ReplayCache`].
//!
//! An SP-initiated login, as the gateway drives it:
//!
//! ```no_run
//! # use saml::*;
//! # fn launch(query: &str, sp: &ServiceProvider, policy: &RequestPolicy, clock: &dyn vestibule_core::Clock,
//! #     replay: &dyn ReplayCache, key: &SigningKey, mut spec: ResponseSpec) -> Result<String, SamlError> {
//! let message = InboundMessage::from_redirect_query(query, &ParseLimits::default())?;
//! // message.issuer() says which app's ServiceProvider to load.
//! let accepted = check_authn_request(&message, sp, policy, clock, replay)?;
//! spec.destination = accepted.acs_url.clone();
//! spec.in_response_to = Some(accepted.request.id.clone());
//! let response = build_response(&spec, clock, &mut rand::thread_rng(), key)?;
//! Ok(response.to_base64()) // the SAMLResponse form value
//! # }
//! ```
//!
//! On an error, [`SamlError::status_code`] is what to answer the SP with
//! ([`build_error_response`]); the error's text is for the log only.
//!
//! [`Clock`]: vestibule_core::Clock

#![forbid(unsafe_code)]

mod attributes;
mod binding;
mod crypto;
mod dsig;
mod encrypt;
mod error;
mod logout;
mod metadata;
mod request;
mod response;
mod saml11;
mod wsfed;
mod xml;

pub use attributes::GroupFilter;
pub use binding::{redirect_url, Binding, InboundMessage, MessageKind};
pub use crypto::{AlgorithmPolicy, SignatureAlgorithm, SigningKey, TrustedKey, XmlSigner};
pub use dsig::{sign_message, VerifiedSignature};
pub use encrypt::{AssertionEncryption, ContentEncryption, KeyTransport};
pub use error::{SamlError, StatusCode};
pub use logout::{
    build_logout_request, build_logout_response, check_logout_request, check_logout_response, AcceptedLogoutRequest,
    LogoutRequest, LogoutRequestSpec, LogoutResponse, LogoutResponseSpec, OutboundMessage, ReceivedNameId,
};
pub use metadata::{parse_sp_metadata, Endpoint, IdpMetadata, SpMetadata};
pub use request::{
    check_authn_request, choose_authn_context, AcceptedAuthnRequest, AssertionConsumerService, AuthnRequest,
    ReplayCache, RequestPolicy, RequestedAuthnContext, ServiceProvider,
};
pub use response::{
    build_error_response, build_response, AssertionLifetime, AuthnInfo, NameId, NameIdFormat, ResponseSpec,
    SamlAttribute, SignaturePolicy, SignedResponse,
};
pub use saml11::{build_saml11_assertion, Saml11AssertionSpec, Saml11Attribute, SignedSaml11Assertion};
pub use xml::ParseLimits;
pub use wsfed::{build_signed_assertion, build_wsfed_metadata, request_security_token_response, RstrSpec, SignedAssertion, TokenType, WsFedMetadata};
