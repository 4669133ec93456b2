//! The System Log table: append-only. There is no update or delete.

use std::sync::Arc;

use sqlx::Row;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

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

/// The columns of one System Log row.
const COLUMNS: usize = 11;

/// The most events one group commit writes: 256 rows of 11 values stay far
/// under both backends' limits on bound parameters (SQLite 32,766,
/// PostgreSQL 65,535).
pub const MAX_BATCH: usize = 256;

/// Batch sizes up to this keep their INSERT in each connection's statement
/// cache; larger, rarer ones are prepared once and dropped, so that a burst
/// does not evict the statements every request uses.
const CACHED_BATCH: usize = 8;

impl Store {
    /// Appends one event in its own transaction.
    pub async fn append_event(&self, event: &LogEvent) -> Result<()> {
        self.append_events(&[event]).await
    }

    /// Appends events in one statement, hence one transaction: all are
    /// written or none.
    pub async fn append_events(&self, events: &[&LogEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut sql = String::from(
            "INSERT INTO system_log (uuid, published, event_type, severity, outcome, actor_id, actor_login, target_ids, \
             client_ip, display_message, event) VALUES ",
        );
        for row in 0..events.len() {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for column in 0..COLUMNS {
                if column > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", row * COLUMNS + column + 1));
            }
            sql.push(')');
        }
        let mut query = sqlx::query(&sql).persistent(events.len() <= CACHED_BATCH);
        for event in events {
            query = query
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
                .bind(event.to_json().to_string());
        }
        query.execute(self.pool()).await?;
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

/// The System Log's group commit. One task owns the inserts: [`LogWriter::append`]
/// queues an event and waits until the transaction holding it commits, so
/// when it returns the event is durable and visible to readers, as a plain
/// insert would be. The task takes the first queued event and whatever else
/// is queued by then (up to [`MAX_BATCH`]), writes them in one transaction
/// and answers every waiter: requests that log at the same time share one
/// commit (and one fsync on SQLite) instead of queueing for one each.
pub struct LogWriter {
    queue: mpsc::Sender<Pending>,
    /// The store, for an event that arrives after the writer has stopped.
    store: Store,
    stop: std::sync::Mutex<Option<oneshot::Sender<()>>>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

/// Events waiting for the writer, beyond which callers wait for room
/// (backpressure): no event is ever dropped.
const QUEUE: usize = 4 * MAX_BATCH;

/// How a waiter learns whether its event was committed. The error is shared
/// by every event of a batch that failed as a whole.
type Outcome = std::result::Result<(), Arc<StoreError>>;

struct Pending {
    event: LogEvent,
    done: oneshot::Sender<Outcome>,
}

impl LogWriter {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn(store: Store) -> Self {
        let (queue, events) = mpsc::channel(QUEUE);
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(write_batches(store.clone(), events, stopped));
        Self { queue, store, stop: std::sync::Mutex::new(Some(stop)), task: std::sync::Mutex::new(Some(task)) }
    }

    /// Appends an event; returns once it is committed (or could not be).
    pub async fn append(&self, event: LogEvent) -> Outcome {
        let (done, answer) = oneshot::channel();
        match self.queue.send(Pending { event, done }).await {
            Ok(()) => answer.await.unwrap_or_else(|_| Err(Arc::new(StoreError::Database(sqlx::Error::Protocol("the System Log writer stopped before answering".into()))))),
            // The writer has stopped (the gateway is shutting down): write it alone.
            Err(mpsc::error::SendError(pending)) => self.store.append_event(&pending.event).await.map_err(Arc::new),
        }
    }

    /// Stops taking events, writes every event already queued, and returns
    /// when the writer task has finished. Later appends write directly.
    pub async fn close(&self) {
        let stop = self.stop.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        let task = self.task.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        if let Some(task) = task {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "the System Log writer failed");
            }
        }
    }
}

/// The writer task: one batch at a time, until told to stop (then it drains
/// the queue) or until every sender is gone.
async fn write_batches(store: Store, mut events: mpsc::Receiver<Pending>, mut stop: oneshot::Receiver<()>) {
    let mut stopping = false;
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    loop {
        let first = if stopping {
            events.recv().await
        } else {
            tokio::select! {
                next = events.recv() => next,
                _ = &mut stop => {
                    // Senders now fail and write directly; what is queued is still received.
                    stopping = true;
                    events.close();
                    continue;
                }
            }
        };
        let Some(first) = first else { return };
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match events.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        commit(&store, &mut batch).await;
    }
}

/// Writes a batch in one transaction and answers its waiters.
async fn commit(store: &Store, batch: &mut Vec<Pending>) {
    let events: Vec<&LogEvent> = batch.iter().map(|p| &p.event).collect();
    let written = store.append_events(&events).await;
    drop(events);
    match written {
        Ok(()) => {
            for pending in batch.drain(..) {
                let _ = pending.done.send(Ok(()));
            }
        }
        // The database refused the statement, so nothing of it was written:
        // one event it rejects (PostgreSQL refuses a NUL byte in text, which a
        // client can put in a login name) must not take its neighbours' events
        // with it, so each is written alone and gets its own answer.
        Err(StoreError::Database(sqlx::Error::Database(_))) if batch.len() > 1 => {
            for pending in batch.drain(..) {
                let alone = store.append_event(&pending.event).await.map_err(Arc::new);
                let _ = pending.done.send(alone);
            }
        }
        // The outcome of the commit is unknown (e.g. the connection broke):
        // every waiter gets the error, as a single insert's caller would.
        Err(e) => {
            let e = Arc::new(e);
            for pending in batch.drain(..) {
                let _ = pending.done.send(Err(e.clone()));
            }
        }
    }
}
