//! Catalog search latency against its target: p99 under 1 ms.
//!
//! Runs one fixed, seeded mix of the queries people type into the app-catalog
//! search box (name prefixes as they type, full names, one and two typos,
//! words from descriptions, filters, and the next page of a listing) against a
//! synthetic 10,000-entry catalog and against the real `catalog-data/apps`,
//! and prints the latency percentiles and p99 over the target.
//!
//! `cargo run --release -p bench --bin catalog_search`

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bench::{show, verdict, Percentiles};
use catalog::{Catalog, Functionality, Industry, Query, UseCase};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const SYNTHETIC_ENTRIES: usize = 10_000;
const SYNTHETIC_SEED: u64 = 42;
const QUERY_SEED: u64 = 7;
/// Distinct queries in the mix; each runs once per round.
const QUERIES: usize = 2_000;
const ROUNDS: usize = 10;
const TARGET_P99: Duration = Duration::from_millis(1);

/// What a user was doing when they sent the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// The first 1 to 6 letters of a word of an app's name, as typed.
    NamePrefix,
    /// An app's display name, whole.
    FullName,
    /// A name word (4 letters or more) with one typo.
    OneTypo,
    /// A word of 8 letters or more, from a name or description, with two typos.
    TwoTypos,
    /// One or two consecutive words from a description ("expense management").
    DescriptionWords,
    /// No text, one filter: browsing by functionality, use case or industry.
    FilterOnly,
    /// A prefix or word together with a filter.
    TextAndFilter,
    /// The second to sixth page of a listing, via `after`.
    NextPage,
}

impl Kind {
    /// The mix: each kind with its weight out of 100.
    const MIX: [(Kind, u32); 8] = [
        (Kind::NamePrefix, 20),
        (Kind::FullName, 15),
        (Kind::OneTypo, 15),
        (Kind::TwoTypos, 10),
        (Kind::DescriptionWords, 10),
        (Kind::FilterOnly, 10),
        (Kind::TextAndFilter, 10),
        (Kind::NextPage, 10),
    ];

    fn label(self) -> &'static str {
        match self {
            Kind::NamePrefix => "name prefix",
            Kind::FullName => "full name",
            Kind::OneTypo => "one typo",
            Kind::TwoTypos => "two typos",
            Kind::DescriptionWords => "description words",
            Kind::FilterOnly => "filter only",
            Kind::TextAndFilter => "text + filter",
            Kind::NextPage => "next page (after)",
        }
    }
}

/// An owned query, so the mix can be built once and run many times.
#[derive(Debug, Clone)]
struct Planned {
    kind: Kind,
    text: String,
    use_case: Option<UseCase>,
    functionality: Option<Functionality>,
    industry: Option<Industry>,
    after: Option<String>,
    limit: Option<usize>,
}

impl Planned {
    fn new(kind: Kind, text: impl Into<String>) -> Planned {
        Planned {
            kind,
            text: text.into(),
            use_case: None,
            functionality: None,
            industry: None,
            after: None,
            limit: None,
        }
    }

    fn query(&self) -> Query<'_> {
        Query {
            text: &self.text,
            use_case: self.use_case,
            functionality: self.functionality,
            industry: self.industry,
            after: self.after.as_deref(),
            limit: self.limit,
        }
    }
}

/// Words drawn from the catalog itself, so the queries fit whichever catalog is measured.
struct Vocabulary {
    labels: Vec<String>,
    /// Name words of 4 letters or more (typos are tolerated from 4).
    name_words: Vec<String>,
    /// Name and description words of 8 letters or more (two typos are tolerated from 8).
    long_words: Vec<String>,
    /// Each description as its lowercase words.
    descriptions: Vec<Vec<String>>,
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

impl Vocabulary {
    fn of(catalog: &Catalog) -> Vocabulary {
        let mut labels = Vec::new();
        let mut name_words = Vec::new();
        let mut long_words = Vec::new();
        let mut descriptions = Vec::new();
        for entry in catalog.entries() {
            labels.push(entry.label().to_owned());
            for word in words(entry.label()) {
                if word.chars().count() >= 8 {
                    long_words.push(word.clone());
                }
                if word.chars().count() >= 4 {
                    name_words.push(word);
                }
            }
            let description: Vec<String> = words(entry.description())
                .filter(|w| w.chars().count() >= 3)
                .collect();
            long_words.extend(
                description
                    .iter()
                    .filter(|w| w.chars().count() >= 8)
                    .cloned(),
            );
            descriptions.push(description);
        }
        // Deduplicate so that one common description word does not dominate the typo queries.
        long_words.sort_unstable();
        long_words.dedup();
        Vocabulary {
            labels,
            name_words,
            long_words,
            descriptions,
        }
    }
}

/// Makes one typo in `word`: a letter replaced, dropped, added, or two swapped.
fn typo(word: &str, rng: &mut StdRng) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    let at = rng.gen_range(0..chars.len());
    let letter = (b'a' + rng.gen_range(0..26u8)) as char;
    match rng.gen_range(0..4) {
        0 => {
            let mut replacement = letter;
            if replacement == chars[at] {
                replacement = if replacement == 'z' {
                    'a'
                } else {
                    (replacement as u8 + 1) as char
                };
            }
            chars[at] = replacement;
        }
        1 if chars.len() > 1 => {
            chars.remove(at);
        }
        2 => chars.insert(at, letter),
        _ if chars.len() > 1 => {
            let at = at.min(chars.len() - 2);
            chars.swap(at, at + 1);
        }
        _ => chars.push(letter),
    }
    chars.into_iter().collect()
}

fn pick<'a, T>(items: &'a [T], rng: &mut StdRng) -> &'a T {
    items.choose(rng).expect("the catalog has entries")
}

fn random_filter(planned: &mut Planned, rng: &mut StdRng) {
    match rng.gen_range(0..3) {
        0 => planned.functionality = Some(*pick(Functionality::ALL, rng)),
        1 => planned.use_case = Some(*pick(UseCase::ALL, rng)),
        _ => planned.industry = Some(*pick(Industry::ALL, rng)),
    }
}

/// Builds the fixed mix of `QUERIES` queries for `catalog`. The same catalog
/// and seed always give the same mix.
fn plan(catalog: &Catalog, seed: u64) -> Vec<Planned> {
    let vocab = Vocabulary::of(catalog);
    let mut rng = StdRng::seed_from_u64(seed);
    let total_weight: u32 = Kind::MIX.iter().map(|(_, w)| w).sum();
    let mut planned = Vec::with_capacity(QUERIES);
    while planned.len() < QUERIES {
        let mut roll = rng.gen_range(0..total_weight);
        let kind = Kind::MIX
            .iter()
            .find(|(_, w)| {
                if roll < *w {
                    true
                } else {
                    roll -= w;
                    false
                }
            })
            .map(|(k, _)| *k)
            .expect("the roll is below the total weight");
        let query = match kind {
            Kind::NamePrefix => {
                let label = pick(&vocab.labels, &mut rng);
                let word = words(label).next().unwrap_or_default();
                let typed = rng.gen_range(1..=word.chars().count().clamp(1, 6));
                Planned::new(kind, word.chars().take(typed).collect::<String>())
            }
            Kind::FullName => Planned::new(kind, pick(&vocab.labels, &mut rng).clone()),
            Kind::OneTypo => {
                let word = pick(&vocab.name_words, &mut rng).clone();
                Planned::new(kind, typo(&word, &mut rng))
            }
            Kind::TwoTypos => {
                let word = pick(&vocab.long_words, &mut rng).clone();
                let once = typo(&word, &mut rng);
                Planned::new(kind, typo(&once, &mut rng))
            }
            Kind::DescriptionWords => {
                let description = pick(&vocab.descriptions, &mut rng);
                if description.is_empty() {
                    continue;
                }
                let start = rng.gen_range(0..description.len());
                let end = (start + rng.gen_range(1..=2)).min(description.len());
                Planned::new(kind, description[start..end].join(" "))
            }
            Kind::FilterOnly => {
                let mut q = Planned::new(kind, "");
                random_filter(&mut q, &mut rng);
                q
            }
            Kind::TextAndFilter => {
                let label = pick(&vocab.labels, &mut rng);
                let word = words(label).next().unwrap_or_default();
                let text: String = if rng.gen_bool(0.5) {
                    word.chars().take(3).collect()
                } else {
                    word
                };
                let mut q = Planned::new(kind, text);
                random_filter(&mut q, &mut rng);
                q
            }
            Kind::NextPage => next_page(catalog, &vocab, &mut rng),
        };
        planned.push(query);
    }
    planned
}

/// A follow-up page: a listing (everything, a filter, or a broad word) paged
/// forward 1 to 5 times, then the query for the page after that.
fn next_page(catalog: &Catalog, vocab: &Vocabulary, rng: &mut StdRng) -> Planned {
    let mut q = Planned::new(Kind::NextPage, "");
    match rng.gen_range(0..3) {
        0 => {}
        1 => random_filter(&mut q, rng),
        _ => {
            // A broad word: the first word of a random description, such as a category.
            let description = pick(&vocab.descriptions, rng);
            q.text = description.first().cloned().unwrap_or_default();
        }
    }
    q.limit = *pick(&[None, None, Some(50)], rng);
    for _ in 0..rng.gen_range(1..=5) {
        let page = catalog.search(&q.query()).expect("a valid query");
        match page.next_after {
            Some(after) => q.after = Some(after.to_owned()),
            None => break,
        }
    }
    q
}

struct Report {
    overall: Percentiles,
    by_kind: BTreeMap<Kind, (Percentiles, usize, usize)>,
}

/// Runs the mix once unrecorded (to warm caches), then `ROUNDS` times in a
/// shuffled order, timing each search.
fn run(catalog: &Catalog, planned: &[Planned], seed: u64) -> Report {
    let mut found: BTreeMap<Kind, (usize, usize)> = BTreeMap::new();
    for q in planned {
        let page = catalog.search(&q.query()).expect("a valid query");
        let counts = found.entry(q.kind).or_default();
        counts.0 += usize::from(!page.apps.is_empty());
        counts.1 += 1;
    }

    let mut rng = StdRng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..planned.len()).collect();
    let mut all = Vec::with_capacity(planned.len() * ROUNDS);
    let mut by_kind: BTreeMap<Kind, Vec<Duration>> = BTreeMap::new();
    for _ in 0..ROUNDS {
        order.shuffle(&mut rng);
        for &i in &order {
            let query = planned[i].query();
            let start = Instant::now();
            let page = catalog.search(&query);
            let elapsed = start.elapsed();
            std::hint::black_box(page.expect("a valid query"));
            all.push(elapsed);
            by_kind.entry(planned[i].kind).or_default().push(elapsed);
        }
    }
    Report {
        overall: Percentiles::of(&mut all),
        by_kind: by_kind
            .into_iter()
            .map(|(kind, mut samples)| {
                let (hits, total) = found[&kind];
                (kind, (Percentiles::of(&mut samples), hits, total))
            })
            .collect(),
    }
}

fn print(title: &str, catalog: &Catalog, report: &Report) {
    println!("{title}: {} entries", catalog.len());
    println!(
        "  {} searches: {} distinct queries x {ROUNDS} shuffled rounds, after one warm-up round",
        report.overall.count, QUERIES
    );
    println!("  all:                 {}", report.overall);
    for (kind, (p, hits, total)) in &report.by_kind {
        println!(
            "  {:<20} p50 {:>9}  p99 {:>9}  max {:>9}  ({:>4} queries, {:>3}% with results)",
            format!("{}:", kind.label()),
            show(p.p50),
            show(p.p99),
            show(p.max),
            total,
            hits * 100 / total
        );
    }
    let ratio = report.overall.p99.as_secs_f64() / TARGET_P99.as_secs_f64();
    println!("  p99 / 1 ms target = {ratio:.3}  {}", verdict(ratio));
}

fn real_catalog_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog-data/apps")
}

fn load_real_catalog(dir: &Path) -> Catalog {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            files.push((path.display().to_string(), text));
        }
    }
    Catalog::from_files(files).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

fn main() {
    println!("catalog_search: per-query wall-clock latency of Catalog::search, target p99 < 1 ms");
    println!("(on a shared machine the tail includes time the thread was preempted)");
    println!();

    let started = Instant::now();
    let synthetic = catalog::synthetic(SYNTHETIC_ENTRIES, SYNTHETIC_SEED);
    let built = started.elapsed();
    let planned = plan(&synthetic, QUERY_SEED);
    let report = run(&synthetic, &planned, QUERY_SEED);
    print(
        &format!(
            "synthetic catalog (seed {SYNTHETIC_SEED}, built in {})",
            show(built)
        ),
        &synthetic,
        &report,
    );
    println!();

    let dir = real_catalog_dir();
    let started = Instant::now();
    let real = load_real_catalog(&dir);
    let built = started.elapsed();
    let planned = plan(&real, QUERY_SEED);
    let report = run(&real, &planned, QUERY_SEED);
    print(
        &format!("catalog-data/apps (parsed and indexed in {})", show(built)),
        &real,
        &report,
    );
}
