//! One authorization server's configuration: the org server
//! (`/oauth2/v1/*`) or a custom one (`/oauth2/{authServerId}/v1/*`).

use regex_automata::meta::Regex;
use time::Duration;

use crate::error::OAuthError;
use crate::keys::SigningAlg;
use crate::policy::{AccessPolicy, PolicyRequest, TokenPolicy};

/// Which of Okta's two kinds of authorization server this is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerKind {
    /// The org authorization server: issuer `https://org`, endpoints under
    /// `{issuer}/oauth2/v1/`, discovery at `{issuer}/.well-known/…`.
    Org,
    /// A custom authorization server with its id (e.g. `default`): issuer
    /// `https://org/oauth2/{id}`, endpoints under `{issuer}/v1/`.
    Custom { id: String },
}

/// A scope the server knows, beyond the OIDC ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeDefinition {
    pub name: String,
    pub description: String,
}

/// How the `groups` claim is filtered: Okta's `group_filter_type` with its
/// `value` (OAuth2ClaimGroupFilterType). STARTS_WITH, EQUALS and CONTAINS
/// ignore case, as Okta's do; REGEX is case-sensitive and must match the
/// whole group name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupFilter {
    /// Every group the user is in.
    Any,
    StartsWith(String),
    Equals(String),
    Contains(String),
    Regex(GroupRegex),
}

/// A compiled REGEX filter, compared by its pattern.
#[derive(Debug, Clone)]
pub struct GroupRegex {
    pattern: String,
    regex: Regex,
}

impl PartialEq for GroupRegex {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
    }
}

impl Eq for GroupRegex {}

impl GroupRegex {
    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

impl GroupFilter {
    /// From Okta's `group_filter_type` and `value`; `None` for an unknown
    /// type or a pattern that does not compile. The pattern is the admin's:
    /// it is anchored at both ends, and regex-automata bounds its size and
    /// matches in linear time.
    pub fn from_okta(filter_type: &str, value: &str) -> Option<Self> {
        Some(match filter_type {
            "STARTS_WITH" => Self::StartsWith(value.to_owned()),
            "EQUALS" => Self::Equals(value.to_owned()),
            "CONTAINS" => Self::Contains(value.to_owned()),
            "REGEX" if value == ".*" => Self::Any,
            "REGEX" => Self::Regex(GroupRegex { pattern: value.to_owned(), regex: Regex::new(&format!("^(?:{value})$")).ok()? }),
            _ => return None,
        })
    }

    pub fn admits(&self, group: &str) -> bool {
        let group_lower = || group.to_lowercase();
        match self {
            Self::Any => true,
            Self::StartsWith(p) => group_lower().starts_with(&p.to_lowercase()),
            Self::Equals(v) => group_lower() == v.to_lowercase(),
            Self::Contains(v) => group_lower().contains(&v.to_lowercase()),
            Self::Regex(r) => r.regex.is_match(group),
        }
    }
}

/// Token lifetimes and grace periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Authorization codes: short, since they travel through the browser
    /// (RFC 6749 §4.1.2 recommends at most ten minutes; Okta uses 60 s).
    pub authorization_code: Duration,
    pub access_token: Duration,
    pub id_token: Duration,
    /// A refresh token expires this long after its grant was made.
    pub refresh_token_absolute: Duration,
    /// A refresh token expires when not used for this long.
    pub refresh_token_idle: Duration,
    /// After a refresh token is rotated, the immediately previous token is
    /// still accepted this long, for a client whose response was lost.
    pub refresh_token_reuse_grace: Duration,
    /// Tolerated clock difference for `iat`/`nbf` of client assertions.
    pub clock_skew: Duration,
    /// Longest `exp - now` accepted in a client assertion, so that a jti
    /// replay cache entry never has to live long.
    pub client_assertion_max_lifetime: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            authorization_code: Duration::seconds(60),
            access_token: Duration::hours(1),
            id_token: Duration::hours(1),
            refresh_token_absolute: Duration::days(90),
            refresh_token_idle: Duration::days(7),
            refresh_token_reuse_grace: Duration::seconds(30),
            clock_skew: Duration::seconds(30),
            client_assertion_max_lifetime: Duration::minutes(60),
        }
    }
}

/// The scopes of OIDC Core §5.4 and §11, plus Okta's `groups`.
pub const OIDC_SCOPES: [&str; 7] = ["openid", "profile", "email", "address", "phone", "offline_access", "groups"];

/// An authorization server.
#[derive(Debug, Clone)]
pub struct AuthorizationServer {
    pub kind: ServerKind,
    /// The issuer identifier exactly as configured, never derived from a
    /// request's Host (OIDC Discovery §4.3, RFC 8414 §3.3).
    pub issuer: String,
    /// Audiences of the access tokens this server issues: the issuer for the
    /// org server, the configured ones (e.g. `api://default`) for custom ones.
    pub audiences: Vec<String>,
    /// Custom scopes (custom servers only).
    pub custom_scopes: Vec<ScopeDefinition>,
    /// The `groups` claim's filter, if the claim is issued at all.
    pub groups_filter: Option<GroupFilter>,
    pub lifetimes: Lifetimes,
    /// The algorithm access tokens are signed with. RS256 by default, which
    /// every resource server supports; ES256 or EdDSA sign many times faster.
    pub access_token_alg: SigningAlg,
    /// The access policies of a custom server, evaluated for every
    /// authorization and token request. `None` evaluates none (the org
    /// server, which has no policies); `Some` with no policy denies every
    /// request, as Okta does for a custom server without one. The gateway
    /// sets them for every custom server.
    pub access_policies: Option<Vec<AccessPolicy>>,
}

impl AuthorizationServer {
    /// The org authorization server for `issuer` (e.g. `https://sso.example.com`).
    pub fn org(issuer: impl Into<String>) -> Self {
        let issuer = trim_slash(issuer.into());
        Self {
            kind: ServerKind::Org,
            audiences: vec![issuer.clone()],
            issuer,
            custom_scopes: Vec::new(),
            groups_filter: Some(GroupFilter::Any),
            lifetimes: Lifetimes::default(),
            access_token_alg: SigningAlg::Rs256,
            access_policies: None,
        }
    }

    /// A custom authorization server; `org_base` is the org's URL, from
    /// configuration. The `default` server gets audience `api://default`.
    pub fn custom(org_base: &str, id: impl Into<String>, audiences: Vec<String>) -> Self {
        let id = id.into();
        Self {
            issuer: format!("{}/oauth2/{id}", org_base.trim_end_matches('/')),
            kind: ServerKind::Custom { id },
            audiences,
            custom_scopes: Vec::new(),
            groups_filter: Some(GroupFilter::Any),
            lifetimes: Lifetimes::default(),
            access_token_alg: SigningAlg::Rs256,
            access_policies: None,
        }
    }

    /// The token lifetimes for a request: on a custom server those of the
    /// access policy rule that matches it ([`crate::policy::evaluate`]), or
    /// Okta's `access_denied` when none does; on the org server the
    /// server's own lifetimes.
    pub fn token_policy(&self, request: &PolicyRequest<'_>) -> Result<TokenPolicy, OAuthError> {
        match &self.access_policies {
            None => Ok(TokenPolicy {
                access_token: self.lifetimes.access_token,
                refresh_token: Some(self.lifetimes.refresh_token_absolute),
                refresh_window: self.lifetimes.refresh_token_idle,
            }),
            Some(policies) => {
                crate::policy::evaluate(policies, request).map(|m| m.rule.token).ok_or_else(crate::policy::no_matching_policy)
            }
        }
    }

    /// The URL of an endpoint (`authorize`, `token`, `keys`, …).
    pub fn endpoint(&self, name: &str) -> String {
        match self.kind {
            ServerKind::Org => format!("{}/oauth2/v1/{name}", self.issuer),
            ServerKind::Custom { .. } => format!("{}/v1/{name}", self.issuer),
        }
    }

    pub fn authorization_endpoint(&self) -> String {
        self.endpoint("authorize")
    }

    pub fn token_endpoint(&self) -> String {
        self.endpoint("token")
    }

    /// Whether this server knows `scope` at all.
    pub fn knows_scope(&self, scope: &str) -> bool {
        OIDC_SCOPES.contains(&scope)
            || self.custom_scopes.iter().any(|s| s.name == scope)
            || (self.kind == ServerKind::Org && scope.starts_with("okta."))
    }

    /// Every scope for discovery's `scopes_supported`.
    pub fn scopes_supported(&self) -> Vec<String> {
        OIDC_SCOPES
            .iter()
            .map(|s| (*s).to_owned())
            .chain(self.custom_scopes.iter().map(|s| s.name.clone()))
            .collect()
    }

    /// Where a discovery document is served (`openid-configuration` or
    /// `oauth-authorization-server`): under the issuer, for both kinds
    /// (OIDC Discovery §4, RFC 8414 §3 as Okta applies it).
    pub fn well_known_url(&self, document: &str) -> String {
        format!("{}/.well-known/{document}", self.issuer)
    }
}

fn trim_slash(mut s: String) -> String {
    while s.ends_with('/') {
        s.pop();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_follow_oktas_layout() {
        let cases = [
            (AuthorizationServer::org("https://sso.example.com/"), "https://sso.example.com", "https://sso.example.com/oauth2/v1/token"),
            (
                AuthorizationServer::custom("https://sso.example.com", "default", vec!["api://default".into()]),
                "https://sso.example.com/oauth2/default",
                "https://sso.example.com/oauth2/default/v1/token",
            ),
        ];
        for (server, issuer, token) in cases {
            assert_eq!(server.issuer, issuer);
            assert_eq!(server.token_endpoint(), token);
        }
    }

    #[test]
    fn group_filters() {
        let cases = [
            (GroupFilter::Any, "Everyone", true),
            (GroupFilter::StartsWith("app-".into()), "app-admins", true),
            (GroupFilter::StartsWith("app-".into()), "admins", false),
            (GroupFilter::Equals("admins".into()), "admins", true),
            (GroupFilter::Equals("admins".into()), "admins2", false),
            (GroupFilter::Contains("dmin".into()), "admins", true),
            (GroupFilter::StartsWith("APP-".into()), "app-admins", true),
            (GroupFilter::Equals("Admins".into()), "admins", true),
            (GroupFilter::Contains("DMIN".into()), "Admins", true),
            (GroupFilter::from_okta("REGEX", "team-(a|b)").unwrap(), "team-a", true),
            (GroupFilter::from_okta("REGEX", "team-(a|b)").unwrap(), "team-ab", false),
            (GroupFilter::from_okta("REGEX", "team").unwrap(), "my-team", false),
            (GroupFilter::from_okta("REGEX", "Team").unwrap(), "team", false),
            (GroupFilter::from_okta("REGEX", ".*").unwrap(), "anything", true),
        ];
        for (filter, group, expected) in cases {
            assert_eq!(filter.admits(group), expected, "{filter:?} {group}");
        }
        assert!(GroupFilter::from_okta("REGEX", "(").is_none());
        assert!(GroupFilter::from_okta("SOUNDS_LIKE", "x").is_none());
    }
}
