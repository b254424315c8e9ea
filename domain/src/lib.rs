//! Business rules of 心嚟在线.
//!
//! This crate knows nothing about HTTP, SQL or Redis. It declares what it needs from the
//! outside world as traits ([`account::UserRepository`], [`cache::Cache`],
//! [`wechat::WechatGateway`], [`clock::Clock`], …); `xinli-infra` implements them and
//! `xinli-api` wires everything together.
//!
//! A module per business area: a newcomer adding, say, hotlines writes `domain::hotline`
//! (types, validation, rules, repository trait), then the matching `infra` repository and the
//! `api` routes, copying the shape of `account`.

pub mod account;
pub mod article;
pub mod assessment;
pub mod audit;
pub mod cache;
pub mod clock;
pub mod consultation;
pub mod disclosure;
pub mod error;
pub mod hotline;
pub mod lecture;
pub mod notification;
pub mod page;
pub mod period;
pub mod retention;
pub mod risk;
pub mod schedule;
pub mod screening;
pub mod station;
pub mod survey;
pub mod throttle;
pub mod validation;
pub mod wechat;

pub use error::{Conflict, RepoError};
pub use validation::{FieldError, ValidationError};
