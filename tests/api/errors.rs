//! Every error answer is JSON with a stable code, a Chinese message and the request id —
//! also for the errors actix produces on its own.

use reqwest::Method;
use serde_json::json;
use xinli_tests::{TestApp, assert_error, first_detail};

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
    assert!(first_detail(&body).contains("password"));
    let body = assert_error(
        app.post("/api/v1/auth/dev", None, json!({"openid": "a", "extra": 1}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(first_detail(&body).contains("extra"));
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

/// A value of the wrong type anywhere — also an array or a number where an enum's string is
/// expected, which serde_json alone reports as a syntax error — is 422 naming the field.
#[tokio::test]
async fn wrong_types_of_enums_and_nested_values_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let article = |audience: serde_json::Value| {
        json!({"title": "标题", "summary": "", "body": "正文", "kind": "article",
               "category": "心理常识", "tags": [], "audience": audience, "author": "编辑"})
    };
    for bad in [json!(["职工"]), json!(3), json!({"x": 1}), json!(true)] {
        let body = assert_error(
            app.post("/api/v1/admin/articles", Some(&admin), article(bad.clone()))
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["details"][0]["field"], "audience", "{bad}");
    }
    let user = app.user_token("typo-user").await;
    let body = assert_error(
        app.post(
            "/api/v1/scales/phq9/submissions",
            Some(&user),
            json!({"answers": [0, 0, 0, [1], 0, 0, 0, 0, 0]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["details"][0]["field"], "answers[3]");
    let body = assert_error(
        app.post(
            "/api/v1/admin/hotlines",
            Some(&admin),
            json!({"name": "热线", "number": "12345", "region": "全国", "audiences": ["general"],
                   "crisis": false, "hours": {"kind": "weekly", "windows": [{"day": 1, "start": "08:00", "end": "09:00"}]}}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["details"][0]["field"], "hours.windows[0].day");
}

/// An object's fields in an array (serde's sequence form of a struct) are refused at any
/// depth, as the spec says: a generated client never sends them (#30). A change whose
/// fields are all optional still needs a body.
#[tokio::test]
async fn arrays_where_objects_belong_and_a_missing_patch_body_are_422() {
    let app = TestApp::spawn().await;
    let user = app.user_token("sequence-form").await;
    let body = assert_error(
        app.post(
            "/api/v1/me/subscriptions",
            Some(&user),
            json!({"grants": [["consultation_ready", true]]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["details"][0]["field"], "grants[0]", "{body}");
    let body = assert_error(
        app.client
            .patch(app.url("/api/v1/me"))
            .bearer_auth(&user)
            .json(&json!(["小林", null]))
            .send()
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["details"][0]["field"], "body", "{body}");
    let body = assert_error(
        app.client
            .patch(app.url("/api/v1/me"))
            .bearer_auth(&user)
            .send()
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["details"][0]["field"], "body", "{body}");
    // The object form still works, and an empty object changes nothing.
    let me = app
        .client
        .patch(app.url("/api/v1/me"))
        .bearer_auth(&user)
        .json(&json!({"nickname": "小林"}))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
}

/// Action routes whose body has only optional fields need no body and no Content-Type; a
/// route with required fields names the first missing one; a body that is not JSON is
/// still 415.
#[tokio::test]
async fn empty_bodies_need_no_content_type() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .post_expect(
            "/api/v1/admin/articles",
            Some(&admin),
            json!({"title": "无正文发布", "body": "正文", "kind": "article", "category": "心理常识",
                   "audience": "general", "author": "编辑"}),
            201,
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let bare = |path: String| app.client.post(app.url(&path)).bearer_auth(&admin).send();
    let res = bare(format!("/api/v1/admin/articles/{id}/publish"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = bare(format!("/api/v1/admin/articles/{id}/archive"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Required fields: the answer names what is missing, not the media type.
    let body = assert_error(
        app.client
            .post(app.url("/api/v1/auth/dev"))
            .send()
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert!(first_detail(&body).contains("openid"));
    let res = app
        .client
        .post(app.url("/api/v1/auth/dev"))
        .body("openid=x")
        .send()
        .await
        .unwrap();
    assert_error(res, 415, "unsupported_media_type").await;
}

/// No browser, proxy or CDN keeps an answer that holds tokens or personal data; no answer
/// is sniffed into another type.
#[tokio::test]
async fn personal_answers_are_never_stored_by_intermediaries() {
    let app = TestApp::spawn().await;
    let login = app.dev_login("private-person").await;
    let token = login["access_token"].as_str().unwrap();
    let res = app
        .post(
            "/api/v1/auth/dev",
            None,
            json!({"openid": "private-person"}),
        )
        .await;
    assert_eq!(res.status(), 200, "dev login");
    assert_eq!(res.headers()["cache-control"], "no-store", "tokens");
    for path in [
        "/api/v1/me",
        "/api/v1/me/assessments",
        "/api/v1/me/consultations",
        "/api/v1/articles",
    ] {
        let res = app.get(path, Some(token)).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["cache-control"], "no-store", "{path}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff", "{path}");
    }
    let res = app.get("/api/v1/me", None).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["x-content-type-options"],
        "nosniff",
        "errors too"
    );
    // Anonymous public answers keep their own caching rules.
    let res = app.get("/api/v1/hotlines", None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
}

/// PostgreSQL unreachable for an instance (its connections cut, new ones refused): requests
/// answer `503 service_unavailable` with `Retry-After`, never `500`, and the instance serves
/// again once the database is back (#30). SQLite is embedded: there is no outage to test.
#[tokio::test]
async fn a_database_outage_answers_503_with_retry_after_and_passes() {
    let Some(admin_url) = xinli_tests::test_database_url() else {
        eprintln!("database outage test: PostgreSQL only (XINLI_TEST_DATABASE_URL)");
        return;
    };
    let app = TestApp::spawn().await;
    let upstream = reqwest::Url::parse(&admin_url).unwrap();
    let proxy = xinli_tests::CuttableProxy::start(format!(
        "{}:{}",
        upstream.host_str().unwrap(),
        upstream.port().unwrap_or(5432)
    ))
    .await;
    let mut through = reqwest::Url::parse(&app.config.database_url).unwrap();
    through.set_port(Some(proxy.port())).unwrap();
    let instance = app
        .sibling_with(|c| c.database_url = through.to_string())
        .await;
    let user = instance.user_token("during-an-outage").await;
    let change = |nickname: &'static str| {
        let (instance, user) = (&instance, user.clone());
        async move {
            instance
                .client
                .patch(instance.url("/api/v1/me"))
                .bearer_auth(&user)
                .json(&json!({"nickname": nickname}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(change("之前").await.status(), 200);
    proxy.cut();
    for _ in 0..4 {
        let res = change("之间").await;
        assert_eq!(res.status(), 503, "not a 500");
        assert!(res.headers().contains_key("retry-after"));
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], "service_unavailable");
        assert!(
            !body.to_string().contains("Connection"),
            "no driver text: {body}"
        );
    }
    proxy.restore();
    let mut status = 0;
    for _ in 0..50 {
        status = change("之后").await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(status, 200, "served again once the database is back");
}
