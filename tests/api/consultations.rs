//! 在线咨询: state machine over HTTP, priority from risk, position and wait, atomic claims under
//! real concurrency (also across two instances), chat with long polls, access isolation,
//! close/transfer, audited assessment reads, expiry and no-reply with a moving clock,
//! rating, statistics, export and delete.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use xinli_tests::{TestApp, TestOptions, access_token, assert_error};

// One helper per endpoint a setup step calls: each asserts the status it expects (the panic
// names the request and shows the answer), so a failed step fails where it happens. A request
// whose answer is the point of a test stays a raw call with `assert_error` or an explicit
// status.

/// A counselor account, logged in, online with `capacity` places when above 0: its token and
/// its id.
pub(crate) async fn counselor(
    app: &TestApp,
    admin: &str,
    name: &str,
    capacity: u8,
) -> (String, String) {
    let view = app.create_staff(admin, name, "counselor").await;
    let login = app
        .post_expect(
            "/api/v1/auth/staff",
            None,
            json!({"username": name, "password": format!("{name}-password")}),
            200,
        )
        .await;
    let token = access_token(&login);
    if capacity > 0 {
        set_status(app, &token, true, capacity).await;
    }
    (token, view["id"].as_str().unwrap().to_owned())
}

/// A new consultation request (201): its view.
pub(crate) async fn ask(app: &TestApp, token: &str) -> Value {
    app.post_expect(
        "/api/v1/consultations",
        Some(token),
        json!({"topic": "压力", "description": "最近压力很大", "channel": "text"}),
        201,
    )
    .await
}

/// A claim as it answers (200, 204 or an error): for tests whose point is the answer.
pub(crate) async fn claim(app: &TestApp, token: &str) -> reqwest::Response {
    app.post("/api/v1/counselor/queue/claim", Some(token), json!({}))
        .await
}

/// A claim that must give someone (200): the consultation taken.
async fn claimed(app: &TestApp, token: &str) -> Value {
    app.post_expect("/api/v1/counselor/queue/claim", Some(token), json!({}), 200)
        .await
}

/// The counselor's queue, first page (200).
async fn queue(app: &TestApp, token: &str) -> Value {
    app.get_ok("/api/v1/counselor/queue", Some(token)).await
}

/// The counselor's own status (200).
async fn counselor_status(app: &TestApp, token: &str) -> Value {
    app.get_ok("/api/v1/counselor/status", Some(token)).await
}

/// Sets the counselor's status (200).
async fn set_status(app: &TestApp, token: &str, online: bool, capacity: u8) -> Value {
    app.put_ok(
        "/api/v1/counselor/status",
        Some(token),
        json!({"online": online, "capacity": capacity}),
    )
    .await
}

/// One consultation as its user or counselor sees it (200).
async fn consultation(app: &TestApp, token: &str, id: &str) -> Value {
    app.get_ok(&format!("/api/v1/consultations/{id}"), Some(token))
        .await
}

/// The user cancels their request (200).
async fn cancel(app: &TestApp, token: &str, id: &str) -> Value {
    app.post_expect(
        &format!("/api/v1/consultations/{id}/cancel"),
        Some(token),
        json!({}),
        200,
    )
    .await
}

/// Messages after the cursor (200); `None` sends no cursor.
async fn messages(app: &TestApp, token: &str, id: &str, after: Option<i64>) -> Value {
    let path = match after {
        Some(after) => format!("/api/v1/consultations/{id}/messages?after={after}"),
        None => format!("/api/v1/consultations/{id}/messages"),
    };
    app.get_ok(&path, Some(token)).await
}

/// A long poll: messages after the cursor, waiting up to `wait` seconds (200).
async fn long_poll(app: &TestApp, token: &str, id: &str, after: i64, wait: u64) -> Value {
    app.get_ok(
        &format!("/api/v1/consultations/{id}/messages?after={after}&wait={wait}"),
        Some(token),
    )
    .await
}

/// Writes a message (201).
async fn write(app: &TestApp, token: &str, id: &str, text: &str) -> Value {
    app.post_expect(
        &format!("/api/v1/consultations/{id}/messages"),
        Some(token),
        json!({"text": text}),
        201,
    )
    .await
}

/// The counselor closes with a private note (200).
async fn close(app: &TestApp, token: &str, id: &str, note: &str) -> Value {
    app.post_expect(
        &format!("/api/v1/consultations/{id}/close"),
        Some(token),
        json!({"note": note}),
        200,
    )
    .await
}

/// Transfers to a named counselor, or back to the pool with `None` (200).
async fn transfer(app: &TestApp, token: &str, id: &str, to: Option<&str>) -> Value {
    app.post_expect(
        &format!("/api/v1/consultations/{id}/transfer"),
        Some(token),
        json!({"counselor_id": to}),
        200,
    )
    .await
}

/// The user rates a closed consultation (200).
async fn rate(app: &TestApp, token: &str, id: &str, score: u8, comment: &str) -> Value {
    app.post_expect(
        &format!("/api/v1/consultations/{id}/rating"),
        Some(token),
        json!({"score": score, "comment": comment}),
        200,
    )
    .await
}

/// The user answers the two-question survey of a closed consultation (204).
async fn answer_survey(app: &TestApp, token: &str, id: &str, content: u8, gain: u8) {
    app.post_expect(
        &format!("/api/v1/consultations/{id}/survey"),
        Some(token),
        json!({"content": content, "gain": gain}),
        204,
    )
    .await;
}

/// The counselor reads the client's assessments (200).
async fn client_assessments(app: &TestApp, token: &str, id: &str) -> Value {
    app.get_ok(
        &format!("/api/v1/consultations/{id}/client-assessments"),
        Some(token),
    )
    .await
}

/// The user submits a scale (201): its result.
async fn submit(app: &TestApp, token: &str, scale: &str, answers: Value) -> Value {
    app.post_expect(
        &format!("/api/v1/scales/{scale}/submissions"),
        Some(token),
        json!({"answers": answers}),
        201,
    )
    .await
}

fn many_logins(c: &mut xinli_api::Config) {
    c.limits.logins_per_ip = xinli_domain::throttle::Limit::new(10_000, Duration::from_secs(60));
}

#[tokio::test]
async fn a_request_waits_with_an_honest_estimate_and_one_open_request_per_user() {
    let app = TestApp::spawn().await;
    let user = app.user_token("asker").await;
    let first = ask(&app, &user).await;
    assert_eq!(first["status"], "waiting");
    assert_eq!(first["position"], 0);
    // Nobody online: no invented number, a reason, and lines to call now.
    assert_eq!(first["estimated_wait_seconds"], Value::Null);
    assert!(
        first["wait_basis"]
            .as_str()
            .unwrap()
            .contains("没有咨询师在线")
    );
    assert!(!first["hotlines"].as_array().unwrap().is_empty());
    assert!(
        first["hotlines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["open_now"] != false)
    );
    assert_error(
        app.post(
            "/api/v1/consultations",
            Some(&user),
            json!({"topic": "压力"}),
        )
        .await,
        409,
        "consultation_open",
    )
    .await;
    let body = assert_error(
        app.post(
            "/api/v1/consultations",
            Some(&app.user_token("x").await),
            json!({"topic": "天气", "description": "长".repeat(501), "channel": "video"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["topic", "description", "channel"]);

    // Cancel, then a new request is allowed; cancelling twice is an illegal transition.
    let id = first["id"].as_str().unwrap();
    let cancelled = cancel(&app, &user, id).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_error(
        app.post(
            &format!("/api/v1/consultations/{id}/cancel"),
            Some(&user),
            json!({}),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    ask(&app, &user).await;
}

#[tokio::test]
async fn priority_follows_recent_risk_and_the_queue_is_served_in_that_order() {
    let app = TestApp::spawn_with(TestOptions {
        configure: many_logins,
        ..TestOptions::default()
    })
    .await;
    let admin = app.admin_token().await;
    // Arrival order: normal, elevated, high, urgent.
    let plans: [(&str, Option<(&str, Value)>); 4] = [
        ("p-normal", None),
        (
            "p-elevated",
            Some(("phq9", json!([2, 2, 1, 1, 1, 1, 1, 1, 0]))),
        ),
        ("p-high", Some(("gad7", json!([3, 3, 3, 3, 3, 3, 3])))),
        (
            "p-urgent",
            Some(("phq9", json!([0, 0, 0, 0, 0, 0, 0, 0, 1]))),
        ),
    ];
    let mut ids = HashMap::new();
    for (who, sheet) in plans {
        let token = app.user_token(who).await;
        if let Some((scale, answers)) = sheet {
            submit(&app, &token, scale, answers).await;
        }
        let view = ask(&app, &token).await;
        let text = view.to_string();
        assert!(
            !text.contains("urgent") && !text.contains("elevated") && !text.contains("\"high\""),
            "{text}"
        );
        assert_eq!(
            view["priority"],
            if who == "p-normal" {
                "standard"
            } else {
                "prioritized"
            }
        );
        ids.insert(view["id"].as_str().unwrap().to_owned(), who);
    }
    let (c1, _) = counselor(&app, &admin, "queue.reader", 10).await;
    let queue = queue(&app, &c1).await;
    // Paged and bounded: the first page of two is the head of the same order.
    let head = app
        .get_ok("/api/v1/counselor/queue?page_size=2", Some(&c1))
        .await;
    assert_eq!(head["items"].as_array().unwrap().len(), 2);
    assert_eq!(head["total"], queue["total"]);
    assert_eq!(head["items"][1]["id"], queue["items"][1]["id"]);
    assert_error(
        app.get("/api/v1/counselor/queue?page_size=1000", Some(&c1))
            .await,
        422,
        "validation_failed",
    )
    .await;
    let order: Vec<(&str, &str)> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                ids[e["id"].as_str().unwrap()],
                e["priority"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            ("p-urgent", "urgent"),
            ("p-high", "high"),
            ("p-elevated", "elevated"),
            ("p-normal", "normal")
        ]
    );
    assert!(
        queue["items"][0]["priority_reason"]
            .as_str()
            .unwrap()
            .contains("自伤")
    );
    // Claims follow exactly the order the queue showed.
    for expected in ["p-urgent", "p-high", "p-elevated", "p-normal"] {
        let got = claimed(&app, &c1).await;
        assert_eq!(ids[got["id"].as_str().unwrap()], expected);
        assert_eq!(got["status"], "active");
    }
    assert_eq!(claim(&app, &c1).await.status(), 204);
}

#[tokio::test]
async fn position_and_wait_with_zero_one_and_several_counselors() {
    let app = TestApp::spawn_with(TestOptions {
        configure: many_logins,
        ..TestOptions::default()
    })
    .await;
    let admin = app.admin_token().await;
    let mut users = vec![];
    for i in 0..4 {
        let token = app.user_token(&format!("waiter-{i}")).await;
        let v = ask(&app, &token).await;
        assert_eq!(v["position"], i, "position by arrival");
        users.push((token, v["id"].as_str().unwrap().to_owned()));
    }
    let view = |i: usize| {
        let (t, id) = users[i].clone();
        let app = &app;
        async move { consultation(app, &t, &id).await }
    };
    assert_eq!(view(3).await["estimated_wait_seconds"], Value::Null);
    assert_eq!(view(3).await["counselors_online"], 0);

    // One counselor with one free place: the first is next (about a minute), the fourth waits
    // three sessions of the default 30 minutes.
    let (c1, _) = counselor(&app, &admin, "one.counselor", 1).await;
    assert_eq!(view(0).await["estimated_wait_seconds"], 60);
    assert_eq!(view(3).await["estimated_wait_seconds"], 3 * 1800);
    assert_eq!(view(3).await["counselors_online"], 1);
    assert!(view(3).await["hotlines"].as_array().unwrap().is_empty());

    // Several: three more places.
    counselor(&app, &admin, "two.counselor", 3).await;
    assert_eq!(
        view(3).await["estimated_wait_seconds"],
        60,
        "four free places for four people"
    );
    assert_eq!(view(3).await["counselors_online"], 2);

    // After a claim the positions move up.
    claimed(&app, &c1).await;
    assert_eq!(view(1).await["position"], 0);
    assert_eq!(view(3).await["position"], 2);
    assert_eq!(view(0).await["status"], "active");
    assert_eq!(view(0).await["position"], Value::Null);
}

#[tokio::test]
async fn claims_need_an_online_counselor_with_a_free_place() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (c1, _) = counselor(&app, &admin, "cap.counselor", 0).await;
    assert_error(claim(&app, &c1).await, 409, "counselor_offline").await;
    set_status(&app, &c1, true, 1).await;
    assert_eq!(claim(&app, &c1).await.status(), 204, "nobody waiting");
    ask(&app, &app.user_token("cap-1").await).await;
    ask(&app, &app.user_token("cap-2").await).await;
    assert_eq!(claim(&app, &c1).await.status(), 200);
    assert_error(claim(&app, &c1).await, 409, "at_capacity").await;
    let status = counselor_status(&app, &c1).await;
    assert_eq!(status, json!({"online": true, "capacity": 1, "active": 1}));
    assert_error(
        app.put(
            "/api/v1/counselor/status",
            Some(&c1),
            json!({"online": true, "capacity": 11}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let user = app.user_token("cap-3").await;
    assert_error(claim(&app, &user).await, 403, "forbidden").await;
    assert_error(
        app.put(
            "/api/v1/counselor/status",
            Some(&admin),
            json!({"online": true, "capacity": 1}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
}

/// 60 people waiting, 6 counselors of capacity 10 claiming at once: every person claimed
/// exactly once, nobody lost, no counselor beyond capacity. With a second instance on the
/// same database, half the counselors claim through it.
#[tokio::test]
async fn concurrent_claims_give_everyone_exactly_once() {
    let a = TestApp::spawn_with(TestOptions {
        configure: many_logins,
        ..TestOptions::default()
    })
    .await;
    let b = a.sibling().await;
    let admin = a.admin_token().await;
    let mut waiting = HashSet::new();
    for i in 0..60 {
        let token = a.user_token(&format!("crowd-{i}")).await;
        waiting.insert(ask(&a, &token).await["id"].as_str().unwrap().to_owned());
    }
    let mut counselors = vec![];
    for i in 0..6 {
        counselors.push(counselor(&a, &admin, &format!("rush.{i}"), 10).await.0);
    }
    let started = Instant::now();
    let tasks = counselors.iter().enumerate().map(|(i, token)| {
        let app = if i % 2 == 0 { &a } else { &b };
        async move {
            let mut mine = vec![];
            // Each counselor fires claims concurrently, 4 at a time, until nothing is left.
            loop {
                let burst = futures::future::join_all((0..4).map(|_| claim(app, token))).await;
                let mut done = true;
                for res in burst {
                    match res.status().as_u16() {
                        200 => {
                            mine.push(
                                res.json::<Value>().await.unwrap()["id"]
                                    .as_str()
                                    .unwrap()
                                    .to_owned(),
                            );
                            done = false;
                        }
                        204 | 409 => {}
                        other => panic!("claim answered {other}: {}", res.text().await.unwrap()),
                    }
                }
                if done {
                    return mine;
                }
            }
        }
    });
    let results = futures::future::join_all(tasks).await;
    let elapsed = started.elapsed();
    let all: Vec<String> = results.iter().flatten().cloned().collect();
    let unique: HashSet<String> = all.iter().cloned().collect();
    assert_eq!(
        all.len(),
        60,
        "every claim returned a distinct person: {} claims",
        all.len()
    );
    assert_eq!(unique, waiting, "nobody lost, nobody served twice");
    for (i, mine) in results.iter().enumerate() {
        assert!(
            mine.len() <= 10,
            "counselor {i} got {} (capacity 10)",
            mine.len()
        );
        let status = counselor_status(&a, &counselors[i]).await;
        assert_eq!(status["active"], mine.len());
    }
    eprintln!("60 claims by 6 counselors over 2 instances in {elapsed:?}");
}

#[tokio::test]
async fn chat_with_cursor_long_poll_and_access_rules() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app.user_token("talker").await;
    let stranger = app.user_token("stranger").await;
    let (c1, _) = counselor(&app, &admin, "chat.one", 2).await;
    let (c2, _) = counselor(&app, &admin, "chat.two", 2).await;
    let id = ask(&app, &user).await["id"].as_str().unwrap().to_owned();
    let msgs = format!("/api/v1/consultations/{id}/messages");

    // The person may write while waiting; no counselor may read before claiming.
    write(&app, &user, &id, "你好，我在等。").await;
    assert_error(app.get(&msgs, Some(&c1)).await, 404, "not_found").await;
    claimed(&app, &c1).await;
    let page = messages(&app, &c1, &id, None).await;
    assert_eq!(page["items"][0]["text"], "你好，我在等。");
    assert_eq!(page["next_after"], 1);

    // A long poll returns as soon as the counselor writes.
    let poll = long_poll(&app, &user, &id, 1, 10);
    let reply = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        write(&app, &c1, &id, "你好，我是咨询师。").await
    };
    let started = Instant::now();
    let (polled, _) = tokio::join!(poll, reply);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "woke early: {:?}",
        started.elapsed()
    );
    assert_eq!(polled["items"][0]["sender"], "counselor");
    assert_eq!(polled["items"][0]["seq"], 2);
    // An empty poll without wait answers at once with the same cursor.
    let empty = messages(&app, &user, &id, Some(2)).await;
    assert_eq!(
        (
            empty["items"].as_array().unwrap().len(),
            empty["next_after"].as_i64()
        ),
        (0, Some(2))
    );

    // Nobody else reads: another user, another counselor, an admin.
    assert_error(app.get(&msgs, Some(&stranger)).await, 404, "not_found").await;
    assert_error(app.get(&msgs, Some(&c2)).await, 404, "not_found").await;
    assert_error(app.get(&msgs, Some(&admin)).await, 403, "forbidden").await;
    assert_error(
        app.get(&format!("/api/v1/consultations/{id}"), Some(&admin))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.post(&msgs, Some(&stranger), json!({"text": "hi"}))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.get(&format!("{msgs}?wait=60"), Some(&user)).await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        app.post(&msgs, Some(&user), json!({"text": "长".repeat(2001)}))
            .await,
        422,
        "validation_failed",
    )
    .await;

    // Close with a private note: the user still reads, nobody writes, the note stays private.
    let closed = close(&app, &c1, &id, "私密记录：建议两周后复谈").await;
    assert_eq!(closed["note"], "私密记录：建议两周后复谈");
    messages(&app, &user, &id, None).await;
    assert_error(
        app.post(&msgs, Some(&user), json!({"text": "还在吗"}))
            .await,
        409,
        "invalid_transition",
    )
    .await;
    assert_error(
        app.post(&msgs, Some(&c1), json!({"text": "再见"})).await,
        404,
        "not_found",
    )
    .await;
    let mine = consultation(&app, &user, &id).await;
    assert!(
        !mine.to_string().contains("私密记录"),
        "the note never reaches the user"
    );
    assert_error(
        app.post(
            &format!("/api/v1/consultations/{id}/close"),
            Some(&c1),
            json!({"note": ""}),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
}

#[tokio::test]
async fn a_long_poll_wakes_on_a_message_written_through_another_instance() {
    let a = TestApp::spawn().await;
    let b = a.sibling().await;
    let admin = a.admin_token().await;
    let user = a.user_token("far-talker").await;
    let (c1, _) = counselor(&a, &admin, "far.counselor", 1).await;
    let id = ask(&a, &user).await["id"].as_str().unwrap().to_owned();
    claimed(&a, &c1).await;
    let started = Instant::now();
    // The write waits long enough that the poll has surely read the database first.
    let (polled, _) = tokio::join!(long_poll(&a, &user, &id, 0, 6), async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        write(&b, &c1, &id, "来自另一台实例").await
    });
    assert_eq!(polled["items"][0]["text"], "来自另一台实例");
    if xinli_tests::test_redis_url().is_some() {
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "woken through Redis: {:?}",
            started.elapsed()
        );
    } else {
        // Without Redis, instances share no signal: the poll ends at its timeout and still
        // returns the message (the README says to configure Redis for several instances).
        assert!(started.elapsed() >= Duration::from_secs(5));
    }
}

#[tokio::test]
async fn transfer_to_a_named_counselor_or_back_to_the_pool() {
    let app = TestApp::spawn_with(TestOptions {
        configure: many_logins,
        ..TestOptions::default()
    })
    .await;
    let admin = app.admin_token().await;
    let (c1, _) = counselor(&app, &admin, "from.counselor", 3).await;
    let (c2, c2_id) = counselor(&app, &admin, "to.counselor", 3).await;
    let (_, offline_id) = counselor(&app, &admin, "off.counselor", 0).await;
    let early = ask(&app, &app.user_token("early-bird").await).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = app.user_token("transferred").await;
    let later = ask(&app, &app.user_token("late-comer").await).await;
    let id = claimed(&app, &c1).await["id"].as_str().unwrap().to_owned();
    assert_eq!(id, early);
    let t = format!("/api/v1/consultations/{id}/transfer");
    assert_error(
        app.post(&t, Some(&c1), json!({"counselor_id": offline_id}))
            .await,
        409,
        "transfer_target_unavailable",
    )
    .await;
    assert_error(
        app.post(&t, Some(&c2), json!({"counselor_id": c2_id}))
            .await,
        404,
        "not_found",
    )
    .await;

    // To a named counselor: first in their queue, gone from the first counselor's reach.
    transfer(&app, &c1, &id, Some(&c2_id)).await;
    let q2 = queue(&app, &c2).await;
    assert_eq!(q2["items"][0]["id"], id);
    assert_eq!(q2["items"][0]["assigned_to_me"], true);
    let q1 = queue(&app, &c1).await;
    assert!(
        !q1["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == id),
        "not offered to others"
    );
    assert_error(
        app.get(&format!("/api/v1/consultations/{id}/messages"), Some(&c1))
            .await,
        404,
        "not_found",
    )
    .await;
    let got = claimed(&app, &c2).await;
    assert_eq!(got["id"], id);

    // Back to the pool: keeps its place by arrival, ahead of the later request.
    transfer(&app, &c2, &id, None).await;
    let pool = queue(&app, &c1).await;
    let ids: Vec<&str> = pool["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str(), later["id"].as_str().unwrap()]);
    let _ = user;
}

#[tokio::test]
async fn client_assessments_only_while_serving_and_every_read_is_audited() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app.user_token("assessed").await;
    submit(&app, &user, "gad7", json!([1, 1, 1, 1, 1, 1, 1])).await;
    let (c1, c1_id) = counselor(&app, &admin, "reader.one", 1).await;
    let (c2, _) = counselor(&app, &admin, "reader.two", 1).await;
    let id = ask(&app, &user).await["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/consultations/{id}/client-assessments");
    assert_error(app.get(&path, Some(&c1)).await, 404, "not_found").await;
    claimed(&app, &c1).await;
    let list = client_assessments(&app, &c1, &id).await;
    assert_eq!(list[0]["scale"], "gad7");
    assert_eq!(list[0]["score"], 7);
    client_assessments(&app, &c1, &id).await;
    assert_error(app.get(&path, Some(&c2)).await, 404, "not_found").await;
    assert_error(app.get(&path, Some(&user)).await, 403, "forbidden").await;

    // Each read is in the audit trail, which an admin reads: who, what, when; not whose.
    let audit = app
        .get_ok(
            &format!("/api/v1/admin/audit?consultation_id={id}&action=read_client_assessments"),
            Some(&admin),
        )
        .await;
    assert_eq!(audit["total"], 2, "each read audited: {audit}");
    assert_eq!(audit["items"][0]["actor_id"], c1_id.as_str());
    assert_eq!(audit["items"][0]["actor_name"], "reader.one 老师");
    assert_eq!(audit["items"][0]["actor_role"], "counselor");
    assert!(audit["items"][0].get("subject_user_id").is_none());
    // Reading the client's messages is audited when it returns any; an empty read is not.
    write(&app, &user, &id, "最近睡不好").await;
    let page = messages(&app, &c1, &id, Some(0)).await;
    let reads = format!("/api/v1/admin/audit?consultation_id={id}&action=read_client_messages");
    assert_eq!(total(&app, &reads, &admin).await, 1);
    let after = page["next_after"].as_i64().unwrap();
    let empty = messages(&app, &c1, &id, Some(after)).await;
    assert_eq!(empty["items"], json!([]), "nothing after the cursor");
    assert_eq!(
        total(&app, &reads, &admin).await,
        1,
        "a read that returned nothing read nothing"
    );
    // The chat polls: more reads of the same consultation on the same day are one entry
    // (#30), not one per poll.
    write(&app, &user, &id, "还是睡不好").await;
    messages(&app, &c1, &id, Some(after)).await;
    messages(&app, &c1, &id, Some(0)).await;
    assert_eq!(total(&app, &reads, &admin).await, 1, "once per day");
    assert_error(
        app.get("/api/v1/admin/audit", Some(&c1)).await,
        403,
        "forbidden",
    )
    .await;
    // Admin changes are there too: the two counselor accounts created above.
    let created = app
        .get_ok("/api/v1/admin/audit?action=create_staff", Some(&admin))
        .await;
    assert_eq!(created["total"], 2);
    assert_eq!(created["items"][0]["actor_role"], "admin");

    close(&app, &c1, &id, "").await;
    assert_error(app.get(&path, Some(&c1)).await, 404, "not_found").await;
}

async fn total(app: &TestApp, path: &str, token: &str) -> u64 {
    app.get_ok(path, Some(token)).await["total"]
        .as_u64()
        .unwrap()
}

fn fast_sweep(c: &mut xinli_api::Config) {
    c.queue.sweep_every = Duration::from_millis(50);
    c.queue.max_wait = Duration::from_secs(120 * 60);
    c.queue.no_reply = Duration::from_secs(5 * 60);
}

async fn eventually(app: &TestApp, path: &str, token: &str, field: &str, value: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = app.get_ok(path, Some(token)).await;
        if v[field] == value || Instant::now() > deadline {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn waiting_too_long_expires_and_silent_counselors_lose_the_person() {
    let start = chrono::Utc::now() + chrono::Duration::days(1);
    let app = TestApp::spawn_with(TestOptions {
        clock_at: Some(start),
        configure: fast_sweep,
        ..TestOptions::default()
    })
    .await;
    let clock = app.clock.clone().unwrap();
    let admin = app.admin_token().await;
    let (c1, _) = counselor(&app, &admin, "silent.counselor", 2).await;

    // No-reply: claimed, nothing written for 5 minutes → back to the head of the queue.
    let talker = app.user_token("left-alone").await;
    let early = ask(&app, &talker).await["id"].as_str().unwrap().to_owned();
    clock.advance(chrono::Duration::minutes(1));
    let other = app.user_token("queued-behind").await;
    ask(&app, &other).await;
    clock.advance(chrono::Duration::minutes(1));
    let other2 = app.user_token("queued-later").await;
    let later = ask(&app, &other2).await["id"].as_str().unwrap().to_owned();
    // The counselor takes the last one first? No: order is by arrival, so claim the first,
    // then make a *later* arrival the silent one by claiming twice.
    claimed(&app, &c1).await; // early
    let second = claimed(&app, &c1).await; // queued-behind
    write(&app, &c1, &early, "我在，慢慢说。").await; // early gets a reply
    clock.advance(chrono::Duration::minutes(6));
    let behind = second["id"].as_str().unwrap().to_owned();
    let back = eventually(
        &app,
        &format!("/api/v1/consultations/{behind}"),
        &other,
        "status",
        "waiting",
    )
    .await;
    assert_eq!(
        back["status"], "waiting",
        "silent counselor loses the person"
    );
    assert_eq!(
        back["position"], 0,
        "head of its priority, ahead of the later arrival {later}"
    );
    let still = consultation(&app, &talker, &early).await;
    assert_eq!(
        still["status"], "active",
        "a counselor who replied keeps the person"
    );
    // The notice is written with the status change (one transaction): whoever sees the
    // person back in the queue also sees why.
    let system = messages(&app, &other, &behind, None).await;
    assert_eq!(system["items"][0]["sender"], "system");

    // Expiry: two hours of waiting.
    clock.advance(chrono::Duration::minutes(121));
    let expired = eventually(
        &app,
        &format!("/api/v1/consultations/{later}"),
        &other2,
        "status",
        "expired",
    )
    .await;
    assert_eq!(expired["status"], "expired");
    assert!(expired["notice"].as_str().unwrap().contains("热线"));
    assert!(!expired["hotlines"].as_array().unwrap().is_empty());
    // An expired request no longer blocks a new one.
    ask(&app, &other2).await;
}

#[tokio::test]
async fn someone_handed_back_after_a_long_session_does_not_expire() {
    let start = chrono::Utc::now() + chrono::Duration::days(1);
    let app = TestApp::spawn_with(TestOptions {
        clock_at: Some(start),
        configure: fast_sweep,
        ..TestOptions::default()
    })
    .await;
    let clock = app.clock.clone().unwrap();
    let admin = app.admin_token().await;
    let (c1, _) = counselor(&app, &admin, "long.session", 1).await;
    let user = app.user_token("long-talker").await;
    let id = ask(&app, &user).await["id"].as_str().unwrap().to_owned();
    claimed(&app, &c1).await;
    write(&app, &c1, &id, "我在听。").await;
    // A canary that has only ever waited: once the sweep expires it, the sweep has also
    // looked at the person handed back.
    clock.advance(chrono::Duration::minutes(40));
    let canary_user = app.user_token("canary").await;
    let canary = ask(&app, &canary_user).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    clock.advance(chrono::Duration::minutes(110));
    transfer(&app, &c1, &id, None).await;
    clock.advance(chrono::Duration::minutes(11)); // canary: 121 min waiting; the other: 161
    let swept = eventually(
        &app,
        &format!("/api/v1/consultations/{canary}"),
        &canary_user,
        "status",
        "expired",
    )
    .await;
    assert_eq!(swept["status"], "expired", "the sweep has run");
    let v = consultation(&app, &user, &id).await;
    assert_eq!(v["status"], "waiting", "not expired mid-help");
}

#[tokio::test]
async fn rating_once_after_close_and_admin_figures_without_content() {
    let app = TestApp::spawn_with(TestOptions {
        configure: many_logins,
        ..TestOptions::default()
    })
    .await;
    let admin = app.admin_token().await;
    let (c1, _) = counselor(&app, &admin, "rated.counselor", 5).await;
    let mut ids = vec![];
    // Three ratings first: about fewer than 5 people, the admin sees none of them (#30).
    for (round, scores) in [[5, 4, 2], [5, 5, 1]].iter().enumerate() {
        if round == 1 {
            let stats = app.get_ok("/api/v1/admin/stats", Some(&admin)).await;
            assert_eq!(stats["consultations"]["total"], 3);
            assert_eq!(stats["satisfaction"]["ratings"], Value::Null);
            assert_eq!(stats["satisfaction"]["satisfaction_rate"], Value::Null);
            assert_eq!(stats["satisfaction"]["flagged_for_review"], Value::Null);
            let by_status = stats["consultations"]["by_status"].as_array().unwrap();
            assert!(
                by_status.iter().all(|c| c["count"].is_null()),
                "{by_status:?}"
            );
        }
        for (i, score) in scores.iter().enumerate() {
            let user = app.user_token(&format!("rater-{round}-{i}")).await;
            let id = ask(&app, &user).await["id"].as_str().unwrap().to_owned();
            let rating = format!("/api/v1/consultations/{id}/rating");
            let survey = format!("/api/v1/consultations/{id}/survey");
            assert_error(
                app.post(&rating, Some(&user), json!({"score": 5})).await,
                409,
                "invalid_transition",
            )
            .await;
            assert_error(
                app.post(&survey, Some(&user), json!({"content": 5, "gain": 5}))
                    .await,
                409,
                "survey_not_open",
            )
            .await;
            claimed(&app, &c1).await;
            // A message exists to stay out of the figures.
            write(&app, &user, &id, "秘密的话").await;
            close(&app, &c1, &id, "私密笔记").await;
            assert_error(
                app.post(&rating, Some(&user), json!({"score": 6})).await,
                422,
                "validation_failed",
            )
            .await;
            rate(&app, &user, &id, *score, "谢谢").await;
            assert_error(
                app.post(&rating, Some(&user), json!({"score": 1})).await,
                409,
                "already_rated",
            )
            .await;
            // The same two-question survey as after a lecture, once.
            answer_survey(&app, &user, &id, *score, 5).await;
            assert_error(
                app.post(&survey, Some(&user), json!({"content": 5, "gain": 5}))
                    .await,
                409,
                "already_rated",
            )
            .await;
            ids.push(id);
        }
    }
    let user = app.user_token("still-waiting").await;
    ask(&app, &user).await;

    let stats = app.get_ok("/api/v1/admin/stats", Some(&admin)).await;
    // Six ratings: the count and the rate show; the two low ones (flagged) stay hidden, and so
    // does the single waiting request beside the six closed.
    assert_eq!(stats["consultations"]["total"], 7);
    assert_eq!(stats["satisfaction"]["ratings"], 6);
    let rate = stats["satisfaction"]["satisfaction_rate"].as_f64().unwrap();
    assert!((rate - 4.0 / 6.0).abs() < 1e-9, "{rate}");
    assert_eq!(stats["satisfaction"]["flagged_for_review"], Value::Null);
    let by_status = stats["consultations"]["by_status"].as_array().unwrap();
    assert!(
        by_status.iter().all(|c| c["count"].is_null()),
        "{by_status:?}"
    );
    assert!(stats["consultations"]["wait_median_seconds"].is_number());
    let text = stats.to_string();
    assert!(
        !text.contains("秘密的话") && !text.contains("私密笔记"),
        "no content in figures"
    );
    assert_error(
        app.get("/api/v1/admin/stats", Some(&c1)).await,
        403,
        "forbidden",
    )
    .await;
    let figures = app.get_ok("/api/v1/admin/satisfaction", Some(&admin)).await;
    let consultation = &figures[0];
    assert_eq!(consultation["service"], "consultation");
    assert_eq!(consultation["survey_responses"], 6);
    assert_eq!(consultation["gain_very_rate"], 1.0);
    assert_eq!(consultation["content_very_satisfied_rate"], 0.5);
}

#[tokio::test]
async fn export_holds_consultations_and_delete_keeps_only_an_anonymous_record() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (c1, _) = counselor(&app, &admin, "record.keeper", 2).await;
    let user = app.user_token("leaving").await;
    let user_id = app.get_ok("/api/v1/me", Some(&user)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A critical answer gives the request a priority with a reason.
    submit(&app, &user, "phq9", json!([0, 0, 0, 0, 0, 0, 0, 0, 1])).await;
    let id = ask(&app, &user).await["id"].as_str().unwrap().to_owned();
    claimed(&app, &c1).await;
    write(&app, &user, &id, "我想聊聊").await;
    client_assessments(&app, &c1, &id).await;
    close(&app, &c1, &id, "不应导出的咨询记录").await;
    rate(&app, &user, &id, 5, "很好").await;
    let open = ask(&app, &user).await["id"].as_str().unwrap().to_owned();

    let export = app.get_ok("/api/v1/me/export", Some(&user)).await;
    let cons = export["consultations"].as_array().unwrap();
    assert_eq!(cons.len(), 2);
    assert_eq!(cons[0]["messages"][0]["text"], "我想聊聊");
    assert!(
        !export.to_string().contains("不应导出的咨询记录"),
        "the counselor's note is not exported"
    );

    assert_eq!(app.delete("/api/v1/me", Some(&user)).await.status(), 204);
    let db = sea_orm::Database::connect(&app.config.database_url)
        .await
        .unwrap();
    use sea_orm::{ConnectionTrait, Statement};
    let q = |sql: String| Statement::from_string(db.get_database_backend(), sql);
    let kept = db.query_all_raw(q(format!("SELECT user_id, description, rating, rating_comment, priority_reason FROM consultations WHERE id = '{id}'"))).await.unwrap();
    assert_eq!(
        kept.len(),
        1,
        "the closed consultation stays for the counselor's record"
    );
    assert_eq!(
        kept[0].try_get::<Option<String>>("", "user_id").unwrap(),
        None
    );
    assert_eq!(kept[0].try_get::<String>("", "description").unwrap(), "");
    assert_eq!(
        kept[0].try_get::<String>("", "priority_reason").unwrap(),
        "",
        "why they were prioritised says something about them"
    );
    let linked = db
        .query_all_raw(q(format!(
            "SELECT id FROM audit_log WHERE subject_user_id = '{user_id}'"
        )))
        .await
        .unwrap();
    assert!(
        linked.is_empty(),
        "the audit keeps no link back to the person"
    );
    let audited = db
        .query_all_raw(q(format!(
            "SELECT id FROM audit_log WHERE consultation_id = '{id}'"
        )))
        .await
        .unwrap();
    assert_eq!(audited.len(), 1, "but still says that the read happened");
    assert_eq!(
        kept[0]
            .try_get::<Option<String>>("", "rating_comment")
            .unwrap(),
        None
    );
    let gone = db
        .query_all_raw(q(format!(
            "SELECT id FROM consultations WHERE id = '{open}'"
        )))
        .await
        .unwrap();
    assert!(gone.is_empty(), "open requests are deleted");
    let messages = db
        .query_all_raw(q(format!(
            "SELECT id FROM consultation_messages WHERE consultation_id = '{id}'"
        )))
        .await
        .unwrap();
    assert!(messages.is_empty(), "messages are deleted");
    db.close().await.unwrap();
    let stats = app.get_ok("/api/v1/admin/stats", Some(&admin)).await;
    assert_eq!(
        stats["satisfaction"]["ratings"],
        Value::Null,
        "one anonymous rating stays, hidden as a count of 1"
    );
    let closed = &stats["consultations"]["total"];
    assert_eq!(closed, 1, "the anonymous record is counted");
}

#[tokio::test]
async fn a_disabled_counselor_loses_their_chats_at_once_and_their_clients_go_back_first() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (c1, c1_id) = counselor(&app, &admin, "leaving.counselor", 1).await;
    let user = app.user_token("left-mid-chat").await;
    let id = ask(&app, &user).await["id"].as_str().unwrap().to_owned();
    claimed(&app, &c1).await;
    let one = format!("/api/v1/consultations/{id}");
    let msgs = format!("{one}/messages");
    consultation(&app, &c1, &id).await;

    app.put_ok(
        &format!("/api/v1/admin/staff/{c1_id}"),
        Some(&admin),
        json!({"disabled": true}),
    )
    .await;

    // Their still-valid access token no longer opens the person's consultation or chat.
    assert_error(app.get(&one, Some(&c1)).await, 403, "account_disabled").await;
    assert_error(app.get(&msgs, Some(&c1)).await, 403, "account_disabled").await;
    assert_error(
        app.post(&msgs, Some(&c1), json!({"text": "还在吗"})).await,
        403,
        "account_disabled",
    )
    .await;

    // The person is waiting again, at the head, and told why; another counselor takes them.
    let mine = consultation(&app, &user, &id).await;
    assert_eq!(
        (&mine["status"], &mine["position"]),
        (&json!("waiting"), &json!(0))
    );
    let said = messages(&app, &user, &id, None).await;
    assert!(
        said["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["sender"] == "system"),
        "{said}"
    );
    let (c2, _) = counselor(&app, &admin, "next.counselor", 1).await;
    let taken = claimed(&app, &c2).await;
    assert_eq!(taken["id"], id.as_str());
}

/// The position the store counts (an index range in SQL) is the domain's `position_of` over
/// the same queue, for every waiting entry: ties in arrival time, handed-back entries,
/// transfers to one counselor, all priorities. On both databases.
#[tokio::test]
async fn the_stored_position_is_the_domain_position() {
    use sea_orm::{ConnectionTrait, Statement};
    use xinli_domain::consultation::{
        Consultation, ConsultationRepository, NewRequest, Priority, claim_cmp, position_of,
        takeable_by,
    };

    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let staff = app.create_staff(&admin, "order.check", "counselor").await;
    let staff_id = staff["id"].as_str().unwrap().to_owned();
    let db = xinli_infra::db::connect(&app.config.database_url)
        .await
        .unwrap();
    let store = xinli_infra::consultations::ConsultationStore::new(db.clone());
    let base = chrono::Utc::now();
    let mut seed = 7u64;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for _ in 0..60 {
        let at = base + chrono::Duration::seconds(next(6) as i64);
        let req = NewRequest::parse("压力", "", "text").unwrap();
        let priority = Priority::ALL[next(4) as usize];
        let mut c = Consultation::request(uuid::Uuid::now_v7(), req, priority, "", at);
        c.user_id = None; // no account behind these rows
        store.create(&c).await.unwrap();
        let (front, assigned) = (next(3) == 0, next(5) == 0);
        let sql = format!(
            "UPDATE consultations SET front = {front}, assigned_to = {} WHERE id = '{}'",
            if assigned {
                format!("'{staff_id}'")
            } else {
                "NULL".into()
            },
            c.id
        );
        db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap();
    }
    let waiting = store.waiting().await.unwrap();
    assert_eq!(waiting.len(), 60);
    assert!(waiting.iter().any(|w| w.front) && waiting.iter().any(|w| w.assigned_to.is_some()));
    for w in &waiting {
        assert_eq!(
            store.position(w).await.unwrap(),
            position_of(&waiting, w),
            "{w:?}"
        );
    }
    // The order a claim follows (the SQL of `queue_for` and `claim_next`) is the domain's:
    // what is transferred to this counselor first, then the pool, each in queue order.
    let me = uuid::Uuid::parse_str(&staff_id).unwrap();
    let mut expected: Vec<_> = waiting.iter().filter(|w| takeable_by(w, me)).collect();
    expected.sort_by(|a, b| claim_cmp(me)(a, b));
    let page = store
        .queue_for(
            me,
            xinli_domain::page::PageRequest::parse(Some(1), Some(100)).unwrap(),
        )
        .await
        .unwrap();
    let ids = |v: Vec<&Consultation>| v.iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(page.items.iter().collect()), ids(expected.clone()));
    store
        .set_counselor_state(me, true, 3, chrono::Utc::now())
        .await
        .unwrap();
    for want in expected.iter().take(3) {
        let got = store
            .claim_next(me, chrono::Utc::now())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(got.id, want.id, "claims follow the domain order");
    }
}
