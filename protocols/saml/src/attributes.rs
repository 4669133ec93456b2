//! Group attribute statements: which of a person's groups an app is told
//! about (Okta's `GROUP` attribute statements with their four filters).

use regex_automata::meta::Regex;

use crate::SamlError;

/// Okta's `filterType` with its `filterValue`.
#[derive(Debug, Clone)]
pub enum GroupFilter {
    StartsWith(String),
    Equals(String),
    Contains(String),
    /// Matches the whole group name, as Okta's `REGEX` filter does.
    Regex(Regex),
}

impl GroupFilter {
    /// From Okta's `filterType` and `filterValue`. The regex is the admin's
    /// and is anchored at both ends; regex-automata bounds its size and
    /// matches in linear time, so no group name can make it slow.
    pub fn new(filter_type: &str, value: &str) -> Result<Self, SamlError> {
        Ok(match filter_type {
            "STARTS_WITH" => Self::StartsWith(value.to_owned()),
            "EQUALS" => Self::Equals(value.to_owned()),
            "CONTAINS" => Self::Contains(value.to_owned()),
            "REGEX" => Self::Regex(
                Regex::new(&format!("^(?:{value})$"))
                    .map_err(|_| SamlError::Invalid { field: "filterValue", value: value.to_owned() })?,
            ),
            other => return Err(SamlError::Invalid { field: "filterType", value: other.to_owned() }),
        })
    }

    pub fn matches(&self, group: &str) -> bool {
        match self {
            Self::StartsWith(p) => group.starts_with(p.as_str()),
            Self::Equals(p) => group == p,
            Self::Contains(p) => group.contains(p.as_str()),
            Self::Regex(r) => r.is_match(group),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        let cases = [
            ("STARTS_WITH", "Eng", "Engineering", true),
            ("STARTS_WITH", "Eng", "Reng", false),
            ("EQUALS", "Sales", "Sales", true),
            ("EQUALS", "Sales", "Sales EU", false),
            ("CONTAINS", "ops", "devops-team", true),
            ("REGEX", ".*", "anything", true),
            ("REGEX", "team-(a|b)", "team-a", true),
            ("REGEX", "team-(a|b)", "team-ab", false),
            ("REGEX", "team", "my-team", false),
        ];
        for (kind, value, group, expected) in cases {
            assert_eq!(GroupFilter::new(kind, value).unwrap().matches(group), expected, "{kind} {value} {group}");
        }
        assert!(GroupFilter::new("REGEX", "(").is_err());
        assert!(GroupFilter::new("SOUNDS_LIKE", "x").is_err());
    }
}
