//! SAML metadata (SAML metadata §2): writing ours, reading an SP's.

use crate::binding::Binding;
use crate::crypto::decode_base64;
use crate::request::{parse_bool, AssertionConsumerService};
use crate::xml::{parse, Element, ParseLimits, NS_DS, NS_MD};
use crate::{NameIdFormat, SamlError, TrustedKey};

/// What this identity provider publishes for one app (Okta serves one
/// metadata document per app, at `/app/{appId}/sso/saml/metadata`).
#[derive(Debug, Clone)]
pub struct IdpMetadata {
    pub entity_id: String,
    /// Base64 DER certificates; during a key rollover, old and new.
    pub signing_certificates: Vec<String>,
    /// The SSO endpoint, served for both HTTP-Redirect and HTTP-POST.
    pub sso_url: String,
    /// The SLO endpoint, for both bindings, if logout is enabled.
    pub slo_url: Option<String>,
    pub name_id_formats: Vec<NameIdFormat>,
    pub want_authn_requests_signed: bool,
}

impl IdpMetadata {
    /// The EntityDescriptor document (SAML metadata §2.3.2, §2.4.3), with an
    /// XML declaration. Written canonically so golden files diff cleanly.
    pub fn to_xml(&self) -> String {
        let mut descriptor = Element::new("md", "IDPSSODescriptor", NS_MD)
            .attr("WantAuthnRequestsSigned", if self.want_authn_requests_signed { "true" } else { "false" })
            .attr("protocolSupportEnumeration", "urn:oasis:names:tc:SAML:2.0:protocol");
        for certificate in &self.signing_certificates {
            descriptor = descriptor.child(
                Element::new("md", "KeyDescriptor", NS_MD).attr("use", "signing").child(
                    Element::new("ds", "KeyInfo", NS_DS).child(
                        Element::new("ds", "X509Data", NS_DS)
                            .child(Element::new("ds", "X509Certificate", NS_DS).text(certificate)),
                    ),
                ),
            );
        }
        let bindings = [Binding::HttpPost, Binding::HttpRedirect];
        if let Some(slo) = &self.slo_url {
            for binding in &bindings {
                descriptor = descriptor.child(endpoint("SingleLogoutService", binding, slo));
            }
        }
        for format in &self.name_id_formats {
            descriptor = descriptor.child(Element::new("md", "NameIDFormat", NS_MD).text(format.uri()));
        }
        for binding in &bindings {
            descriptor = descriptor.child(endpoint("SingleSignOnService", binding, &self.sso_url));
        }
        let document =
            Element::new("md", "EntityDescriptor", NS_MD).attr("entityID", &self.entity_id).child(descriptor);
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}", document.canonical())
    }
}

fn endpoint(local: &str, binding: &Binding, location: &str) -> Element {
    Element::new("md", local, NS_MD).attr("Binding", binding.uri()).attr("Location", location)
}

/// A SingleLogoutService endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub binding: Binding,
    pub location: String,
    pub response_location: Option<String>,
}

/// What an SP's metadata says (SAML metadata §2.4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpMetadata {
    pub entity_id: String,
    pub assertion_consumer_services: Vec<AssertionConsumerService>,
    pub single_logout_services: Vec<Endpoint>,
    /// Base64 DER, whitespace removed. A KeyDescriptor without `use` counts
    /// for both signing and encryption (metadata §2.4.1.1).
    pub signing_certificates: Vec<String>,
    pub encryption_certificates: Vec<String>,
    pub authn_requests_signed: bool,
    pub want_assertions_signed: bool,
    pub name_id_formats: Vec<String>,
}

impl SpMetadata {
    /// The signing certificates as keys to verify the SP's requests with.
    pub fn signing_keys(&self) -> Result<Vec<TrustedKey>, SamlError> {
        self.signing_certificates.iter().map(|c| TrustedKey::from_certificate_base64(c)).collect()
    }
}

/// Reads an SP's EntityDescriptor. The document's own signature, if any, is
/// not checked here: import is an admin action over a trusted channel.
pub fn parse_sp_metadata(xml: &[u8]) -> Result<SpMetadata, SamlError> {
    let root = parse(xml, &ParseLimits::metadata())?;
    if !root.is(NS_MD, "EntityDescriptor") {
        return Err(SamlError::UnexpectedMessage { expected: "EntityDescriptor", found: root.local_name().to_owned() });
    }
    let entity_id = root.get("entityID").ok_or(SamlError::Missing("entityID"))?.to_owned();
    let sp = root.find(NS_MD, "SPSSODescriptor").ok_or(SamlError::Missing("SPSSODescriptor"))?;

    let mut assertion_consumer_services = Vec::new();
    for acs in sp.find_all(NS_MD, "AssertionConsumerService") {
        let index = acs
            .get("index")
            .map(|v| v.trim().parse::<u16>().map_err(|_| SamlError::Invalid { field: "index", value: v.to_owned() }))
            .transpose()?;
        assertion_consumer_services.push(AssertionConsumerService {
            url: acs.get("Location").ok_or(SamlError::Missing("Location"))?.to_owned(),
            index,
            binding: Binding::from_uri(acs.get("Binding").ok_or(SamlError::Missing("Binding"))?),
            is_default: parse_bool(acs.get("isDefault"), "isDefault")?.unwrap_or(false),
        });
    }
    let single_logout_services = sp
        .find_all(NS_MD, "SingleLogoutService")
        .map(|slo| {
            Ok(Endpoint {
                binding: Binding::from_uri(slo.get("Binding").ok_or(SamlError::Missing("Binding"))?),
                location: slo.get("Location").ok_or(SamlError::Missing("Location"))?.to_owned(),
                response_location: slo.get("ResponseLocation").map(str::to_owned),
            })
        })
        .collect::<Result<_, SamlError>>()?;

    let (mut signing_certificates, mut encryption_certificates) = (Vec::new(), Vec::new());
    for key in sp.find_all(NS_MD, "KeyDescriptor") {
        let usage = key.get("use");
        for certificate in certificates(key)? {
            if usage != Some("encryption") {
                signing_certificates.push(certificate.clone());
            }
            if usage != Some("signing") {
                encryption_certificates.push(certificate);
            }
        }
    }
    Ok(SpMetadata {
        entity_id,
        assertion_consumer_services,
        single_logout_services,
        signing_certificates,
        encryption_certificates,
        authn_requests_signed: parse_bool(sp.get("AuthnRequestsSigned"), "AuthnRequestsSigned")?.unwrap_or(false),
        want_assertions_signed: parse_bool(sp.get("WantAssertionsSigned"), "WantAssertionsSigned")?.unwrap_or(false),
        name_id_formats: sp.find_all(NS_MD, "NameIDFormat").map(|e| e.text_content().trim().to_owned()).collect(),
    })
}

/// The `ds:X509Certificate` values under a KeyDescriptor, checked to be base64.
fn certificates(key: &Element) -> Result<Vec<String>, SamlError> {
    let mut found = Vec::new();
    if let Some(info) = key.find(NS_DS, "KeyInfo") {
        for data in info.find_all(NS_DS, "X509Data") {
            for certificate in data.find_all(NS_DS, "X509Certificate") {
                let compact: String = certificate.text_content().chars().filter(|c| !c.is_ascii_whitespace()).collect();
                decode_base64(&compact)?;
                found.push(compact);
            }
        }
    }
    Ok(found)
}
