//! The risk lexicon admins edit (#17, #31): `GET/PUT /api/v1/admin/risk-lexicon`, audited.
//! The rules of the data and of matching: `xinli_domain::risk`; the lexicon in force:
//! `crate::crisis::lexicon`.

use actix_web::{HttpResponse, get, put};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use xinli_domain::account::Role;
use xinli_domain::audit::{AuditAction, AuditEntry};
use xinli_domain::risk::{Category, Combination, Level, Lexicon, LexiconData, Phrase};

use crate::auth::AdminCaller;
use crate::crisis::lexicon;
use crate::dto::{ReadOnly, cst};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::routes::risk::{RiskLevelName, staff_name};
use crate::state::{AppState, State};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_lexicon).service(put_lexicon);
}

crate::dto::string_enum!(
    /// What a lexicon entry is about: `wish`, `method`, `plan`, `preparation`, `farewell`,
    /// `burden`, `hopelessness`, `self_harm`, `present_danger` (each with a level a hit has
    /// unless the entry names its own), `means` and `intent_marker` (no level: they count only
    /// in a combination), `other` (entries saved before categories existed).
    RiskCategoryName,
    Category::ALL.map(|c| c.as_str())
);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "想…死", "category": "wish", "level": null, "source": "Lv et al. 2015: 自杀类"}))]
pub struct PhraseBody {
    /// 2–20 letters, not counting spaces and punctuation; `…` (or `*`) splits it into up to 4
    /// ordered parts with at most 8 letters between two parts, in one clause ("想…死").
    #[schema(min_length = 2, max_length = 60)]
    pub text: String,
    /// `other` when left out.
    #[serde(default)]
    #[schema(value_type = Option<RiskCategoryName>)]
    pub category: Option<String>,
    /// The entry's own level; `null` or left out: its category's.
    #[serde(default)]
    #[schema(value_type = Option<RiskLevelName>)]
    pub level: Option<String>,
    /// Where the phrase comes from (published work, or the service's own experience).
    #[schema(min_length = 1, max_length = 200)]
    pub source: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"categories": ["means", "intent_marker"], "level": "intent", "source": "C-SSRS 4–5: intent with a method"}))]
pub struct CombinationBody {
    /// 2–3 different categories found in the same clause.
    #[schema(value_type = Vec<RiskCategoryName>, min_items = 2, max_items = 3)]
    pub categories: Vec<String>,
    #[schema(value_type = RiskLevelName)]
    pub level: String,
    #[schema(min_length = 1, max_length = 200)]
    pub source: String,
}

/// The lexicon as admins send it; what `GET` answered can be sent back as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "phrases": [{"text": "想…死", "category": "wish", "level": null, "source": "Lv et al. 2015: 自杀类"}],
    "negations": ["不会", "没想过"], "exclusions": ["预防自杀", "跳楼价"],
    "combinations": [{"categories": ["means", "intent_marker"], "level": "intent", "source": "C-SSRS 4–5"}],
    "others": ["朋友", "室友", "有人"], "denials": ["从来没有过", "想都没想过"],
    "contexts": ["烧烤", "露营"]
}))]
pub struct LexiconBody {
    #[schema(min_items = 1, max_items = 1000)]
    pub phrases: Vec<PhraseBody>,
    /// Words that, just before a part of an entry in the same clause, cancel a `distress` hit
    /// and lower any other by one level. 1–8 letters each.
    #[schema(max_items = 100)]
    pub negations: Vec<String>,
    /// Everyday phrases that contain a risk phrase but mean something else (预防自杀, 跳楼价);
    /// an entry with a part inside one does not count. 2–30 letters each, parts allowed.
    #[schema(max_items = 500)]
    pub exclusions: Vec<String>,
    /// Categories that together make a hit at a level; none when left out.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub combinations: Vec<CombinationBody>,
    /// Words for someone other than the writer (朋友, 室友, 有人, 他): an entry after one of
    /// them in the same clause with no 我 between does not count. 1–8 letters each; none when
    /// left out.
    #[serde(default)]
    #[schema(max_items = 200)]
    pub others: Vec<String>,
    /// Denials that follow what they deny ("想死的念头？没有过"): one starting within 10
    /// letters after an entry, in its clause or the next, cancels it. 2–12 letters each; none
    /// when left out.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub denials: Vec<String>,
    /// Words that make a clause everyday talk (烧烤, 露营, 婚纱照): no entry in the same
    /// clause counts. 2–12 letters each; none when left out.
    #[serde(default)]
    #[schema(max_items = 300)]
    pub contexts: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub updated_at: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub updated_by: ReadOnly,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "phrases": [{"text": "想…死", "category": "wish", "level": null, "source": "Lv et al. 2015: 自杀类"}],
    "negations": ["不会", "没想过"], "exclusions": ["预防自杀", "跳楼价"],
    "combinations": [{"categories": ["means", "intent_marker"], "level": "intent", "source": "C-SSRS 4–5"}],
    "others": ["朋友", "室友", "有人"], "denials": ["从来没有过", "想都没想过"],
    "contexts": ["烧烤", "露营"], "updated_at": "2026-12-01T09:00:00+08:00", "updated_by": "管理员"
}))]
pub struct LexiconView {
    pub phrases: Vec<PhraseBody>,
    pub negations: Vec<String>,
    pub exclusions: Vec<String>,
    pub combinations: Vec<CombinationBody>,
    pub others: Vec<String>,
    pub denials: Vec<String>,
    pub contexts: Vec<String>,
    /// When it was last saved.
    pub updated_at: Option<DateTime<FixedOffset>>,
    /// Who saved it; `null` for the built-in list.
    pub updated_by: Option<String>,
}

/// The risk lexicon
#[utoipa::path(
    operation_id = "admin_get_risk_lexicon",
    tag = "supervision",
    security(("bearer" = [])),
    responses(
        (status = 200, body = LexiconView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
#[get("/admin/risk-lexicon")]
pub async fn get_lexicon(state: State, _admin: AdminCaller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(lexicon_view(&state).await?))
}

async fn lexicon_view(state: &AppState) -> ApiResult<LexiconView> {
    let (lexicon, updated_at, updated_by) = match state.risk.lexicon().await? {
        Some(s) => (s.lexicon, Some(s.updated_at), s.updated_by),
        None => (lexicon(state).await?, None, None),
    };
    let data = lexicon.data();
    Ok(LexiconView {
        phrases: data
            .phrases
            .into_iter()
            .map(|p| PhraseBody {
                text: p.text,
                category: Some(p.category.as_str().into()),
                level: p.level.map(|l| l.as_str().into()),
                source: p.source,
            })
            .collect(),
        negations: data.negations,
        exclusions: data.exclusions,
        combinations: data
            .combinations
            .into_iter()
            .map(|c| CombinationBody {
                categories: c.categories.iter().map(|c| c.as_str().into()).collect(),
                level: c.level.as_str().into(),
                source: c.source,
            })
            .collect(),
        others: data.others,
        denials: data.denials,
        contexts: data.contexts,
        updated_at: updated_at.map(cst),
        updated_by: staff_name(state, updated_by).await?,
    })
}

/// The lexicon data of an admin's body: levels and categories named as the spec lists them.
fn lexicon_data(b: LexiconBody) -> ApiResult<LexiconData> {
    const LEVELS: &str = "等级须为 intent、passive 或 distress";
    let level =
        |field: String, raw: &str| Level::parse(raw).ok_or_else(|| ApiError::field(field, LEVELS));
    let category = |field: String, raw: &str| {
        Category::parse(raw).ok_or_else(|| ApiError::field(field, "没有这个类别"))
    };
    let mut phrases = Vec::with_capacity(b.phrases.len());
    for (i, p) in b.phrases.into_iter().enumerate() {
        phrases.push(Phrase {
            text: p.text,
            category: match p.category.as_deref() {
                Some(c) => category(format!("phrases[{i}].category"), c)?,
                None => Category::Other,
            },
            level: p
                .level
                .as_deref()
                .map(|l| level(format!("phrases[{i}].level"), l))
                .transpose()?,
            source: p.source,
        });
    }
    let mut combinations = Vec::with_capacity(b.combinations.len());
    for (i, c) in b.combinations.into_iter().enumerate() {
        combinations.push(Combination {
            categories: c
                .categories
                .iter()
                .enumerate()
                .map(|(j, k)| category(format!("combinations[{i}].categories[{j}]"), k))
                .collect::<ApiResult<_>>()?,
            level: level(format!("combinations[{i}].level"), &c.level)?,
            source: c.source,
        });
    }
    Ok(LexiconData {
        phrases,
        negations: b.negations,
        exclusions: b.exclusions,
        combinations,
        others: b.others,
        denials: b.denials,
        contexts: b.contexts,
    })
}

/// Replace the risk lexicon
///
/// The whole list at once, checked entry by entry (`phrases[3].text`); it applies to the next
/// words checked, on every instance. Audited.
#[utoipa::path(
    operation_id = "admin_put_risk_lexicon",
    tag = "supervision",
    security(("bearer" = [])),
    request_body = LexiconBody,
    responses(
        (status = 200, body = LexiconView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, description = "`validation_failed`, naming each entry", body = ErrorBody),
    )
)]
#[put("/admin/risk-lexicon")]
pub async fn put_lexicon(
    state: State,
    admin: AdminCaller,
    body: Json<LexiconBody>,
) -> ApiResult<HttpResponse> {
    let lexicon = Lexicon::parse(lexicon_data(body.0)?)?;
    let now = state.clock.now();
    state
        .risk
        .save_lexicon(&lexicon, Some(admin.account.id), now, false)
        .await?;
    state
        .audit
        .record(
            &AuditEntry::new(
                now,
                admin.account.id,
                Role::Admin,
                AuditAction::UpdateRiskLexicon,
            )
            .target(format!("{} phrases", lexicon.phrases.len())),
        )
        .await?;
    Ok(HttpResponse::Ok().json(lexicon_view(&state).await?))
}
