//! Adapters that implement the traits declared in `xinli-domain`: SeaORM repositories on
//! SQLite or PostgreSQL, the Redis or in-process cache, the WeChat `jscode2session` client
//! and argon2 password hashing.

pub mod accounts;
pub mod articles;
pub mod assessments;
pub mod audit;
pub mod cache;
pub mod consultations;
pub mod db;
pub mod entities;
pub mod hotlines;
pub mod lectures;
pub mod markdown;
pub mod notifications;
pub mod password;
pub mod redis_link;
pub mod retention;
pub mod risk;
pub mod search;
pub mod signal;
pub mod stations;
pub mod surveys;
pub mod views;
pub mod wechat;
pub mod wechat_token;
