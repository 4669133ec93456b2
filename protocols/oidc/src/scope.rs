//! Scope values (RFC 6749 §3.3).

/// A set of scope tokens in the order first given, without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Parses a space-delimited `scope` parameter. `None` if a token has a
    /// character RFC 6749 §3.3 does not allow (`scope-token = 1*( %x21 /
    /// %x23-5B / %x5D-7E )`).
    pub fn parse(s: &str) -> Option<Self> {
        let mut out: Vec<String> = Vec::new();
        for token in s.split(' ').filter(|t| !t.is_empty()) {
            if !token.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b)) {
                return None;
            }
            if !out.iter().any(|t| t == token) {
                out.push(token.to_owned());
            }
        }
        Some(Self(out))
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn is_subset_of(&self, other: &Scopes) -> bool {
        self.iter().all(|s| other.contains(s))
    }

    /// Drops one scope.
    pub fn without(mut self, scope: &str) -> Self {
        self.0.retain(|s| s != scope);
        self
    }
}

impl<S: Into<String>> FromIterator<S> for Scopes {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut out = Self::default();
        for s in iter {
            let s = s.into();
            if !out.contains(&s) {
                out.0.push(s);
            }
        }
        out
    }
}

impl std::fmt::Display for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_cases() {
        let cases: [(&str, Option<&str>); 5] = [
            ("openid profile", Some("openid profile")),
            ("openid  openid profile ", Some("openid profile")),
            ("", Some("")),
            ("openid \"quoted\"", None),
            ("back\\slash", None),
        ];
        for (input, expected) in cases {
            assert_eq!(Scopes::parse(input).map(|s| s.to_string()).as_deref(), expected, "{input:?}");
        }
    }
}
