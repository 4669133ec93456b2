//! App integrations, their signing keys, and assignments.
//!
//! Assignments are materialised per person (as Okta does): a person has one
//! `app_user_assignments` row per app they can launch, with scope USER when
//! assigned directly and GROUP when only a group grants it. Group grants live
//! in `app_group_assignments`; the assignment service keeps the two in step.

use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::Row;
use time::OffsetDateTime;

use super::{parse_ts, ts, Result, Store, StoreError};
use crate::apps::keys::AppKey;
use crate::apps::{AppInstance, AppStatus, SignOnMode};
use crate::filter::Sql;

#[derive(Debug, Clone)]
pub struct UserAssignment {
    pub app_id: String,
    pub user_id: String,
    /// USER (direct) or GROUP (through a group only).
    pub scope: String,
    pub username: Option<String>,
    pub profile: Map<String, Value>,
    pub sort_order: i64,
    pub created: OffsetDateTime,
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct GroupAssignment {
    pub app_id: String,
    pub group_id: String,
    pub priority: i64,
    pub profile: Map<String, Value>,
    pub created: OffsetDateTime,
    pub last_updated: OffsetDateTime,
}

const APP_COLUMNS: &str =
    "id, name, label, status, sign_on_mode, catalog_name, settings, credentials, visibility, accessibility, created, last_updated";

fn object(row: &AnyRow, column: &str) -> Result<Map<String, Value>> {
    let text: String = row.try_get(column)?;
    match serde_json::from_str(&text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(StoreError::Corrupt(format!("{column} is not a JSON object"))),
    }
}

fn app_from_row(row: &AnyRow) -> Result<AppInstance> {
    let status: String = row.try_get("status")?;
    let mode: String = row.try_get("sign_on_mode")?;
    Ok(AppInstance {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        label: row.try_get("label")?,
        status: AppStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("app status {status}")))?,
        sign_on_mode: SignOnMode::parse(&mode).ok_or_else(|| StoreError::Corrupt(format!("sign-on mode {mode}")))?,
        catalog_name: row.try_get("catalog_name")?,
        settings: object(row, "settings")?,
        credentials: object(row, "credentials")?,
        visibility: object(row, "visibility")?,
        accessibility: object(row, "accessibility")?,
        created: parse_ts(&row.try_get::<String, _>("created")?)?,
        last_updated: parse_ts(&row.try_get::<String, _>("last_updated")?)?,
    })
}

fn key_from_row(row: &AnyRow) -> Result<AppKey> {
    Ok(AppKey {
        kid: row.try_get("kid")?,
        app_id: row.try_get("app_id")?,
        status: row.try_get("status")?,
        certificate_pem: row.try_get("certificate")?,
        sealed_private_key: row.try_get("sealed_private_key")?,
        created: parse_ts(&row.try_get::<String, _>("created")?)?,
        expires_at: parse_ts(&row.try_get::<String, _>("expires_at")?)?,
    })
}

fn user_assignment_from_row(row: &AnyRow) -> Result<UserAssignment> {
    Ok(UserAssignment {
        app_id: row.try_get("app_id")?,
        user_id: row.try_get("user_id")?,
        scope: row.try_get("scope")?,
        username: row.try_get("username")?,
        profile: object(row, "profile")?,
        sort_order: row.try_get("sort_order")?,
        created: parse_ts(&row.try_get::<String, _>("created")?)?,
        last_updated: parse_ts(&row.try_get::<String, _>("last_updated")?)?,
    })
}

fn group_assignment_from_row(row: &AnyRow) -> Result<GroupAssignment> {
    Ok(GroupAssignment {
        app_id: row.try_get("app_id")?,
        group_id: row.try_get("group_id")?,
        priority: row.try_get("priority")?,
        profile: object(row, "profile")?,
        created: parse_ts(&row.try_get::<String, _>("created")?)?,
        last_updated: parse_ts(&row.try_get::<String, _>("last_updated")?)?,
    })
}

const USER_ASSIGNMENT_COLUMNS: &str = "app_id, user_id, scope, username, profile, sort_order, created, last_updated";
const GROUP_ASSIGNMENT_COLUMNS: &str = "app_id, group_id, priority, profile, created, last_updated";

impl Store {
    pub async fn insert_app(&self, app: &AppInstance, key: &AppKey) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(&format!("INSERT INTO apps ({APP_COLUMNS}, label_lower) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"))
            .bind(&app.id)
            .bind(&app.name)
            .bind(&app.label)
            .bind(app.status.as_str())
            .bind(app.sign_on_mode.as_str())
            .bind(app.catalog_name.as_deref())
            .bind(Value::Object(app.settings.clone()).to_string())
            .bind(Value::Object(app.credentials.clone()).to_string())
            .bind(Value::Object(app.visibility.clone()).to_string())
            .bind(Value::Object(app.accessibility.clone()).to_string())
            .bind(ts(app.created))
            .bind(ts(app.last_updated))
            .bind(app.label.to_lowercase())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO app_keys (kid, app_id, status, certificate, sealed_private_key, created, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.kid)
        .bind(&key.app_id)
        .bind(&key.status)
        .bind(&key.certificate_pem)
        .bind(&key.sealed_private_key)
        .bind(ts(key.created))
        .bind(ts(key.expires_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn app(&self, id: &str) -> Result<Option<AppInstance>> {
        let row = sqlx::query(&format!("SELECT {APP_COLUMNS} FROM apps WHERE id = $1")).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(app_from_row).transpose()
    }

    pub async fn list_apps(&self, condition: Option<&Sql>, after: Option<&str>, limit: i64) -> Result<Vec<AppInstance>> {
        let mut sql = format!("SELECT {APP_COLUMNS} FROM apps WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        if let Some(c) = condition {
            sql.push_str(&format!(" AND ({})", c.text));
            binds.extend(c.binds.iter().cloned());
        }
        if let Some(after) = after {
            binds.push(after.to_owned());
            sql.push_str(&format!(" AND id > ${}", binds.len()));
        }
        sql.push_str(&format!(" ORDER BY id LIMIT {}", limit.max(0)));
        let mut query = sqlx::query(&sql);
        for b in &binds {
            query = query.bind(b.as_str());
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter().map(app_from_row).collect()
    }

    pub async fn update_app(&self, app: &AppInstance) -> Result<()> {
        sqlx::query(
            "UPDATE apps SET label = $1, label_lower = $2, status = $3, settings = $4, credentials = $5, visibility = $6, \
             accessibility = $7, last_updated = $8 WHERE id = $9",
        )
        .bind(&app.label)
        .bind(app.label.to_lowercase())
        .bind(app.status.as_str())
        .bind(Value::Object(app.settings.clone()).to_string())
        .bind(Value::Object(app.credentials.clone()).to_string())
        .bind(Value::Object(app.visibility.clone()).to_string())
        .bind(Value::Object(app.accessibility.clone()).to_string())
        .bind(ts(app.last_updated))
        .bind(&app.id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn delete_app(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM apps WHERE id = $1").bind(id).execute(self.pool()).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Adds a key to an app (rotation); the app's `credentials.signing.kid` is unchanged.
    pub async fn insert_app_key(&self, key: &AppKey) -> Result<()> {
        sqlx::query(
            "INSERT INTO app_keys (kid, app_id, status, certificate, sealed_private_key, created, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.kid)
        .bind(&key.app_id)
        .bind(&key.status)
        .bind(&key.certificate_pem)
        .bind(&key.sealed_private_key)
        .bind(ts(key.created))
        .bind(ts(key.expires_at))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Deletes one of an app's keys unless it is `in_use` (the kid the app
    /// signs with, as the caller read it). Returns whether a row went.
    pub async fn delete_app_key(&self, app_id: &str, kid: &str, in_use: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM app_keys WHERE app_id = $1 AND kid = $2 AND kid <> $3")
            .bind(app_id)
            .bind(kid)
            .bind(in_use)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn app_keys(&self, app_id: &str) -> Result<Vec<AppKey>> {
        let rows = sqlx::query("SELECT kid, app_id, status, certificate, sealed_private_key, created, expires_at FROM app_keys WHERE app_id = $1 ORDER BY created, kid")
            .bind(app_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(key_from_row).collect()
    }

    // Assignments.

    pub async fn user_assignment(&self, app_id: &str, user_id: &str) -> Result<Option<UserAssignment>> {
        let row = sqlx::query(&format!("SELECT {USER_ASSIGNMENT_COLUMNS} FROM app_user_assignments WHERE app_id = $1 AND user_id = $2"))
            .bind(app_id)
            .bind(user_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_assignment_from_row).transpose()
    }

    /// A person's assignments, in their dashboard order.
    pub async fn assignments_of_user(&self, user_id: &str) -> Result<Vec<UserAssignment>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_ASSIGNMENT_COLUMNS} FROM app_user_assignments WHERE user_id = $1 ORDER BY sort_order, created, app_id"
        ))
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(user_assignment_from_row).collect()
    }

    pub async fn assignments_of_app(&self, app_id: &str, after: Option<&str>, limit: i64) -> Result<Vec<UserAssignment>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_ASSIGNMENT_COLUMNS} FROM app_user_assignments WHERE app_id = $1 AND user_id > $2 ORDER BY user_id LIMIT {}",
            limit.max(0)
        ))
        .bind(app_id)
        .bind(after.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(user_assignment_from_row).collect()
    }

    /// Inserts or replaces a person's assignment row.
    pub async fn put_user_assignment(&self, a: &UserAssignment) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO app_user_assignments ({USER_ASSIGNMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (app_id, user_id) DO UPDATE SET scope = $3, username = $4, profile = $5, last_updated = $8"
        ))
        .bind(&a.app_id)
        .bind(&a.user_id)
        .bind(&a.scope)
        .bind(a.username.as_deref())
        .bind(Value::Object(a.profile.clone()).to_string())
        .bind(a.sort_order)
        .bind(ts(a.created))
        .bind(ts(a.last_updated))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn delete_user_assignment(&self, app_id: &str, user_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM app_user_assignments WHERE app_id = $1 AND user_id = $2")
            .bind(app_id)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn set_sort_order(&self, user_id: &str, app_id: &str, sort_order: i64) -> Result<()> {
        sqlx::query("UPDATE app_user_assignments SET sort_order = $1 WHERE user_id = $2 AND app_id = $3")
            .bind(sort_order)
            .bind(user_id)
            .bind(app_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn group_assignment(&self, app_id: &str, group_id: &str) -> Result<Option<GroupAssignment>> {
        let row = sqlx::query(&format!("SELECT {GROUP_ASSIGNMENT_COLUMNS} FROM app_group_assignments WHERE app_id = $1 AND group_id = $2"))
            .bind(app_id)
            .bind(group_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(group_assignment_from_row).transpose()
    }

    pub async fn group_assignments_of_app(&self, app_id: &str) -> Result<Vec<GroupAssignment>> {
        let rows = sqlx::query(&format!("SELECT {GROUP_ASSIGNMENT_COLUMNS} FROM app_group_assignments WHERE app_id = $1 ORDER BY priority, group_id"))
            .bind(app_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(group_assignment_from_row).collect()
    }

    pub async fn group_assignments_of_group(&self, group_id: &str) -> Result<Vec<GroupAssignment>> {
        let rows = sqlx::query(&format!("SELECT {GROUP_ASSIGNMENT_COLUMNS} FROM app_group_assignments WHERE group_id = $1 ORDER BY app_id"))
            .bind(group_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(group_assignment_from_row).collect()
    }

    /// The group grants of `app_id` that reach `user_id`, highest precedence
    /// (lowest priority number) first.
    pub async fn granting_groups(&self, app_id: &str, user_id: &str) -> Result<Vec<GroupAssignment>> {
        let rows = sqlx::query(
            "SELECT a.app_id, a.group_id, a.priority, a.profile, a.created, a.last_updated FROM app_group_assignments a \
             JOIN group_memberships m ON m.group_id = a.group_id WHERE a.app_id = $1 AND m.user_id = $2 ORDER BY a.priority, a.group_id",
        )
        .bind(app_id)
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(group_assignment_from_row).collect()
    }

    pub async fn put_group_assignment(&self, g: &GroupAssignment) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO app_group_assignments ({GROUP_ASSIGNMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (app_id, group_id) DO UPDATE SET priority = $3, profile = $4, last_updated = $6"
        ))
        .bind(&g.app_id)
        .bind(&g.group_id)
        .bind(g.priority)
        .bind(Value::Object(g.profile.clone()).to_string())
        .bind(ts(g.created))
        .bind(ts(g.last_updated))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn delete_group_assignment(&self, app_id: &str, group_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM app_group_assignments WHERE app_id = $1 AND group_id = $2")
            .bind(app_id)
            .bind(group_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Ids of every member of a group (for assignment upkeep), without paging.
    pub async fn member_ids(&self, group_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT user_id FROM group_memberships WHERE group_id = $1 ORDER BY user_id")
            .bind(group_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect())
    }

    /// Ids of every person assigned to an app.
    pub async fn assigned_user_ids(&self, app_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT user_id FROM app_user_assignments WHERE app_id = $1").bind(app_id).fetch_all(self.pool()).await?;
        Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect())
    }
}
