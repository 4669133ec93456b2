//! Master-key rotation in the store: every sealed column, read in key order a
//! batch at a time, its data keys re-wrapped from the previous master key to
//! the current one (`crypto::Vault::rewrap`), and written back by
//! compare-and-set so a concurrent write is never lost.
//!
//! A record's ciphertext is never re-encrypted, only its wrapped data key, so
//! the work is one AES-GCM unwrap, one body check and one wrap per record. A
//! run is resumable: records already under the master key are counted and
//! left alone.

use sqlx::Row;

use super::{Result, Store};
use crate::crypto::{Rewrapped, Vault};

/// A column holding sealed values, with the key that names a record and the
/// sealing context (what `Vault::seal` was given) computed from that key.
struct SealedColumn {
    table: &'static str,
    keys: &'static [&'static str],
    column: &'static str,
    /// An extra condition selecting the sealed rows of a shared table.
    only: Option<&'static str>,
    context: fn(&[String]) -> String,
}

/// Every sealed column in the schema. A new sealed column must be added here,
/// or a rotation would strand it under the old key.
const SEALED: &[SealedColumn] = &[
    SealedColumn { table: "settings", keys: &["name"], column: "value", only: Some("name = 'master_key_check'"), context: |_| crate::bootstrap::MASTER_KEY_CHECK_CONTEXT.to_owned() },
    SealedColumn { table: "app_keys", keys: &["kid"], column: "sealed_private_key", only: None, context: |k| format!("app_keys/{}", k[0]) },
    SealedColumn { table: "oauth_keys", keys: &["kid"], column: "sealed_private_key", only: None, context: |k| format!("oauth_keys/{}", k[0]) },
    SealedColumn { table: "swa_credentials", keys: &["app_id", "user_id"], column: "sealed_password", only: None, context: |k| crate::swa::person_context(&k[0], &k[1]) },
    SealedColumn { table: "swa_shared_credentials", keys: &["app_id"], column: "sealed_password", only: None, context: |k| crate::swa::shared_context(&k[0]) },
];

/// What a rotation found in one sealed column.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RekeyCount {
    pub table: &'static str,
    /// Records moved from the previous key to the master key.
    pub rewrapped: u64,
    /// Records already under the master key (new, or an earlier run's).
    pub current: u64,
    /// Records that open with neither key: left as they are, and reported.
    pub unreadable: u64,
    /// Records rewritten by a gateway while this run read them: run again.
    pub raced: u64,
}

/// How a rotation runs.
#[derive(Debug, Clone, Copy)]
pub struct RekeyOptions {
    /// Records read and written per transaction.
    pub batch: i64,
    /// Count only; write nothing.
    pub dry_run: bool,
    /// Stop after this many batches in all (for tests of an interrupted run).
    pub max_batches: Option<u64>,
}

impl Default for RekeyOptions {
    fn default() -> Self {
        Self { batch: 500, dry_run: false, max_batches: None }
    }
}

impl Store {
    /// Re-wraps every sealed record under `vault`'s master key. The vault must
    /// hold the previous key too, or records under it count as unreadable.
    pub async fn rewrap_sealed(&self, vault: &Vault, options: RekeyOptions) -> Result<Vec<RekeyCount>> {
        let mut counts = Vec::new();
        let mut batches = 0u64;
        for sealed in SEALED {
            let mut count = RekeyCount { table: sealed.table, ..Default::default() };
            let mut after: Option<Vec<String>> = None;
            loop {
                if options.max_batches.is_some_and(|max| batches >= max) {
                    counts.push(count);
                    return Ok(counts);
                }
                batches += 1;
                let rows = self.sealed_page(sealed, after.as_deref(), options.batch).await?;
                let mut tx = self.pool.begin().await?;
                for (keys, value) in &rows {
                    match vault.rewrap(&(sealed.context)(keys), value) {
                        Ok(Rewrapped::Current) => count.current += 1,
                        Err(_) => count.unreadable += 1,
                        Ok(Rewrapped::Rewrapped(_)) if options.dry_run => count.rewrapped += 1,
                        Ok(Rewrapped::Rewrapped(new)) => {
                            let conditions: Vec<String> = sealed.keys.iter().enumerate().map(|(i, k)| format!("{k} = ${}", i + 3)).collect();
                            let sql = format!("UPDATE {} SET {col} = $1 WHERE {col} = $2 AND {}", sealed.table, conditions.join(" AND "), col = sealed.column);
                            let mut query = sqlx::query(&sql).bind(new).bind(value);
                            for k in keys {
                                query = query.bind(k);
                            }
                            if query.execute(&mut *tx).await?.rows_affected() == 1 {
                                count.rewrapped += 1;
                            } else {
                                count.raced += 1;
                            }
                        }
                    }
                }
                tx.commit().await?;
                match rows.last() {
                    Some((keys, _)) if rows.len() as i64 == options.batch => after = Some(keys.clone()),
                    _ => break,
                }
            }
            counts.push(count);
        }
        Ok(counts)
    }

    /// One page of a sealed column in key order, after the key `after`.
    async fn sealed_page(&self, sealed: &SealedColumn, after: Option<&[String]>, limit: i64) -> Result<Vec<(Vec<String>, String)>> {
        let keys = sealed.keys.join(", ");
        let mut conditions: Vec<String> = sealed.only.iter().map(|c| c.to_string()).collect();
        if after.is_some() {
            let params: Vec<String> = (0..sealed.keys.len()).map(|i| format!("${}", i + 2)).collect();
            conditions.push(format!("({keys}) > ({})", params.join(", ")));
        }
        let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let sql = format!("SELECT {keys}, {} FROM {} {filter} ORDER BY {keys} LIMIT $1", sealed.column, sealed.table);
        let mut query = sqlx::query(&sql).bind(limit);
        for k in after.unwrap_or_default() {
            query = query.bind(k);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let keys = (0..sealed.keys.len()).map(|i| row.try_get::<String, _>(i)).collect::<Result<Vec<_>, _>>()?;
                Ok((keys, row.try_get::<String, _>(sealed.keys.len())?))
            })
            .collect()
    }
}
