//! /api/v1/groups: groups and their members.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use vestibule_core::id;

use super::{Caller, paged, user_json, Ctx, JsonBody};
use crate::auth;
use crate::directory::{Group, Permission};
use crate::error::{ApiError, ApiResult};
use crate::filter::{self, Column, FieldMap, Sql};
use crate::state::{AppState, EventBuilder};
use crate::store::{ts, UserQuery};
use crate::syslog::{Actor, Target};

pub fn group_json(state: &AppState, group: &Group) -> Value {
    let base = state.config.absolute(&format!("/api/v1/groups/{}", group.id));
    json!({
        "id": group.id,
        "created": ts(group.created),
        "lastUpdated": ts(group.last_updated),
        "lastMembershipUpdated": ts(group.last_membership_updated),
        "objectClass": ["okta:user_group"],
        "type": "OKTA_GROUP",
        "profile": { "name": group.name, "description": group.description },
        "_links": {
            "self": { "href": base },
            "users": { "href": format!("{base}/users") },
            "apps": { "href": format!("{base}/apps") },
        },
    })
}

struct GroupFields;

impl FieldMap for GroupFields {
    fn column(&self, attr: &str) -> Option<Column> {
        Some(match attr {
            "id" => Column::Exact("id".into()),
            "type" => Column::Exact("'OKTA_GROUP'".into()),
            "created" => Column::Timestamp("created".into()),
            "lastUpdated" => Column::Timestamp("last_updated".into()),
            "lastMembershipUpdated" => Column::Timestamp("last_membership_updated".into()),
            "profile.name" => Column::LowerText("name_lower".into()),
            "profile.description" => Column::LowerText("lower(description)".into()),
            _ => return None,
        })
    }
}

pub async fn list(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Response> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::Read)?;
    let params = &ctx.params;
    let limit = params.limit(200, 10_000)?;
    let mut sql = Sql::default();
    let mut parts = 0;
    for name in ["filter", "search"] {
        if let Some(text) = params.get(name) {
            let expr = filter::parse(text).map_err(|e| ApiError::bad_expression(name, &e.0))?;
            if parts > 0 {
                sql.text.push_str(" AND ");
            }
            filter::compile(&expr, &GroupFields, state.store.backend(), &mut sql)
                .map_err(|e| ApiError::bad_expression(name, &e.0))?;
            parts += 1;
        }
    }
    if let Some(q) = params.get("q") {
        let p = sql.bind(format!("{}%", q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
        if parts > 0 {
            sql.text.push_str(" AND ");
        }
        sql.text.push_str(&format!("name_lower LIKE {p} ESCAPE '\\'"));
        parts += 1;
    }
    let query = UserQuery { condition: (parts > 0).then_some(sql), after: params.get("after").map(str::to_owned), limit: limit + 1 };
    let rows = state.store.list_groups(&query).await?;
    let more = rows.len() as i64 > limit;
    let page: Vec<Value> = rows.iter().take(limit as usize).map(|g| group_json(&state, g)).collect();
    let next = more.then(|| rows[limit as usize - 1].id.clone());
    Ok(paged(&state, "/api/v1/groups", params, Value::Array(page), next))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupProfile {
    name: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupBody {
    profile: GroupProfile,
}

fn validated(body: GroupBody) -> ApiResult<(String, String)> {
    let name = body.profile.name.unwrap_or_default();
    let description = body.profile.description.unwrap_or_default();
    let mut causes = Vec::new();
    if name.trim().is_empty() {
        causes.push("name: The field cannot be left blank".to_owned());
    } else if name.chars().count() > 255 {
        causes.push("name: must be at most 255 characters".to_owned());
    }
    if description.chars().count() > 1024 {
        causes.push("description: must be at most 1024 characters".to_owned());
    }
    if causes.is_empty() { Ok((name.trim().to_owned(), description)) } else { Err(ApiError::validation(causes)) }
}

pub async fn create(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, JsonBody(body): JsonBody<GroupBody>) -> ApiResult<Json<Value>> {
    principal.require(Permission::ManageGroups)?;
    let (name, description) = validated(body)?;
    let now = state.now();
    let group = Group {
        id: id::generate(id::prefix::GROUP, &mut rand::thread_rng()),
        name,
        description,
        created: now,
        last_updated: now,
        last_membership_updated: now,
    };
    state.store.insert_group(&group).await?;
    state
        .log(EventBuilder::new("group.lifecycle.create", "Create okta group", Actor::user(&principal.user), &ctx.client).target(Target::group(&group)))
        .await;
    Ok(Json(group_json(&state, &group)))
}

async fn find(state: &AppState, id: &str) -> ApiResult<Group> {
    state.store.group(id).await?.ok_or_else(|| ApiError::not_found("UserGroup", id))
}

pub async fn get_one(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::Read)?;
    Ok(Json(group_json(&state, &find(&state, &id).await?)))
}

pub async fn replace(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, Path(id): Path<String>, JsonBody(body): JsonBody<GroupBody>) -> ApiResult<Json<Value>> {
    principal.require(Permission::ManageGroups)?;
    let group = find(&state, &id).await?;
    let (name, description) = validated(body)?;
    state.store.update_group(&group.id, &name, &description, state.now()).await?;
    state.invalidate(crate::state::Invalidation::AllMemberships).await;
    state
        .log(EventBuilder::new("group.profile.update", "Update group profile", Actor::user(&principal.user), &ctx.client).target(Target::group(&group)))
        .await;
    Ok(Json(group_json(&state, &find(&state, &id).await?)))
}

pub async fn delete(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::ManageGroups)?;
    let group = find(&state, &id).await?;
    crate::apps::cache::group_deleting(&state, &group.id).await?;
    state.store.delete_group(&group.id).await?;
    state.invalidate(crate::state::Invalidation::AllMemberships).await;
    state
        .log(EventBuilder::new("group.lifecycle.delete", "Delete okta group", Actor::user(&principal.user), &ctx.client).target(Target::group(&group)))
        .await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn members(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<Response> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::Read)?;
    let group = find(&state, &id).await?;
    let limit = ctx.params.limit(1000, 1000)?;
    let rows = state.store.group_members(&group.id, ctx.params.get("after"), limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let page: Vec<Value> = rows.iter().take(limit as usize).map(|u| user_json(&state, u)).collect();
    let next = more.then(|| rows[limit as usize - 1].id.clone());
    Ok(paged(&state, &format!("/api/v1/groups/{}/users", group.id), &ctx.params, Value::Array(page), next))
}

async fn membership(state: AppState, ctx: Ctx, group_id: String, user_id: String, add: bool) -> ApiResult<StatusCode> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::ManageGroups)?;
    let group = find(&state, &group_id).await?;
    let user = state.store.user(&user_id).await?.ok_or_else(|| ApiError::not_found("User", &user_id))?.user;
    let now = state.now();
    let (event_type, message) = if add {
        state.store.add_member(&group.id, &user.id, now).await?;
        ("group.user_membership.add", "Add user to group membership")
    } else {
        state.store.remove_member(&group.id, &user.id, now).await?;
        ("group.user_membership.remove", "Remove user from group membership")
    };
    crate::apps::cache::membership_changed(&state, &group.id, &user.id).await?;
    state
        .log(
            EventBuilder::new(event_type, message, Actor::user(&principal.user), &ctx.client)
                .target(Target::user(&user))
                .target(Target::group(&group)),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn add_member(State(state): State<AppState>, ctx: Ctx, Path((group_id, user_id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    membership(state, ctx, group_id, user_id, true).await
}

pub async fn remove_member(State(state): State<AppState>, ctx: Ctx, Path((group_id, user_id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    membership(state, ctx, group_id, user_id, false).await
}
