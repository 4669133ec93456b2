//! The search index: built once per catalog snapshot, read without locks.
//!
//! Every distinct lowercase token of every entry is stored once, sorted, so an
//! exact match is a binary search and a prefix match is a contiguous range.
//! Typo tolerance uses a deletion index (the "symmetric delete" idea behind
//! SymSpell): two words within edit distance k share a string reachable from each
//! by at most k deletions, so the index maps hashes of every token's 1- and
//! 2-deletion variants to the tokens, and a query word only looks up its own
//! variants and verifies the few candidates with a bounded distance check.

use std::cell::RefCell;
use std::cmp::Reverse;

use serde::Serialize;

use crate::entry::AppEntry;
use crate::error::Error;
use crate::vocab::{Functionality, Industry, UseCase};

/// Page size when a query names none.
pub const DEFAULT_LIMIT: usize = 20;
/// The largest page a query may ask for.
pub const MAX_LIMIT: usize = 200;
/// Query words beyond this many are ignored, which bounds the work per query.
const MAX_QUERY_WORDS: usize = 8;
/// Longer query words are matched exactly or as prefixes only: the number of
/// deletion variants grows with the square of the length, and the text is hostile.
const MAX_TYPO_WORD: usize = 32;

/// What a match is worth, per query word. A name match always outranks a
/// description match, and within a field exact > prefix > typo.
const EXACT: u8 = 3;
const PREFIX: u8 = 2;
const TYPO: u8 = 1;
const NAME_BONUS: u8 = 3;
/// Added when the whole query is the entry's name or display name.
const WHOLE_NAME_BONUS: u16 = 100;

/// A search request. Every filter narrows the result (AND).
#[derive(Debug, Clone, Default)]
pub struct Query<'a> {
    /// Free text; empty lists every entry in name order.
    pub text: &'a str,
    pub use_case: Option<UseCase>,
    pub functionality: Option<Functionality>,
    pub industry: Option<Industry>,
    /// The `next_after` of the previous page.
    pub after: Option<&'a str>,
    /// Page size, `1..=MAX_LIMIT`; `None` means `DEFAULT_LIMIT`.
    pub limit: Option<usize>,
}

/// One page of results.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchPage<'c> {
    pub apps: Vec<&'c AppEntry>,
    /// Pass as `after` to get the next page; absent on the last page. It is the
    /// name of the last entry on this page, and callers should treat it as opaque.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<&'c str>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Masks {
    use_cases: u32,
    functionality: u32,
    industries: u32,
}

#[derive(Debug, Default)]
pub(crate) struct SearchIndex {
    /// Distinct tokens, sorted.
    tokens: Vec<Box<str>>,
    /// `postings[starts[t]..starts[t + 1]]` lists entries holding token t, each as
    /// `entry << 1 | in_description`.
    starts: Vec<u32>,
    postings: Vec<u32>,
    /// Deletion variants: sorted hashes and, in the same order, the token holding each.
    variant_hashes: Vec<u64>,
    variant_tokens: Vec<u32>,
    masks: Vec<Masks>,
    /// Each entry's name and display name reduced to lowercase letters and digits.
    compact_names: Vec<(Box<str>, Box<str>)>,
}

/// Splits text into lowercase alphanumeric words.
pub(crate) fn tokenize(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

fn compact(text: &str) -> String {
    tokenize(text).collect()
}

impl SearchIndex {
    /// Builds the index; `entries` must be sorted by name.
    pub(crate) fn build(entries: &[AppEntry]) -> SearchIndex {
        // (token, entry, in_description)
        let mut occurrences: Vec<(String, u32, bool)> = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let i = u32::try_from(i).expect("fewer than 2^31 entries");
            let mut name_words: Vec<String> = tokenize(&e.label).chain(tokenize(&e.name)).collect();
            let label_compact = compact(&e.label);
            if !label_compact.is_empty() {
                name_words.push(label_compact);
            }
            name_words.sort_unstable();
            name_words.dedup();
            let mut description_words: Vec<String> = tokenize(&e.description)
                .filter(|w| name_words.binary_search(w).is_err())
                .collect();
            description_words.sort_unstable();
            description_words.dedup();
            occurrences.extend(name_words.into_iter().map(|w| (w, i, false)));
            occurrences.extend(description_words.into_iter().map(|w| (w, i, true)));
        }
        occurrences.sort_unstable();

        let mut index = SearchIndex::default();
        for (word, entry, in_description) in occurrences {
            if index.tokens.last().map(|t| &**t) != Some(word.as_str()) {
                index.starts.push(len_u32(index.postings.len()));
                index.tokens.push(word.into_boxed_str());
            }
            index.postings.push(entry << 1 | u32::from(in_description));
        }
        index.starts.push(len_u32(index.postings.len()));

        let mut variants: Vec<(u64, u32)> = Vec::new();
        let mut scratch = Vec::new();
        for (t, token) in index.tokens.iter().enumerate() {
            let chars: Vec<char> = token.chars().collect();
            // A query word of length >= 4 may drop to a length-3 token with one
            // edit; one of length >= 8 to a length-6 token with two.
            let depth = match chars.len() {
                0..=2 => continue,
                3..=5 => 1,
                _ => 2,
            };
            scratch.clear();
            deletion_hashes(&chars, depth, &mut scratch);
            scratch.sort_unstable();
            scratch.dedup();
            variants.extend(scratch.iter().map(|&h| (h, len_u32(t))));
        }
        variants.sort_unstable();
        (index.variant_hashes, index.variant_tokens) = variants.into_iter().unzip();

        index.masks = entries
            .iter()
            .map(|e| Masks {
                use_cases: e.use_cases.iter().fold(0, |m, u| m | u.bit()),
                functionality: e.functionality.iter().fold(0, |m, f| m | f.bit()),
                industries: e.industries.iter().fold(0, |m, i| m | i.bit()),
            })
            .collect();
        index.compact_names = entries
            .iter()
            .map(|e| {
                (
                    compact(&e.name).into_boxed_str(),
                    compact(&e.label).into_boxed_str(),
                )
            })
            .collect();
        index
    }

    fn postings_of(&self, token: usize) -> &[u32] {
        &self.postings[self.starts[token] as usize..self.starts[token + 1] as usize]
    }

    /// Calls `found(token, tier)` for every token matching a query word.
    fn matching_tokens(
        &self,
        word: &str,
        candidates: &mut Vec<u32>,
        mut found: impl FnMut(usize, u8),
    ) {
        let first = self.tokens.partition_point(|t| &**t < word);
        let end = first + self.tokens[first..].partition_point(|t| t.starts_with(word));
        for t in first..end {
            found(
                t,
                if &*self.tokens[t] == word {
                    EXACT
                } else {
                    PREFIX
                },
            );
        }
        let chars: Vec<char> = word.chars().collect();
        let max_edits = match chars.len() {
            0..=3 => return,
            4..=7 => 1,
            8..=MAX_TYPO_WORD => 2,
            _ => return,
        };
        let mut hashes = Vec::new();
        deletion_hashes(&chars, max_edits, &mut hashes);
        candidates.clear();
        for h in hashes {
            let lo = self.variant_hashes.partition_point(|&x| x < h);
            let hi = lo + self.variant_hashes[lo..].partition_point(|&x| x == h);
            candidates.extend_from_slice(&self.variant_tokens[lo..hi]);
        }
        candidates.sort_unstable();
        candidates.dedup();
        for &t in candidates.iter() {
            let t = t as usize;
            if (first..end).contains(&t) {
                continue;
            }
            if within_distance(&chars, &self.tokens[t], max_edits) {
                found(t, TYPO);
            }
        }
    }
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).expect("index smaller than 4 GiB")
}

/// Hashes of `word` and of every string made by deleting up to `depth` characters.
fn deletion_hashes(word: &[char], depth: usize, out: &mut Vec<u64>) {
    out.push(hash_without(word, usize::MAX, usize::MAX));
    for i in 0..word.len() {
        out.push(hash_without(word, i, usize::MAX));
        if depth >= 2 {
            for j in i + 1..word.len() {
                out.push(hash_without(word, i, j));
            }
        }
    }
}

/// FNV-1a over the characters of `word` except positions `skip_a` and `skip_b`.
fn hash_without(word: &[char], skip_a: usize, skip_b: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, &c) in word.iter().enumerate() {
        if i != skip_a && i != skip_b {
            for b in u32::from(c).to_le_bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
    }
    h
}

/// Whether the optimal-string-alignment distance (Damerau-Levenshtein where a
/// transposition counts as one edit) between `a` and `b` is at most `k`.
fn within_distance(a: &[char], b: &str, k: usize) -> bool {
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > k {
        return false;
    }
    let width = b.len() + 1;
    let mut rows = vec![0usize; 3 * width];
    let (mut two_back, mut one_back, mut current) = (0, width, 2 * width);
    for (j, cell) in rows[one_back..one_back + width].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[current] = i;
        let mut row_min = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[one_back + j] + 1)
                .min(rows[current + j - 1] + 1)
                .min(rows[one_back + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[two_back + j - 2] + 1);
            }
            rows[current + j] = d;
            row_min = row_min.min(d);
        }
        if row_min > k {
            return false;
        }
        (two_back, one_back, current) = (one_back, current, two_back);
    }
    rows[one_back + b.len()] <= k
}

/// Per-thread buffers reused across queries, so a query allocates little.
#[derive(Default)]
struct Scratch {
    /// Per entry: the summed score so far and how many query words matched.
    score: Vec<u16>,
    words_matched: Vec<u8>,
    /// Per entry: the best tier for the current query word.
    best: Vec<u8>,
    touched_word: Vec<u32>,
    touched: Vec<u32>,
    candidates: Vec<u32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

pub(crate) fn search<'c>(
    entries: &'c [AppEntry],
    index: &SearchIndex,
    query: &Query,
) -> Result<SearchPage<'c>, Error> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(Error::InvalidLimit {
            limit,
            max: MAX_LIMIT,
        });
    }
    let passes = |i: usize| {
        let m = index.masks[i];
        query.use_case.is_none_or(|u| m.use_cases & u.bit() != 0)
            && query
                .functionality
                .is_none_or(|f| m.functionality & f.bit() != 0)
            && query.industry.is_none_or(|d| m.industries & d.bit() != 0)
    };
    let words: Vec<String> = tokenize(query.text).take(MAX_QUERY_WORDS).collect();

    if words.is_empty() {
        // Browse in name order; the cursor need not exist, so a page survives a
        // reload that removed its last entry.
        let start = match query.after {
            Some(after) => entries.partition_point(|e| e.name.as_str() <= after),
            None => 0,
        };
        let mut apps = Vec::with_capacity(limit);
        let mut more = false;
        for i in (start..entries.len()).filter(|&i| passes(i)) {
            if apps.len() == limit {
                more = true;
                break;
            }
            apps.push(&entries[i]);
        }
        let next_after = if more {
            apps.last().map(|e| e.name.as_str())
        } else {
            None
        };
        return Ok(SearchPage { apps, next_after });
    }

    let cursor = match query.after {
        Some(after) => Some(
            entries
                .binary_search_by(|e| e.name.as_str().cmp(after))
                .map_err(|_| Error::UnknownCursor {
                    after: after.to_owned(),
                })?,
        ),
        None => None,
    };

    SCRATCH.with(|cell| {
        let scratch = &mut *cell.borrow_mut();
        let n = entries.len();
        if scratch.score.len() < n {
            scratch.score.resize(n, 0);
            scratch.words_matched.resize(n, 0);
            scratch.best.resize(n, 0);
        }
        let Scratch {
            score,
            words_matched,
            best,
            touched_word,
            touched,
            candidates,
        } = scratch;
        // Normally a query leaves the buffers zeroed; this covers one that panicked.
        for &e in touched.iter().chain(touched_word.iter()) {
            let e = e as usize;
            if e < score.len() {
                (score[e], words_matched[e], best[e]) = (0, 0, 0);
            }
        }
        touched.clear();

        for (w, word) in words.iter().enumerate() {
            let w = u8::try_from(w).expect("few query words");
            touched_word.clear();
            index.matching_tokens(word, candidates, |token, tier| {
                for &p in index.postings_of(token) {
                    let entry = (p >> 1) as usize;
                    let value = if p & 1 == 0 { tier + NAME_BONUS } else { tier };
                    if best[entry] == 0 {
                        touched_word.push(p >> 1);
                    }
                    best[entry] = best[entry].max(value);
                }
            });
            for &e in touched_word.iter() {
                let e = e as usize;
                // An entry stays a candidate only if it matched every earlier word.
                if words_matched[e] == w {
                    if w == 0 {
                        touched.push(len_u32(e));
                    }
                    words_matched[e] += 1;
                    score[e] += u16::from(best[e]);
                }
                best[e] = 0;
            }
        }

        let whole = words.concat();
        let all = u8::try_from(words.len()).expect("few query words");
        let mut hits: Vec<(Reverse<u16>, u32)> = Vec::new();
        let mut cursor_key = None;
        for &e in touched.iter() {
            let i = e as usize;
            if words_matched[i] == all {
                let (name, label) = &index.compact_names[i];
                let bonus = if **name == *whole || **label == *whole {
                    WHOLE_NAME_BONUS
                } else {
                    0
                };
                let key = (Reverse(score[i] + bonus), e);
                if cursor == Some(i) {
                    cursor_key = Some(key);
                }
                if passes(i) {
                    hits.push(key);
                }
            }
            score[i] = 0;
            words_matched[i] = 0;
        }

        if let Some(after) = query.after {
            let Some(cursor_key) = cursor_key else {
                return Err(Error::UnknownCursor {
                    after: after.to_owned(),
                });
            };
            hits.retain(|k| *k > cursor_key);
        }
        let more = hits.len() > limit;
        if more {
            hits.select_nth_unstable(limit);
            hits.truncate(limit);
        }
        hits.sort_unstable();
        let apps: Vec<&AppEntry> = hits.iter().map(|&(_, e)| &entries[e as usize]).collect();
        let next_after = if more {
            apps.last().map(|e| e.name.as_str())
        } else {
            None
        };
        Ok(SearchPage { apps, next_after })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalog;

    /// (name, label, description, functionality, use cases, industries)
    type Row = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    );

    const ROWS: &[Row] = &[
        (
            "slack",
            "Slack",
            "Team messaging.",
            r#""SAML", "SCIM""#,
            r#""sso", "provisioning""#,
            "",
        ),
        (
            "slackbot_tools",
            "Slackbot Tools",
            "Bots for chat.",
            r#""SAML""#,
            r#""sso""#,
            "",
        ),
        (
            "chatter",
            "Chatter",
            "Team messaging like Slack.",
            r#""SAML""#,
            r#""sso""#,
            "",
        ),
        (
            "salesforce",
            "Salesforce",
            "CRM.",
            r#""SAML", "SCIM""#,
            r#""sso", "provisioning""#,
            "",
        ),
        (
            "salesforce_sandbox",
            "Salesforce Sandbox",
            "CRM (sandbox).",
            r#""SAML""#,
            r#""sso""#,
            "",
        ),
        (
            "zendesk",
            "Zendesk",
            "Customer support help desk.",
            r#""SAML""#,
            r#""sso""#,
            "",
        ),
        (
            "zoom",
            "Zoom",
            "Video meetings.",
            r#""SAML""#,
            r#""sso""#,
            "",
        ),
        (
            "zoom_for_government",
            "Zoom for Government",
            "Video meetings for government.",
            r#""SAML""#,
            r#""sso""#,
            r#""government""#,
        ),
        (
            "neogov",
            "NEOGOV",
            "Public-sector HR.",
            r#""SAML""#,
            r#""sso""#,
            r#""government""#,
        ),
        (
            "box",
            "Box",
            "Cloud file storage.",
            r#""SAML", "SCIM""#,
            r#""sso", "provisioning""#,
            "",
        ),
        (
            "dropbox",
            "Dropbox Business",
            "Cloud file storage.",
            r#""SAML""#,
            r#""sso""#,
            "",
        ),
        (
            "trousers",
            "Trousers",
            "Sells slacks.",
            r#""SAML""#,
            r#""sso""#,
            "",
        ),
    ];

    fn fixture() -> Catalog {
        let files: Vec<(String, String)> = ROWS
            .iter()
            .map(|(name, label, description, functionality, use_cases, industries)| {
                (
                    format!("{name}.toml"),
                    format!(
                        "name = \"{name}\"\nlabel = \"{label}\"\ndescription = \"{description}\"\n\
                         functionality = [{functionality}]\nuse_cases = [{use_cases}]\nindustries = [{industries}]\n"
                    ),
                )
            })
            .collect();
        Catalog::from_files(files).unwrap()
    }

    fn names(catalog: &Catalog, query: &Query) -> Vec<String> {
        let page = catalog.search(query).unwrap();
        page.apps.iter().map(|e| e.name().to_owned()).collect()
    }

    fn text(text: &str) -> Query<'_> {
        Query {
            text,
            ..Query::default()
        }
    }

    #[test]
    fn ranks_name_over_description_and_exact_over_prefix_over_typo() {
        let catalog = fixture();
        // (query, expected names in order)
        let cases: &[(&str, &[&str])] = &[
            // Whole-name match first; prefix of a name next; description match last.
            ("slack", &["slack", "slackbot_tools", "chatter", "trousers"]),
            ("Slack", &["slack", "slackbot_tools", "chatter", "trousers"]),
            ("sla", &["slack", "slackbot_tools", "chatter", "trousers"]),
            // Typos: distance 1 from 4 characters, 2 from 8.
            ("slakc", &["slack", "chatter"]),
            ("zendsek", &["zendesk"]),
            ("salesfroce", &["salesforce", "salesforce_sandbox"]),
            ("saelsfroce", &["salesforce", "salesforce_sandbox"]),
            // Too short for a typo.
            ("zom", &[]),
            ("zoo", &["zoom", "zoom_for_government"]),
            // Every word must match; the name match outranks the description match.
            ("zoom government", &["zoom_for_government"]),
            ("government", &["zoom_for_government"]),
            ("cloud storage", &["box", "dropbox"]),
            ("dropbox business", &["dropbox"]),
            ("video", &["zoom", "zoom_for_government"]),
            ("nothing-like-this", &[]),
        ];
        for (query, expected) in cases {
            assert_eq!(names(&catalog, &text(query)), *expected, "query {query:?}");
        }
    }

    #[test]
    fn exact_description_match_ranks_below_name_typo() {
        let catalog = fixture();
        // "slacks" is one edit from the name Slack, exact in the description of
        // Trousers, and one edit from "slack" in the description of Chatter.
        assert_eq!(
            names(&catalog, &text("slacks")),
            ["slack", "trousers", "chatter"]
        );
        assert_eq!(
            names(&catalog, &text("slack messaging")),
            ["slack", "chatter"]
        );
    }

    #[test]
    fn filters() {
        let catalog = fixture();
        let cases: &[(Query, &[&str])] = &[
            (
                Query {
                    functionality: Some(Functionality::Scim),
                    ..Query::default()
                },
                &["box", "salesforce", "slack"],
            ),
            (
                Query {
                    use_case: Some(UseCase::Provisioning),
                    text: "sales",
                    ..Query::default()
                },
                &["salesforce"],
            ),
            (
                Query {
                    industry: Some(Industry::Government),
                    ..Query::default()
                },
                &["neogov", "zoom_for_government"],
            ),
            (
                Query {
                    industry: Some(Industry::Government),
                    text: "zoom",
                    ..Query::default()
                },
                &["zoom_for_government"],
            ),
            (
                Query {
                    industry: Some(Industry::Healthcare),
                    ..Query::default()
                },
                &[],
            ),
            (
                Query {
                    functionality: Some(Functionality::Oidc),
                    text: "zoom",
                    ..Query::default()
                },
                &[],
            ),
        ];
        for (query, expected) in cases {
            assert_eq!(names(&catalog, query), *expected, "{query:?}");
        }
    }

    /// Walks every page and checks that the pages concatenate to the full result.
    fn walk(catalog: &Catalog, text: &str, limit: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let query = Query {
                text,
                limit: Some(limit),
                after: after.as_deref(),
                ..Query::default()
            };
            let page = catalog.search(&query).unwrap();
            assert!(page.apps.len() <= limit);
            out.extend(page.apps.iter().map(|e| e.name().to_owned()));
            match page.next_after {
                Some(next) => after = Some(next.to_owned()),
                None => return out,
            }
        }
    }

    #[test]
    fn paginates_with_a_cursor() {
        let catalog = fixture();
        for text in ["", "slack", "cloud", "s", "zoom"] {
            let all = names(
                &catalog,
                &Query {
                    text,
                    limit: Some(MAX_LIMIT),
                    ..Query::default()
                },
            );
            for limit in 1..=4 {
                assert_eq!(
                    walk(&catalog, text, limit),
                    all,
                    "text {text:?} limit {limit}"
                );
            }
        }
        // Browsing resumes after a name even if that entry is gone.
        let page = catalog
            .search(&Query {
                after: Some("slack0"),
                limit: Some(2),
                ..Query::default()
            })
            .unwrap();
        let got: Vec<&str> = page.apps.iter().map(|e| e.name()).collect();
        assert_eq!(got, ["slackbot_tools", "trousers"]);
        assert_eq!(page.next_after, Some("trousers"));
        // A ranked query needs a cursor from its own results.
        let bad = catalog.search(&Query {
            text: "slack",
            after: Some("zendesk"),
            ..Query::default()
        });
        assert!(matches!(bad, Err(Error::UnknownCursor { .. })));
        let bad = catalog.search(&Query {
            text: "slack",
            after: Some("gone"),
            ..Query::default()
        });
        assert!(matches!(bad, Err(Error::UnknownCursor { .. })));
        for limit in [0, MAX_LIMIT + 1] {
            let bad = catalog.search(&Query {
                limit: Some(limit),
                ..Query::default()
            });
            assert!(matches!(bad, Err(Error::InvalidLimit { .. })));
        }
    }

    #[test]
    fn long_queries_stay_cheap() {
        let catalog = fixture();
        let long = "slack".repeat(20_000);
        let started = std::time::Instant::now();
        assert!(names(&catalog, &text(&long)).is_empty());
        let many = "slack ".repeat(20_000);
        assert_eq!(names(&catalog, &text(&many))[0], "slack");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn serializes_a_page() {
        let catalog = fixture();
        let page = catalog
            .search(&Query {
                text: "zoom",
                limit: Some(1),
                ..Query::default()
            })
            .unwrap();
        let json = serde_json::to_value(&page).unwrap();
        assert_eq!(json["apps"][0]["name"], "zoom");
        assert_eq!(json["apps"][0]["displayName"], "Zoom");
        assert_eq!(json["nextAfter"], "zoom");
    }

    #[test]
    fn synthetic_catalogs_are_valid_and_deterministic() {
        let a = crate::synthetic(2000, 7);
        let b = crate::synthetic(2000, 7);
        assert_eq!(a.len(), 2000);
        let names_a: Vec<&str> = a.entries().iter().map(|e| e.name()).collect();
        let names_b: Vec<&str> = b.entries().iter().map(|e| e.name()).collect();
        assert_eq!(names_a, names_b);
        for e in a.entries() {
            e.render_saml(&e.sample_values()).unwrap();
        }
    }

    #[test]
    fn distance_is_bounded_damerau() {
        let cases: &[(&str, &str, usize, bool)] = &[
            ("slack", "slack", 0, true),
            ("slakc", "slack", 1, true),  // transposition
            ("slak", "slack", 1, true),   // deletion
            ("sllack", "slack", 1, true), // insertion
            ("slick", "slack", 1, true),  // substitution
            ("sclak", "slack", 1, false),
            ("salesfroce", "salesforce", 1, true),
            ("saelsfroce", "salesforce", 2, true),
            ("saelsfroce", "salesforce", 1, false),
            ("zendsek", "zendesk", 1, true),
            ("abcdefgh", "hgfedcba", 2, false),
        ];
        for &(a, b, k, want) in cases {
            let a: Vec<char> = a.chars().collect();
            assert_eq!(within_distance(&a, b, k), want, "{a:?} {b} {k}");
        }
    }

    #[test]
    fn deletion_variants_meet_for_every_single_edit() {
        let word: Vec<char> = "zendesk".chars().collect();
        let typo: Vec<char> = "zendsek".chars().collect();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        deletion_hashes(&word, 1, &mut a);
        deletion_hashes(&typo, 1, &mut b);
        assert!(a.iter().any(|h| b.contains(h)));
    }
}
