//! Measures search latency on a synthetic catalog.
//!
//! `cargo run --release -p catalog --example search_latency -- [entries] [rounds]`

use std::time::{Duration, Instant};

use catalog::{Functionality, Query, UseCase};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(10_000, |a| a.parse().expect("entries"));
    let rounds: usize = args.next().map_or(200, |a| a.parse().expect("rounds"));

    let started = Instant::now();
    let catalog = catalog::synthetic(n, 42);
    println!("built {} entries in {:?}", catalog.len(), started.elapsed());

    // A mix of exact words, prefixes, typos, multi-word queries, filters and browsing.
    let sample: Vec<String> = catalog
        .entries()
        .iter()
        .step_by(97)
        .map(|e| e.name().to_owned())
        .collect();
    let mut queries: Vec<Query> = Vec::new();
    for name in &sample {
        let word = name.split('_').next().unwrap();
        let prefix = &word[..word.len().min(3)];
        queries.push(Query {
            text: word,
            ..Query::default()
        });
        queries.push(Query {
            text: prefix,
            ..Query::default()
        });
        queries.push(Query {
            text: prefix,
            use_case: Some(UseCase::Provisioning),
            ..Query::default()
        });
    }
    let typos: Vec<String> = sample
        .iter()
        .map(|n| {
            let mut c: Vec<char> = n.split('_').next().unwrap().chars().collect();
            if c.len() >= 4 {
                c.swap(1, 2);
            }
            c.into_iter().collect()
        })
        .collect();
    for t in &typos {
        queries.push(Query {
            text: t,
            ..Query::default()
        });
    }
    for text in [
        "s",
        "sa",
        "saml",
        "single sign-on",
        "expense management",
        "payrol",
        "integration",
        "securty",
        "video meetings",
        "clod file storage",
        "learning management system",
    ] {
        queries.push(Query {
            text,
            ..Query::default()
        });
        queries.push(Query {
            text,
            functionality: Some(Functionality::Scim),
            limit: Some(50),
            ..Query::default()
        });
    }
    queries.push(Query::default());

    let mut samples: Vec<Duration> = Vec::with_capacity(queries.len() * rounds);
    for _ in 0..rounds {
        for q in &queries {
            let t = Instant::now();
            let page = catalog.search(q).unwrap();
            samples.push(t.elapsed());
            std::hint::black_box(page);
        }
    }
    samples.sort_unstable();
    let at = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    println!(
        "{} searches over {} queries: p50 {:?}  p90 {:?}  p99 {:?}  max {:?}",
        samples.len(),
        queries.len(),
        at(0.50),
        at(0.90),
        at(0.99),
        samples[samples.len() - 1]
    );
}
