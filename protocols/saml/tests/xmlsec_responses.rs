//! Responses signed (and encrypted) here must verify (and decrypt) with the
//! xmlsec1 command line, the reference implementation most SPs sit on.

mod common;

use common::*;
use saml::{build_response, AssertionEncryption, ContentEncryption, KeyTransport, SignatureAlgorithm, SignaturePolicy};

const ASSERTION_SIGNATURE: &str = "/*[local-name()='Response']/*[local-name()='Assertion']/*[local-name()='Signature']";
const RESPONSE_SIGNATURE: &str = "/*[local-name()='Response']/*[local-name()='Signature']";

fn verify_with_xmlsec1(xml: &[u8], name: &str, signature_xpath: &str) {
    let path = scratch(name, xml);
    let cert = fixture("idp-cert.pem");
    let mut args = vec!["--verify", "--pubkey-cert-pem", cert.to_str().unwrap()];
    args.extend(ID_ATTRS);
    args.extend(["--node-xpath", signature_xpath, path.to_str().unwrap()]);
    let (ok, _, stderr) = xmlsec1(&args);
    assert!(ok, "xmlsec1 rejected {name} at {signature_xpath}:\n{stderr}\n{}", String::from_utf8_lossy(xml));
}

#[test]
fn signed_responses_verify_with_xmlsec1() {
    if !have_xmlsec1() {
        return;
    }
    let key = idp_key();
    let cases = [
        (true, false, SignatureAlgorithm::RsaSha256),
        (false, true, SignatureAlgorithm::RsaSha256),
        (true, true, SignatureAlgorithm::RsaSha256),
        (true, true, SignatureAlgorithm::RsaSha384),
        (true, true, SignatureAlgorithm::RsaSha512),
        (true, false, SignatureAlgorithm::RsaSha1),
    ];
    for (sign_assertion, sign_response, algorithm) in cases {
        let mut spec = spec();
        spec.signing = SignaturePolicy { sign_assertion, sign_response, algorithm };
        let response = build_response(&spec, &clock(), &mut rng(), &key).unwrap();
        let name = format!("response-{sign_assertion}-{sign_response}-{algorithm:?}.xml");
        if sign_assertion {
            verify_with_xmlsec1(response.xml.as_bytes(), &name, ASSERTION_SIGNATURE);
        }
        if sign_response {
            verify_with_xmlsec1(response.xml.as_bytes(), &name, RESPONSE_SIGNATURE);
        }
    }
}

#[test]
fn tampered_response_fails_xmlsec1() {
    if !have_xmlsec1() {
        return;
    }
    let response = build_response(&spec(), &clock(), &mut rng(), &idp_key()).unwrap();
    let tampered = response.xml.replace("ada@example.com", "eve@example.com");
    let path = scratch("response-tampered.xml", tampered.as_bytes());
    let cert = fixture("idp-cert.pem");
    let mut args = vec!["--verify", "--pubkey-cert-pem", cert.to_str().unwrap()];
    args.extend(ID_ATTRS);
    args.push(path.to_str().unwrap());
    assert!(!xmlsec1(&args).0);
}

#[test]
fn encrypted_assertions_decrypt_with_xmlsec1() {
    if !have_xmlsec1() {
        return;
    }
    let sp_cert = openssl::x509::X509::from_pem(&read_fixture("sp-cert.pem")).unwrap();
    for content in [ContentEncryption::Aes256Gcm, ContentEncryption::Aes256Cbc] {
        let mut spec = spec();
        spec.signing = SignaturePolicy { sign_assertion: true, sign_response: true, ..Default::default() };
        spec.encryption = Some(AssertionEncryption::new(&sp_cert, content, KeyTransport::RsaOaepMgf1p).unwrap());
        let response = build_response(&spec, &clock(), &mut rng(), &idp_key()).unwrap();
        assert!(!response.xml.contains("ada@example.com"));
        let name = format!("response-encrypted-{content:?}.xml");
        verify_with_xmlsec1(response.xml.as_bytes(), &name, RESPONSE_SIGNATURE);

        let path = scratch(&name, response.xml.as_bytes());
        let key = fixture("sp-key.pem");
        let (ok, decrypted, stderr) =
            xmlsec1(&["--decrypt", "--privkey-pem", key.to_str().unwrap(), path.to_str().unwrap()]);
        assert!(ok, "xmlsec1 could not decrypt {content:?}: {stderr}");
        let decrypted = String::from_utf8(decrypted).unwrap();
        assert!(decrypted.contains("ada@example.com"), "{decrypted}");
        // The decrypted assertion's own signature still verifies.
        verify_with_xmlsec1(
            decrypted.as_bytes(),
            &format!("decrypted-{content:?}.xml"),
            "//*[local-name()='Assertion']/*[local-name()='Signature']",
        );
    }
}

#[test]
fn typed_attribute_values_verify_with_xmlsec1() {
    let mut spec = spec();
    spec.typed_attribute_values = true;
    spec.signing = SignaturePolicy { sign_assertion: true, sign_response: true, ..Default::default() };
    let response = build_response(&spec, &clock(), &mut rng(), &idp_key()).unwrap();
    assert!(response.xml.contains(
        r#"<saml:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">Engineering</saml:AttributeValue>"#
    ), "{}", response.xml);
    assert!(response
        .xml
        .contains(r#"<ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="xs">"#));
    if !have_xmlsec1() {
        return;
    }
    verify_with_xmlsec1(response.xml.as_bytes(), "response-typed.xml", ASSERTION_SIGNATURE);
    verify_with_xmlsec1(response.xml.as_bytes(), "response-typed.xml", RESPONSE_SIGNATURE);
}

#[test]
fn saml11_assertion_verifies_with_xmlsec1() {
    use saml::{build_saml11_assertion, Saml11AssertionSpec, Saml11Attribute};
    let spec = Saml11AssertionSpec {
        issuer: "http://www.okta.com/exk1vestibule".into(),
        audience: "urn:federation:MicrosoftOnline".into(),
        name_id: spec().name_id,
        authn_instant: NOW,
        authentication_method: "urn:oasis:names:tc:SAML:1.0:am:password".into(),
        attributes: vec![Saml11Attribute::from_claim_type(
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
            vec!["ada@example.com".into()],
        )],
        lifetime: Default::default(),
    };
    let assertion =
        build_saml11_assertion(&spec, &clock(), &mut rng(), &idp_key(), SignatureAlgorithm::RsaSha256).unwrap();
    assert!(assertion
        .xml
        .contains(r#"AttributeName="upn" AttributeNamespace="http://schemas.xmlsoap.org/ws/2005/05/identity/claims""#));
    assert!(assertion.xml.ends_with("</ds:Signature></saml:Assertion>"));
    if !have_xmlsec1() {
        return;
    }
    let path = scratch("saml11-assertion.xml", assertion.xml.as_bytes());
    let cert = fixture("idp-cert.pem");
    let (ok, _, stderr) = xmlsec1(&[
        "--verify",
        "--pubkey-cert-pem",
        cert.to_str().unwrap(),
        "--id-attr:AssertionID",
        "urn:oasis:names:tc:SAML:1.0:assertion:Assertion",
        path.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}\n{}", assertion.xml);
}
