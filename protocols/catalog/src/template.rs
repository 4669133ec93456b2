//! `{variable}` templates and the tenant variables they refer to.

use std::collections::BTreeMap;
use std::fmt;

use regex_automata::meta::Regex;
use serde::{Serialize, Serializer};

use crate::error::{Error, Problem};

/// Tenant-specific values for an entry's variables, by variable name.
pub type TenantValues = BTreeMap<String, String>;

/// A value a customer supplies when adding the app, such as a subdomain.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Variable {
    pub(crate) name: String,
    pub(crate) label: String,
    pub(crate) pattern: String,
    pub(crate) sample: String,
    #[serde(skip)]
    pub(crate) regex: Regex,
}

impl Variable {
    /// The name used in templates, without braces.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the admin is asked for.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The validation regex; a value must match it as a whole.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// An example value that passes validation.
    pub fn sample(&self) -> &str {
        &self.sample
    }

    /// Checks a value against this variable's rule.
    pub fn check(&self, value: &str) -> Result<(), Error> {
        if self.accepts(value) && is_safe_value(value) {
            Ok(())
        } else {
            Err(Error::InvalidValue {
                variable: self.name.clone(),
                value: value.to_owned(),
                pattern: self.pattern.clone(),
            })
        }
    }

    pub(crate) fn accepts(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

/// Compiles a validation pattern so that it must match a whole value.
pub(crate) fn compile_pattern(pattern: &str) -> Result<Regex, Problem> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| Problem::InvalidPattern(e.to_string()))
}

/// Whatever a variable's regex says, a value never holds characters that could move
/// it into another part of a URL (`/`, `?`, `#`, `@`, spaces, percent escapes).
/// Patterns are data that anyone can edit; this rule is code.
pub(crate) fn is_safe_value(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b':' | b'-'))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable(String),
}

/// A string with `{variable}` references. `{{` and `}}` stand for literal braces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

impl Template {
    /// Parses a template. Variable names are `[a-z][a-z0-9_]*`.
    pub fn parse(source: &str) -> Result<Template, Problem> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, n)| n) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|&(_, n)| n) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let rest = &source[at + 1..];
                    let end = rest.find('}').ok_or_else(|| {
                        Problem::InvalidTemplate(format!("unclosed '{{' at byte {at}"))
                    })?;
                    let name = &rest[..end];
                    if !is_variable_name(name) {
                        return Err(Problem::InvalidTemplate(format!(
                            "{{{name}}} is not a variable name (use {{{{ for a literal brace)"
                        )));
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Variable(name.to_owned()));
                    for _ in 0..=name.chars().count() {
                        chars.next();
                    }
                }
                '}' => {
                    return Err(Problem::InvalidTemplate(format!(
                        "unmatched '}}' at byte {at} (use }}}} for a literal brace)"
                    )))
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template {
            source: source.to_owned(),
            parts,
        })
    }

    /// The template as written in the catalog file.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The variables the template refers to, in order of appearance (with repeats).
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Variable(name) => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// Substitutes values, checking each against its variable's rule.
    ///
    /// `variables` must declare every variable the template uses; the loader
    /// guarantees that for templates in a `Catalog`.
    pub fn render(&self, variables: &[Variable], values: &TenantValues) -> Result<String, Error> {
        let mut out = String::with_capacity(self.source.len() + 16);
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Variable(name) => {
                    let value = values.get(name).ok_or_else(|| Error::MissingValue {
                        variable: name.clone(),
                    })?;
                    match variables.iter().find(|v| v.name == *name) {
                        Some(variable) => variable.check(value)?,
                        None => {
                            return Err(Error::MissingValue {
                                variable: name.clone(),
                            })
                        }
                    }
                    out.push_str(value);
                }
            }
        }
        Ok(out)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Serialize for Template {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

pub(crate) fn is_variable_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// What a rendered template must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// An endpoint the browser or the gateway is sent to: an absolute https URL.
    Endpoint,
    /// A SAML entity ID. Entity IDs are names that nobody fetches, so besides
    /// URLs (http is allowed: five vendors publish http:// entity IDs) they may be
    /// URNs or opaque strings such as `box.net`.
    EntityId,
    /// Free text carried back by the browser, such as a SAML RelayState.
    Text,
}

/// Checks a rendered template against its shape.
pub(crate) fn check_shape(shape: Shape, rendered: &str) -> Result<(), Problem> {
    if rendered.trim().is_empty() {
        return Err(Problem::Empty);
    }
    if rendered.chars().any(char::is_control) {
        return Err(Problem::Malformed("contains control characters".into()));
    }
    match shape {
        Shape::Endpoint => {
            let url = url::Url::parse(rendered).map_err(|e| Problem::NotAUrl(e.to_string()))?;
            if url.cannot_be_a_base() || url.host_str().is_none_or(str::is_empty) {
                return Err(Problem::NotAUrl("no host".into()));
            }
            if !url.username().is_empty() || url.password().is_some() {
                return Err(Problem::NotAUrl("user information is not allowed".into()));
            }
            if url.scheme() != "https" {
                return Err(Problem::InsecureScheme);
            }
            Ok(())
        }
        Shape::EntityId => {
            if rendered.chars().any(char::is_whitespace) {
                return Err(Problem::Malformed("contains whitespace".into()));
            }
            let lower = rendered.to_ascii_lowercase();
            if lower.starts_with("http://") || lower.starts_with("https://") {
                let url = url::Url::parse(rendered).map_err(|e| Problem::NotAUrl(e.to_string()))?;
                if url.host_str().is_none_or(str::is_empty) {
                    return Err(Problem::NotAUrl("no host".into()));
                }
            }
            Ok(())
        }
        Shape::Text => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, pattern: &str) -> Variable {
        Variable {
            name: name.into(),
            label: name.into(),
            pattern: pattern.into(),
            sample: "acme".into(),
            regex: compile_pattern(pattern).unwrap(),
        }
    }

    #[test]
    fn parses_templates() {
        let cases: &[(&str, Result<Vec<Part>, &str>)] = &[
            (
                "https://x.com",
                Ok(vec![Part::Literal("https://x.com".into())]),
            ),
            (
                "https://{subdomain}.x.com/{id}",
                Ok(vec![
                    Part::Literal("https://".into()),
                    Part::Variable("subdomain".into()),
                    Part::Literal(".x.com/".into()),
                    Part::Variable("id".into()),
                ]),
            ),
            (
                "{{ \"a\": 1 }}",
                Ok(vec![Part::Literal("{ \"a\": 1 }".into())]),
            ),
            ("https://{sub", Err("unclosed")),
            ("https://x}", Err("unmatched")),
            ("https://{Sub}", Err("not a variable name")),
            ("https://{}", Err("not a variable name")),
            (
                "{a}{b}",
                Ok(vec![Part::Variable("a".into()), Part::Variable("b".into())]),
            ),
        ];
        for (source, expected) in cases {
            match (Template::parse(source), expected) {
                (Ok(t), Ok(parts)) => assert_eq!(&t.parts, parts, "{source}"),
                (Err(e), Err(needle)) => assert!(e.to_string().contains(needle), "{source}: {e}"),
                (got, want) => panic!("{source}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn renders_and_validates_values() {
        let vars = [var("subdomain", "[a-z0-9-]+"), var("anything", ".*")];
        let t = Template::parse("https://{subdomain}.x.com/{anything}").unwrap();
        let values = |s: &str, a: &str| -> TenantValues {
            [
                ("subdomain".to_string(), s.to_string()),
                ("anything".to_string(), a.to_string()),
            ]
            .into()
        };
        assert_eq!(
            t.render(&vars, &values("acme", "p")).unwrap(),
            "https://acme.x.com/p"
        );
        // The regex rejects it.
        assert!(matches!(
            t.render(&vars, &values("ACME", "p")),
            Err(Error::InvalidValue { variable, .. }) if variable == "subdomain"
        ));
        // The regex accepts anything, but the value would leave its path segment.
        for hostile in ["a/b", "a?b", "a#b", "evil.com@", "a b", "%2e", ""] {
            assert!(
                matches!(
                    t.render(&vars, &values("acme", hostile)),
                    Err(Error::InvalidValue { .. })
                ),
                "{hostile:?} accepted"
            );
        }
        assert!(matches!(
            t.render(&vars, &TenantValues::new()),
            Err(Error::MissingValue { variable }) if variable == "subdomain"
        ));
    }

    #[test]
    fn checks_shapes() {
        let cases: &[(Shape, &str, bool)] = &[
            (Shape::Endpoint, "https://acme.x.com/saml", true),
            (Shape::Endpoint, "https://acme.x.com:8443/saml?x=1#f", true),
            (Shape::Endpoint, "http://acme.x.com/saml", false),
            (Shape::Endpoint, "https://user@acme.x.com/", false),
            (Shape::Endpoint, "acme.x.com/saml", false),
            (Shape::Endpoint, "urn:x:y", false),
            (Shape::Endpoint, "https://", false),
            (Shape::EntityId, "http://x.com/sp", true),
            (Shape::EntityId, "urn:amazon:webservices", true),
            (Shape::EntityId, "box.net", true),
            (Shape::EntityId, "has space", false),
            (Shape::EntityId, "https://", false),
            (Shape::Text, "{ \"loginType\": 1 }", true),
            (Shape::Text, " ", false),
            (Shape::Text, "a\nb", false),
        ];
        for (shape, text, ok) in cases {
            assert_eq!(check_shape(*shape, text).is_ok(), *ok, "{shape:?} {text:?}");
        }
    }
}
