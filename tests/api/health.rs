use xinli_tests::TestApp;

#[tokio::test]
async fn healthz_answers_with_a_request_id() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz", None).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("x-request-id"));
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
}

#[tokio::test]
async fn a_plain_incoming_request_id_is_kept_and_a_hostile_one_replaced() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "gw-123_abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "gw-123_abc");
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "<script>alert(1)</script>")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "<script>alert(1)</script>");
}

#[tokio::test]
async fn readyz_checks_database_and_cache() {
    let app = TestApp::spawn().await;
    let body = app.get_ok("/readyz", None).await;
    assert_eq!(body["status"], "ready");
    let expected_db = if xinli_tests::test_database_url().is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let expected_cache = if xinli_tests::test_redis_url().is_some() {
        "redis"
    } else {
        "memory"
    };
    assert_eq!(body["database"], expected_db);
    assert_eq!(body["cache"], expected_cache);
}

#[tokio::test]
async fn docs_are_served_offline_and_docs_redirects() {
    let app = TestApp::spawn().await;
    let res = app.get("/docs", None).await;
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["location"], "/docs/");
    let res = app.get("/docs/", None).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.text().await.unwrap().contains("swagger"),
        "Swagger UI page"
    );
    let spec = app.get_ok("/api-docs/openapi.json", None).await;
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    assert!(spec["paths"]["/api/v1/auth/wechat"]["post"].is_object());
}
