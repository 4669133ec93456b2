//! WS-Federation passive requestor profile (WS-Federation 1.2 §13): what an
//! identity provider writes. A sign-in answers with a WS-Trust
//! RequestSecurityTokenResponse (WS-Trust 2005/02, as WS-Federation passive
//! relying parties read it) holding a signed SAML 1.1 or 2.0 assertion; the
//! federation metadata document is signed like any other.
//!
//! The assertions are the ones the SAML code builds and signs
//! ([`crate::build_saml11_assertion`], and the SAML 2.0 assertion of
//! [`crate::build_response`] on its own): nothing is written twice.

use rand::{CryptoRng, RngCore};
use time::OffsetDateTime;
use vestibule_core::Clock;

use crate::dsig::sign_enveloped;
use crate::response::{assertion, format_instant, new_id};
use crate::xml::{Element, NS_DS, NS_MD, NS_XSI};
use crate::{ResponseSpec, SamlError, SignatureAlgorithm, XmlSigner};

const NS_TRUST: &str = "http://schemas.xmlsoap.org/ws/2005/02/trust";
const NS_WSU: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
const NS_WSP: &str = "http://schemas.xmlsoap.org/ws/2004/09/policy";
const NS_WSA: &str = "http://www.w3.org/2005/08/addressing";
const NS_FED: &str = "http://docs.oasis-open.org/wsfed/federation/200706";
const NS_AUTH: &str = "http://docs.oasis-open.org/wsfed/authorization/200706";

/// Which assertion a relying party receives (the RSTR's TokenType).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenType {
    /// SAML 1.1, what WS-Federation relying parties expect by default.
    #[default]
    Saml11,
    Saml20,
}

impl TokenType {
    pub fn uri(self) -> &'static str {
        match self {
            Self::Saml11 => "urn:oasis:names:tc:SAML:1.0:assertion",
            Self::Saml20 => "urn:oasis:names:tc:SAML:2.0:assertion",
        }
    }
}

/// A signed SAML 2.0 assertion on its own.
#[derive(Debug, Clone)]
pub struct SignedAssertion {
    pub assertion_id: String,
    /// The `saml:Assertion` element, canonical, to embed as is.
    pub xml: String,
}

/// Builds and signs the SAML 2.0 assertion that [`crate::build_response`]
/// would put in a Response, without the Response: for WS-Federation, which
/// carries it in a RequestSecurityTokenResponse. `destination`,
/// `in_response_to`, `signing.sign_response` and `encryption` do not apply;
/// the assertion is always signed.
pub fn build_signed_assertion<R: RngCore + CryptoRng + ?Sized>(
    spec: &ResponseSpec,
    clock: &dyn Clock,
    rng: &mut R,
    signer: &dyn XmlSigner,
) -> Result<SignedAssertion, SamlError> {
    let inclusive: &[&str] = if spec.typed_attribute_values { &["xs"] } else { &[] };
    let assertion_id = new_id(rng);
    let mut element = assertion(spec, &assertion_id, clock.now());
    sign_enveloped(&mut element, "ID", 1, signer, spec.signing.algorithm, inclusive)?;
    Ok(SignedAssertion { assertion_id, xml: element.canonical_with(inclusive) })
}

/// What a RequestSecurityTokenResponse says around the token.
#[derive(Debug, Clone)]
pub struct RstrSpec<'a> {
    /// The realm the token is for (`wtrealm`), in AppliesTo.
    pub applies_to: &'a str,
    pub token_type: TokenType,
    /// The token's validity, in Lifetime.
    pub created: OffsetDateTime,
    pub expires: OffsetDateTime,
    /// The signed assertion, canonical (it declares its own namespaces).
    pub token_xml: &'a str,
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The `wresult` of a sign-in (WS-Federation §13.2.4 with WS-Trust §4.4):
/// Lifetime, AppliesTo, the token, its TokenType, RequestType and KeyType.
/// The token is embedded byte for byte: it declares every namespace it uses
/// and no enclosing element uses its prefixes, so its exclusive canonical
/// form, and with it the signature, are the same inside as alone.
pub fn request_security_token_response(spec: &RstrSpec<'_>) -> String {
    format!(
        concat!(
            r#"<t:RequestSecurityTokenResponse xmlns:t="{trust}">"#,
            r#"<t:Lifetime><wsu:Created xmlns:wsu="{wsu}">{created}</wsu:Created><wsu:Expires xmlns:wsu="{wsu}">{expires}</wsu:Expires></t:Lifetime>"#,
            r#"<wsp:AppliesTo xmlns:wsp="{wsp}"><wsa:EndpointReference xmlns:wsa="{wsa}"><wsa:Address>{realm}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>"#,
            r#"<t:RequestedSecurityToken>{token}</t:RequestedSecurityToken>"#,
            r#"<t:TokenType>{token_type}</t:TokenType>"#,
            r#"<t:RequestType>http://schemas.xmlsoap.org/ws/2005/02/trust/Issue</t:RequestType>"#,
            r#"<t:KeyType>http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey</t:KeyType>"#,
            r#"</t:RequestSecurityTokenResponse>"#
        ),
        trust = NS_TRUST,
        wsu = NS_WSU,
        wsp = NS_WSP,
        wsa = NS_WSA,
        created = format_instant(spec.created),
        expires = format_instant(spec.expires),
        realm = escape(spec.applies_to),
        token = spec.token_xml,
        token_type = spec.token_type.uri(),
    )
}

/// A WS-Federation metadata document for one app (WS-Federation 1.2 §3.1:
/// a SAML metadata EntityDescriptor with a SecurityTokenServiceType role).
#[derive(Debug, Clone)]
pub struct WsFedMetadata {
    pub entity_id: String,
    /// Base64 DER certificates; during a key rollover, old and new.
    pub signing_certificates: Vec<String>,
    /// The passive requestor endpoint (`/app/{name}/{id}/sso/wsfed/passive`).
    pub passive_endpoint: String,
    pub token_types: Vec<TokenType>,
    /// Claim type URIs the app may receive.
    pub claim_types: Vec<String>,
}

/// Writes and signs the metadata document (enveloped signature first in the
/// EntityDescriptor, as the metadata schema orders it). The `fed` prefix is
/// used inside an `xsi:type` value, so it is kept in the canonical form with
/// an InclusiveNamespaces PrefixList.
pub fn build_wsfed_metadata<R: RngCore + CryptoRng + ?Sized>(
    metadata: &WsFedMetadata,
    signer: &dyn XmlSigner,
    algorithm: SignatureAlgorithm,
    rng: &mut R,
) -> Result<String, SamlError> {
    let inclusive: &[&str] = &["fed"];
    let mut role = Element::new("md", "RoleDescriptor", NS_MD)
        .declare("xsi", NS_XSI)
        .declare("fed", NS_FED)
        .attr("xsi:type", "fed:SecurityTokenServiceType")
        .attr("protocolSupportEnumeration", NS_FED);
    for certificate in &metadata.signing_certificates {
        role = role.child(
            Element::new("md", "KeyDescriptor", NS_MD).attr("use", "signing").child(
                Element::new("ds", "KeyInfo", NS_DS).child(
                    Element::new("ds", "X509Data", NS_DS)
                        .child(Element::new("ds", "X509Certificate", NS_DS).text(certificate)),
                ),
            ),
        );
    }
    let mut offered = Element::new("fed", "TokenTypesOffered", NS_FED);
    for token_type in &metadata.token_types {
        offered = offered.child(Element::new("fed", "TokenType", NS_FED).attr("Uri", token_type.uri()));
    }
    role = role.child(offered);
    if !metadata.claim_types.is_empty() {
        let mut claims = Element::new("fed", "ClaimTypesOffered", NS_FED);
        for uri in &metadata.claim_types {
            claims = claims.child(Element::new("auth", "ClaimType", NS_AUTH).attr("Uri", uri).attr("Optional", "true"));
        }
        role = role.child(claims);
    }
    role = role.child(
        Element::new("fed", "PassiveRequestorEndpoint", NS_FED).child(
            Element::new("wsa", "EndpointReference", NS_WSA)
                .child(Element::new("wsa", "Address", NS_WSA).text(&metadata.passive_endpoint)),
        ),
    );
    let mut document = Element::new("md", "EntityDescriptor", NS_MD)
        .attr("ID", new_id(rng))
        .attr("entityID", &metadata.entity_id)
        .child(role);
    sign_enveloped(&mut document, "ID", 0, signer, algorithm, inclusive)?;
    Ok(format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}", document.canonical_with(inclusive)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rstr_escapes_the_realm_and_embeds_the_token_verbatim() {
        let t = OffsetDateTime::UNIX_EPOCH;
        let token = r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" AssertionID="_1"></saml:Assertion>"#;
        let rstr = request_security_token_response(&RstrSpec {
            applies_to: "urn:rp&<x>",
            token_type: TokenType::Saml11,
            created: t,
            expires: t + time::Duration::minutes(5),
            token_xml: token,
        });
        assert!(rstr.contains("<wsa:Address>urn:rp&amp;&lt;x&gt;</wsa:Address>"));
        assert!(rstr.contains(&format!("<t:RequestedSecurityToken>{token}</t:RequestedSecurityToken>")));
        assert!(rstr.contains("<wsu:Expires xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\">1970-01-01T00:05:00.000Z</wsu:Expires>"));
        assert!(rstr.contains("<t:TokenType>urn:oasis:names:tc:SAML:1.0:assertion</t:TokenType>"));
    }
}
