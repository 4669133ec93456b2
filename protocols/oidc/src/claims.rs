//! User claims and which of them each scope releases (OIDC Core §5.4).

use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::scope::Scopes;
use crate::server::GroupFilter;

/// OIDC Core §5.1.1 address claim.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Address {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// What the gateway knows of a user, as input to tokens and userinfo.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserClaims {
    /// The `sub`: the user's id, stable and never reassigned (OIDC Core §2).
    pub sub: String,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub middle_name: Option<String>,
    pub nickname: Option<String>,
    pub preferred_username: Option<String>,
    pub profile: Option<String>,
    pub picture: Option<String>,
    pub website: Option<String>,
    pub gender: Option<String>,
    pub birthdate: Option<String>,
    pub zoneinfo: Option<String>,
    pub locale: Option<String>,
    pub updated_at: Option<OffsetDateTime>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub address: Option<Address>,
    pub phone_number: Option<String>,
    pub phone_number_verified: Option<bool>,
    /// Group names; filtered by the server's groups filter when released.
    pub groups: Vec<String>,
    /// Group ids, for the people conditions of access policy rules; never
    /// released as a claim.
    pub group_ids: Vec<String>,
}

impl UserClaims {
    /// The claims `scopes` release, besides `sub` (OIDC Core §5.4; `groups`
    /// as Okta issues it).
    pub fn for_scopes(&self, scopes: &Scopes, groups_filter: Option<&GroupFilter>) -> Map<String, Value> {
        let mut out = Map::new();
        let mut put = |name: &str, value: Option<Value>| {
            if let Some(v) = value {
                out.insert(name.to_owned(), v);
            }
        };
        let s = |v: &Option<String>| v.clone().map(Value::String);
        if scopes.contains("profile") {
            put("name", s(&self.name));
            put("given_name", s(&self.given_name));
            put("family_name", s(&self.family_name));
            put("middle_name", s(&self.middle_name));
            put("nickname", s(&self.nickname));
            put("preferred_username", s(&self.preferred_username));
            put("profile", s(&self.profile));
            put("picture", s(&self.picture));
            put("website", s(&self.website));
            put("gender", s(&self.gender));
            put("birthdate", s(&self.birthdate));
            put("zoneinfo", s(&self.zoneinfo));
            put("locale", s(&self.locale));
            put("updated_at", self.updated_at.map(|t| Value::from(t.unix_timestamp())));
        }
        if scopes.contains("email") {
            put("email", s(&self.email));
            put("email_verified", self.email_verified.map(Value::Bool));
        }
        if scopes.contains("address") {
            put("address", self.address.as_ref().and_then(|a| serde_json::to_value(a).ok()));
        }
        if scopes.contains("phone") {
            put("phone_number", s(&self.phone_number));
            put("phone_number_verified", self.phone_number_verified.map(Value::Bool));
        }
        if let (true, Some(filter)) = (scopes.contains("groups"), groups_filter) {
            put("groups", Some(self.filtered_groups(filter)));
        }
        out
    }

    /// The names of the user's groups that `filter` admits, as a JSON array.
    pub fn filtered_groups(&self, filter: &GroupFilter) -> Value {
        Value::Array(self.groups.iter().filter(|g| filter.admits(g)).map(|g| Value::String(g.clone())).collect())
    }

    /// The claims an ID token or UserInfo response releases for `scopes`,
    /// with an app's own groups claim when it has one (Okta's groups claim
    /// of an OIDC app on the org authorization server): its name and filter
    /// replace the server's `groups`, still released only with the
    /// `groups` scope.
    pub fn for_client(
        &self,
        scopes: &Scopes,
        groups_filter: Option<&GroupFilter>,
        app_claim: Option<&crate::client::GroupsClaim>,
    ) -> Map<String, Value> {
        let Some(claim) = app_claim else { return self.for_scopes(scopes, groups_filter) };
        let mut out = self.for_scopes(scopes, None);
        if scopes.contains("groups") {
            out.insert(claim.name.clone(), self.filtered_groups(&claim.filter));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> UserClaims {
        UserClaims {
            sub: "00u1".into(),
            name: Some("Alice Liddell".into()),
            email: Some("alice@example.com".into()),
            email_verified: Some(true),
            phone_number: Some("+1 555".into()),
            address: Some(Address { country: Some("GB".into()), ..Address::default() }),
            groups: vec!["Everyone".into(), "app-admins".into()],
            ..UserClaims::default()
        }
    }

    #[test]
    fn each_scope_releases_its_claims_only() {
        let cases: [(&str, &[&str]); 6] = [
            ("openid", &[]),
            ("openid profile", &["name"]),
            ("openid email", &["email", "email_verified"]),
            ("openid phone", &["phone_number"]),
            ("openid address", &["address"]),
            ("openid groups", &["groups"]),
        ];
        for (scope, expected) in cases {
            let claims = alice().for_scopes(&Scopes::parse(scope).unwrap(), Some(&GroupFilter::Any));
            let mut keys: Vec<&str> = claims.keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(keys, expected, "{scope}");
        }
    }

    #[test]
    fn groups_are_filtered() {
        let claims = alice().for_scopes(&Scopes::parse("groups").unwrap(), Some(&GroupFilter::StartsWith("app-".into())));
        assert_eq!(claims["groups"], serde_json::json!(["app-admins"]));
        let none = alice().for_scopes(&Scopes::parse("groups").unwrap(), None);
        assert!(!none.contains_key("groups"));
    }

    #[test]
    fn an_apps_groups_claim_replaces_the_servers() {
        let claim = crate::client::GroupsClaim { name: "roles".into(), filter: GroupFilter::from_okta("REGEX", "app-.*").unwrap() };
        let with = alice().for_client(&Scopes::parse("openid groups").unwrap(), Some(&GroupFilter::Any), Some(&claim));
        assert_eq!(with.get("roles"), Some(&serde_json::json!(["app-admins"])));
        assert!(!with.contains_key("groups"));
        let without_scope = alice().for_client(&Scopes::parse("openid").unwrap(), Some(&GroupFilter::Any), Some(&claim));
        assert!(without_scope.is_empty(), "the groups scope is still needed");
        let server_only = alice().for_client(&Scopes::parse("groups").unwrap(), Some(&GroupFilter::Any), None);
        assert_eq!(server_only["groups"], serde_json::json!(["Everyone", "app-admins"]));
    }
}
