//! Notifications against a fake WeChat (wiremock): a grant allows one message, no grant none;
//! a refusal is not retried, a busy WeChat is; a token that expires mid-run is replaced once;
//! two instances never send one message twice; a restart sends what was pending, once; a
//! cancelled booking is never reminded; a claimed consultation tells the person.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockBuilder, ResponseTemplate};
use xinli_domain::schedule::CHINA;
use xinli_tests::{TestApp, TestOptions, at, next_monday};

use crate::consultations::counselor;

const TEMPLATES: &str = r#"{
  "booking_created": {"template_id": "tpl-created"},
  "booking_reminder": {"template_id": "tpl-reminder"},
  "booking_changed": {"template_id": "tpl-changed"},
  "consultation_ready": {"template_id": "tpl-ready", "fields": {"thing4": "status", "time5": "time"}},
  "counselor_replied": {"template_id": "tpl-replied"}
}"#;

fn configured(c: &mut xinli_api::Config) {
    c.notifications.templates = xinli_api::config::parse_templates(TEMPLATES).unwrap();
    c.notifications.poll_every = Duration::from_millis(30);
    c.limits.logins_per_ip = xinli_domain::throttle::Limit::new(10_000, Duration::from_secs(60));
}

fn options(now: DateTime<Utc>) -> TestOptions {
    TestOptions {
        clock_at: Some(now),
        configure: configured,
        ..TestOptions::default()
    }
}

fn iso(t: DateTime<Utc>) -> String {
    t.with_timezone(&CHINA).to_rfc3339()
}

fn send_to(openid: &str) -> MockBuilder {
    Mock::given(method("POST"))
        .and(path("/cgi-bin/message/subscribe/send"))
        .and(body_partial_json(
            json!({"touser": format!("dev:{openid}")}),
        ))
}

/// Expects `times` messages to `openid` sent with `token`, answered with `answer`.
async fn expect_send(
    app: &TestApp,
    openid: &str,
    token: &str,
    answer: ResponseTemplate,
    times: u64,
) {
    send_to(openid)
        .and(query_param("access_token", token))
        .respond_with(answer)
        .expect(times)
        .mount(&app.wechat)
        .await;
}

fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"errcode": 0, "errmsg": "ok"}))
}

fn errcode(code: i64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"errcode": code, "errmsg": "fake"}))
}

fn stable_token(force: bool) -> MockBuilder {
    Mock::given(method("POST"))
        .and(path("/cgi-bin/stable_token"))
        .and(body_partial_json(json!({"force_refresh": force})))
}

async fn with_token(app: &TestApp) {
    stable_token(false)
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "tok-1", "expires_in": 7200})),
        )
        .mount(&app.wechat)
        .await;
}

/// The user accepts one message of each event (200).
async fn grant(app: &TestApp, user: &str, events: &[&str]) {
    app.post_expect(
        "/api/v1/me/subscriptions",
        Some(user),
        json!({"grants": events.iter().map(|e| json!({"event": e, "accepted": true})).collect::<Vec<_>>()}),
        200,
    )
    .await;
}

/// A station open every morning with one seat (201): its id.
async fn station(app: &TestApp, admin: &str) -> String {
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    app.post_expect(
        "/api/v1/admin/stations",
        Some(admin),
        json!({
            "name": "湖南省中西医结合医院(湖南省中医药研究院附属医院)", "unit": "单位",
            "address": "长沙市麓山路 58 号", "region": "长沙市", "audiences": ["worker"],
            "hours": {"kind": "weekly", "windows": days.iter().map(|d| json!({"day": d, "start": "09:00", "end": "12:00"})).collect::<Vec<_>>()},
            "slot_minutes": 50, "break_minutes": 10, "seats": 1
        }),
        201,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Books a session (201): the booking.
async fn book(app: &TestApp, user: &str, station: &str, start: DateTime<Utc>) -> Value {
    app.post_expect(
        &format!("/api/v1/stations/{station}/bookings"),
        Some(user),
        json!({"start_at": iso(start)}),
        201,
    )
    .await
}

/// The admin figures of the outbox (200).
async fn figures(app: &TestApp) -> Value {
    let admin = app.admin_token().await;
    app.get_ok("/api/v1/admin/notifications", Some(&admin))
        .await
}

/// Outbox rows by status, from the admin figures.
async fn statuses(app: &TestApp) -> std::collections::BTreeMap<String, u64> {
    let body = figures(app).await;
    let mut out = std::collections::BTreeMap::new();
    for item in body["items"].as_array().unwrap() {
        *out.entry(item["status"].as_str().unwrap().to_owned())
            .or_insert(0) += item["count"].as_u64().unwrap();
    }
    out
}

/// Waits until no row is due: nothing `pending` with a due time passed, nothing `sending`.
async fn settle(app: &TestApp, expect_pending: u64) {
    for _ in 0..200 {
        let s = statuses(app).await;
        if s.get("sending").copied().unwrap_or(0) == 0
            && s.get("pending").copied().unwrap_or(0) == expect_pending
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("outbox did not settle: {:?}", statuses(app).await);
}

#[tokio::test]
async fn one_grant_one_message_no_grant_none_and_a_cancelled_booking_is_not_reminded() {
    let monday = next_monday();
    let app = TestApp::spawn_with(options(at(monday, 0, 6, 0))).await;
    with_token(&app).await;
    send_to("granted")
        .and(query_param("access_token", "tok-1"))
        .and(body_partial_json(json!({
            "template_id": "tpl-created", "page": "pages/bookings/index",
            "miniprogram_state": "formal", "lang": "zh_CN",
            "data": {"thing1": {"value": "湖南省中西医结合医院(湖南省中医药研究…"},
                     "time2": {"value": format!("{} 09:00", (monday + chrono::Duration::days(1)).with_timezone(&CHINA).format("%Y-%m-%d"))},
                     "thing3": {"value": "长沙市麓山路 58 号"}}
        })))
        .respond_with(ok())
        .expect(1)
        .mount(&app.wechat)
        .await;
    send_to("granted")
        .and(body_partial_json(json!({"template_id": "tpl-reminder"})))
        .respond_with(ok())
        .expect(1)
        .mount(&app.wechat)
        .await;
    send_to("silent")
        .respond_with(ok())
        .expect(0)
        .mount(&app.wechat)
        .await;
    send_to("canceller")
        .and(body_partial_json(json!({"template_id": "tpl-reminder"})))
        .respond_with(ok())
        .expect(0)
        .mount(&app.wechat)
        .await;
    let admin = app.admin_token().await;
    let id = station(&app, &admin).await;
    let granted = app.user_token("granted").await;
    let silent = app.user_token("silent").await;
    let canceller = app.user_token("canceller").await;
    grant(&app, &granted, &["booking_created", "booking_reminder"]).await;
    grant(&app, &canceller, &["booking_reminder"]).await;
    book(&app, &granted, &id, at(monday, 1, 9, 0)).await;
    book(&app, &silent, &id, at(monday, 1, 10, 0)).await;
    let b = book(&app, &canceller, &id, at(monday, 1, 11, 0)).await;
    // Created: sent for `granted`, skipped for the two without a created grant. Reminders wait.
    settle(&app, 3).await;
    app.post_expect(
        &format!("/api/v1/bookings/{}/cancel", b["id"].as_str().unwrap()),
        Some(&canceller),
        json!({}),
        200,
    )
    .await;
    settle(&app, 2).await;
    // 24 h before: reminders are due.
    app.clock.as_ref().unwrap().set(at(monday, 0, 11, 1));
    settle(&app, 0).await;
    let s = statuses(&app).await;
    assert_eq!(s.get("sent"), Some(&2), "{s:?}");
    // A second message needs a second grant: the reminder grant of `granted` is spent.
    let me = app.get_ok("/api/v1/me/export", Some(&granted)).await;
    let grants = me["notification_grants"].as_array().unwrap();
    assert_eq!(grants.len(), 2);
    assert!(grants.iter().all(|g| !g["used_at"].is_null()));
    // The figures name no one.
    let figures = figures(&app).await.to_string();
    assert!(!figures.contains("dev:"), "{figures}");
}

#[tokio::test]
async fn refused_is_final_busy_is_retried_and_an_expired_token_is_replaced_once() {
    let monday = next_monday();
    let app = TestApp::spawn_with(options(at(monday, 0, 6, 0))).await;
    stable_token(false)
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "tok-old", "expires_in": 7200})),
        )
        .expect(1)
        .mount(&app.wechat)
        .await;
    stable_token(true)
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "tok-new", "expires_in": 7200})),
        )
        .expect(1)
        .mount(&app.wechat)
        .await;
    // The first message meets an expired token (42001): one refresh, then it goes through.
    Mock::given(method("POST"))
        .and(path("/cgi-bin/message/subscribe/send"))
        .and(query_param("access_token", "tok-old"))
        .respond_with(errcode(42001))
        .expect(1)
        .mount(&app.wechat)
        .await;
    expect_send(&app, "expired", "tok-new", ok(), 1).await;
    expect_send(&app, "refuser", "tok-new", errcode(43101), 1).await;
    send_to("busy")
        .and(query_param("access_token", "tok-new"))
        .respond_with(errcode(-1))
        .up_to_n_times(1)
        .expect(1)
        .mount(&app.wechat)
        .await;
    send_to("busy")
        .and(query_param("access_token", "tok-new"))
        .respond_with(ok())
        .expect(1)
        .mount(&app.wechat)
        .await;
    expect_send(&app, "bad-data", "tok-new", errcode(47003), 1).await;
    let admin = app.admin_token().await;
    let id = station(&app, &admin).await;
    // One at a time, so that the expired token is met by the first message only. Each booking
    // also leaves its reminder pending (due 24 h before); the busy message waits for a retry.
    for (hour, (name, pending)) in [("expired", 1), ("refuser", 2), ("busy", 4), ("bad-data", 5)]
        .into_iter()
        .enumerate()
    {
        let user = app.user_token(name).await;
        grant(&app, &user, &["booking_created"]).await;
        book(&app, &user, &id, at(monday, 1 + hour as i64, 9, 0)).await;
        settle(&app, pending).await;
    }
    // The busy one is retried after its backoff (60 s after the first try).
    app.clock.as_ref().unwrap().set(at(monday, 0, 6, 2));
    settle(&app, 4).await;
    let body = figures(&app).await;
    let failures = body["failures"].to_string();
    assert!(
        failures.contains("43101") && failures.contains("47003"),
        "{failures}"
    );
    let s = statuses(&app).await;
    assert_eq!(
        (s.get("sent"), s.get("refused"), s.get("failed")),
        (Some(&2), Some(&1), Some(&1)),
        "{s:?}"
    );
}

/// Two instances poll the same outbox: every message goes out exactly once.
#[tokio::test]
async fn two_instances_never_send_one_message_twice() {
    let monday = next_monday();
    let app = TestApp::spawn_with(options(at(monday, 0, 6, 0))).await;
    let sibling = app.sibling().await;
    with_token(&app).await;
    Mock::given(method("POST"))
        .and(path("/cgi-bin/message/subscribe/send"))
        .respond_with(ok().set_delay(Duration::from_millis(20)))
        .expect(18)
        .mount(&app.wechat)
        .await;
    let admin = app.admin_token().await;
    let id = station(&app, &admin).await;
    let mut bookings = vec![];
    for i in 0..18 {
        let user = app.user_token(&format!("twin-{i}")).await;
        grant(&app, &user, &["booking_created"]).await;
        let target = if i % 2 == 0 { &app } else { &sibling };
        let id = id.clone();
        bookings.push(async move {
            book(target, &user, &id, at(monday, 1 + i / 3, 9 + i % 3, 0)).await
        });
    }
    futures::future::join_all(bookings).await;
    // 18 created messages; 18 reminders wait.
    settle(&app, 18).await;
    assert_eq!(statuses(&app).await.get("sent"), Some(&18));
}

/// Messages pending when an instance stops are sent by the next one, once.
#[tokio::test]
async fn a_restart_sends_what_was_pending_once() {
    let monday = next_monday();
    let mut app = TestApp::spawn_with(TestOptions {
        clock_at: Some(at(monday, 0, 6, 0)),
        configure: |c| {
            configured(c);
            // This instance's worker looks once, at start, and not again during the test.
            c.notifications.poll_every = Duration::from_secs(3600);
        },
        ..TestOptions::default()
    })
    .await;
    with_token(&app).await;
    send_to("asker")
        .and(body_partial_json(json!({
            "template_id": "tpl-ready", "page": "pages/consultation/index",
            "data": {"thing4": {"value": "咨询师已接入"}}
        })))
        .respond_with(ok())
        .expect(1)
        .mount(&app.wechat)
        .await;
    let admin = app.admin_token().await;
    let (counselor, _) = counselor(&app, &admin, "notify-counselor", 1).await;
    let asker = app.user_token("asker").await;
    grant(&app, &asker, &["consultation_ready"]).await;
    let res = app
        .post(
            "/api/v1/consultations",
            Some(&asker),
            json!({"topic": "压力", "channel": "text"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .post("/api/v1/counselor/queue/claim", Some(&counselor), json!({}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(statuses(&app).await.get("pending"), Some(&1));
    app.shutdown().await;
    let next = app
        .sibling_with(|c| c.notifications.poll_every = Duration::from_millis(30))
        .await;
    settle(&next, 0).await;
    assert_eq!(statuses(&next).await.get("sent"), Some(&1));
}

/// The jobs stop with the server: a row that falls due after an instance stopped is left to
/// the instances still running, not sent by the stopped one's worker.
#[tokio::test]
async fn a_stopped_instance_sends_nothing_more() {
    let monday = next_monday();
    let mut app = TestApp::spawn_with(TestOptions {
        clock_at: Some(at(monday, 0, 6, 0)),
        configure: |c| {
            configured(c);
            c.notifications.poll_every = Duration::from_millis(30);
        },
        ..TestOptions::default()
    })
    .await;
    with_token(&app).await;
    send_to("after-stop")
        .respond_with(ok())
        .expect(0)
        .mount(&app.wechat)
        .await;
    let admin = app.admin_token().await;
    let (counselor, _) = counselor(&app, &admin, "stop-counselor", 1).await;
    let asker = app.user_token("after-stop").await;
    grant(&app, &asker, &["consultation_ready"]).await;
    app.shutdown().await;
    // Another instance whose own worker looks only at start (nothing is due then).
    let next = app
        .sibling_with(|c| c.notifications.poll_every = Duration::from_secs(3600))
        .await;
    next.post_expect(
        "/api/v1/consultations",
        Some(&asker),
        json!({"topic": "压力", "channel": "text"}),
        201,
    )
    .await;
    let res = next
        .post("/api/v1/counselor/queue/claim", Some(&counselor), json!({}))
        .await;
    assert_eq!(res.status(), 200);
    // Ten of the stopped worker's polls.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(statuses(&next).await.get("pending"), Some(&1));
}

/// A counselor online with one place: their token.
async fn online_counselor(app: &TestApp, name: &str) -> String {
    let admin = app.admin_token().await;
    counselor(app, &admin, name, 1).await.0
}

/// A reply the person reads within a minute sends nothing; one they miss sends one message,
/// which says that there is a reply, not what it says.
#[tokio::test]
async fn a_reply_read_in_time_is_not_announced_a_missed_one_is() {
    let monday = next_monday();
    let app = TestApp::spawn_with(options(at(monday, 0, 6, 0))).await;
    with_token(&app).await;
    send_to("reader")
        .and(body_partial_json(json!({
            "template_id": "tpl-replied", "page": "pages/consultation/index",
            "data": {"thing1": {"value": "咨询师回复了你，请回到对话"}}
        })))
        .respond_with(ok())
        .expect(1)
        .mount(&app.wechat)
        .await;
    let counselor = online_counselor(&app, "reply-counselor").await;
    let user = app.user_token("reader").await;
    grant(&app, &user, &["counselor_replied", "counselor_replied"]).await;
    let id = app
        .post_expect(
            "/api/v1/consultations",
            Some(&user),
            json!({"topic": "压力", "channel": "text"}),
            201,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .post("/api/v1/counselor/queue/claim", Some(&counselor), json!({}))
        .await;
    assert_eq!(res.status(), 200);
    let say = |text: &'static str| {
        let (app, counselor, id) = (&app, counselor.clone(), id.clone());
        async move {
            let res = app
                .post(
                    &format!("/api/v1/consultations/{id}/messages"),
                    Some(&counselor),
                    json!({"text": text}),
                )
                .await;
            assert_eq!(res.status(), 201);
        }
    };
    // Read within the grace time: withdrawn.
    say("你好，我在").await;
    let res = app
        .get(&format!("/api/v1/consultations/{id}/messages"), Some(&user))
        .await;
    assert_eq!(res.status(), 200);
    app.clock.as_ref().unwrap().set(at(monday, 0, 6, 5));
    settle(&app, 0).await;
    assert_eq!(statuses(&app).await.get("sent"), None);
    // Missed: announced once, however many replies follow.
    say("最近睡得怎么样？").await;
    say("我们慢慢说").await;
    app.clock.as_ref().unwrap().set(at(monday, 0, 6, 7));
    settle(&app, 0).await;
    assert_eq!(statuses(&app).await.get("sent"), Some(&1));
}

fn configured_and_swept(c: &mut xinli_api::Config) {
    configured(c);
    c.retention_every = Duration::from_millis(100);
}

/// Settled outbox rows go 30 days after they were sent (README, "Retention"); pending ones
/// never.
#[tokio::test]
async fn settled_messages_go_after_thirty_days() {
    let monday = next_monday();
    let app = TestApp::spawn_with(TestOptions {
        clock_at: Some(at(monday, 0, 6, 0)),
        configure: configured_and_swept,
        ..TestOptions::default()
    })
    .await;
    with_token(&app).await;
    send_to("kept-a-month")
        .respond_with(ok())
        .expect(1)
        .mount(&app.wechat)
        .await;
    let admin = app.admin_token().await;
    let id = station(&app, &admin).await;
    let user = app.user_token("kept-a-month").await;
    grant(&app, &user, &["booking_created"]).await;
    book(&app, &user, &id, at(monday, 6, 9, 0)).await;
    // Sent now; the reminder (no grant) waits until a day before the session.
    settle(&app, 1).await;
    let clock = app.clock.clone().unwrap();
    clock.advance(chrono::Duration::days(29));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let s = statuses(&app).await;
    assert_eq!(s.get("sent"), Some(&1), "{s:?}");
    assert_eq!(s.get("skipped"), Some(&1), "the reminder came due: {s:?}");
    clock.advance(chrono::Duration::days(2));
    let sent = "SELECT id FROM outbox WHERE status = 'sent'";
    let skipped = "SELECT id FROM outbox WHERE status = 'skipped'";
    assert_eq!(
        crate::retention::until_rows(&app, sent, 0).await,
        0,
        "the sent row went"
    );
    assert_eq!(
        crate::retention::count(&app, skipped).await,
        1,
        "due 26 days ago: kept until 30 days have passed"
    );
}
