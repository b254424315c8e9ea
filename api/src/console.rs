//! The web console for counselors, supervisors and operators, served at `/console/`.
//!
//! Static files from `api/console/` (plain ES modules, no build step, one vendored library),
//! embedded in the release binary by rust-embed. The console calls only the public API, so it
//! needs no route of its own beyond these files; it requests nothing from any other host, and
//! its Content-Security-Policy says so.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, route, web};
use rust_embed::RustEmbed;

use crate::error::{ApiError, ErrorCode};

#[derive(RustEmbed)]
#[folder = "console/"]
struct Assets;

/// Scripts, styles, images and frames only from this server; no plugins, no framing of the
/// console by another site. `frame-src 'self'` and the sandboxed preview frame (`srcdoc`) are
/// what the article editor's Markdown preview uses.
const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
     frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(redirect).service(index).service(asset);
}

/// `/console` → `/console/` (relative links in the page resolve under the slash).
#[get("/console")]
async fn redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/console/"))
        .finish()
}

#[route("/console/", method = "GET", method = "HEAD")]
async fn index(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    serve(&req, "index.html")
}

#[route("/console/{path:.+}", method = "GET", method = "HEAD")]
async fn asset(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    serve(&req, &path)
}

fn serve(req: &HttpRequest, path: &str) -> Result<HttpResponse, ApiError> {
    let file = Assets::get(path).ok_or_else(|| ApiError::new(ErrorCode::RouteNotFound))?;
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag))
        // Revalidate every time: a new release must never run next to a cached old module.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ));
    if fresh {
        return Ok(res.finish());
    }
    let mime = file.metadata.mimetype();
    let mime = if mime.starts_with("text/") || mime.ends_with("javascript") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    Ok(res
        .insert_header((header::CONTENT_TYPE, mime))
        .body(file.data.into_owned()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
