//! Retention (README, "Retention"): what is past its keeping time is removed or blanked by
//! the job, what stays is anonymous; day sheets reach 30 days back and 7 ahead; a counselor
//! who changes role leaves the station rosters.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use xinli_tests::{TestApp, TestOptions, assert_error, at, next_monday};

use crate::consultations::{ask, claim, counselor};

fn fast_retention(c: &mut xinli_api::Config) {
    c.retention_every = Duration::from_millis(100);
}

pub(crate) async fn count(app: &TestApp, sql: &str) -> usize {
    let db = sea_orm::Database::connect(&app.config.database_url)
        .await
        .unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap();
    db.close().await.unwrap();
    rows.len()
}

/// Polls until `sql` returns `want` rows (the job runs every 100 ms), for at most 10 s.
pub(crate) async fn until_rows(app: &TestApp, sql: &str, want: usize) -> usize {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let n = count(app, sql).await;
        if n == want || std::time::Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn finished_chats_and_expired_tokens_go_when_their_time_is_up() {
    let start = chrono::Utc::now() + chrono::Duration::days(1);
    let app = TestApp::spawn_with(TestOptions {
        clock_at: Some(start),
        configure: fast_retention,
        ..TestOptions::default()
    })
    .await;
    let clock = app.clock.clone().unwrap();
    let admin = app.admin_token().await;
    let (c1, _) = counselor(&app, &admin, "keeper.of.time", 2).await;
    let user = app.user_token("long-ago").await;
    let id = ask(&app, &user).await["id"].as_str().unwrap().to_owned();
    assert_eq!(claim(&app, &c1).await.status(), 200);
    let msgs = format!("/api/v1/consultations/{id}/messages");
    app.post_expect(&msgs, Some(&user), json!({"text": "一年前的话"}), 201)
        .await;
    app.post_expect(
        &format!("/api/v1/consultations/{id}/close"),
        Some(&c1),
        json!({"note": "记录"}),
        200,
    )
    .await;
    app.post_expect(
        &format!("/api/v1/consultations/{id}/rating"),
        Some(&user),
        json!({"score": 4, "comment": "谢谢"}),
        200,
    )
    .await;
    // A second, still open consultation is never touched.
    let other = app.user_token("still-talking").await;
    let open = ask(&app, &other).await["id"].as_str().unwrap().to_owned();
    app.post_expect(
        &format!("/api/v1/consultations/{open}/messages"),
        Some(&other),
        json!({"text": "还在等"}),
        201,
    )
    .await;

    let words = format!("SELECT id FROM consultation_messages WHERE consultation_id = '{id}'");
    // Within the keeping time nothing goes.
    clock.advance(chrono::Duration::days(364));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(count(&app, &words).await > 0);

    clock.advance(chrono::Duration::days(2));
    assert_eq!(until_rows(&app, &words, 0).await, 0, "the words went");
    let kept = count(
        &app,
        &format!(
            "SELECT id FROM consultations WHERE id = '{id}' AND description = '' AND rating_comment IS NULL AND rating = 4"
        ),
    )
    .await;
    assert_eq!(kept, 1, "the anonymous record stays, rating included");
    let mine = app.get_ok(&msgs, Some(&user)).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 0);
    assert!(
        count(
            &app,
            &format!("SELECT id FROM consultation_messages WHERE consultation_id = '{open}'")
        )
        .await
            > 0,
        "open consultations keep their words"
    );

    // Refresh tokens live 30 days, then 7 more before they are removed (those of the logins
    // above went long ago).
    let tokens = "SELECT id FROM refresh_tokens".to_owned();
    assert_eq!(count(&app, &tokens).await, 0);
    app.user_token("fresh-login").await;
    clock.advance(chrono::Duration::days(36));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        count(&app, &tokens).await,
        1,
        "expired, but not for long enough"
    );
    clock.advance(chrono::Duration::days(2));
    assert_eq!(until_rows(&app, &tokens, 0).await, 0, "expired tokens went");
}

/// A station open every morning with one seat and `counselor` on its roster (201): its id.
async fn roster_station(app: &TestApp, admin: &str, counselor: &Value, name: &str) -> String {
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    app.post_expect(
        "/api/v1/admin/stations",
        Some(admin),
        json!({
            "name": name, "unit": "单位", "address": "某路 1 号", "region": "长沙市",
            "audiences": ["worker"], "slot_minutes": 50, "break_minutes": 10, "seats": 1,
            "hours": {"kind": "weekly", "windows": days.iter().map(|d| json!({"day": d, "start": "09:00", "end": "12:00"})).collect::<Vec<_>>()},
            "counselor_ids": [counselor["id"]]
        }),
        201,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn day_sheet(
    app: &TestApp,
    token: &str,
    station: &str,
    date: chrono::NaiveDate,
) -> reqwest::Response {
    app.get(
        &format!("/api/v1/staff/stations/{station}/day-sheet?date={date}"),
        Some(token),
    )
    .await
}

/// One of each kind of data with a keeping time, made through the API; then the clock moves
/// past each period and the job removes exactly what it should.
#[tokio::test]
async fn contacts_waitlists_comments_alert_words_audit_rows_and_lecture_contacts_go_on_time() {
    use xinli_domain::schedule::CHINA;
    let monday = next_monday();
    let app = TestApp::spawn_with(TestOptions {
        clock_at: Some(at(monday, 0, 6, 0)),
        configure: fast_retention,
        ..TestOptions::default()
    })
    .await;
    let clock = app.clock.clone().unwrap();
    let admin = app.admin_token().await;
    let duty = app
        .create_staff(&admin, "roster-counselor", "counselor")
        .await;
    let station = roster_station(&app, &admin, &duty, "保存期限站").await;
    let start = at(monday, 0, 9, 0).with_timezone(&CHINA).to_rfc3339();
    let booker = app.user_token("booker").await;
    let booking = app
        .post_expect(
            &format!("/api/v1/stations/{station}/bookings"),
            Some(&booker),
            json!({"start_at": start, "name": "林女士", "phone": "13800000000", "note": "第一次来"}),
            201,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let waiter = app.user_token("waiter").await;
    app.post_expect(
        &format!("/api/v1/stations/{station}/waitlist"),
        Some(&waiter),
        json!({"start_at": start}),
        201,
    )
    .await;

    // The day sheet reaches 30 days back and 7 ahead; each read is an audit row.
    let counselor = app
        .staff_token("roster-counselor", "roster-counselor-password")
        .await;
    let today = monday.with_timezone(&CHINA).date_naive();
    assert_eq!(
        day_sheet(&app, &counselor, &station, today).await.status(),
        200
    );
    let ahead = today + chrono::Days::new(7);
    assert_eq!(
        day_sheet(&app, &counselor, &station, ahead).await.status(),
        200
    );
    for outside in [today + chrono::Days::new(8), today - chrono::Days::new(31)] {
        assert_error(
            day_sheet(&app, &counselor, &station, outside).await,
            422,
            "validation_failed",
        )
        .await;
    }
    assert_eq!(
        day_sheet(&app, &admin, &station, today - chrono::Days::new(30))
            .await
            .status(),
        200
    );

    // The session takes place; the person answers the survey with a comment.
    clock.set(at(monday, 0, 10, 0));
    app.post_expect(
        &format!("/api/v1/bookings/{booking}/attendance"),
        Some(&counselor),
        json!({"attended": true}),
        200,
    )
    .await;
    let booker = app.user_token("booker").await;
    let res = app
        .post(
            &format!("/api/v1/bookings/{booking}/survey"),
            Some(&booker),
            json!({"content": 5, "gain": 4, "comment": "老师很耐心"}),
        )
        .await;
    assert_eq!(res.status(), 204);

    // A risk alert, acknowledged with a note.
    let supervisor = crate::risk::supervisor(&app, &admin, "keeper-supervisor", true).await;
    let person = app.user_token("in-distress").await;
    app.post_expect(
        "/api/v1/consultations",
        Some(&person),
        json!({"topic": "情绪困扰", "description": "我不想活了"}),
        201,
    )
    .await;
    let open = crate::risk::alerts(&app, &supervisor, "open").await;
    assert_eq!(open.len(), 1);
    app.post_expect(
        &format!(
            "/api/v1/supervisor/alerts/{}/ack",
            open[0]["id"].as_str().unwrap()
        ),
        Some(&supervisor),
        json!({"note": "已电话联系本人"}),
        200,
    )
    .await;

    // A lecture request, declined: its contacts have a keeping time from now.
    let liaison = app.user_token("unit-liaison").await;
    let topic = crate::lectures::menu(&app).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let lecture =
        crate::lectures::file_request(&app, &liaison, crate::lectures::request(&topic)).await;
    let lecture = lecture["id"].as_str().unwrap().to_owned();
    app.post_expect(
        &format!("/api/v1/admin/lecture-requests/{lecture}/decision"),
        Some(&admin),
        json!({"decision": "decline", "reason": "时间已满"}),
        200,
    )
    .await;

    let contacts = format!(
        "SELECT id FROM bookings WHERE id = '{booking}' AND name IS NOT NULL AND phone IS NOT NULL AND note IS NOT NULL"
    );
    let waitlist = "SELECT id FROM booking_waitlist".to_owned();
    let comments = "SELECT id FROM survey_answers WHERE comment IS NOT NULL".to_owned();
    let words = "SELECT id FROM risk_alerts WHERE matched <> '' OR note IS NOT NULL".to_owned();
    let reads = "SELECT id FROM audit_log WHERE action = 'read_station_day_sheet'".to_owned();
    let named = format!(
        "SELECT id FROM lecture_requests WHERE id = '{lecture}' AND liaison LIKE '%王芳%' AND head LIKE '%13900000000%'"
    );
    let kept = [&contacts, &waitlist, &comments, &words, &reads, &named];
    let all_there = |sqls: &[&String]| {
        let app = &app;
        let sqls: Vec<String> = sqls.iter().map(|s| s.to_string()).collect();
        async move {
            for sql in sqls {
                assert!(count(app, &sql).await > 0, "kept: {sql}");
            }
        }
    };
    all_there(&kept).await;

    // 89 days after the session: everything is still there.
    clock.advance(chrono::Duration::days(89));
    tokio::time::sleep(Duration::from_millis(400)).await;
    all_there(&kept).await;
    // 91 days: the booking's contacts and the waitlist went; the booking stays.
    clock.advance(chrono::Duration::days(2));
    assert_eq!(
        until_rows(&app, &contacts, 0).await,
        0,
        "booking contacts went"
    );
    assert_eq!(
        until_rows(&app, &waitlist, 0).await,
        0,
        "waitlist rows went"
    );
    let booking_row = format!(
        "SELECT id FROM bookings WHERE id = '{booking}' AND name IS NULL AND phone IS NULL AND note IS NULL AND status = 'attended'"
    );
    assert_eq!(
        count(&app, &booking_row).await,
        1,
        "the booking stays, anonymous"
    );
    all_there(&[&comments, &words, &reads, &named]).await;

    // A year after the comment, the acknowledgement and the decision.
    clock.advance(chrono::Duration::days(366 - 91));
    assert_eq!(until_rows(&app, &comments, 0).await, 0, "comments went");
    assert_eq!(
        until_rows(&app, &words, 0).await,
        0,
        "alert words and notes went"
    );
    assert_eq!(
        until_rows(&app, &named, 0).await,
        0,
        "lecture contacts went"
    );
    assert_eq!(
        count(
            &app,
            "SELECT id FROM survey_answers WHERE content = 5 AND gain = 4"
        )
        .await,
        1,
        "the scores stay"
    );
    assert_eq!(
        count(&app, "SELECT id FROM risk_alerts WHERE level > 0").await,
        1,
        "the alert stays"
    );
    let unit_form = format!(
        "SELECT id FROM lecture_requests WHERE id = '{lecture}' AND unit_name = '湖南省某厅' AND liaison LIKE '%已过保存期限%' AND liaison LIKE '%0731-88888888%' AND liaison NOT LIKE '%13800000000%'"
    );
    assert_eq!(
        count(&app, &unit_form).await,
        1,
        "the unit's form and office line stay"
    );
    all_there(&[&reads]).await;

    // Three years after the reads: audit rows become monthly counts.
    clock.advance(chrono::Duration::days(3 * 365 - 366 + 2));
    assert_eq!(until_rows(&app, &reads, 0).await, 0, "audit rows went");
    let month = at(monday, 0, 6, 0).with_timezone(&CHINA).format("%Y-%m");
    let counted = format!(
        "SELECT month FROM audit_counts WHERE month = '{month}' AND action = 'read_station_day_sheet' \
         AND ((actor_role = 'counselor' AND count = 2) OR (actor_role = 'admin' AND count = 1))"
    );
    assert_eq!(
        count(&app, &counted).await,
        2,
        "the reads counted in their month, by role"
    );
    // A second sweep changes nothing (every instance runs it).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count(&app, &counted).await, 2);
}

/// A counselor promoted to supervisor leaves every station's roster and its day sheet.
#[tokio::test]
async fn a_counselor_who_changes_role_leaves_the_station_rosters() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let duty = app
        .create_staff(&admin, "promoted-counselor", "counselor")
        .await;
    let station = roster_station(&app, &admin, &duty, "值班站").await;
    let today = chrono::Utc::now()
        .with_timezone(&xinli_domain::schedule::CHINA)
        .date_naive();
    let token = app
        .staff_token("promoted-counselor", "promoted-counselor-password")
        .await;
    assert_eq!(day_sheet(&app, &token, &station, today).await.status(), 200);
    let id = duty["id"].as_str().unwrap();
    let res = app
        .put(
            &format!("/api/v1/admin/staff/{id}"),
            Some(&admin),
            json!({"role": "supervisor"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let list = app.get_ok("/api/v1/admin/stations", Some(&admin)).await;
    let view = list
        .as_array()
        .or_else(|| list["items"].as_array())
        .unwrap()
        .iter()
        .find(|s| s["id"] == station.as_str())
        .unwrap()
        .clone();
    assert_eq!(view["counselor_ids"], json!([]), "{view}");
    let token = app
        .staff_token("promoted-counselor", "promoted-counselor-password")
        .await;
    assert_error(
        day_sheet(&app, &token, &station, today).await,
        403,
        "forbidden",
    )
    .await;
}
