//! Risk words and supervision (#17): a person's words that hit the lexicon reach a supervisor
//! at once, move a waiting request up and give the person the crisis hotlines; alerts escalate
//! when nobody acknowledges them; the lexicon is data admins edit; nothing of the text reaches
//! anyone but the supervisor's audited read.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use xinli_tests::{TestApp, TestOptions, assert_error};

use crate::consultations::{claim, counselor};

/// Asserts the status of an answer already received (from a closure or a batch sent at
/// once); the JSON body (`Null` when empty).
async fn ok(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let url = res.url().clone();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{url} answered {got}: {body}");
    body
}

/// A supervisor account, logged in, on duty or not: its token.
pub(crate) async fn supervisor(app: &TestApp, admin: &str, name: &str, on_duty: bool) -> String {
    app.create_staff(admin, name, "supervisor").await;
    let token = app.staff_token(name, &format!("{name}-password")).await;
    let duty = ok(
        app.put(
            "/api/v1/supervisor/status",
            Some(&token),
            json!({"on_duty": on_duty}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(duty["on_duty"], on_duty);
    token
}

async fn ask(app: &TestApp, token: &str, description: &str) -> Value {
    ok(
        app.post(
            "/api/v1/consultations",
            Some(token),
            json!({"topic": "情绪困扰", "description": description}),
        )
        .await,
        201,
    )
    .await
}

pub(crate) async fn alerts(app: &TestApp, token: &str, status: &str) -> Vec<Value> {
    let page = ok(
        app.get(
            &format!("/api/v1/supervisor/alerts?status={status}"),
            Some(token),
        )
        .await,
        200,
    )
    .await;
    page["items"].as_array().unwrap().clone()
}

async fn write(app: &TestApp, token: &str, consultation: &str, text: &str) -> Value {
    ok(
        app.post(
            &format!("/api/v1/consultations/{consultation}/messages"),
            Some(token),
            json!({"text": text}),
        )
        .await,
        201,
    )
    .await
}

#[tokio::test]
async fn words_in_a_waiting_request_reach_a_supervisor_on_duty_and_escalate_when_unanswered() {
    let app = TestApp::spawn_with(TestOptions {
        clock_at: Some(Utc::now()),
        ..TestOptions::default()
    })
    .await;
    let clock = app.clock.clone().unwrap();
    let admin = app.admin_token().await;
    let on_duty = supervisor(&app, &admin, "sup-a", true).await;
    let off_duty = supervisor(&app, &admin, "sup-b", false).await;
    let (counselor_token, _) = counselor(&app, &admin, "risk-counselor", 1).await;
    ok(
        app.put(
            "/api/v1/counselor/status",
            Some(&counselor_token),
            json!({"online": false, "capacity": 1}),
        )
        .await,
        200,
    )
    .await;

    let calm = app.user_token("calm-person").await;
    let first = ask(&app, &calm, "最近工作压力很大，睡不好").await;
    assert!(first["crisis"].is_null());
    assert_eq!(first["priority"], "standard");
    let person = app.user_token("person-at-risk").await;
    // Full-width punctuation and a space inside the phrase: still seen.
    let req = ask(&app, &person, "我真的不想 活了！撑不下去").await;
    assert_eq!(req["crisis"]["reason_code"], "risk_words");
    assert!(req["crisis"]["reason"].as_str().unwrap().contains("120"));
    assert!(!req["crisis"]["hotlines"].as_array().unwrap().is_empty());
    assert_eq!(req["priority"], "prioritized");
    assert_eq!(req["position"], 0, "ahead of the earlier standard request");
    let id = req["id"].as_str().unwrap();

    // Counselors see why, never the words.
    let queue = ok(
        app.get("/api/v1/counselor/queue", Some(&counselor_token))
            .await,
        200,
    )
    .await;
    let top = &queue["items"][0];
    assert_eq!(top["id"], id);
    assert_eq!(top["priority"], "urgent");
    assert_eq!(
        top["priority_reason"],
        xinli_domain::risk::REASON_WORDS,
        "{top}"
    );

    // The supervisor on duty sees it at once; the one off duty does not, yet.
    let seen = alerts(&app, &on_duty, "open").await;
    assert_eq!(seen.len(), 1);
    let alert = &seen[0];
    assert_eq!(alert["level"], "intent");
    assert_eq!(alert["source"], "description");
    assert_eq!(alert["matched"], "不想活");
    assert_eq!(alert["escalated"], false);
    assert_eq!(alert["consultation"]["status"], "waiting");
    assert_eq!(alert["consultation"]["priority"], "urgent");
    let alert_id = alert["id"].as_str().unwrap().to_owned();
    assert!(alerts(&app, &off_duty, "open").await.is_empty());
    let res = app
        .get(
            &format!("/api/v1/supervisor/alerts/{alert_id}"),
            Some(&off_duty),
        )
        .await;
    assert_error(res, 404, "not_found").await;

    // Only supervisors.
    for token in [&counselor_token, &admin, &person] {
        let res = app.get("/api/v1/supervisor/alerts", Some(token)).await;
        assert_error(res, 403, "forbidden").await;
    }

    // The words themselves, in an audited read.
    let detail = ok(
        app.get(
            &format!("/api/v1/supervisor/alerts/{alert_id}"),
            Some(&on_duty),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(detail["text"], "我真的不想 活了！撑不下去");
    let audit = ok(
        app.get(
            &format!("/api/v1/admin/audit?action=read_risk_alert&consultation_id={id}"),
            Some(&admin),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(audit["total"], 1);
    assert_eq!(audit["items"][0]["actor_role"], "supervisor");
    // Reading the list is audited too, once per supervisor and day however often the console
    // polls it (#30).
    alerts(&app, &on_duty, "open").await;
    alerts(&app, &on_duty, "all").await;
    let listed = ok(
        app.get("/api/v1/admin/audit?action=list_risk_alerts", Some(&admin))
            .await,
        200,
    )
    .await;
    let on_duty_id = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor_role"] == "supervisor")
        .map(|e| e["actor_id"].clone())
        .collect::<Vec<_>>();
    let distinct: std::collections::HashSet<String> =
        on_duty_id.iter().map(|v| v.to_string()).collect();
    assert_eq!(
        on_duty_id.len(),
        distinct.len(),
        "one entry per supervisor: {listed}"
    );

    // Nobody acknowledges within XINLI_ALERT_ESCALATE_MINUTES (5): every supervisor sees it.
    clock.advance(Duration::minutes(4));
    assert!(alerts(&app, &off_duty, "open").await.is_empty());
    clock.advance(Duration::minutes(1));
    let escalated = alerts(&app, &off_duty, "open").await;
    assert_eq!(escalated.len(), 1);
    assert_eq!(escalated[0]["escalated"], true);

    let acked = ok(
        app.post(
            &format!("/api/v1/supervisor/alerts/{alert_id}/ack"),
            Some(&off_duty),
            json!({"note": "已联系本人，咨询师马上接入"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(acked["acknowledged_by"], "sup-b 老师");
    assert!(acked["acknowledged_at"].is_string());
    let res = app
        .post(
            &format!("/api/v1/supervisor/alerts/{alert_id}/ack"),
            Some(&on_duty),
            json!({}),
        )
        .await;
    assert_error(res, 409, "alert_acknowledged").await;
    assert!(alerts(&app, &on_duty, "open").await.is_empty());
    assert_eq!(alerts(&app, &on_duty, "acknowledged").await.len(), 1);

    // Admins see counts and times, never words.
    let stats = ok(
        app.get("/api/v1/admin/alert-stats", Some(&admin)).await,
        200,
    )
    .await;
    assert_eq!(stats["raised"], 1);
    assert_eq!(stats["by_level"]["intent"], 1);
    assert_eq!(stats["by_source"]["description"], 1);
    assert_eq!(stats["acknowledged"], 1);
    assert_eq!(stats["escalated"], 1);
    assert_eq!(stats["ack_minutes_median"], 5.0);
    let raw = stats.to_string();
    assert!(
        !raw.contains("不想活") && !raw.contains("撑不下去"),
        "{raw}"
    );
    // The last supervisor on duty leaves: what is open is escalated at once.
    let other = app.user_token("another-person").await;
    ask(&app, &other, "活着没意思").await;
    assert!(alerts(&app, &off_duty, "open").await.is_empty());
    ok(
        app.put(
            "/api/v1/supervisor/status",
            Some(&on_duty),
            json!({"on_duty": false}),
        )
        .await,
        200,
    )
    .await;
    let left = alerts(&app, &off_duty, "open").await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["escalated"], true);
}

#[tokio::test]
async fn in_a_session_only_the_persons_words_raise_alerts_and_a_negation_cancels_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // Nobody on duty: every alert is escalated at once, so any supervisor sees it.
    let sup = supervisor(&app, &admin, "sup-c", false).await;
    let (counselor_token, _) = counselor(&app, &admin, "chat-counselor", 1).await;
    let person = app.user_token("chatting-person").await;
    let req = ask(&app, &person, "想聊聊最近的烦心事").await;
    assert!(req["crisis"].is_null());
    let id = req["id"].as_str().unwrap();
    ok(claim(&app, &counselor_token).await, 200).await;

    // A counselor asking about it is not an alert.
    let asked = write(&app, &counselor_token, id, "你有没有想过自杀？可以告诉我。").await;
    assert!(asked["crisis"].is_null());
    assert!(alerts(&app, &sup, "all").await.is_empty());

    // "I won't kill myself" is not an alert (#31: both parts of the corpus label it so); a
    // wish written with words between is.
    let said = write(&app, &person, id, "放心，我不会自杀的").await;
    assert!(said["crisis"].is_null());
    assert!(alerts(&app, &sup, "all").await.is_empty());
    let said = write(&app, &person, id, "有时候真想就这么死掉算了").await;
    assert_eq!(said["sender"], "user");
    assert_eq!(said["crisis"]["reason_code"], "risk_words");
    let seen = alerts(&app, &sup, "open").await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["level"], "passive");
    assert_eq!(seen[0]["source"], "message");
    assert_eq!(seen[0]["escalated"], true, "nobody on duty");
    assert_eq!(
        seen[0]["consultation"]["counselor_name"],
        "chat-counselor 老师"
    );

    // A negated mild phrase is nothing; everyday words are nothing.
    for text in [
        "我没有撑不下去，只是想聊聊",
        "笑死我了",
        "单位组织了预防自杀的讲座",
    ] {
        let m = write(&app, &person, id, text).await;
        assert!(m["crisis"].is_null(), "{text}");
    }
    // A stronger statement raises a second alert; the same level again does not.
    let strong = write(&app, &person, id, "其实我想结束生命").await;
    assert!(strong["crisis"].is_object());
    write(&app, &person, id, "真的不想活了").await;
    let seen = alerts(&app, &sup, "open").await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0]["level"], "intent", "most serious first");
    assert_eq!(seen[0]["matched"], "结束生命");
    let detail = ok(
        app.get(
            &format!(
                "/api/v1/supervisor/alerts/{}",
                seen[0]["id"].as_str().unwrap()
            ),
            Some(&sup),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(detail["text"], "其实我想结束生命");
    assert_eq!(detail["alert"]["consultation"]["status"], "active");

    // The person's export lists the alerts about them (no words, no phrase).
    let export = ok(app.get("/api/v1/me/export", Some(&person)).await, 200).await;
    let exported = export["risk_alerts"].as_array().unwrap();
    assert_eq!(exported.len(), 2);
    assert_eq!(exported[0]["level"], "passive");
    assert!(exported[0].get("matched").is_none());

    // After the session, a deleted account leaves counts, not a link.
    ok(
        app.post(
            &format!("/api/v1/consultations/{id}/close"),
            Some(&counselor_token),
            json!({"note": "已转介线下"}),
        )
        .await,
        200,
    )
    .await;
    ok(app.delete("/api/v1/me", Some(&person)).await, 204).await;
    let after = alerts(&app, &sup, "open").await;
    assert_eq!(after.len(), 2);
    let detail = ok(
        app.get(
            &format!(
                "/api/v1/supervisor/alerts/{}",
                after[0]["id"].as_str().unwrap()
            ),
            Some(&sup),
        )
        .await,
        200,
    )
    .await;
    assert!(detail["text"].is_null(), "the words left with the account");
    let stats = ok(
        app.get("/api/v1/admin/alert-stats", Some(&admin)).await,
        200,
    )
    .await;
    assert_eq!(stats["raised"], 2);
}

#[tokio::test]
async fn a_critical_answer_while_waiting_alerts_and_moves_the_request_up() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let sup = supervisor(&app, &admin, "sup-d", true).await;
    let person = app.user_token("waiting-person").await;
    let req = ask(&app, &person, "最近心情不好").await;
    assert_eq!(req["priority"], "standard");
    let res = app
        .post(
            "/api/v1/scales/phq9/submissions",
            Some(&person),
            json!({"answers": [0, 0, 0, 0, 0, 0, 0, 0, 1]}),
        )
        .await;
    let result = ok(res, 201).await;
    assert_eq!(result["crisis"]["reason_code"], "critical_item");
    let seen = alerts(&app, &sup, "open").await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["source"], "assessment");
    assert_eq!(seen[0]["level"], "passive");
    let mine = ok(
        app.get(
            &format!("/api/v1/consultations/{}", req["id"].as_str().unwrap()),
            Some(&person),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(mine["priority"], "prioritized");
    // Without an open request, an assessment raises no alert (its result has its own crisis
    // block): someone else takes the scale.
    let other = app.user_token("not-waiting").await;
    let res = app
        .post(
            "/api/v1/scales/phq9/submissions",
            Some(&other),
            json!({"answers": [0, 0, 0, 0, 0, 0, 0, 0, 1]}),
        )
        .await;
    ok(res, 201).await;
    assert_eq!(alerts(&app, &sup, "all").await.len(), 1);
}

#[tokio::test]
async fn the_lexicon_is_data_that_admins_edit() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let sup = supervisor(&app, &admin, "sup-e", true).await;
    let built_in = ok(
        app.get("/api/v1/admin/risk-lexicon", Some(&admin)).await,
        200,
    )
    .await;
    let phrases = built_in["phrases"].as_array().unwrap();
    assert!(phrases.len() >= 60, "{}", phrases.len());
    assert!(phrases.iter().any(|p| p["text"] == "想…死"
        && p["category"] == "wish"
        && p["level"].is_null()
        && p["source"].is_string()));
    assert!(!built_in["combinations"].as_array().unwrap().is_empty());
    assert!(
        built_in["others"]
            .as_array()
            .unwrap()
            .contains(&json!("室友"))
    );
    assert!(built_in["updated_by"].is_null());
    assert!(
        built_in["exclusions"]
            .as_array()
            .unwrap()
            .contains(&json!("跳楼价"))
    );

    // Checked entry by entry, naming each.
    let res = app
        .put(
            "/api/v1/admin/risk-lexicon",
            Some(&admin),
            json!({"phrases": [{"text": "死", "level": "intent", "source": "x"},
                               {"text": "想躺平", "level": "distress", "source": ""}],
                   "negations": [], "exclusions": []}),
        )
        .await;
    let err = assert_error(res, 422, "validation_failed").await;
    let fields: Vec<&str> = err["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["phrases[0].text", "phrases[1].source"]);
    let res = app
        .put(
            "/api/v1/admin/risk-lexicon",
            Some(&admin),
            json!({"phrases": [{"text": "想躺平", "level": "severe", "source": "x"}],
                   "negations": [], "exclusions": []}),
        )
        .await;
    let err = assert_error(res, 422, "validation_failed").await;
    assert_eq!(err["details"][0]["field"], "phrases[0].level");
    let res = app
        .put(
            "/api/v1/admin/risk-lexicon",
            Some(&admin),
            json!({"phrases": [{"text": "想…躺平", "category": "mood", "source": "x"}],
                   "negations": [], "exclusions": []}),
        )
        .await;
    let err = assert_error(res, 422, "validation_failed").await;
    assert_eq!(err["details"][0]["field"], "phrases[0].category");
    let counselor_token = counselor(&app, &admin, "lexicon-counselor", 0).await.0;
    let res = app
        .put(
            "/api/v1/admin/risk-lexicon",
            Some(&counselor_token),
            built_in.clone(),
        )
        .await;
    assert_error(res, 403, "forbidden").await;

    // What GET answered can be sent back as it is.
    let same = ok(
        app.put("/api/v1/admin/risk-lexicon", Some(&admin), built_in.clone())
            .await,
        200,
    )
    .await;
    assert_eq!(same["phrases"], built_in["phrases"]);
    assert_eq!(same["updated_by"], "管理员");
    // A list in the shape saved before #31 (a level per phrase, no category, no combinations)
    // is still taken; what admins save applies to the next words checked.
    let saved = ok(
        app.put(
            "/api/v1/admin/risk-lexicon",
            Some(&admin),
            json!({"phrases": [{"text": "想躺平", "level": "distress", "source": "本服务的经验"}],
                   "negations": ["不"], "exclusions": []}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(saved["updated_by"], "管理员");
    assert_eq!(saved["phrases"].as_array().unwrap().len(), 1);
    let person = app.user_token("lexicon-person").await;
    let req = ask(&app, &person, "不想活了，只想躺平").await;
    assert!(req["crisis"].is_object(), "the new phrase hits");
    let seen = alerts(&app, &sup, "open").await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["level"], "distress");
    assert_eq!(seen[0]["matched"], "想躺平");
    // The #31 shape: parts with a gap, a category's level, a combination, words for others.
    let saved = ok(
        app.put(
            "/api/v1/admin/risk-lexicon",
            Some(&admin),
            json!({"phrases": [
                       {"text": "想…躺平", "category": "wish", "source": "本服务的经验"},
                       {"text": "安眠药", "category": "means", "source": "C-SSRS 3"},
                       {"text": "打算", "category": "intent_marker", "source": "C-SSRS 4"}],
                   "negations": ["不"], "exclusions": [],
                   "combinations": [{"categories": ["means", "intent_marker"], "level": "intent", "source": "C-SSRS 4"}],
                   "others": ["室友"]}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(saved["phrases"][0]["category"], "wish");
    assert!(saved["phrases"][0]["level"].is_null());
    let roommate = app.user_token("lexicon-roommate").await;
    let req = ask(&app, &roommate, "我室友最近总说想彻底躺平").await;
    assert!(req["crisis"].is_null(), "about someone else");
    let planner = app.user_token("lexicon-planner").await;
    let req = ask(&app, &planner, "我打算把攒的安眠药都吃了").await;
    assert!(req["crisis"].is_object());
    let seen = alerts(&app, &sup, "open").await;
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0]["level"], "intent");
    assert_eq!(seen[0]["matched"], "安眠药＋打算");
    let audit = ok(
        app.get(
            "/api/v1/admin/audit?action=update_risk_lexicon",
            Some(&admin),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(audit["total"], 3);
}

fn group_robot(c: &mut xinli_api::Config) {
    c.alert_webhook_url = Some(secrecy::SecretString::from(
        "/cgi-bin/webhook/send?key=test-robot",
    ));
    c.notifications.poll_every = std::time::Duration::from_millis(50);
}

async fn robot_posts(app: &TestApp, at_least: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let posts: Vec<Value> = app
            .wechat
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == "/cgi-bin/webhook/send")
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect();
        if posts.len() >= at_least || std::time::Instant::now() > deadline {
            return posts;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Escalation reaches phones: the supervisors' WeCom group robot gets one notice per
/// escalated alert (two instances running the job), with neither words nor phrase; a busy
/// answer is retried with the outbox's backoff; an alert acknowledged in time sends nothing.
#[tokio::test]
async fn escalated_alerts_are_posted_once_to_the_supervisors_group() {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, ResponseTemplate};
    let app = TestApp::spawn_with(TestOptions {
        clock_at: Some(Utc::now()),
        configure: group_robot,
        ..TestOptions::default()
    })
    .await;
    let twin = app.sibling().await;
    let clock = app.clock.clone().unwrap();
    Mock::given(method("POST"))
        .and(path("/cgi-bin/webhook/send"))
        .and(query_param("key", "test-robot"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"errcode": -1, "errmsg": "system busy"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&app.wechat)
        .await;
    Mock::given(method("POST"))
        .and(path("/cgi-bin/webhook/send"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"errcode": 0, "errmsg": "ok"})),
        )
        .with_priority(2)
        .mount(&app.wechat)
        .await;

    // Nobody on duty: escalated at once, posted at once; WeChat is busy the first time.
    let person = app.user_token("robot-person").await;
    ask(&app, &person, "活着没意思，我想结束生命").await;
    let posts = robot_posts(&app, 1).await;
    assert_eq!(posts.len(), 1, "{posts:?}");
    let content = posts[0]["text"]["content"].as_str().unwrap();
    assert!(
        content.contains("明确意图") && content.contains("咨询申请的描述"),
        "{content}"
    );
    assert!(
        !content.contains("结束生命") && !content.contains("活着"),
        "{content}"
    );
    assert_eq!(posts[0]["text"]["mentioned_list"], json!(["@all"]));
    // Retried after the backoff (1 min after a first failure), by one of the two instances.
    clock.advance(Duration::seconds(61));
    assert_eq!(robot_posts(&app, 2).await.len(), 2);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    clock.advance(Duration::minutes(30));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        robot_posts(&app, 0).await.len(),
        2,
        "sent once, never again"
    );

    // Acknowledged before its escalation: nothing is posted.
    let admin = app.admin_token().await;
    let sup = supervisor(&app, &admin, "robot-sup", true).await;
    let other = app.user_token("robot-person-2").await;
    ask(&app, &other, "我真的撑不下去了").await;
    let open = alerts(&app, &sup, "open").await;
    assert_eq!(open.len(), 2, "the first is still open, and posted");
    let fresh = open.iter().find(|a| a["escalated"] == false).unwrap();
    assert_eq!(fresh["matched"], "撑不下去");
    ok(
        app.post(
            &format!(
                "/api/v1/supervisor/alerts/{}/ack",
                fresh["id"].as_str().unwrap()
            ),
            Some(&sup),
            json!({}),
        )
        .await,
        200,
    )
    .await;
    clock.advance(Duration::minutes(10));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(robot_posts(&app, 0).await.len(), 2);
    drop(twin);
}

/// Eight messages at once with the same words: one alert, and every answer carries the
/// crisis block (the partial unique index on open alerts decides between them).
#[tokio::test]
async fn words_written_at_the_same_instant_raise_one_alert() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let sup = supervisor(&app, &admin, "sup-f", true).await;
    let person = app.user_token("many-at-once").await;
    let req = ask(&app, &person, "想找人聊聊").await;
    let id = req["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/consultations/{id}/messages");
    let sends = (0..8).map(|_| app.post(&path, Some(&person), json!({"text": "我想结束生命"})));
    for res in futures::future::join_all(sends).await {
        let body = ok(res, 201).await;
        assert_eq!(body["crisis"]["reason_code"], "risk_words");
    }
    let open = alerts(&app, &sup, "open").await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["level"], "intent");
}

/// #30: an account deletion takes the phrase and the supervisor's note off the alerts it
/// keeps for the figures (level, source, times stay).
#[tokio::test]
async fn a_deleted_account_leaves_alerts_without_words_or_notes() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let sup = supervisor(&app, &admin, "sup-forget", true).await;
    let (counselor_token, _) = counselor(&app, &admin, "forget-counselor", 1).await;
    let person = app.user_token("forget-person").await;
    let req = ask(&app, &person, "我真的不想活了").await;
    assert!(req["crisis"].is_object());
    let id = req["id"].as_str().unwrap().to_owned();
    // Served and closed: a closed consultation is kept, anonymised, for the figures.
    ok(claim(&app, &counselor_token).await, 200).await;
    ok(
        app.post(
            &format!("/api/v1/consultations/{id}/close"),
            Some(&counselor_token),
            json!({}),
        )
        .await,
        200,
    )
    .await;
    let seen = alerts(&app, &sup, "open").await;
    let alert_id = seen[0]["id"].as_str().unwrap().to_owned();
    ok(
        app.post(
            &format!("/api/v1/supervisor/alerts/{alert_id}/ack"),
            Some(&sup),
            json!({"note": "已联系本人，家属陪同就医"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(app.delete("/api/v1/me", Some(&person)).await.status(), 204);
    let all = alerts(&app, &sup, "all").await;
    let kept = all.iter().find(|a| a["id"] == alert_id.as_str()).unwrap();
    assert_eq!(kept["level"], "intent");
    assert_eq!(kept["matched"], "");
    let text = serde_json::to_string(&all).unwrap();
    assert!(!text.contains("家属陪同"), "{text}");
    assert!(!text.contains("不想活"), "{text}");
}

/// What a supervisor off duty is shown (the SQL of `list` with `escalated_by`) is what the
/// domain's `risk::visible` says, for alerts open before and after their escalation time and
/// acknowledged before and after it. On both databases.
#[tokio::test]
async fn the_stored_off_duty_list_is_the_domain_rule() {
    use xinli_domain::consultation::{Consultation, ConsultationRepository, NewRequest, Priority};
    use xinli_domain::page::PageRequest;
    use xinli_domain::risk::{Alert, Level, RiskRepository, Source, StatusFilter, visible};

    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let sup = app.create_staff(&admin, "sup.rule", "supervisor").await;
    let sup = uuid::Uuid::parse_str(sup["id"].as_str().unwrap()).unwrap();
    let db = xinli_infra::db::connect(&app.config.database_url)
        .await
        .unwrap();
    let consultations = xinli_infra::consultations::ConsultationStore::new(db.clone());
    let risk = xinli_infra::risk::RiskStore::new(db);
    let now = Utc::now();
    let minutes = |m: i64| now + Duration::minutes(m);
    // (created, escalate at, acknowledged at)
    let cases = [
        (minutes(-3), minutes(2), None),
        (minutes(-10), minutes(-5), None),
        (minutes(-10), minutes(0), None),
        (minutes(-20), minutes(-15), Some(minutes(-16))),
        (minutes(-20), minutes(-15), Some(minutes(-10))),
        (minutes(-2), minutes(3), Some(minutes(-1))),
    ];
    for (created, escalate_at, acknowledged) in cases {
        let req = NewRequest::parse("压力", "", "text").unwrap();
        let mut c = Consultation::request(uuid::Uuid::now_v7(), req, Priority::Normal, "", created);
        c.user_id = None;
        consultations.create(&c).await.unwrap();
        let alert = Alert {
            id: uuid::Uuid::now_v7(),
            consultation_id: c.id,
            user_id: None,
            level: Level::Passive,
            source: Source::Description,
            matched: "—".into(),
            message_seq: None,
            created_at: created,
            escalate_at,
            acknowledged_at: None,
            acknowledged_by: None,
            note: None,
        };
        risk.raise(&alert).await.unwrap();
        if let Some(at) = acknowledged {
            risk.acknowledge(alert.id, sup, None, at)
                .await
                .unwrap()
                .unwrap();
        }
    }
    let page = PageRequest::parse(Some(1), Some(100)).unwrap();
    let all = risk
        .list(StatusFilter::All, None, page)
        .await
        .unwrap()
        .items;
    assert_eq!(all.len(), cases.len());
    let expected: Vec<_> = all
        .iter()
        .filter(|a| visible(a, false, now))
        .map(|a| a.id)
        .collect();
    assert!(!expected.is_empty() && expected.len() < all.len());
    let shown: Vec<_> = risk
        .list(StatusFilter::All, Some(now), page)
        .await
        .unwrap()
        .items
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(
        shown, expected,
        "off duty: the store's list is the domain's"
    );
    // On duty every alert shows, in the same order.
    assert!(all.iter().all(|a| visible(a, true, now)));
}
