//! The System Log's group commit: events logged at the same time share one
//! transaction, yet each is written exactly once, is durable and visible when
//! `log` returns, and survives a shutdown that catches it in the queue.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{json, Value};
use tests::{on_both_backends, Backend, ClockExt, TestGateway};

use gateway::state::EventBuilder;
use gateway::syslog::{Actor, ClientInfo, LogEvent, Outcome};

on_both_backends!(
    concurrent_events_are_each_logged_once,
    an_event_is_visible_to_the_next_read,
    a_rejected_event_does_not_take_its_batch_with_it,
    shutdown_writes_what_is_queued,
);

const TEST_EVENT: &str = "system.test.batching";

fn client() -> ClientInfo {
    ClientInfo { ip: "127.0.0.1".into(), user_agent: "syslog_batching".into(), request_id: String::new() }
}

fn numbered(seq: usize) -> EventBuilder {
    EventBuilder::new(TEST_EVENT, format!("batched event {seq}"), Actor::system(), &client()).debug("seq", seq)
}

/// Every event of one type, oldest first (one page: the tests stay under 1000).
async fn events_of_type(gw: &TestGateway, event_type: &str) -> Vec<Value> {
    let filter = format!("eventType eq \"{event_type}\"");
    let response = gw.admin(Method::GET, "/api/v1/logs").query(&[("filter", filter.as_str()), ("limit", "1000")]).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(tests::link(response.headers(), "next").is_none(), "one page holds them all");
    response.json().await.unwrap()
}

/// A version-4 UUID as the gateway writes them.
fn random_uuid() -> String {
    let hex = format!("{:032x}", rand::random::<u128>());
    format!("{}-{}-4{}-8{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

fn seq_of(event: &Value) -> usize {
    event["debugContext"]["debugData"]["seq"].as_u64().unwrap_or_else(|| panic!("seq in {event}")) as usize
}

/// How many times each seq appears.
fn counts(events: &[Value]) -> HashMap<usize, usize> {
    let mut counts = HashMap::new();
    for event in events {
        *counts.entry(seq_of(event)).or_insert(0) += 1;
    }
    counts
}

fn assert_ascending(events: &[Value]) {
    let published: Vec<&str> = events.iter().map(|e| e["published"].as_str().unwrap()).collect();
    let mut sorted = published.clone();
    sorted.sort();
    assert_eq!(published, sorted, "events come oldest first");
}

/// 200 events logged at once from as many tasks, and 40 groups created at
/// once through the API: each event is in the log exactly once, at the time
/// it was logged (not the time its batch committed), in time order.
async fn concurrent_events_are_each_logged_once(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let start = gw.clock.now_dt();
    let mut tasks = Vec::new();
    for seq in 0..200 {
        gw.clock.advance(time::Duration::milliseconds(1));
        let state = gw.state().clone();
        tasks.push(tokio::spawn(async move { state.log(numbered(seq)).await }));
    }
    let mut creates = Vec::new();
    for n in 0..40 {
        let request = gw.admin(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": format!("Batch {n}")}}));
        creates.push(tokio::spawn(async move { request.send().await.unwrap().json::<Value>().await.unwrap() }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut group_ids = Vec::new();
    for create in creates {
        group_ids.push(create.await.unwrap()["id"].as_str().unwrap().to_owned());
    }

    let events = events_of_type(&gw, TEST_EVENT).await;
    assert_eq!(events.len(), 200);
    let counts = counts(&events);
    assert!((0..200).all(|seq| counts.get(&seq) == Some(&1)), "every event exactly once: {counts:?}");
    assert_ascending(&events);
    for event in &events {
        // Event `seq` was built after the clock had moved seq + 1 milliseconds.
        let published = time::OffsetDateTime::parse(event["published"].as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap();
        let at_least = start + time::Duration::milliseconds(seq_of(event) as i64 + 1);
        assert!(published >= at_least && published <= start + time::Duration::milliseconds(200), "{event}");
    }

    let created = events_of_type(&gw, "group.lifecycle.create").await;
    assert_ascending(&created);
    for id in &group_ids {
        let times = created.iter().filter(|e| e["target"][0]["id"] == id.as_str()).count();
        assert_eq!(times, 1, "group {id} created once in the log");
    }
    gw.stop().await;
}

/// While other tasks keep the writer busy, an event whose `log` has returned
/// is in the very next read of the log, whether logged directly or by an API
/// call that has answered.
async fn an_event_is_visible_to_the_next_read(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let noise: Vec<_> = (1000..1100)
        .map(|seq| {
            let state = gw.state().clone();
            tokio::spawn(async move { state.log(numbered(seq)).await })
        })
        .collect();
    for seq in 0..20 {
        gw.state().log(numbered(seq)).await;
        let newest: Vec<Value> = gw
            .admin(Method::GET, "/api/v1/logs")
            .query(&[("filter", format!("eventType eq \"{TEST_EVENT}\" and displayMessage eq \"batched event {seq}\"").as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(newest.len(), 1, "event {seq} is visible once `log` has returned");

        let group: Value = gw
            .admin(Method::POST, "/api/v1/groups")
            .json(&json!({"profile": {"name": format!("Visible {seq}")}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = group["id"].as_str().unwrap();
        let about: Vec<Value> = gw
            .admin(Method::GET, "/api/v1/logs")
            .query(&[("filter", format!("target.id eq \"{id}\"").as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(about.len(), 1, "the group's creation is logged before the API answers");
    }
    for task in noise {
        task.await.unwrap();
    }
    assert_eq!(events_of_type(&gw, TEST_EVENT).await.len(), 120);
    gw.stop().await;
}

/// An event the database refuses (PostgreSQL refuses a NUL byte in text; a
/// client can send one as a login name) must not lose the events that
/// happened to share its transaction.
async fn a_rejected_event_does_not_take_its_batch_with_it(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let tasks: Vec<_> = (0..100)
        .map(|seq| {
            let state = gw.state().clone();
            tokio::spawn(async move {
                let event = if seq % 10 == 0 {
                    EventBuilder::new(TEST_EVENT, format!("batched event {seq}"), Actor::unknown("nul\u{0}byte"), &client())
                        .outcome(Outcome::failure("INVALID_CREDENTIALS"))
                        .debug("seq", seq)
                } else {
                    numbered(seq)
                };
                state.log(event).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let counts = counts(&events_of_type(&gw, TEST_EVENT).await);
    for seq in 0..100 {
        let times = counts.get(&seq).copied().unwrap_or(0);
        if seq % 10 == 0 {
            assert!(times <= 1, "event {seq} at most once");
        } else {
            assert_eq!(times, 1, "event {seq} exactly once");
        }
    }
    gw.stop().await;
}

/// Events queued when the gateway shuts down are written before the store
/// closes: every append that reported success is in the log after a restart,
/// and none that reported failure is.
async fn shutdown_writes_what_is_queued(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let published = gateway::store::ts(gw.clock.now_dt());
    let tasks: Vec<_> = (0..150)
        .map(|seq| {
            let state = gw.state().clone();
            let published = published.clone();
            tokio::spawn(async move {
                let event = LogEvent {
                    uuid: random_uuid(),
                    published,
                    event_type: TEST_EVENT.into(),
                    severity: "INFO",
                    display_message: format!("batched event {seq}"),
                    actor: Actor::system(),
                    targets: Vec::new(),
                    outcome: Outcome::success(),
                    client_ip: "127.0.0.1".into(),
                    user_agent: "syslog_batching".into(),
                    request_id: String::new(),
                    debug: serde_json::Map::from_iter([("seq".to_owned(), json!(seq))]),
                };
                state.syslog.append(event).await.is_ok()
            })
        })
        .collect();
    let gw = gw.restart().await;
    let mut written = Vec::new();
    for (seq, task) in tasks.into_iter().enumerate() {
        if task.await.unwrap() {
            written.push(seq);
        }
    }
    let counts = counts(&events_of_type(&gw, TEST_EVENT).await);
    for seq in 0..150 {
        let expected = usize::from(written.contains(&seq));
        assert_eq!(counts.get(&seq).copied().unwrap_or(0), expected, "event {seq}: acknowledged {}", expected == 1);
    }
    gw.stop().await;
}
