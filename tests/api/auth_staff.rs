//! Staff login: passwords, disabled accounts, attempt limits shared across instances.

use std::time::Duration;

use serde_json::json;
use xinli_domain::throttle::Limit;
use xinli_tests::{TestApp, TestOptions, assert_error};

/// A failed login of the bootstrap admin (401 `invalid_credentials`): one failure counted.
async fn wrong_password(app: &TestApp) {
    assert_error(
        app.staff_login(xinli_tests::ADMIN_USERNAME, "wrong-password!")
            .await,
        401,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn staff_login_returns_tokens_and_the_staff_profile() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_staff(&admin, "counselor.wang", "counselor")
        .await;
    let body = app
        .staff_login_ok("Counselor.Wang", "counselor.wang-password")
        .await;
    assert_eq!(body["user"]["role"], "counselor");
    assert_eq!(body["user"]["username"], "counselor.wang");
    assert!(body["refresh_token"].as_str().unwrap().len() >= 40);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let app = TestApp::spawn().await;
    let a = assert_error(
        app.staff_login(xinli_tests::ADMIN_USERNAME, "wrong-password!")
            .await,
        401,
        "invalid_credentials",
    )
    .await;
    let b = assert_error(
        app.staff_login("nobody-here", "wrong-password!").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(a["message"], b["message"]);
    assert_error(app.staff_login("", "").await, 422, "validation_failed").await;
}

#[tokio::test]
async fn disabled_accounts_cannot_log_in_and_lose_access_at_once() {
    let app = TestApp::spawn().await;
    let root = app.admin_token().await;
    let other = app.create_staff(&root, "second-admin", "admin").await;
    let other_token = app
        .staff_token("second-admin", "second-admin-password")
        .await;
    assert_eq!(
        app.get("/api/v1/admin/staff", Some(&other_token))
            .await
            .status(),
        200
    );

    let id = other["id"].as_str().unwrap();
    app.put_ok(
        &format!("/api/v1/admin/staff/{id}"),
        Some(&root),
        json!({"disabled": true}),
    )
    .await;

    // The still-unexpired access token stops working immediately.
    assert_error(
        app.get("/api/v1/admin/staff", Some(&other_token)).await,
        403,
        "account_disabled",
    )
    .await;
    assert_error(
        app.staff_login("second-admin", "second-admin-password")
            .await,
        403,
        "account_disabled",
    )
    .await;
    // A wrong password does not reveal that the account is disabled.
    assert_error(
        app.staff_login("second-admin", "not-the-password").await,
        401,
        "invalid_credentials",
    )
    .await;

    app.put_ok(
        &format!("/api/v1/admin/staff/{id}"),
        Some(&root),
        json!({"disabled": false}),
    )
    .await;
    assert_eq!(
        app.staff_login("second-admin", "second-admin-password")
            .await
            .status(),
        200
    );
}

fn three_failures(c: &mut xinli_api::Config) {
    c.limits.login_failures_per_account = Limit::new(3, Duration::from_secs(600));
}

#[tokio::test]
async fn repeated_failures_lock_the_account_for_a_while() {
    let app = TestApp::spawn_with(TestOptions {
        configure: three_failures,
        ..TestOptions::default()
    })
    .await;
    for _ in 0..3 {
        wrong_password(&app).await;
    }
    let res = app
        .staff_login(xinli_tests::ADMIN_USERNAME, xinli_tests::ADMIN_PASSWORD)
        .await;
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 600);
    assert_error(res, 429, "too_many_requests").await;
}

#[tokio::test]
async fn a_successful_login_resets_the_failure_count() {
    let app = TestApp::spawn_with(TestOptions {
        configure: three_failures,
        ..TestOptions::default()
    })
    .await;
    for _ in 0..2 {
        wrong_password(&app).await;
    }
    assert_eq!(
        app.staff_login(xinli_tests::ADMIN_USERNAME, xinli_tests::ADMIN_PASSWORD)
            .await
            .status(),
        200
    );
    for _ in 0..2 {
        wrong_password(&app).await;
    }
    assert_eq!(
        app.staff_login(xinli_tests::ADMIN_USERNAME, xinli_tests::ADMIN_PASSWORD)
            .await
            .status(),
        200
    );
}

/// With Redis, two instances share one failure count; with the in-process cache each
/// instance counts alone (and the README says to configure Redis for several instances).
#[tokio::test]
async fn the_account_limit_is_shared_between_instances_through_redis() {
    let a = TestApp::spawn_with(TestOptions {
        configure: three_failures,
        ..TestOptions::default()
    })
    .await;
    let b = a.sibling().await;
    wrong_password(&a).await;
    wrong_password(&a).await;
    wrong_password(&b).await;
    let res = b
        .staff_login(xinli_tests::ADMIN_USERNAME, xinli_tests::ADMIN_PASSWORD)
        .await;
    if xinli_tests::test_redis_url().is_some() {
        assert_error(res, 429, "too_many_requests").await;
    } else {
        assert_eq!(res.status(), 200, "in-process counts are per instance");
    }
}

#[tokio::test]
async fn logins_per_client_address_are_limited() {
    let app = TestApp::spawn_with(TestOptions {
        configure: |c| c.limits.logins_per_ip = Limit::new(4, Duration::from_secs(300)),
        ..TestOptions::default()
    })
    .await;
    for i in 0..4 {
        assert_eq!(
            app.post(
                "/api/v1/auth/dev",
                None,
                json!({"openid": format!("ip-{i}")})
            )
            .await
            .status(),
            200
        );
    }
    assert_error(
        app.post("/api/v1/auth/dev", None, json!({"openid": "ip-5"}))
            .await,
        429,
        "too_many_requests",
    )
    .await;
    // Staff logins are counted apart: testers using dev mode do not lock the operators out.
    for _ in 0..4 {
        assert_eq!(
            app.staff_login(xinli_tests::ADMIN_USERNAME, xinli_tests::ADMIN_PASSWORD)
                .await
                .status(),
            200
        );
    }
    assert_error(
        app.staff_login(xinli_tests::ADMIN_USERNAME, xinli_tests::ADMIN_PASSWORD)
            .await,
        429,
        "too_many_requests",
    )
    .await;
}

#[tokio::test]
async fn demo_accounts_are_disabled_when_the_database_leaves_dev_mode() {
    let dev = TestApp::spawn().await;
    let res = dev.staff_login("demo-admin", "xinli-demo-2026").await;
    assert_eq!(res.status(), 200, "dev mode seeds it");
    let prod = dev.sibling_with(|c| c.dev_mode = false).await;
    assert_error(
        prod.staff_login("demo-admin", "xinli-demo-2026").await,
        403,
        "account_disabled",
    )
    .await;
    // The operator's own admin is untouched.
    assert_eq!(
        prod.staff_login(xinli_tests::ADMIN_USERNAME, xinli_tests::ADMIN_PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn behind_a_proxy_the_limit_counts_the_address_the_proxy_appended() {
    let app = TestApp::spawn_with(TestOptions {
        configure: |c| {
            c.trust_proxy = true;
            c.limits.logins_per_ip = Limit::new(2, Duration::from_secs(300));
        },
        ..TestOptions::default()
    })
    .await;
    let login = |i: u32, via: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/dev"))
            .header("X-Forwarded-For", format!("203.0.113.{i}, {via}"))
            .header("Forwarded", format!("for=198.51.100.{i}"))
            .json(&json!({"openid": format!("proxied-{i}")}))
            .send()
    };
    // A client rotating what it puts in front cannot escape its own address.
    assert_eq!(login(1, "10.0.0.9").await.unwrap().status(), 200);
    assert_eq!(login(2, "10.0.0.9").await.unwrap().status(), 200);
    assert_error(
        login(3, "10.0.0.9").await.unwrap(),
        429,
        "too_many_requests",
    )
    .await;
    assert_eq!(login(4, "10.0.0.8").await.unwrap().status(), 200);
}
