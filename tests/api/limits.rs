//! Limits on what one client can repeat: logins that fit a unit's screening room (hundreds
//! of people behind one address), strict limits where guessing is possible, per-user limits
//! on repeated actions, at most two open long polls, and bounded values before they become
//! cache keys. Every 429 says when to try again.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, Request, Respond, ResponseTemplate};
use xinli_domain::throttle::Limit;
use xinli_tests::{TestApp, TestOptions, assert_error};

use crate::consultations::{ask, claim, counselor};

/// A fake `jscode2session` that knows every code `ok-*` (one person each) and refuses others.
struct WechatByCode;

impl Respond for WechatByCode {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let code = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "js_code")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let body = match code.strip_prefix("ok-") {
            Some(person) => json!({"openid": format!("o-{person}"), "session_key": "k"}),
            None => json!({"errcode": 40029, "errmsg": "invalid code"}),
        };
        ResponseTemplate::new(200).set_body_raw(body.to_string(), "text/plain")
    }
}

async fn retry_after(res: reqwest::Response) -> u64 {
    let after = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse::<u64>()
        .unwrap();
    assert_error(res, 429, "too_many_requests").await;
    after
}

/// 200 people of one unit log in through WeChat from one address within minutes; made-up
/// codes from one address are refused after 30; dev logins keep their strict limit.
#[tokio::test]
async fn a_screening_room_behind_one_address_can_log_in() {
    let app = TestApp::spawn().await;
    Mock::given(path("/sns/jscode2session"))
        .respond_with(WechatByCode)
        .mount(&app.wechat)
        .await;
    let started = std::time::Instant::now();
    for i in 0..200 {
        let res = app
            .post(
                "/api/v1/auth/wechat",
                None,
                json!({"code": format!("ok-{i}")}),
            )
            .await;
        assert_eq!(res.status(), 200, "login {i}");
    }
    eprintln!(
        "200 WeChat logins from one address in {:?}",
        started.elapsed()
    );

    for i in 0..30 {
        let res = app
            .post(
                "/api/v1/auth/wechat",
                None,
                json!({"code": format!("guess-{i}")}),
            )
            .await;
        assert_error(res, 400, "wechat_code_invalid").await;
    }
    let res = app
        .post("/api/v1/auth/wechat", None, json!({"code": "guess-31"}))
        .await;
    assert!(retry_after(res).await > 0);

    let mut accepted = 0;
    loop {
        let res = app
            .post(
                "/api/v1/auth/dev",
                None,
                json!({"openid": format!("dev-{accepted}")}),
            )
            .await;
        if res.status() == 429 {
            assert!(retry_after(res).await > 0);
            break;
        }
        assert_eq!(res.status(), 200);
        accepted += 1;
        assert!(accepted <= 30, "dev logins keep a strict per-address limit");
    }
    assert_eq!(accepted, 30);
}

fn tight(c: &mut xinli_api::Config) {
    let two = Limit::new(2, Duration::from_secs(600));
    c.limits.assessments_per_user = two;
    c.limits.consultation_requests_per_user = two;
    c.limits.messages_per_account = two;
    c.limits.exports_per_user = two;
    c.limits.refreshes_per_login = two;
    c.limits.reactions_per_user = two;
    c.limits.profile_edits_per_user = two;
    c.limits.subscriptions_per_user = two;
}

/// Each repeatable action of one person is limited on its own, with Retry-After; another
/// person is not affected.
#[tokio::test]
async fn one_person_cannot_repeat_an_action_without_end() {
    let app = TestApp::spawn_with(TestOptions {
        configure: tight,
        ..TestOptions::default()
    })
    .await;
    let login = app.dev_login("repeater").await;
    let token = login["access_token"].as_str().unwrap().to_owned();
    let other = app.user_token("someone-else").await;

    let submit = |t: String| {
        let app = &app;
        async move {
            app.post(
                "/api/v1/scales/gad7/submissions",
                Some(&t),
                json!({"answers": [0, 0, 0, 0, 0, 0, 0]}),
            )
            .await
        }
    };
    for _ in 0..2 {
        assert_eq!(submit(token.clone()).await.status(), 201);
    }
    assert!(retry_after(submit(token.clone()).await).await > 0);
    assert_eq!(submit(other.clone()).await.status(), 201, "per person");

    for _ in 0..2 {
        assert_eq!(
            app.get("/api/v1/me/export", Some(&token)).await.status(),
            200
        );
    }
    retry_after(app.get("/api/v1/me/export", Some(&token)).await).await;

    // Refreshes: a refused refresh does not spend the token.
    let mut refresh = login["refresh_token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let res = app
            .post_expect(
                "/api/v1/auth/refresh",
                None,
                json!({"refresh_token": refresh}),
                200,
            )
            .await;
        refresh = res["refresh_token"].as_str().unwrap().to_owned();
    }
    retry_after(
        app.post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": refresh}),
        )
        .await,
    )
    .await;

    // Consultation requests (cancelled in between) and chat messages.
    let c = ask(&app, &token).await;
    let id = c["id"].as_str().unwrap();
    let msgs = format!("/api/v1/consultations/{id}/messages");
    for _ in 0..2 {
        let res = app.post(&msgs, Some(&token), json!({"text": "在吗"})).await;
        assert_eq!(res.status(), 201);
    }
    retry_after(app.post(&msgs, Some(&token), json!({"text": "在吗"})).await).await;
    app.post_expect(
        &format!("/api/v1/consultations/{id}/cancel"),
        Some(&token),
        json!({}),
        200,
    )
    .await;
    let second = ask(&app, &token).await["id"].as_str().unwrap().to_owned();
    app.post_expect(
        &format!("/api/v1/consultations/{second}/cancel"),
        Some(&token),
        json!({}),
        200,
    )
    .await;
    retry_after(
        app.post(
            "/api/v1/consultations",
            Some(&token),
            json!({"topic": "压力", "description": "再试一次", "channel": "text"}),
        )
        .await,
    )
    .await;
}

/// Likes and favourites, profile edits and subscribe-message grants are limited per person
/// too: a script with one token cannot churn rows or counters without end.
#[tokio::test]
async fn reactions_profile_edits_and_grants_are_limited() {
    let app = TestApp::spawn_with(TestOptions {
        configure: tight,
        ..TestOptions::default()
    })
    .await;
    let token = app.user_token("churner").await;
    let other = app.user_token("reader").await;
    let list = app.get_ok("/api/v1/articles", None).await;
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let like = format!("/api/v1/articles/{id}/like");
    let react = |method: reqwest::Method, path: String, token: String| {
        let app = &app;
        async move { app.request(method, &path, Some(&token), None).await }
    };
    let put = reqwest::Method::PUT;
    assert_eq!(
        react(put.clone(), like.clone(), token.clone())
            .await
            .status(),
        200
    );
    assert_eq!(
        react(reqwest::Method::DELETE, like.clone(), token.clone())
            .await
            .status(),
        200
    );
    // Likes and favourites share one counter.
    let favorite = format!("/api/v1/articles/{id}/favorite");
    retry_after(react(put.clone(), favorite, token.clone()).await).await;
    assert_eq!(react(put, like, other).await.status(), 200, "per person");

    let patch = |name: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            app.request(
                reqwest::Method::PATCH,
                "/api/v1/me",
                Some(&token),
                Some(json!({"nickname": name})),
            )
            .await
        }
    };
    assert_eq!(patch("小林").await.status(), 200);
    assert_eq!(patch("小李").await.status(), 200);
    retry_after(patch("小王").await).await;

    let grants = json!({"grants": [{"event": "consultation_ready", "accepted": true}]});
    for _ in 0..2 {
        assert_eq!(
            app.post("/api/v1/me/subscriptions", Some(&token), grants.clone())
                .await
                .status(),
            200
        );
    }
    retry_after(
        app.post("/api/v1/me/subscriptions", Some(&token), grants)
            .await,
    )
    .await;
}

/// A third long poll of the same person waits for nothing: 429 at once. When one ends, the
/// place is free again.
#[tokio::test]
async fn at_most_two_open_long_polls_per_person() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app.user_token("many-tabs").await;
    let (c1, _) = counselor(&app, &admin, "tabs.counselor", 1).await;
    let id = ask(&app, &user).await["id"].as_str().unwrap().to_owned();
    assert_eq!(claim(&app, &c1).await.status(), 200);
    let poll = format!("/api/v1/consultations/{id}/messages?after=0&wait=3");
    let started = std::time::Instant::now();
    let (a, b, third) = tokio::join!(
        app.get(&poll, Some(&user)),
        app.get(&poll, Some(&user)),
        async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            app.get(&poll, Some(&user)).await
        }
    );
    assert_eq!(a.status(), 200);
    assert_eq!(b.status(), 200);
    assert!(retry_after(third).await > 0);
    assert!(started.elapsed() >= Duration::from_secs(3));
    // Both ended: a new one is accepted; a poll without `wait` never counts.
    assert_eq!(app.get(&poll, Some(&user)).await.status(), 200);
    let now = format!("/api/v1/consultations/{id}/messages?after=0");
    assert_eq!(app.get(&now, Some(&user)).await.status(), 200);
}

/// Values are bounded before they become cache keys or are hashed.
#[tokio::test]
async fn oversized_values_are_refused_before_use() {
    let app = TestApp::spawn().await;
    let long = "压".repeat(3000);
    for (param, value) in [
        ("category", long.as_str()),
        ("tag", long.as_str()),
        ("q", long.as_str()),
        ("category", "不存在的分类"),
    ] {
        let body = assert_error(
            app.get(&format!("/api/v1/articles?{param}={value}"), None)
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["details"][0]["field"], param);
    }
    let started = std::time::Instant::now();
    let body = assert_error(
        app.post(
            "/api/v1/auth/staff",
            None,
            json!({"username": "u".repeat(100_000), "password": "p".repeat(100_000)}),
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
    assert_eq!(fields, ["username", "password"]);
    assert!(started.elapsed() < Duration::from_secs(2), "not hashed");
}
