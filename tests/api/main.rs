//! Black-box HTTP tests. One binary for all of them (linking is slow on this machine).
//! Backends: see `xinli_tests` (the harness) — SQLite + in-process cache by default,
//! PostgreSQL + Redis with `XINLI_TEST_DATABASE_URL` / `XINLI_TEST_REDIS_URL`.

mod admin_staff;
mod articles;
mod assessments;
mod auth_staff;
mod auth_wechat;
mod cache_outage;
mod console;
mod consultations;
mod errors;
mod health;
mod hotlines;
mod lectures;
mod limits;
mod me;
mod migrations;
mod notifications;
mod openapi;
mod retention;
mod risk;
mod stations;
mod tokens;
