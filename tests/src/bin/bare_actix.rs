//! The ceiling of this stack on this machine for `tests/bench/read_path.sh`: a bare
//! actix-web 4 app (no middleware, no state) answering `GET /{name}` with the bytes of
//! `<dir>/<name>` and `Content-Type: application/json`, read once at start.
//!
//! `bare_actix <bind> <dir>`

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{App, HttpResponse, HttpServer, get, web};

type Bodies = Arc<HashMap<String, web::Bytes>>;

#[get("/{name}")]
async fn serve(bodies: web::Data<Bodies>, name: web::Path<String>) -> HttpResponse {
    match bodies.get(name.as_str()) {
        Some(b) => HttpResponse::Ok()
            .content_type("application/json")
            .body(b.clone()),
        None => HttpResponse::NotFound().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(bind), Some(dir)) = (args.next(), args.next()) else {
        eprintln!("usage: bare_actix <bind> <dir>");
        std::process::exit(2);
    };
    let mut bodies = HashMap::new();
    for entry in std::fs::read_dir(&dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        bodies.insert(name, web::Bytes::from(std::fs::read(entry.path())?));
    }
    let bodies: Bodies = Arc::new(bodies);
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(bodies.clone()))
            .service(serve)
    })
    .bind(bind)?
    .run()
    .await
}
