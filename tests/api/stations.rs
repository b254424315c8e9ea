//! 站点预约: the seeded stations, sessions from weekly hours, booking rules, the waitlist,
//! cancellation, attendance and the no-show pause, ratings, closures, the day sheet and its
//! audit, figures, export and deletion, and no overbooking under concurrent requests from two
//! instances.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};
use xinli_domain::schedule::CHINA;
use xinli_domain::station::BookingRepository;
use xinli_tests::{TestApp, TestOptions, assert_error, at, next_monday};

fn iso(t: DateTime<Utc>) -> String {
    t.with_timezone(&CHINA).to_rfc3339()
}

fn every_day(start: &str, end: &str) -> Value {
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    json!({"kind": "weekly", "windows": days.iter().map(|d| json!({"day": d, "start": start, "end": end})).collect::<Vec<_>>()})
}

fn station(hours: Value, seats: u64) -> Value {
    json!({
        "name": "测试站点", "unit": "测试单位", "address": "测试路 1 号", "region": "长沙市",
        "audiences": ["worker"], "hours": hours, "slot_minutes": 50, "break_minutes": 10,
        "seats": seats, "booking_window_days": 7, "min_notice_hours": 2, "cancel_hours": 2
    })
}

/// Creates a station (201): its id.
async fn create_station(app: &TestApp, admin: &str, body: Value) -> String {
    app.post_expect("/api/v1/admin/stations", Some(admin), body, 201)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn book(
    app: &TestApp,
    token: &str,
    station: &str,
    start: DateTime<Utc>,
) -> reqwest::Response {
    app.post(
        &format!("/api/v1/stations/{station}/bookings"),
        Some(token),
        json!({"start_at": iso(start), "name": "林女士", "phone": "13800000000"}),
    )
    .await
}

async fn booked(app: &TestApp, token: &str, station: &str, start: DateTime<Utc>) -> Value {
    let res = book(app, token, station, start).await;
    assert_eq!(res.status(), 201, "booking at {start}");
    res.json().await.unwrap()
}

async fn cancel(app: &TestApp, token: &str, booking: &Value) -> reqwest::Response {
    let id = booking["id"].as_str().expect("booking id");
    app.post(
        &format!("/api/v1/bookings/{id}/cancel"),
        Some(token),
        json!({}),
    )
    .await
}

/// Joins the waitlist of a full session (201): the entry.
async fn waitlisted(app: &TestApp, token: &str, station: &str, start: DateTime<Utc>) -> Value {
    app.post_expect(
        &format!("/api/v1/stations/{station}/waitlist"),
        Some(token),
        json!({"start_at": iso(start)}),
        201,
    )
    .await
}

/// Marks a booking attended or not (200): the booking.
async fn marked(app: &TestApp, token: &str, booking: &str, attended: bool) -> Value {
    app.post_expect(
        &format!("/api/v1/bookings/{booking}/attendance"),
        Some(token),
        json!({"attended": attended}),
        200,
    )
    .await
}

/// A station's sessions (200); `query` starts with `?` or is empty.
async fn slots(app: &TestApp, station: &str, query: &str) -> Value {
    app.get_ok(&format!("/api/v1/stations/{station}/slots{query}"), None)
        .await
}

/// The user's bookings (200); `query` starts with `?` or is empty.
async fn my_bookings(app: &TestApp, token: &str, query: &str) -> Value {
    app.get_ok(&format!("/api/v1/me/bookings{query}"), Some(token))
        .await
}

fn manual(monday: DateTime<Utc>) -> TestOptions {
    TestOptions {
        clock_at: Some(monday),
        ..TestOptions::default()
    }
}

#[tokio::test]
async fn dev_mode_seeds_the_stations_of_the_sources() {
    let app = TestApp::spawn().await;
    let list = app.get_ok("/api/v1/stations?page_size=100", None).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(list["total"], 9);
    let find = |name: &str| {
        items
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name} listed"))
            .clone()
    };
    let brain = find("湖南省脑科医院(湖南省第二人民医院)");
    assert_eq!(
        brain["address"],
        "长沙市芙蓉中路三段 427 号 湖南省脑科医院(湖南省第二人民医院) 门诊楼 222 室"
    );
    assert_eq!(
        brain["hours"]["windows"],
        json!([
            {"day": "mon", "start": "09:00", "end": "12:00"},
            {"day": "wed", "start": "14:30", "end": "17:30"},
            {"day": "thu", "start": "14:30", "end": "17:30"}
        ])
    );
    assert_eq!(brain["bookable"], true);
    assert_eq!(brain["booking_window_days"], 7);
    let school = find("长沙市一中");
    assert_eq!(school["bookable"], false);
    assert_eq!(school["hours"]["kind"], "unknown");
    // A place to walk into, not a line to call: its own words for unknown hours.
    assert_eq!(school["status_text"], "开放时间待定，前往前请先联系站点");
    let id = school["id"].as_str().unwrap();
    assert_eq!(slots(&app, id, "").await, json!([]));
    let token = app.user_token("seed-user").await;
    let res = book(&app, &token, id, Utc::now() + Duration::days(2)).await;
    assert_error(res, 409, "station_not_bookable").await;
    let waigang = find("外冈镇心理健康服务驿站");
    assert_eq!(waigang["address"], Value::Null);
    assert_eq!(waigang["bookable"], false);
    // Filters.
    let jiading = app
        .get_ok("/api/v1/stations?region=上海市嘉定区", None)
        .await;
    assert_eq!(jiading["total"], 2);
    // A weekly station offers sessions a week ahead.
    let id = brain["id"].as_str().unwrap();
    let slots = slots(&app, id, "").await;
    let slots = slots.as_array().unwrap();
    assert!(slots.len() >= 6, "three half-days a week: {slots:?}");
    assert!(slots.iter().all(|s| s["seats"] == 1 && s["remaining"] == 1));
}

#[tokio::test]
async fn sessions_follow_hours_notice_window_and_closures() {
    let monday = next_monday();
    let app = TestApp::spawn_with(manual(at(monday, 0, 8, 0))).await;
    let admin = app.admin_token().await;
    let hours = json!({"kind": "weekly", "windows": [
        {"day": "mon", "start": "09:00", "end": "12:00"}, {"day": "wed", "start": "14:30", "end": "17:30"}
    ]});
    let id = create_station(&app, &admin, station(hours, 2)).await;
    let slots = slots(&app, &id, "").await;
    let starts: Vec<&str> = slots
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start_at"].as_str().unwrap())
        .collect();
    // 09:00 today is inside the 2 h notice; next Monday is the last day of the window.
    let expected: Vec<String> = [
        at(monday, 0, 10, 0),
        at(monday, 0, 11, 0),
        at(monday, 2, 14, 30),
        at(monday, 2, 15, 30),
        at(monday, 2, 16, 30),
        at(monday, 7, 9, 0),
        at(monday, 7, 10, 0),
        at(monday, 7, 11, 0),
    ]
    .into_iter()
    .map(iso)
    .collect();
    assert_eq!(starts, expected);
    assert_eq!(slots[0]["end_at"], iso(at(monday, 0, 10, 50)));
    assert_eq!(slots[0]["remaining"], 2);
    // A booking takes one seat.
    let token = app.user_token("slots-user").await;
    booked(&app, &token, &id, at(monday, 2, 14, 30)).await;
    let slots = self::slots(&app, &id, "").await;
    assert_eq!(slots[2]["remaining"], 1);
    assert_eq!(slots[2]["bookable"], true);
    // A closure takes the day out and cancels its bookings.
    let wednesday = (monday + Duration::days(2))
        .with_timezone(&CHINA)
        .date_naive();
    let closure = app
        .post_expect(
            &format!("/api/v1/admin/stations/{id}/closures"),
            Some(&admin),
            json!({"date": wednesday, "reason": "院内培训"}),
            201,
        )
        .await;
    assert_eq!(closure["cancelled_bookings"], 1);
    let slots = self::slots(&app, &id, "").await;
    assert_eq!(slots.as_array().unwrap().len(), 5);
    let mine = my_bookings(&app, &token, "").await;
    assert_eq!(mine["items"][0]["status"], "cancelled");
    assert_eq!(mine["items"][0]["cancel_reason"], "closure");
    let res = book(&app, &token, &id, at(monday, 2, 15, 30)).await;
    let body = assert_error(res, 409, "station_closed").await;
    assert!(body["message"].as_str().unwrap().contains("院内培训"));
    // Refusals name themselves.
    let res = book(&app, &token, &id, at(monday, 0, 10, 5)).await;
    assert_error(res, 422, "slot_not_found").await;
    let res = book(&app, &token, &id, at(monday, 0, 9, 0)).await;
    assert_error(res, 422, "outside_booking_window").await;
    let res = book(&app, &token, &id, at(monday, 14, 9, 0)).await;
    assert_error(res, 422, "outside_booking_window").await;
    let res = app
        .post(
            &format!("/api/v1/admin/stations/{id}/closures"),
            Some(&admin),
            json!({"date": "2020-01-01", "reason": "过去"}),
        )
        .await;
    assert_error(res, 422, "validation_failed").await;
    let res = app
        .get(
            &format!("/api/v1/stations/{id}/slots?from=2026-01-10&to=2026-01-01"),
            None,
        )
        .await;
    assert_error(res, 422, "validation_failed").await;
    // Removing the closure opens the day again.
    let res = app
        .delete(
            &format!("/api/v1/admin/stations/{id}/closures/{wednesday}"),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 204);
    let slots = self::slots(&app, &id, "").await;
    assert_eq!(slots.as_array().unwrap().len(), 8);
    // The station's creation and each closure change are in the audit trail (#30).
    let admin = app.admin_token().await;
    for (action, n) in [("change_station", 1), ("change_station_closure", 2)] {
        let audit = app
            .get_ok(
                &format!("/api/v1/admin/audit?action={action}"),
                Some(&admin),
            )
            .await;
        assert_eq!(audit["total"], n, "{action}: {audit}");
        assert!(audit["items"][0]["target"].as_str().unwrap().contains(&id));
    }
}

#[tokio::test]
async fn limits_waitlist_promotion_cancel_deadline_and_reminders() {
    let monday = next_monday();
    let app = TestApp::spawn_with(manual(at(monday, 0, 6, 0))).await;
    let admin = app.admin_token().await;
    let id = create_station(&app, &admin, station(every_day("09:00", "12:00"), 1)).await;
    let a = app.user_token("booker-a").await;
    let b = app.user_token("booker-b").await;
    let c = app.user_token("booker-c").await;
    let first = booked(&app, &a, &id, at(monday, 1, 9, 0)).await;
    assert_eq!(first["status"], "booked");
    assert_eq!(first["cancel_until"], iso(at(monday, 1, 7, 0)));
    // One a day.
    let res = book(&app, &a, &id, at(monday, 1, 10, 0)).await;
    assert_error(res, 409, "booking_limit").await;
    // Full: the others may wait.
    let res = book(&app, &b, &id, at(monday, 1, 9, 0)).await;
    assert_error(res, 409, "slot_full").await;
    let wait = |token: String| {
        let app = &app;
        let id = id.clone();
        async move {
            app.post(
                &format!("/api/v1/stations/{id}/waitlist"),
                Some(&token),
                json!({"start_at": iso(at(monday, 1, 9, 0))}),
            )
            .await
        }
    };
    let wb = waitlisted(&app, &b, &id, at(monday, 1, 9, 0)).await;
    assert_eq!(
        (wb["status"].as_str(), wb["position"].as_u64()),
        (Some("waiting"), Some(1))
    );
    let wc = waitlisted(&app, &c, &id, at(monday, 1, 9, 0)).await;
    assert_eq!(wc["position"], 2);
    assert_error(wait(b.clone()).await, 409, "already_waiting").await;
    assert_error(wait(a.clone()).await, 409, "already_waiting").await;
    let res = app
        .post(
            &format!("/api/v1/stations/{id}/waitlist"),
            Some(&b),
            json!({"start_at": iso(at(monday, 1, 10, 0))}),
        )
        .await;
    assert_error(res, 409, "slot_available").await;
    // Reminders: confirmation now, reminder 24 h before.
    let store = xinli_infra::stations::BookingStore::new(
        xinli_infra::db::connect(&app.config.database_url)
            .await
            .unwrap(),
    );
    let me_a = app.get_ok("/api/v1/me", Some(&a)).await;
    let a_id = me_a["id"].as_str().unwrap().parse().unwrap();
    let events: Vec<(String, DateTime<Utc>)> = store
        .outbox_of_user(a_id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.event, e.due_at))
        .collect();
    assert_eq!(
        events,
        [
            ("booking_created".to_owned(), at(monday, 0, 6, 0)),
            ("booking_reminder".to_owned(), at(monday, 0, 9, 0))
        ]
    );
    // A cancels: B gets the seat in the same transaction, C moves up, A's reminder is gone.
    let cancelled = app
        .post_expect(
            &format!("/api/v1/bookings/{}/cancel", first["id"].as_str().unwrap()),
            Some(&a),
            json!({}),
            200,
        )
        .await;
    assert_eq!(cancelled["status"], "cancelled");
    let events = store.outbox_of_user(a_id).await.unwrap();
    assert!(
        events.iter().all(|e| e.event != "booking_reminder"),
        "{events:?}"
    );
    let mine_b = my_bookings(&app, &b, "").await;
    assert_eq!(mine_b["items"][0]["status"], "booked");
    assert_eq!(mine_b["items"][0]["promoted"], true);
    let waits_b = app.get_ok("/api/v1/me/waitlist", Some(&b)).await;
    assert_eq!(waits_b["items"][0]["status"], "promoted");
    assert_eq!(waits_b["items"][0]["booking_id"], mine_b["items"][0]["id"]);
    let waits_c = app.get_ok("/api/v1/me/waitlist", Some(&c)).await;
    assert_eq!(waits_c["total"], 1);
    assert_eq!(waits_c["items"][0]["position"], 1);
    // A cancelled booking cannot be cancelled again.
    let res = cancel(&app, &a, &first).await;
    assert_error(res, 409, "booking_not_active").await;
    // Someone else's booking is not found.
    let res = app
        .post(
            &format!(
                "/api/v1/bookings/{}/cancel",
                mine_b["items"][0]["id"].as_str().unwrap()
            ),
            Some(&a),
            json!({}),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    // C leaves the line.
    let res = app
        .delete(
            &format!("/api/v1/waitlist/{}", wc["id"].as_str().unwrap()),
            Some(&c),
        )
        .await;
    assert_eq!(res.status(), 204);
    // At most 3 upcoming.
    for day in 2..=4 {
        booked(&app, &a, &id, at(monday, day, 9, 0)).await;
    }
    let res = book(&app, &a, &id, at(monday, 5, 9, 0)).await;
    let body = assert_error(res, 409, "booking_limit").await;
    assert!(body["message"].as_str().unwrap().contains("未到期"));
    // At most 3 future sessions waited for at once (#30).
    booked(&app, &b, &id, at(monday, 5, 9, 0)).await;
    for day in 2..=4 {
        waitlisted(&app, &c, &id, at(monday, day, 9, 0)).await;
    }
    let res = app
        .post(
            &format!("/api/v1/stations/{id}/waitlist"),
            Some(&c),
            json!({"start_at": iso(at(monday, 5, 9, 0))}),
        )
        .await;
    let body = assert_error(res, 409, "waitlist_limit").await;
    assert!(body["message"].as_str().unwrap().contains('3'));
    let page = app
        .get_ok("/api/v1/me/waitlist?page_size=2", Some(&c))
        .await;
    assert_eq!(page["total"], 4, "three waiting, one left");
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert!(page["items"][0]["position"].is_u64());
    // Cancel deadline: 2 h before.
    app.clock.as_ref().unwrap().set(at(monday, 2, 7, 1));
    let a = app.user_token("booker-a").await;
    let mine = my_bookings(&app, &a, "?page_size=100").await;
    let wed = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["start_at"] == iso(at(monday, 2, 9, 0)))
        .unwrap();
    let res = cancel(&app, &a, wed).await;
    assert_error(res, 409, "too_late_to_cancel").await;
}

#[tokio::test]
async fn attendance_ratings_no_show_pause_and_the_audited_day_sheet() {
    let monday = next_monday();
    let app = TestApp::spawn_with(manual(at(monday, 0, 6, 0))).await;
    let admin = app.admin_token().await;
    let duty = app
        .create_staff(&admin, "duty-counselor", "counselor")
        .await;
    app.create_staff(&admin, "other-counselor", "counselor")
        .await;
    let mut body = station(every_day("09:00", "12:00"), 1);
    body["counselor_ids"] = json!([duty["id"]]);
    let id = create_station(&app, &admin, body).await;
    let u = app.user_token("attender").await;
    let mut ids = vec![];
    for day in 0..=2 {
        ids.push(
            booked(&app, &u, &id, at(monday, day, 9, 0)).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let login = |name: &'static str| {
        let app = &app;
        async move { app.staff_token(name, &format!("{name}-password")).await }
    };
    let counselor = login("duty-counselor").await;
    let other = login("other-counselor").await;
    let mark = |token: String, booking: String, attended: bool| {
        let app = &app;
        async move {
            app.post(
                &format!("/api/v1/bookings/{booking}/attendance"),
                Some(&token),
                json!({"attended": attended}),
            )
            .await
        }
    };
    assert_error(
        mark(counselor.clone(), ids[0].clone(), true).await,
        409,
        "attendance_too_early",
    )
    .await;
    assert_error(
        mark(other.clone(), ids[0].clone(), true).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        mark(u.clone(), ids[0].clone(), true).await,
        403,
        "forbidden",
    )
    .await;
    // The day sheet: on-duty counselor and admins; each read audited.
    let date = monday.with_timezone(&CHINA).date_naive();
    let sheet = app
        .get_ok(
            &format!("/api/v1/staff/stations/{id}/day-sheet?date={date}"),
            Some(&counselor),
        )
        .await;
    assert_eq!(sheet["sessions"].as_array().unwrap().len(), 3);
    assert_eq!(sheet["sessions"][0]["bookings"][0]["name"], "林女士");
    assert_eq!(sheet["sessions"][0]["bookings"][0]["phone"], "13800000000");
    let res = app
        .get(
            &format!("/api/v1/staff/stations/{id}/day-sheet?date={date}"),
            Some(&other),
        )
        .await;
    assert_error(res, 403, "forbidden").await;
    let audit = app
        .get_ok(
            "/api/v1/admin/audit?action=read_station_day_sheet",
            Some(&admin),
        )
        .await;
    assert_eq!(audit["total"], 1);
    // After the sessions: attended (then rated once), and two no-shows.
    app.clock.as_ref().unwrap().set(at(monday, 3, 8, 0));
    let counselor = login("duty-counselor").await;
    let u = app.user_token("attender").await;
    let attended = marked(&app, &counselor, &ids[0], true).await;
    assert_eq!(attended["status"], "attended");
    let rate = |score: i64| {
        let app = &app;
        let (u, b) = (u.clone(), ids[0].clone());
        async move {
            app.post(
                &format!("/api/v1/bookings/{b}/rating"),
                Some(&u),
                json!({"score": score, "comment": "很有帮助"}),
            )
            .await
        }
    };
    assert_error(rate(6).await, 422, "validation_failed").await;
    let rated = app
        .post_expect(
            &format!("/api/v1/bookings/{}/rating", ids[0]),
            Some(&u),
            json!({"score": 5, "comment": "很有帮助"}),
            200,
        )
        .await;
    assert_eq!(rated["rating"], 5);
    assert_error(rate(4).await, 409, "already_rated").await;
    let survey = |booking: String, content: i64| {
        let (app, u) = (&app, u.clone());
        async move {
            app.post(
                &format!("/api/v1/bookings/{booking}/survey"),
                Some(&u),
                json!({"content": content, "gain": 4}),
            )
            .await
        }
    };
    assert_error(survey(ids[1].clone(), 5).await, 409, "survey_not_open").await;
    assert_eq!(survey(ids[0].clone(), 5).await.status(), 204);
    assert_error(survey(ids[0].clone(), 5).await, 409, "already_rated").await;
    let res = app
        .post(
            &format!("/api/v1/bookings/{}/rating", ids[1]),
            Some(&u),
            json!({"score": 3}),
        )
        .await;
    assert_error(res, 409, "not_attended").await;
    for b in &ids[1..] {
        assert_eq!(
            marked(&app, &counselor, b, false).await["status"],
            "no_show"
        );
    }
    // Every mark is in the audit trail, by whom and on which booking (#30).
    let marks = app
        .get_ok(
            "/api/v1/admin/audit?action=mark_attendance",
            Some(&admin_token_now(&app).await),
        )
        .await;
    assert_eq!(marks["total"], 3, "{marks}");
    assert_eq!(marks["items"][0]["actor_role"], "counselor");
    // Two no-shows: still allowed. A correction turns the attended one into a third: paused.
    booked(&app, &u, &id, at(monday, 4, 9, 0)).await;
    marked(&app, &admin_token_now(&app).await, &ids[0], false).await;
    let res = book(&app, &u, &id, at(monday, 5, 9, 0)).await;
    let body = assert_error(res, 409, "booking_paused").await;
    assert_eq!(body["until"], iso(at(monday, 2, 9, 0) + Duration::days(30)));
    // Figures per station and month count them; no person in them.
    let stats = app
        .get_ok(
            &format!(
                "/api/v1/admin/station-stats?station_id={id}&from={date}&to={}",
                date + Duration::days(6)
            ),
            Some(&admin_token_now(&app).await),
        )
        .await;
    // One person's three no-shows are a count about fewer than 5 people: hidden (#30).
    let rows = stats.as_array().unwrap();
    assert!(!rows.is_empty());
    for m in rows {
        assert!(m["no_shows"].is_null() && m["bookings"].is_null(), "{m}");
        assert!(m["average_rating"].is_null(), "{m}");
    }
    assert!(!stats.to_string().contains("林女士"));
}

async fn admin_token_now(app: &TestApp) -> String {
    app.admin_token().await
}

#[tokio::test]
async fn admin_validation_roles_export_and_deletion() {
    let monday = next_monday();
    let app = TestApp::spawn_with(manual(at(monday, 0, 6, 0))).await;
    let admin = app.admin_token().await;
    let res = app
        .post(
            "/api/v1/admin/stations",
            Some(&admin),
            json!({"name": "", "unit": "单位", "region": "长沙市", "audiences": [], "hours": {"kind": "always"},
                   "slot_minutes": 5, "break_minutes": 10, "seats": 0, "counselor_ids": ["nobody"]}),
        )
        .await;
    let body = assert_error(res, 422, "validation_failed").await;
    let fields: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    for f in [
        "name",
        "audiences",
        "hours.kind",
        "slot_minutes",
        "seats",
        "counselor_ids[0]",
    ] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let user = app.user_token("station-user").await;
    let res = app.get("/api/v1/admin/stations", Some(&user)).await;
    assert_error(res, 403, "forbidden").await;
    let res = app
        .post(
            "/api/v1/admin/stations",
            None,
            station(every_day("09:00", "12:00"), 1),
        )
        .await;
    assert_error(res, 401, "unauthenticated").await;
    // What an admin GETs can be PUT back.
    let id = create_station(&app, &admin, station(every_day("09:00", "12:00"), 1)).await;
    let all = app.get_ok("/api/v1/admin/stations", Some(&admin)).await;
    let mut view = all
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id.as_str())
        .unwrap()
        .clone();
    view["seats"] = json!(2);
    let updated = app
        .put_ok(&format!("/api/v1/admin/stations/{id}"), Some(&admin), view)
        .await;
    assert_eq!(updated["seats"], 2);
    // Export holds the booking; deleting the account frees the seat for the person waiting.
    let d = app.user_token("deleter").await;
    let e = app.user_token("waiter").await;
    let f = app.user_token("third").await;
    booked(&app, &d, &id, at(monday, 1, 9, 0)).await;
    booked(&app, &f, &id, at(monday, 1, 9, 0)).await;
    waitlisted(&app, &e, &id, at(monday, 1, 9, 0)).await;
    let export = app.get_ok("/api/v1/me/export", Some(&d)).await;
    assert_eq!(export["bookings"][0]["phone"], "13800000000");
    let export_e = app.get_ok("/api/v1/me/export", Some(&e)).await;
    assert_eq!(export_e["station_waitlist"][0]["status"], "waiting");
    assert_eq!(app.delete("/api/v1/me", Some(&d)).await.status(), 204);
    let mine_e = my_bookings(&app, &e, "").await;
    assert_eq!(mine_e["items"][0]["status"], "booked");
    assert_eq!(mine_e["items"][0]["promoted"], true);
    // The station's sheet no longer shows the deleted person.
    let date = (monday + Duration::days(1))
        .with_timezone(&CHINA)
        .date_naive();
    let sheet = app
        .get_ok(
            &format!("/api/v1/staff/stations/{id}/day-sheet?date={date}"),
            Some(&admin),
        )
        .await;
    let names: Vec<&Value> = sheet["sessions"][0]["bookings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| &b["name"])
        .collect();
    assert_eq!(names.len(), 2, "{sheet}");
    // Deleting the station cancels its future bookings.
    assert_eq!(
        app.delete(&format!("/api/v1/admin/stations/{id}"), Some(&admin))
            .await
            .status(),
        204
    );
    let mine_e = my_bookings(&app, &e, "").await;
    assert_eq!(mine_e["items"][0]["status"], "cancelled");
    let res = app.get(&format!("/api/v1/stations/{id}"), None).await;
    assert_error(res, 404, "not_found").await;
}

/// Thirty people ask for the one seat of a session at once, through two instances: exactly
/// one booking, the others `slot_full`. Twenty sessions in a row.
#[tokio::test]
async fn the_last_seat_goes_to_exactly_one_of_thirty_across_two_instances() {
    let monday = next_monday();
    let app = TestApp::spawn_with(TestOptions {
        clock_at: Some(at(monday, 0, 6, 0)),
        configure: |c| {
            c.booking.per_day = 100;
            c.booking.max_upcoming = 100;
            c.limits.logins_per_ip =
                xinli_domain::throttle::Limit::new(10_000, std::time::Duration::from_secs(60));
        },
        ..TestOptions::default()
    })
    .await;
    let sibling = app.sibling().await;
    let admin = app.admin_token().await;
    let mut body = station(every_day("08:00", "20:00"), 1);
    body["slot_minutes"] = json!(30);
    body["break_minutes"] = json!(0);
    let id = create_station(&app, &admin, body).await;
    let mut tokens = vec![];
    for i in 0..30 {
        tokens.push(app.user_token(&format!("racer-{i}")).await);
    }
    for round in 0..20 {
        let start = at(monday, 1, 8, 0) + Duration::minutes(30 * round);
        let requests = tokens.iter().enumerate().map(|(i, t)| {
            let target = if i % 2 == 0 { &app } else { &sibling };
            book(target, t, &id, start)
        });
        let answers = futures::future::join_all(requests).await;
        let mut created = 0;
        for res in answers {
            match res.status().as_u16() {
                201 => created += 1,
                409 => assert_eq!(res.json::<Value>().await.unwrap()["code"], "slot_full"),
                other => panic!("round {round}: unexpected {other}"),
            }
        }
        assert_eq!(created, 1, "round {round}");
        let day = start.with_timezone(&CHINA).date_naive();
        let slots = slots(&app, &id, &format!("?from={day}&to={day}")).await;
        let slot = slots
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["start_at"] == iso(start))
            .unwrap();
        assert_eq!(slot["remaining"], 0);
    }
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRfake-station-code";

async fn station_ids(app: &TestApp) -> Vec<String> {
    let list = app.get_ok("/api/v1/stations?page_size=100", None).await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

fn token_answer(token: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"access_token": token, "expires_in": 7200}))
}

fn code_for(token: &str) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/wxa/getwxacodeunlimit"))
        .and(query_param("access_token", token))
}

fn stable_token(force: bool) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/cgi-bin/stable_token"))
        .and(body_partial_json(json!({
            "grant_type": "client_credential", "appid": "wx-test-appid",
            "secret": "wx-test-secret", "force_refresh": force
        })))
}

/// Redis answering slower than the 250 ms command timeout (as it does now and then while the
/// whole suite runs on two cores) makes an instance fall back to its own lock, and so fetch a
/// token of its own: harmless in production (a non-forced stable_token returns the same
/// token), but not what this test is about. (The other cause of this test's rare failures was
/// in the holder: a task that looked before the token was stored and locked after the lock
/// was released fetched again; it now looks again under the lock.)
fn patient_redis(c: &mut xinli_api::Config) {
    c.redis_timeouts.command = std::time::Duration::from_secs(5);
}

/// Five codes asked for at once, then again: one token for all of them (one holder, a lock
/// around the refresh), each code fetched once and then kept.
#[tokio::test]
async fn station_codes_come_from_wechat_with_one_shared_access_token() {
    let app = TestApp::spawn_with(TestOptions {
        configure: patient_redis,
        ..TestOptions::default()
    })
    .await;
    let shared = xinli_tests::test_redis_url().is_some();
    stable_token(false)
        .respond_with(token_answer("tok-1"))
        .expect(1)
        .mount(&app.wechat)
        .await;
    code_for("tok-1")
        .and(body_partial_json(
            json!({"page": "pages/station/index", "check_path": false}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "image/png")
                .set_body_bytes(PNG),
        )
        .expect(if shared { 6 } else { 5 })
        .mount(&app.wechat)
        .await;
    let admin = app.admin_token().await;
    let ids = station_ids(&app).await;
    let fetch = |id: String| {
        let (app, admin) = (&app, admin.clone());
        async move {
            app.get(&format!("/api/v1/admin/stations/{id}/qrcode"), Some(&admin))
                .await
        }
    };
    for round in 0..2 {
        let answers = futures::future::join_all(ids.iter().take(5).cloned().map(fetch)).await;
        for res in answers {
            assert_eq!(res.status(), 200, "round {round}");
            assert_eq!(res.headers()["content-type"], "image/png");
            assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
        }
    }
    // A second instance sharing Redis uses the same token: still one stable_token call.
    if shared {
        let sibling = app.sibling().await;
        let res = sibling
            .get(
                &format!("/api/v1/admin/stations/{}/qrcode", ids[5]),
                Some(&admin),
            )
            .await;
        assert_eq!(res.status(), 200);
    }
    let user = app.user_token("code-user").await;
    let res = app
        .get(
            &format!("/api/v1/admin/stations/{}/qrcode", ids[0]),
            Some(&user),
        )
        .await;
    assert_error(res, 403, "forbidden").await;
}

/// WeChat says the token is invalid (40001): it is replaced once with `force_refresh` and the
/// call repeated. Other errcodes become clear errors.
#[tokio::test]
async fn a_refused_token_is_replaced_once_and_errcodes_are_mapped() {
    let app = TestApp::spawn().await;
    stable_token(false)
        .respond_with(token_answer("tok-old"))
        .expect(1)
        .mount(&app.wechat)
        .await;
    stable_token(true)
        .respond_with(token_answer("tok-new"))
        .expect(1)
        .mount(&app.wechat)
        .await;
    code_for("tok-old")
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"errcode": 40001, "errmsg": "invalid credential"})),
        )
        .expect(1)
        .mount(&app.wechat)
        .await;
    let ids = station_ids(&app).await;
    code_for("tok-new")
        .and(body_partial_json(json!({"scene": ids[0].replace('-', "")})))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "image/png")
                .set_body_bytes(PNG),
        )
        .expect(1)
        .mount(&app.wechat)
        .await;
    code_for("tok-new")
        .and(body_partial_json(json!({"scene": ids[1].replace('-', "")})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"errcode": -1, "errmsg": "system busy"})),
        )
        .mount(&app.wechat)
        .await;
    code_for("tok-new")
        .and(body_partial_json(json!({"scene": ids[2].replace('-', "")})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"errcode": 41030, "errmsg": "invalid page"})),
        )
        .mount(&app.wechat)
        .await;
    let admin = app.admin_token().await;
    let get = |id: &str| {
        let (app, admin, path) = (
            &app,
            admin.clone(),
            format!("/api/v1/admin/stations/{id}/qrcode"),
        );
        async move { app.get(&path, Some(&admin)).await }
    };
    let res = get(&ids[0]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
    assert_error(get(&ids[1]).await, 503, "wechat_busy").await;
    let body = assert_error(get(&ids[2]).await, 502, "wechat_failed").await;
    assert!(body["message"].as_str().unwrap().contains("小程序码"));
    assert_error(get(&uuid::Uuid::nil().to_string()).await, 404, "not_found").await;
    // Without WeChat credentials: a clear 503.
    let bare = TestApp::spawn_with(TestOptions {
        wechat_configured: false,
        ..TestOptions::default()
    })
    .await;
    let admin = bare.admin_token().await;
    let id = station_ids(&bare).await.remove(0);
    let res = bare
        .get(&format!("/api/v1/admin/stations/{id}/qrcode"), Some(&admin))
        .await;
    assert_error(res, 503, "wechat_not_configured").await;
}
