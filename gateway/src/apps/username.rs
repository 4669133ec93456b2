//! Application username templates: the subset of Okta's Expression Language
//! that app usernames use, e.g. `${source.login}`,
//! `${fn:substringBefore(source.email, "@")}` or
//! `${source.firstName}.${source.lastName}`.
//!
//! A template is literal text with `${…}` expressions. An expression is a
//! profile attribute (`source.x` or `user.x`), a string literal, a function
//! call (`fn:substringBefore`, `fn:substringAfter`, `fn:toLowerCase`,
//! `fn:toUpperCase`, `fn:trim`), or several of these joined with `+`.

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Attribute(String),
    Literal(String),
    Call(Function, Vec<Expr>),
    Concat(Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Function {
    SubstringBefore,
    SubstringAfter,
    ToLowerCase,
    ToUpperCase,
    Trim,
}

impl Function {
    fn parse(name: &str) -> Option<(Self, usize)> {
        Some(match name {
            "fn:substringBefore" => (Self::SubstringBefore, 2),
            "fn:substringAfter" => (Self::SubstringAfter, 2),
            "fn:toLowerCase" => (Self::ToLowerCase, 1),
            "fn:toUpperCase" => (Self::ToUpperCase, 1),
            "fn:trim" => (Self::Trim, 1),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Expr(Expr),
}

/// A parsed username template.
#[derive(Debug, Clone, PartialEq)]
pub struct UsernameTemplate {
    parts: Vec<Part>,
}

/// The built-in formats offered in the Admin Console, as Okta writes them.
pub const OKTA_USERNAME: &str = "${source.login}";
pub const OKTA_USERNAME_PREFIX: &str = "${fn:substringBefore(source.login, \"@\")}";
pub const EMAIL: &str = "${source.email}";
pub const EMAIL_PREFIX: &str = "${fn:substringBefore(source.email, \"@\")}";

impl UsernameTemplate {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > 1024 {
            return Err("is longer than 1024 characters".into());
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let end = closing_brace(after).ok_or("has a `${` without its `}`")?;
            let mut parser = Parser { chars: after[..end].chars().collect(), pos: 0, depth: 0 };
            let expr = parser.concat()?;
            parser.skip_spaces();
            if parser.pos != parser.chars.len() {
                return Err(format!("cannot read `{}`", &after[..end]));
            }
            parts.push(Part::Expr(expr));
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Self { parts })
    }

    /// The username for a person with this profile; `None` when an attribute
    /// it names is missing or empty (the assignment then has no username).
    pub fn render(&self, profile: &Map<String, Value>) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Expr(e) => out.push_str(&eval(e, profile)?),
            }
        }
        (!out.is_empty()).then_some(out)
    }
}

fn closing_brace(text: &str) -> Option<usize> {
    let mut in_string = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '}' if !in_string => return Some(i),
            _ => {}
        }
    }
    None
}

fn eval(expr: &Expr, profile: &Map<String, Value>) -> Option<String> {
    Some(match expr {
        Expr::Literal(s) => s.clone(),
        Expr::Attribute(name) => match profile.get(name)? {
            Value::String(s) if !s.is_empty() => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return None,
        },
        Expr::Concat(items) => items.iter().map(|e| eval(e, profile)).collect::<Option<Vec<_>>>()?.concat(),
        Expr::Call(function, args) => {
            let values = args.iter().map(|e| eval(e, profile)).collect::<Option<Vec<_>>>()?;
            match function {
                Function::SubstringBefore => match values[0].find(&values[1]) {
                    Some(i) => values[0][..i].to_owned(),
                    None => values[0].clone(),
                },
                Function::SubstringAfter => match values[0].find(&values[1]) {
                    Some(i) => values[0][i + values[1].len()..].to_owned(),
                    None => String::new(),
                },
                Function::ToLowerCase => values[0].to_lowercase(),
                Function::ToUpperCase => values[0].to_uppercase(),
                Function::Trim => values[0].trim().to_owned(),
            }
        }
    })
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn skip_spaces(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn concat(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.term()?];
        loop {
            self.skip_spaces();
            if self.chars.get(self.pos) == Some(&'+') {
                self.pos += 1;
                items.push(self.term()?);
            } else {
                break;
            }
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Expr::Concat(items) })
    }

    fn term(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > 16 {
            return Err("is nested too deeply".into());
        }
        self.skip_spaces();
        let result = match self.chars.get(self.pos) {
            Some('"') => {
                self.pos += 1;
                let start = self.pos;
                while self.chars.get(self.pos).is_some_and(|c| *c != '"') {
                    self.pos += 1;
                }
                if self.pos >= self.chars.len() {
                    return Err("has an unterminated string".into());
                }
                let text: String = self.chars[start..self.pos].iter().collect();
                self.pos += 1;
                Ok(Expr::Literal(text))
            }
            Some(_) => {
                let start = self.pos;
                while self.chars.get(self.pos).is_some_and(|c| c.is_alphanumeric() || *c == '.' || *c == ':' || *c == '_') {
                    self.pos += 1;
                }
                let word: String = self.chars[start..self.pos].iter().collect();
                if word.is_empty() {
                    return Err(format!("has an unexpected `{}`", self.chars[self.pos]));
                }
                self.skip_spaces();
                if self.chars.get(self.pos) == Some(&'(') {
                    let (function, arity) = Function::parse(&word).ok_or_else(|| format!("uses the unknown function `{word}`"))?;
                    self.pos += 1;
                    let mut args = Vec::new();
                    loop {
                        args.push(self.concat()?);
                        self.skip_spaces();
                        match self.chars.get(self.pos) {
                            Some(',') => self.pos += 1,
                            Some(')') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(format!("has an unclosed call to `{word}`")),
                        }
                    }
                    if args.len() != arity {
                        return Err(format!("`{word}` takes {arity} argument(s)"));
                    }
                    Ok(Expr::Call(function, args))
                } else {
                    let attribute = word
                        .strip_prefix("source.")
                        .or_else(|| word.strip_prefix("user."))
                        .ok_or_else(|| format!("`{word}` is not source.<attribute>"))?;
                    if !crate::filter::is_safe_key(attribute) {
                        return Err(format!("`{word}` is not a profile attribute name"));
                    }
                    Ok(Expr::Attribute(attribute.to_owned()))
                }
            }
            None => Err("is missing an expression".into()),
        };
        self.depth -= 1;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_render_from_the_profile() {
        let profile = json!({"login": "Ada.Lovelace@example.com", "email": "ada@corp.example", "firstName": "Ada", "lastName": "Lovelace"});
        let profile = profile.as_object().unwrap();
        let cases = [
            (OKTA_USERNAME, Some("Ada.Lovelace@example.com")),
            (OKTA_USERNAME_PREFIX, Some("Ada.Lovelace")),
            (EMAIL, Some("ada@corp.example")),
            (EMAIL_PREFIX, Some("ada")),
            ("${source.firstName}.${source.lastName}", Some("Ada.Lovelace")),
            ("${fn:toLowerCase(source.firstName + \"_\" + source.lastName)}", Some("ada_lovelace")),
            ("${fn:substringAfter(source.email, \"@\")}", Some("corp.example")),
            ("corp\\${source.firstName}", Some("corp\\Ada")),
            ("${source.department}", None),
        ];
        for (template, expected) in cases {
            let parsed = UsernameTemplate::parse(template).unwrap_or_else(|e| panic!("{template}: {e}"));
            assert_eq!(parsed.render(profile).as_deref(), expected, "{template}");
        }
    }

    #[test]
    fn bad_templates_say_why() {
        for (template, expected) in [
            ("${source.login", "without its `}`"),
            ("${fn:explode(source.login)}", "unknown function"),
            ("${password}", "is not source."),
            ("${fn:substringBefore(source.login)}", "takes 2"),
            ("${source.login \"x\"}", "cannot read"),
            ("${}", "missing an expression"),
        ] {
            let err = UsernameTemplate::parse(template).unwrap_err();
            assert!(err.contains(expected), "{template}: {err}");
        }
    }
}
