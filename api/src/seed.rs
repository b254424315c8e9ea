//! Accounts created at start: the operator's bootstrap admin (`XINLI_ADMIN_*`, any mode)
//! and, in dev mode only, demo accounts for trying the API.

use secrecy::ExposeSecret;
use xinli_domain::account::{NewPassword, NewStaff, StaffRole, Username};

use crate::startup::StartupError;
use crate::state::AppState;

/// Demo accounts (dev mode only). The password is public: never use dev mode in production.
pub const DEMO_STAFF: &[(&str, &str, StaffRole)] = &[
    ("demo-admin", "演示管理员", StaffRole::Admin),
    ("demo-counselor", "演示咨询师", StaffRole::Counselor),
    ("demo-supervisor", "演示督导", StaffRole::Supervisor),
];
pub const DEMO_PASSWORD: &str = "xinli-demo-2026";

async fn ensure_staff(
    state: &AppState,
    username: &str,
    password: &str,
    role: StaffRole,
    display_name: &str,
) -> Result<bool, StartupError> {
    let username = Username::parse(username)
        .map_err(|e| StartupError::Seed(format!("username {username:?}: {}", e.0[0].message)))?;
    if state
        .staff
        .find_by_username(&username)
        .await
        .map_err(|e| StartupError::Seed(e.to_string()))?
        .is_some()
    {
        return Ok(false);
    }
    let password = NewPassword::parse(password)
        .map_err(|e| StartupError::Seed(format!("password: {}", e.0[0].message)))?;
    let password_hash = state
        .passwords
        .hash(&password)
        .await
        .map_err(|e| StartupError::Seed(e.to_string()))?;
    state
        .staff
        .create(
            NewStaff {
                username,
                password_hash,
                role,
                display_name: display_name.to_owned(),
            },
            state.clock.now(),
        )
        .await
        .map_err(|e| StartupError::Seed(e.to_string()))?;
    Ok(true)
}

/// The seed file: an `about` text, and per line the admin request plus its `source`.
#[derive(serde::Deserialize)]
struct HotlineSeedFile {
    hotlines: Vec<serde_json::Value>,
}

/// The real hotlines of `infra/seeds/hotlines.json`, when the directory is empty.
async fn seed_hotlines(state: &AppState) -> Result<(), StartupError> {
    let existing = state
        .hotlines
        .list_all(xinli_domain::page::PageRequest::default())
        .await
        .map_err(|e| StartupError::Seed(e.to_string()))?;
    if existing.total > 0 {
        return Ok(());
    }
    let file: HotlineSeedFile =
        crate::extract::parse_json(include_bytes!("../../infra/seeds/hotlines.json"))
            .map_err(|e| StartupError::Seed(format!("hotlines.json: {e}")))?;
    for mut entry in file.hotlines {
        if let Some(fields) = entry.as_object_mut() {
            fields.remove("source");
        }
        let line: crate::routes::hotlines::HotlineRequest =
            crate::extract::parse_json(entry.to_string().as_bytes())
                .map_err(|e| StartupError::Seed(format!("hotlines.json: {e}")))?;
        let input = line
            .parse()
            .map_err(|e| StartupError::Seed(format!("hotline {}: {e}", line.name)))?;
        state
            .hotlines
            .create(input, state.clock.now())
            .await
            .map_err(|e| StartupError::Seed(e.to_string()))?;
    }
    tracing::info!("dev mode: hotline directory seeded");
    Ok(())
}

#[derive(serde::Deserialize)]
struct StationSeedFile {
    stations: Vec<serde_json::Value>,
}

/// The stations of `infra/seeds/stations.json` (seed 002 附件 2, seed 001), when there are
/// none. Session length, seats, notice and cancel deadline are the service's defaults.
async fn seed_stations(state: &AppState) -> Result<(), StartupError> {
    let seed_err = |e: xinli_domain::RepoError| StartupError::Seed(e.to_string());
    if !state
        .stations
        .list(false)
        .await
        .map_err(seed_err)?
        .is_empty()
    {
        return Ok(());
    }
    let file: StationSeedFile =
        crate::extract::parse_json(include_bytes!("../../infra/seeds/stations.json"))
            .map_err(|e| StartupError::Seed(format!("stations.json: {e}")))?;
    let defaults = xinli_domain::station::BookingRules::default();
    for mut entry in file.stations {
        if let Some(fields) = entry.as_object_mut() {
            fields.remove("source");
            for (k, v) in [
                ("slot_minutes", defaults.slot_minutes),
                ("break_minutes", defaults.break_minutes),
                ("seats", defaults.seats),
            ] {
                fields.entry(k).or_insert(v.into());
            }
        }
        let request: crate::routes::stations::StationRequest =
            crate::extract::parse_json(entry.to_string().as_bytes())
                .map_err(|e| StartupError::Seed(format!("stations.json: {e}")))?;
        let input = request
            .parse_input(state)
            .await
            .map_err(|e| StartupError::Seed(format!("station {}: {e}", request.name)))?;
        state
            .stations
            .create(input, state.clock.now())
            .await
            .map_err(seed_err)?;
    }
    tracing::info!("dev mode: counseling stations seeded");
    Ok(())
}

#[derive(serde::Deserialize)]
struct LectureSeedFile {
    series: Vec<LectureSeedSeries>,
}

#[derive(serde::Deserialize)]
struct LectureSeedSeries {
    name: String,
    note: Option<String>,
    topics: Vec<LectureSeedTopic>,
}

#[derive(serde::Deserialize)]
struct LectureSeedTopic {
    number: Option<u32>,
    title: String,
    points: String,
    minutes: Option<u32>,
}

/// The lecture menus of `infra/seeds/lectures.json` (seed 002 附件 4; seed 000), when there
/// is no series yet.
async fn seed_lectures(state: &AppState) -> Result<(), StartupError> {
    let seed_err = |e: xinli_domain::RepoError| StartupError::Seed(e.to_string());
    if !state.lectures.series().await.map_err(seed_err)?.is_empty() {
        return Ok(());
    }
    let file: LectureSeedFile =
        crate::extract::parse_json(include_bytes!("../../infra/seeds/lectures.json"))
            .map_err(|e| StartupError::Seed(format!("lectures.json: {e}")))?;
    for series in file.series {
        let created = state
            .lectures
            .create_series(series.name, series.note, state.clock.now())
            .await
            .map_err(seed_err)?;
        for t in series.topics {
            let input = xinli_domain::lecture::TopicInput::parse(
                created.id, t.number, &t.title, &t.points, t.minutes,
            )
            .map_err(|e| StartupError::Seed(format!("lecture topic {}: {e:?}", t.title)))?;
            state
                .lectures
                .create_topic(input, state.clock.now())
                .await
                .map_err(seed_err)?;
        }
    }
    tracing::info!("dev mode: lecture menu seeded");
    Ok(())
}

/// The standard scales, one file each (`infra/seeds/scales/`). They are content the service
/// needs in every mode, so they are loaded whenever a code is missing; admin edits of an
/// existing scale are kept.
const SCALE_FILES: &[(&str, &str)] = &[
    ("phq9", include_str!("../../infra/seeds/scales/phq9.json")),
    ("gad7", include_str!("../../infra/seeds/scales/gad7.json")),
    ("pss10", include_str!("../../infra/seeds/scales/pss10.json")),
    ("epds", include_str!("../../infra/seeds/scales/epds.json")),
    ("who5", include_str!("../../infra/seeds/scales/who5.json")),
    ("k10", include_str!("../../infra/seeds/scales/k10.json")),
];

/// Parses and checks every scale file (also used by tests).
pub fn standard_scales() -> Result<Vec<xinli_domain::assessment::Scale>, StartupError> {
    SCALE_FILES
        .iter()
        .map(|(code, text)| {
            let scale: xinli_domain::assessment::Scale = serde_json::from_str(text)
                .map_err(|e| StartupError::Seed(format!("scale {code}: {e}")))?;
            scale.check().map_err(|e| {
                StartupError::Seed(format!("scale {code}: {} {}", e.0[0].field, e.0[0].message))
            })?;
            Ok(scale)
        })
        .collect()
}

async fn seed_scales(state: &AppState) -> Result<(), StartupError> {
    for scale in standard_scales()? {
        if state
            .scales
            .find(&scale.code)
            .await
            .map_err(|e| StartupError::Seed(e.to_string()))?
            .is_none()
        {
            state
                .scales
                .save(&scale, state.clock.now())
                .await
                .map_err(|e| StartupError::Seed(e.to_string()))?;
        }
    }
    Ok(())
}

/// The articles of `infra/seeds/articles.json` (with a `slug` each), published a day apart,
/// when there are none yet.
async fn seed_articles(state: &AppState) -> Result<(), StartupError> {
    let err = |e: xinli_domain::RepoError| StartupError::Seed(e.to_string());
    let existing = state
        .articles
        .list_admin(None, xinli_domain::page::PageRequest::default())
        .await
        .map_err(err)?;
    if existing.total > 0 {
        return Ok(());
    }
    let file: serde_json::Value =
        serde_json::from_str(include_str!("../../infra/seeds/articles.json"))
            .map_err(|e| StartupError::Seed(format!("articles.json: {e}")))?;
    let entries = file
        .get("articles")
        .and_then(|a| a.as_array())
        .cloned()
        .unwrap_or_default();
    let now = state.clock.now();
    for (i, mut entry) in entries.into_iter().enumerate() {
        if let Some(fields) = entry.as_object_mut() {
            fields.remove("slug");
        }
        let req: crate::routes::articles::ArticleRequest =
            crate::extract::parse_json(entry.to_string().as_bytes())
                .map_err(|e| StartupError::Seed(format!("articles.json #{i}: {e}")))?;
        let input = req
            .parse()
            .map_err(|e| StartupError::Seed(format!("article {}: {e}", req.title)))?;
        let html = state.markdown.to_safe_html(&input.body);
        let a = state
            .articles
            .create(&input, &html, now)
            .await
            .map_err(err)?;
        let at = now - chrono::Duration::days(i64::try_from(i).unwrap_or(0) + 1);
        state
            .articles
            .set_status(
                a.id,
                xinli_domain::article::ArticleStatus::Published,
                Some(at),
                now,
            )
            .await
            .map_err(err)?;
    }
    tracing::info!("dev mode: articles seeded");
    Ok(())
}

/// The built-in risk lexicon of `infra/seeds/risk_lexicon.json` (#17; its `about` names the
/// sources).
pub fn builtin_lexicon() -> Result<xinli_domain::risk::Lexicon, StartupError> {
    let seed: xinli_domain::risk::LexiconData =
        crate::extract::parse_json(include_bytes!("../../infra/seeds/risk_lexicon.json"))
            .map_err(|e| StartupError::Seed(format!("risk_lexicon.json: {e}")))?;
    xinli_domain::risk::Lexicon::parse(seed)
        .map_err(|e| StartupError::Seed(format!("risk_lexicon.json: {:?}", e.0)))
}

/// The built-in lexicon, in every mode, unless admins saved one: a safety net is not a demo.
/// A stored copy of an earlier built-in list (never saved by an admin) is replaced, so that an
/// upgrade brings the new patterns; an admin's own list is kept as it is (it still reads).
async fn seed_risk_lexicon(state: &AppState) -> Result<(), StartupError> {
    let lexicon = builtin_lexicon()?;
    state
        .risk
        .save_lexicon(&lexicon, None, state.clock.now(), true)
        .await
        .map_err(|e| StartupError::Seed(e.to_string()))
}

pub async fn run(state: &AppState) -> Result<(), StartupError> {
    seed_scales(state).await?;
    seed_risk_lexicon(state).await?;
    if let Some((username, password)) = &state.config.bootstrap_admin
        && ensure_staff(
            state,
            username,
            password.expose_secret(),
            StaffRole::Admin,
            "管理员",
        )
        .await?
    {
        tracing::info!(username = %username, "bootstrap admin created");
    }
    if state.config.dev_mode {
        for (username, display_name, role) in DEMO_STAFF {
            if ensure_staff(state, username, DEMO_PASSWORD, *role, display_name).await? {
                tracing::warn!(
                    username,
                    password = DEMO_PASSWORD,
                    "dev mode: demo staff account created"
                );
            }
        }
        seed_hotlines(state).await?;
        seed_articles(state).await?;
        seed_stations(state).await?;
        seed_lectures(state).await?;
    } else {
        disable_demo_staff(state).await?;
    }
    Ok(())
}

/// Outside dev mode, a demo account that still has the published demo password (a database
/// once started in dev mode) is disabled and its sessions revoked: anyone could log in.
async fn disable_demo_staff(state: &AppState) -> Result<(), StartupError> {
    let seed_err = |e: xinli_domain::RepoError| StartupError::Seed(e.to_string());
    for (username, _, _) in DEMO_STAFF {
        let Ok(name) = Username::parse(username) else {
            continue;
        };
        let Some(staff) = state
            .staff
            .find_by_username(&name)
            .await
            .map_err(seed_err)?
        else {
            continue;
        };
        if staff.disabled
            || !state
                .passwords
                .verify(DEMO_PASSWORD, &staff.password_hash)
                .await
        {
            continue;
        }
        let now = state.clock.now();
        let changes = xinli_domain::account::StaffChanges {
            disabled: Some(true),
            ..Default::default()
        };
        state
            .staff
            .update(staff.id, &changes, now)
            .await
            .map_err(seed_err)?;
        state
            .refresh_tokens
            .revoke_subject(xinli_domain::account::Subject::Staff(staff.id), now)
            .await
            .map_err(seed_err)?;
        tracing::warn!(
            username,
            "demo staff account with the demo password disabled (not in dev mode)"
        );
    }
    Ok(())
}
