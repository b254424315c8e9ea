//! Migrations that move data, tested on a database holding rows in the old shape, on both
//! backends.

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};
use xinli_migration::{Migrator, MigratorTrait};

async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<Vec<String>> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (0..4)
                .map(|i| {
                    r.try_get_by_index::<Option<String>>(i)
                        .ok()
                        .flatten()
                        .unwrap_or_else(|| "∅".into())
                })
                .collect()
        })
        .collect()
}

/// #32: lecture and service survey answers move into one table with their ids, subjects,
/// people and comments; the old tables are gone; each person still answers once per subject.
#[tokio::test]
async fn survey_answers_of_both_tables_move_into_one() {
    let empty = xinli_tests::empty_database().await;
    // One connection: the foreign keys are switched off for it while the old rows are made
    // (they point at a lecture request and people this test does not build).
    let mut options = ConnectOptions::new(empty.url.clone());
    options.max_connections(1);
    let db = Database::connect(options).await.unwrap();
    Migrator::up(&db, Some(23)).await.unwrap();
    let postgres = db.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
    db.execute_unprepared(if postgres {
        "SET session_replication_role = replica"
    } else {
        "PRAGMA foreign_keys = OFF"
    })
    .await
    .unwrap();
    let at = "'2026-12-01 10:00:00+00:00'";
    db.execute_unprepared(&format!(
        "INSERT INTO lecture_surveys (id, request_id, user_id, content, gain, comment, created_at) VALUES \
         ('00000000-0000-7000-8000-000000000001', 'lecture-1', 'person-a', 5, 4, '很实用', {at}), \
         ('00000000-0000-7000-8000-000000000002', 'lecture-1', NULL, 3, 3, NULL, {at})"
    ))
    .await
    .unwrap();
    db.execute_unprepared(&format!(
        "INSERT INTO service_surveys (id, service, subject_id, user_id, content, gain, comment, created_at) VALUES \
         ('00000000-0000-7000-8000-000000000003', 'consultation', 'consultation-1', 'person-a', 4, 5, '谢谢', {at}), \
         ('00000000-0000-7000-8000-000000000004', 'booking', 'booking-1', 'person-b', 2, 2, NULL, {at})"
    ))
    .await
    .unwrap();
    Migrator::up(&db, None).await.unwrap();

    let moved = rows(
        &db,
        "SELECT id, service, subject_id, comment FROM survey_answers ORDER BY id",
    )
    .await;
    let id = |n: u8| format!("00000000-0000-7000-8000-00000000000{n}");
    assert_eq!(
        moved,
        vec![
            vec![id(1), "lecture".into(), "lecture-1".into(), "很实用".into()],
            vec![id(2), "lecture".into(), "lecture-1".into(), "∅".into()],
            vec![
                id(3),
                "consultation".into(),
                "consultation-1".into(),
                "谢谢".into()
            ],
            vec![id(4), "booking".into(), "booking-1".into(), "∅".into()],
        ]
    );
    let people = rows(&db, "SELECT user_id FROM survey_answers ORDER BY id").await;
    assert_eq!(
        people.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(),
        ["person-a", "∅", "person-a", "person-b"]
    );
    for gone in ["lecture_surveys", "service_surveys"] {
        assert!(
            db.execute_unprepared(&format!("SELECT id FROM {gone}"))
                .await
                .is_err(),
            "{gone} is dropped"
        );
    }
    // Once per person and subject, whatever the service.
    let again = db
        .execute_unprepared(&format!(
            "INSERT INTO survey_answers (id, service, subject_id, user_id, content, gain, comment, created_at) \
             VALUES ('00000000-0000-7000-8000-000000000009', 'lecture', 'lecture-1', 'person-a', 1, 1, NULL, {at})"
        ))
        .await;
    assert!(again.is_err(), "a second answer by the same person");
    let _ = db.close().await;
}
