//! Access tokens (expiry, tampering, algorithm) and refresh tokens (single use, logout).

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::json;
use xinli_tests::{JWT_SECRET, TestApp, access_token, assert_error};

fn token_with(alg: Algorithm, secret: &str, sub: &str, role: &str, exp_offset: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims =
        json!({"sub": sub, "role": role, "iat": now, "exp": now + exp_offset, "iss": "xinli"});
    encode(
        &Header::new(alg),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// The user's id, from their profile (200).
async fn user_id(app: &TestApp, token: &str) -> String {
    let me = app.get_ok("/api/v1/me", Some(token)).await;
    me["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_well_formed_token_works_and_expired_tampered_or_foreign_ones_do_not() {
    let app = TestApp::spawn().await;
    let real = app.user_token("token-user").await;
    let id = user_id(&app, &real).await;

    let good = token_with(Algorithm::HS256, JWT_SECRET, &id, "user", 60);
    assert_eq!(app.get("/api/v1/me", Some(&good)).await.status(), 200);

    let expired = token_with(Algorithm::HS256, JWT_SECRET, &id, "user", -5);
    assert_error(
        app.get("/api/v1/me", Some(&expired)).await,
        401,
        "token_expired",
    )
    .await;

    let mut tampered = real.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_error(
        app.get("/api/v1/me", Some(&tampered)).await,
        401,
        "token_invalid",
    )
    .await;

    let other_alg = token_with(Algorithm::HS512, JWT_SECRET, &id, "user", 60);
    assert_error(
        app.get("/api/v1/me", Some(&other_alg)).await,
        401,
        "token_invalid",
    )
    .await;

    let other_key = token_with(
        Algorithm::HS256,
        "another-secret-another-secret-another-secret",
        &id,
        "user",
        60,
    );
    assert_error(
        app.get("/api/v1/me", Some(&other_key)).await,
        401,
        "token_invalid",
    )
    .await;

    // alg "none": header and claims with an empty signature.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let none = format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(
            json!({"sub": id, "role": "admin", "exp": 4_000_000_000i64, "iss": "xinli"})
                .to_string()
        )
    );
    assert_error(
        app.get("/api/v1/admin/staff", Some(&none)).await,
        401,
        "token_invalid",
    )
    .await;
}

#[tokio::test]
async fn missing_or_odd_authorization_headers_are_401() {
    let app = TestApp::spawn().await;
    assert_error(app.get("/api/v1/me", None).await, 401, "unauthenticated").await;
    let res = app
        .client
        .get(app.url("/api/v1/me"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("www-authenticate"));
    assert_error(res, 401, "token_invalid").await;
}

#[tokio::test]
async fn roles_are_checked_on_every_route() {
    let app = TestApp::spawn().await;
    let user = app.user_token("plain-user").await;
    let admin = app.admin_token().await;
    let counselor_view = app.create_staff(&admin, "counselor.li", "counselor").await;
    let counselor = app
        .staff_token("counselor.li", "counselor.li-password")
        .await;
    let staff_id = counselor_view["id"].as_str().unwrap();

    for token in [&user, &counselor] {
        assert_error(
            app.get("/api/v1/admin/staff", Some(token)).await,
            403,
            "forbidden",
        )
        .await;
        assert_error(
            app.get(&format!("/api/v1/admin/staff/{staff_id}"), Some(token))
                .await,
            403,
            "forbidden",
        )
        .await;
        assert_error(
            app.post("/api/v1/admin/staff", Some(token), json!({"username": "x-y-z", "password": "0123456789", "role": "admin", "display_name": "x"})).await,
            403,
            "forbidden",
        )
        .await;
    }
    for token in [&admin, &counselor] {
        assert_error(app.get("/api/v1/me", Some(token)).await, 403, "forbidden").await;
        assert_error(
            app.delete("/api/v1/me", Some(token)).await,
            403,
            "forbidden",
        )
        .await;
    }
    // A token naming a role its account no longer has is refused.
    let forged_admin = token_with(Algorithm::HS256, JWT_SECRET, staff_id, "admin", 60);
    assert_error(
        app.get("/api/v1/admin/staff", Some(&forged_admin)).await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn a_refresh_token_works_once_and_replay_revokes_the_login() {
    let app = TestApp::spawn().await;
    let login = app.dev_login("refresh-user").await;
    let first_refresh = login["refresh_token"].as_str().unwrap();

    let renewed = app
        .post_expect(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": first_refresh}),
            200,
        )
        .await;
    assert_ne!(renewed["refresh_token"], first_refresh);
    assert_eq!(renewed["user"]["id"], login["user"]["id"]);
    assert_eq!(
        app.get("/api/v1/me", Some(&access_token(&renewed)))
            .await
            .status(),
        200
    );

    // Second use of the same token: refused, and the token issued from it dies too.
    assert_error(
        app.post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": first_refresh}),
        )
        .await,
        401,
        "invalid_refresh_token",
    )
    .await;
    assert_error(
        app.post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": renewed["refresh_token"]}),
        )
        .await,
        401,
        "invalid_refresh_token",
    )
    .await;
    assert_error(
        app.post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": "made-up"}),
        )
        .await,
        401,
        "invalid_refresh_token",
    )
    .await;
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_succeed_exactly_once() {
    let app = TestApp::spawn().await;
    let login = app.dev_login("racer").await;
    let token = login["refresh_token"].as_str().unwrap().to_owned();
    let attempts = (0..8).map(|_| {
        app.post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": token}),
        )
    });
    // join_all polls every request at once: all are in flight together.
    let statuses: Vec<u16> = futures::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 401),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = TestApp::spawn().await;
    let login = app.dev_login("leaving-user").await;
    let refresh = login["refresh_token"].as_str().unwrap();
    assert_eq!(
        app.post(
            "/api/v1/auth/logout",
            None,
            json!({"refresh_token": refresh})
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        app.post(
            "/api/v1/auth/logout",
            None,
            json!({"refresh_token": refresh})
        )
        .await
        .status(),
        204
    );
    assert_error(
        app.post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": refresh}),
        )
        .await,
        401,
        "invalid_refresh_token",
    )
    .await;
}

#[tokio::test]
async fn a_new_staff_password_ends_existing_sessions() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let staff = app
        .create_staff(&admin, "counselor.zhao", "counselor")
        .await;
    let login = app
        .staff_login_ok("counselor.zhao", "counselor.zhao-password")
        .await;
    let id = staff["id"].as_str().unwrap();
    app.put_ok(
        &format!("/api/v1/admin/staff/{id}"),
        Some(&admin),
        json!({"password": "a-brand-new-password"}),
    )
    .await;
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
    assert_error(
        app.staff_login("counselor.zhao", "counselor.zhao-password")
            .await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        app.staff_login("counselor.zhao", "a-brand-new-password")
            .await
            .status(),
        200
    );
}

/// Staff refresh tokens live 8 hours from their last use (#30); a resident's live 30 days.
#[tokio::test]
async fn a_staff_login_ends_after_eight_idle_hours_and_slides_while_used() {
    let app = xinli_tests::TestApp::spawn_with(xinli_tests::TestOptions {
        clock_at: Some(chrono::Utc::now()),
        ..Default::default()
    })
    .await;
    let clock = app.clock.clone().unwrap();
    let login = app
        .staff_login_ok(xinli_tests::ADMIN_USERNAME, xinli_tests::ADMIN_PASSWORD)
        .await;
    assert_eq!(login["refresh_expires_in"], 8 * 3600);
    let user = app.dev_login("long-lived-resident").await;
    assert_eq!(user["refresh_expires_in"], 30 * 24 * 3600);
    let refresh = |token: String| {
        let app = &app;
        async move {
            app.post(
                "/api/v1/auth/refresh",
                None,
                json!({"refresh_token": token}),
            )
            .await
        }
    };
    // Used every 7 hours, the console stays logged in past the first 8.
    let mut token = login["refresh_token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        clock.advance(chrono::Duration::hours(7));
        let res = refresh(token.clone()).await;
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        token = body["refresh_token"].as_str().unwrap().to_owned();
    }
    // Left for more than 8 hours, it is over.
    clock.advance(chrono::Duration::hours(8) + chrono::Duration::minutes(1));
    assert_error(refresh(token).await, 401, "invalid_refresh_token").await;
    // The resident's login is not.
    let res = refresh(user["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(res.status(), 200);
}
