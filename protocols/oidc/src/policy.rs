//! Access policies of custom authorization servers, in Okta's model
//! (`AuthorizationServerPolicy` with its `AuthorizationServerPolicyRule`s).
//!
//! A policy names the clients it covers (`conditions.clients.include`:
//! client ids or `ALL_CLIENTS`); its rules name the grant types, the people
//! (user ids, group ids or `EVERYONE`) and the scopes they allow (`*` for
//! any), and the lifetimes of the tokens they issue. Okta evaluates the
//! active policies that cover the client in priority order, and in each the
//! active rules in priority order; the first rule that matches decides.
//! When none matches, the request fails with `access_denied` and "Policy
//! evaluation failed for this request, please check the policy
//! configurations." (Okta's `no_matching_policy`).
//!
//! Rules are allow lists: a request for a scope a rule does not list does
//! not match that rule, and evaluation moves on to the next rule and policy.

use time::Duration;

use crate::error::{ErrorCode, OAuthError};
use crate::scope::Scopes;

/// `conditions.clients.include` value for every client.
pub const ALL_CLIENTS: &str = "ALL_CLIENTS";
/// `conditions.people.groups.include` value for every person.
pub const EVERYONE: &str = "EVERYONE";
/// `conditions.scopes.include` value for any scope.
pub const ANY_SCOPE: &str = "*";

/// The grant types a rule can name that Vestibule issues tokens for. Okta
/// evaluates a refresh with the grant the refresh token came from, so
/// `refresh_token` is not among them.
pub const RULE_GRANT_TYPES: [&str; 2] = ["authorization_code", "client_credentials"];

/// Okta's bounds on `actions.token` (TokenAuthorizationServerPolicyRuleAction):
/// access tokens live five minutes to one day; the refresh window is ten
/// minutes to five years.
pub const ACCESS_TOKEN_MINUTES: std::ops::RangeInclusive<i64> = 5..=1440;
pub const REFRESH_WINDOW_MINUTES: std::ops::RangeInclusive<i64> = 10..=2_628_000;

/// What a rule grants: the lifetimes of the tokens issued under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPolicy {
    /// `accessTokenLifetimeMinutes`.
    pub access_token: Duration,
    /// `refreshTokenLifetimeMinutes`: the grant's absolute lifetime; `None`
    /// is Okta's 0, unlimited (the window still applies).
    pub refresh_token: Option<Duration>,
    /// `refreshTokenWindowMinutes`: a refresh token not used for this long expires.
    pub refresh_window: Duration,
}

impl TokenPolicy {
    /// Okta's defaults for a new rule: one hour, unlimited, seven days.
    pub const OKTA_DEFAULT: TokenPolicy =
        TokenPolicy { access_token: Duration::minutes(60), refresh_token: None, refresh_window: Duration::minutes(10080) };

    /// Checks Okta's bounds, each problem as `field: message`.
    pub fn validate(access_minutes: i64, refresh_minutes: i64, window_minutes: i64) -> Vec<String> {
        let mut causes = Vec::new();
        if !ACCESS_TOKEN_MINUTES.contains(&access_minutes) {
            causes.push("actions.token.accessTokenLifetimeMinutes: must be between 5 and 1440".to_owned());
        }
        if !REFRESH_WINDOW_MINUTES.contains(&window_minutes) {
            causes.push("actions.token.refreshTokenWindowMinutes: must be between 10 and 2628000".to_owned());
        }
        if refresh_minutes < 0 || (refresh_minutes != 0 && refresh_minutes < access_minutes) {
            causes.push(
                "actions.token.refreshTokenLifetimeMinutes: must be 0 (unlimited) or at least the access token lifetime".to_owned(),
            );
        }
        if refresh_minutes != 0 && window_minutes > refresh_minutes {
            causes.push("actions.token.refreshTokenWindowMinutes: must not exceed the refresh token lifetime".to_owned());
        }
        causes
    }
}

/// One rule of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    pub id: String,
    pub name: String,
    pub priority: i64,
    pub active: bool,
    /// `conditions.grantTypes.include`.
    pub grant_types: Vec<String>,
    /// `conditions.people.users.include`: user ids.
    pub users: Vec<String>,
    /// `conditions.people.groups.include`: group ids, or [`EVERYONE`].
    pub groups: Vec<String>,
    /// `conditions.scopes.include`: scope names, or [`ANY_SCOPE`].
    pub scopes: Vec<String>,
    /// `actions.token`.
    pub token: TokenPolicy,
}

/// One access policy with its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicy {
    pub id: String,
    pub name: String,
    pub priority: i64,
    pub active: bool,
    /// `conditions.clients.include`: client ids, or [`ALL_CLIENTS`].
    pub clients: Vec<String>,
    pub rules: Vec<PolicyRule>,
}

/// The person a request is for: their id and the ids of their groups.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub user_id: &'a str,
    pub group_ids: &'a [String],
}

/// What a policy is evaluated against.
#[derive(Debug, Clone, Copy)]
pub struct PolicyRequest<'a> {
    pub client_id: &'a str,
    /// The grant type, as a rule names it (see [`RULE_GRANT_TYPES`]).
    pub grant_type: &'a str,
    /// `None` for a client acting on its own behalf (client_credentials).
    pub subject: Option<Subject<'a>>,
    pub scopes: &'a Scopes,
}

/// The policy and rule that decided a request.
#[derive(Debug, Clone, Copy)]
pub struct PolicyMatch<'a> {
    pub policy: &'a AccessPolicy,
    pub rule: &'a PolicyRule,
}

impl AccessPolicy {
    /// `conditions.clients.include` covers the client.
    pub fn covers(&self, client_id: &str) -> bool {
        self.clients.iter().any(|c| c == ALL_CLIENTS || c == client_id)
    }
}

impl PolicyRule {
    /// Every condition of the rule holds for the request.
    pub fn matches(&self, r: &PolicyRequest<'_>) -> bool {
        self.matches_grant_type(r) && self.matches_people(r) && self.matches_scopes(r)
    }

    fn matches_grant_type(&self, r: &PolicyRequest<'_>) -> bool {
        self.grant_types.iter().any(|g| g == r.grant_type)
    }

    /// A person matches when named, or in a named group, or the rule names
    /// [`EVERYONE`]. A client acting for itself has no person; the people
    /// condition does not apply to it (Okta's "No user" for service apps).
    fn matches_people(&self, r: &PolicyRequest<'_>) -> bool {
        let Some(subject) = r.subject else { return true };
        self.users.iter().any(|u| u == subject.user_id)
            || self.groups.iter().any(|g| g == EVERYONE || subject.group_ids.iter().any(|id| id == g))
    }

    /// Rules are allow lists: every requested scope must be listed, unless
    /// the rule allows any scope.
    fn matches_scopes(&self, r: &PolicyRequest<'_>) -> bool {
        self.scopes.iter().any(|s| s == ANY_SCOPE) || r.scopes.iter().all(|s| self.scopes.iter().any(|allowed| allowed == s))
    }
}

/// Sorts by priority (1 first); equal priorities keep their given order.
fn by_priority<T>(items: &[T], priority: impl Fn(&T) -> i64, active: impl Fn(&T) -> bool) -> Vec<&T> {
    let mut out: Vec<&T> = items.iter().filter(|i| active(i)).collect();
    out.sort_by_key(|i| priority(i));
    out
}

/// The first active rule, in priority order, of the first active policy in
/// priority order that covers the client and has a matching rule.
pub fn evaluate<'a>(policies: &'a [AccessPolicy], r: &PolicyRequest<'_>) -> Option<PolicyMatch<'a>> {
    for policy in by_priority(policies, |p| p.priority, |p| p.active) {
        if !policy.covers(r.client_id) {
            continue;
        }
        if let Some(rule) = by_priority(&policy.rules, |x| x.priority, |x| x.active).into_iter().find(|rule| rule.matches(r)) {
            return Some(PolicyMatch { policy, rule });
        }
    }
    None
}

/// Okta's answer when no policy and rule match: `access_denied`.
pub fn no_matching_policy() -> OAuthError {
    OAuthError::new(ErrorCode::AccessDenied, "Policy evaluation failed for this request, please check the policy configurations.")
}

/// The policy Okta gives the `default` authorization server: every client,
/// and one rule for every grant type, everyone and any scope.
pub fn default_policy(policy_id: &str, rule_id: &str) -> AccessPolicy {
    AccessPolicy {
        id: policy_id.to_owned(),
        name: "Default Policy".into(),
        priority: 1,
        active: true,
        clients: vec![ALL_CLIENTS.into()],
        rules: vec![PolicyRule {
            id: rule_id.to_owned(),
            name: "Default Policy Rule".into(),
            priority: 1,
            active: true,
            grant_types: RULE_GRANT_TYPES.iter().map(|g| (*g).to_owned()).collect(),
            users: Vec::new(),
            groups: vec![EVERYONE.into()],
            scopes: vec![ANY_SCOPE.into()],
            token: TokenPolicy::OKTA_DEFAULT,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, priority: i64, grants: &[&str], users: &[&str], groups: &[&str], scopes: &[&str], minutes: i64) -> PolicyRule {
        let v = |xs: &[&str]| xs.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        PolicyRule {
            id: id.into(),
            name: id.into(),
            priority,
            active: true,
            grant_types: v(grants),
            users: v(users),
            groups: v(groups),
            scopes: v(scopes),
            token: TokenPolicy { access_token: Duration::minutes(minutes), ..TokenPolicy::OKTA_DEFAULT },
        }
    }

    fn policy(id: &str, priority: i64, clients: &[&str], rules: Vec<PolicyRule>) -> AccessPolicy {
        AccessPolicy {
            id: id.into(),
            name: id.into(),
            priority,
            active: true,
            clients: clients.iter().map(|c| (*c).to_owned()).collect(),
            rules,
        }
    }

    /// Two policies: one for the client `0oaweb` only (admins get long
    /// tokens; reading reports needs the engineers group), one for all clients.
    fn policies() -> Vec<AccessPolicy> {
        vec![
            policy(
                "web-only",
                1,
                &["0oaweb"],
                vec![
                    rule("reports", 1, &["authorization_code"], &[], &["00gengineers"], &["openid", "reports.read"], 15),
                    rule("admins", 2, &["authorization_code"], &["00uadmin"], &[], &["*"], 600),
                ],
            ),
            policy(
                "everyone",
                2,
                &[ALL_CLIENTS],
                vec![
                    rule("service", 1, &["client_credentials"], &[], &[], &["reports.read"], 30),
                    rule("people", 2, &["authorization_code"], &[], &[EVERYONE], &["openid", "profile", "email"], 60),
                ],
            ),
        ]
    }

    #[test]
    fn evaluation_cases() {
        let engineers = vec!["00gengineers".to_owned()];
        let none: Vec<String> = Vec::new();
        let cases: Vec<(&str, &str, &str, Option<(&str, &Vec<String>)>, &str, Option<&str>)> = vec![
            ("listed group, listed scopes", "0oaweb", "authorization_code", Some(("00ualice", &engineers)), "openid reports.read", Some("reports")),
            ("a scope the first rule lacks falls to the next rule", "0oaweb", "authorization_code", Some(("00uadmin", &none)), "openid reports.write", Some("admins")),
            ("not in the group: next policy", "0oaweb", "authorization_code", Some(("00ubob", &none)), "openid email", Some("people")),
            ("no rule anywhere allows the scope", "0oaweb", "authorization_code", Some(("00ubob", &none)), "openid reports.read", None),
            ("other client skips the first policy", "0oaother", "authorization_code", Some(("00uadmin", &none)), "openid reports.write", None),
            ("client credentials need no person", "0oasvc", "client_credentials", None, "reports.read", Some("service")),
            ("client credentials scope not listed", "0oasvc", "client_credentials", None, "reports.write", None),
            ("grant type not listed", "0oaother", "client_credentials", None, "openid", None),
        ];
        let policies = policies();
        for (name, client, grant, subject, scopes, expected) in cases {
            let scopes = Scopes::parse(scopes).unwrap();
            let request = PolicyRequest {
                client_id: client,
                grant_type: grant,
                subject: subject.map(|(user_id, group_ids)| Subject { user_id, group_ids }),
                scopes: &scopes,
            };
            let got = evaluate(&policies, &request).map(|m| m.rule.id.as_str());
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn priority_and_status_decide_the_order() {
        let scopes = Scopes::parse("openid").unwrap();
        let request = PolicyRequest { client_id: "0oaweb", grant_type: "authorization_code", subject: None, scopes: &scopes };
        let mut ps = vec![
            policy("late", 5, &[ALL_CLIENTS], vec![rule("late-rule", 1, &["authorization_code"], &[], &[EVERYONE], &["*"], 60)]),
            policy(
                "early",
                2,
                &[ALL_CLIENTS],
                vec![
                    rule("second", 9, &["authorization_code"], &[], &[EVERYONE], &["*"], 60),
                    rule("first", 3, &["authorization_code"], &[], &[EVERYONE], &["*"], 60),
                ],
            ),
        ];
        let pick = |ps: &[AccessPolicy]| evaluate(ps, &request).map(|m| (m.policy.id.clone(), m.rule.id.clone()));
        assert_eq!(pick(&ps), Some(("early".into(), "first".into())));
        ps[1].rules[1].active = false;
        assert_eq!(pick(&ps), Some(("early".into(), "second".into())), "an inactive rule is skipped");
        ps[1].active = false;
        assert_eq!(pick(&ps), Some(("late".into(), "late-rule".into())), "an inactive policy is skipped");
        ps[0].active = false;
        assert_eq!(pick(&ps), None);
        assert!(evaluate(&[], &request).is_none(), "a server without policies denies everything");
    }

    #[test]
    fn the_default_policy_admits_every_flow() {
        let p = [default_policy("00pdefault", "0prdefault")];
        let scopes = Scopes::parse("openid profile offline_access custom.scope").unwrap();
        for (grant, subject) in [("authorization_code", Some(Subject { user_id: "00ux", group_ids: &[] })), ("client_credentials", None)] {
            let r = PolicyRequest { client_id: "0oaany", grant_type: grant, subject, scopes: &scopes };
            assert_eq!(evaluate(&p, &r).unwrap().rule.token, TokenPolicy::OKTA_DEFAULT, "{grant}");
        }
    }

    #[test]
    fn token_bounds() {
        let cases: [((i64, i64, i64), usize); 7] = [
            ((60, 0, 10080), 0),
            ((5, 5, 5), 1),
            ((4, 0, 10080), 1),
            ((1441, 0, 10080), 1),
            ((60, 30, 10080), 2),
            ((60, 120, 100), 0),
            ((60, 120, 200), 1),
        ];
        for ((a, r, w), n) in cases {
            assert_eq!(TokenPolicy::validate(a, r, w).len(), n, "{a} {r} {w}: {:?}", TokenPolicy::validate(a, r, w));
        }
        assert_eq!(no_matching_policy().code, ErrorCode::AccessDenied);
    }
}
