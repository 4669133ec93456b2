//! Prints what a launch costs next to raw RSA-2048 signatures. Not an
//! assertion (timings on a shared machine are noisy); run with
//! `cargo test -p saml --release --test signing_cost -- --nocapture`.

mod common;

use std::time::{Duration, Instant};

use common::*;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use saml::{build_response, SamlError, SignatureAlgorithm, SignaturePolicy, XmlSigner};

/// A signer that does no RSA, to time everything else a launch does.
struct NoRsa(String);

impl XmlSigner for NoRsa {
    fn sign(&self, _: SignatureAlgorithm, _: &[u8]) -> Result<Vec<u8>, SamlError> {
        Ok(vec![0u8; 256])
    }
    fn certificate_base64(&self) -> &str {
        &self.0
    }
}

/// The fastest of five rounds of `n` runs, per run: the least disturbed by
/// other work on the machine.
fn time(n: u32, mut f: impl FnMut()) -> Duration {
    (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            start.elapsed() / n
        })
        .min()
        .unwrap()
}

#[test]
fn launch_cost_compared_with_raw_rsa() {
    const N: u32 = 100;
    let pkey = PKey::private_key_from_pem(&read_fixture("idp-key.pem")).unwrap();
    let data = [7u8; 1024];
    let raw = time(N, || {
        let mut signer = Signer::new(MessageDigest::sha256(), &pkey).unwrap();
        std::hint::black_box(signer.sign_oneshot_to_vec(&data).unwrap());
    });

    let key = idp_key();
    let no_rsa = NoRsa(key.certificate_base64().to_owned());
    let clock = clock();
    let mut rng = rng();
    for (label, sign_assertion, sign_response) in [("assertion signed", true, false), ("both signed", true, true)] {
        let mut spec = spec();
        spec.signing = SignaturePolicy { sign_assertion, sign_response, ..Default::default() };
        let signatures = u32::from(sign_assertion) + u32::from(sign_response);
        let launch = time(N, || {
            std::hint::black_box(build_response(&spec, &clock, &mut rng, &key).unwrap());
        });
        let xml_only = time(N, || {
            std::hint::black_box(build_response(&spec, &clock, &mut rng, &no_rsa).unwrap());
        });
        let budget = raw * signatures;
        println!(
            "{label}: {launch:?} per response; raw RSA-2048 {raw:?} x {signatures} = {budget:?}; \
             ratio {:.2}; everything but RSA {xml_only:?} (ratio with that overhead {:.2})",
            launch.as_secs_f64() / budget.as_secs_f64(),
            (budget + xml_only).as_secs_f64() / budget.as_secs_f64(),
        );
    }
}
