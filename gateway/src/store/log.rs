//! The System Log table: append-only. There is no update or delete.

use sqlx::Row;

use super::{Result, Store, StoreError};
use crate::filter::Sql;
use crate::syslog::LogEvent;

#[derive(Debug, Default)]
pub struct LogQuery {
    pub since: Option<String>,
    pub until: Option<String>,
    pub condition: Option<Sql>,
    /// Every word must appear in the event (case-insensitive).
    pub keywords: Vec<String>,
    /// The (published, uuid) of the last event already seen.
    pub after: Option<(String, String)>,
    pub descending: bool,
    pub limit: i64,
}

impl Store {
    pub async fn append_event(&self, event: &LogEvent) -> Result<()> {
        sqlx::query(
            "INSERT INTO system_log (uuid, published, event_type, severity, outcome, actor_id, actor_login, target_ids, \
             client_ip, display_message, event) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&event.uuid)
        .bind(&event.published)
        .bind(&event.event_type)
        .bind(event.severity)
        .bind(&event.outcome.result)
        .bind(&event.actor.id)
        .bind(event.actor.alternate_id.to_lowercase())
        .bind(format!("|{}|", event.targets.iter().map(|t| t.id.as_str()).collect::<Vec<_>>().join("|")))
        .bind(&event.client_ip)
        .bind(&event.display_message)
        .bind(event.to_json().to_string())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Events as Okta's JSON, in the order asked for.
    pub async fn events(&self, query: &LogQuery) -> Result<Vec<(String, String, serde_json::Value)>> {
        let mut sql = String::from("SELECT published, uuid, event FROM system_log WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        let bind = |binds: &mut Vec<String>, v: String| {
            binds.push(v);
            format!("${}", binds.len())
        };
        if let Some(condition) = &query.condition {
            // The condition was compiled with its own $1..$n; it goes first so they line up.
            sql.push_str(&format!(" AND ({})", condition.text));
            binds.extend(condition.binds.iter().cloned());
        }
        if let Some(since) = &query.since {
            let p = bind(&mut binds, since.clone());
            sql.push_str(&format!(" AND published >= {p}"));
        }
        if let Some(until) = &query.until {
            let p = bind(&mut binds, until.clone());
            sql.push_str(&format!(" AND published < {p}"));
        }
        for word in &query.keywords {
            let escaped = word.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let p = bind(&mut binds, format!("%{escaped}%"));
            sql.push_str(&format!(" AND lower(event) LIKE {p} ESCAPE '\\'"));
        }
        let (cmp, order) = if query.descending { ("<", "DESC") } else { (">", "ASC") };
        if let Some((published, uuid)) = &query.after {
            let p1 = bind(&mut binds, published.clone());
            let p2 = bind(&mut binds, uuid.clone());
            sql.push_str(&format!(" AND (published {cmp} {p1} OR (published = {p1} AND uuid {cmp} {p2}))"));
        }
        sql.push_str(&format!(" ORDER BY published {order}, uuid {order} LIMIT {}", query.limit.max(0)));
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b.as_str());
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let text: String = r.try_get(2)?;
                let event = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("log event: {e}")))?;
                Ok((r.try_get(0)?, r.try_get(1)?, event))
            })
            .collect()
    }
}
