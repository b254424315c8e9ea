//! Route registration. Every route is a `#[get]`/`#[post]`/… handler with a
//! `#[utoipa::path]`, registered here with `.service()`, which puts it in the OpenAPI spec.
//! (`.route()` would silently leave it out; clippy forbids it, see `clippy.toml`.)

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub mod admin_audit;
pub mod admin_staff;
pub mod admin_stats;
pub mod articles;
pub mod assessments;
pub mod auth;
pub mod consultations;
pub mod health;
pub mod hotlines;
pub mod labels;
pub mod lecture_surveys;
pub mod lectures;
pub mod lectures_admin;
pub mod me;
pub mod notifications;
pub mod risk;
pub mod risk_lexicon;
pub mod screenings;
pub mod stations;
pub mod surveys;

/// Registers every route of the service.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(
            // The router tries a scope's routes in the order they were registered, and every
            // route tried costs (a regular expression for each one with a path parameter):
            // the public lists, which most requests are, come first.
            scope::scope("/api/v1")
                .configure(articles::configure_lists)
                .configure(hotlines::configure_list)
                .configure(labels::configure)
                .configure(auth::configure)
                .configure(me::configure)
                .configure(hotlines::configure)
                .configure(articles::configure)
                .configure(assessments::configure)
                .configure(consultations::configure)
                .configure(admin_staff::configure)
                .configure(admin_audit::configure)
                .configure(stations::configure)
                .configure(lectures::configure)
                .configure(lectures_admin::configure)
                .configure(lecture_surveys::configure)
                .configure(screenings::configure)
                .configure(surveys::configure)
                .configure(notifications::configure)
                .configure(risk::configure)
                .configure(risk_lexicon::configure)
                .configure(admin_stats::configure),
        );
}
