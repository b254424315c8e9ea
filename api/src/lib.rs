//! The HTTP layer of 心嚟在线 and the `xinli` server.
//!
//! Layout: `routes/` holds one module per feature (DTOs beside their handlers, each with a
//! `#[utoipa::path]`); `auth/` the token logic and the role extractors; `error` the one error
//! type and its code table; `extract` the JSON/query extractors with field-level errors;
//! `request_context` the request id, logging and uniform error bodies; `startup` the wiring.

pub mod auth;
pub mod config;
pub mod console;
pub mod crisis;
pub mod dto;
pub mod error;
pub mod extract;
pub mod fallback;
pub mod jobs;
pub mod limits;
pub mod openapi;
pub mod request_context;
pub mod routes;
pub mod schedule;
pub mod seed;
pub mod startup;
pub mod state;
pub mod strict_json;
pub mod telemetry;
pub mod wechat_code;

pub use config::Config;
pub use startup::{Application, Overrides};
