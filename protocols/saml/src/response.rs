//! Building and signing SAML 2.0 Responses: the hot path of every launch.
//!
//! Each part is built as a tree and written canonically, so signing costs one
//! SHA-256 over the bytes written and one RSA operation per signature
//! (SAML core §2 and §3.3.3; signing per §5).

use rand::{CryptoRng, RngCore};
use time::{Duration, OffsetDateTime};
use vestibule_core::Clock;

use crate::crypto::encode_base64;
use crate::dsig::sign_enveloped;
use crate::encrypt::{encrypt_assertion, AssertionEncryption};
use crate::xml::{Element, NS_SAML, NS_SAMLP, NS_XS, NS_XSI};
use crate::{SamlError, SignatureAlgorithm, StatusCode, XmlSigner};

/// A NameID format (SAML core §8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameIdFormat {
    #[default]
    Unspecified,
    EmailAddress,
    Persistent,
    Transient,
    X509SubjectName,
}

impl NameIdFormat {
    pub fn uri(self) -> &'static str {
        match self {
            Self::Unspecified => "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
            Self::EmailAddress => "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            Self::Persistent => "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            Self::Transient => "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
            Self::X509SubjectName => "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName",
        }
    }

    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.uri() == uri)
    }

    pub const ALL: [NameIdFormat; 5] =
        [Self::Unspecified, Self::EmailAddress, Self::Persistent, Self::Transient, Self::X509SubjectName];
}

/// The subject's name as the service provider will see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameId {
    pub value: String,
    pub format: NameIdFormat,
}

/// One `saml:Attribute` with its values, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlAttribute {
    pub name: String,
    /// E.g. `urn:oasis:names:tc:SAML:2.0:attrname-format:basic`; omitted when `None`.
    pub name_format: Option<String>,
    pub values: Vec<String>,
}

/// Which parts carry a signature, and with what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignaturePolicy {
    pub sign_assertion: bool,
    /// The Response signature covers the (signed or encrypted) assertion.
    pub sign_response: bool,
    pub algorithm: SignatureAlgorithm,
}

impl Default for SignaturePolicy {
    /// Okta's default: the assertion is signed with RSA-SHA256.
    fn default() -> Self {
        SignaturePolicy { sign_assertion: true, sign_response: false, algorithm: SignatureAlgorithm::RsaSha256 }
    }
}

/// How long an assertion is good for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssertionLifetime {
    /// NotOnOrAfter is the issue instant plus this.
    pub validity: Duration,
    /// NotBefore is the issue instant minus this, for SPs whose clocks run behind.
    pub not_before_skew: Duration,
}

impl Default for AssertionLifetime {
    fn default() -> Self {
        AssertionLifetime { validity: Duration::minutes(5), not_before_skew: Duration::minutes(3) }
    }
}

/// How the user authenticated (SAML core §2.7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnInfo {
    pub instant: OffsetDateTime,
    pub session_index: String,
    /// E.g. `urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport`.
    pub class_ref: String,
}

/// Everything a launch decides; the builder adds IDs, times and signatures.
#[derive(Debug, Clone)]
pub struct ResponseSpec {
    /// The identity provider's entity ID (Okta's `idpIssuer`).
    pub issuer: String,
    /// The ACS URL the response is posted to (`Response/@Destination`).
    pub destination: String,
    /// `SubjectConfirmationData/@Recipient`, usually the ACS URL.
    pub recipient: String,
    /// The SP's entity ID (`Audience`).
    pub audience: String,
    /// The AuthnRequest ID, for SP-initiated logins.
    pub in_response_to: Option<String>,
    pub name_id: NameId,
    pub authn: AuthnInfo,
    pub attributes: Vec<SamlAttribute>,
    /// Write `xsi:type="xs:string"` on each AttributeValue, as Okta does. The
    /// signatures then carry an InclusiveNamespaces PrefixList of `xs`.
    pub typed_attribute_values: bool,
    pub lifetime: AssertionLifetime,
    pub signing: SignaturePolicy,
    /// Encrypt the assertion to the SP's certificate.
    pub encryption: Option<AssertionEncryption>,
}

/// A finished Response, ready for the HTTP-POST binding.
#[derive(Debug, Clone)]
pub struct SignedResponse {
    pub response_id: String,
    pub assertion_id: String,
    /// The Response document, without an XML declaration.
    pub xml: String,
}

impl SignedResponse {
    /// The `SAMLResponse` form value (SAML bindings §3.5.4).
    pub fn to_base64(&self) -> String {
        encode_base64(self.xml.as_bytes())
    }
}

/// A fresh message ID: `_` and 40 hex digits (160 random bits; SAML core §1.3.4
/// asks for at least 128).
pub(crate) fn new_id<R: RngCore + CryptoRng + ?Sized>(rng: &mut R) -> String {
    let mut bytes = [0u8; 20];
    rng.fill_bytes(&mut bytes);
    let mut id = String::with_capacity(41);
    id.push('_');
    for b in bytes {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

/// `xs:dateTime` in UTC with milliseconds, as Okta writes it (SAML core §1.3.3).
pub(crate) fn format_instant(instant: OffsetDateTime) -> String {
    let t = instant.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

pub(crate) fn issuer(entity_id: &str) -> Element {
    Element::new("saml", "Issuer", NS_SAML)
        .attr("Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:entity")
        .text(entity_id)
}

pub(crate) fn status(code: StatusCode) -> Element {
    let (top, second) = code.levels();
    let mut top_element = Element::new("samlp", "StatusCode", NS_SAMLP).attr("Value", top.uri());
    if let Some(second) = second {
        top_element = top_element.child(Element::new("samlp", "StatusCode", NS_SAMLP).attr("Value", second.uri()));
    }
    Element::new("samlp", "Status", NS_SAMLP).child(top_element)
}

/// The unsigned Assertion (SAML core §2.3.3).
pub(crate) fn assertion(spec: &ResponseSpec, id: &str, now: OffsetDateTime) -> Element {
    let attribute_value = |value: &str| {
        let element = Element::new("saml", "AttributeValue", NS_SAML);
        let element = if spec.typed_attribute_values {
            element.declare("xs", NS_XS).declare("xsi", NS_XSI).attr("xsi:type", "xs:string")
        } else {
            element
        };
        element.text(value)
    };
    let not_on_or_after = format_instant(now + spec.lifetime.validity);
    let subject = Element::new("saml", "Subject", NS_SAML)
        .child(
            Element::new("saml", "NameID", NS_SAML).attr("Format", spec.name_id.format.uri()).text(&spec.name_id.value),
        )
        .child(
            Element::new("saml", "SubjectConfirmation", NS_SAML)
                .attr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
                .child(
                    Element::new("saml", "SubjectConfirmationData", NS_SAML)
                        .attr_opt("InResponseTo", spec.in_response_to.clone())
                        .attr("NotOnOrAfter", not_on_or_after.clone())
                        .attr("Recipient", &spec.recipient),
                ),
        );
    let conditions = Element::new("saml", "Conditions", NS_SAML)
        .attr("NotBefore", format_instant(now - spec.lifetime.not_before_skew))
        .attr("NotOnOrAfter", not_on_or_after)
        .child(
            Element::new("saml", "AudienceRestriction", NS_SAML)
                .child(Element::new("saml", "Audience", NS_SAML).text(&spec.audience)),
        );
    let authn_statement = Element::new("saml", "AuthnStatement", NS_SAML)
        .attr("AuthnInstant", format_instant(spec.authn.instant))
        .attr("SessionIndex", &spec.authn.session_index)
        .child(
            Element::new("saml", "AuthnContext", NS_SAML)
                .child(Element::new("saml", "AuthnContextClassRef", NS_SAML).text(&spec.authn.class_ref)),
        );
    let mut assertion = Element::new("saml", "Assertion", NS_SAML)
        .attr("ID", id)
        .attr("IssueInstant", format_instant(now))
        .attr("Version", "2.0")
        .child(issuer(&spec.issuer))
        .child(subject)
        .child(conditions)
        .child(authn_statement);
    if !spec.attributes.is_empty() {
        let mut statement = Element::new("saml", "AttributeStatement", NS_SAML);
        for attribute in &spec.attributes {
            let mut element = Element::new("saml", "Attribute", NS_SAML)
                .attr("Name", &attribute.name)
                .attr_opt("NameFormat", attribute.name_format.clone());
            for value in &attribute.values {
                element = element.child(attribute_value(value));
            }
            statement = statement.child(element);
        }
        assertion = assertion.child(statement);
    }
    assertion
}

/// Builds the Response for a launch: the assertion is signed, then encrypted,
/// then the Response is signed over it, as `spec` asks.
pub fn build_response<R: RngCore + CryptoRng + ?Sized>(
    spec: &ResponseSpec,
    clock: &dyn Clock,
    rng: &mut R,
    signer: &dyn XmlSigner,
) -> Result<SignedResponse, SamlError> {
    let now = clock.now();
    let inclusive: &[&str] = if spec.typed_attribute_values { &["xs"] } else { &[] };
    let assertion_id = new_id(rng);
    let response_id = new_id(rng);

    let mut assertion = assertion(spec, &assertion_id, now);
    if spec.signing.sign_assertion {
        sign_enveloped(&mut assertion, "ID", 1, signer, spec.signing.algorithm, inclusive)?;
    }
    let assertion = match &spec.encryption {
        Some(encryption) => encrypt_assertion(&assertion.canonical_with(inclusive), encryption, rng)?,
        None => assertion,
    };

    let mut response = Element::new("samlp", "Response", NS_SAMLP)
        .attr("Destination", &spec.destination)
        .attr("ID", &response_id)
        .attr_opt("InResponseTo", spec.in_response_to.clone())
        .attr("IssueInstant", format_instant(now))
        .attr("Version", "2.0")
        .child(issuer(&spec.issuer))
        .child(status(StatusCode::Success))
        .child(assertion);
    if spec.signing.sign_response {
        sign_enveloped(&mut response, "ID", 1, signer, spec.signing.algorithm, inclusive)?;
    }
    // The Response element itself only ever uses the samlp prefix, so the
    // assertion's canonical form inside it equals its canonical form alone:
    // the assertion signature stays valid once embedded.
    Ok(SignedResponse { response_id, assertion_id, xml: response.canonical_with(inclusive) })
}

/// A Response carrying only an error status, for a failed SP-initiated
/// request (SAML core §3.2.2). Signed when `signing.sign_response`.
pub fn build_error_response<R: RngCore + CryptoRng + ?Sized>(
    issuer_entity_id: &str,
    destination: &str,
    in_response_to: Option<&str>,
    code: StatusCode,
    signing: Option<(&dyn XmlSigner, SignatureAlgorithm)>,
    clock: &dyn Clock,
    rng: &mut R,
) -> Result<SignedResponse, SamlError> {
    let response_id = new_id(rng);
    let mut response = Element::new("samlp", "Response", NS_SAMLP)
        .attr("Destination", destination)
        .attr("ID", &response_id)
        .attr_opt("InResponseTo", in_response_to)
        .attr("IssueInstant", format_instant(clock.now()))
        .attr("Version", "2.0")
        .child(issuer(issuer_entity_id))
        .child(status(code));
    if let Some((signer, algorithm)) = signing {
        sign_enveloped(&mut response, "ID", 1, signer, algorithm, &[])?;
    }
    Ok(SignedResponse { response_id, assertion_id: String::new(), xml: response.canonical() })
}
