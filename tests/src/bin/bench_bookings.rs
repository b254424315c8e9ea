//! Booking benchmark: throughput and latency of `POST /stations/{id}/bookings` under
//! contention (everyone asks for the same session at once) and without it (everyone asks for a
//! different session), on one instance and on two sharing the database, with a check that no
//! session was ever overbooked.
//!
//! `cargo run --release -p xinli-tests --bin bench_bookings` (SQLite + in-process cache), or
//! with `XINLI_TEST_DATABASE_URL` / `XINLI_TEST_REDIS_URL` for PostgreSQL + Redis. Prints a
//! report; asserts nothing but the absence of overbooking.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use xinli_domain::schedule::CHINA;
use xinli_tests::{TestApp, TestOptions, at, next_monday, quantile};

const PEOPLE: usize = 60;
const ROUNDS: i64 = 10;
const SEATS: u64 = 3;

fn roomy(c: &mut xinli_api::Config) {
    c.limits.logins_per_ip = xinli_domain::throttle::Limit::new(1_000_000, Duration::from_secs(60));
    c.limits.bookings_per_user =
        xinli_domain::throttle::Limit::new(1_000_000, Duration::from_secs(60));
    c.booking.per_day = 1000;
    c.booking.max_upcoming = 1000;
    c.workers = Some(4);
}

fn iso(t: DateTime<Utc>) -> String {
    t.with_timezone(&CHINA).to_rfc3339()
}

struct Outcome {
    elapsed: Duration,
    latencies: Vec<Duration>,
    created: usize,
    full: usize,
    other: usize,
}

/// Every person asks for a session at once; `session(i)` says which.
async fn burst(
    apps: &[&TestApp],
    tokens: &[String],
    station: &str,
    session: impl Fn(usize) -> DateTime<Utc>,
) -> Outcome {
    let started = Instant::now();
    let requests = tokens.iter().enumerate().map(|(i, t)| {
        let app = apps[i % apps.len()];
        let start = session(i);
        async move {
            let t0 = Instant::now();
            let res = app
                .post(
                    &format!("/api/v1/stations/{station}/bookings"),
                    Some(t),
                    json!({"start_at": iso(start)}),
                )
                .await;
            (t0.elapsed(), res.status().as_u16())
        }
    });
    let answers = futures::future::join_all(requests).await;
    let elapsed = started.elapsed();
    let mut out = Outcome {
        elapsed,
        latencies: vec![],
        created: 0,
        full: 0,
        other: 0,
    };
    for (latency, status) in answers {
        out.latencies.push(latency);
        match status {
            201 => out.created += 1,
            409 => out.full += 1,
            _ => out.other += 1,
        }
    }
    out
}

async fn run(two_instances: bool) {
    let monday = next_monday();
    let a = TestApp::spawn_with(TestOptions {
        configure: roomy,
        clock_at: Some(at(monday, 0, 6, 0)),
        ..TestOptions::default()
    })
    .await;
    let b = if two_instances {
        Some(a.sibling().await)
    } else {
        None
    };
    let apps: Vec<&TestApp> = match &b {
        Some(b) => vec![&a, b],
        None => vec![&a],
    };
    let admin = a.admin_token().await;
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let res: Value = a
        .post(
            "/api/v1/admin/stations",
            Some(&admin),
            json!({
                "name": "压测站点", "unit": "压测", "region": "长沙市", "audiences": ["worker"],
                "hours": {"kind": "weekly", "windows": days.iter().map(|d| json!({"day": d, "start": "00:00", "end": "24:00"})).collect::<Vec<_>>()},
                "slot_minutes": 15, "break_minutes": 0, "seats": SEATS, "booking_window_days": 7
            }),
        )
        .await
        .json()
        .await
        .unwrap();
    let station = res["id"].as_str().expect("station created").to_owned();
    let mut tokens = vec![];
    for i in 0..PEOPLE {
        tokens.push(a.user_token(&format!("bench-booker-{i}")).await);
    }
    // Contention: everyone asks for the same session; `SEATS` of them get it.
    let mut latencies = vec![];
    let (mut elapsed, mut created, mut full, mut other, mut overbooked) =
        (Duration::ZERO, 0, 0, 0, 0);
    for round in 0..ROUNDS {
        let start = at(monday, 1, 0, 0) + chrono::Duration::minutes(15 * round);
        let o = burst(&apps, &tokens, &station, |_| start).await;
        if o.created as u64 > SEATS {
            overbooked += 1;
        }
        elapsed += o.elapsed;
        created += o.created;
        full += o.full;
        other += o.other;
        latencies.extend(o.latencies);
    }
    latencies.sort();
    let requests = latencies.len();
    println!(
        "| {} | same session ({PEOPLE} at once, {SEATS} seats, {ROUNDS} rounds) | {:.0} | {:.1} / {:.1} | {created} booked, {full} refused (409), {other} other | {overbooked} |",
        if two_instances { "2" } else { "1" },
        requests as f64 / elapsed.as_secs_f64(),
        quantile(&latencies, 0.5).as_secs_f64() * 1000.0,
        quantile(&latencies, 0.99).as_secs_f64() * 1000.0,
    );
    // No contention: each person asks for a session of their own.
    let mut latencies = vec![];
    let (mut elapsed, mut created, mut other) = (Duration::ZERO, 0, 0);
    for round in 0..ROUNDS {
        let day_start = at(monday, 2 + round / 4, 0, 0);
        let offset = (round % 4) as usize * PEOPLE;
        let o = burst(&apps, &tokens, &station, |i| {
            day_start + chrono::Duration::minutes(15 * ((offset + i) % 96) as i64)
        })
        .await;
        elapsed += o.elapsed;
        created += o.created;
        other += o.other + o.full;
        latencies.extend(o.latencies);
    }
    latencies.sort();
    let requests = latencies.len();
    println!(
        "| {} | own session each ({PEOPLE} at once, {ROUNDS} rounds) | {:.0} | {:.1} / {:.1} | {created} booked, {other} refused | – |",
        if two_instances { "2" } else { "1" },
        requests as f64 / elapsed.as_secs_f64(),
        quantile(&latencies, 0.5).as_secs_f64() * 1000.0,
        quantile(&latencies, 0.99).as_secs_f64() * 1000.0,
    );
}

#[tokio::main]
async fn main() {
    let backend = if xinli_tests::test_database_url().is_some() {
        "PostgreSQL + Redis"
    } else {
        "SQLite + in-process cache"
    };
    println!("bench_bookings on {backend}");
    println!(
        "| instances | scenario | requests/s | p50 / p99 ms | outcome | overbooked sessions |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    run(false).await;
    run(true).await;
}
