//! GET /api/v1/logs: the System Log, read-only.

use axum::extract::State;
use axum::response::Response;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{paged, Ctx};
use crate::auth;
use crate::directory::Permission;
use crate::error::{ApiError, ApiResult};
use crate::filter::{self, Column, FieldMap, Sql};
use crate::state::AppState;
use crate::store::{ts, LogQuery};

struct LogFields;

impl FieldMap for LogFields {
    fn column(&self, attr: &str) -> Option<Column> {
        Some(match attr {
            "uuid" => Column::Exact("uuid".into()),
            "published" => Column::Timestamp("published".into()),
            "eventType" => Column::Exact("event_type".into()),
            "severity" => Column::Exact("severity".into()),
            "outcome.result" => Column::Exact("outcome".into()),
            "actor.id" => Column::Exact("actor_id".into()),
            "actor.alternateId" => Column::LowerText("actor_login".into()),
            "client.ipAddress" => Column::Exact("client_ip".into()),
            "displayMessage" => Column::LowerText("lower(display_message)".into()),
            "target.id" => Column::IdList("target_ids".into()),
            _ => return None,
        })
    }
}

fn timestamp(name: &str, value: &str) -> ApiResult<String> {
    OffsetDateTime::parse(value, &Rfc3339)
        .map(ts)
        .map_err(|_| ApiError::field(name, "must be an ISO 8601 timestamp such as 2026-01-31T00:00:00.000Z"))
}

pub async fn list(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Response> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::Read)?;
    let params = &ctx.params;
    let limit = params.limit(100, 1000)?;
    let descending = match params.get("sortOrder") {
        None | Some("ASCENDING") => false,
        Some("DESCENDING") => true,
        Some(_) => return Err(ApiError::field("sortOrder", "must be ASCENDING or DESCENDING")),
    };
    let mut query = LogQuery { descending, limit: limit + 1, ..LogQuery::default() };
    query.since = Some(match params.get("since") {
        Some(v) => timestamp("since", v)?,
        // Okta's default window: the last seven days.
        None => ts(state.now() - time::Duration::days(7)),
    });
    query.until = params.get("until").map(|v| timestamp("until", v)).transpose()?;
    if let Some(text) = params.get("filter") {
        let expr = filter::parse(text).map_err(|e| ApiError::bad_expression("filter", &e.0))?;
        let mut sql = Sql::default();
        filter::compile(&expr, &LogFields, state.store.backend(), &mut sql).map_err(|e| ApiError::bad_expression("filter", &e.0))?;
        query.condition = Some(sql);
    }
    if let Some(q) = params.get("q") {
        query.keywords = q.split_whitespace().take(10).map(|w| w.chars().take(40).collect()).collect();
    }
    if let Some(after) = params.get("after") {
        let (published, uuid) = after.split_once('_').ok_or_else(|| ApiError::field("after", "is not a cursor from a Link header"))?;
        query.after = Some((timestamp("after", published)?, uuid.to_owned()));
    }
    let rows = state.store.events(&query).await?;
    let more = rows.len() as i64 > limit;
    let next = more.then(|| {
        let (published, uuid, _) = &rows[limit as usize - 1];
        format!("{published}_{uuid}")
    });
    let page: Vec<Value> = rows.into_iter().take(limit as usize).map(|(_, _, e)| e).collect();
    Ok(paged(&state, "/api/v1/logs", params, Value::Array(page), next))
}
