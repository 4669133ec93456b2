//! /api/v1/apps: app integrations, their assignments and signing keys;
//! /api/v1/catalog/apps: the prebuilt catalog; appLinks for people.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use vestibule_core::id;

use super::{paged, Caller, Ctx, JsonBody};
use crate::apps::cache as assignments;
use crate::apps::keys::{self, AppKey};
use crate::apps::{self, AppInstance, AppStatus, SignOnMode};
use crate::auth::{self, Principal};
use crate::directory::{Permission, User};
use crate::error::{ApiError, ApiResult};
use crate::filter::{self, Column, FieldMap, Sql};
use crate::state::{AppState, EventBuilder, Invalidation};
use crate::store::{ts, GroupAssignment, UserAssignment};
use crate::syslog::{Actor, Target};

pub fn app_json(state: &AppState, app: &AppInstance) -> Value {
    let base = state.config.absolute(&format!("/api/v1/apps/{}", app.id));
    let mut links = json!({
        "self": { "href": base },
        "users": { "href": format!("{base}/users") },
        "groups": { "href": format!("{base}/groups") },
        "appLinks": [{ "name": "launch", "href": state.config.absolute(&app.link_path()), "type": "text/html" }],
        "logo": [],
    });
    let action = if app.status == AppStatus::Active { "deactivate" } else { "activate" };
    links[action] = json!({ "href": format!("{base}/lifecycle/{action}") });
    if app.sign_on_mode == SignOnMode::Saml2 {
        links["metadata"] = json!({ "href": state.config.absolute(&format!("/app/{}/sso/saml/metadata", app.id)), "type": "application/xml" });
    }
    if app.sign_on_mode == SignOnMode::WsFederation {
        links["metadata"] = json!({ "href": state.config.absolute(&format!("/app/{}/sso/wsfed/metadata", app.id)), "type": "application/xml" });
    }
    json!({
        "id": app.id,
        "name": app.name,
        "label": app.label,
        "status": app.status.as_str(),
        "created": ts(app.created),
        "lastUpdated": ts(app.last_updated),
        "signOnMode": app.sign_on_mode.as_str(),
        "accessibility": app.accessibility,
        "visibility": app.visibility,
        "features": [],
        "settings": app.settings,
        "credentials": app.credentials,
        "profile": {},
        "_links": links,
    })
}

struct AppFields;

impl FieldMap for AppFields {
    fn column(&self, attr: &str) -> Option<Column> {
        Some(match attr {
            "status" => Column::Exact("status".into()),
            "name" => Column::Exact("name".into()),
            "signOnMode" => Column::Exact("sign_on_mode".into()),
            "id" => Column::Exact("id".into()),
            "label" => Column::LowerText("label_lower".into()),
            "lastUpdated" => Column::Timestamp("last_updated".into()),
            _ => return None,
        })
    }
}

pub async fn list(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx) -> ApiResult<Response> {
    principal.require(Permission::Read)?;
    let params = &ctx.params;
    let limit = params.limit(20, 200)?;
    let mut sql = Sql::default();
    let mut parts = 0;
    if let Some(text) = params.get("filter") {
        let expr = filter::parse(text).map_err(|e| ApiError::bad_expression("filter", &e.0))?;
        filter::compile(&expr, &AppFields, state.store.backend(), &mut sql).map_err(|e| ApiError::bad_expression("filter", &e.0))?;
        parts += 1;
    }
    if let Some(q) = params.get("q") {
        let pattern = format!("{}%", q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let p = sql.bind(pattern);
        if parts > 0 {
            sql.text.push_str(" AND ");
        }
        sql.text.push_str(&format!("(label_lower LIKE {p} ESCAPE '\\' OR name LIKE {p} ESCAPE '\\')"));
        parts += 1;
    }
    let rows = state.store.list_apps((parts > 0).then_some(&sql), params.get("after"), limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let page: Vec<Value> = rows.iter().take(limit as usize).map(|a| app_json(&state, a)).collect();
    let next = more.then(|| rows[limit as usize - 1].id.clone());
    Ok(paged(&state, "/api/v1/apps", params, Value::Array(page), next))
}

const APP_FIELDS: [&str; 13] = [
    "id", "name", "label", "signOnMode", "settings", "credentials", "visibility", "accessibility", "features", "status", "created", "lastUpdated", "_links",
];

fn object_field(body: &Map<String, Value>, key: &str) -> ApiResult<Option<Map<String, Value>>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(_) => Err(ApiError::field(key, "must be an object")),
    }
}

/// Reads an app from an Okta-shaped body; `existing` is the app being replaced.
fn app_from_body(body: &Map<String, Value>, existing: Option<&AppInstance>) -> ApiResult<(Option<String>, AppInstance)> {
    for key in body.keys() {
        if !APP_FIELDS.contains(&key.as_str()) && key != "profile" && key != "_embedded" {
            return Err(ApiError::malformed(format!("{key}: unknown field")));
        }
    }
    if body.get("features").and_then(Value::as_array).is_some_and(|f| !f.is_empty()) {
        return Err(ApiError::field("features", "provisioning features are configured with SCIM, not here"));
    }
    let text = |key: &str| -> ApiResult<Option<String>> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::field(key, "must be a string")),
        }
    };
    let name = text("name")?;
    let label = text("label")?;
    let mode = match text("signOnMode")? {
        Some(m) => Some(SignOnMode::parse(&m).ok_or_else(|| {
            ApiError::field("signOnMode", &format!("must be one of {}", SignOnMode::ALL.map(SignOnMode::as_str).join(", ")))
        })?),
        None => None,
    };
    let now = time::OffsetDateTime::UNIX_EPOCH;
    let app = match existing {
        Some(e) => {
            if name.as_deref().is_some_and(|n| n != e.name) {
                return Err(ApiError::field("name", "an app's name cannot be changed"));
            }
            if mode.is_some_and(|m| m != e.sign_on_mode) {
                return Err(ApiError::field("signOnMode", "an app's sign-on mode cannot be changed; create a new app"));
            }
            let given = object_field(body, "credentials")?;
            // Okta takes `{"credentials": {"signing": {...}}}` alone to switch
            // keys: the other credentials then stay as they are.
            let mut credentials = match given {
                Some(c) if c.keys().any(|k| k != "signing") => c,
                _ => e.credentials.clone(),
            };
            // The signing key changes only through `update_app`'s key check
            // (a kid of this app's keys); here it stays.
            match e.credentials.get("signing") {
                Some(signing) => credentials.insert("signing".into(), signing.clone()),
                None => credentials.remove("signing"),
            };
            AppInstance {
                label: label.unwrap_or_else(|| e.label.clone()),
                settings: object_field(body, "settings")?.unwrap_or_else(|| e.settings.clone()),
                credentials,
                visibility: object_field(body, "visibility")?.unwrap_or_else(|| e.visibility.clone()),
                accessibility: object_field(body, "accessibility")?.unwrap_or_else(|| e.accessibility.clone()),
                ..e.clone()
            }
        }
        None => AppInstance {
            id: String::new(),
            name: String::new(),
            label: label.unwrap_or_default(),
            status: AppStatus::Active,
            sign_on_mode: mode.unwrap_or(SignOnMode::Bookmark),
            catalog_name: None,
            settings: object_field(body, "settings")?.unwrap_or_default(),
            credentials: {
                let mut c = apps::default_credentials();
                if let Some(given) = object_field(body, "credentials")? {
                    for (k, v) in given {
                        if k != "signing" {
                            c.insert(k, v);
                        }
                    }
                }
                c
            },
            visibility: object_field(body, "visibility")?.unwrap_or_else(apps::default_visibility),
            accessibility: object_field(body, "accessibility")?.unwrap_or_else(apps::default_accessibility),
            created: now,
            last_updated: now,
        },
    };
    if existing.is_none() && mode.is_none() && name.is_none() {
        return Err(ApiError::field("signOnMode", "The field cannot be left blank"));
    }
    Ok((name, app))
}

fn slug(text: &str) -> String {
    let s: String = text.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let s = s.split('_').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("_");
    s.chars().take(40).collect()
}

/// Creates an app from an Okta-shaped body: a catalog entry (by `name`) or a
/// custom app (by `signOnMode`). Used by the API and the Admin Console.
pub async fn create_app(state: &AppState, principal: &Principal, client: &crate::syslog::ClientInfo, body: &Map<String, Value>, activate: bool) -> ApiResult<AppInstance> {
    create_app_full(state, principal, client, body, activate).await.map(|(app, _)| app)
}

/// Creates an app and returns, beside it, what must be shown once and never
/// again (an OIDC client secret), to merge into the creation response.
pub async fn create_app_full(
    state: &AppState,
    principal: &Principal,
    client: &crate::syslog::ClientInfo,
    body: &Map<String, Value>,
    activate: bool,
) -> ApiResult<(AppInstance, Option<Value>)> {
    let (name, mut app) = app_from_body(body, None)?;
    let catalog = state.catalog.snapshot();
    let mode_given = body.get("signOnMode").is_some();
    let entry = match name.as_deref() {
        Some(n) if Some(n) != SignOnMode::ALL.iter().find_map(|m| m.template_name().filter(|t| *t == n)) => {
            let entry = catalog.get(n).ok_or_else(|| ApiError::field("name", &format!("no catalog app named {}", n.chars().take(60).collect::<String>())))?;
            if !mode_given {
                app.sign_on_mode = SignOnMode::ALL
                    .into_iter()
                    .find(|m| entry.functionality().contains(&m.functionality()))
                    .ok_or_else(|| ApiError::field("name", "this catalog entry offers no sign-on mode"))?;
            }
            if app.label.is_empty() {
                app.label = entry.label().to_owned();
            }
            app.catalog_name = Some(entry.name().to_owned());
            app.name = entry.name().to_owned();
            Some(entry)
        }
        Some(template) => {
            let mode = SignOnMode::ALL.into_iter().find(|m| m.template_name() == Some(template)).expect("matched above");
            if mode_given && app.sign_on_mode != mode {
                return Err(ApiError::field("signOnMode", &format!("{template} apps use {}", mode.as_str())));
            }
            app.sign_on_mode = mode;
            app.name = template.to_owned();
            None
        }
        None => None,
    };
    if let Some(entry) = entry {
        let mut causes = apps::validate_general(&app, Some(entry));
        if causes.0.is_empty() {
            if let Err(e) = apps::apply_catalog_templates(&mut app, entry).and_then(|()| crate::swa::apply_catalog_template(&mut app, entry)) {
                causes.add("settings.app", e);
            }
        }
        if !causes.0.is_empty() {
            return Err(ApiError::validation(causes.0));
        }
    }
    let causes = apps::validate(&app, entry);
    if !causes.0.is_empty() {
        return Err(ApiError::validation(causes.0));
    }
    let now = state.now();
    app.id = id::generate(id::prefix::APP, &mut rand::thread_rng());
    if app.name.is_empty() {
        app.name = match app.sign_on_mode.template_name() {
            Some(t) => t.to_owned(),
            None => format!("{}_{}_{}", slug(&state.config.org_name), slug(&app.label), &app.id[app.id.len() - 6..].to_lowercase()),
        };
    }
    app.status = if activate { AppStatus::Active } else { AppStatus::Inactive };
    app.created = now;
    app.last_updated = now;
    let shared_password = crate::swa::take_shared_password(&mut app);
    let shown_once = crate::oauth::on_app_created(state, &mut app).await?;
    let key = generate_key(state, &app, 10).await?;
    app.credentials.insert("signing".into(), json!({ "kid": key.kid }));
    state.store.insert_app(&app, &key).await?;
    if let Some(password) = shared_password {
        crate::swa::store_shared_password(state, &app, &password).await?;
    }
    state
        .log(
            EventBuilder::new("application.lifecycle.create", "Create application", Actor::user(&principal.user), client)
                .target(Target::other(&app.id, "AppInstance", &app.label))
                .debug("signOnMode", app.sign_on_mode.as_str()),
        )
        .await;
    Ok((app, shown_once))
}

async fn generate_key(state: &AppState, app: &AppInstance, years: u32) -> ApiResult<AppKey> {
    let now = state.now();
    let label = format!("{} {}", state.config.org_name, app.label);
    let generated = tokio::task::spawn_blocking(move || keys::generate(&label, now, years))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))?;
    let kid = vestibule_core::id::random_token(20, &mut rand::thread_rng());
    Ok(AppKey {
        sealed_private_key: state.vault.seal(&format!("app_keys/{kid}"), generated.private_key_pem.expose().as_bytes()),
        kid,
        app_id: app.id.clone(),
        status: "ACTIVE".into(),
        certificate_pem: generated.certificate_pem,
        created: now,
        expires_at: now + time::Duration::days(365 * i64::from(years)),
    })
}

pub async fn create(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, JsonBody(body): JsonBody<Map<String, Value>>) -> ApiResult<Json<Value>> {
    principal.require(Permission::ManageApps)?;
    let activate = ctx.params.flag("activate", true)?;
    let (app, shown_once) = create_app_full(&state, &principal, &ctx.client, &body, activate).await?;
    let mut json = app_json(&state, &app);
    // The client secret appears in this response only, where Okta shows it.
    if let Some(Value::Object(secret)) = shown_once {
        if let Some(oauth) = json["credentials"].get_mut("oauthClient").and_then(Value::as_object_mut) {
            oauth.extend(secret);
        } else {
            json["credentials"]["oauthClient"] = Value::Object(secret);
        }
    }
    Ok(Json(json))
}

pub async fn find(state: &AppState, id: &str) -> ApiResult<AppInstance> {
    state.store.app(id).await?.ok_or_else(|| ApiError::not_found("AppInstance", id))
}

pub async fn get_one(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::Read)?;
    Ok(Json(app_json(&state, &find(&state, &id).await?)))
}

/// Replaces an app's label and settings (PUT); name and sign-on mode stay.
pub async fn update_app(state: &AppState, principal: &Principal, client: &crate::syslog::ClientInfo, id: &str, body: &Map<String, Value>) -> ApiResult<AppInstance> {
    let existing = find(state, id).await?;
    let (_, mut app) = app_from_body(body, Some(&existing))?;
    let rotated_from = switch_signing_key(state, &existing, &mut app, body).await?;
    let catalog = state.catalog.snapshot();
    let entry = existing.catalog_name.as_deref().and_then(|n| catalog.get(n));
    if let Some(entry) = entry {
        if apps::validate_general(&app, Some(entry)).0.is_empty() {
            apps::rerender_catalog_templates(&mut app, &existing, entry);
        }
    }
    let causes = apps::validate(&app, entry);
    if !causes.0.is_empty() {
        return Err(ApiError::validation(causes.0));
    }
    app.last_updated = state.now();
    let shared_password = crate::swa::take_shared_password(&mut app);
    state.store.update_app(&app).await?;
    if let Some(password) = shared_password {
        crate::swa::store_shared_password(state, &app, &password).await?;
    }
    state.invalidate(Invalidation::App { id: app.id.clone() }).await;
    if app.credentials.get("userNameTemplate") != existing.credentials.get("userNameTemplate") {
        assignments::username_format_changed(state, &app).await?;
    }
    state
        .log(
            EventBuilder::new("application.lifecycle.update", "Update application", Actor::user(&principal.user), client)
                .target(Target::other(&app.id, "AppInstance", &app.label)),
        )
        .await;
    if let Some(previous) = rotated_from {
        state
            .log(
                EventBuilder::new("app.keys.rotate", "Activate application signing key", Actor::user(&principal.user), client)
                    .target(Target::other(&app.id, "AppInstance", &app.label))
                    .debug("kid", app.signing_kid().unwrap_or_default())
                    .debug("previousKid", previous.as_str()),
            )
            .await;
    }
    Ok(app)
}

/// `credentials.signing.kid` in an update body: switching to another of the
/// app's keys (Okta's way to activate a generated key). The kid must name an
/// unexpired key of this app. Returns the kid that signed before, if it changed.
async fn switch_signing_key(state: &AppState, existing: &AppInstance, app: &mut AppInstance, body: &Map<String, Value>) -> ApiResult<Option<String>> {
    let Some(signing) = body.get("credentials").and_then(|c| c.get("signing")) else { return Ok(None) };
    let kid = match signing.get("kid") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(kid)) => kid,
        Some(_) => return Err(ApiError::field("credentials.signing.kid", "must be a string")),
    };
    let keys = state.store.app_keys(&existing.id).await?;
    let current = keys::kid_in_use(&keys, existing.signing_kid()).map(|k| k.kid.clone());
    if current.as_deref() == Some(kid.as_str()) {
        return Ok(None);
    }
    let key = keys
        .iter()
        .find(|k| &k.kid == kid)
        .ok_or_else(|| ApiError::field("credentials.signing.kid", "is not one of this app's keys (see credentials/keys)"))?;
    if key.expires_at <= state.now() {
        return Err(ApiError::field("credentials.signing.kid", "this key's certificate has expired; generate a new key"));
    }
    app.credentials.insert("signing".into(), json!({ "kid": key.kid, "lastRotated": ts(state.now()), "use": "sig" }));
    Ok(current)
}

pub async fn replace(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, Path(id): Path<String>, JsonBody(body): JsonBody<Map<String, Value>>) -> ApiResult<Json<Value>> {
    principal.require(Permission::ManageApps)?;
    let app = update_app(&state, &principal, &ctx.client, &id, &body).await?;
    Ok(Json(app_json(&state, &app)))
}

pub async fn lifecycle(State(state): State<AppState>, ctx: Ctx, Path((id, op)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::ManageApps)?;
    let status = match op.as_str() {
        "activate" => AppStatus::Active,
        "deactivate" => AppStatus::Inactive,
        _ => return Err(ApiError::not_found("Lifecycle operation", &op)),
    };
    let app = find(&state, &id).await?;
    set_app_status(&state, &principal.user, &ctx.client, app, status).await?;
    Ok(Json(json!({})))
}

/// Activates or deactivates an app (API and Admin Console alike): store,
/// cache invalidation and System Log event. Nothing happens if the app is
/// already in that status.
pub async fn set_app_status(
    state: &AppState,
    actor: &User,
    client: &crate::syslog::ClientInfo,
    mut app: AppInstance,
    status: AppStatus,
) -> Result<(), crate::store::StoreError> {
    if app.status == status {
        return Ok(());
    }
    app.status = status;
    app.last_updated = state.now();
    state.store.update_app(&app).await?;
    state.invalidate(Invalidation::App { id: app.id.clone() }).await;
    let event = if status == AppStatus::Active { "application.lifecycle.activate" } else { "application.lifecycle.deactivate" };
    state
        .log(EventBuilder::new(event, "Change application status", Actor::user(actor), client).target(Target::other(&app.id, "AppInstance", &app.label)))
        .await;
    Ok(())
}

pub async fn delete(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::ManageApps)?;
    let app = find(&state, &id).await?;
    if app.status == AppStatus::Active {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "E0000056", "Delete application forbidden.")
            .with_cause("status: deactivate the application before deleting it"));
    }
    let users = state.store.assigned_user_ids(&app.id).await?;
    state.store.delete_app(&app.id).await?;
    state.invalidate(Invalidation::App { id: app.id.clone() }).await;
    for user_id in users {
        state.invalidate(Invalidation::Assignments { user_id }).await;
    }
    state
        .log(EventBuilder::new("application.lifecycle.delete", "Delete application", Actor::user(&principal.user), &ctx.client).target(Target::other(&app.id, "AppInstance", &app.label)))
        .await;
    Ok(StatusCode::NO_CONTENT)
}

// Assignments.

fn app_user_json(state: &AppState, a: &UserAssignment) -> Value {
    json!({
        "id": a.user_id,
        "externalId": null,
        "created": ts(a.created),
        "lastUpdated": ts(a.last_updated),
        "scope": a.scope,
        "status": "ACTIVE",
        "statusChanged": ts(a.created),
        "passwordChanged": null,
        "syncState": "DISABLED",
        "credentials": { "userName": a.username },
        "profile": a.profile,
        "_links": {
            "app": { "href": state.config.absolute(&format!("/api/v1/apps/{}", a.app_id)) },
            "user": { "href": state.config.absolute(&format!("/api/v1/users/{}", a.user_id)) },
        },
    })
}

fn group_assignment_json(state: &AppState, g: &GroupAssignment) -> Value {
    json!({
        "id": g.group_id,
        "lastUpdated": ts(g.last_updated),
        "priority": g.priority,
        "profile": g.profile,
        "_links": {
            "app": { "href": state.config.absolute(&format!("/api/v1/apps/{}", g.app_id)) },
            "group": { "href": state.config.absolute(&format!("/api/v1/groups/{}", g.group_id)) },
        },
    })
}

pub async fn users(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<Response> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::Read)?;
    let app = find(&state, &id).await?;
    let limit = ctx.params.limit(50, 500)?;
    let rows = state.store.assignments_of_app(&app.id, ctx.params.get("after"), limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let page: Vec<Value> = rows.iter().take(limit as usize).map(|a| app_user_json(&state, a)).collect();
    let next = more.then(|| rows[limit as usize - 1].user_id.clone());
    Ok(paged(&state, &format!("/api/v1/apps/{}/users", app.id), &ctx.params, Value::Array(page), next))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AppUserCredentials {
    #[serde(rename = "userName")]
    user_name: Option<String>,
    /// For SWA apps: the person's password for the app, sealed in the vault.
    password: Option<PasswordValue>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PasswordValue {
    value: Option<String>,
}

impl AppUserCredentials {
    fn password(&self) -> Option<vestibule_core::Secret> {
        self.password.as_ref().and_then(|p| p.value.clone()).map(vestibule_core::Secret::new)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignUser {
    id: Option<String>,
    scope: Option<String>,
    credentials: Option<AppUserCredentials>,
    profile: Option<Map<String, Value>>,
}

fn check_app_username(name: &Option<String>) -> ApiResult<()> {
    if let Some(n) = name {
        if n.trim().is_empty() || n.chars().count() > 256 || n.chars().any(char::is_control) {
            return Err(ApiError::field("credentials.userName", "must be 1 to 256 printable characters"));
        }
    }
    Ok(())
}

async fn assign(state: &AppState, principal: &Principal, client: &crate::syslog::ClientInfo, app: &AppInstance, user: &User, body: AssignUser) -> ApiResult<Value> {
    if body.scope.as_deref().is_some_and(|s| s != "USER") {
        return Err(ApiError::field("scope", "direct assignments have scope USER"));
    }
    let password = body.credentials.as_ref().and_then(AppUserCredentials::password);
    let username = body.credentials.and_then(|c| c.user_name);
    check_app_username(&username)?;
    if password.is_some() && app.sign_on_mode != SignOnMode::AutoLogin {
        return Err(ApiError::field("credentials.password", "only Secure Web Authentication (AUTO_LOGIN) apps store passwords"));
    }
    let assignment = assignments::assign_user(state, app, user, username.clone(), body.profile.unwrap_or_default()).await?;
    if password.is_some() {
        crate::swa::set_credentials(state, app, &user.id, username.as_deref(), password.as_ref()).await?;
    }
    state
        .log(
            EventBuilder::new("application.user_membership.add", "Add user to application membership", Actor::user(&principal.user), client)
                .target(Target::user(user))
                .target(Target::other(&app.id, "AppInstance", &app.label)),
        )
        .await;
    Ok(app_user_json(state, &assignment))
}

pub async fn assign_user(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, Path(id): Path<String>, JsonBody(body): JsonBody<AssignUser>) -> ApiResult<Json<Value>> {
    principal.require(Permission::ManageApps)?;
    let app = find(&state, &id).await?;
    let user_id = body.id.clone().ok_or_else(|| ApiError::field("id", "The field cannot be left blank"))?;
    let user = state.store.user(&user_id).await?.ok_or_else(|| ApiError::field("id", "no user with this id"))?.user;
    Ok(Json(assign(&state, &principal, &ctx.client, &app, &user, body).await?))
}

pub async fn get_user(State(state): State<AppState>, ctx: Ctx, Path((id, user_id)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::Read)?;
    let app = find(&state, &id).await?;
    let a = state.store.user_assignment(&app.id, &user_id).await?.ok_or_else(|| ApiError::not_found("AppUser", &user_id))?;
    Ok(Json(app_user_json(&state, &a)))
}

/// POST /apps/{id}/users/{userId}: updates the app username or app profile.
pub async fn update_user(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, Path((id, user_id)): Path<(String, String)>, JsonBody(body): JsonBody<AssignUser>) -> ApiResult<Json<Value>> {
    principal.require(Permission::ManageApps)?;
    let app = find(&state, &id).await?;
    let mut a = state.store.user_assignment(&app.id, &user_id).await?.ok_or_else(|| ApiError::not_found("AppUser", &user_id))?;
    let password = body.credentials.as_ref().and_then(AppUserCredentials::password);
    let username = body.credentials.and_then(|c| c.user_name);
    check_app_username(&username)?;
    if password.is_some() || (username.is_some() && app.sign_on_mode == SignOnMode::AutoLogin) {
        crate::swa::set_credentials(&state, &app, &user_id, username.as_deref(), password.as_ref()).await?;
    }
    if let Some(u) = username {
        a.username = Some(u);
    }
    if let Some(p) = body.profile {
        a.profile = p;
    }
    a.last_updated = state.now();
    state.store.put_user_assignment(&a).await?;
    state.invalidate(Invalidation::Assignments { user_id: user_id.clone() }).await;
    state
        .log(
            EventBuilder::new("application.user_membership.change_username", "Update application user", Actor::user(&principal.user), &ctx.client)
                .target(Target::other(&user_id, "User", "unknown"))
                .target(Target::other(&app.id, "AppInstance", &app.label)),
        )
        .await;
    Ok(Json(app_user_json(&state, &a)))
}

pub async fn unassign_user(State(state): State<AppState>, ctx: Ctx, Path((id, user_id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::ManageApps)?;
    let app = find(&state, &id).await?;
    let a = state.store.user_assignment(&app.id, &user_id).await?.ok_or_else(|| ApiError::not_found("AppUser", &user_id))?;
    if a.scope != "USER" {
        return Err(ApiError::wrong_status("scope: this person has the app through a group; remove them from the group or unassign the group"));
    }
    assignments::unassign_user(&state, &app.id, &user_id).await?;
    state
        .log(
            EventBuilder::new("application.user_membership.remove", "Remove user from application membership", Actor::user(&principal.user), &ctx.client)
                .target(Target::other(&user_id, "User", "unknown"))
                .target(Target::other(&app.id, "AppInstance", &app.label)),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn groups(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::Read)?;
    let app = find(&state, &id).await?;
    let rows = state.store.group_assignments_of_app(&app.id).await?;
    Ok(Json(Value::Array(rows.iter().map(|g| group_assignment_json(&state, g)).collect())))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AssignGroup {
    priority: Option<i64>,
    profile: Option<Map<String, Value>>,
    #[serde(default)]
    #[allow(dead_code)]
    id: Option<String>,
}

pub async fn get_group(State(state): State<AppState>, ctx: Ctx, Path((id, group_id)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::Read)?;
    let app = find(&state, &id).await?;
    let g = state.store.group_assignment(&app.id, &group_id).await?.ok_or_else(|| ApiError::not_found("ApplicationGroupAssignment", &group_id))?;
    Ok(Json(group_assignment_json(&state, &g)))
}

pub async fn assign_group(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, Path((id, group_id)): Path<(String, String)>, body: axum::body::Bytes) -> ApiResult<Json<Value>> {
    principal.require(Permission::ManageApps)?;
    let body: AssignGroup = if body.iter().all(u8::is_ascii_whitespace) { AssignGroup::default() } else { super::parse_json(&body)? };
    let app = find(&state, &id).await?;
    let group = state.store.group(&group_id).await?.ok_or_else(|| ApiError::not_found("UserGroup", &group_id))?;
    let priority = match body.priority {
        Some(p) if !(0..=100_000).contains(&p) => return Err(ApiError::field("priority", "must be from 0 to 100000")),
        Some(p) => p,
        None => state.store.group_assignments_of_app(&app.id).await?.iter().map(|g| g.priority + 1).max().unwrap_or(0),
    };
    let grant = assignments::assign_group(&state, &app, &group.id, priority, body.profile.unwrap_or_default()).await?;
    state
        .log(
            EventBuilder::new("application.user_membership.add", "Assign group to application", Actor::user(&principal.user), &ctx.client)
                .target(Target::group(&group))
                .target(Target::other(&app.id, "AppInstance", &app.label)),
        )
        .await;
    Ok(Json(group_assignment_json(&state, &grant)))
}

pub async fn unassign_group(State(state): State<AppState>, ctx: Ctx, Path((id, group_id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::ManageApps)?;
    let app = find(&state, &id).await?;
    if !assignments::unassign_group(&state, &app, &group_id).await? {
        return Err(ApiError::not_found("ApplicationGroupAssignment", &group_id));
    }
    state
        .log(
            EventBuilder::new("application.user_membership.remove", "Unassign group from application", Actor::user(&principal.user), &ctx.client)
                .target(Target::other(&group_id, "UserGroup", "unknown"))
                .target(Target::other(&app.id, "AppInstance", &app.label)),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn keys(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::Read)?;
    let app = find(&state, &id).await?;
    let keys = state.store.app_keys(&app.id).await?;
    Ok(Json(Value::Array(keys.iter().map(keys::jwk).collect())))
}

pub async fn key(State(state): State<AppState>, ctx: Ctx, Path((id, kid)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::Read)?;
    let app = find(&state, &id).await?;
    let keys = state.store.app_keys(&app.id).await?;
    let key = keys.iter().find(|k| k.kid == kid).ok_or_else(|| ApiError::not_found("JsonWebKey", &kid))?;
    Ok(Json(keys::jwk(key)))
}

/// Generates a new signing key for an app, valid for `years` (Okta: 2 to
/// 10). Metadata publishes it at once; it signs only once
/// `credentials.signing.kid` names it. Used by the API and the Admin Console.
pub async fn generate_app_key(state: &AppState, actor: &User, client: &crate::syslog::ClientInfo, app: &AppInstance, years: u32) -> ApiResult<AppKey> {
    if !keys::VALIDITY_YEARS.contains(&years) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "E0000001", "Api validation failed: generateKey")
            .with_cause("validityYears: Validity years out of range. It should be 2 - 10 years."));
    }
    if !matches!(app.sign_on_mode, SignOnMode::Saml2 | SignOnMode::WsFederation) {
        return Err(ApiError::field("signOnMode", "only SAML 2.0 and WS-Federation apps sign with app keys"));
    }
    let mut key = generate_key(state, app, years).await?;
    // A key's role (next or previous) follows creation order, so a new key
    // is always later than the app's newest, even within one millisecond or
    // after the clock stepped back.
    if let Some(newest) = state.store.app_keys(&app.id).await?.iter().map(|k| k.created).max() {
        if key.created <= newest {
            key.created = newest + time::Duration::milliseconds(1);
        }
    }
    state.store.insert_app_key(&key).await?;
    // Metadata is read per request; the app cache holds nothing about keys,
    // but the invalidation is what another node would hear.
    state.invalidate(Invalidation::App { id: app.id.clone() }).await;
    state
        .log(
            EventBuilder::new("app.keys.generate", "Generate application signing key", Actor::user(actor), client)
                .target(Target::other(&app.id, "AppInstance", &app.label))
                .debug("kid", key.kid.as_str())
                .debug("expiresAt", ts(key.expires_at)),
        )
        .await;
    Ok(key)
}

/// Deletes one of an app's signing keys: never the one in use. Metadata
/// stops publishing it, and its parsed form leaves the key cache.
pub async fn delete_app_key(state: &AppState, actor: &User, client: &crate::syslog::ClientInfo, app: &AppInstance, kid: &str) -> ApiResult<()> {
    let keys = state.store.app_keys(&app.id).await?;
    let in_use = keys::kid_in_use(&keys, app.signing_kid()).map(|k| k.kid.clone()).unwrap_or_default();
    if !keys.iter().any(|k| k.kid == kid) {
        return Err(ApiError::not_found("JsonWebKey", kid));
    }
    if kid == in_use {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "E0000001", "Api validation failed: deleteKey")
            .with_cause("credentials.signing.kid: the app signs with this key; activate another key first"));
    }
    if !state.store.delete_app_key(&app.id, kid, &in_use).await? {
        return Err(ApiError::not_found("JsonWebKey", kid));
    }
    state.invalidate(Invalidation::SigningKey { kid: kid.to_owned() }).await;
    state.invalidate(Invalidation::App { id: app.id.clone() }).await;
    state
        .log(
            EventBuilder::new("app.keys.delete", "Delete application signing key", Actor::user(actor), client)
                .target(Target::other(&app.id, "AppInstance", &app.label))
                .debug("kid", kid),
        )
        .await;
    Ok(())
}

/// POST /api/v1/apps/{id}/credentials/keys/generate?validityYears=N
pub async fn generate(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<(StatusCode, Json<Value>)> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::ManageApps)?;
    let app = find(&state, &id).await?;
    let years = match ctx.params.get("validityYears") {
        None => return Err(ApiError::field("validityYears", "The field cannot be left blank")),
        Some(text) => text.parse::<u32>().map_err(|_| ApiError::field("validityYears", "must be a whole number of years from 2 to 10"))?,
    };
    let key = generate_app_key(&state, &principal.user, &ctx.client, &app, years).await?;
    Ok((StatusCode::CREATED, Json(keys::jwk(&key))))
}

/// DELETE /api/v1/apps/{id}/credentials/keys/{kid}
pub async fn delete_key(State(state): State<AppState>, ctx: Ctx, Path((id, kid)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::ManageApps)?;
    let app = find(&state, &id).await?;
    delete_app_key(&state, &principal.user, &ctx.client, &app, &kid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One dashboard link, in Okta's AssignedAppLink shape.
pub fn app_link_json(state: &AppState, app: &AppInstance, assignment: &assignments::AssignedApp, user_id: &str) -> Value {
    json!({
        "id": format!("{}_{}", app.id, user_id),
        "label": app.label,
        "linkUrl": state.config.absolute(&app.link_path()),
        "logoUrl": null,
        "appName": app.name,
        "appInstanceId": app.id,
        "appAssignmentId": format!("{}_{}", app.id, user_id),
        "credentialsSetup": false,
        "hidden": app.hidden(),
        "sortOrder": assignment.sort_order,
    })
}

/// The apps a person can launch: assigned, active, through the caches.
pub async fn launchable_links(state: &AppState, user_id: &str) -> ApiResult<Vec<(Arc<AppInstance>, assignments::AssignedApp)>> {
    let assigned = assignments::assigned_apps(state, user_id).await?;
    let mut links = Vec::with_capacity(assigned.len());
    for a in assigned.iter() {
        if let Some(app) = assignments::app(state, &a.app_id).await? {
            if app.status == AppStatus::Active {
                links.push((app, a.clone()));
            }
        }
    }
    Ok(links)
}

pub async fn app_links(State(state): State<AppState>, ctx: Ctx, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    let user_id = if key == "me" {
        principal.user.id.clone()
    } else {
        let record = state.store.user_by_id_or_login(&key).await?.ok_or_else(|| ApiError::not_found("User", &key))?;
        if record.user.id != principal.user.id {
            principal.require(Permission::Read)?;
        }
        record.user.id
    };
    let links = launchable_links(&state, &user_id).await?;
    Ok(Json(Value::Array(links.iter().map(|(app, a)| app_link_json(&state, app, a, &user_id)).collect())))
}

pub async fn group_apps(State(state): State<AppState>, ctx: Ctx, Path(group_id): Path<String>) -> ApiResult<Json<Value>> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::Read)?;
    state.store.group(&group_id).await?.ok_or_else(|| ApiError::not_found("UserGroup", &group_id))?;
    let mut out = Vec::new();
    for grant in state.store.group_assignments_of_group(&group_id).await? {
        if let Some(app) = state.store.app(&grant.app_id).await? {
            out.push(app_json(&state, &app));
        }
    }
    Ok(Json(Value::Array(out)))
}

// The catalog.

pub fn catalog_query<'a>(params: &'a super::Params) -> ApiResult<::catalog::Query<'a>> {
    let parse = |name: &str| params.get(name);
    Ok(::catalog::Query {
        text: parse("q").unwrap_or(""),
        use_case: match parse("useCase") {
            Some(v) => Some(::catalog::UseCase::parse(v).ok_or_else(|| ApiError::field("useCase", &format!("must be one of {}", ::catalog::UseCase::ALL.iter().map(|u| u.as_str()).collect::<Vec<_>>().join(", "))))?),
            None => None,
        },
        functionality: match parse("functionality") {
            Some(v) => Some(::catalog::Functionality::parse(v).ok_or_else(|| ApiError::field("functionality", &format!("must be one of {}", ::catalog::Functionality::ALL.iter().map(|u| u.as_str()).collect::<Vec<_>>().join(", "))))?),
            None => None,
        },
        industry: match parse("industry") {
            Some(v) => Some(::catalog::Industry::parse(v).ok_or_else(|| ApiError::field("industry", &format!("must be one of {}", ::catalog::Industry::ALL.iter().map(|u| u.as_str()).collect::<Vec<_>>().join(", "))))?),
            None => None,
        },
        after: parse("after"),
        limit: Some(params.limit(20, ::catalog::MAX_LIMIT as i64)? as usize),
    })
}

pub async fn catalog_search(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Response> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::Read)?;
    let query = catalog_query(&ctx.params)?;
    let catalog = state.catalog.snapshot();
    let page = catalog.search(&query).map_err(|e| match e {
        ::catalog::Error::UnknownCursor { .. } => ApiError::field("after", "is not a cursor from this search"),
        other => ApiError::field("q", &other.to_string()),
    })?;
    let body = serde_json::to_value(&page.apps).map_err(|e| ApiError::internal(&e))?;
    let next = page.next_after.map(str::to_owned);
    Ok(paged(&state, "/api/v1/catalog/apps", &ctx.params, body, next))
}

pub async fn catalog_entry(State(state): State<AppState>, ctx: Ctx, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::Read)?;
    let catalog = state.catalog.snapshot();
    let entry = catalog.get(&name).ok_or_else(|| ApiError::not_found("CatalogApp", &name))?;
    Ok(Json(serde_json::to_value(entry).map_err(|e| ApiError::internal(&e))?))
}

pub async fn catalog_reload(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Json<Value>> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::ManageOrg)?;
    let count = state.catalog.reload().map_err(|e| ApiError::field("catalog", &e))?;
    state
        .log(EventBuilder::new("system.catalog.reload", "Reload app catalog", Actor::user(&principal.user), &ctx.client).debug("entries", count))
        .await;
    Ok(Json(json!({ "entries": count })))
}
