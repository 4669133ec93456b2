//! Rough timings of token issuance against the raw signature, printed and
//! not asserted (run with `--nocapture`; numbers from a debug build
//! overstate the JSON work, the signatures are OpenSSL's either way).

mod common;

use std::time::Instant;

use common::*;
use oidc::SigningAlg;

const N: u32 = 200;

fn per_op(f: impl FnMut()) -> f64 {
    let mut f = f;
    f(); // warm up
    let start = Instant::now();
    for _ in 0..N {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(N)
}

#[test]
fn print_issuance_vs_raw_signature() {
    let bed = Bed::new();
    let message = vec![b'x'; 600];
    let mut lines = Vec::new();
    for alg in [SigningAlg::Rs256, SigningAlg::Es256, SigningAlg::EdDsa] {
        let key = bed.keys.signing_key(alg).unwrap();
        let raw = per_op(|| {
            key.sign_raw(&message).unwrap();
        });
        let client_id = format!("0oa{}", alg.as_str().to_lowercase());
        bed.add_client(&client_id, alg);
        let n = std::cell::Cell::new(0);
        let exchange = per_op(|| {
            n.set(n.get() + 1);
            bed.login(&client_id, &format!("n{}", n.get()));
        });
        lines.push(format!(
            "{alg:>5}: raw signature {raw:8.1} µs | code flow (authorize + code + token: RS256 access token + {alg} ID token) {exchange:8.1} µs"
        ));
    }
    println!("\ntoken issuance timings, {N} iterations each:");
    for l in lines {
        println!("  {l}");
    }
}
