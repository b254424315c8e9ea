//! WeChat login against a fake `jscode2session` (wiremock).

use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};
use xinli_tests::{TestApp, TestOptions, assert_error};

/// WeChat answers JSON with `Content-Type: text/plain`.
fn wechat_answer(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_string(), "text/plain")
}

/// A WeChat login as it answers: for tests whose point is the answer.
async fn login(app: &TestApp, code: &str) -> reqwest::Response {
    app.post("/api/v1/auth/wechat", None, json!({ "code": code }))
        .await
}

/// A WeChat login that must succeed (200): the token answer.
async fn logged_in(app: &TestApp, code: &str) -> Value {
    app.post_expect("/api/v1/auth/wechat", None, json!({ "code": code }), 200)
        .await
}

#[tokio::test]
async fn first_login_creates_the_user_and_the_next_finds_them() {
    let app = TestApp::spawn().await;
    Mock::given(method("GET"))
        .and(path("/sns/jscode2session"))
        .and(query_param("appid", "wx-test-appid"))
        .and(query_param("secret", "wx-test-secret"))
        .and(query_param("js_code", "code-1"))
        .and(query_param("grant_type", "authorization_code"))
        .respond_with(wechat_answer(
            json!({"openid": "o-alice", "session_key": "wx-session-key-secret", "unionid": "u-alice"}),
        ))
        .expect(2)
        .mount(&app.wechat)
        .await;

    let first = logged_in(&app, "code-1").await;
    assert_eq!(first["token_type"], "Bearer");
    assert_eq!(first["user"]["role"], "user");
    assert!(first["expires_in"].as_u64().unwrap() > 0);
    assert!(
        !first.to_string().contains("wx-session-key-secret"),
        "session_key never leaves the server"
    );

    let second = logged_in(&app, "code-1").await;
    assert_eq!(first["user"]["id"], second["user"]["id"], "returning user");

    let export = app
        .get_ok(
            "/api/v1/me/export",
            Some(first["access_token"].as_str().unwrap()),
        )
        .await;
    assert_eq!(export["profile"]["openid"], "o-alice");
    assert_eq!(export["profile"]["unionid"], "u-alice");
}

#[tokio::test]
async fn wechat_errcodes_become_clear_errors() {
    let app = TestApp::spawn().await;
    let cases = [
        (40029, 400, "wechat_code_invalid"),
        (40163, 400, "wechat_code_invalid"),
        (45011, 429, "wechat_rate_limited"),
        (40226, 403, "wechat_user_blocked"),
        (-1, 503, "wechat_busy"),
        (40013, 502, "wechat_failed"),
    ];
    for (errcode, status, code) in cases {
        let js_code = format!("code{errcode}");
        Mock::given(path("/sns/jscode2session"))
            .and(query_param("js_code", js_code.as_str()))
            .respond_with(wechat_answer(
                json!({"errcode": errcode, "errmsg": "some error"}),
            ))
            .mount(&app.wechat)
            .await;
        assert_error(login(&app, &js_code).await, status, code).await;
    }
}

#[tokio::test]
async fn wechat_server_errors_and_garbage_are_502() {
    let app = TestApp::spawn().await;
    Mock::given(path("/sns/jscode2session"))
        .and(query_param("js_code", "http500"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&app.wechat)
        .await;
    Mock::given(path("/sns/jscode2session"))
        .and(query_param("js_code", "garbage"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"))
        .mount(&app.wechat)
        .await;
    assert_error(login(&app, "http500").await, 502, "wechat_failed").await;
    assert_error(login(&app, "garbage").await, 502, "wechat_failed").await;
}

#[tokio::test]
async fn unreachable_wechat_is_503() {
    let app = TestApp::spawn_with(TestOptions {
        // Nothing listens on port 9 (discard) on the test machine.
        configure: |c| c.wechat_api_base = "http://127.0.0.1:9".into(),
        ..TestOptions::default()
    })
    .await;
    assert_error(login(&app, "any").await, 503, "wechat_unavailable").await;
}

#[tokio::test]
async fn missing_credentials_are_503_not_configured() {
    let app = TestApp::spawn_with(TestOptions {
        wechat_configured: false,
        ..TestOptions::default()
    })
    .await;
    assert_error(login(&app, "any").await, 503, "wechat_not_configured").await;
}

#[tokio::test]
async fn empty_code_is_rejected_before_calling_wechat() {
    let app = TestApp::spawn().await;
    Mock::given(path("/sns/jscode2session"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&app.wechat)
        .await;
    let body = assert_error(login(&app, "  ").await, 422, "validation_failed").await;
    assert_eq!(body["details"][0]["field"], "code");
}

#[tokio::test]
async fn dev_login_exists_only_in_dev_mode() {
    let dev = TestApp::spawn().await;
    assert_eq!(
        dev.post("/api/v1/auth/dev", None, json!({"openid": "dev-1"}))
            .await
            .status(),
        200
    );

    let prod = TestApp::spawn_with(TestOptions {
        dev_mode: false,
        ..TestOptions::default()
    })
    .await;
    assert_error(
        prod.post("/api/v1/auth/dev", None, json!({"openid": "dev-1"}))
            .await,
        404,
        "route_not_found",
    )
    .await;
    // No demo accounts outside dev mode either.
    assert_error(
        prod.staff_login("demo-admin", xinli_api::seed::DEMO_PASSWORD)
            .await,
        401,
        "invalid_credentials",
    )
    .await;
}
