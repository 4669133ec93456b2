//! Access policies and rules of custom authorization servers, in Okta's
//! shapes (`AuthorizationServerPolicy`, `AuthorizationServerPolicyRule`)
//! under `/api/v1/authorizationServers/{id}/policies`.
//!
//! The store keeps Okta's JSON (`conditions`, `actions`), normalised and
//! validated here; [`access_policies`] turns it into the `oidc` crate's
//! model, which the runtime loads with each server. Every write reloads the
//! runtime (the path every authorization-server change takes), so the next
//! request is decided by the new policies.
//!
//! The `pub(crate)` functions are the API's operations without HTTP, for
//! the Admin Console to call with the signed-in admin as the principal.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use oidc::policy::{self, AccessPolicy, PolicyRule, TokenPolicy};
use serde_json::{json, Map, Value};

use super::runtime::{runtime, LoadedServer, ORG};
use crate::api::{Caller, Ctx, JsonBody};
use crate::auth::Principal;
use crate::directory::Permission;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, EventBuilder};
use crate::store::oauth::{OAuthPolicyRecord, OAuthPolicyRuleRecord};
use crate::store::ts;
use crate::syslog::{Actor, ClientInfo, Target};

const POLICY_TYPE: &str = "OAUTH_AUTHORIZATION_POLICY";
const RULE_TYPE: &str = "RESOURCE_ACCESS";

/// Grant type names Okta accepts in `conditions.grantTypes.include`. Only
/// `authorization_code` and `client_credentials` are flows Vestibule
/// issues tokens for; the others are accepted so that rules written for
/// Okta load unchanged, and simply never match.
const OKTA_GRANT_TYPES: [&str; 11] = [
    "authorization_code",
    "client_credentials",
    "implicit",
    "password",
    "interaction_code",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:ietf:params:oauth:grant-type:saml2-bearer",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:okta:params:oauth:grant-type:otp",
    "urn:okta:params:oauth:grant-type:oob",
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/authorizationServers/{id}/policies", get(http_list_policies).post(http_create_policy))
        .route(
            "/api/v1/authorizationServers/{id}/policies/{policy_id}",
            get(http_get_policy).put(http_replace_policy).delete(http_delete_policy),
        )
        .route("/api/v1/authorizationServers/{id}/policies/{policy_id}/lifecycle/{op}", post(http_policy_lifecycle))
        .route("/api/v1/authorizationServers/{id}/policies/{policy_id}/rules", get(http_list_rules).post(http_create_rule))
        .route(
            "/api/v1/authorizationServers/{id}/policies/{policy_id}/rules/{rule_id}",
            get(http_get_rule).put(http_replace_rule).delete(http_delete_rule),
        )
        .route("/api/v1/authorizationServers/{id}/policies/{policy_id}/rules/{rule_id}/lifecycle/{op}", post(http_rule_lifecycle))
}

// ---------------------------------------------------------------------------
// from the store to the protocol's model

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default()
}

fn include<'a>(conditions: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let mut v = conditions.get(path[0])?;
    for key in &path[1..] {
        v = v.get(key)?;
    }
    v.get("include")
}

fn minutes(actions: &Map<String, Value>, key: &str, default: i64) -> i64 {
    actions.get("token").and_then(|t| t.get(key)).and_then(Value::as_i64).unwrap_or(default)
}

/// The token lifetimes of a rule's stored `actions`.
fn token_policy(actions: &Map<String, Value>) -> TokenPolicy {
    let refresh = minutes(actions, "refreshTokenLifetimeMinutes", 0);
    TokenPolicy {
        access_token: time::Duration::minutes(minutes(actions, "accessTokenLifetimeMinutes", 60)),
        refresh_token: (refresh > 0).then(|| time::Duration::minutes(refresh)),
        refresh_window: time::Duration::minutes(minutes(actions, "refreshTokenWindowMinutes", 10080)),
    }
}

/// A server's stored policies and rules as the `oidc` crate evaluates them.
pub fn access_policies(policies: &[OAuthPolicyRecord], rules: &[OAuthPolicyRuleRecord]) -> Vec<AccessPolicy> {
    policies
        .iter()
        .map(|p| AccessPolicy {
            id: p.id.clone(),
            name: p.name.clone(),
            priority: p.priority,
            active: p.status == "ACTIVE",
            clients: strings(include(&p.conditions, &["clients"])),
            rules: rules
                .iter()
                .filter(|r| r.policy_id == p.id)
                .map(|r| PolicyRule {
                    id: r.id.clone(),
                    name: r.name.clone(),
                    priority: r.priority,
                    active: r.status == "ACTIVE",
                    grant_types: strings(include(&r.conditions, &["grantTypes"])),
                    users: strings(include(&r.conditions, &["people", "users"])),
                    groups: strings(include(&r.conditions, &["people", "groups"])),
                    scopes: strings(include(&r.conditions, &["scopes"])),
                    token: token_policy(&r.actions),
                })
                .collect(),
        })
        .collect()
}

/// Okta's Default Policy of the `default` server, with its rule, as records.
pub fn default_policy_records(server_id: &str, now: time::OffsetDateTime) -> (OAuthPolicyRecord, OAuthPolicyRuleRecord) {
    let model = policy::default_policy(crate::store::oauth::DEFAULT_POLICY_ID, crate::store::oauth::DEFAULT_RULE_ID);
    let rule = &model.rules[0];
    let as_map = |v: Value| v.as_object().cloned().unwrap_or_default();
    (
        OAuthPolicyRecord {
            id: model.id.clone(),
            server_id: server_id.to_owned(),
            name: model.name.clone(),
            description: "Default policy description".into(),
            status: "ACTIVE".into(),
            priority: 1,
            system: false,
            conditions: as_map(json!({ "clients": { "include": model.clients } })),
            created: now,
            last_updated: now,
        },
        OAuthPolicyRuleRecord {
            id: rule.id.clone(),
            policy_id: model.id.clone(),
            server_id: server_id.to_owned(),
            name: rule.name.clone(),
            status: "ACTIVE".into(),
            priority: 1,
            system: false,
            conditions: as_map(json!({
                "grantTypes": { "include": rule.grant_types },
                "people": { "groups": { "include": rule.groups }, "users": { "include": [] } },
                "scopes": { "include": rule.scopes },
            })),
            actions: as_map(json!({ "token": {
                "accessTokenLifetimeMinutes": 60,
                "refreshTokenLifetimeMinutes": 0,
                "refreshTokenWindowMinutes": 10080,
            } })),
            created: now,
            last_updated: now,
        },
    )
}

// ---------------------------------------------------------------------------
// JSON shapes

fn href(state: &AppState, path: &str, allow: &[&str]) -> Value {
    json!({ "href": state.config.absolute(path), "hints": { "allow": allow } })
}

fn policy_json(state: &AppState, p: &OAuthPolicyRecord) -> Value {
    let base = format!("/api/v1/authorizationServers/{}/policies/{}", p.server_id, p.id);
    let mut links = json!({
        "self": href(state, &base, &["GET", "PUT", "DELETE"]),
        "rules": href(state, &format!("{base}/rules"), &["GET"]),
    });
    let (op, _) = lifecycle_link(&p.status);
    links[op] = href(state, &format!("{base}/lifecycle/{op}"), &["POST"]);
    json!({
        "type": POLICY_TYPE,
        "id": p.id,
        "status": p.status,
        "name": p.name,
        "description": p.description,
        "priority": p.priority,
        "system": p.system,
        "conditions": p.conditions,
        "created": ts(p.created),
        "lastUpdated": ts(p.last_updated),
        "_links": links,
    })
}

fn rule_json(state: &AppState, r: &OAuthPolicyRuleRecord) -> Value {
    let base = format!("/api/v1/authorizationServers/{}/policies/{}/rules/{}", r.server_id, r.policy_id, r.id);
    let mut links = json!({ "self": href(state, &base, &["GET", "PUT", "DELETE"]) });
    let (op, _) = lifecycle_link(&r.status);
    links[op] = href(state, &format!("{base}/lifecycle/{op}"), &["POST"]);
    json!({
        "type": RULE_TYPE,
        "id": r.id,
        "status": r.status,
        "name": r.name,
        "priority": r.priority,
        "system": r.system,
        "conditions": r.conditions,
        "actions": r.actions,
        "created": ts(r.created),
        "lastUpdated": ts(r.last_updated),
        "_links": links,
    })
}

/// The lifecycle operation an object in `status` offers.
fn lifecycle_link(status: &str) -> (&'static str, &'static str) {
    if status == "ACTIVE" { ("deactivate", "INACTIVE") } else { ("activate", "ACTIVE") }
}

// ---------------------------------------------------------------------------
// validation of request bodies

fn name_field(body: &Map<String, Value>, causes: &mut Vec<String>) -> String {
    match body.get("name").and_then(Value::as_str).map(str::trim) {
        Some(n) if !n.is_empty() && n.chars().count() <= 100 => n.to_owned(),
        Some(n) if !n.is_empty() => {
            causes.push("name: must be at most 100 characters".into());
            String::new()
        }
        _ => {
            causes.push("name: The field cannot be left blank".into());
            String::new()
        }
    }
}

fn status_field(body: &Map<String, Value>, current: &str, causes: &mut Vec<String>) -> String {
    match body.get("status") {
        None | Some(Value::Null) => current.to_owned(),
        Some(Value::String(s)) if s == "ACTIVE" || s == "INACTIVE" => s.clone(),
        Some(_) => {
            causes.push("status: must be ACTIVE or INACTIVE".into());
            current.to_owned()
        }
    }
}

fn priority_field(body: &Map<String, Value>, causes: &mut Vec<String>) -> Option<i64> {
    match body.get("priority") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(p) if p >= 1 => Some(p),
            _ => {
                causes.push("priority: must be a whole number from 1".into());
                None
            }
        },
    }
}

fn type_field(body: &Map<String, Value>, expected: &str, causes: &mut Vec<String>) {
    if let Some(t) = body.get("type").filter(|t| !t.is_null()) {
        if t.as_str() != Some(expected) {
            causes.push(format!("type: must be {expected}"));
        }
    }
}

/// A list of strings at `path`, or a cause naming it.
fn string_list(v: Option<&Value>, path: &str, causes: &mut Vec<String>) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Some(_) => {
            causes.push(format!("{path}: must be a list of strings"));
            Vec::new()
        }
    }
}

struct PolicyFields {
    name: String,
    description: String,
    status: String,
    priority: Option<i64>,
    conditions: Map<String, Value>,
}

async fn policy_fields(state: &AppState, body: &Map<String, Value>, current_status: &str) -> ApiResult<PolicyFields> {
    let mut causes = Vec::new();
    type_field(body, POLICY_TYPE, &mut causes);
    let name = name_field(body, &mut causes);
    let description = match body.get("description") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(d)) if d.chars().count() <= 255 => d.clone(),
        Some(_) => {
            causes.push("description: must be a string of at most 255 characters".into());
            String::new()
        }
    };
    let status = status_field(body, current_status, &mut causes);
    let priority = priority_field(body, &mut causes);
    let clients = string_list(body.get("conditions").and_then(|c| c.get("clients")).and_then(|c| c.get("include")), "conditions.clients.include", &mut causes);
    if clients.is_empty() {
        causes.push("conditions.clients.include: name the clients (client ids) or ALL_CLIENTS".into());
    } else if clients.iter().any(|c| c == policy::ALL_CLIENTS) && clients.len() > 1 {
        causes.push("conditions.clients.include: ALL_CLIENTS stands alone".into());
    } else {
        for client in clients.iter().filter(|c| *c != policy::ALL_CLIENTS) {
            let known = client.len() <= 64
                && matches!(crate::apps::cache::app(state, client).await?, Some(app) if app.sign_on_mode == crate::apps::SignOnMode::OpenIdConnect);
            if !known {
                causes.push(format!("conditions.clients.include: {} is not the client id of an OpenID Connect app", truncate(client)));
            }
        }
    }
    if !causes.is_empty() {
        return Err(ApiError::validation(causes));
    }
    let conditions = json!({ "clients": { "include": clients } }).as_object().cloned().unwrap_or_default();
    Ok(PolicyFields { name, description, status, priority, conditions })
}

struct RuleFields {
    name: String,
    status: String,
    priority: Option<i64>,
    conditions: Map<String, Value>,
    actions: Map<String, Value>,
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

async fn rule_fields(state: &AppState, server: &LoadedServer, body: &Map<String, Value>, current_status: &str) -> ApiResult<RuleFields> {
    let mut causes = Vec::new();
    type_field(body, RULE_TYPE, &mut causes);
    let name = name_field(body, &mut causes);
    let status = status_field(body, current_status, &mut causes);
    let priority = priority_field(body, &mut causes);
    let empty = Map::new();
    let conditions = match body.get("conditions") {
        Some(Value::Object(c)) => c,
        _ => {
            causes.push("conditions: The field cannot be left blank".into());
            &empty
        }
    };
    let at = |path: &[&str]| include(conditions, path);

    let grant_types = string_list(at(&["grantTypes"]), "conditions.grantTypes.include", &mut causes);
    if grant_types.is_empty() {
        causes.push("conditions.grantTypes.include: name at least one grant type".into());
    }
    for g in grant_types.iter().filter(|g| !OKTA_GRANT_TYPES.contains(&g.as_str())) {
        causes.push(format!("conditions.grantTypes.include: {} is not a grant type", truncate(g)));
    }

    // Without a people condition, Okta's rule applies to everyone.
    let people_given = conditions.get("people").is_some_and(|p| !p.is_null());
    let users = string_list(at(&["people", "users"]), "conditions.people.users.include", &mut causes);
    let mut groups = string_list(at(&["people", "groups"]), "conditions.people.groups.include", &mut causes);
    if !people_given {
        groups = vec![policy::EVERYONE.to_owned()];
    } else if users.is_empty() && groups.is_empty() {
        causes.push("conditions.people: include users or groups (EVERYONE for every person)".into());
    }
    for user in &users {
        if user.len() > 64 || state.store.user(user).await?.is_none() {
            causes.push(format!("conditions.people.users.include: {} is not a user id", truncate(user)));
        }
    }
    for group in groups.iter().filter(|g| *g != policy::EVERYONE) {
        if group.len() > 64 || state.store.group(group).await?.is_none() {
            causes.push(format!("conditions.people.groups.include: {} is not a group id", truncate(group)));
        }
    }

    let scopes = string_list(at(&["scopes"]), "conditions.scopes.include", &mut causes);
    if scopes.is_empty() {
        causes.push("conditions.scopes.include: name the scopes, or * for any scope".into());
    } else if scopes.iter().any(|s| s == policy::ANY_SCOPE) && scopes.len() > 1 {
        causes.push("conditions.scopes.include: * stands alone".into());
    } else {
        for scope in scopes.iter().filter(|s| *s != policy::ANY_SCOPE && !server.server.knows_scope(s)) {
            causes.push(format!("conditions.scopes.include: {} is not a scope of this authorization server", truncate(scope)));
        }
    }

    let token = body.get("actions").and_then(|a| a.get("token"));
    let number = |key: &str, default: i64, causes: &mut Vec<String>| match token.and_then(|t| t.get(key)) {
        None | Some(Value::Null) => default,
        Some(v) => v.as_i64().unwrap_or_else(|| {
            causes.push(format!("actions.token.{key}: must be a whole number of minutes"));
            default
        }),
    };
    let access = number("accessTokenLifetimeMinutes", 60, &mut causes);
    let refresh = number("refreshTokenLifetimeMinutes", 0, &mut causes);
    let window = number("refreshTokenWindowMinutes", 10080, &mut causes);
    causes.extend(TokenPolicy::validate(access, refresh, window));
    if token.and_then(|t| t.get("inlineHook")).is_some_and(|h| !h.is_null()) {
        causes.push("actions.token.inlineHook: token inline hooks are not supported".into());
    }

    if !causes.is_empty() {
        return Err(ApiError::validation(causes));
    }
    let conditions = json!({
        "grantTypes": { "include": grant_types },
        "people": { "users": { "include": users }, "groups": { "include": groups } },
        "scopes": { "include": scopes },
    });
    let actions = json!({ "token": {
        "accessTokenLifetimeMinutes": access,
        "refreshTokenLifetimeMinutes": refresh,
        "refreshTokenWindowMinutes": window,
    } });
    Ok(RuleFields {
        name,
        status,
        priority,
        conditions: conditions.as_object().cloned().unwrap_or_default(),
        actions: actions.as_object().cloned().unwrap_or_default(),
    })
}

/// Where `id` goes among `others` (in priority order) when it asks for
/// `wanted` (1 first; past the end is last): the new 1..n numbering.
fn renumber(others: Vec<String>, id: &str, wanted: Option<i64>) -> Vec<(String, i64)> {
    let mut ids: Vec<String> = others.into_iter().filter(|o| o != id).collect();
    let at = wanted.map_or(ids.len(), |p| usize::try_from(p.max(1) - 1).unwrap_or(usize::MAX).min(ids.len()));
    ids.insert(at, id.to_owned());
    ids.into_iter().zip(1..).collect()
}

// ---------------------------------------------------------------------------
// operations (shared by the API and the Admin Console)

async fn custom_server(state: &AppState, id: &str) -> ApiResult<std::sync::Arc<LoadedServer>> {
    let rt = runtime(state).await?;
    match rt.server(id) {
        Some(s) if id != ORG => Ok(s),
        _ => Err(ApiError::not_found("AuthorizationServer", id)),
    }
}

async fn find_policy(state: &AppState, server_id: &str, policy_id: &str) -> ApiResult<(Vec<OAuthPolicyRecord>, OAuthPolicyRecord)> {
    let all = state.store.oauth_policies(server_id).await?;
    let found = all.iter().find(|p| p.id == policy_id).cloned().ok_or_else(|| ApiError::not_found("AuthorizationServerPolicy", policy_id))?;
    Ok((all, found))
}

async fn find_rule(
    state: &AppState,
    server_id: &str,
    policy_id: &str,
    rule_id: &str,
) -> ApiResult<(Vec<OAuthPolicyRuleRecord>, OAuthPolicyRuleRecord)> {
    find_policy(state, server_id, policy_id).await?;
    let rules: Vec<OAuthPolicyRuleRecord> =
        state.store.oauth_policy_rules(server_id).await?.into_iter().filter(|r| r.policy_id == policy_id).collect();
    let found = rules.iter().find(|r| r.id == rule_id).cloned().ok_or_else(|| ApiError::not_found("AuthorizationServerPolicyRule", rule_id))?;
    Ok((rules, found))
}

/// The change reaches requests the way every authorization-server change
/// does: the runtime re-reads the servers and swaps its snapshot.
async fn reload(state: &AppState) -> ApiResult<()> {
    runtime(state).await?.reload(state).await
}

async fn log(state: &AppState, principal: &Principal, client: &ClientInfo, event: &'static str, message: &str, target: Target, server_id: &str) {
    state
        .log(
            EventBuilder::new(event, message, Actor::user(&principal.user), client)
                .target(target)
                .debug("authorizationServer", server_id.to_owned()),
        )
        .await;
}

/// GET …/policies: a server's policies in priority order.
pub(crate) async fn list_policies(state: &AppState, principal: &Principal, server_id: &str) -> ApiResult<Value> {
    principal.require(Permission::Read)?;
    custom_server(state, server_id).await?;
    let policies = state.store.oauth_policies(server_id).await?;
    Ok(Value::Array(policies.iter().map(|p| policy_json(state, p)).collect()))
}

pub(crate) async fn get_policy(state: &AppState, principal: &Principal, server_id: &str, policy_id: &str) -> ApiResult<Value> {
    principal.require(Permission::Read)?;
    custom_server(state, server_id).await?;
    let (_, p) = find_policy(state, server_id, policy_id).await?;
    Ok(policy_json(state, &p))
}

/// POST …/policies: a new policy, last unless `priority` says otherwise.
pub(crate) async fn create_policy(
    state: &AppState,
    principal: &Principal,
    client: &ClientInfo,
    server_id: &str,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    principal.require(Permission::ManageOrg)?;
    custom_server(state, server_id).await?;
    let f = policy_fields(state, body, "ACTIVE").await?;
    let existing = state.store.oauth_policies(server_id).await?;
    let id = vestibule_core::id::generate("00p", &mut rand::thread_rng());
    let order = renumber(existing.iter().map(|p| p.id.clone()).collect(), &id, f.priority);
    let now = state.now();
    let record = OAuthPolicyRecord {
        priority: order.iter().find(|(i, _)| *i == id).map_or(1, |(_, p)| *p),
        id: id.clone(),
        server_id: server_id.to_owned(),
        name: f.name,
        description: f.description,
        status: f.status,
        system: false,
        conditions: f.conditions,
        created: now,
        last_updated: now,
    };
    state.store.insert_oauth_policy(&record, &[]).await?;
    state.store.set_oauth_priorities(server_id, false, &order).await?;
    reload(state).await?;
    log(state, principal, client, "policy.lifecycle.create", "Create policy", Target::other(&id, "AuthorizationServerPolicy", &record.name), server_id).await;
    Ok(policy_json(state, &record))
}

/// PUT …/policies/{policyId}: replaces name, description, conditions,
/// status and (when given) priority.
pub(crate) async fn replace_policy(
    state: &AppState,
    principal: &Principal,
    client: &ClientInfo,
    server_id: &str,
    policy_id: &str,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    principal.require(Permission::ManageOrg)?;
    custom_server(state, server_id).await?;
    let (all, current) = find_policy(state, server_id, policy_id).await?;
    let f = policy_fields(state, body, &current.status).await?;
    let order = renumber(all.iter().map(|p| p.id.clone()).collect(), policy_id, Some(f.priority.unwrap_or(current.priority)));
    let record = OAuthPolicyRecord {
        name: f.name,
        description: f.description,
        status: f.status,
        priority: order.iter().find(|(i, _)| i == policy_id).map_or(current.priority, |(_, p)| *p),
        conditions: f.conditions,
        last_updated: state.now(),
        ..current
    };
    if !state.store.update_oauth_policy(&record).await? {
        return Err(ApiError::not_found("AuthorizationServerPolicy", policy_id));
    }
    state.store.set_oauth_priorities(server_id, false, &order).await?;
    reload(state).await?;
    log(state, principal, client, "policy.lifecycle.update", "Update policy", Target::other(policy_id, "AuthorizationServerPolicy", &record.name), server_id).await;
    Ok(policy_json(state, &record))
}

/// DELETE …/policies/{policyId}, with its rules.
pub(crate) async fn delete_policy(state: &AppState, principal: &Principal, client: &ClientInfo, server_id: &str, policy_id: &str) -> ApiResult<()> {
    principal.require(Permission::ManageOrg)?;
    custom_server(state, server_id).await?;
    let (all, current) = find_policy(state, server_id, policy_id).await?;
    if current.system {
        return Err(ApiError::wrong_status("a system policy cannot be deleted"));
    }
    state.store.delete_oauth_policy(server_id, policy_id).await?;
    let order: Vec<(String, i64)> = all.into_iter().filter(|p| p.id != policy_id).map(|p| p.id).zip(1..).collect();
    state.store.set_oauth_priorities(server_id, false, &order).await?;
    reload(state).await?;
    log(state, principal, client, "policy.lifecycle.delete", "Delete policy", Target::other(policy_id, "AuthorizationServerPolicy", &current.name), server_id).await;
    Ok(())
}

/// POST …/policies/{policyId}/lifecycle/activate|deactivate.
pub(crate) async fn set_policy_status(
    state: &AppState,
    principal: &Principal,
    client: &ClientInfo,
    server_id: &str,
    policy_id: &str,
    active: bool,
) -> ApiResult<()> {
    principal.require(Permission::ManageOrg)?;
    custom_server(state, server_id).await?;
    let (_, current) = find_policy(state, server_id, policy_id).await?;
    let record = OAuthPolicyRecord { status: if active { "ACTIVE" } else { "INACTIVE" }.into(), last_updated: state.now(), ..current };
    state.store.update_oauth_policy(&record).await?;
    reload(state).await?;
    let (event, message) = if active { ("policy.lifecycle.activate", "Activate policy") } else { ("policy.lifecycle.deactivate", "Deactivate policy") };
    log(state, principal, client, event, message, Target::other(policy_id, "AuthorizationServerPolicy", &record.name), server_id).await;
    Ok(())
}

/// GET …/policies/{policyId}/rules: the policy's rules in priority order.
pub(crate) async fn list_rules(state: &AppState, principal: &Principal, server_id: &str, policy_id: &str) -> ApiResult<Value> {
    principal.require(Permission::Read)?;
    custom_server(state, server_id).await?;
    find_policy(state, server_id, policy_id).await?;
    let rules = state.store.oauth_policy_rules(server_id).await?;
    Ok(Value::Array(rules.iter().filter(|r| r.policy_id == policy_id).map(|r| rule_json(state, r)).collect()))
}

pub(crate) async fn get_rule(state: &AppState, principal: &Principal, server_id: &str, policy_id: &str, rule_id: &str) -> ApiResult<Value> {
    principal.require(Permission::Read)?;
    custom_server(state, server_id).await?;
    let (_, r) = find_rule(state, server_id, policy_id, rule_id).await?;
    Ok(rule_json(state, &r))
}

/// POST …/rules: a new rule, last unless `priority` says otherwise.
pub(crate) async fn create_rule(
    state: &AppState,
    principal: &Principal,
    client: &ClientInfo,
    server_id: &str,
    policy_id: &str,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    principal.require(Permission::ManageOrg)?;
    let server = custom_server(state, server_id).await?;
    let (_, policy) = find_policy(state, server_id, policy_id).await?;
    let f = rule_fields(state, &server, body, "ACTIVE").await?;
    let existing: Vec<String> =
        state.store.oauth_policy_rules(server_id).await?.into_iter().filter(|r| r.policy_id == policy_id).map(|r| r.id).collect();
    let id = vestibule_core::id::generate("0pr", &mut rand::thread_rng());
    let order = renumber(existing, &id, f.priority);
    let now = state.now();
    let record = OAuthPolicyRuleRecord {
        priority: order.iter().find(|(i, _)| *i == id).map_or(1, |(_, p)| *p),
        id: id.clone(),
        policy_id: policy.id.clone(),
        server_id: server_id.to_owned(),
        name: f.name,
        status: f.status,
        system: false,
        conditions: f.conditions,
        actions: f.actions,
        created: now,
        last_updated: now,
    };
    state.store.insert_oauth_policy_rule(&record).await?;
    state.store.set_oauth_priorities(server_id, true, &order).await?;
    reload(state).await?;
    log(state, principal, client, "policy.rule.add", "Add policy rule", Target::other(&id, "AuthorizationServerPolicyRule", &record.name), server_id).await;
    Ok(rule_json(state, &record))
}

/// PUT …/rules/{ruleId}: replaces the rule's name, conditions, actions,
/// status and (when given) priority.
pub(crate) async fn replace_rule(
    state: &AppState,
    principal: &Principal,
    client: &ClientInfo,
    server_id: &str,
    policy_id: &str,
    rule_id: &str,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    principal.require(Permission::ManageOrg)?;
    let server = custom_server(state, server_id).await?;
    let (rules, current) = find_rule(state, server_id, policy_id, rule_id).await?;
    let f = rule_fields(state, &server, body, &current.status).await?;
    let order = renumber(rules.iter().map(|r| r.id.clone()).collect(), rule_id, Some(f.priority.unwrap_or(current.priority)));
    let record = OAuthPolicyRuleRecord {
        name: f.name,
        status: f.status,
        priority: order.iter().find(|(i, _)| i == rule_id).map_or(current.priority, |(_, p)| *p),
        conditions: f.conditions,
        actions: f.actions,
        last_updated: state.now(),
        ..current
    };
    if !state.store.update_oauth_policy_rule(&record).await? {
        return Err(ApiError::not_found("AuthorizationServerPolicyRule", rule_id));
    }
    state.store.set_oauth_priorities(server_id, true, &order).await?;
    reload(state).await?;
    log(state, principal, client, "policy.rule.update", "Update policy rule", Target::other(rule_id, "AuthorizationServerPolicyRule", &record.name), server_id).await;
    Ok(rule_json(state, &record))
}

/// DELETE …/rules/{ruleId}.
pub(crate) async fn delete_rule(
    state: &AppState,
    principal: &Principal,
    client: &ClientInfo,
    server_id: &str,
    policy_id: &str,
    rule_id: &str,
) -> ApiResult<()> {
    principal.require(Permission::ManageOrg)?;
    custom_server(state, server_id).await?;
    let (rules, current) = find_rule(state, server_id, policy_id, rule_id).await?;
    if current.system {
        return Err(ApiError::wrong_status("a system rule cannot be deleted"));
    }
    state.store.delete_oauth_policy_rule(policy_id, rule_id).await?;
    let order: Vec<(String, i64)> = rules.into_iter().filter(|r| r.id != rule_id).map(|r| r.id).zip(1..).collect();
    state.store.set_oauth_priorities(server_id, true, &order).await?;
    reload(state).await?;
    log(state, principal, client, "policy.rule.delete", "Delete policy rule", Target::other(rule_id, "AuthorizationServerPolicyRule", &current.name), server_id).await;
    Ok(())
}

/// POST …/rules/{ruleId}/lifecycle/activate|deactivate.
pub(crate) async fn set_rule_status(
    state: &AppState,
    principal: &Principal,
    client: &ClientInfo,
    server_id: &str,
    policy_id: &str,
    rule_id: &str,
    active: bool,
) -> ApiResult<()> {
    principal.require(Permission::ManageOrg)?;
    custom_server(state, server_id).await?;
    let (_, current) = find_rule(state, server_id, policy_id, rule_id).await?;
    let record = OAuthPolicyRuleRecord { status: if active { "ACTIVE" } else { "INACTIVE" }.into(), last_updated: state.now(), ..current };
    state.store.update_oauth_policy_rule(&record).await?;
    reload(state).await?;
    let (event, message) = if active { ("policy.rule.activate", "Activate policy rule") } else { ("policy.rule.deactivate", "Deactivate policy rule") };
    log(state, principal, client, event, message, Target::other(rule_id, "AuthorizationServerPolicyRule", &record.name), server_id).await;
    Ok(())
}

// ---------------------------------------------------------------------------
// HTTP

fn lifecycle_op(op: &str) -> ApiResult<bool> {
    match op {
        "activate" => Ok(true),
        "deactivate" => Ok(false),
        _ => Err(ApiError::not_found("Lifecycle", op)),
    }
}

async fn http_list_policies(State(state): State<AppState>, Caller(principal): Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    list_policies(&state, &principal, &id).await.map(Json)
}

async fn http_get_policy(State(state): State<AppState>, Caller(principal): Caller, Path((id, policy_id)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    get_policy(&state, &principal, &id, &policy_id).await.map(Json)
}

async fn http_create_policy(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Response> {
    let created = create_policy(&state, &principal, &ctx.client, &id, &body).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn http_replace_policy(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path((id, policy_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    replace_policy(&state, &principal, &ctx.client, &id, &policy_id, &body).await.map(Json)
}

async fn http_delete_policy(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path((id, policy_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    delete_policy(&state, &principal, &ctx.client, &id, &policy_id).await.map(|()| StatusCode::NO_CONTENT)
}

async fn http_policy_lifecycle(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path((id, policy_id, op)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let active = lifecycle_op(&op)?;
    set_policy_status(&state, &principal, &ctx.client, &id, &policy_id, active).await.map(|()| StatusCode::NO_CONTENT)
}

async fn http_list_rules(State(state): State<AppState>, Caller(principal): Caller, Path((id, policy_id)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    list_rules(&state, &principal, &id, &policy_id).await.map(Json)
}

async fn http_get_rule(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((id, policy_id, rule_id)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    get_rule(&state, &principal, &id, &policy_id, &rule_id).await.map(Json)
}

async fn http_create_rule(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path((id, policy_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Response> {
    let created = create_rule(&state, &principal, &ctx.client, &id, &policy_id, &body).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn http_replace_rule(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path((id, policy_id, rule_id)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    replace_rule(&state, &principal, &ctx.client, &id, &policy_id, &rule_id, &body).await.map(Json)
}

async fn http_delete_rule(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path((id, policy_id, rule_id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    delete_rule(&state, &principal, &ctx.client, &id, &policy_id, &rule_id).await.map(|()| StatusCode::NO_CONTENT)
}

async fn http_rule_lifecycle(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path((id, policy_id, rule_id, op)): Path<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    let active = lifecycle_op(&op)?;
    set_rule_status(&state, &principal, &ctx.client, &id, &policy_id, &rule_id, active).await.map(|()| StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_are_renumbered() {
        let ids = |xs: &[&str]| xs.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        let cases: [(&[&str], &str, Option<i64>, &[&str]); 5] = [
            (&["a", "b"], "n", None, &["a", "b", "n"]),
            (&["a", "b"], "n", Some(1), &["n", "a", "b"]),
            (&["a", "b"], "n", Some(99), &["a", "b", "n"]),
            (&["a", "b", "c"], "c", Some(1), &["c", "a", "b"]),
            (&["a", "b", "c"], "a", Some(2), &["b", "a", "c"]),
        ];
        for (others, id, wanted, expected) in cases {
            let got = renumber(ids(others), id, wanted);
            let order: Vec<&str> = got.iter().map(|(i, _)| i.as_str()).collect();
            assert_eq!(order, expected, "{id} at {wanted:?}");
            assert!(got.iter().zip(1..).all(|((_, p), n)| *p == n));
        }
    }

    #[test]
    fn stored_rules_become_the_protocols_model() {
        let (p, r) = default_policy_records("default", time::OffsetDateTime::UNIX_EPOCH);
        let model = access_policies(&[p], &[r]);
        assert_eq!(model, vec![policy::default_policy(crate::store::oauth::DEFAULT_POLICY_ID, crate::store::oauth::DEFAULT_RULE_ID)]);
    }
}
