//! Every error answer is JSON with a stable code, a Chinese message and the request id —
//! also for the errors actix produces on its own.

use reqwest::Method;
use serde_json::json;
use xinli_tests::{TestApp, assert_error};

#[tokio::test]
async fn unknown_route_is_a_json_404() {
    let app = TestApp::spawn().await;
    assert_error(
        app.get("/api/v1/no-such-thing", None).await,
        404,
        "route_not_found",
    )
    .await;
    assert_error(app.get("/", None).await, 404, "route_not_found").await;
}

#[tokio::test]
async fn wrong_method_is_a_json_405_with_allow() {
    let app = TestApp::spawn().await;
    let res = app
        .request(Method::DELETE, "/api/v1/auth/staff", None, None)
        .await;
    let allow = res.headers().get("allow").cloned().expect("Allow header");
    assert_eq!(allow, "POST");
    assert_error(res, 405, "method_not_allowed").await;
    let res = app
        .request(
            Method::POST,
            "/api/v1/admin/staff/0193a5d2-8d2f-7c7b-8a1f-3e5d2c9b0f12",
            None,
            Some(json!({})),
        )
        .await;
    assert_error(res, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/dev"))
        .header("content-type", "application/json")
        .body("{\"openid\": ")
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "malformed_json").await;
}

#[tokio::test]
async fn wrong_types_and_missing_fields_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let body = assert_error(
        app.post("/api/v1/auth/dev", None, json!({"openid": 42}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["details"][0]["field"], "openid");
    let body = assert_error(
        app.post("/api/v1/auth/staff", None, json!({"username": "x"}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        body["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("password")
    );
    let body = assert_error(
        app.post("/api/v1/auth/dev", None, json!({"openid": "a", "extra": 1}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        body["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("extra")
    );
    assert_error(
        app.post("/api/v1/auth/dev", None, json!([1, 2])).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413() {
    let app = TestApp::spawn().await;
    let big = format!("{{\"openid\": \"{}\"}}", "a".repeat(1024 * 1024 + 10));
    let res = app
        .client
        .post(app.url("/api/v1/auth/dev"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_error(res, 413, "payload_too_large").await;
}

#[tokio::test]
async fn non_json_bodies_are_415() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/dev"))
        .header("content-type", "text/plain")
        .body("openid=x")
        .send()
        .await
        .unwrap();
    assert_error(res, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn bad_query_values_are_422_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let body = assert_error(
        app.get("/api/v1/admin/staff?page=abc", Some(&admin)).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["details"][0]["field"], "page");
    let body = assert_error(
        app.get("/api/v1/admin/staff?page=0&page_size=101", Some(&admin))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["details"].as_array().unwrap().len(), 2);
}
