//! SeaORM entities, hand-written (no `sea-orm-cli generate` output to be overwritten).
//! They mirror the migrations; behaviour lives in the repository modules, not here.

pub mod article_favorites;
pub mod article_likes;
pub mod articles;
pub mod assessments;
pub mod audit_counts;
pub mod audit_log;
pub mod booking_waitlist;
pub mod bookings;
pub mod consultation_messages;
pub mod consultations;
pub mod counselor_status;
pub mod hotline_dials;
pub mod hotlines;
pub mod lecture_requests;
pub mod lecture_series;
pub mod lecture_topics;
pub mod outbox;
pub mod refresh_tokens;
pub mod risk_alerts;
pub mod risk_lexicon;
pub mod scales;
pub mod screening_entries;
pub mod screening_reports;
pub mod staff;
pub mod station_closures;
pub mod station_counselors;
pub mod stations;
pub mod subscription_grants;
pub mod supervisor_duty;
pub mod survey_answers;
pub mod users;
