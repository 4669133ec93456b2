//! /api/v1/users: the directory's people, their lifecycle and admin roles.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use vestibule_core::{id, Secret};

use super::{Caller, paged, Ctx, JsonBody};
use crate::auth::{self, Principal};
use crate::crypto::{digest_token, random_secret};
use crate::directory::{AdminRole, Lifecycle, Permission, User, UserStatus};
use crate::error::{ApiError, ApiResult};
use crate::filter::{self, Column, FieldMap, Sql};
use crate::state::{AppState, EventBuilder, Invalidation};
use crate::store::{ts, NewUser, UserQuery, UserRecord};
use crate::syslog::{Actor, Target};

/// How long activation and password-reset links stay valid.
pub const USER_TOKEN_LIFETIME: time::Duration = time::Duration::days(7);

pub fn user_json(state: &AppState, user: &User) -> Value {
    let opt = |t: Option<time::OffsetDateTime>| t.map(ts);
    json!({
        "id": user.id,
        "status": user.status.as_str(),
        "created": ts(user.created),
        "activated": opt(user.activated),
        "statusChanged": opt(user.status_changed),
        "lastLogin": opt(user.last_login),
        "lastUpdated": ts(user.last_updated),
        "passwordChanged": opt(user.password_changed),
        "transitioningToStatus": null,
        "type": { "id": "oty_default" },
        "profile": user.profile,
        "credentials": credentials_json(user),
        "_links": {
            "self": { "href": state.config.absolute(&format!("/api/v1/users/{}", user.id)) },
        },
    })
}

fn credentials_json(user: &User) -> Value {
    let mut credentials = json!({ "provider": { "type": "OKTA", "name": "OKTA" } });
    if user.has_password {
        credentials["password"] = json!({});
    }
    credentials
}

struct UserFields {
    /// `filter` allows Okta's short list; `search` any profile attribute.
    search: bool,
}

impl FieldMap for UserFields {
    fn column(&self, attr: &str) -> Option<Column> {
        let fixed = match attr {
            "id" => Column::Exact("id".into()),
            "status" => Column::Exact("status".into()),
            "created" => Column::Timestamp("created".into()),
            "activated" => Column::Timestamp("activated".into()),
            "statusChanged" => Column::Timestamp("status_changed".into()),
            "lastUpdated" => Column::Timestamp("last_updated".into()),
            "lastLogin" => Column::Timestamp("last_login".into()),
            "passwordChanged" => Column::Timestamp("password_changed".into()),
            "profile.login" => Column::LowerText("login_lower".into()),
            "profile.email" => Column::LowerText("email_lower".into()),
            "profile.firstName" => Column::LowerText("first_name_lower".into()),
            "profile.lastName" => Column::LowerText("last_name_lower".into()),
            other => {
                let key = other.strip_prefix("profile.").filter(|k| filter::is_safe_key(k))?;
                if !self.search {
                    return None;
                }
                return Some(Column::JsonText { column: "profile".into(), key: key.into() });
            }
        };
        if !self.search && matches!(attr, "created" | "activated" | "statusChanged" | "lastLogin" | "passwordChanged") {
            return None;
        }
        Some(fixed)
    }
}

pub async fn list(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Response> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::Read)?;
    let params = &ctx.params;
    let limit = params.limit(200, 200)?;
    let condition = list_condition(&state, params)?;
    let rows = state
        .store
        .list_users(&UserQuery { condition, after: params.get("after").map(str::to_owned), limit: limit + 1 })
        .await?;
    let more = rows.len() as i64 > limit;
    let page: Vec<Value> = rows.iter().take(limit as usize).map(|u| user_json(&state, u)).collect();
    let next = more.then(|| rows[limit as usize - 1].id.clone());
    Ok(paged(&state, "/api/v1/users", params, Value::Array(page), next))
}

fn list_condition(state: &AppState, params: &super::Params) -> ApiResult<Option<Sql>> {
    let backend = state.store.backend();
    let mut sql = Sql::default();
    let mut parts = 0;
    for (name, search) in [("filter", false), ("search", true)] {
        if let Some(text) = params.get(name) {
            let expr = filter::parse(text).map_err(|e| ApiError::bad_expression(name, &e.0))?;
            if parts > 0 {
                sql.text.push_str(" AND ");
            }
            filter::compile(&expr, &UserFields { search }, backend, &mut sql)
                .map_err(|e| ApiError::bad_expression(name, &e.0))?;
            parts += 1;
        }
    }
    if let Some(q) = params.get("q") {
        let pattern = format!("{}%", q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let p = sql.bind(pattern);
        if parts > 0 {
            sql.text.push_str(" AND ");
        }
        sql.text.push_str(&format!(
            "(login_lower LIKE {p} ESCAPE '\\' OR email_lower LIKE {p} ESCAPE '\\' OR first_name_lower LIKE {p} ESCAPE '\\' OR last_name_lower LIKE {p} ESCAPE '\\')"
        ));
        parts += 1;
    }
    if params.get("filter").is_none() && params.get("search").is_none() {
        // Okta leaves deactivated people out of a plain listing.
        if parts > 0 {
            sql.text.push_str(" AND ");
        }
        sql.text.push_str("status <> 'DEPROVISIONED'");
        parts += 1;
    }
    Ok((parts > 0).then_some(sql))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordValue {
    value: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CredentialsIn {
    password: Option<PasswordValue>,
    provider: Option<Value>,
    recovery_question: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    profile: Map<String, Value>,
    credentials: Option<CredentialsIn>,
    #[serde(rename = "groupIds")]
    group_ids: Option<Vec<String>>,
    #[serde(rename = "type")]
    kind: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    profile: Option<Map<String, Value>>,
    credentials: Option<CredentialsIn>,
    #[serde(rename = "type")]
    kind: Option<Value>,
}

const MAX_PROFILE_ATTRIBUTES: usize = 100;
const MAX_VALUE_CHARS: usize = 1024;

/// Checks a profile as Okta's default user schema does; each cause names its field.
pub fn validate_profile(profile: &Map<String, Value>) -> Vec<String> {
    let mut causes = Vec::new();
    for key in ["login", "email", "firstName", "lastName"] {
        match profile.get(key) {
            None | Some(Value::Null) => causes.push(format!("{key}: The field cannot be left blank")),
            Some(Value::String(s)) if s.trim().is_empty() => causes.push(format!("{key}: The field cannot be left blank")),
            Some(Value::String(_)) => {}
            Some(_) => causes.push(format!("{key}: must be a string")),
        }
    }
    if let Some(Value::String(login)) = profile.get("login") {
        if login.chars().count() > 100 {
            causes.push("login: must be at most 100 characters".into());
        } else if !looks_like_email(login) && !login.trim().is_empty() {
            causes.push("login: Username must be in the form of an email address".into());
        }
    }
    if let Some(Value::String(email)) = profile.get("email") {
        if !email.trim().is_empty() && !looks_like_email(email) {
            causes.push("email: Does not match required pattern".into());
        }
    }
    if profile.len() > MAX_PROFILE_ATTRIBUTES {
        causes.push(format!("profile: at most {MAX_PROFILE_ATTRIBUTES} attributes"));
    }
    for (key, value) in profile {
        if !filter::is_safe_key(key) {
            causes.push(format!("{key}: attribute names are letters, digits and _ (at most 64)"));
            continue;
        }
        let scalar_ok = |v: &Value| match v {
            Value::String(s) => s.chars().count() <= MAX_VALUE_CHARS,
            Value::Null | Value::Bool(_) | Value::Number(_) => true,
            _ => false,
        };
        let ok = match value {
            Value::Array(items) => items.len() <= 100 && items.iter().all(scalar_ok),
            other => scalar_ok(other),
        };
        if !ok {
            causes.push(format!("{key}: must be a string (at most {MAX_VALUE_CHARS} characters), number, boolean or a list of them"));
        }
    }
    causes
}

fn looks_like_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else { return false };
    !local.is_empty()
        && text.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
}

fn password_of(credentials: &Option<CredentialsIn>) -> ApiResult<Option<Secret>> {
    let Some(c) = credentials else { return Ok(None) };
    if c.provider.is_some() || c.recovery_question.is_some() {
        return Err(ApiError::field("credentials", "only password credentials are supported"));
    }
    match c.password.as_ref().and_then(|p| p.value.clone()) {
        Some(v) => Ok(Some(Secret::new(v))),
        None if c.password.is_some() => Err(ApiError::field("password", "value is required")),
        None => Ok(None),
    }
}

async fn checked_hash(state: &AppState, password: &Secret, profile: &Map<String, Value>) -> ApiResult<String> {
    let text = |k: &str| profile.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let (first, last) = (text("firstName"), text("lastName"));
    crate::passwords::check_policy(password.expose(), state.config.passwords.min_length, &text("login"), &[&first, &last])
        .map_err(|v| ApiError::field("password", &v.0))?;
    state.hasher.hash(password).await.map_err(|_| ApiError::rate_limited())
}

pub async fn create(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, JsonBody(body): JsonBody<CreateUser>) -> ApiResult<Response> {
    principal.require(Permission::ManageUsers)?;
    let activate = ctx.params.flag("activate", true)?;
    if let Some(kind) = &body.kind {
        if kind.get("id").and_then(Value::as_str).is_some_and(|t| t != "oty_default") {
            return Err(ApiError::field("type.id", "only the default user type exists"));
        }
    }
    let causes = validate_profile(&body.profile);
    if !causes.is_empty() {
        return Err(ApiError::validation(causes));
    }
    let group_ids = body.group_ids.unwrap_or_default();
    for group_id in &group_ids {
        if state.store.group(group_id).await?.is_none() {
            return Err(ApiError::field("groupIds", &format!("no group with id {}", group_id.chars().take(40).collect::<String>())));
        }
    }
    let password = password_of(&body.credentials)?;
    let password_hash = match &password {
        Some(p) => Some(checked_hash(&state, p, &body.profile).await?),
        None => None,
    };
    let status = match (activate, password_hash.is_some()) {
        (false, _) => UserStatus::Staged,
        (true, true) => UserStatus::Active,
        (true, false) => UserStatus::Provisioned,
    };
    let now = state.now();
    let new = NewUser {
        id: id::generate(id::prefix::USER, &mut rand::thread_rng()),
        status,
        profile: body.profile,
        password_hash,
        at: now,
    };
    state.store.insert_user(&new, &group_ids).await?;
    for group_id in &group_ids {
        crate::apps::cache::membership_changed(&state, group_id, &new.id).await?;
    }
    let record = state.store.user(&new.id).await?.ok_or_else(|| ApiError::internal(&"user vanished after insert"))?;
    state
        .log(
            EventBuilder::new("user.lifecycle.create", "Create user", Actor::user(&principal.user), &ctx.client)
                .target(Target::user(&record.user)),
        )
        .await;
    if activate {
        state
            .log(
                EventBuilder::new("user.lifecycle.activate", "Activate user", Actor::user(&principal.user), &ctx.client)
                    .target(Target::user(&record.user)),
            )
            .await;
    }
    Ok((StatusCode::OK, Json(user_json(&state, &record.user))).into_response())
}

/// Resolves `{id}` (an id, a login, or `me`) to a user.
async fn find(state: &AppState, principal: &Principal, key: &str) -> ApiResult<UserRecord> {
    let key = if key == "me" { principal.user.id.as_str() } else { key };
    state.store.user_by_id_or_login(key).await?.ok_or_else(|| ApiError::not_found("User", key))
}

pub async fn get_one(State(state): State<AppState>, ctx: Ctx, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    let record = find(&state, &principal, &key).await?;
    if record.user.id != principal.user.id {
        principal.require(Permission::Read)?;
    }
    Ok(Json(user_json(&state, &record.user)))
}

/// POST: a partial update; PUT: replaces the profile.
async fn write_user(state: AppState, principal: Principal, ctx: Ctx, key: String, body: UpdateUser, replace: bool) -> ApiResult<Json<Value>> {
    principal.require(Permission::ManageUsers)?;
    let record = find(&state, &principal, &key).await?;
    if body.kind.is_some() {
        return Err(ApiError::field("type", "a user's type cannot be changed"));
    }
    let profile = match (body.profile, replace) {
        (Some(p), true) => p,
        (Some(p), false) => {
            let mut merged = record.user.profile.clone();
            for (k, v) in p {
                merged.insert(k, v);
            }
            merged
        }
        (None, true) => return Err(ApiError::field("profile", "The field cannot be left blank")),
        (None, false) => record.user.profile.clone(),
    };
    let causes = validate_profile(&profile);
    if !causes.is_empty() {
        return Err(ApiError::validation(causes));
    }
    let password = password_of(&body.credentials)?;
    let hash = match &password {
        Some(p) => Some(checked_hash(&state, p, &profile).await?),
        None => None,
    };
    let now = state.now();
    if profile != record.user.profile {
        state.store.update_profile(&record.user.id, &profile, now).await?;
        state
            .log(
                EventBuilder::new("user.account.update_profile", "Update user profile", Actor::user(&principal.user), &ctx.client)
                    .target(Target::user(&record.user)),
            )
            .await;
    }
    if let Some(hash) = hash {
        state.store.set_password(&record.user.id, Some(&hash), now).await?;
        state
            .log(
                EventBuilder::new("user.account.update_password", "Update password", Actor::user(&principal.user), &ctx.client)
                    .target(Target::user(&record.user)),
            )
            .await;
    }
    state.invalidate(Invalidation::User { id: record.user.id.clone() }).await;
    let updated = state.store.user(&record.user.id).await?.ok_or_else(|| ApiError::not_found("User", &key))?;
    if updated.user.profile != record.user.profile {
        crate::apps::cache::profile_changed(&state, &updated.user).await?;
    }
    Ok(Json(user_json(&state, &updated.user)))
}

pub async fn update(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, Path(key): Path<String>, JsonBody(body): JsonBody<UpdateUser>) -> ApiResult<Json<Value>> {
    write_user(state, principal, ctx, key, body, false).await
}

pub async fn replace(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, Path(key): Path<String>, JsonBody(body): JsonBody<UpdateUser>) -> ApiResult<Json<Value>> {
    write_user(state, principal, ctx, key, body, true).await
}

/// Deleting a user who is not yet deactivated deactivates them (as Okta
/// does); deleting a deactivated user removes them.
pub async fn delete(State(state): State<AppState>, ctx: Ctx, Path(key): Path<String>) -> ApiResult<StatusCode> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::ManageUsers)?;
    let record = find(&state, &principal, &key).await?;
    if record.user.id == principal.user.id {
        return Err(ApiError::forbidden().with_cause("id: you cannot delete yourself"));
    }
    let actor = Actor::user(&principal.user);
    if record.user.status != UserStatus::Deprovisioned {
        transition(&state, &record.user, UserStatus::Deprovisioned).await?;
        state
            .log(EventBuilder::new("user.lifecycle.deactivate", "Deactivate user", actor, &ctx.client).target(Target::user(&record.user)))
            .await;
        return Ok(StatusCode::NO_CONTENT);
    }
    state.store.delete_user(&record.user.id).await?;
    state.invalidate(Invalidation::User { id: record.user.id.clone() }).await;
    state.invalidate(Invalidation::Assignments { user_id: record.user.id.clone() }).await;
    state
        .log(EventBuilder::new("user.lifecycle.delete.completed", "Delete user", actor, &ctx.client).target(Target::user(&record.user)))
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Applies a status change and its consequences (sessions end when a person
/// can no longer sign in).
async fn transition(state: &AppState, user: &User, to: UserStatus) -> ApiResult<()> {
    state.store.set_status(&user.id, to, state.now()).await?;
    if matches!(to, UserStatus::Deprovisioned | UserStatus::Suspended | UserStatus::Recovery) {
        auth::end_user_sessions(state, &user.id).await;
    }
    state.invalidate(Invalidation::User { id: user.id.clone() }).await;
    Ok(())
}

pub async fn lifecycle(State(state): State<AppState>, ctx: Ctx, Path((key, op)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::ManageUsers)?;
    let operation = Lifecycle::parse(&op).ok_or_else(|| ApiError::not_found("Lifecycle operation", &op))?;
    let record = find(&state, &principal, &key).await?;
    let user = &record.user;
    let send_email = ctx.params.flag("sendEmail", true)?;
    let Some(to) = operation.next(user.status, user.has_password) else {
        return Err(match operation {
            Lifecycle::Activate => ApiError::new(StatusCode::FORBIDDEN, "E0000016", "Activation failed because the user is already active"),
            _ => ApiError::wrong_status(format!("status: {} does not allow {op}", user.status.as_str())),
        });
    };
    let needs_link = matches!((operation, to), (Lifecycle::Activate | Lifecycle::Reactivate, UserStatus::Provisioned) | (Lifecycle::ResetPassword, _));
    if needs_link && send_email {
        return Err(ApiError::field("sendEmail", "email delivery is not configured: call with sendEmail=false and give the person the returned link"));
    }
    if user.id == principal.user.id && matches!(operation, Lifecycle::Deactivate | Lifecycle::Suspend) {
        return Err(ApiError::forbidden().with_cause("id: you cannot deactivate or suspend yourself"));
    }
    transition(&state, user, to).await?;
    let (event_type, message) = match operation {
        Lifecycle::Activate => ("user.lifecycle.activate", "Activate user"),
        Lifecycle::Reactivate => ("user.lifecycle.reactivate", "Reactivate user"),
        Lifecycle::Deactivate => ("user.lifecycle.deactivate", "Deactivate user"),
        Lifecycle::Suspend => ("user.lifecycle.suspend", "Suspend user"),
        Lifecycle::Unsuspend => ("user.lifecycle.unsuspend", "Unsuspend user"),
        Lifecycle::Unlock => ("user.account.unlock", "Unlock user account"),
        Lifecycle::ResetPassword => ("user.account.reset_password", "Reset password"),
    };
    state
        .log(EventBuilder::new(event_type, message, Actor::user(&principal.user), &ctx.client).target(Target::user(user)))
        .await;
    if !needs_link {
        return Ok(Json(json!({})));
    }
    let (purpose, path, field) = if operation == Lifecycle::ResetPassword {
        ("reset", "/signin/reset-password", "resetPasswordUrl")
    } else {
        ("activation", "/welcome", "activationUrl")
    };
    state.store.delete_one_time_tokens(&user.id, purpose).await?;
    let token = random_secret();
    let now = state.now();
    state.store.insert_one_time_token(&digest_token(&token), purpose, &user.id, now, now + USER_TOKEN_LIFETIME).await?;
    let url = state.config.absolute(&format!("{path}/{token}"));
    let mut body = json!({ field: url });
    if purpose == "activation" {
        body["activationToken"] = json!(token);
    }
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    #[serde(rename = "oldPassword")]
    old_password: PasswordValue,
    #[serde(rename = "newPassword")]
    new_password: PasswordValue,
}

pub async fn change_password(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, Path(key): Path<String>, JsonBody(body): JsonBody<ChangePassword>) -> ApiResult<Json<Value>> {
    let record = find(&state, &principal, &key).await?;
    if record.user.id != principal.user.id {
        principal.require(Permission::ManageUsers)?;
    }
    let old = Secret::new(body.old_password.value.unwrap_or_default());
    let new = Secret::new(body.new_password.value.ok_or_else(|| ApiError::field("newPassword", "value is required"))?);
    let ok = state.hasher.verify(&old, record.password_hash.as_deref()).await.map_err(|_| ApiError::rate_limited())?;
    if !ok {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "E0000014", "Update of credentials failed").with_cause("oldPassword: The credentials provided were incorrect."));
    }
    let hash = checked_hash(&state, &new, &record.user.profile).await?;
    state.store.set_password(&record.user.id, Some(&hash), state.now()).await?;
    state
        .log(
            EventBuilder::new("user.account.update_password", "Update password", Actor::user(&principal.user), &ctx.client)
                .target(Target::user(&record.user)),
        )
        .await;
    let updated = state.store.user(&record.user.id).await?.ok_or_else(|| ApiError::not_found("User", &key))?;
    Ok(Json(credentials_json(&updated.user)))
}

pub async fn groups(State(state): State<AppState>, ctx: Ctx, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    let record = find(&state, &principal, &key).await?;
    if record.user.id != principal.user.id {
        principal.require(Permission::Read)?;
    }
    let groups = state.store.groups_of_user(&record.user.id).await?;
    Ok(Json(Value::Array(groups.iter().map(|g| super::groups::group_json(&state, g)).collect())))
}

pub async fn revoke_sessions(State(state): State<AppState>, ctx: Ctx, Path(key): Path<String>) -> ApiResult<StatusCode> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::ManageUsers)?;
    let record = find(&state, &principal, &key).await?;
    let ended = auth::end_user_sessions(&state, &record.user.id).await;
    state
        .log(
            EventBuilder::new("user.session.clear", "Clear user sessions", Actor::user(&principal.user), &ctx.client)
                .target(Target::user(&record.user))
                .debug("sessionsEnded", ended),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

fn role_json(state: &AppState, user_id: &str, id: &str, role: AdminRole, created: time::OffsetDateTime) -> Value {
    json!({
        "id": id,
        "label": role.label(),
        "type": role.as_str(),
        "status": "ACTIVE",
        "created": ts(created),
        "lastUpdated": ts(created),
        "assignmentType": "USER",
        "_links": { "assignee": { "href": state.config.absolute(&format!("/api/v1/users/{user_id}")) } },
    })
}

pub async fn roles(State(state): State<AppState>, ctx: Ctx, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    let record = find(&state, &principal, &key).await?;
    if record.user.id != principal.user.id {
        principal.require(Permission::Read)?;
    }
    let roles = state.store.roles_of(&record.user.id).await?;
    Ok(Json(Value::Array(roles.iter().map(|(id, role, created)| role_json(&state, &record.user.id, id, *role, *created)).collect())))
}

#[derive(Deserialize)]
pub struct GrantRole {
    #[serde(rename = "type")]
    kind: String,
}

pub async fn grant_role(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, Path(key): Path<String>, JsonBody(body): JsonBody<GrantRole>) -> ApiResult<Response> {
    principal.require(Permission::ManageOrg)?;
    let record = find(&state, &principal, &key).await?;
    let role = AdminRole::parse(&body.kind).ok_or_else(|| {
        ApiError::field("type", &format!("must be one of {}", AdminRole::ALL.map(AdminRole::as_str).join(", ")))
    })?;
    if !record.user.status.may_sign_in() && record.user.status != UserStatus::LockedOut {
        return Err(ApiError::wrong_status(format!("status: a {} user cannot hold an admin role", record.user.status.as_str())));
    }
    let assignment = id::generate(id::prefix::ROLE_ASSIGNMENT, &mut rand::thread_rng());
    let now = state.now();
    state.store.grant_role(&assignment, &record.user.id, role, now).await?;
    state.invalidate(Invalidation::User { id: record.user.id.clone() }).await;
    state
        .log(
            EventBuilder::new("user.account.privilege.grant", "Grant user privilege", Actor::user(&principal.user), &ctx.client)
                .target(Target::user(&record.user))
                .debug("privilegeGranted", role.as_str()),
        )
        .await;
    Ok((StatusCode::CREATED, Json(role_json(&state, &record.user.id, &assignment, role, now))).into_response())
}

pub async fn revoke_role(State(state): State<AppState>, ctx: Ctx, Path((key, role_id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::ManageOrg)?;
    let record = find(&state, &principal, &key).await?;
    let roles = state.store.roles_of(&record.user.id).await?;
    let Some((_, role, _)) = roles.iter().find(|(id, _, _)| *id == role_id) else {
        return Err(ApiError::not_found("Role", &role_id));
    };
    if *role == AdminRole::SuperAdmin && record.user.id == principal.user.id {
        return Err(ApiError::forbidden().with_cause("roleId: you cannot revoke your own super admin role"));
    }
    state.store.revoke_role(&record.user.id, &role_id).await?;
    state.invalidate(Invalidation::User { id: record.user.id.clone() }).await;
    state
        .log(
            EventBuilder::new("user.account.privilege.revoke", "Revoke user privilege", Actor::user(&principal.user), &ctx.client)
                .target(Target::user(&record.user))
                .debug("privilegeRevoked", role.as_str()),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}
