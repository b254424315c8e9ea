//! 心理测评: exact scoring of every scale at every band boundary (expected bands written from
//! the published tables, not read from the data files), reverse items, the WHO-5 transform,
//! critical items and crisis answers, malformed sheets, history isolation, trends, export,
//! delete, and the admin edit.

use serde_json::{Value, json};
use xinli_tests::{TestApp, TestOptions, assert_error};

/// (reported score min, max, level) per band, from the published scoring as specified.
fn published_bands(code: &str) -> Vec<(i64, i64, u64)> {
    match code {
        "phq9" => vec![(0, 4, 0), (5, 9, 1), (10, 14, 2), (15, 19, 2), (20, 27, 3)],
        "gad7" => vec![(0, 4, 0), (5, 9, 1), (10, 14, 2), (15, 21, 3)],
        "pss10" => vec![(0, 13, 0), (14, 26, 1), (27, 40, 2)],
        "epds" => vec![(0, 9, 0), (10, 12, 1), (13, 30, 2)],
        "who5" => vec![(0, 28, 2), (29, 50, 1), (51, 100, 0)],
        "k10" => vec![(10, 15, 0), (16, 21, 1), (22, 29, 2), (30, 50, 3)],
        other => panic!("no published bands for {other}"),
    }
}

/// (item count, raw min, raw max, multiplier, reversed 1-based items, critical items)
fn published_shape(code: &str) -> (usize, i64, i64, i64, Vec<usize>, Vec<usize>) {
    match code {
        "phq9" => (9, 0, 27, 1, vec![], vec![9]),
        "gad7" => (7, 0, 21, 1, vec![], vec![]),
        "pss10" => (10, 0, 40, 1, vec![4, 5, 7, 8], vec![]),
        "epds" => (10, 0, 30, 1, vec![3, 5, 6, 7, 8, 9, 10], vec![10]),
        "who5" => (5, 0, 25, 4, vec![1, 2, 3, 4, 5], vec![]),
        "k10" => (10, 10, 50, 1, vec![], vec![]),
        other => panic!("no published shape for {other}"),
    }
}

const CODES: [&str; 6] = ["phq9", "gad7", "pss10", "epds", "who5", "k10"];

/// One scale with its items, options and bands (200).
async fn scale(app: &TestApp, code: &str) -> Value {
    app.get_ok(&format!("/api/v1/scales/{code}"), None).await
}

/// Option indices whose points sum to `raw`, avoiding points on critical items when possible.
fn sheet_for(scale: &Value, raw: i64, avoid: &[usize]) -> Vec<usize> {
    let items = scale["items"].as_array().unwrap();
    let points = |item: &Value| -> Vec<i64> {
        item["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["score"].as_i64().unwrap())
            .collect()
    };
    let mut chosen: Vec<i64> = items
        .iter()
        .map(|i| *points(i).iter().min().unwrap())
        .collect();
    let mut left = raw - chosen.iter().sum::<i64>();
    // Fill non-critical items first.
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|i| avoid.contains(&(i + 1)));
    for i in order {
        let max = *points(&items[i]).iter().max().unwrap();
        let add = left.min(max - chosen[i]);
        chosen[i] += add;
        left -= add;
    }
    assert_eq!(left, 0, "raw {raw} reachable");
    items
        .iter()
        .zip(chosen)
        .map(|(item, p)| points(item).iter().position(|x| *x == p).unwrap())
        .collect()
}

/// A submission as it answers: for tests whose point is the answer.
async fn submit(app: &TestApp, token: &str, code: &str, answers: Value) -> reqwest::Response {
    app.post(
        &format!("/api/v1/scales/{code}/submissions"),
        Some(token),
        json!({ "answers": answers }),
    )
    .await
}

/// A submission that must be stored (201): the result.
async fn submitted(app: &TestApp, token: &str, code: &str, answers: Value) -> Value {
    app.post_expect(
        &format!("/api/v1/scales/{code}/submissions"),
        Some(token),
        json!({ "answers": answers }),
        201,
    )
    .await
}

/// The user's history, first page (200); `query` starts with `?` or is empty.
async fn history(app: &TestApp, token: &str, query: &str) -> Value {
    app.get_ok(&format!("/api/v1/me/assessments{query}"), Some(token))
        .await
}

/// One of the user's results (200).
async fn result(app: &TestApp, token: &str, id: &str) -> Value {
    app.get_ok(&format!("/api/v1/me/assessments/{id}"), Some(token))
        .await
}

/// The user's trend for a scale (200).
async fn trend(app: &TestApp, token: &str, code: &str) -> Value {
    app.get_ok(
        &format!("/api/v1/me/assessments/trends/{code}"),
        Some(token),
    )
    .await
}

#[tokio::test]
async fn scales_list_their_items_options_and_points_as_published() {
    let app = TestApp::spawn().await;
    let list = app.get_ok("/api/v1/scales", None).await;
    let codes: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    for code in CODES {
        assert!(codes.contains(&code), "{code} listed");
        let s = scale(&app, code).await;
        let (count, raw_min, raw_max, mult, reversed, critical) = published_shape(code);
        let items = s["items"].as_array().unwrap();
        assert_eq!(items.len(), count, "{code} items");
        assert_eq!(s["score_multiplier"], mult);
        assert_eq!(s["score_min"], raw_min * mult);
        assert_eq!(s["score_max"], raw_max * mult);
        assert_eq!(
            s["critical_items"],
            json!(critical),
            "{code} critical items"
        );
        for (i, item) in items.iter().enumerate() {
            let pts: Vec<i64> = item["options"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["score"].as_i64().unwrap())
                .collect();
            let descending = pts.windows(2).all(|w| w[0] > w[1]);
            let ascending = pts.windows(2).all(|w| w[0] < w[1]);
            let is_reversed = reversed.contains(&(i + 1));
            assert!(
                if is_reversed { descending } else { ascending },
                "{code} item {} points {pts:?}",
                i + 1
            );
            assert_eq!(item["options"][0]["index"], 0);
        }
        let bands: Vec<(i64, i64, u64)> = s["bands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["min"].as_i64().unwrap(),
                    b["max"].as_i64().unwrap(),
                    b["level"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(bands, published_bands(code), "{code} bands");
        assert!(
            !s["source"].as_str().unwrap().is_empty() && !s["licence"].as_str().unwrap().is_empty()
        );
    }
    assert_error(app.get("/api/v1/scales/nope", None).await, 404, "not_found").await;
}

#[tokio::test]
async fn every_scale_scores_exactly_at_every_band_boundary() {
    // Far more submissions than one person makes: lift the per-person limit.
    let app = TestApp::spawn_with(TestOptions {
        configure: |c| {
            c.limits.assessments_per_user =
                xinli_domain::throttle::Limit::new(10_000, std::time::Duration::from_secs(60));
        },
        ..TestOptions::default()
    })
    .await;
    let token = app.user_token("boundary-tester").await;
    for code in CODES {
        let s = scale(&app, code).await;
        let (_, _, _, mult, _, critical) = published_shape(code);
        let bands = published_bands(code);
        // Both edges of every band, as the nearest whole raw scores inside it (WHO-5's reported
        // score moves in steps of 4: 29 is reached as 32, 50 as 48).
        let targets: Vec<(i64, u64, i64, i64)> = bands
            .iter()
            .flat_map(|&(min, max, level)| {
                let lowest = (min + mult - 1).div_euclid(mult);
                let highest = max.div_euclid(mult);
                assert!(lowest <= highest, "{code} band {min}-{max} reachable");
                [(lowest, level, min, max), (highest, level, min, max)]
            })
            .collect();
        for (raw, level, min, max) in targets {
            let answers = sheet_for(&s, raw, &critical);
            let res = submit(&app, &token, code, json!(answers)).await;
            assert_eq!(res.status(), 201, "{code} raw {raw}");
            let r: Value = res.json().await.unwrap();
            assert_eq!(r["score"], raw * mult, "{code} raw {raw}");
            assert_eq!(r["band"]["level"], level, "{code} score {}", raw * mult);
            assert_eq!(r["band"]["min"], min);
            assert_eq!(r["band"]["max"], max);
            assert!(
                r["interpretation"]
                    .as_str()
                    .unwrap()
                    .starts_with("筛查结果提示"),
                "{code}: never a diagnosis"
            );
            if mult != 1 {
                assert_eq!(
                    r["raw_score"], raw,
                    "{code} raw score shown where it differs"
                );
            } else {
                assert_eq!(r["raw_score"], Value::Null);
            }
            // Crisis exactly at the top level, or when the sheet could not avoid points on a
            // critical item (EPDS 30 needs item 10 at 3).
            let critical_hit = critical.iter().any(|item| {
                s["items"][item - 1]["options"][answers[item - 1]]["score"]
                    .as_i64()
                    .unwrap()
                    > 0
            });
            assert_eq!(
                r["crisis"].is_null(),
                level < 3 && !critical_hit,
                "{code} score {}",
                raw * mult
            );
        }
    }
}

#[tokio::test]
async fn reverse_items_and_the_who5_transform() {
    let app = TestApp::spawn().await;
    let token = app.user_token("reverse-tester").await;
    // PSS-10, every first option ("从不"): the four reversed items give 4 each.
    let r = submitted(&app, &token, "pss10", json!(vec![0; 10])).await;
    assert_eq!(r["score"], 16);
    // Each reversed item on its own: "从不" scores 4, "非常经常" scores 0.
    for item in [4usize, 5, 7, 8] {
        let mut answers = vec![0usize; 10];
        for (i, a) in answers.iter_mut().enumerate() {
            // Reversed items at their 0-point option (index 4), others at 0 points (index 0).
            *a = if [4, 5, 7, 8].contains(&(i + 1)) {
                4
            } else {
                0
            };
        }
        answers[item - 1] = 0;
        let r = submitted(&app, &token, "pss10", json!(answers)).await;
        assert_eq!(r["score"], 4, "PSS item {item} reversed");
    }
    // EPDS as printed: the first option of items 3 and 5-10 is worth 3.
    let mut answers = vec![0usize; 10];
    answers[9] = 3; // item 10: "从不"
    let r = submitted(&app, &token, "epds", json!(answers)).await;
    assert_eq!(r["score"], 18, "items 3, 5-9 at 3 points each");
    // WHO-5: first options are worth 5; ×4.
    let r = submitted(&app, &token, "who5", json!([0, 0, 0, 0, 0])).await;
    assert_eq!(
        (r["score"].as_i64(), r["raw_score"].as_i64()),
        (Some(100), Some(25))
    );
    let r = submitted(&app, &token, "who5", json!([5, 5, 5, 5, 4])).await;
    assert_eq!(
        (r["score"].as_i64(), r["raw_score"].as_i64()),
        (Some(4), Some(1))
    );
    assert_eq!(r["band"]["level"], 2);
}

#[tokio::test]
async fn a_critical_item_always_brings_the_crisis_answer_with_open_hotlines_first() {
    let app = TestApp::spawn().await;
    let token = app.user_token("critical-tester").await;
    let r = submitted(&app, &token, "phq9", json!([0, 0, 0, 0, 0, 0, 0, 0, 1])).await;
    assert_eq!(r["score"], 1);
    assert_eq!(r["band"]["level"], 0, "otherwise minimal");
    let crisis = &r["crisis"];
    assert_eq!(crisis["reason_code"], "critical_item");
    assert!(crisis["reason"].as_str().unwrap().contains("热线"));
    let hotlines = crisis["hotlines"].as_array().unwrap();
    assert!(!hotlines.is_empty());
    assert!(hotlines.iter().all(|h| h["crisis"] == true));
    assert_eq!(hotlines[0]["open_now"], true, "open lines first");
    assert!(
        !hotlines.iter().any(|h| h["number"] == "12355"),
        "non-crisis lines left out"
    );

    // EPDS item 10 above zero, the rest minimal.
    let r = submitted(&app, &token, "epds", json!([0, 0, 3, 0, 3, 3, 3, 3, 3, 2])).await;
    assert_eq!(r["score"], 1);
    assert_eq!(r["crisis"]["reason_code"], "critical_item");
    let r = submitted(&app, &token, "epds", json!([0, 0, 3, 0, 3, 3, 3, 3, 3, 3])).await;
    assert_eq!(r["crisis"], Value::Null);
    // Top band without a critical item.
    let r = submitted(&app, &token, "gad7", json!([3, 3, 3, 3, 3, 3, 3])).await;
    assert_eq!(r["crisis"]["reason_code"], "severe_band");
}

#[tokio::test]
async fn malformed_sheets_are_refused_per_answer_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let token = app.user_token("sloppy").await;
    let cases = [
        (json!([0, 0, 0]), "answers"),
        (json!(vec![0; 10]), "answers"),
        (json!([0, 0, 0, 0, 4, 0, 0, 0, 0]), "answers[4]"),
        (json!([0, 0, -1, 0, 0, 0, 0, 0, 0]), "answers[2]"),
        (json!([0, 1.5, 0, 0, 0, 0, 0, 0, 0]), "answers[1]"),
        (json!([0, "1", 0, 0, 0, 0, 0, 0, 0]), "answers[1]"),
        (json!([0, null, 0, 0, 0, 0, 0, 0, 0]), "answers[1]"),
    ];
    for (answers, field) in cases {
        let body = assert_error(
            submit(&app, &token, "phq9", answers.clone()).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["details"][0]["field"], field, "{answers}");
    }
    let body = assert_error(
        submit(&app, &token, "phq9", json!([9, 0, 0, 0, 0, 0, 0, 0, -2])).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        body["details"].as_array().unwrap().len(),
        2,
        "every bad answer named"
    );
    assert_error(
        app.post(
            "/api/v1/scales/phq9/submissions",
            Some(&token),
            json!({"answers": "all zero"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        app.post("/api/v1/scales/phq9/submissions", Some(&token), json!({}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        submit(&app, &token, "nope", json!([0])).await,
        404,
        "not_found",
    )
    .await;
    let history = history(&app, &token, "").await;
    assert_eq!(history["total"], 0, "nothing stored");
}

#[tokio::test]
async fn only_users_submit_and_each_reads_only_their_own() {
    let app = TestApp::spawn().await;
    let alice = app.user_token("alice").await;
    let bob = app.user_token("bob").await;
    let admin = app.admin_token().await;
    assert_error(
        submit(&app, "", "phq9", json!(vec![0; 9])).await,
        401,
        "token_invalid",
    )
    .await;
    assert_error(
        app.post(
            "/api/v1/scales/phq9/submissions",
            None,
            json!({"answers": vec![0; 9]}),
        )
        .await,
        401,
        "unauthenticated",
    )
    .await;
    assert_error(
        submit(&app, &admin, "phq9", json!(vec![0; 9])).await,
        403,
        "forbidden",
    )
    .await;

    let mine = submitted(&app, &alice, "phq9", json!([1, 1, 1, 1, 1, 1, 1, 1, 0])).await;
    let id = mine["id"].as_str().unwrap();
    submitted(&app, &alice, "gad7", json!(vec![0; 7])).await;

    let detail = result(&app, &alice, id).await;
    assert_eq!(detail["answers"], json!([1, 1, 1, 1, 1, 1, 1, 1, 0]));
    assert_error(
        app.get(&format!("/api/v1/me/assessments/{id}"), Some(&bob))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.get(&format!("/api/v1/me/assessments/{id}"), Some(&admin))
            .await,
        403,
        "forbidden",
    )
    .await;
    let bobs = history(&app, &bob, "").await;
    assert_eq!(bobs["total"], 0);

    let all = history(&app, &alice, "").await;
    assert_eq!(all["total"], 2);
    assert_eq!(all["items"][0]["scale"], "gad7", "newest first");
    let phq = history(&app, &alice, "?scale=phq9").await;
    assert_eq!(phq["total"], 1);
    assert_eq!(phq["items"][0]["score"], 8);
}

#[tokio::test]
async fn the_trend_shows_points_over_time_with_the_band_thresholds() {
    let app = TestApp::spawn().await;
    let token = app.user_token("trending").await;
    for answers in [
        [3, 3, 3, 3, 3, 3, 3],
        [2, 2, 2, 2, 2, 2, 2],
        [1, 1, 1, 1, 1, 1, 1],
    ] {
        submitted(&app, &token, "gad7", json!(answers)).await;
    }
    let trend = trend(&app, &token, "gad7").await;
    let scores: Vec<i64> = trend["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["score"].as_i64().unwrap())
        .collect();
    assert_eq!(scores, [21, 14, 7], "oldest first");
    assert_eq!(trend["bands"].as_array().unwrap().len(), 4);
    assert_eq!(
        (trend["score_min"].as_i64(), trend["score_max"].as_i64()),
        (Some(0), Some(21))
    );
    let someone_else = app.user_token("someone-else").await;
    let other = self::trend(&app, &someone_else, "gad7").await;
    assert_eq!(other["points"], json!([]));
}

#[tokio::test]
async fn export_holds_every_answer_and_delete_removes_them() {
    let app = TestApp::spawn().await;
    let token = app.user_token("exporter").await;
    let r = submitted(&app, &token, "who5", json!([1, 2, 3, 4, 5])).await;
    let export = app.get_ok("/api/v1/me/export", Some(&token)).await;
    let a = &export["assessments"][0];
    assert_eq!(a["id"], r["id"]);
    assert_eq!(a["answers"], json!([1, 2, 3, 4, 5]));
    assert_eq!(a["raw_score"], 10);
    assert_eq!(a["score"], 40);
    assert_eq!(app.delete("/api/v1/me", Some(&token)).await.status(), 204);
    let again = app.user_token("exporter").await;
    let history = history(&app, &again, "").await;
    assert_eq!(history["total"], 0);
    assert_error(
        app.get(
            &format!("/api/v1/me/assessments/{}", r["id"].as_str().unwrap()),
            Some(&again),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn admins_edit_texts_and_bands_and_old_results_keep_theirs() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app.user_token("history-keeper").await;
    let before = submitted(&app, &user, "gad7", json!([1, 1, 1, 1, 1, 1, 0])).await;
    assert_eq!(before["band"]["label"], "轻度");

    let s = scale(&app, "gad7").await;
    let item_texts: Vec<Value> = s["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["text"].clone())
        .collect();
    let mut bands = s["bands"].clone();
    bands[1]["label"] = json!("轻度焦虑");
    let edit = json!({"name": s["name"], "short_name": "焦虑自评", "description": s["description"],
        "instructions": s["instructions"], "item_texts": item_texts, "bands": bands});
    app.put_ok("/api/v1/admin/scales/gad7", Some(&admin), edit.clone())
        .await;
    let after = submitted(&app, &user, "gad7", json!([1, 1, 1, 1, 1, 1, 0])).await;
    assert_eq!(after["band"]["label"], "轻度焦虑");
    assert_eq!(after["score"], before["score"], "scoring unchanged");
    let old = result(&app, &user, before["id"].as_str().unwrap()).await;
    assert_eq!(
        old["band"]["label"], "轻度",
        "stored results keep what was shown"
    );

    let mut gap = edit.clone();
    gap["bands"][1]["min"] = json!(6);
    let body = assert_error(
        app.put("/api/v1/admin/scales/gad7", Some(&admin), gap)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["details"][0]["field"], "bands[1].min");
    let mut short = edit.clone();
    short["item_texts"] = json!(["只有一题"]);
    assert_error(
        app.put("/api/v1/admin/scales/gad7", Some(&admin), short)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        app.put("/api/v1/admin/scales/gad7", Some(&user), edit.clone())
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.put("/api/v1/admin/scales/nope", Some(&admin), edit)
            .await,
        404,
        "not_found",
    )
    .await;
}
