//! A generated catalog of any size, for benchmarks and load tests.

use crate::entry::{AppEntry, SamlTemplate, UNSPECIFIED_NAME_ID_FORMAT};
use crate::template::{compile_pattern, Template, Variable};
use crate::vocab::{Functionality, Industry, UseCase};
use crate::Catalog;

const SYLLABLES: &[&str] = &[
    "ac", "al", "an", "ar", "ba", "be", "bo", "ca", "ce", "co", "da", "de", "do", "el", "en", "fa",
    "fi", "ga", "go", "ha", "he", "in", "ja", "ka", "ki", "la", "le", "lo", "lu", "ma", "me", "mi",
    "mo", "na", "ne", "no", "or", "pa", "pe", "pi", "qu", "ra", "re", "ri", "ro", "sa", "se", "si",
    "so", "ta", "te", "ti", "to", "tu", "va", "ve", "vi", "xa", "yo", "za", "ze", "zo",
];
const PRODUCTS: &[&str] = &[
    "Cloud",
    "HR",
    "Analytics",
    "Desk",
    "Mail",
    "Docs",
    "Pay",
    "CRM",
    "Chat",
    "Learn",
    "Sign",
    "Security",
    "Monitor",
    "Travel",
    "Expense",
    "Drive",
    "Meet",
    "Forms",
    "Wiki",
    "Git",
];
const KINDS: &[&str] = &[
    "Team messaging",
    "Video meetings",
    "Expense management",
    "Applicant tracking",
    "Customer support help desk",
    "Error monitoring",
    "Payroll and HR",
    "Learning management system",
    "Cloud file storage",
    "Business intelligence",
    "Endpoint security",
    "Work management",
    "Electronic signatures",
    "Password management",
    "Log analytics",
    "Contract management",
];

/// A small deterministic generator (SplitMix64), so the same seed gives the same catalog.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A catalog of `n` made-up, valid entries with realistic names, descriptions and
/// SAML templates. The same `(n, seed)` always gives the same catalog.
pub fn synthetic(n: usize, seed: u64) -> Catalog {
    let mut rng = SplitMix(seed);
    let pattern = "^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$";
    let regex = compile_pattern(pattern).expect("the subdomain pattern compiles");
    let mut seen = std::collections::HashSet::new();
    let mut entries = Vec::with_capacity(n);
    while entries.len() < n {
        let syllables = 2 + rng.next() % 3;
        let mut word: String = (0..syllables).map(|_| rng.pick(SYLLABLES)).collect();
        if !seen.insert(word.clone()) {
            word.push_str(&entries.len().to_string());
            seen.insert(word.clone());
        }
        let brand = format!("{}{}", word[..1].to_uppercase(), &word[1..]);
        let label = if rng.chance(40) {
            format!("{brand} {}", rng.pick(PRODUCTS))
        } else {
            brand
        };
        let name = label.to_lowercase().replace(' ', "_");
        let scim = rng.chance(30);
        let jit = rng.chance(40);
        let mut functionality = vec![Functionality::Saml];
        let mut use_cases = vec![UseCase::Sso];
        if scim {
            functionality.push(Functionality::Scim);
            use_cases.push(UseCase::Provisioning);
        }
        if jit {
            use_cases.push(UseCase::JitProvisioning);
        }
        let industries = if rng.chance(5) {
            vec![Industry::ALL[(rng.next() % Industry::ALL.len() as u64) as usize]]
        } else {
            Vec::new()
        };
        let description = format!(
            "{}. {label} integration: SAML 2.0 single sign-on{}{}.",
            rng.pick(KINDS),
            if jit {
                ", just-in-time user creation"
            } else {
                ""
            },
            if scim {
                ", automated user provisioning"
            } else {
                ""
            },
        );
        let host = format!("{word}.example");
        let template = |t: String| Template::parse(&t).expect("synthetic templates parse");
        entries.push(AppEntry {
            name,
            label,
            description,
            use_cases,
            functionality,
            industries,
            variables: vec![Variable {
                name: "subdomain".into(),
                label: "Subdomain".into(),
                pattern: pattern.into(),
                sample: "acme".into(),
                regex: regex.clone(),
            }],
            saml: Some(SamlTemplate {
                acs_url: Some(template(format!("https://{{subdomain}}.{host}/saml/acs"))),
                audience: Some(template(format!("https://{host}/saml/{{subdomain}}"))),
                sign_on_url: Some(template(format!("https://{{subdomain}}.{host}/login"))),
                name_id_format: UNSPECIFIED_NAME_ID_FORMAT.into(),
                sp_initiated: true,
                idp_initiated: rng.chance(50),
                ..SamlTemplate::default()
            }),
            oidc: None,
            swa: None,
            scim: None,
            bookmark: None,
            source: None,
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    entries.dedup_by(|a, b| a.name == b.name);
    Catalog::from_entries(entries)
}
