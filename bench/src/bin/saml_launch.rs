//! The CPU a SAML launch costs, against its target: at most 1.25 times the raw
//! RSA signatures it contains.
//!
//! Builds and signs an IdP-initiated SAML Response with the `saml` crate, once
//! with only the Assertion signed and once with the Response and the Assertion
//! both signed, and times one raw RSA-2048 SHA-256 signature by OpenSSL over the
//! same bytes the crate signs (the assertion's SignedInfo), with the same key.
//! The ratio is CPU per launch / (raw signature CPU x signatures in the response):
//! what the XML around the signatures adds.
//!
//! This measures the protocol core only; `saml_gateway_launch` measures the
//! same ratio through the gateway's HTTP path (session, caches, System Log,
//! the auto-posting form).
//!
//! `cargo run --release -p bench --bin saml_launch`

#![forbid(unsafe_code)]

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bench::{median, show, verdict, CpuClock};
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use openssl::x509::{X509Builder, X509NameBuilder, X509};
use rand::rngs::StdRng;
use rand::SeedableRng;
use saml::{
    build_response, AssertionLifetime, AuthnInfo, NameId, NameIdFormat, ResponseSpec,
    SamlAttribute, SamlError, SignatureAlgorithm, SignaturePolicy, SigningKey, XmlSigner,
};
use time::macros::datetime;
use time::OffsetDateTime;
use vestibule_core::FixedClock;

const TARGET_RATIO: f64 = 1.25;
/// Runs of each case per round.
const RUNS: u32 = 100;
/// Rounds, each running every case in turn, so that all cases see the same
/// machine conditions; the median round is reported.
const ROUNDS: usize = 7;
const NOW: OffsetDateTime = datetime!(2026-03-01 12:00:00 UTC);

/// A fresh RSA-2048 key and a self-signed certificate for it, made at start so
/// that no key is kept in the repository for a benchmark.
fn test_key() -> (PKey<Private>, X509) {
    let key = PKey::from_rsa(Rsa::generate(2048).expect("RSA key generation")).expect("PKey");
    let mut name = X509NameBuilder::new().expect("name builder");
    name.append_entry_by_text("CN", "Vestibule benchmark IdP")
        .expect("CN");
    let name = name.build();
    let mut cert = X509Builder::new().expect("X509 builder");
    cert.set_version(2).expect("v3");
    let serial = BigNum::from_u32(1)
        .and_then(|n| n.to_asn1_integer())
        .expect("serial");
    cert.set_serial_number(&serial).expect("serial");
    cert.set_subject_name(&name).expect("subject");
    cert.set_issuer_name(&name).expect("issuer");
    cert.set_pubkey(&key).expect("public key");
    cert.set_not_before(&Asn1Time::days_from_now(0).expect("time"))
        .expect("notBefore");
    cert.set_not_after(&Asn1Time::days_from_now(365).expect("time"))
        .expect("notAfter");
    cert.sign(&key, MessageDigest::sha256())
        .expect("self-signature");
    (key, cert.build())
}

/// An IdP-initiated launch of a typical app: email NameID and the attributes
/// apps most often map (name, email, a few groups), typed as Okta types them.
fn launch_spec(sign_response: bool) -> ResponseSpec {
    let basic = Some("urn:oasis:names:tc:SAML:2.0:attrname-format:basic".to_owned());
    let attribute = |name: &str, values: &[&str]| SamlAttribute {
        name: name.into(),
        name_format: basic.clone(),
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    };
    ResponseSpec {
        issuer: "http://www.okta.com/exk1vestibule".into(),
        destination: "https://acme.app.example.com/saml/acs".into(),
        recipient: "https://acme.app.example.com/saml/acs".into(),
        audience: "https://acme.app.example.com/saml/metadata".into(),
        in_response_to: None,
        name_id: NameId {
            value: "ada.lovelace@example.com".into(),
            format: NameIdFormat::EmailAddress,
        },
        authn: AuthnInfo {
            instant: NOW,
            session_index: "_session-1".into(),
            class_ref: "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport".into(),
        },
        attributes: vec![
            attribute("email", &["ada.lovelace@example.com"]),
            attribute("firstName", &["Ada"]),
            attribute("lastName", &["Lovelace"]),
            attribute("groups", &["Everyone", "Engineering", "R&D <core>"]),
        ],
        typed_attribute_values: true,
        lifetime: AssertionLifetime::default(),
        signing: SignaturePolicy {
            sign_assertion: true,
            sign_response,
            algorithm: SignatureAlgorithm::RsaSha256,
        },
        encryption: None,
    }
}

/// Passes signing on to a key and keeps what it was asked to sign, to learn
/// the size and number of the signed inputs.
struct Recording<'k> {
    key: &'k SigningKey,
    inputs: Mutex<Vec<Vec<u8>>>,
}

impl XmlSigner for Recording<'_> {
    fn sign(&self, algorithm: SignatureAlgorithm, data: &[u8]) -> Result<Vec<u8>, SamlError> {
        self.inputs
            .lock()
            .expect("not poisoned")
            .push(data.to_vec());
        self.key.sign(algorithm, data)
    }

    fn certificate_base64(&self) -> &str {
        self.key.certificate_base64()
    }
}

/// Returns a signature-sized block without any RSA, to time everything else.
struct NoRsa(String);

impl XmlSigner for NoRsa {
    fn sign(&self, _: SignatureAlgorithm, _: &[u8]) -> Result<Vec<u8>, SamlError> {
        Ok(vec![0u8; 256])
    }

    fn certificate_base64(&self) -> &str {
        &self.0
    }
}

/// The CPU and wall time of one run of `f`, averaged over `RUNS` runs.
fn per_run(clock: CpuClock, mut f: impl FnMut()) -> (Duration, Duration) {
    let wall = Instant::now();
    let cpu = clock.now();
    for _ in 0..RUNS {
        f();
    }
    (clock.since(cpu) / RUNS, wall.elapsed() / RUNS)
}

/// Per-round measurements of one case.
#[derive(Default)]
struct Samples {
    cpu: Vec<Duration>,
    wall: Vec<Duration>,
}

impl Samples {
    fn push(&mut self, (cpu, wall): (Duration, Duration)) {
        self.cpu.push(cpu);
        self.wall.push(wall);
    }

    fn cpu(&mut self) -> Duration {
        median(&mut self.cpu)
    }

    fn cpu_spread(&mut self) -> String {
        self.cpu.sort_unstable();
        format!(
            "{}..{}",
            show(self.cpu[0]),
            show(self.cpu[self.cpu.len() - 1])
        )
    }

    fn wall(&mut self) -> Duration {
        median(&mut self.wall)
    }
}

fn main() {
    let cpu_clock = CpuClock::detect();
    println!("saml_launch: CPU per IdP-initiated SAML launch / (raw RSA-2048 signature CPU x signatures), target <= {TARGET_RATIO}");
    println!("measured with: {}", cpu_clock.describe());
    println!(
        "protocol core only (saml::build_response); saml_gateway_launch measures the whole launch \
         through the gateway"
    );
    println!();

    let (pkey, cert) = test_key();
    let key = SigningKey::new(pkey.clone(), &cert).expect("the certificate is for the key");
    let no_rsa = NoRsa(key.certificate_base64().to_owned());
    let clock = FixedClock::new(NOW);
    let mut rng = StdRng::seed_from_u64(7);

    // Two cases: (label, spec).
    let cases = [
        ("assertion signed", launch_spec(false)),
        ("response + assertion signed", launch_spec(true)),
    ];

    // What the crate signs, per case: the count, and the bytes to sign raw.
    let mut signed_inputs = Vec::new();
    for (label, spec) in &cases {
        let recording = Recording {
            key: &key,
            inputs: Mutex::new(Vec::new()),
        };
        let response = build_response(spec, &clock, &mut rng, &recording).expect("a response");
        let inputs = recording.inputs.into_inner().expect("not poisoned");
        let sizes: Vec<String> = inputs.iter().map(|i| format!("{} B", i.len())).collect();
        println!(
            "{label}: response {} B of XML; {} signature(s) over SignedInfo of {}",
            response.xml.len(),
            inputs.len(),
            sizes.join(" and ")
        );
        signed_inputs.push(inputs);
    }
    // The raw signature signs exactly what a launch signs: the assertion's SignedInfo.
    let raw_input = signed_inputs[0][0].clone();
    println!();

    let mut raw = Samples::default();
    let mut launches: Vec<Samples> = cases.iter().map(|_| Samples::default()).collect();
    let mut xml_only: Vec<Samples> = cases.iter().map(|_| Samples::default()).collect();
    // One unrecorded round warms caches and lets the CPU settle its clock.
    for round in 0..=ROUNDS {
        let raw_run = per_run(cpu_clock, || {
            let mut signer = Signer::new(MessageDigest::sha256(), &pkey).expect("signer");
            std::hint::black_box(signer.sign_oneshot_to_vec(&raw_input).expect("signature"));
        });
        if round > 0 {
            raw.push(raw_run);
        }
        for (i, (_, spec)) in cases.iter().enumerate() {
            let launch = per_run(cpu_clock, || {
                std::hint::black_box(
                    build_response(spec, &clock, &mut rng, &key).expect("a response"),
                );
            });
            let xml = per_run(cpu_clock, || {
                std::hint::black_box(
                    build_response(spec, &clock, &mut rng, &no_rsa).expect("a response"),
                );
            });
            if round > 0 {
                launches[i].push(launch);
                xml_only[i].push(xml);
            }
        }
    }

    let raw_cpu = raw.cpu();
    println!(
        "raw RSA-2048 SHA-256 signature (OpenSSL, same key, {} B input): {} CPU (rounds {}), {} wall",
        raw_input.len(),
        show(raw_cpu),
        raw.cpu_spread(),
        show(raw.wall())
    );
    println!("{ROUNDS} rounds of {RUNS} runs per case; medians of the rounds");
    for (i, (label, _)) in cases.iter().enumerate() {
        let signatures = signed_inputs[i].len() as u32;
        let launch_cpu = launches[i].cpu();
        let xml_cpu = xml_only[i].cpu();
        let budget = raw_cpu * signatures;
        let ratio = launch_cpu.as_secs_f64() / budget.as_secs_f64();
        println!();
        println!("{label}:");
        println!(
            "  CPU per launch {} (rounds {}), {} wall",
            show(launch_cpu),
            launches[i].cpu_spread(),
            show(launches[i].wall())
        );
        println!("  everything but RSA {} CPU", show(xml_cpu));
        println!(
            "  CPU per launch / (raw signature CPU x {signatures}) = {} / {} = {ratio:.3}  (target <= {TARGET_RATIO}: {})",
            show(launch_cpu),
            show(budget),
            verdict(ratio / TARGET_RATIO)
        );
    }
}
