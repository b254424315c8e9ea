use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use xinli_tests::TestApp;

#[tokio::test]
async fn healthz_answers_with_a_request_id() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz", None).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("x-request-id"));
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
}

#[tokio::test]
async fn a_plain_incoming_request_id_is_kept_and_a_hostile_one_replaced() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "gw-123_abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "gw-123_abc");
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "<script>alert(1)</script>")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "<script>alert(1)</script>");
}

#[tokio::test]
async fn readyz_checks_database_and_cache() {
    let app = TestApp::spawn().await;
    let body = app.get_ok("/readyz", None).await;
    assert_eq!(body["status"], "ready");
    let expected_db = if xinli_tests::test_database_url().is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let expected_cache = if xinli_tests::test_redis_url().is_some() {
        "redis"
    } else {
        "memory"
    };
    assert_eq!(body["database"], expected_db);
    assert_eq!(body["cache"], expected_cache);
}

#[tokio::test]
async fn docs_are_served_offline_and_docs_redirects() {
    let app = TestApp::spawn().await;
    let res = app.get("/docs", None).await;
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["location"], "/docs/");
    let res = app.get("/docs/", None).await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert!(
        res.text().await.unwrap().contains("swagger"),
        "Swagger UI page"
    );
    let spec = app.get_ok("/api-docs/openapi.json", None).await;
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    assert!(spec["paths"]["/api/v1/auth/wechat"]["post"].is_object());
}

/// Whether the connection that runs this query uses TLS.
async fn on_tls(db: &sea_orm::DatabaseConnection) -> bool {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let sql = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .expect("pg_stat_ssl")
        .expect("our own backend");
    row.try_get::<bool>("", "ssl").expect("ssl")
}

/// A PostgreSQL on this host is reached without TLS (it would protect nothing), unless its
/// access rules insist on TLS (only `hostssl` lines in `pg_hba.conf`): then the app connects
/// again with TLS instead of failing to start. A proxy in front of the test server plays
/// such rules: it refuses a connection that does not begin by asking for TLS, with the error
/// PostgreSQL gives (SQLSTATE 28000), and passes through one that does.
#[tokio::test]
async fn a_database_on_this_host_is_reached_without_tls_unless_it_insists() {
    if xinli_tests::test_database_url().is_none() {
        return; // PostgreSQL only
    }
    let app = TestApp::spawn().await;
    let direct = xinli_infra::db::connect(&app.config.database_url)
        .await
        .expect("connected");
    assert!(!on_tls(&direct).await, "loopback without TLS");

    let mut url = reqwest::Url::parse(&app.config.database_url).expect("a URL");
    let upstream = (
        url.host_str().expect("a host").to_owned(),
        url.port().unwrap_or(5432),
    );
    let proxy = TlsOnly::start(upstream).await;
    url.set_port(Some(proxy.port)).expect("a port");
    let db = xinli_infra::db::connect(url.as_str())
        .await
        .expect("connected with TLS after the refusal");
    assert!(on_tls(&db).await);
    assert!(
        proxy.refused.load(Ordering::Relaxed) >= 1,
        "tried without TLS first"
    );
    assert!(proxy.passed.load(Ordering::Relaxed) >= 1);
}

/// A TCP proxy to PostgreSQL that only lets through connections asking for TLS first.
struct TlsOnly {
    port: u16,
    refused: Arc<AtomicUsize>,
    passed: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl TlsOnly {
    async fn start(upstream: (String, u16)) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // SSLRequest: length 8, then the code 80877103.
        const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        let (refused, passed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let counters = (refused.clone(), passed.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let (upstream, (refused, passed)) = (upstream.clone(), counters.clone());
                tokio::spawn(async move {
                    let mut first = [0u8; 8];
                    if inbound.read_exact(&mut first).await.is_err() {
                        return;
                    }
                    if first != SSL_REQUEST {
                        refused.fetch_add(1, Ordering::Relaxed);
                        let _ = inbound.write_all(&no_hba_entry()).await;
                        return;
                    }
                    passed.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut pg) = tokio::net::TcpStream::connect(upstream).await
                        && pg.write_all(&first).await.is_ok()
                    {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut pg).await;
                    }
                });
            }
        });
        Self {
            port,
            refused,
            passed,
            task,
        }
    }
}

impl Drop for TlsOnly {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// PostgreSQL's ErrorResponse when no `pg_hba.conf` line matches a connection.
fn no_hba_entry() -> Vec<u8> {
    let mut fields = Vec::new();
    for (kind, value) in [
        (b'S', "FATAL"),
        (b'V', "FATAL"),
        (b'C', "28000"),
        (
            b'M',
            "no pg_hba.conf entry for host \"127.0.0.1\", no encryption",
        ),
    ] {
        fields.push(kind);
        fields.extend_from_slice(value.as_bytes());
        fields.push(0);
    }
    fields.push(0);
    let mut message = vec![b'E'];
    message.extend_from_slice(&(fields.len() as u32 + 4).to_be_bytes());
    message.extend_from_slice(&fields);
    message
}
