//! Loads the real catalog-data/apps directory and checks that every entry renders.

use std::path::PathBuf;

use catalog::{Catalog, Functionality, Query};

fn load() -> Catalog {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../catalog-data/apps");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("catalog-data/apps exists") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name = format!(
                "catalog-data/apps/{}",
                path.file_name().unwrap().to_string_lossy()
            );
            files.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    files.sort();
    match Catalog::from_files(files) {
        Ok(catalog) => catalog,
        Err(e) => panic!("catalog-data/apps is invalid:\n{e}"),
    }
}

#[test]
fn every_entry_is_valid_and_renders_with_its_samples() {
    let catalog = load();
    assert!(catalog.len() >= 300, "only {} entries", catalog.len());
    for entry in catalog.entries() {
        let values = entry.sample_values();
        entry.check_values(&values).unwrap();
        let saml = entry
            .render_saml(&values)
            .unwrap_or_else(|e| panic!("{}: {e}", entry.name()));
        if let Some(saml) = saml {
            for url in [&saml.acs_url, &saml.sign_on_url].into_iter().flatten() {
                let parsed = url::Url::parse(url).unwrap();
                assert_eq!(parsed.scheme(), "https", "{}: {url}", entry.name());
            }
        }
        // Every alternative renders too.
        let saml = entry.saml();
        for t in saml.iter().flat_map(|s| {
            s.acs_url_alternatives
                .iter()
                .chain(&s.sign_on_url_alternatives)
                .chain(&s.audience_alternatives)
        }) {
            t.render(entry.variables(), &values).unwrap();
        }
        assert!(entry.functionality().contains(&Functionality::Saml) || entry.saml().is_none());
    }
}

#[test]
fn well_known_apps_are_found() {
    let catalog = load();
    let first = |text: &str| {
        let page = catalog
            .search(&Query {
                text,
                ..Query::default()
            })
            .unwrap();
        page.apps.first().map(|e| e.name().to_owned())
    };
    assert_eq!(first("slack").as_deref(), Some("slack"));
    assert_eq!(first("salesforce").as_deref(), Some("salesforce"));
    assert_eq!(first("salesfroce").as_deref(), Some("salesforce"));
    assert_eq!(first("zendsk").as_deref(), Some("zendesk"));
    assert_eq!(first("servicen").as_deref(), Some("servicenow"));
    assert_eq!(first("zoom").as_deref(), Some("zoom"));
}

#[test]
fn slack_renders_for_a_tenant() {
    let catalog = load();
    let slack = catalog.get("slack").unwrap();
    let values = [("subdomain".to_string(), "acme".to_string())].into();
    let saml = slack.render_saml(&values).unwrap().unwrap();
    assert_eq!(
        saml.acs_url.as_deref(),
        Some("https://acme.slack.com/sso/saml")
    );
    assert_eq!(saml.audience.as_deref(), Some("https://slack.com"));
    let hostile = [("subdomain".to_string(), "evil.com/x?".to_string())].into();
    assert!(slack.render_saml(&hostile).is_err());
    let json = serde_json::to_value(slack).unwrap();
    assert_eq!(json["displayName"], "Slack");
    assert_eq!(json["functionality"], serde_json::json!(["SAML", "SCIM"]));
}
