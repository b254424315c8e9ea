//! 讲座点单: the seeded menu, a unit's request with the form's checks, the organiser's review
//! through the transition table, the liaison's answers, the decision messages, export and
//! deletion.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use xinli_domain::schedule::CHINA;
use xinli_tests::{TestApp, assert_error};

pub(crate) fn request(topic: &str) -> Value {
    let today = Utc::now().with_timezone(&CHINA).date_naive();
    json!({
        "unit_name": "湖南省某厅", "unit_address": "长沙市某路 1 号", "region": "长沙市",
        "preferred_dates": [today + Duration::days(20), today + Duration::days(22)],
        "topic_id": topic, "content_note": "近期加班多", "staff_total": 120, "attendees": 80,
        "joint_ok": true,
        "liaison": {"name": "王芳", "title": "办公室主任", "office_phone": "0731-88888888", "mobile": "13800000000"},
        "head": {"name": "李强", "title": "处长", "mobile": "13900000000"},
        "screening": true, "screening_scales": ["phq9"]
    })
}

/// The menu of topics (200).
pub(crate) async fn menu(app: &TestApp) -> Vec<Value> {
    app.get_ok("/api/v1/lecture-topics", None)
        .await
        .as_array()
        .unwrap()
        .clone()
}

/// A unit's liaison files a request (201): its view.
pub(crate) async fn file_request(app: &TestApp, liaison: &str, body: Value) -> Value {
    app.post_expect("/api/v1/lecture-requests", Some(liaison), body, 201)
        .await
}

/// The organiser decides on a request (200): its view.
async fn decide(app: &TestApp, admin: &str, id: &str, decision: Value) -> Value {
    app.post_expect(
        &format!("/api/v1/admin/lecture-requests/{id}/decision"),
        Some(admin),
        decision,
        200,
    )
    .await
}

/// The organiser marks the lecture held (200): the request's view.
async fn held(app: &TestApp, admin: &str, id: &str) -> Value {
    app.post_expect(
        &format!("/api/v1/admin/lecture-requests/{id}/done"),
        Some(admin),
        json!({}),
        200,
    )
    .await
}

/// Moves the test clock to a minute after the lecture's scheduled time: it may be marked held.
/// Tokens issued before have expired by then.
async fn after_the_lecture(app: &TestApp, admin: &str, id: &str) {
    let view = app
        .get_ok(&format!("/api/v1/lecture-requests/{id}"), Some(admin))
        .await;
    let scheduled: chrono::DateTime<chrono::FixedOffset> =
        serde_json::from_value(view["scheduled_at"].clone()).unwrap();
    app.clock
        .as_ref()
        .unwrap()
        .set(scheduled.with_timezone(&Utc) + Duration::minutes(1));
}

/// The organiser's figures per month and unit over the next 40 days (200).
async fn lecture_stats(app: &TestApp, admin: &str) -> Value {
    let today = Utc::now().with_timezone(&CHINA).date_naive();
    app.get_ok(
        &format!(
            "/api/v1/admin/lecture-stats?from={today}&to={}",
            today + Duration::days(40)
        ),
        Some(admin),
    )
    .await
}

/// A lecture's survey figures (200).
async fn survey(app: &TestApp, token: &str, id: &str) -> Value {
    app.get_ok(
        &format!("/api/v1/lecture-requests/{id}/survey"),
        Some(token),
    )
    .await
}

/// The unit's screening report (200).
async fn screening_report(app: &TestApp, token: &str, id: &str) -> Value {
    app.get_ok(
        &format!("/api/v1/lecture-requests/{id}/screening-report"),
        Some(token),
    )
    .await
}

#[tokio::test]
async fn the_menu_is_seed_002_appendix_4_and_seed_000_as_far_as_it_goes() {
    let app = TestApp::spawn().await;
    let topics = menu(&app).await;
    assert_eq!(topics.len(), 22);
    let hunan: Vec<&Value> = topics
        .iter()
        .filter(|t| t["series"] == "省直单位心理健康讲座主题")
        .collect();
    assert_eq!(hunan.len(), 19);
    assert_eq!(hunan[2]["number"], 3);
    assert_eq!(hunan[2]["title"], "压力与情绪管理");
    assert_eq!(
        hunan[2]["points"],
        "认识压力，探寻压力源，情绪管理理论和方法。"
    );
    assert_eq!(hunan[2]["hours"], 2.0);
    assert_eq!(hunan[16]["hours"], 1.5);
    assert_eq!(hunan[18]["title"], "和谐亲子关系的建立");
    let light: Vec<&str> = topics
        .iter()
        .filter(|t| t["series"] == "轻生活·趣职场")
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(light.len(), 3);
    assert!(light.contains(&"OH 卡投射测验"));
    assert!(
        topics
            .iter()
            .filter(|t| t["series"] == "轻生活·趣职场")
            .all(|t| t["hours"].is_null())
    );
    // Admins add series and topics.
    let admin = app.admin_token().await;
    let series = app
        .post_expect(
            "/api/v1/admin/lecture-series",
            Some(&admin),
            json!({"name": "社区讲堂"}),
            201,
        )
        .await;
    let res = app
        .post(
            "/api/v1/admin/lecture-topics",
            Some(&admin),
            json!({"series_id": series["id"], "title": "", "minutes": 5}),
        )
        .await;
    let body = assert_error(res, 422, "validation_failed").await;
    assert_eq!(body["details"].as_array().unwrap().len(), 2);
    app.post_expect(
        "/api/v1/admin/lecture-topics",
        Some(&admin),
        json!({"series_id": series["id"], "number": 1, "title": "睡个好觉", "minutes": 90}),
        201,
    )
    .await;
    assert_eq!(menu(&app).await.len(), 23);
    let user = app.user_token("menu-user").await;
    let res = app
        .post(
            "/api/v1/admin/lecture-series",
            Some(&user),
            json!({"name": "x"}),
        )
        .await;
    assert_error(res, 403, "forbidden").await;
}

#[tokio::test]
async fn a_request_goes_through_review_and_the_liaison_is_told() {
    let app = TestApp::spawn_with(xinli_tests::TestOptions {
        clock_at: Some(Utc::now()),
        ..xinli_tests::TestOptions::default()
    })
    .await;
    let clock = app.clock.clone().unwrap();
    let topic = menu(&app).await[2]["id"].as_str().unwrap().to_owned();
    let liaison = app.user_token("liaison").await;
    let stranger = app.user_token("stranger").await;
    let admin = app.admin_token().await;
    // The form's checks, every field at once.
    let mut bad = request(&topic);
    bad["attendees"] = json!(121);
    bad["liaison"]["mobile"] = json!("abc");
    bad["preferred_dates"] = json!(["2020-01-01"]);
    bad["screening_scales"] = json!(["nope"]);
    let res = app
        .post("/api/v1/lecture-requests", Some(&liaison), bad)
        .await;
    let body = assert_error(res, 422, "validation_failed").await;
    let fields: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "preferred_dates[0]",
            "attendees",
            "liaison.mobile",
            "screening_scales[0]"
        ]
    );
    let mut unknown = request(&topic);
    unknown["topic_id"] = json!(uuid::Uuid::nil().to_string());
    let res = app
        .post("/api/v1/lecture-requests", Some(&liaison), unknown)
        .await;
    assert_error(res, 422, "validation_failed").await;
    let created = file_request(&app, &liaison, request(&topic)).await;
    assert_eq!(created["status"], "submitted");
    assert_eq!(created["region"], "长沙市");
    assert_eq!(created["topic_title"], "压力与情绪管理");
    let id = created["id"].as_str().unwrap();
    // Only its liaison and admins see it.
    let res = app
        .get(&format!("/api/v1/lecture-requests/{id}"), Some(&stranger))
        .await;
    assert_error(res, 404, "not_found").await;
    let queue = app
        .get_ok(
            "/api/v1/admin/lecture-requests?status=submitted",
            Some(&admin),
        )
        .await;
    assert_eq!(queue["total"], 1);
    // A liaison cannot decide; an admin proposes another time.
    let res = app
        .post(
            &format!("/api/v1/lecture-requests/{id}/respond"),
            Some(&liaison),
            json!({"accept": true}),
        )
        .await;
    assert_error(res, 409, "lecture_request_state").await;
    let when = (Utc::now() + Duration::days(25)).with_timezone(&CHINA);
    let proposed = decide(
        &app,
        &admin,
        id,
        json!({"decision": "propose", "scheduled_at": when}),
    )
    .await;
    assert_eq!(proposed["status"], "proposed");
    let back = app
        .post_expect(
            &format!("/api/v1/lecture-requests/{id}/respond"),
            Some(&liaison),
            json!({"accept": false}),
            200,
        )
        .await;
    assert_eq!(back["status"], "submitted");
    // Accepting needs lecturer, time and place; then the screening gets its code.
    let res = app
        .post(
            &format!("/api/v1/admin/lecture-requests/{id}/decision"),
            Some(&admin),
            json!({"decision": "accept"}),
        )
        .await;
    let body = assert_error(res, 422, "validation_failed").await;
    assert_eq!(body["details"].as_array().unwrap().len(), 3);
    let accepted = decide(
        &app,
        &admin,
        id,
        json!({"decision": "accept", "lecturer": "张老师", "scheduled_at": when, "location": "三楼会议室"}),
    )
    .await;
    assert_eq!(accepted["status"], "accepted");
    let code = accepted["screening_code"].as_str().unwrap();
    assert_eq!(code.len(), 10);
    let mine = app
        .get_ok("/api/v1/me/lecture-requests", Some(&liaison))
        .await;
    assert_eq!(mine["items"][0]["lecturer"], "张老师");
    assert_eq!(mine["items"][0]["location"], "三楼会议室");
    // Not held before its time (#30).
    let early = app
        .post(
            &format!("/api/v1/admin/lecture-requests/{id}/done"),
            Some(&admin),
            json!({}),
        )
        .await;
    let body = assert_error(early, 409, "lecture_request_state").await;
    assert!(
        body["message"].as_str().unwrap().contains("举办之后"),
        "{body}"
    );
    clock.advance(Duration::days(26));
    let admin = app.admin_token().await;
    let liaison = app.user_token("liaison").await;
    let done = held(&app, &admin, id).await;
    assert_eq!(done["status"], "done");
    let res = app
        .post(
            &format!("/api/v1/lecture-requests/{id}/withdraw"),
            Some(&liaison),
            json!({}),
        )
        .await;
    assert_error(res, 409, "lecture_request_state").await;
    // Two decisions were the liaison's news: two outbox rows.
    let figures = app
        .get_ok("/api/v1/admin/notifications", Some(&admin))
        .await;
    let told: u64 = figures["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["event"] == "lecture_request_decided")
        .map(|i| i["count"].as_u64().unwrap())
        .sum();
    assert_eq!(told, 2);
    // Each of the organiser's decisions is in the audit trail (#30).
    let decided = app
        .get_ok(
            "/api/v1/admin/audit?action=decide_lecture_request",
            Some(&admin),
        )
        .await;
    assert!(decided["total"].as_u64().unwrap() >= 2, "{decided}");
    assert!(
        decided["items"][0]["target"]
            .as_str()
            .unwrap()
            .ends_with(":done")
    );
    // Export holds the request; after deletion the organiser keeps it without the account.
    let export = app.get_ok("/api/v1/me/export", Some(&liaison)).await;
    assert_eq!(export["lecture_requests"][0]["id"], id);
    assert_eq!(app.delete("/api/v1/me", Some(&liaison)).await.status(), 204);
    let kept = app
        .get_ok(&format!("/api/v1/lecture-requests/{id}"), Some(&admin))
        .await;
    assert_eq!(kept["status"], "done");
    // #30: the unit's form stays; the liaison's own name and mobile do not.
    assert_eq!(kept["from_deleted_account"], true);
    assert_eq!(kept["liaison"]["name"], "（联络人已注销）");
    assert_eq!(kept["liaison"]["mobile"], "");
    assert_eq!(kept["liaison"]["title"], "办公室主任");
    assert_eq!(kept["head"]["name"], "李强");
    assert!(!kept.to_string().contains("13800000000"));
    assert!(!kept.to_string().contains("王芳"));
}

#[tokio::test]
async fn a_liaison_withdraws_before_the_lecture() {
    let app = TestApp::spawn().await;
    let topic = menu(&app).await[0]["id"].as_str().unwrap().to_owned();
    let liaison = app.user_token("withdrawer").await;
    let created = file_request(&app, &liaison, request(&topic)).await;
    let id = created["id"].as_str().unwrap();
    let gone = app
        .post_expect(
            &format!("/api/v1/lecture-requests/{id}/withdraw"),
            Some(&liaison),
            json!({}),
            200,
        )
        .await;
    assert_eq!(gone["status"], "withdrawn");
    let admin = app.admin_token().await;
    let res = app
        .post(
            &format!("/api/v1/admin/lecture-requests/{id}/decision"),
            Some(&admin),
            json!({"decision": "decline", "reason": "x"}),
        )
        .await;
    assert_error(res, 409, "lecture_request_state").await;
}

fn roomy(c: &mut xinli_api::Config) {
    c.limits.logins_per_ip =
        xinli_domain::throttle::Limit::new(10_000, std::time::Duration::from_secs(60));
}

/// 21 people take PHQ-9 in a unit's screening: the unit sees counts of 10 or more only, one
/// more cell hidden where the hidden one could be computed back, and nobody's identity in any
/// answer it can reach.
#[tokio::test]
async fn a_screening_report_counts_without_naming_anyone() {
    let (app, liaison, admin, id, code) = with_screening("unit-liaison", Some(Utc::now())).await;
    let none = [0, 0, 0, 0, 0, 0, 0, 0, 0];
    let mild = [1, 1, 1, 1, 1, 0, 0, 0, 0];
    let moderate = [2, 2, 2, 2, 2, 0, 0, 0, 0];
    let mut people = vec![];
    let mut results = vec![];
    for i in 0..21 {
        let token = app.user_token(&format!("participant-{i}")).await;
        let me = app.get_ok("/api/v1/me", Some(&token)).await;
        if i == 0 {
            let joined = app
                .get_ok(&format!("/api/v1/screenings/{code}"), Some(&token))
                .await;
            assert_eq!(joined["unit_name"], "湖南省某厅");
            assert_eq!(joined["scales"][0]["code"], "phq9");
            assert_eq!(joined["scales"][0]["done"], false);
            assert!(
                joined["consent"]
                    .as_str()
                    .unwrap()
                    .contains("单位只能在普查结束后看到")
            );
        }
        let answers = match i {
            0..10 => none,
            10..20 => mild,
            _ => moderate,
        };
        let res = app
            .post(
                "/api/v1/scales/phq9/submissions",
                Some(&token),
                json!({"answers": answers, "screening_code": code}),
            )
            .await;
        assert_eq!(res.status(), 201, "participant {i}");
        let result: Value = res.json().await.unwrap();
        assert_eq!(result["referral_offered"], i == 20, "participant {i}");
        // With the offer come the bookable stations of the unit's region (seed 002 附件 2:
        // six in 长沙市 with published hours; 长沙市一中's are "待定").
        let stations = result["referral_stations"].as_array().unwrap();
        if i == 20 {
            assert_eq!(stations.len(), 6, "{stations:?}");
            assert!(
                stations
                    .iter()
                    .all(|s| s["region"] == "长沙市" && s["bookable"] == true)
            );
            assert!(
                stations
                    .iter()
                    .any(|s| s["name"] == "湖南省脑科医院(湖南省第二人民医院)")
            );
        } else {
            assert!(stations.is_empty(), "participant {i}");
        }
        results.push(result["id"].as_str().unwrap().to_owned());
        people.push((token, me["id"].as_str().unwrap().to_owned()));
    }
    // The moderate result offers one-to-one counseling; consenting queues a request ahead of
    // the standard queue. The others are not offered it.
    let (moderate_person, _) = &people[20];
    let referral = |token: &str, result: &str, body: Value| {
        let (app, token, path) = (
            &app,
            token.to_owned(),
            format!("/api/v1/me/assessments/{result}/referral"),
        );
        async move { app.post(&path, Some(&token), body).await }
    };
    let res = referral(moderate_person, &results[20], json!({"consent": false})).await;
    assert_error(res, 422, "validation_failed").await;
    let res = referral(first_token(&people), &results[0], json!({"consent": true})).await;
    assert_error(res, 409, "referral_not_offered").await;
    let res = referral(first_token(&people), &results[20], json!({"consent": true})).await;
    assert_error(res, 404, "not_found").await;
    let queued = app
        .post_expect(
            &format!("/api/v1/me/assessments/{}/referral", results[20]),
            Some(moderate_person),
            json!({"consent": true, "phone": "13700000000"}),
            201,
        )
        .await;
    assert_eq!(queued["status"], "waiting");
    assert_eq!(queued["priority"], "prioritized");
    // Once per scale; only the screening's scales; only a real code.
    let (first, _) = &people[0];
    let res = app
        .post(
            "/api/v1/scales/phq9/submissions",
            Some(first),
            json!({"answers": none, "screening_code": code}),
        )
        .await;
    assert_error(res, 409, "already_screened").await;
    let res = app
        .post(
            "/api/v1/scales/gad7/submissions",
            Some(first),
            json!({"answers": [0, 0, 0, 0, 0, 0, 0], "screening_code": code}),
        )
        .await;
    assert_error(res, 422, "validation_failed").await;
    let res = app
        .post(
            "/api/v1/scales/phq9/submissions",
            Some(&people[1].0),
            json!({"answers": none, "screening_code": "ZZZZZZZZZZ"}),
        )
        .await;
    assert_error(res, 422, "validation_failed").await;
    let res = app.get("/api/v1/screenings/ZZZZZZZZZZ", Some(first)).await;
    assert_error(res, 404, "not_found").await;
    // The result stays the participant's own.
    let history = app.get_ok("/api/v1/me/assessments", Some(first)).await;
    assert_eq!(history["total"], 1);
    // While the screening is open the unit sees how many took it, rounded down to 5, and no
    // bands.
    let report = screening_report(&app, &liaison, &id).await;
    assert_eq!(report["state"], "open");
    assert!(report["frozen_at"].is_null());
    let phq = &report["scales"][0];
    assert_eq!(phq["participants"], 20);
    assert_eq!(phq["bands"], json!([]));
    // The organiser closes it: the counts are frozen, 10 / 10 / 1 / 0. The 1 is hidden and the
    // zero beside it; their sum (1) would be a small count, so the smallest shown (both 10s,
    // equal) go too: only the total is left.
    let closed = app
        .post_expect(
            &format!("/api/v1/admin/lecture-requests/{id}/screening/close"),
            Some(&admin),
            json!({}),
            200,
        )
        .await;
    assert_eq!(closed["state"], "closed");
    let report = screening_report(&app, &liaison, &id).await;
    assert_eq!(report["scales"], closed["scales"]);
    let phq = &report["scales"][0];
    assert_eq!(phq["participants"], 21);
    assert!(
        phq["bands"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["suppressed"] == true && b["count"].is_null()),
        "{phq}"
    );
    // Closed: no one joins any more.
    let res = app
        .get(&format!("/api/v1/screenings/{code}"), Some(&people[1].0))
        .await;
    assert_error(res, 404, "not_found").await;
    // Nothing a liaison can reach names a participant.
    let reachable = [
        report.to_string(),
        app.get_ok(&format!("/api/v1/lecture-requests/{id}"), Some(&liaison))
            .await
            .to_string(),
        app.get_ok("/api/v1/me/lecture-requests", Some(&liaison))
            .await
            .to_string(),
        app.get_ok("/api/v1/me/export", Some(&liaison))
            .await
            .to_string(),
    ];
    for text in &reachable {
        for (i, (_, user_id)) in people.iter().enumerate() {
            assert!(
                !text.contains(user_id.as_str()),
                "participant {i}'s id in {text}"
            );
            assert!(
                !text.contains(&format!("participant-{i}\"")),
                "openid in {text}"
            );
        }
    }
    // Someone else cannot read it.
    let res = app
        .get(
            &format!("/api/v1/lecture-requests/{id}/screening-report"),
            Some(first),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    // A participant who deletes the account takes their result, not a number of the frozen
    // report: a liaison comparing reports learns nothing of who left.
    assert_eq!(
        app.delete("/api/v1/me", Some(&people[10].0)).await.status(),
        204
    );
    let after = screening_report(&app, &admin, &id).await;
    assert_eq!(after["scales"], report["scales"]);
    assert_eq!(after["frozen_at"], report["frozen_at"]);
    // The organiser's figures count the results once the lecture is held; the one referral
    // is a count about fewer than 5 people.
    app.clock.as_ref().unwrap().advance(Duration::days(26));
    let admin = app.admin_token().await;
    held(&app, &admin, &id).await;
    let stats = lecture_stats(&app, &admin).await;
    assert_eq!(stats[0]["screenings"], 1);
    assert_eq!(stats[0]["screening_results"], 20);
    assert_eq!(
        stats[0]["referrals_accepted"],
        Value::Null,
        "one referral at one unit is about one person: hidden (#30)"
    );
}

/// A test app (logins not limited, on a manual clock from `clock_at` if given) with a unit's
/// accepted request with a PHQ-9 screening: the app, the liaison's and an admin's tokens, the
/// request id and the join code.
async fn with_screening(
    liaison: &str,
    clock_at: Option<chrono::DateTime<Utc>>,
) -> (TestApp, String, String, String, String) {
    let app = TestApp::spawn_with(xinli_tests::TestOptions {
        configure: roomy,
        clock_at,
        ..xinli_tests::TestOptions::default()
    })
    .await;
    let topic = menu(&app).await[2]["id"].as_str().unwrap().to_owned();
    let liaison = app.user_token(liaison).await;
    let admin = app.admin_token().await;
    let (id, code) = accepted_request(&app, &liaison, &admin, request(&topic)).await;
    (app, liaison, admin, id, code)
}

/// `token` takes PHQ-9 in the screening of `code`.
async fn take_phq9(app: &TestApp, token: &str, code: &str, answers: [u8; 9]) -> reqwest::Response {
    app.post(
        "/api/v1/scales/phq9/submissions",
        Some(token),
        json!({"answers": answers, "screening_code": code}),
    )
    .await
}

fn first_token(people: &[(String, String)]) -> &str {
    &people[0].0
}

/// After the lecture, participants answer two questions once; the liaison sees the shares of
/// 5s and the comments without names; admins one satisfaction figure per service.
#[tokio::test]
async fn the_survey_after_a_lecture() {
    let app = TestApp::spawn_with(xinli_tests::TestOptions {
        configure: roomy,
        clock_at: Some(Utc::now()),
        ..xinli_tests::TestOptions::default()
    })
    .await;
    let topic = menu(&app).await[0]["id"].as_str().unwrap().to_owned();
    let liaison = app.user_token("survey-liaison").await;
    let admin = app.admin_token().await;
    let mut body = request(&topic);
    body["screening"] = json!(false);
    body["screening_scales"] = json!([]);
    let (id, code) = accepted_request(&app, &liaison, &admin, body).await;
    let a = app.user_token("listener-a").await;
    let answer_with = |token: &str, code: &str, content: i64, comment: &str| {
        let (app, token, path, code, comment) = (
            &app,
            token.to_owned(),
            format!("/api/v1/lecture-requests/{id}/survey"),
            code.to_owned(),
            comment.to_owned(),
        );
        async move {
            app.post(
                &path,
                Some(&token),
                json!({"code": code, "content": content, "gain": 4, "comment": comment}),
            )
            .await
        }
    };
    let answer =
        |token: &str, code: &str, content: i64| answer_with(token, code, content, "很实用");
    assert_error(answer(&a, &code, 5).await, 409, "lecture_request_state").await;
    after_the_lecture(&app, &admin, &id).await;
    let admin = app.admin_token().await;
    let liaison = app.user_token("survey-liaison").await;
    let a = app.user_token("listener-a").await;
    let b = app.user_token("listener-b").await;
    held(&app, &admin, &id).await;
    assert_eq!(answer(&a, &code, 5).await.status(), 204);
    assert_error(answer(&a, &code, 5).await, 409, "already_rated").await;
    assert_error(answer(&b, "WRONGCODE1", 4).await, 404, "not_found").await;
    assert_error(answer(&b, &code, 9).await, 422, "validation_failed").await;
    assert_eq!(answer(&b, &code, 4).await.status(), 204);
    // While open the unit sees how many answered, rounded down to 5: nothing of one person.
    let summary = survey(&app, &liaison, &id).await;
    assert_eq!(summary["state"], "open");
    assert_eq!(summary["responses"], 0);
    assert!(summary["content_very_satisfied_rate"].is_null());
    assert_eq!(summary["comments"], json!([]));
    // Ten more; one comment says something a supervisor must see, not the unit.
    for i in 0..10 {
        let token = app.user_token(&format!("listener-{i}")).await;
        let comment = match i {
            0 => "其实我最近真的不想活了".to_owned(),
            _ => format!("第 {i} 条：讲得清楚"),
        };
        assert_eq!(answer_with(&token, &code, 5, &comment).await.status(), 204);
    }
    let summary = survey(&app, &liaison, &id).await;
    assert_eq!(summary["responses"], 10, "12 rounded down");
    let res = app
        .get(&format!("/api/v1/lecture-requests/{id}/survey"), Some(&a))
        .await;
    assert_error(res, 404, "not_found").await;
    let figures = app.get_ok("/api/v1/admin/satisfaction", Some(&admin)).await;
    let lecture = figures
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["service"] == "lecture")
        .unwrap();
    assert_eq!(lecture["responses"], 12);
    assert_eq!(lecture["satisfied_rate"], 1.0);
    // The organiser's figures per month and unit (the lecture is dated 25 days ahead).
    let stats = lecture_stats(&app, &admin).await;
    assert_eq!(stats[0]["unit_name"], "湖南省某厅");
    assert_eq!(stats[0]["lectures"], 1);
    assert_eq!(stats[0]["attendees"], 80);
    assert_eq!(stats[0]["survey_responses"], 12);
    assert_eq!(stats[0]["content_very_satisfied_rate"], 0.9167);
    // The join code as a printable mini-program code.
    use wiremock::matchers::{body_partial_json, method, path};
    use wiremock::{Mock, ResponseTemplate};
    Mock::given(method("POST"))
        .and(path("/cgi-bin/stable_token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "tok", "expires_in": 7200})),
        )
        .mount(&app.wechat)
        .await;
    Mock::given(method("POST"))
        .and(path("/wxa/getwxacodeunlimit"))
        .and(body_partial_json(
            json!({"scene": code, "page": "pages/screening/index"}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "image/png")
                .set_body_bytes(b"\x89PNG-lecture".to_vec()),
        )
        .expect(1)
        .mount(&app.wechat)
        .await;
    let res = app
        .get(
            &format!("/api/v1/admin/lecture-requests/{id}/qrcode"),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    // 14 days after the lecture the survey closes: no more answers; the unit now reads the
    // count, the shares (12 answers, at least 10) and the comments in no order of time,
    // without the one that hit the risk lexicon.
    let view = app
        .get_ok(&format!("/api/v1/lecture-requests/{id}"), Some(&liaison))
        .await;
    let scheduled: chrono::DateTime<chrono::FixedOffset> =
        serde_json::from_value(view["scheduled_at"].clone()).unwrap();
    app.clock
        .as_ref()
        .unwrap()
        .set(scheduled.with_timezone(&Utc) + Duration::days(14) + Duration::minutes(1));
    let liaison = app.user_token("survey-liaison").await;
    // One listener deletes the account: the score stays in the figures, the comment goes.
    let gone = app.user_token("listener-1").await;
    assert_eq!(app.delete("/api/v1/me", Some(&gone)).await.status(), 204);
    let late = app.user_token("listener-late").await;
    let res = answer(&late, &code, 5).await;
    let err = assert_error(res, 409, "lecture_request_state").await;
    assert!(err["message"].as_str().unwrap().contains("已经结束"));
    let summary = survey(&app, &liaison, &id).await;
    assert_eq!(summary["state"], "closed");
    assert_eq!(summary["responses"], 12);
    assert_eq!(summary["content_very_satisfied_rate"], 0.9167);
    assert_eq!(summary["gain_very_rate"], 0.0);
    let comments: Vec<&str> = summary["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(comments.len(), 10, "{comments:?}");
    assert!(!comments.iter().any(|c| c.contains("不想活")));
    assert!(!comments.iter().any(|c| c.contains("第 1 条")));
    let in_time: Vec<String> = (2..10).map(|i| format!("第 {i} 条：讲得清楚")).collect();
    let shown: Vec<String> = comments
        .iter()
        .filter(|c| c.starts_with('第'))
        .map(|c| c.to_string())
        .collect();
    assert_eq!(shown.len(), 8);
    assert_ne!(shown, in_time, "not in the order answered");
    assert!(!summary.to_string().contains("listener"));
}

/// Files `body` as `liaison` and has `admin` accept it; returns the id and the join code.
async fn accepted_request(
    app: &TestApp,
    liaison: &str,
    admin: &str,
    body: Value,
) -> (String, String) {
    let created = file_request(app, liaison, body).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let when = (Utc::now() + Duration::days(25)).with_timezone(&CHINA);
    let accepted = decide(
        app,
        admin,
        &id,
        json!({"decision": "accept", "lecturer": "张老师", "scheduled_at": when, "location": "三楼会议室"}),
    )
    .await;
    let code = accepted["screening_code"].as_str().unwrap().to_owned();
    (id, code)
}

/// The differencing attack of #30: a liaison reads the report, asks one colleague to take the
/// scale, and reads again; later a participant deletes the account and the liaison reads once
/// more. Nothing of either colleague shows: while open, only the rounded number of participants;
/// after closing, counts frozen at the first read. The liaison's own result is not counted.
#[tokio::test]
async fn a_liaison_cannot_learn_one_colleagues_band_by_reading_twice() {
    let (app, liaison, _, id, code) = with_screening("unit-liaison", Some(Utc::now())).await;
    let clock = app.clock.clone().unwrap();
    let topic = menu(&app).await[2]["id"].as_str().unwrap().to_owned();
    // Two more, filed now while their dates lie ahead: one without a screening, one waiting.
    let mut plain = request(&topic);
    plain["screening"] = json!(false);
    plain["screening_scales"] = json!([]);
    let other = file_request(&app, &liaison, plain).await;
    let waiting = file_request(&app, &liaison, request(&topic)).await;
    // The closing time is set on acceptance: 14 days after the lecture.
    let view = app
        .get_ok(&format!("/api/v1/lecture-requests/{id}"), Some(&liaison))
        .await;
    let scheduled: chrono::DateTime<chrono::FixedOffset> =
        serde_json::from_value(view["scheduled_at"].clone()).unwrap();
    let closes: chrono::DateTime<chrono::FixedOffset> =
        serde_json::from_value(view["screening_closes_at"].clone()).unwrap();
    assert_eq!(closes - scheduled, Duration::days(14));
    let none = [0u8; 9];
    let severe = [3u8, 3, 3, 3, 3, 3, 3, 2, 0];
    let mut colleagues = vec![];
    for i in 0..12 {
        let token = app.user_token(&format!("colleague-{i}")).await;
        assert_eq!(take_phq9(&app, &token, &code, none).await.status(), 201);
        colleagues.push(token);
    }
    let read = |token: String| {
        let (app, id) = (&app, id.clone());
        async move { screening_report(app, &token, &id).await }
    };
    let first = read(liaison.clone()).await;
    assert_eq!(first["state"], "open");
    assert_eq!(first["scales"][0]["participants"], 10, "12 rounded down");
    // One colleague with a severe result, then the liaison themself: the report does not move.
    let target = app.user_token("the-colleague").await;
    assert_eq!(take_phq9(&app, &target, &code, severe).await.status(), 201);
    assert_eq!(take_phq9(&app, &liaison, &code, severe).await.status(), 201);
    let second = read(liaison.clone()).await;
    assert_eq!(second["scales"], first["scales"]);
    // The screening closes with time; after it no one joins.
    clock.set(closes.with_timezone(&Utc) + Duration::minutes(1));
    let liaison = app.user_token("unit-liaison").await;
    let late = app.user_token("late-colleague").await;
    let res = take_phq9(&app, &late, &code, none).await;
    assert_error(res, 422, "validation_failed").await;
    let res = app
        .get(&format!("/api/v1/screenings/{code}"), Some(&late))
        .await;
    assert_error(res, 404, "not_found").await;
    // Closed: 12 none and 1 severe (the liaison's own left out). The 1 and the zeros beside it
    // are hidden, and so is the 12 (else the hidden cells would add up to 1): the total only.
    let closed = read(liaison.clone()).await;
    assert_eq!(closed["state"], "closed");
    assert!(closed["frozen_at"].is_string());
    let phq = &closed["scales"][0];
    assert_eq!(phq["participants"], 13);
    assert!(
        phq["bands"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["count"].is_null() && b["suppressed"] == true),
        "{phq}"
    );
    // The colleague deletes the account: their result goes, the unit's report stays as it was.
    assert_eq!(app.delete("/api/v1/me", Some(&target)).await.status(), 204);
    let after = read(liaison.clone()).await;
    assert_eq!(after["scales"], closed["scales"]);
    assert_eq!(after["frozen_at"], closed["frozen_at"]);
    // Closing a closed screening changes nothing; only admins close; a lecture without a
    // screening has none to close.
    let admin = app.admin_token().await;
    let close = |token: &str, id: &str| {
        let (app, token, path) = (
            &app,
            token.to_owned(),
            format!("/api/v1/admin/lecture-requests/{id}/screening/close"),
        );
        async move { app.post(&path, Some(&token), json!({})).await }
    };
    let again = close(&admin, &id).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["closes_at"], closed["closes_at"]);
    assert_eq!(again["scales"], closed["scales"]);
    assert_eq!(close(&liaison, &id).await.status(), 403);
    let res = close(&admin, other["id"].as_str().unwrap()).await;
    assert_error(res, 404, "not_found").await;
    // A request still waiting for review has no screening to close yet.
    let res = close(&admin, waiting["id"].as_str().unwrap()).await;
    assert_error(res, 409, "lecture_request_state").await;
}

/// #30: a participant takes one screening result back. The result, its screening entry and
/// its referral offer go; someone else's result cannot be touched; a report already closed
/// keeps its frozen counts.
#[tokio::test]
async fn a_participant_withdraws_one_screening_result() {
    let (app, liaison, admin, id, code) = with_screening("withdraw-liaison", None).await;
    let mut others = vec![];
    for i in 0..10 {
        let token = app.user_token(&format!("withdraw-colleague-{i}")).await;
        let res = take_phq9(&app, &token, &code, [0; 9]).await;
        assert_eq!(res.status(), 201);
        let result: Value = res.json().await.unwrap();
        others.push((token, result["id"].as_str().unwrap().to_owned()));
    }
    let person = app.user_token("withdraw-person").await;
    let res = take_phq9(&app, &person, &code, [2, 2, 2, 2, 2, 0, 0, 0, 0]).await;
    assert_eq!(res.status(), 201);
    let mine: Value = res.json().await.unwrap();
    assert_eq!(mine["referral_offered"], true);
    let mine = mine["id"].as_str().unwrap().to_owned();
    // Someone else's result is not found, and stays.
    let res = app
        .delete(
            &format!("/api/v1/me/assessments/{}", others[0].1),
            Some(&person),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    app.get_ok(
        &format!("/api/v1/me/assessments/{}", others[0].1),
        Some(&others[0].0),
    )
    .await;
    // Mine goes: the result, its referral offer, its screening entry (so I could take the
    // scale in this screening again).
    let path = format!("/api/v1/me/assessments/{mine}");
    assert_eq!(app.delete(&path, Some(&person)).await.status(), 204);
    assert_error(app.get(&path, Some(&person)).await, 404, "not_found").await;
    assert_error(app.delete(&path, Some(&person)).await, 404, "not_found").await;
    let res = app
        .post(
            &format!("{path}/referral"),
            Some(&person),
            json!({"consent": true}),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    let export = app.get_ok("/api/v1/me/export", Some(&person)).await;
    assert!(!export.to_string().contains(&mine), "{export}");
    let joined = app
        .get_ok(&format!("/api/v1/screenings/{code}"), Some(&person))
        .await;
    assert_eq!(joined["scales"][0]["done"], false);
    assert!(joined["consent"].as_str().unwrap().contains("撤回"));
    // Closed without it: ten results of 无, nothing small, everything shown.
    let closed = app
        .post_expect(
            &format!("/api/v1/admin/lecture-requests/{id}/screening/close"),
            Some(&admin),
            json!({}),
            200,
        )
        .await;
    let counts: Vec<Value> = closed["scales"][0]["bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].clone())
        .collect();
    assert_eq!(counts, [json!(10), json!(0), json!(0), json!(0)]);
    // A withdrawal after closing leaves the frozen report as it was.
    let (token, result) = &others[0];
    assert_eq!(
        app.delete(&format!("/api/v1/me/assessments/{result}"), Some(token))
            .await
            .status(),
        204
    );
    let report = screening_report(&app, &liaison, &id).await;
    assert_eq!(report["scales"], closed["scales"]);
}

fn many_requests(c: &mut xinli_api::Config) {
    roomy(c);
    c.limits.lecture_requests_per_user =
        xinli_domain::throttle::Limit::new(1_000, std::time::Duration::from_secs(60));
}

/// The export lists everything held about the person (#30): the screening they took part in
/// and the referral they accepted, their survey answers, the subscribe messages about them,
/// the consultation's priority and counselor, and every lecture request, not the first 100.
#[tokio::test]
async fn the_export_holds_screenings_surveys_messages_and_every_request() {
    let app = TestApp::spawn_with(xinli_tests::TestOptions {
        configure: many_requests,
        clock_at: Some(Utc::now()),
        ..xinli_tests::TestOptions::default()
    })
    .await;
    let topic = menu(&app).await[2]["id"].as_str().unwrap().to_owned();
    let liaison = app.user_token("exporting-liaison").await;
    let admin = app.admin_token().await;
    let (id, code) = accepted_request(&app, &liaison, &admin, request(&topic)).await;
    let person = app.user_token("exporting-person").await;
    let result: Value = take_phq9(&app, &person, &code, [2, 2, 2, 2, 1, 1, 1, 1, 0])
        .await
        .json()
        .await
        .unwrap();
    let result_id = result["id"].as_str().unwrap().to_owned();
    app.post_expect(
        &format!("/api/v1/me/assessments/{result_id}/referral"),
        Some(&person),
        json!({"consent": true, "phone": "13700000000"}),
        201,
    )
    .await;
    app.clock.as_ref().unwrap().advance(Duration::minutes(1));
    // The referral became a consultation: a counselor claims and closes it; the person rates.
    let (counselor, _) = crate::consultations::counselor(&app, &admin, "export-counselor", 1).await;
    // The queue shows no phone number, in the description or elsewhere; the counselor who
    // takes it sees it in its own field.
    let queue = app
        .get_ok("/api/v1/counselor/queue", Some(&counselor))
        .await;
    assert!(!queue.to_string().contains("13700000000"), "{queue}");
    let claimed: Value = crate::consultations::claim(&app, &counselor)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(claimed["callback_phone"], "13700000000", "{claimed}");
    assert!(
        !claimed["description"]
            .as_str()
            .unwrap()
            .contains("13700000000")
    );
    let mine = app.get_ok("/api/v1/me/export", Some(&person)).await;
    let consultation = mine["consultations"][0]["id"].as_str().unwrap().to_owned();
    app.post_expect(
        &format!("/api/v1/consultations/{consultation}/close"),
        Some(&counselor),
        json!({}),
        200,
    )
    .await;
    let res = app
        .post(
            &format!("/api/v1/consultations/{consultation}/survey"),
            Some(&person),
            json!({"content": 4, "gain": 4, "comment": "谢谢老师"}),
        )
        .await;
    assert_eq!(res.status(), 204);
    // The liaison filed 101 more requests.
    for _ in 0..101 {
        file_request(&app, &liaison, request(&topic)).await;
    }
    // The lecture is held at its time; the person answers its survey.
    after_the_lecture(&app, &admin, &id).await;
    let admin = app.admin_token().await;
    let person = app.user_token("exporting-person").await;
    let liaison = app.user_token("exporting-liaison").await;
    held(&app, &admin, &id).await;
    let res = app
        .post(
            &format!("/api/v1/lecture-requests/{id}/survey"),
            Some(&person),
            json!({"code": code, "content": 5, "gain": 3, "comment": "受益匪浅"}),
        )
        .await;
    assert_eq!(res.status(), 204);

    let mine = app.get_ok("/api/v1/me/export", Some(&person)).await;
    let screenings = mine["screenings"].as_array().unwrap();
    assert_eq!(screenings.len(), 1, "{mine}");
    assert_eq!(screenings[0]["assessment_id"], result_id.as_str());
    assert_eq!(screenings[0]["lecture_request_id"], id.as_str());
    assert_eq!(screenings[0]["unit_name"], "湖南省某厅");
    assert!(screenings[0]["referred_at"].is_string());
    let surveys = mine["surveys"].as_array().unwrap();
    let about: Vec<(&str, &str)> = surveys
        .iter()
        .map(|s| (s["about"].as_str().unwrap(), s["comment"].as_str().unwrap()))
        .collect();
    assert_eq!(
        about,
        [("consultation", "谢谢老师"), ("lecture", "受益匪浅")]
    );
    assert_eq!(surveys[0]["subject_id"], consultation.as_str());
    assert_eq!(surveys[1]["subject_id"], id.as_str());
    let c = &mine["consultations"][0];
    assert_eq!(c["counselor_name"], "export-counselor 老师");
    assert_eq!(c["callback_phone"], "13700000000");
    assert!(
        c["priority"].is_string() && c["priority_reason"].is_string(),
        "{c}"
    );
    let notices = mine["notifications"].as_array().unwrap();
    assert!(
        notices.iter().any(|n| n["event"] == "consultation_ready"),
        "{notices:?}"
    );
    let theirs = app.get_ok("/api/v1/me/export", Some(&liaison)).await;
    assert_eq!(theirs["lecture_requests"].as_array().unwrap().len(), 102);
    assert_eq!(
        theirs["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["event"] == "lecture_request_decided")
            .count(),
        1,
        "the acceptance"
    );
}

/// One scale per person per screening holds under concurrent submissions (#30): a unique
/// key, not a check before inserting. Exactly one of eight counts; the rest answer
/// `already_screened` and store nothing.
#[tokio::test]
async fn concurrent_submissions_of_one_scale_count_once() {
    let (app, _liaison, _admin, _id, code) = with_screening("race-liaison", Some(Utc::now())).await;
    let person = app.user_token("impatient-participant").await;
    let answers = [1, 1, 1, 1, 1, 1, 1, 1, 0];
    let tries = (0..8).map(|_| take_phq9(&app, &person, &code, answers));
    let statuses: Vec<u16> = futures::future::join_all(tries)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    let mine = app.get_ok("/api/v1/me/export", Some(&person)).await;
    assert_eq!(mine["assessments"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["screenings"].as_array().unwrap().len(), 1);
}

/// The organiser may close a survey before its 14 days (#30): only an open one; afterwards
/// nobody answers and the unit reads the closed survey's figures at once.
#[tokio::test]
async fn the_organiser_closes_a_survey_early() {
    let app = TestApp::spawn_with(xinli_tests::TestOptions {
        configure: roomy,
        clock_at: Some(Utc::now()),
        ..xinli_tests::TestOptions::default()
    })
    .await;
    let topic = menu(&app).await[0]["id"].as_str().unwrap().to_owned();
    let liaison = app.user_token("closing-liaison").await;
    let admin = app.admin_token().await;
    let mut body = request(&topic);
    body["screening"] = json!(false);
    body["screening_scales"] = json!([]);
    let (id, code) = accepted_request(&app, &liaison, &admin, body).await;
    let close = format!("/api/v1/admin/lecture-requests/{id}/survey/close");
    let early = app.post(&close, Some(&admin), json!({})).await;
    assert_error(early, 409, "lecture_request_state").await;

    after_the_lecture(&app, &admin, &id).await;
    let admin = app.admin_token().await;
    let liaison = app.user_token("closing-liaison").await;
    held(&app, &admin, &id).await;
    let path = format!("/api/v1/lecture-requests/{id}/survey");
    for i in 0..10 {
        let token = app.user_token(&format!("closing-listener-{i}")).await;
        let res = app
            .post(
                &path,
                Some(&token),
                json!({"code": code, "content": 5, "gain": 4, "comment": format!("第 {i} 条")}),
            )
            .await;
        assert_eq!(res.status(), 204);
    }
    let open = survey(&app, &liaison, &id).await;
    assert_eq!(open["state"], "open");
    assert!(open["content_very_satisfied_rate"].is_null());

    let closed = app.post_expect(&close, Some(&admin), json!({}), 200).await;
    assert_eq!(closed["state"], "closed");
    assert_eq!(closed["responses"], 10);
    assert_eq!(closed["content_very_satisfied_rate"], 1.0);
    let seen = survey(&app, &liaison, &id).await;
    assert_eq!(seen["state"], "closed");
    assert_eq!(seen["comments"].as_array().unwrap().len(), 10);
    let late = app.user_token("closing-late").await;
    let res = app
        .post(
            &path,
            Some(&late),
            json!({"code": code, "content": 5, "gain": 5}),
        )
        .await;
    let err = assert_error(res, 409, "lecture_request_state").await;
    assert!(err["message"].as_str().unwrap().contains("已经结束"));
    let again = app.post(&close, Some(&admin), json!({})).await;
    assert_error(again, 409, "lecture_request_state").await;
    // The organiser's act is in the audit trail.
    let audit = app
        .get_ok(
            "/api/v1/admin/audit?action=decide_lecture_request",
            Some(&admin),
        )
        .await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["target"].as_str().unwrap().ends_with(":close_survey")),
        "{audit}"
    );
}
