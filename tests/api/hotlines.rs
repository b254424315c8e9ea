//! 热线: directory, open-now at window edges with a moving clock, validation, dials,
//! admin changes visible at once (also across instances sharing Redis), roles, privacy.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use xinli_tests::{TestApp, TestOptions, assert_error, at, first_detail, next_monday};

fn line(name: &str, number: &str, hours: Value) -> Value {
    json!({"name": name, "number": number, "region": "上海市", "audiences": ["worker"], "crisis": false, "hours": hours})
}

/// The public directory (200, never cached by clients): its lines.
async fn directory(app: &TestApp, query: &str) -> Vec<Value> {
    let res = app.get(&format!("/api/v1/hotlines{query}"), None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let body: Value = res.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

/// The admin list (200); `query` starts with `?` or is empty.
async fn admin_lines(app: &TestApp, admin: &str, query: &str) -> Value {
    app.get_ok(&format!("/api/v1/admin/hotlines{query}"), Some(admin))
        .await
}

/// Creates a line (201): its id.
async fn create_line(app: &TestApp, admin: &str, body: Value) -> String {
    app.post_expect("/api/v1/admin/hotlines", Some(admin), body, 201)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Replaces a line (200): its view.
async fn update_line(app: &TestApp, admin: &str, id: &str, body: Value) -> Value {
    app.put_ok(&format!("/api/v1/admin/hotlines/{id}"), Some(admin), body)
        .await
}

/// Counts a tap on a line's number (204).
async fn dial(app: &TestApp, token: Option<&str>, id: &str) {
    app.post_expect(
        &format!("/api/v1/hotlines/{id}/dials"),
        token,
        json!({}),
        204,
    )
    .await;
}

fn find<'a>(lines: &'a [Value], number: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["number"] == number)
        .unwrap_or_else(|| panic!("{number} listed"))
}

#[tokio::test]
async fn dev_mode_seeds_the_real_lines_open_ones_first() {
    let app = TestApp::spawn().await;
    let lines = directory(&app, "?page_size=100").await;
    let numbers: Vec<&str> = lines
        .iter()
        .map(|l| l["number"].as_str().unwrap())
        .collect();
    assert_eq!(
        numbers,
        ["962525", "12356", "120", "110", "021-39590800", "12355"]
    );
    let sh = find(&lines, "962525");
    assert_eq!(sh["open_now"], true);
    assert_eq!(sh["status_text"], "24 小时服务");
    // Since 2025-05-01 local lines answer on 12356; in Shanghai that is 962525's 7×24 service.
    let unified = find(&lines, "12356");
    assert_eq!(unified["open_now"], true);
    assert_eq!(unified["status_text"], "24 小时服务");
    assert!(unified["hours"]["note"].as_str().unwrap().contains("上海"));
    let jd = find(&lines, "021-39590800");
    assert_eq!(jd["open_now"], Value::Null, "unknown hours are not guessed");
    assert_eq!(jd["dial_number"], "02139590800");
    assert!(jd["hours"]["note"].as_str().unwrap().contains("确认"));

    let youth = directory(&app, "?audience=youth").await;
    assert!(youth.iter().any(|l| l["number"] == "12355"));
    assert!(
        youth.iter().any(|l| l["number"] == "962525"),
        "lines for everyone included"
    );
    let workers = directory(&app, "?audience=worker").await;
    assert!(!workers.iter().any(|l| l["number"] == "12355"));
    let region = directory(&app, "?region=上海市嘉定区").await;
    assert!(region.iter().any(|l| l["number"] == "021-39590800"));
    assert!(
        region.iter().any(|l| l["number"] == "12356"),
        "nationwide lines included"
    );
    assert!(!region.iter().any(|l| l["number"] == "962525"));
    assert_error(
        app.get("/api/v1/hotlines?audience=martians", None).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn open_now_follows_the_clock_at_window_edges_without_any_write() {
    // The server runs in UTC (CI sets TZ=UTC); China time must come from the code, not the host.
    assert_ne!(
        chrono::Local::now().offset().local_minus_utc(),
        8 * 3600,
        "run the tests outside China time"
    );
    let monday = next_monday();
    let app = TestApp::spawn_with(TestOptions {
        clock_at: Some(at(monday, 0, 7, 59)),
        ..TestOptions::default()
    })
    .await;
    let clock = app.clock.clone().unwrap();
    let admin = app.admin_token().await;
    let day =
        json!({"kind": "weekly", "windows": [{"day": "mon", "start": "08:00", "end": "20:00"}]});
    let night =
        json!({"kind": "weekly", "windows": [{"day": "sun", "start": "22:00", "end": "02:00"}]});
    create_line(&app, &admin, line("日间热线", "66660001", day)).await;
    create_line(&app, &admin, line("夜间热线", "66660002", night)).await;

    let check = |lines: Vec<Value>, number: &str, open: bool, next: DateTime<Utc>| {
        let l = find(&lines, number).clone();
        assert_eq!(l["open_now"], open, "{number} at {l}");
        let next_at = DateTime::parse_from_rfc3339(l["next_change_at"].as_str().unwrap()).unwrap();
        assert_eq!(next_at, next, "{number} next change");
        assert!(l["next_change_at"].as_str().unwrap().ends_with("+08:00"));
    };
    check(
        directory(&app, "").await,
        "66660001",
        false,
        at(monday, 0, 8, 0),
    );
    assert_eq!(
        find(&directory(&app, "").await, "66660001")["status_text"],
        "暂未开放，今天 08:00 开始服务"
    );
    clock.set(at(monday, 0, 8, 0));
    check(
        directory(&app, "").await,
        "66660001",
        true,
        at(monday, 0, 20, 0),
    );
    clock.set(at(monday, 0, 19, 59));
    check(
        directory(&app, "").await,
        "66660001",
        true,
        at(monday, 0, 20, 0),
    );
    clock.set(at(monday, 0, 20, 0));
    check(
        directory(&app, "").await,
        "66660001",
        false,
        at(monday, 7, 8, 0),
    );

    // Across midnight, Sunday into Monday.
    clock.set(at(monday, 6, 21, 59));
    check(
        directory(&app, "").await,
        "66660002",
        false,
        at(monday, 6, 22, 0),
    );
    clock.set(at(monday, 6, 22, 0));
    check(
        directory(&app, "").await,
        "66660002",
        true,
        at(monday, 7, 2, 0),
    );
    clock.set(at(monday, 7, 1, 59));
    check(
        directory(&app, "").await,
        "66660002",
        true,
        at(monday, 7, 2, 0),
    );
    clock.set(at(monday, 7, 2, 0));
    check(
        directory(&app, "").await,
        "66660002",
        false,
        at(monday, 13, 22, 0),
    );
}

#[tokio::test]
async fn bad_numbers_and_hours_are_rejected_field_by_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let before = admin_lines(&app, &admin, "").await;

    let bad = json!({"name": "", "number": "96 25 25", "region": "上海市", "audiences": [], "crisis": true,
        "hours": {"kind": "weekly", "windows": [{"day": "mon", "start": "8:00", "end": "25:00"}, {"day": "tue", "start": "09:00", "end": "09:00"}]}});
    let body = assert_error(
        app.post("/api/v1/admin/hotlines", Some(&admin), bad).await,
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
    for f in [
        "name",
        "number",
        "audiences",
        "hours.windows[0].start",
        "hours.windows[0].end",
        "hours.windows[1].end",
    ] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let cases = [
        (json!({"kind": "weekly", "windows": []}), "hours.windows"),
        (
            json!({"kind": "always", "windows": [{"day": "mon", "start": "08:00", "end": "09:00"}]}),
            "hours.windows",
        ),
        (
            json!({"kind": "weekly", "windows": [{"day": "funday", "start": "08:00", "end": "09:00"}]}),
            "hours.windows[0].day",
        ),
        (json!({"kind": "sometimes"}), "hours.kind"),
        // Overlapping windows: the later one is named, with the one it overlaps.
        (
            json!({"kind": "weekly", "windows": [{"day": "mon", "start": "09:00", "end": "12:00"},
                {"day": "mon", "start": "11:00", "end": "13:00"}]}),
            "hours.windows[1]",
        ),
    ];
    for (hours, field) in cases {
        let body = assert_error(
            app.post(
                "/api/v1/admin/hotlines",
                Some(&admin),
                line("x", "12345", hours),
            )
            .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["details"][0]["field"], field, "{body}");
    }
    let after = admin_lines(&app, &admin, "").await;
    assert_eq!(before["total"], after["total"]);
}

#[tokio::test]
async fn admin_changes_are_visible_at_once_also_on_another_instance() {
    let a = TestApp::spawn().await;
    let b = a.sibling().await;
    let shared_cache = xinli_tests::test_redis_url().is_some();
    let admin = a.admin_token().await;
    // Both instances have the directory cached.
    assert!(
        !directory(&a, "")
            .await
            .iter()
            .any(|l| l["number"] == "66661111")
    );
    assert!(
        !directory(&b, "")
            .await
            .iter()
            .any(|l| l["number"] == "66661111")
    );

    let created = create_line(
        &a,
        &admin,
        line("新热线", "66661111", json!({"kind": "always"})),
    )
    .await;
    let id = created.as_str();
    assert!(
        directory(&a, "")
            .await
            .iter()
            .any(|l| l["number"] == "66661111")
    );
    if shared_cache {
        assert!(
            directory(&b, "")
                .await
                .iter()
                .any(|l| l["number"] == "66661111"),
            "other instance sees it"
        );
    }

    let mut renamed = line("改名热线", "66661111", json!({"kind": "always"}));
    renamed["active"] = json!(true);
    update_line(&a, &admin, id, renamed).await;
    assert_eq!(
        find(&directory(&a, "").await, "66661111")["name"],
        "改名热线"
    );
    if shared_cache {
        assert_eq!(
            find(&directory(&b, "").await, "66661111")["name"],
            "改名热线"
        );
    }

    let mut inactive = line("改名热线", "66661111", json!({"kind": "always"}));
    inactive["active"] = json!(false);
    update_line(&a, &admin, id, inactive).await;
    assert!(
        !directory(&a, "")
            .await
            .iter()
            .any(|l| l["number"] == "66661111")
    );
    let all = admin_lines(&a, &admin, "?page_size=100").await;
    assert!(
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["id"] == id && l["active"] == false)
    );

    assert_eq!(
        a.delete(&format!("/api/v1/admin/hotlines/{id}"), Some(&admin))
            .await
            .status(),
        204
    );
    assert_error(
        a.delete(&format!("/api/v1/admin/hotlines/{id}"), Some(&admin))
            .await,
        404,
        "not_found",
    )
    .await;
    let all = admin_lines(&a, &admin, "?page_size=100").await;
    assert!(
        !all["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["id"] == id)
    );
}

#[tokio::test]
async fn dials_are_counted_limited_per_client_and_reported_per_day() {
    let app = TestApp::spawn_with(TestOptions {
        configure: |c| {
            c.limits.dials_per_client =
                xinli_domain::throttle::Limit::new(3, std::time::Duration::from_secs(600))
        },
        ..TestOptions::default()
    })
    .await;
    let lines = directory(&app, "").await;
    let id = find(&lines, "962525")["id"].as_str().unwrap().to_owned();
    let user = app.user_token("dialer").await;
    for _ in 0..3 {
        dial(&app, Some(&user), &id).await;
    }
    assert_error(
        app.post(
            &format!("/api/v1/hotlines/{id}/dials"),
            Some(&user),
            json!({}),
        )
        .await,
        429,
        "too_many_requests",
    )
    .await;
    // Anonymous taps are counted per address; a different client still counts.
    assert_eq!(
        app.request(
            reqwest::Method::POST,
            &format!("/api/v1/hotlines/{id}/dials"),
            None,
            None
        )
        .await
        .status(),
        204
    );

    assert_error(
        app.post(
            "/api/v1/hotlines/0193a5d2-8d2f-7c7b-8a1f-3e5d2c9b0f12/dials",
            None,
            json!({}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.post("/api/v1/hotlines/nonsense/dials", None, json!({}))
            .await,
        404,
        "not_found",
    )
    .await;

    let admin = app.admin_token().await;
    let stats = app
        .get_ok("/api/v1/admin/hotline-dials", Some(&admin))
        .await;
    assert_eq!(stats["total"], 4);
    let row = &stats["items"][0];
    assert_eq!(row["number"], "962525");
    assert_eq!(row["count"], 4);
    // Counts per line and day only: a field added to a row (who dialled, from where) fails.
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&stats), ["from", "items", "to", "total"]);
    for row in stats["items"].as_array().unwrap() {
        assert_eq!(
            keys(row),
            ["count", "date", "hotline_id", "hotline_name", "number"]
        );
    }
    assert_error(
        app.get(
            "/api/v1/admin/hotline-dials?from=2026-12-01&to=2026-11-01",
            Some(&admin),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        app.get(
            "/api/v1/admin/hotline-dials?from=2020-01-01&to=2026-11-01",
            Some(&admin),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    // Dates at the ends of the calendar are refused, never a crash.
    for path in ["/api/v1/admin/hotline-dials", "/api/v1/admin/stats"] {
        for q in [
            "?from=yesterday",
            "?to=%2B262142-12-31",
            "?to=-262143-01-01",
        ] {
            assert_error(
                app.get(&format!("{path}{q}"), Some(&admin)).await,
                422,
                "validation_failed",
            )
            .await;
        }
    }
}

#[tokio::test]
async fn dials_are_counted_without_any_link_to_who_tapped() {
    let app = TestApp::spawn().await;
    let id = find(&directory(&app, "").await, "962525")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = app.user_token("private-dialer").await;
    dial(&app, Some(&user), &id).await;
    let export = app.get_ok("/api/v1/me/export", Some(&user)).await;
    // Which lines a person called is sensitive and not needed: nothing links the tap to them.
    assert!(export.get("hotline_dials").is_none(), "{export}");
    let db = sea_orm::Database::connect(&app.config.database_url)
        .await
        .unwrap();
    use sea_orm::{ConnectionTrait, Statement};
    let linked = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM hotline_dials WHERE user_id IS NOT NULL".to_owned(),
        ))
        .await
        .unwrap();
    assert!(linked.is_empty());
    db.close().await.unwrap();
    assert_eq!(app.delete("/api/v1/me", Some(&user)).await.status(), 204);
    let admin = app.admin_token().await;
    let stats = app
        .get_ok("/api/v1/admin/hotline-dials", Some(&admin))
        .await;
    assert_eq!(stats["total"], 1, "the anonymous count stays");
    // A token that outlived its account is refused like everywhere else (the call itself
    // is placed by the phone; only the count is refused); anonymous taps still count.
    assert_error(
        app.post(
            &format!("/api/v1/hotlines/{id}/dials"),
            Some(&user),
            json!({}),
        )
        .await,
        401,
        "token_invalid",
    )
    .await;
    dial(&app, None, &id).await;
}

#[tokio::test]
async fn hotline_administration_is_for_admins_only() {
    let app = TestApp::spawn().await;
    let user = app.user_token("curious").await;
    let body = line("x", "12345", json!({"kind": "always"}));
    let some_id = "0193a5d2-8d2f-7c7b-8a1f-3e5d2c9b0f12";
    assert_error(
        app.post("/api/v1/admin/hotlines", None, body.clone()).await,
        401,
        "unauthenticated",
    )
    .await;
    assert_error(
        app.post("/api/v1/admin/hotlines", Some(&user), body.clone())
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.put(
            &format!("/api/v1/admin/hotlines/{some_id}"),
            Some(&user),
            body,
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.delete(&format!("/api/v1/admin/hotlines/{some_id}"), Some(&user))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.get("/api/v1/admin/hotlines", Some(&user)).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.get("/api/v1/admin/hotline-dials", Some(&user)).await,
        403,
        "forbidden",
    )
    .await;
}

/// What an admin GETs can be edited and PUT back: the read-only fields of the view are
/// accepted and ignored, `hours.note` stays the note; unknown fields stay refused.
#[tokio::test]
async fn an_admin_can_put_back_what_they_got() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let page = admin_lines(&app, &admin, "?page_size=100").await;
    let mut line = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["number"] == "021-39590800")
        .unwrap()
        .clone();
    let id = line["id"].as_str().unwrap().to_owned();
    let note = line["hours"]["note"].clone();
    assert!(note.is_string());
    line["description"] = json!("区级心理援助热线（已核对）");
    update_line(&app, &admin, &id, line.clone()).await;
    let saved = admin_lines(&app, &admin, "?page_size=100").await;
    let saved = saved["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(saved["description"], "区级心理援助热线（已核对）");
    assert_eq!(
        saved["hours"]["note"], note,
        "the note survives the round trip"
    );
    line["colour"] = json!("red");
    let body = assert_error(
        app.put(&format!("/api/v1/admin/hotlines/{id}"), Some(&admin), line)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(first_detail(&body).contains("colour"));
}
