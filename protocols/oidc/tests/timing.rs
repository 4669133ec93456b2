//! Rough timings of token issuance against the raw signature, printed and
//! not asserted (run with `--nocapture`). In a debug build the JSON work is
//! overstated; the signatures are OpenSSL's either way.

mod common;

use std::time::Instant;

use common::*;
use oidc::request::FormRequest;
use oidc::SigningAlg;

const N: u32 = 200;

fn per_op(mut f: impl FnMut()) -> f64 {
    f(); // warm up
    let start = Instant::now();
    for _ in 0..N {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(N)
}

#[test]
fn print_issuance_vs_raw_signature() {
    let mut bed = Bed::new();
    let message = vec![b'x'; 600];
    let mut claims = serde_json::Map::new();
    for (k, v) in [("iss", "https://sso.example.com/oauth2/default"), ("sub", "00ualice"), ("aud", "0oaclient"), ("nonce", "n")] {
        claims.insert(k.into(), v.into());
    }
    let mut lines = Vec::new();
    for alg in SigningAlg::ALL {
        let key = bed.keys.signing_key(alg).unwrap();
        let raw = per_op(|| drop(key.sign_raw(&message).unwrap()));
        let jwt = per_op(|| drop(key.sign_jwt("JWT", &claims).unwrap()));
        let client_id = format!("0oa{}", alg.as_str().to_lowercase());
        bed.add_client(&client_id, alg);
        let mut n = 0;
        let flow = per_op(|| {
            n += 1;
            bed.login(&client_id, &format!("n{n}"));
        });
        lines.push(format!(
            "{alg:>5}: raw signature {raw:7.1} µs | signed JWT {jwt:7.1} µs | code flow, RS256 access token + {alg} ID token {flow:7.1} µs"
        ));
    }
    let service = |bed: &Bed| {
        let p = bed.provider();
        per_op(|| {
            let request = FormRequest::new(
                [("grant_type", "client_credentials"), ("scope", "reports.read")],
                Some(&basic("0oasvc", "0oasvc-secret")),
            );
            drop(oidc::token::token(&p, &request).unwrap());
        })
    };
    bed.server.custom_scopes.push(oidc::server::ScopeDefinition { name: "reports.read".into(), description: String::new() });
    let mut svc = oidc::Client::web("0oasvc", vec![]);
    svc.grant_types = vec![oidc::GrantType::ClientCredentials];
    svc.allowed_scopes = Some(vec!["reports.read".into()]);
    bed.clients.0.lock().unwrap().insert("0oasvc".into(), (std::sync::Arc::new(svc), "0oasvc-secret".into()));
    for alg in [SigningAlg::Rs256, SigningAlg::Es256] {
        bed.server.access_token_alg = alg;
        lines.push(format!("client_credentials token with a {alg} access token: {:7.1} µs", service(&bed)));
    }
    println!("\ntoken issuance timings, {N} iterations each:");
    for l in lines {
        println!("  {l}");
    }
}
