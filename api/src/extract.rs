//! Request extractors with the project's error answers: JSON bodies with field-level
//! errors, query strings, path ids, paging.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;
use uuid::Uuid;
use xinli_domain::page::PageRequest;

use crate::error::{ApiError, ErrorCode};

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Largest body of a bulk route (an article import of up to 500 articles).
pub const MAX_BULK_BODY_BYTES: usize = 32 * 1024 * 1024;

/// A JSON body. Unlike `actix_web::web::Json`, a body that is valid JSON but does not fit the
/// schema answers `422 validation_failed` naming the field (`answers[3]`), and syntax errors
/// answer `400 malformed_json`; bodies over 1 MiB answer `413`. An empty body (with or
/// without a Content-Type) is read as `{}`: action routes whose fields are all optional
/// (`publish`, `claim`, `cancel`, …) need none, and a route with required fields names the
/// first missing one. `LIMIT` is the largest body in bytes (a bulk route raises it).
/// `EMPTY_OK = false` ([`RequiredJson`]) refuses an empty body with 422 `body` (a change
/// whose fields are all optional, like `PATCH /me`, still needs a body that says what).
#[derive(Debug)]
pub struct Json<T, const LIMIT: usize = MAX_BODY_BYTES, const EMPTY_OK: bool = true>(pub T);

/// A JSON body that must be present (see [`Json`]).
pub type RequiredJson<T> = Json<T, MAX_BODY_BYTES, false>;

impl<T: DeserializeOwned + 'static, const LIMIT: usize, const EMPTY_OK: bool> FromRequest
    for Json<T, LIMIT, EMPTY_OK>
{
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().ok().and_then(|v| v.split(';').next()));
        // No Content-Type is fine for an empty body; otherwise it must say JSON.
        let content_type_ok = content_type.map(|m| {
            m.is_some_and(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || m.ends_with("+json")
            })
        });
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if content_type_ok == Some(false) {
                return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
            }
            if declared_len.is_some_and(|n| n > LIMIT) {
                return Err(ApiError::new(ErrorCode::PayloadTooLarge));
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| ApiError::new(ErrorCode::BadRequest))?;
                if body.len() + chunk.len() > LIMIT {
                    return Err(ApiError::new(ErrorCode::PayloadTooLarge));
                }
                body.extend_from_slice(&chunk);
            }
            if body.iter().all(u8::is_ascii_whitespace) {
                if !EMPTY_OK {
                    return Err(ApiError::field("body", "请求体不能为空"));
                }
                return parse_json(b"{}").map(Json);
            }
            if content_type_ok.is_none() {
                return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
            }
            parse_json(&body).map(Json)
        })
    }
}

/// Parses a JSON document into `T`, telling syntax errors (400) from schema errors (422).
///
/// In two steps: the syntax first (into a `Value`), then the shape. In one step serde_json
/// reports some shape errors as syntax errors (an array or a number where an enum's string
/// is expected is "expected value"), which would answer 400 without naming the field. The
/// shape is read through [`crate::strict_json::Strict`]: an object is required wherever the
/// schema says object (serde alone would also take an array in the struct's field order).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| ApiError::new(ErrorCode::MalformedJson))?;
    serde_path_to_error::deserialize::<_, T>(crate::strict_json::Strict(value)).map_err(|err| {
        let path = err.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        ApiError::field(field, describe_serde_error(&err.into_inner()))
    })
}

/// A Chinese reading of serde's English message, keeping the technical part for developers.
fn describe_serde_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let text = text.split(" at line ").next().unwrap_or(&text).to_owned();
    if text.starts_with("missing field") {
        format!("缺少必填字段（{text}）")
    } else if text.starts_with("unknown field") {
        format!("不支持的字段（{text}）")
    } else if text.starts_with("invalid type") {
        format!("字段类型不正确（{text}）")
    } else if text.starts_with("invalid value") || text.starts_with("unknown variant") {
        format!("字段取值不正确（{text}）")
    } else {
        format!("字段内容有误（{text}）")
    }
}

/// A query string, with the same answers as [`Json`] for values of the wrong type.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let query = req.query_string().as_bytes();
        let de = || serde_urlencoded::Deserializer::new(form_urlencoded::parse(query));
        // Parsed without tracking the path first (about 2 % of a cached list request went to
        // the tracking); only a query that fails is parsed again to name the field.
        if let Ok(value) = T::deserialize(de()) {
            return std::future::ready(Ok(Query(value)));
        }
        std::future::ready(
            serde_path_to_error::deserialize::<_, T>(de())
                .map(Query)
                .map_err(|err| {
                    let field = err.path().to_string();
                    let field = if field == "." {
                        "query".to_owned()
                    } else {
                        field
                    };
                    ApiError::field(field, format!("查询参数有误（{}）", err.into_inner()))
                }),
        )
    }
}

/// `?page=&page_size=` on every list route.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 10000, example = 1)]
    pub page: Option<u64>,
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub page_size: Option<u64>,
}

impl PageParams {
    pub fn parse(&self) -> Result<PageRequest, ApiError> {
        Ok(PageRequest::parse(self.page, self.page_size)?)
    }
}

/// Ids in paths are opaque: one that is not even a UUID cannot exist, so it is a 404 like
/// any other unknown id.
pub fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found())
}
