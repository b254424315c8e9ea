//! The user's own profile, export and deletion.

use reqwest::Method;
use serde_json::{Value, json};
use xinli_tests::{TestApp, assert_error};

/// The user's profile (200).
async fn profile(app: &TestApp, token: &str) -> Value {
    app.get_ok("/api/v1/me", Some(token)).await
}

/// Changes the user's profile (200): the profile as saved.
async fn change_profile(app: &TestApp, token: &str, changes: Value) -> Value {
    app.expect(Method::PATCH, "/api/v1/me", Some(token), Some(changes), 200)
        .await
}

#[tokio::test]
async fn profile_can_be_read_changed_and_cleared() {
    let app = TestApp::spawn().await;
    let token = app.user_token("profile-user").await;
    let me = profile(&app, &token).await;
    assert_eq!(me["nickname"], Value::Null);
    assert!(me["created_at"].as_str().unwrap().ends_with("+08:00"));

    let me = change_profile(
        &app,
        &token,
        json!({"nickname": "  小林  ", "audience_group": "worker"}),
    )
    .await;
    assert_eq!(me["nickname"], "小林");
    assert_eq!(me["audience_group"], "worker");

    // Absent fields stay; null clears.
    let me = change_profile(&app, &token, json!({"nickname": null})).await;
    assert_eq!(me["nickname"], Value::Null);
    assert_eq!(me["audience_group"], "worker");
}

#[tokio::test]
async fn bad_profile_values_are_rejected_per_field() {
    let app = TestApp::spawn().await;
    let token = app.user_token("picky-user").await;
    let body = assert_error(
        app.patch(
            "/api/v1/me",
            Some(&token),
            json!({"audience_group": "aliens"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["details"][0]["field"], "audience_group");
    let body = assert_error(
        app.patch(
            "/api/v1/me",
            Some(&token),
            json!({"nickname": "长".repeat(33)}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["details"][0]["field"], "nickname");
    assert_error(
        app.patch("/api/v1/me", Some(&token), json!({"nickname": "   "}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    let me = profile(&app, &token).await;
    assert_eq!(me["nickname"], Value::Null, "nothing half-written");
}

#[tokio::test]
async fn export_contains_the_profile_and_is_not_cached() {
    let app = TestApp::spawn().await;
    let token = app.user_token("exporting-user").await;
    change_profile(&app, &token, json!({"nickname": "阿珍"})).await;
    let res = app.get("/api/v1/me/export", Some(&token)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let export: Value = res.json().await.unwrap();
    // Dev logins are stored under a prefix no real WeChat openid has.
    assert_eq!(export["profile"]["openid"], "dev:exporting-user");
    assert_eq!(export["profile"]["nickname"], "阿珍");
    assert!(export["exported_at"].is_string());
}

#[tokio::test]
async fn delete_removes_the_account_and_its_sessions() {
    let app = TestApp::spawn().await;
    let login = app.dev_login("deleting-user").await;
    let token = login["access_token"].as_str().unwrap();
    let other = app.user_token("bystander").await;

    // Something to react to, and a token that will outlive the account.
    let article = app.get_ok("/api/v1/articles?page_size=1", None).await;
    let article = article["items"][0]["id"].as_str().unwrap().to_owned();
    let hotline = app.get_ok("/api/v1/hotlines", None).await;
    let hotline = hotline["items"][0]["id"].as_str().unwrap().to_owned();
    let like = format!("/api/v1/articles/{article}/like");
    assert_eq!(app.put(&like, Some(token), json!({})).await.status(), 200);

    assert_eq!(app.delete("/api/v1/me", Some(token)).await.status(), 204);
    // The access token has not expired, but its account is gone: 401 on every route, the
    // same answer everywhere (no 500 from a missing row, no 200 from an empty list).
    let gone = [
        (Method::GET, "/api/v1/me".to_owned(), None),
        (
            Method::PATCH,
            "/api/v1/me".to_owned(),
            Some(json!({"nickname": "x"})),
        ),
        (Method::DELETE, "/api/v1/me".to_owned(), None),
        (Method::GET, "/api/v1/me/export".to_owned(), None),
        (Method::GET, "/api/v1/me/favorites".to_owned(), None),
        (Method::GET, "/api/v1/me/assessments".to_owned(), None),
        (Method::GET, "/api/v1/me/consultations".to_owned(), None),
        (Method::PUT, like.clone(), Some(json!({}))),
        (Method::DELETE, like.clone(), None),
        (
            Method::PUT,
            format!("/api/v1/articles/{article}/favorite"),
            Some(json!({})),
        ),
        (
            Method::POST,
            "/api/v1/scales/phq9/submissions".to_owned(),
            Some(json!({"answers": [0,0,0,0,0,0,0,0,0]})),
        ),
        (
            Method::POST,
            "/api/v1/consultations".to_owned(),
            Some(json!({"topic": "压力", "description": "x", "channel": "text"})),
        ),
        (
            Method::POST,
            format!("/api/v1/hotlines/{hotline}/dials"),
            None,
        ),
    ];
    for (method, path, body) in gone {
        let res = app.request(method.clone(), &path, Some(token), body).await;
        assert_error(res, 401, "token_invalid").await;
    }
    assert_error(
        app.post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": login["refresh_token"]}),
        )
        .await,
        401,
        "invalid_refresh_token",
    )
    .await;

    // Logging in again starts a new, empty account.
    let again = app.dev_login("deleting-user").await;
    assert_ne!(again["user"]["id"], login["user"]["id"]);
    assert_eq!(
        app.get("/api/v1/me", Some(&other)).await.status(),
        200,
        "other users untouched"
    );
}
