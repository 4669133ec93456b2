//! Users, groups, memberships and admin roles.

use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::Row;
use time::OffsetDateTime;

use super::{conflict_as, parse_ts, ts, Result, Store, StoreError};
use crate::directory::{AdminRole, Group, User, UserStatus};
use crate::filter::Sql;

/// A user as stored, with what only sign-in needs.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user: User,
    pub password_hash: Option<String>,
    pub failed_sign_ins: i64,
    pub locked_until: Option<OffsetDateTime>,
}

pub struct NewUser {
    pub id: String,
    pub status: UserStatus,
    pub profile: Map<String, Value>,
    pub password_hash: Option<String>,
    pub at: OffsetDateTime,
}

/// A page of a listing: an optional condition, a cursor and a limit.
#[derive(Debug, Default)]
pub struct UserQuery {
    pub condition: Option<Sql>,
    pub after: Option<String>,
    pub limit: i64,
}

const USER_COLUMNS: &str = "id, status, profile, password_hash, created, activated, status_changed, last_login, \
     last_updated, password_changed, failed_sign_ins, locked_until";

fn opt_ts(row: &AnyRow, column: &str) -> Result<Option<OffsetDateTime>> {
    row.try_get::<Option<String>, _>(column)?.as_deref().map(parse_ts).transpose()
}

fn user_from_row(row: &AnyRow) -> Result<UserRecord> {
    let status: String = row.try_get("status")?;
    let profile: String = row.try_get("profile")?;
    let profile: Map<String, Value> =
        serde_json::from_str(&profile).map_err(|e| StoreError::Corrupt(format!("user profile: {e}")))?;
    let password_hash: Option<String> = row.try_get("password_hash")?;
    Ok(UserRecord {
        user: User {
            id: row.try_get("id")?,
            status: UserStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
            profile,
            created: parse_ts(&row.try_get::<String, _>("created")?)?,
            activated: opt_ts(row, "activated")?,
            status_changed: opt_ts(row, "status_changed")?,
            last_login: opt_ts(row, "last_login")?,
            last_updated: parse_ts(&row.try_get::<String, _>("last_updated")?)?,
            password_changed: opt_ts(row, "password_changed")?,
            has_password: password_hash.is_some(),
        },
        password_hash,
        failed_sign_ins: row.try_get("failed_sign_ins")?,
        locked_until: opt_ts(row, "locked_until")?,
    })
}

fn lower(profile: &Map<String, Value>, key: &str) -> String {
    profile.get(key).and_then(Value::as_str).unwrap_or("").to_lowercase()
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    binds: &'q [String],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for value in binds {
        query = query.bind(value.as_str());
    }
    query
}

impl Store {
    pub async fn insert_user(&self, new: &NewUser, group_ids: &[String]) -> Result<()> {
        let at = ts(new.at);
        let activated = (new.status == UserStatus::Active || new.status == UserStatus::Provisioned).then(|| at.clone());
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO users (id, login, login_lower, email_lower, first_name_lower, last_name_lower, status, profile, \
             password_hash, created, activated, status_changed, last_updated, password_changed) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&new.id)
        .bind(new.profile.get("login").and_then(Value::as_str).unwrap_or(""))
        .bind(lower(&new.profile, "login"))
        .bind(lower(&new.profile, "email"))
        .bind(lower(&new.profile, "firstName"))
        .bind(lower(&new.profile, "lastName"))
        .bind(new.status.as_str())
        .bind(Value::Object(new.profile.clone()).to_string())
        .bind(new.password_hash.as_deref())
        .bind(&at)
        .bind(activated.as_deref())
        .bind(activated.as_deref())
        .bind(&at)
        .bind(new.password_hash.as_ref().map(|_| at.as_str()))
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_as(e, "login"))?;
        for group_id in group_ids {
            sqlx::query("INSERT INTO group_memberships (group_id, user_id, created) VALUES ($1, $2, $3)")
                .bind(group_id)
                .bind(&new.id)
                .bind(&at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn user(&self, id: &str) -> Result<Option<UserRecord>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_by_login(&self, login: &str) -> Result<Option<UserRecord>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE login_lower = $1"))
            .bind(login.to_lowercase())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// A user by id or, failing that, by login (Okta accepts either in paths).
    pub async fn user_by_id_or_login(&self, key: &str) -> Result<Option<UserRecord>> {
        match self.user(key).await? {
            Some(found) => Ok(Some(found)),
            None => self.user_by_login(key).await,
        }
    }

    pub async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>> {
        let mut sql = format!("SELECT {USER_COLUMNS} FROM users WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        if let Some(condition) = &query.condition {
            sql.push_str(&format!(" AND ({})", condition.text));
            binds.extend(condition.binds.iter().cloned());
        }
        if let Some(after) = &query.after {
            binds.push(after.clone());
            sql.push_str(&format!(" AND id > ${}", binds.len()));
        }
        sql.push_str(&format!(" ORDER BY id LIMIT {}", query.limit.max(0)));
        let rows = bind_all(sqlx::query(&sql), &binds).fetch_all(self.pool()).await?;
        rows.iter().map(|r| user_from_row(r).map(|u| u.user)).collect()
    }

    pub async fn update_profile(&self, id: &str, profile: &Map<String, Value>, at: OffsetDateTime) -> Result<()> {
        sqlx::query(
            "UPDATE users SET login = $1, login_lower = $2, email_lower = $3, first_name_lower = $4, last_name_lower = $5, \
             profile = $6, last_updated = $7 WHERE id = $8",
        )
        .bind(profile.get("login").and_then(Value::as_str).unwrap_or(""))
        .bind(lower(profile, "login"))
        .bind(lower(profile, "email"))
        .bind(lower(profile, "firstName"))
        .bind(lower(profile, "lastName"))
        .bind(Value::Object(profile.clone()).to_string())
        .bind(ts(at))
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(|e| conflict_as(e, "login"))?;
        Ok(())
    }

    pub async fn set_status(&self, id: &str, status: UserStatus, at: OffsetDateTime) -> Result<()> {
        let at = ts(at);
        let activated_now = matches!(status, UserStatus::Active | UserStatus::Provisioned);
        sqlx::query(
            "UPDATE users SET status = $1, status_changed = $2, last_updated = $2, \
             activated = CASE WHEN $3 = 1 AND activated IS NULL THEN $2 ELSE activated END, \
             failed_sign_ins = CASE WHEN $1 = 'LOCKED_OUT' THEN failed_sign_ins ELSE 0 END, \
             locked_until = CASE WHEN $1 = 'LOCKED_OUT' THEN locked_until ELSE NULL END WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(&at)
        .bind(i64::from(activated_now))
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn set_password(&self, id: &str, hash: Option<&str>, at: OffsetDateTime) -> Result<()> {
        let at = ts(at);
        sqlx::query("UPDATE users SET password_hash = $1, password_changed = $2, last_updated = $2 WHERE id = $3")
            .bind(hash)
            .bind(&at)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Counts a failed sign-in; at `lock_after` failures in a row the account
    /// is locked until `lock_until`. Returns whether this failure locked it.
    pub async fn record_failed_sign_in(
        &self,
        id: &str,
        lock_after: u32,
        now: OffsetDateTime,
        lock_until: OffsetDateTime,
    ) -> Result<bool> {
        let row = sqlx::query(
            "UPDATE users SET failed_sign_ins = failed_sign_ins + 1 WHERE id = $1 RETURNING failed_sign_ins, status",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(false) };
        let failures: i64 = row.try_get(0)?;
        let status: String = row.try_get(1)?;
        if failures >= i64::from(lock_after) && status != UserStatus::LockedOut.as_str() {
            let at = ts(lock_until);
            sqlx::query(
                "UPDATE users SET status = 'LOCKED_OUT', locked_until = $1, status_changed = $2, last_updated = $2 WHERE id = $3",
            )
            .bind(&at)
            .bind(ts(now))
            .bind(id)
            .execute(self.pool())
            .await?;
            return Ok(true);
        }
        Ok(false)
    }

    pub async fn record_sign_in(&self, id: &str, at: OffsetDateTime) -> Result<()> {
        sqlx::query("UPDATE users SET failed_sign_ins = 0, locked_until = NULL, last_login = $1 WHERE id = $2")
            .bind(ts(at))
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn delete_user(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(self.pool()).await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM users").fetch_one(self.pool()).await?.try_get(0)?)
    }

    // Groups.

    pub async fn insert_group(&self, group: &Group) -> Result<()> {
        sqlx::query(
            "INSERT INTO user_groups (id, name, name_lower, description, created, last_updated, last_membership_updated) \
             VALUES ($1, $2, $3, $4, $5, $5, $5)",
        )
        .bind(&group.id)
        .bind(&group.name)
        .bind(group.name.to_lowercase())
        .bind(&group.description)
        .bind(ts(group.created))
        .execute(self.pool())
        .await
        .map_err(|e| conflict_as(e, "name"))?;
        Ok(())
    }

    pub async fn group(&self, id: &str) -> Result<Option<Group>> {
        let row = sqlx::query(&format!("SELECT {GROUP_COLUMNS} FROM user_groups WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(group_from_row).transpose()
    }

    pub async fn list_groups(&self, query: &UserQuery) -> Result<Vec<Group>> {
        let mut sql = format!("SELECT {GROUP_COLUMNS} FROM user_groups WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        if let Some(condition) = &query.condition {
            sql.push_str(&format!(" AND ({})", condition.text));
            binds.extend(condition.binds.iter().cloned());
        }
        if let Some(after) = &query.after {
            binds.push(after.clone());
            sql.push_str(&format!(" AND id > ${}", binds.len()));
        }
        sql.push_str(&format!(" ORDER BY id LIMIT {}", query.limit.max(0)));
        let rows = bind_all(sqlx::query(&sql), &binds).fetch_all(self.pool()).await?;
        rows.iter().map(group_from_row).collect()
    }

    pub async fn update_group(&self, id: &str, name: &str, description: &str, at: OffsetDateTime) -> Result<()> {
        sqlx::query("UPDATE user_groups SET name = $1, name_lower = $2, description = $3, last_updated = $4 WHERE id = $5")
            .bind(name)
            .bind(name.to_lowercase())
            .bind(description)
            .bind(ts(at))
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(|e| conflict_as(e, "name"))?;
        Ok(())
    }

    pub async fn delete_group(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM user_groups WHERE id = $1").bind(id).execute(self.pool()).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Adds a member; adding one already there changes nothing.
    pub async fn add_member(&self, group_id: &str, user_id: &str, at: OffsetDateTime) -> Result<()> {
        let at = ts(at);
        let mut tx = self.pool().begin().await?;
        let added = sqlx::query(
            "INSERT INTO group_memberships (group_id, user_id, created) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(group_id)
        .bind(user_id)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        if added.rows_affected() > 0 {
            sqlx::query("UPDATE user_groups SET last_membership_updated = $1 WHERE id = $2")
                .bind(&at)
                .bind(group_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn remove_member(&self, group_id: &str, user_id: &str, at: OffsetDateTime) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let removed = sqlx::query("DELETE FROM group_memberships WHERE group_id = $1 AND user_id = $2")
            .bind(group_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if removed.rows_affected() > 0 {
            sqlx::query("UPDATE user_groups SET last_membership_updated = $1 WHERE id = $2")
                .bind(ts(at))
                .bind(group_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn group_members(&self, group_id: &str, after: Option<&str>, limit: i64) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {} FROM users u JOIN group_memberships m ON m.user_id = u.id \
             WHERE m.group_id = $1 AND u.id > $2 ORDER BY u.id LIMIT {}",
            USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", "),
            limit.max(0)
        );
        let rows = sqlx::query(&sql).bind(group_id).bind(after.unwrap_or("")).fetch_all(self.pool()).await?;
        rows.iter().map(|r| user_from_row(r).map(|u| u.user)).collect()
    }

    pub async fn groups_of_user(&self, user_id: &str) -> Result<Vec<Group>> {
        let sql = format!(
            "SELECT {} FROM user_groups g JOIN group_memberships m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.id",
            GROUP_COLUMNS.split(", ").map(|c| format!("g.{c}")).collect::<Vec<_>>().join(", ")
        );
        let rows = sqlx::query(&sql).bind(user_id).fetch_all(self.pool()).await?;
        rows.iter().map(group_from_row).collect()
    }

    // Admin roles.

    pub async fn grant_role(&self, id: &str, user_id: &str, role: AdminRole, at: OffsetDateTime) -> Result<()> {
        sqlx::query("INSERT INTO admin_roles (id, user_id, role, created) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(user_id)
            .bind(role.as_str())
            .bind(ts(at))
            .execute(self.pool())
            .await
            .map_err(|e| conflict_as(e, "type"))?;
        Ok(())
    }

    /// The roles a user holds, with each assignment's id and creation time.
    pub async fn roles_of(&self, user_id: &str) -> Result<Vec<(String, AdminRole, OffsetDateTime)>> {
        let rows = sqlx::query("SELECT id, role, created FROM admin_roles WHERE user_id = $1 ORDER BY created, id")
            .bind(user_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get(1)?;
                Ok((
                    r.try_get(0)?,
                    AdminRole::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
                    parse_ts(&r.try_get::<String, _>(2)?)?,
                ))
            })
            .collect()
    }

    pub async fn revoke_role(&self, user_id: &str, role_assignment_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM admin_roles WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(role_assignment_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

const GROUP_COLUMNS: &str = "id, name, description, created, last_updated, last_membership_updated";

fn group_from_row(row: &AnyRow) -> Result<Group> {
    Ok(Group {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        created: parse_ts(&row.try_get::<String, _>("created")?)?,
        last_updated: parse_ts(&row.try_get::<String, _>("last_updated")?)?,
        last_membership_updated: parse_ts(&row.try_get::<String, _>("last_membership_updated")?)?,
    })
}
