//! 热线一键拨打: the public directory with open-now status, dial taps, and the admin side
//! (create, replace, delete, dial statistics).

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use xinli_domain::account::Role;
use xinli_domain::hotline::{
    self, DirectoryFilter, HotlineInput, HotlineNow, NewDial, order_for_display,
};
use xinli_domain::page::PageRequest;
use xinli_domain::period::DayRange;
use xinli_domain::schedule::{self, china_date};

use crate::auth::extract::client_ip;
use crate::auth::{AdminCaller, OptionalCaller};
use crate::dto::{Audience, Paged, ReadOnly, cst};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, PageParams, Query, parse_id};
use crate::schedule::{HoursBody, HoursView};
use crate::state::{AppState, State};

/// The public list, registered before every other route (see [`super::configure`]).
pub fn configure_list(cfg: &mut ServiceConfig) {
    cfg.service(list_hotlines);
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(record_dial)
        .service(admin_list)
        .service(admin_create)
        .service(admin_update)
        .service(admin_delete)
        .service(dial_stats);
}

/// What an admin sends to create or replace a hotline.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "上海市心理援助热线", "number": "962525", "region": "上海市",
    "audiences": ["general"], "description": "上海市心理援助热线，提供心理支持与危机干预。",
    "crisis": true, "sort_order": 10, "active": true, "hours": {"kind": "always"}, "hours_note": null
}))]
pub struct HotlineRequest {
    /// 1–64 characters.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// Digits and single hyphens, 3–20 characters (`962525`, `021-39590800`).
    #[schema(min_length = 3, max_length = 20, pattern = "^[0-9]+(-[0-9]+)*$")]
    pub number: String,
    /// 1–32 characters; `全国` for nationwide lines.
    #[schema(min_length = 1, max_length = 32)]
    pub region: String,
    /// At least one.
    #[schema(min_items = 1)]
    pub audiences: Vec<Audience>,
    /// Up to 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: String,
    /// Listed in crisis answers (assessment results, consultation queue).
    pub crisis: bool,
    /// 0–10000; smaller first among lines in the same open state (default 100).
    #[serde(default = "default_sort_order")]
    #[schema(minimum = 0, maximum = 10000)]
    pub sort_order: i32,
    /// Inactive lines are hidden from the public (default true).
    #[serde(default = "default_true")]
    pub active: bool,
    pub hours: HoursBody,
    /// Up to 200 characters. When absent, `hours.note` (as a GET shows it) is taken.
    #[schema(max_length = 200)]
    pub hours_note: Option<String>,
    /// Read-only fields of `HotlineView`: accepted so that a GET can be edited and sent
    /// back, and ignored.
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub id: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub dial_number: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<bool>, read_only)]
    pub open_now: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub next_change_at: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub status_text: ReadOnly,
}

fn default_sort_order() -> i32 {
    100
}

fn default_true() -> bool {
    true
}

impl HotlineRequest {
    pub fn parse(&self) -> Result<HotlineInput, ApiError> {
        Ok(HotlineInput::parse(
            &self.name,
            &self.number,
            &self.region,
            self.audiences.iter().map(|a| (*a).into()).collect(),
            &self.description,
            self.crisis,
            self.sort_order,
            self.active,
            self.hours.parse(),
            self.hours_note.as_deref().or(self.hours.note.as_deref()),
        )?)
    }
}

/// A hotline as the mini-program shows it, with its state at the time of the request.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5d2-9e3f-7d8c-9b2a-4f6e3d0c1a23", "name": "上海市心理援助热线", "number": "962525",
    "dial_number": "962525", "region": "上海市", "audiences": ["general"],
    "description": "上海市心理援助热线，提供心理支持与危机干预。", "crisis": true,
    "hours": {"kind": "always", "windows": [], "note": null},
    "open_now": true, "next_change_at": null, "status_text": "24 小时服务",
    "sort_order": 10, "active": true
}))]
pub struct HotlineView {
    pub id: String,
    pub name: String,
    /// As displayed.
    pub number: String,
    /// Digits only, for `wx.makePhoneCall`.
    pub dial_number: String,
    pub region: String,
    pub audiences: Vec<Audience>,
    pub description: String,
    pub crisis: bool,
    pub hours: HoursView,
    /// Computed at request time in China time; `null` when the hours are unknown.
    pub open_now: Option<bool>,
    /// When `open_now` next changes; `null` for 7×24 lines and unknown hours.
    pub next_change_at: Option<DateTime<FixedOffset>>,
    /// One sentence for the screen, e.g. 服务中，今天 20:00 结束.
    pub status_text: String,
    pub sort_order: i32,
    pub active: bool,
}

impl HotlineView {
    pub fn new(line: &HotlineNow, now: chrono::DateTime<chrono::Utc>) -> Self {
        let h = &line.hotline;
        Self {
            id: h.id.to_string(),
            name: h.name.clone(),
            number: h.number.clone(),
            dial_number: h.number.chars().filter(char::is_ascii_digit).collect(),
            region: h.region.clone(),
            audiences: h.audiences.iter().map(|a| (*a).into()).collect(),
            description: h.description.clone(),
            crisis: h.crisis,
            hours: HoursView::new(&h.hours, h.hours_note.clone()),
            open_now: line.status.open,
            next_change_at: line.status.next_change.map(cst),
            status_text: schedule::describe(line.status, now),
            sort_order: h.sort_order,
            active: h.active,
        }
    }
}

/// The crisis lines to show now, open ones first, as views. For other modules' crisis answers.
pub async fn crisis_views(state: &AppState) -> ApiResult<Vec<HotlineView>> {
    let now = state.clock.now();
    let lines = hotline::crisis_hotlines_now(state.hotlines.as_ref(), now).await?;
    Ok(lines.iter().map(|l| HotlineView::new(l, now)).collect())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DirectoryQuery {
    /// Lines for this group (lines for everyone, `general`, are always included).
    pub audience: Option<Audience>,
    /// Lines of this region (nationwide lines, `全国`, are always included).
    #[param(example = "上海市")]
    pub region: Option<String>,
    #[param(minimum = 1, maximum = 10000, example = 1)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub page_size: Option<u64>,
}

/// The hotline directory
///
/// Active lines, open ones first, then those with unknown hours, then closed ones. `open_now`
/// is computed for the moment of the request, so do not cache the answer on the client for long.
#[utoipa::path(
    operation_id = "list_hotlines",
    tag = "hotlines",
    params(DirectoryQuery),
    responses(
        (status = 200, body = Paged<HotlineView>),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[get("/hotlines")]
pub async fn list_hotlines(state: State, query: Query<DirectoryQuery>) -> ApiResult<HttpResponse> {
    let q = query.0;
    let page = PageRequest::parse(q.page, q.page_size)?;
    let filter = DirectoryFilter {
        audience: q.audience.map(Into::into),
        region: q
            .region
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty()),
    };
    let now = state.clock.now();
    let lines: Vec<_> = state
        .hotlines
        .list_visible()
        .await?
        .into_iter()
        .filter(|h| filter.matches(h))
        .collect();
    let ordered = order_for_display(lines, now);
    let total = ordered.len() as u64;
    let items = ordered
        .iter()
        .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
        .take(usize::try_from(page.page_size).unwrap_or(usize::MAX))
        .map(|l| HotlineView::new(l, now))
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-cache"))
        .json(Paged {
            items,
            total,
            page: page.page,
            page_size: page.page_size,
        }))
}

/// Record a tap on "call"
///
/// The mini-program calls `wx.makePhoneCall` itself and must not wait for or depend on this
/// answer. Taps are limited per client (user, or address when anonymous) so that statistics
/// cannot be inflated; over the limit the tap is not counted (429).
#[utoipa::path(
    operation_id = "record_hotline_dial",
    tag = "hotlines",
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Hotline id")),
    responses(
        (status = 204, description = "Counted"),
        (status = 404, description = "`not_found`: unknown or inactive line", body = ErrorBody),
        (status = 429, description = "`too_many_requests`", body = ErrorBody),
    )
)]
#[post("/hotlines/{id}/dials")]
pub async fn record_dial(
    state: State,
    req: HttpRequest,
    OptionalCaller(caller): OptionalCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id)?;
    if !state
        .hotlines
        .list_visible()
        .await?
        .iter()
        .any(|h| h.id == id)
    {
        return Err(ApiError::not_found());
    }
    let user_id = caller.filter(|c| c.role == Role::User).map(|c| c.id);
    let client = match user_id {
        Some(u) => format!("user:{u}"),
        None => format!("ip:{}", client_ip(&req, state.config.trust_proxy)),
    };
    crate::limits::hit(&state, "dial", client, state.config.limits.dials_per_client).await?;
    state
        .hotlines
        .record_dial(NewDial {
            id: Uuid::now_v7(),
            hotline_id: id,
            at: state.clock.now(),
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// All hotlines, including inactive ones
#[utoipa::path(
    operation_id = "admin_list_hotlines",
    tag = "admin",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, body = Paged<HotlineView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[get("/admin/hotlines")]
pub async fn admin_list(
    state: State,
    _admin: AdminCaller,
    query: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let page = state.hotlines.list_all(query.0.parse()?).await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(page, |h| view_now(&state, h))))
}

fn view_now(state: &AppState, h: hotline::Hotline) -> HotlineView {
    let now = state.clock.now();
    let status = h.hours.status_at(now);
    HotlineView::new(&HotlineNow { hotline: h, status }, now)
}

/// Add a hotline
///
/// Visible in the directory on the next request.
#[utoipa::path(
    operation_id = "admin_create_hotline",
    tag = "admin",
    security(("bearer" = [])),
    request_body = HotlineRequest,
    responses(
        (status = 201, body = HotlineView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, description = "`validation_failed`, with a detail per field", body = ErrorBody),
    )
)]
#[post("/admin/hotlines")]
pub async fn admin_create(
    state: State,
    admin: AdminCaller,
    body: Json<HotlineRequest>,
) -> ApiResult<HttpResponse> {
    let input = body.0.parse()?;
    let created = state.hotlines.create(input, state.clock.now()).await?;
    tracing::info!(admin_id = %admin.account.id, hotline_id = %created.id, "hotline created");
    Ok(HttpResponse::Created().json(view_now(&state, created)))
}

/// Replace a hotline
#[utoipa::path(
    operation_id = "admin_update_hotline",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Hotline id")),
    request_body = HotlineRequest,
    responses(
        (status = 200, body = HotlineView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[put("/admin/hotlines/{id}")]
pub async fn admin_update(
    state: State,
    admin: AdminCaller,
    id: web::Path<String>,
    body: Json<HotlineRequest>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id)?;
    let input = body.0.parse()?;
    let updated = state
        .hotlines
        .update(id, input, state.clock.now())
        .await?
        .ok_or_else(ApiError::not_found)?;
    tracing::info!(admin_id = %admin.account.id, hotline_id = %id, "hotline updated");
    Ok(HttpResponse::Ok().json(view_now(&state, updated)))
}

/// Delete a hotline
///
/// The line disappears from the directory and the admin list; its dial statistics stay.
#[utoipa::path(
    operation_id = "admin_delete_hotline",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Hotline id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[delete("/admin/hotlines/{id}")]
pub async fn admin_delete(
    state: State,
    admin: AdminCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id)?;
    if !state.hotlines.delete(id, state.clock.now()).await? {
        return Err(ApiError::not_found());
    }
    tracing::info!(admin_id = %admin.account.id, hotline_id = %id, "hotline deleted");
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DialStatsQuery {
    /// First day (China time), default 29 days before `to`.
    #[param(example = "2026-11-01")]
    pub from: Option<NaiveDate>,
    /// Last day (China time), default today.
    #[param(example = "2026-11-30")]
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "from": "2026-11-01", "to": "2026-11-30", "total": 3,
    "items": [{"hotline_id": "0193a5d2-9e3f-7d8c-9b2a-4f6e3d0c1a23", "hotline_name": "上海市心理援助热线",
               "number": "962525", "date": "2026-11-22", "count": 3}]
}))]
pub struct HotlineDialStats {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// All dials in the range.
    pub total: u64,
    /// One row per line and day with at least one dial.
    pub items: Vec<HotlineDialDay>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"hotline_id": "0193a5d2-9e3f-7d8c-9b2a-4f6e3d0c1a23", "hotline_name": "上海市心理援助热线",
                          "number": "962525", "date": "2026-11-22", "count": 3}))]
pub struct HotlineDialDay {
    pub hotline_id: String,
    pub hotline_name: String,
    pub number: String,
    pub date: NaiveDate,
    pub count: u64,
}

/// Dial taps per hotline per day
///
/// Counts only; who dialled is never shown. At most 366 days per request.
#[utoipa::path(
    operation_id = "admin_get_hotline_dial_stats",
    tag = "admin",
    security(("bearer" = [])),
    params(DialStatsQuery),
    responses(
        (status = 200, body = HotlineDialStats),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[get("/admin/hotline-dials")]
pub async fn dial_stats(
    state: State,
    _admin: AdminCaller,
    query: Query<DialStatsQuery>,
) -> ApiResult<HttpResponse> {
    let range = DayRange::parse(query.0.from, query.0.to, china_date(state.clock.now()))?;
    let (from, to) = (range.from, range.to);
    let counts = state.hotlines.dial_counts(from, to).await?;
    Ok(HttpResponse::Ok().json(HotlineDialStats {
        from,
        to,
        total: counts.iter().map(|c| c.count).sum(),
        items: counts
            .into_iter()
            .map(|c| HotlineDialDay {
                hotline_id: c.hotline_id.to_string(),
                hotline_name: c.hotline_name,
                number: c.number,
                date: c.date,
                count: c.count,
            })
            .collect(),
    }))
}
