//! Shared by the integration tests: keys from tests/fixtures, a fixed clock,
//! a seeded RNG, and the xmlsec1 command line.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use rand::rngs::StdRng;
use rand::SeedableRng;
use saml::{
    AssertionLifetime, AuthnInfo, NameId, NameIdFormat, ResponseSpec, SamlAttribute, SignaturePolicy, SigningKey,
};
use time::macros::datetime;
use time::OffsetDateTime;
use vestibule_core::FixedClock;

pub const NOW: OffsetDateTime = datetime!(2026-03-01 12:00:00 UTC);

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

pub fn read_fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn idp_key() -> SigningKey {
    SigningKey::from_pem(&read_fixture("idp-key.pem"), &read_fixture("idp-cert.pem")).unwrap()
}

pub fn sp_key() -> SigningKey {
    SigningKey::from_pem(&read_fixture("sp-key.pem"), &read_fixture("sp-cert.pem")).unwrap()
}

pub fn clock() -> FixedClock {
    FixedClock::new(NOW)
}

pub fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

pub fn spec() -> ResponseSpec {
    ResponseSpec {
        issuer: "http://www.okta.com/exk1vestibule".into(),
        destination: "https://sp.example.com/saml/acs".into(),
        recipient: "https://sp.example.com/saml/acs".into(),
        audience: "https://sp.example.com/saml/metadata".into(),
        in_response_to: Some("_req-123".into()),
        name_id: NameId { value: "ada@example.com".into(), format: NameIdFormat::EmailAddress },
        authn: AuthnInfo {
            instant: NOW,
            session_index: "_session-1".into(),
            class_ref: "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport".into(),
        },
        attributes: vec![
            SamlAttribute {
                name: "groups".into(),
                name_format: Some("urn:oasis:names:tc:SAML:2.0:attrname-format:basic".into()),
                values: vec!["Engineering".into(), "R&D <core>".into()],
            },
            SamlAttribute { name: "firstName".into(), name_format: None, values: vec!["Ada \"A\" Lovelace".into()] },
        ],
        lifetime: AssertionLifetime::default(),
        signing: SignaturePolicy::default(),
        encryption: None,
        typed_attribute_values: false,
    }
}

/// Whether the xmlsec1 command line is installed. Tests that need it print a
/// note and pass without it on a developer's machine; under CI (`CI` set)
/// its absence fails the test, since the test script must install it.
pub fn have_xmlsec1() -> bool {
    let ok = Command::new("xmlsec1").arg("--version").output().is_ok_and(|o| o.status.success());
    // In CI a missing xmlsec1 is a missing install step, not a reason to skip.
    assert!(ok || std::env::var_os("CI").is_none(), "xmlsec1 must be installed in CI (apt-get install -y xmlsec1)");
    if !ok {
        eprintln!("xmlsec1 not installed: skipping the interoperability check");
    }
    ok
}

/// Writes `contents` to a scratch file named `name` and returns its path.
pub fn scratch(name: &str, contents: &[u8]) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// Runs xmlsec1 with `args`; returns (success, stdout, stderr).
pub fn xmlsec1(args: &[&str]) -> (bool, Vec<u8>, String) {
    let output = Command::new("xmlsec1").args(args).output().expect("run xmlsec1");
    (output.status.success(), output.stdout, String::from_utf8_lossy(&output.stderr).into_owned())
}

pub const ID_ATTRS: [&str; 6] = [
    "--id-attr:ID",
    "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
    "--id-attr:ID",
    "urn:oasis:names:tc:SAML:2.0:protocol:Response",
    "--id-attr:ID",
    "urn:oasis:names:tc:SAML:2.0:protocol:AuthnRequest",
];
