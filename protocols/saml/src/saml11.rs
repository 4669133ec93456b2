//! SAML 1.1 assertions (OASIS SAML 1.1 core §2), for WS-Federation passive
//! sign-in, which carries one inside a RequestSecurityTokenResponse.
//!
//! Only the assertion lives here; it is signed by the same enveloped-signature
//! code as SAML 2.0 ([`crate::dsig`]), with the signature as its last child
//! as the 1.1 schema requires.

use rand::{CryptoRng, RngCore};
use time::OffsetDateTime;
use vestibule_core::Clock;

use crate::dsig::sign_enveloped;
use crate::response::{format_instant, new_id};
use crate::xml::Element;
use crate::{AssertionLifetime, NameId, SamlError, SignatureAlgorithm, XmlSigner};

const NS_SAML11: &str = "urn:oasis:names:tc:SAML:1.0:assertion";

/// A SAML 1.1 attribute: `AttributeNamespace` and `AttributeName` are
/// separate (a WS-Federation claim type is their join with `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saml11Attribute {
    pub namespace: String,
    pub name: String,
    pub values: Vec<String>,
}

impl Saml11Attribute {
    /// Splits a claim type URI at its last `/`, as AD FS does:
    /// `http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn` becomes
    /// namespace `…/claims` and name `upn`.
    pub fn from_claim_type(claim_type: &str, values: Vec<String>) -> Self {
        let (namespace, name) = claim_type.rsplit_once('/').unwrap_or(("", claim_type));
        Saml11Attribute { namespace: namespace.to_owned(), name: name.to_owned(), values }
    }
}

/// What a SAML 1.1 assertion says.
#[derive(Debug, Clone)]
pub struct Saml11AssertionSpec {
    pub issuer: String,
    /// The relying party's realm (`wtrealm`).
    pub audience: String,
    pub name_id: NameId,
    pub authn_instant: OffsetDateTime,
    /// E.g. `urn:oasis:names:tc:SAML:1.0:am:password`.
    pub authentication_method: String,
    pub attributes: Vec<Saml11Attribute>,
    pub lifetime: AssertionLifetime,
}

/// A signed SAML 1.1 assertion.
#[derive(Debug, Clone)]
pub struct SignedSaml11Assertion {
    pub assertion_id: String,
    /// The `saml:Assertion` element, canonical, to embed as is.
    pub xml: String,
}

fn subject(name_id: &NameId) -> Element {
    Element::new("saml", "Subject", NS_SAML11)
        .child(
            Element::new("saml", "NameIdentifier", NS_SAML11).attr("Format", name_id.format.uri()).text(&name_id.value),
        )
        .child(
            Element::new("saml", "SubjectConfirmation", NS_SAML11).child(
                Element::new("saml", "ConfirmationMethod", NS_SAML11).text("urn:oasis:names:tc:SAML:1.0:cm:bearer"),
            ),
        )
}

/// Builds and signs a SAML 1.1 assertion (SAML 1.1 core §2.3.2).
pub fn build_saml11_assertion<R: RngCore + CryptoRng + ?Sized>(
    spec: &Saml11AssertionSpec,
    clock: &dyn Clock,
    rng: &mut R,
    signer: &dyn XmlSigner,
    algorithm: SignatureAlgorithm,
) -> Result<SignedSaml11Assertion, SamlError> {
    let now = clock.now();
    let assertion_id = new_id(rng);
    let mut assertion = Element::new("saml", "Assertion", NS_SAML11)
        .attr("AssertionID", &assertion_id)
        .attr("IssueInstant", format_instant(now))
        .attr("Issuer", &spec.issuer)
        .attr("MajorVersion", "1")
        .attr("MinorVersion", "1")
        .child(
            Element::new("saml", "Conditions", NS_SAML11)
                .attr("NotBefore", format_instant(now - spec.lifetime.not_before_skew))
                .attr("NotOnOrAfter", format_instant(now + spec.lifetime.validity))
                .child(
                    Element::new("saml", "AudienceRestrictionCondition", NS_SAML11)
                        .child(Element::new("saml", "Audience", NS_SAML11).text(&spec.audience)),
                ),
        );
    if !spec.attributes.is_empty() {
        let mut statement = Element::new("saml", "AttributeStatement", NS_SAML11).child(subject(&spec.name_id));
        for attribute in &spec.attributes {
            let mut element = Element::new("saml", "Attribute", NS_SAML11)
                .attr("AttributeName", &attribute.name)
                .attr("AttributeNamespace", &attribute.namespace);
            for value in &attribute.values {
                element = element.child(Element::new("saml", "AttributeValue", NS_SAML11).text(value));
            }
            statement = statement.child(element);
        }
        assertion = assertion.child(statement);
    }
    assertion = assertion.child(
        Element::new("saml", "AuthenticationStatement", NS_SAML11)
            .attr("AuthenticationInstant", format_instant(spec.authn_instant))
            .attr("AuthenticationMethod", &spec.authentication_method)
            .child(subject(&spec.name_id)),
    );
    let last = assertion.children.len();
    sign_enveloped(&mut assertion, "AssertionID", last, signer, algorithm, &[])?;
    Ok(SignedSaml11Assertion { assertion_id, xml: assertion.canonical() })
}
