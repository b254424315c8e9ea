//! Retention: the words of a finished consultation and expired refresh tokens are removed
//! when their keeping time has passed (README, "Retention"); the anonymous record stays.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use xinli_tests::{TestApp, TestOptions};

use crate::consultations::{ask, claim, counselor};

fn fast_retention(c: &mut xinli_api::Config) {
    c.retention_every = Duration::from_millis(100);
}

async fn count(app: &TestApp, sql: &str) -> usize {
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
async fn until_rows(app: &TestApp, sql: &str, want: usize) -> usize {
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
