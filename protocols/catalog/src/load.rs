//! Turns (file name, TOML text) pairs into validated entries.
//!
//! The file format is walked by hand rather than derived with serde so that every
//! problem can name its field (`saml.acs_url_alternatives[1]`), unknown keys are
//! reported instead of ignored, and all problems in all files are collected.

use std::collections::{BTreeSet, HashMap};

use regex_automata::meta::Regex;
use toml::{Table, Value};

use crate::entry::{
    AppEntry, AttributeStatement, BookmarkTemplate, OidcTemplate, SamlTemplate, ScimTemplate,
    Source, SwaTemplate, NAME_ID_FORMATS, UNSPECIFIED_NAME_ID_FORMAT,
};
use crate::error::{FieldError, Problem};
use crate::template::{
    check_shape, compile_pattern, is_safe_value, is_variable_name, Template, Variable,
};
use crate::vocab::{Functionality, Industry, ScimOperation, UseCase};

/// Collects problems for one file.
pub(crate) struct Report<'a> {
    file: &'a str,
    pub(crate) errors: &'a mut Vec<FieldError>,
}

impl Report<'_> {
    fn add(&mut self, field: impl Into<String>, problem: Problem) {
        self.errors.push(FieldError {
            file: self.file.to_owned(),
            field: field.into(),
            problem,
        });
    }
}

/// Compiled patterns shared across entries: most entries use the same few rules.
pub(crate) type PatternCache = HashMap<String, Regex>;

/// A TOML table being read, with the keys consumed so far.
struct Fields<'t> {
    table: &'t Table,
    prefix: String,
    used: BTreeSet<&'t str>,
}

impl<'t> Fields<'t> {
    fn new(table: &'t Table, prefix: &str) -> Self {
        Fields {
            table,
            prefix: prefix.to_owned(),
            used: BTreeSet::new(),
        }
    }

    fn path(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    fn get(&mut self, key: &'t str) -> Option<&'t Value> {
        self.used.insert(key);
        self.table.get(key)
    }

    fn string(&mut self, r: &mut Report, key: &'t str, required: bool) -> Option<String> {
        match self.get(key) {
            None if required => {
                r.add(self.path(key), Problem::Missing);
                None
            }
            None => None,
            Some(Value::String(s)) if s.trim().is_empty() => {
                r.add(self.path(key), Problem::Empty);
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                r.add(self.path(key), Problem::WrongType("a string"));
                None
            }
        }
    }

    fn boolean(&mut self, r: &mut Report, key: &'t str) -> bool {
        match self.get(key) {
            None => false,
            Some(Value::Boolean(b)) => *b,
            Some(_) => {
                r.add(self.path(key), Problem::WrongType("true or false"));
                false
            }
        }
    }

    /// A list of strings; each element is reported with its index.
    fn strings(&mut self, r: &mut Report, key: &'t str, required: bool) -> Vec<(String, String)> {
        match self.get(key) {
            None => {
                if required {
                    r.add(self.path(key), Problem::Missing);
                }
                Vec::new()
            }
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let path = format!("{}[{i}]", self.path(key));
                    match item {
                        Value::String(s) if s.trim().is_empty() => r.add(path, Problem::Empty),
                        Value::String(s) => out.push((path, s.clone())),
                        _ => r.add(path, Problem::WrongType("a string")),
                    }
                }
                out
            }
            Some(_) => {
                r.add(self.path(key), Problem::WrongType("a list of strings"));
                Vec::new()
            }
        }
    }

    fn table(&mut self, r: &mut Report, key: &'t str) -> Option<Fields<'t>> {
        match self.get(key) {
            None => None,
            Some(Value::Table(t)) => Some(Fields::new(t, &self.path(key))),
            Some(_) => {
                r.add(self.path(key), Problem::WrongType("a table"));
                None
            }
        }
    }

    fn tables(&mut self, r: &mut Report, key: &'t str) -> Vec<Fields<'t>> {
        match self.get(key) {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let path = format!("{}[{i}]", self.path(key));
                    match item {
                        Value::Table(t) => out.push(Fields::new(t, &path)),
                        _ => r.add(path, Problem::WrongType("a table")),
                    }
                }
                out
            }
            Some(_) => {
                r.add(self.path(key), Problem::WrongType("an array of tables"));
                Vec::new()
            }
        }
    }

    /// Reports keys nobody asked for: a misspelt key would otherwise vanish silently.
    fn finish(self, r: &mut Report) {
        for key in self.table.keys() {
            if !self.used.contains(key.as_str()) {
                r.add(self.path(key), Problem::UnknownField);
            }
        }
    }
}

fn template(r: &mut Report, field: String, text: Option<String>) -> Option<Template> {
    let text = text?;
    match Template::parse(&text) {
        Ok(t) => Some(t),
        Err(problem) => {
            r.add(field, problem);
            None
        }
    }
}

fn templates(r: &mut Report, items: Vec<(String, String)>) -> Vec<Template> {
    items
        .into_iter()
        .filter_map(|(field, text)| template(r, field, Some(text)))
        .collect()
}

/// Parses a fixed-vocabulary list, reporting unknown and repeated values.
fn vocabulary<T: Copy + PartialEq>(
    r: &mut Report,
    items: Vec<(String, String)>,
    parse: fn(&str) -> Option<T>,
    expected: fn() -> String,
) -> Vec<T> {
    let mut out = Vec::new();
    for (field, text) in items {
        match parse(&text) {
            Some(v) if out.contains(&v) => r.add(field, Problem::Duplicate(text)),
            Some(v) => out.push(v),
            None => r.add(
                field,
                Problem::UnknownValue {
                    value: text,
                    expected: expected(),
                },
            ),
        }
    }
    out
}

fn is_entry_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
}

/// The entry name a file must hold: its base name without `.toml`.
fn expected_name(file: &str) -> Option<&str> {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    base.strip_suffix(".toml")
}

pub(crate) fn parse_entry(
    file: &str,
    contents: &str,
    patterns: &mut PatternCache,
    errors: &mut Vec<FieldError>,
) -> Option<AppEntry> {
    let before = errors.len();
    let mut r = Report { file, errors };
    let table: Table = match contents.parse() {
        Ok(t) => t,
        Err(e) => {
            let message = e.to_string().lines().last().unwrap_or_default().to_owned();
            let at = e
                .span()
                .map(|s| {
                    let line = contents[..s.start.min(contents.len())]
                        .matches('\n')
                        .count()
                        + 1;
                    format!("line {line}: {message}")
                })
                .unwrap_or(message);
            r.add("(file)", Problem::Syntax(at));
            return None;
        }
    };
    let mut top = Fields::new(&table, "");

    let name = top.string(&mut r, "name", true);
    if let Some(name) = &name {
        if !is_entry_name(name) {
            r.add(
                "name",
                Problem::Malformed("must match [a-z0-9][a-z0-9_]{0,63}".into()),
            );
        } else {
            match expected_name(file) {
                Some(expected) if expected == name => {}
                Some(expected) => r.add(
                    "name",
                    Problem::NameMismatch {
                        name: name.clone(),
                        expected: expected.to_owned(),
                    },
                ),
                None => r.add(
                    "(file)",
                    Problem::Malformed("catalog files end in .toml".into()),
                ),
            }
        }
    }
    let label = top.string(&mut r, "label", true);
    let description = top.string(&mut r, "description", true);
    let items = top.strings(&mut r, "use_cases", true);
    let use_cases = vocabulary(&mut r, items, UseCase::parse, UseCase::expected);
    let items = top.strings(&mut r, "functionality", true);
    if items.is_empty() && top.table.contains_key("functionality") {
        r.add("functionality", Problem::Empty);
    }
    let functionality = vocabulary(&mut r, items, Functionality::parse, Functionality::expected);
    let items = top.strings(&mut r, "industries", false);
    let industries = vocabulary(&mut r, items, Industry::parse, Industry::expected);

    let mut variables = Vec::new();
    for mut v in top.tables(&mut r, "variables") {
        let var_name = v.string(&mut r, "name", true);
        let var_label = v.string(&mut r, "label", true);
        let pattern = v.string(&mut r, "pattern", true);
        let sample = v.string(&mut r, "sample", true);
        let prefix = v.prefix.clone();
        v.finish(&mut r);
        let (Some(var_name), Some(var_label), Some(pattern), Some(sample)) =
            (var_name, var_label, pattern, sample)
        else {
            continue;
        };
        if !is_variable_name(&var_name) {
            r.add(
                format!("{prefix}.name"),
                Problem::Malformed("must match [a-z][a-z0-9_]*".into()),
            );
            continue;
        }
        if variables.iter().any(|x: &Variable| x.name == var_name) {
            r.add(format!("{prefix}.name"), Problem::Duplicate(var_name));
            continue;
        }
        let regex = match patterns.get(&pattern) {
            Some(regex) => regex.clone(),
            None => match compile_pattern(&pattern) {
                Ok(regex) => {
                    patterns.insert(pattern.clone(), regex.clone());
                    regex
                }
                Err(problem) => {
                    r.add(format!("{prefix}.pattern"), problem);
                    continue;
                }
            },
        };
        if !is_safe_value(&sample) {
            r.add(format!("{prefix}.sample"), Problem::UnsafeValue(sample));
            continue;
        }
        let variable = Variable {
            name: var_name,
            label: var_label,
            pattern,
            sample,
            regex,
        };
        if !variable.accepts(&variable.sample) {
            r.add(
                format!("{prefix}.sample"),
                Problem::SampleMismatch {
                    sample: variable.sample,
                },
            );
            continue;
        }
        variables.push(variable);
    }

    let saml = top.table(&mut r, "saml").map(|s| saml_section(&mut r, s));
    let oidc = top.table(&mut r, "oidc").map(|mut s| {
        let items = s.strings(&mut r, "redirect_uris", true);
        let redirect_uris = templates(&mut r, items);
        let items = s.strings(&mut r, "post_logout_redirect_uris", false);
        let post_logout_redirect_uris = templates(&mut r, items);
        let text = s.string(&mut r, "initiate_login_uri", false);
        let initiate_login_uri = template(&mut r, s.path("initiate_login_uri"), text);
        if redirect_uris.is_empty() && s.table.contains_key("redirect_uris") {
            r.add(s.path("redirect_uris"), Problem::Empty);
        }
        s.finish(&mut r);
        OidcTemplate {
            redirect_uris,
            post_logout_redirect_uris,
            initiate_login_uri,
        }
    });
    let swa = top.table(&mut r, "swa").and_then(|mut s| {
        let text = s.string(&mut r, "login_url", true);
        let login_url = template(&mut r, s.path("login_url"), text);
        let username_field = s.string(&mut r, "username_field", true);
        let password_field = s.string(&mut r, "password_field", true);
        s.finish(&mut r);
        Some(SwaTemplate {
            login_url: login_url?,
            username_field: username_field?,
            password_field: password_field?,
        })
    });
    let scim = top.table(&mut r, "scim").and_then(|mut s| {
        let text = s.string(&mut r, "base_url", true);
        let base_url = template(&mut r, s.path("base_url"), text);
        let items = s.strings(&mut r, "operations", true);
        let operations = vocabulary(&mut r, items, ScimOperation::parse, ScimOperation::expected);
        s.finish(&mut r);
        Some(ScimTemplate {
            base_url: base_url?,
            operations,
        })
    });
    let bookmark = top.table(&mut r, "bookmark").and_then(|mut s| {
        let text = s.string(&mut r, "url", true);
        let url = template(&mut r, s.path("url"), text);
        s.finish(&mut r);
        Some(BookmarkTemplate { url: url? })
    });
    let source = top.table(&mut r, "source").map(|mut s| {
        let source = Source {
            slug: s.string(&mut r, "slug", false),
            file: s.string(&mut r, "file", false),
            commit: s.string(&mut r, "commit", false),
            flags: s
                .strings(&mut r, "flags", false)
                .into_iter()
                .map(|(_, v)| v)
                .collect(),
            notes: s
                .strings(&mut r, "notes", false)
                .into_iter()
                .map(|(_, v)| v)
                .collect(),
        };
        s.finish(&mut r);
        source
    });
    top.finish(&mut r);

    let entry = AppEntry {
        name: name?,
        label: label?,
        description: description?,
        use_cases,
        functionality,
        industries,
        variables,
        saml,
        oidc,
        swa,
        scim,
        bookmark,
        source,
    };
    check_sections(&mut r, &entry);
    check_templates(&mut r, &entry);
    (r.errors.len() == before).then_some(entry)
}

fn saml_section(r: &mut Report, mut s: Fields) -> SamlTemplate {
    let one = |s: &mut Fields, r: &mut Report, key| {
        let text = s.string(r, key, false);
        template(r, s.path(key), text)
    };
    let acs_url = one(&mut s, r, "acs_url");
    let audience = one(&mut s, r, "audience");
    let sign_on_url = one(&mut s, r, "sign_on_url");
    let default_relay_state = one(&mut s, r, "default_relay_state");
    let items = s.strings(r, "acs_url_alternatives", false);
    let acs_url_alternatives = templates(r, items);
    let items = s.strings(r, "audience_alternatives", false);
    let audience_alternatives = templates(r, items);
    let items = s.strings(r, "sign_on_url_alternatives", false);
    let sign_on_url_alternatives = templates(r, items);
    let name_id_format = match s.string(r, "name_id_format", false) {
        None => UNSPECIFIED_NAME_ID_FORMAT.to_owned(),
        Some(f) if NAME_ID_FORMATS.contains(&f.as_str()) => f,
        Some(f) => {
            r.add(
                s.path("name_id_format"),
                Problem::UnknownValue {
                    value: f,
                    expected: NAME_ID_FORMATS.join(", "),
                },
            );
            UNSPECIFIED_NAME_ID_FORMAT.to_owned()
        }
    };
    let sp_initiated = s.boolean(r, "sp_initiated");
    let idp_initiated = s.boolean(r, "idp_initiated");
    let mut attribute_statements: Vec<AttributeStatement> = Vec::new();
    for mut a in s.tables(r, "attribute_statements") {
        let name = a.string(r, "name", true);
        let value = a.string(r, "value", false);
        let path = a.path("name");
        a.finish(r);
        if let Some(name) = name {
            if attribute_statements.iter().any(|x| x.name == name) {
                r.add(path, Problem::Duplicate(name));
            } else {
                attribute_statements.push(AttributeStatement { name, value });
            }
        }
    }
    s.finish(r);
    SamlTemplate {
        acs_url,
        acs_url_alternatives,
        audience,
        audience_alternatives,
        sign_on_url,
        sign_on_url_alternatives,
        default_relay_state,
        name_id_format,
        sp_initiated,
        idp_initiated,
        attribute_statements,
    }
}

/// A protocol section needs its functionality listed, and SWA and BOOKMARK need
/// their section: without a login form or a link they do nothing. SAML, OIDC and
/// SCIM may lack templates when the source documents the protocol but not the URLs.
fn check_sections(r: &mut Report, e: &AppEntry) {
    let has = |f| e.functionality.contains(&f);
    let sections: [(bool, Functionality, &'static str); 5] = [
        (e.saml.is_some(), Functionality::Saml, "saml"),
        (e.oidc.is_some(), Functionality::Oidc, "oidc"),
        (e.swa.is_some(), Functionality::Swa, "swa"),
        (e.scim.is_some(), Functionality::Scim, "scim"),
        (e.bookmark.is_some(), Functionality::Bookmark, "bookmark"),
    ];
    for (present, functionality, section) in sections {
        if present && !has(functionality) {
            r.add(
                section,
                Problem::SectionWithoutFunctionality(functionality.as_str()),
            );
        }
        let required = matches!(functionality, Functionality::Swa | Functionality::Bookmark);
        if required && !present && has(functionality) {
            r.add(
                "functionality",
                Problem::FunctionalityWithoutSection(functionality.as_str(), section),
            );
        }
    }
}

/// Every template refers only to declared variables, every variable is used, and
/// every template renders with the sample values to something of the right shape.
fn check_templates(r: &mut Report, e: &AppEntry) {
    let templates = e.templates();
    let mut used = BTreeSet::new();
    let mut complete = true;
    for (field, template, _) in &templates {
        for name in template.variables() {
            if e.variables.iter().any(|v| v.name == name) {
                used.insert(name);
            } else {
                r.add(field.clone(), Problem::UnknownVariable(name.to_owned()));
                complete = false;
            }
        }
    }
    for (i, v) in e.variables.iter().enumerate() {
        if !used.contains(v.name.as_str()) {
            r.add(
                format!("variables[{i}].name"),
                Problem::UnusedVariable(v.name.clone()),
            );
        }
    }
    if !complete {
        return;
    }
    let samples = e.sample_values();
    for (field, template, shape) in &templates {
        match template.render(&e.variables, &samples) {
            Ok(rendered) => {
                if let Err(problem) = check_shape(*shape, &rendered) {
                    r.add(field.clone(), problem);
                }
            }
            Err(err) => r.add(field.clone(), Problem::Malformed(err.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Catalog, Error};

    const GOOD: &str = r#"
name = "acme"
label = "Acme"
description = "Acme integration: SAML 2.0 single sign-on."
use_cases = ["sso"]
functionality = ["SAML"]

[[variables]]
name = "subdomain"
label = "Subdomain"
pattern = "^[a-z0-9-]+$"
sample = "tenant"

[saml]
acs_url = "https://{subdomain}.acme.com/saml/acs"
audience = "https://acme.com"
"#;

    fn errors_of(file: &str, contents: &str) -> Vec<String> {
        match Catalog::from_files([(file, contents)]) {
            Ok(_) => Vec::new(),
            Err(Error::Invalid(errors)) => errors.iter().map(ToString::to_string).collect(),
            Err(other) => panic!("unexpected error {other}"),
        }
    }

    #[test]
    fn accepts_a_good_entry() {
        assert_eq!(errors_of("apps/acme.toml", GOOD), Vec::<String>::new());
    }

    /// Each case edits the good entry and names the first error it must produce.
    #[test]
    fn reports_file_and_field() {
        let cases: &[(&str, &str, &str)] = &[
            ("{subdomain}.acme.com/saml/acs", "{tenant}.acme.com/saml/acs",
             "apps/acme.toml: saml.acs_url: unknown variable {tenant}"),
            ("audience = \"https://acme.com\"", "audience = \"https://acme.com\"\nacs_urls = \"x\"",
             "apps/acme.toml: saml.acs_urls: unknown field"),
            ("name = \"acme\"", "name = \"other\"",
             "apps/acme.toml: name: \"other\" does not match the file name \"acme\""),
            ("[\"sso\"]", "[\"sso\", \"sso\"]", "apps/acme.toml: use_cases[1]: duplicate value \"sso\""),
            ("[\"SAML\"]", "[\"SAML\", \"SAML2\"]",
             "apps/acme.toml: functionality[1]: unknown value \"SAML2\", expected one of SAML, OIDC, WS_FEDERATION, SWA, SCIM, BOOKMARK"),
            ("https://{subdomain}.acme.com/saml/acs", "http://{subdomain}.acme.com/saml/acs",
             "apps/acme.toml: saml.acs_url: must use https"),
            ("https://{subdomain}.acme.com/saml/acs", "{subdomain}.acme.com/saml/acs",
             "apps/acme.toml: saml.acs_url: not an absolute URL (relative URL without a base)"),
            ("https://{subdomain}.acme.com/saml/acs", "https://{subdomain.acme.com",
             "apps/acme.toml: saml.acs_url: invalid template: unclosed '{' at byte 8"),
            ("https://{subdomain}.acme.com/saml/acs", "https://{Sub}.acme.com",
             "apps/acme.toml: saml.acs_url: invalid template: {Sub} is not a variable name (use {{ for a literal brace)"),
            ("sample = \"tenant\"", "sample = \"Tenant\"",
             "apps/acme.toml: variables[0].sample: sample \"Tenant\" does not match the pattern"),
            ("sample = \"tenant\"", "sample = \"a/b\"",
             "apps/acme.toml: variables[0].sample: \"a/b\" may only contain letters, digits and . _ ~ : -"),
            ("pattern = \"^[a-z0-9-]+$\"", "pattern = \"^[a-z\"",
             "apps/acme.toml: variables[0].pattern: invalid pattern"),
            ("label = \"Acme\"\n", "", "apps/acme.toml: label: missing"),
            ("label = \"Acme\"", "label = 3", "apps/acme.toml: label: expected a string"),
            ("label = \"Acme\"", "label = \"  \"", "apps/acme.toml: label: must not be empty"),
            ("acs_url = \"https://{subdomain}.acme.com/saml/acs\"\n", "",
             "apps/acme.toml: variables[0].name: variable \"subdomain\" is not used by any template"),
            ("functionality = [\"SAML\"]", "functionality = [\"SCIM\"]",
             "apps/acme.toml: saml: section requires \"SAML\" in functionality"),
            ("functionality = [\"SAML\"]", "functionality = [\"SAML\", \"SWA\"]",
             "apps/acme.toml: functionality: functionality \"SWA\" requires a [swa] section"),
            ("audience = \"https://acme.com\"", "audience = \"acme com\"",
             "apps/acme.toml: saml.audience: contains whitespace"),
            ("audience = \"https://acme.com\"", "name_id_format = \"email\"",
             "apps/acme.toml: saml.name_id_format: unknown value \"email\""),
            ("[saml]", "[saml", "apps/acme.toml: (file): TOML syntax error: line 14:"),
        ];
        for (from, to, expected) in cases {
            assert!(GOOD.contains(from), "case does not apply: {from}");
            let errors = errors_of("apps/acme.toml", &GOOD.replacen(from, to, 1));
            assert!(
                errors.first().is_some_and(|e| e.starts_with(expected)),
                "editing {from:?} -> {to:?}\n want: {expected}\n got:  {errors:#?}"
            );
        }
    }

    #[test]
    fn collects_problems_from_every_file() {
        let bad = GOOD.replace("https://acme.com\"", "https://acme.com\"\nextra = 1");
        let result = Catalog::from_files([
            ("a/acme.toml", GOOD.to_string()),
            ("b/acme.toml", GOOD.to_string()),
            ("c/acme.toml", bad),
            ("d/other.toml", GOOD.to_string()),
        ]);
        let Err(Error::Invalid(errors)) = result else {
            panic!("accepted")
        };
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "c/acme.toml: saml.extra: unknown field",
                "d/other.toml: name: \"acme\" does not match the file name \"other\"",
                "b/acme.toml: name: entry \"acme\" is also defined in a/acme.toml",
            ]
        );
    }

    #[test]
    fn loads_every_section() {
        let full = r##"
name = "full"
label = "Full"
description = "Every protocol."
use_cases = ["sso", "provisioning"]
functionality = ["SAML", "OIDC", "SWA", "SCIM", "BOOKMARK"]
industries = ["healthcare"]

[[variables]]
name = "subdomain"
label = "Subdomain"
pattern = "^[a-z0-9-]+$"
sample = "tenant"

[saml]
acs_url = "https://{subdomain}.full.example/acs"
default_relay_state = "{{ \"to\": \"home\" }}"
name_id_format = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
sp_initiated = true

[[saml.attribute_statements]]
name = "email"
value = "user.email"

[oidc]
redirect_uris = ["https://{subdomain}.full.example/callback"]

[swa]
login_url = "https://{subdomain}.full.example/login"
username_field = "#user"
password_field = "#pass"

[scim]
base_url = "https://{subdomain}.full.example/scim/v2"
operations = ["create", "update", "deactivate"]

[bookmark]
url = "https://{subdomain}.full.example/"
"##;
        let catalog = Catalog::from_files([("full.toml", full)]).unwrap();
        let e = catalog.get("full").unwrap();
        let rendered = e.render_saml(&e.sample_values()).unwrap().unwrap();
        assert_eq!(
            rendered.acs_url.as_deref(),
            Some("https://tenant.full.example/acs")
        );
        assert_eq!(
            rendered.default_relay_state.as_deref(),
            Some("{ \"to\": \"home\" }")
        );
        assert_eq!(e.scim().unwrap().operations.len(), 3);
        let base = &e.scim().unwrap().base_url;
        assert_eq!(
            e.render_url(base, &e.sample_values()).unwrap(),
            "https://tenant.full.example/scim/v2"
        );
        let hostile = [("subdomain".to_string(), "x.evil.example/".to_string())].into();
        assert!(matches!(
            e.render_url(base, &hostile),
            Err(Error::InvalidValue { .. })
        ));
        let json = serde_json::to_value(e).unwrap();
        assert_eq!(json["displayName"], "Full");
        assert_eq!(json["useCases"], serde_json::json!(["sso", "provisioning"]));
        assert_eq!(
            json["saml"]["acsUrl"],
            "https://{subdomain}.full.example/acs"
        );
        assert_eq!(
            json["saml"]["attributeStatements"][0]["value"],
            "user.email"
        );
        assert_eq!(
            json["oidc"]["redirectUris"][0],
            "https://{subdomain}.full.example/callback"
        );
        assert_eq!(json["swa"]["usernameField"], "#user");
        assert_eq!(
            json["scim"]["baseUrl"],
            "https://{subdomain}.full.example/scim/v2"
        );
        assert_eq!(json["variables"][0]["pattern"], "^[a-z0-9-]+$");
    }
}
