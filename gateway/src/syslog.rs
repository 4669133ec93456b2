//! System Log events in Okta's shape. Events carry identifiers, names and
//! outcomes, never a secret: there is no field for a password or a token,
//! and callers pass only what is listed here.

use serde_json::{json, Value};

use crate::directory::{Group, User};

#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub kind: &'static str,
    pub alternate_id: String,
    pub display_name: String,
}

impl Actor {
    pub fn user(user: &User) -> Self {
        Self {
            id: user.id.clone(),
            kind: "User",
            alternate_id: user.login().to_owned(),
            display_name: user.display_name(),
        }
    }

    /// Someone who gave a login we do not know (or could not authenticate).
    pub fn unknown(login: &str) -> Self {
        Self { id: "unknown".into(), kind: "User", alternate_id: truncate(login, 256), display_name: "Unknown".into() }
    }

    pub fn system() -> Self {
        Self { id: "vestibule".into(), kind: "PublicClientApp", alternate_id: "vestibule".into(), display_name: "Vestibule".into() }
    }
}

#[derive(Debug, Clone)]
pub struct Target {
    pub id: String,
    pub kind: &'static str,
    pub alternate_id: String,
    pub display_name: String,
}

impl Target {
    pub fn user(user: &User) -> Self {
        Self { id: user.id.clone(), kind: "User", alternate_id: user.login().to_owned(), display_name: user.display_name() }
    }

    pub fn group(group: &Group) -> Self {
        Self { id: group.id.clone(), kind: "UserGroup", alternate_id: "unknown".into(), display_name: group.name.clone() }
    }

    pub fn other(id: &str, kind: &'static str, display_name: &str) -> Self {
        Self { id: id.to_owned(), kind, alternate_id: "unknown".into(), display_name: display_name.to_owned() }
    }
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub result: String,
    pub reason: Option<String>,
}

impl Outcome {
    pub fn success() -> Self {
        Self { result: "SUCCESS".into(), reason: None }
    }
    pub fn failure(reason: &str) -> Self {
        Self { result: "FAILURE".into(), reason: Some(reason.to_owned()) }
    }
    pub fn deny(reason: &str) -> Self {
        Self { result: "DENY".into(), reason: Some(reason.to_owned()) }
    }
}

/// Where a request came from.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
    pub request_id: String,
}

#[derive(Debug, Clone)]
pub struct LogEvent {
    pub uuid: String,
    pub published: String,
    pub event_type: String,
    pub severity: &'static str,
    pub display_message: String,
    pub actor: Actor,
    pub targets: Vec<Target>,
    pub outcome: Outcome,
    pub client_ip: String,
    pub user_agent: String,
    pub request_id: String,
    pub debug: serde_json::Map<String, Value>,
}

impl LogEvent {
    pub fn to_json(&self) -> Value {
        json!({
            "uuid": self.uuid,
            "published": self.published,
            "eventType": self.event_type,
            "version": "0",
            "severity": self.severity,
            "legacyEventType": null,
            "displayMessage": self.display_message,
            "actor": {
                "id": self.actor.id,
                "type": self.actor.kind,
                "alternateId": self.actor.alternate_id,
                "displayName": self.actor.display_name,
                "detailEntry": null,
            },
            "client": {
                "userAgent": { "rawUserAgent": self.user_agent, "os": null, "browser": null },
                "zone": "null",
                "device": null,
                "id": null,
                "ipAddress": self.client_ip,
                "geographicalContext": null,
            },
            "outcome": { "result": self.outcome.result, "reason": self.outcome.reason },
            "target": self.targets.iter().map(|t| json!({
                "id": t.id,
                "type": t.kind,
                "alternateId": t.alternate_id,
                "displayName": t.display_name,
                "detailEntry": null,
            })).collect::<Vec<_>>(),
            "transaction": { "type": "WEB", "id": self.request_id, "detail": {} },
            "debugContext": { "debugData": self.debug },
            "authenticationContext": { "authenticationProvider": null, "credentialProvider": null, "interface": null, "authenticationStep": 0, "externalSessionId": null },
            "securityContext": { "asNumber": null, "asOrg": null, "isp": null, "domain": null, "isProxy": null },
            "request": { "ipChain": [ { "ip": self.client_ip, "geographicalContext": null, "version": if self.client_ip.contains(':') { "V6" } else { "V4" }, "source": null } ] },
        })
    }
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}
