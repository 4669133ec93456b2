//! Metadata in both directions, and golden files for what peers read:
//! regenerated on every run and compared. Set `UPDATE_GOLDEN=1` to rewrite
//! them after a deliberate change, then review the diff.

mod common;

use std::path::Path;

use common::*;
use saml::{
    build_response, parse_sp_metadata, AlgorithmPolicy, Binding, IdpMetadata, InboundMessage, MessageKind,
    NameIdFormat, ParseLimits, SignaturePolicy, TrustedKey, XmlSigner,
};

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() || !path.exists() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert!(expected == actual, "{name} changed; rerun with UPDATE_GOLDEN=1 if intended.\nnow:\n{actual}");
}

fn idp_metadata() -> IdpMetadata {
    IdpMetadata {
        entity_id: "http://www.okta.com/exk1vestibule".into(),
        signing_certificates: vec![idp_key().certificate_base64().to_owned()],
        sso_url: "https://idp.example.com/app/acme/exk1vestibule/sso/saml".into(),
        slo_url: Some("https://idp.example.com/app/acme/exk1vestibule/slo/saml".into()),
        name_id_formats: vec![NameIdFormat::Unspecified, NameIdFormat::EmailAddress],
        want_authn_requests_signed: false,
    }
}

#[test]
fn idp_metadata_golden() {
    golden("idp-metadata.xml", &idp_metadata().to_xml());
}

/// During a key rollover the gateway publishes two signing certificates, the
/// one in use first: each in its own `KeyDescriptor use="signing"`, which is
/// how python3-saml (`x509certMulti`), pysaml2 and Shibboleth learn both.
#[test]
fn idp_metadata_during_rollover_golden() {
    let mut metadata = idp_metadata();
    metadata.signing_certificates.push(sp_key().certificate_base64().to_owned());
    let xml = metadata.to_xml();
    assert_eq!(xml.matches("<md:KeyDescriptor use=\"signing\">").count(), 2);
    let first = xml.find(idp_key().certificate_base64()).unwrap();
    let second = xml.find(sp_key().certificate_base64()).unwrap();
    assert!(first < second, "the key in use comes first");
    golden("idp-metadata-rollover.xml", &xml);
}

#[test]
fn idp_metadata_verifies_as_xml_for_xmlsec1() {
    // xmlsec1 can at least parse it; there is no signature to check.
    if !have_xmlsec1() {
        return;
    }
    let path = scratch("idp-metadata.xml", idp_metadata().to_xml().as_bytes());
    let (ok, _, stderr) =
        xmlsec1(&["--verify", "--pubkey-cert-pem", fixture("idp-cert.pem").to_str().unwrap(), path.to_str().unwrap()]);
    // No Signature node: xmlsec1 fails with exactly that complaint, not a parse error.
    assert!(!ok && stderr.contains("Signature"), "{stderr}");
}

#[test]
fn signed_response_golden_and_self_verification() {
    let mut spec = spec();
    spec.signing = SignaturePolicy { sign_assertion: true, sign_response: true, ..Default::default() };
    let response = build_response(&spec, &clock(), &mut rng(), &idp_key()).unwrap();
    golden("response-both-signed.xml", &response.xml);

    // Our own verifier accepts a Response signed only at the root.
    spec.signing = SignaturePolicy { sign_assertion: false, sign_response: true, ..Default::default() };
    let response = build_response(&spec, &clock(), &mut rng(), &idp_key()).unwrap();
    let inbound =
        InboundMessage::from_post(MessageKind::Response, &response.to_base64(), None, &ParseLimits::default()).unwrap();
    let idp = TrustedKey::from_certificate_pem(&read_fixture("idp-cert.pem")).unwrap();
    inbound.verify_signature(&[idp], &AlgorithmPolicy::default()).unwrap();
    assert!(response.xml.starts_with("<samlp:Response xmlns:samlp="));
    assert!(response.xml.contains("R&amp;D &lt;core&gt;"));
}

#[test]
fn sp_metadata_import() {
    let metadata = parse_sp_metadata(&read_fixture("sp-metadata.xml")).unwrap();
    assert_eq!(metadata.entity_id, "https://sp.example.com");
    assert!(metadata.authn_requests_signed && metadata.want_assertions_signed);
    let acs: Vec<_> = metadata
        .assertion_consumer_services
        .iter()
        .map(|a| (a.url.as_str(), a.index, a.binding.clone(), a.is_default))
        .collect();
    assert_eq!(
        acs,
        [
            ("https://sp.example.com/acs", Some(0), Binding::HttpPost, false),
            ("https://sp.example.com/artifact", Some(1), Binding::HttpArtifact, true),
        ]
    );
    assert_eq!(
        metadata.single_logout_services[0].response_location.as_deref(),
        Some("https://sp.example.com/slo/done")
    );
    // The first key is for signing only; the second, without `use`, for both.
    assert_eq!(metadata.signing_certificates.len(), 2);
    assert_eq!(metadata.encryption_certificates.len(), 1);
    for certificate in &metadata.signing_certificates {
        TrustedKey::from_certificate_base64(certificate).unwrap();
    }
    assert_eq!(metadata.encryption_certificates[0], idp_key().certificate_base64());
    assert_eq!(metadata.name_id_formats, [NameIdFormat::EmailAddress.uri()]);
}

#[test]
fn sp_metadata_rejects_other_documents() {
    for xml in [
        &b"<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"/>"[..],
        b"<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\"/>",
        &read_fixture("attack-xxe.xml"),
    ] {
        assert!(parse_sp_metadata(xml).is_err());
    }
}
