//! Admin management of staff accounts.

use serde_json::{Value, json};
use xinli_tests::{TestApp, assert_error};

/// A page of staff accounts (200); `query` is the query string without `?`.
async fn staff_page(app: &TestApp, admin: &str, query: &str) -> Value {
    app.get_ok(&format!("/api/v1/admin/staff?{query}"), Some(admin))
        .await
}

#[tokio::test]
async fn admins_create_list_read_and_update_staff() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .create_staff(&admin, "counselor.chen", "counselor")
        .await;
    assert_eq!(created["role"], "counselor");
    assert_eq!(created["disabled"], false);
    assert!(created.get("password_hash").is_none() && !created.to_string().contains("argon2"));
    let id = created["id"].as_str().unwrap();

    let one = app
        .get_ok(&format!("/api/v1/admin/staff/{id}"), Some(&admin))
        .await;
    assert_eq!(one["username"], "counselor.chen");

    let updated = app
        .put_ok(
            &format!("/api/v1/admin/staff/{id}"),
            Some(&admin),
            json!({"display_name": "陈老师", "role": "admin"}),
        )
        .await;
    assert_eq!(updated["display_name"], "陈老师");
    assert_eq!(updated["role"], "admin");

    let page = staff_page(&app, &admin, "page=1&page_size=1").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["page_size"], 1);
    // The bootstrap admin, the three demo accounts (dev mode) and the one created.
    assert_eq!(page["total"], 5);
    let page2 = staff_page(&app, &admin, "page=2&page_size=1").await;
    assert_ne!(page2["items"][0]["id"], page["items"][0]["id"]);
}

#[tokio::test]
async fn usernames_are_unique_regardless_of_case() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_staff(&admin, "counselor.sun", "counselor").await;
    let res = app
        .post("/api/v1/admin/staff", Some(&admin), json!({"username": "Counselor.Sun", "password": "long-enough-password", "role": "counselor", "display_name": "孙"}))
        .await;
    assert_error(res, 409, "username_taken").await;
}

#[tokio::test]
async fn invalid_accounts_are_rejected_with_every_field_named() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let res = app
        .post("/api/v1/admin/staff", Some(&admin), json!({"username": "张三", "password": "short", "role": "counselor", "display_name": " "}))
        .await;
    let body = assert_error(res, 422, "validation_failed").await;
    let fields: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["username", "password", "display_name"]);
    let res = app
        .post("/api/v1/admin/staff", Some(&admin), json!({"username": "ok-name", "password": "long-enough-password", "role": "superuser", "display_name": "x"}))
        .await;
    let body = assert_error(res, 422, "validation_failed").await;
    assert_eq!(body["details"][0]["field"], "role");
}

#[tokio::test]
async fn admins_cannot_lock_themselves_out() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let me = staff_page(&app, &admin, "page_size=100").await;
    let my_id = me["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["username"] == xinli_tests::ADMIN_USERNAME)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for change in [json!({"disabled": true}), json!({"role": "counselor"})] {
        assert_error(
            app.put(
                &format!("/api/v1/admin/staff/{my_id}"),
                Some(&admin),
                change,
            )
            .await,
            409,
            "cannot_modify_self",
        )
        .await;
    }
    app.put_ok(
        &format!("/api/v1/admin/staff/{my_id}"),
        Some(&admin),
        json!({"display_name": "总管理员"}),
    )
    .await;
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    assert_error(
        app.get(
            "/api/v1/admin/staff/0193a5d2-8d2f-7c7b-8a1f-3e5d2c9b0f12",
            Some(&admin),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.get("/api/v1/admin/staff/not-a-uuid", Some(&admin))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.put("/api/v1/admin/staff/not-a-uuid", Some(&admin), json!({}))
            .await,
        404,
        "not_found",
    )
    .await;
}

/// What an admin GETs can be edited and PUT back (the read-only fields are ignored).
#[tokio::test]
async fn a_staff_account_can_be_put_back_as_it_came() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .create_staff(&admin, "counselor.zhou", "counselor")
        .await;
    let id = created["id"].as_str().unwrap();
    let mut got = app
        .get_ok(&format!("/api/v1/admin/staff/{id}"), Some(&admin))
        .await;
    got["display_name"] = json!("周老师");
    let saved = app
        .put_ok(&format!("/api/v1/admin/staff/{id}"), Some(&admin), got)
        .await;
    assert_eq!(saved["display_name"], "周老师");
    assert_eq!(saved["username"], "counselor.zhou");
}
