//! Test harness: starts the real application on a random port, with its own database and
//! cache namespace, and offers one helper per endpoint.
//!
//! Backends come from the environment, so that one suite runs on both:
//! - `XINLI_TEST_DATABASE_URL` unset: a fresh SQLite file per test (in a temp dir);
//!   set to `postgres://…`: a fresh database per test, created from that server and dropped
//!   afterwards.
//! - `XINLI_TEST_REDIS_URL` unset: the in-process cache; set: Redis with a key prefix unique
//!   to the test, whose keys are deleted afterwards.
//!
//! When a variable is set and the service does not answer, the test fails; nothing skips.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Method, Response};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use wiremock::MockServer;
use xinli_api::startup::RouteLog;
use xinli_api::{Application, Config, Overrides};
use xinli_domain::clock::ManualClock;

pub const ADMIN_USERNAME: &str = "root-admin";
pub const ADMIN_PASSWORD: &str = "root-admin-password";
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

/// Options for one test application.
#[derive(Clone)]
pub struct TestOptions {
    pub dev_mode: bool,
    pub wechat_configured: bool,
    pub configure: fn(&mut Config),
    /// Run on a [`ManualClock`] starting at this instant (see [`TestApp::clock`]).
    pub clock_at: Option<DateTime<Utc>>,
    /// Use this Redis (e.g. a [`PrivateRedis`] the test may stop) instead of
    /// `XINLI_TEST_REDIS_URL`.
    pub redis_url: Option<String>,
}

impl Default for TestOptions {
    fn default() -> Self {
        Self {
            dev_mode: true,
            wechat_configured: true,
            configure: |_| {},
            clock_at: None,
            redis_url: None,
        }
    }
}

/// A database owned by one test.
enum TestDb {
    /// The directory (and the SQLite file in it) is removed when dropped.
    Sqlite {
        _dir: tempfile::TempDir,
    },
    Postgres {
        admin_url: String,
        name: String,
    },
    /// A sibling instance shares another app's database and does not clean it up.
    Borrowed,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime; use a private one on another thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(async {
                    if let Ok(db) = Database::connect(&admin_url).await {
                        let _ = db
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                        let _ = db.close().await;
                    }
                });
                Ok::<_, std::io::Error>(())
            })
            .join();
        }
    }
}

/// Deletes a test's Redis keys when dropped.
struct RedisNamespace {
    url: String,
    prefix: String,
}

impl Drop for RedisNamespace {
    fn drop(&mut self) {
        let (url, pattern) = (self.url.clone(), format!("{}*", self.prefix));
        let _ = std::thread::spawn(move || {
            let Ok(client) = redis::Client::open(url.as_str()) else {
                return;
            };
            let Ok(mut conn) = client.get_connection() else {
                return;
            };
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(&pattern)
                .query(&mut conn)
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut conn);
            }
        })
        .join();
    }
}

/// A TCP forwarder in front of the test database that a test can cut and restore: a
/// database outage for one app instance, without stopping the server other tests share.
pub struct CuttableProxy {
    port: u16,
    open: Arc<std::sync::atomic::AtomicBool>,
    conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl CuttableProxy {
    /// Forwards a free local port to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let port = listener.local_addr().expect("local address").port();
        let open = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let accept = {
            let (open, conns) = (open.clone(), conns.clone());
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if !open.load(Ordering::SeqCst) {
                        continue; // dropped: the client sees the connection close
                    }
                    let upstream = upstream.clone();
                    let task = tokio::spawn(async move {
                        if let Ok(mut out) = tokio::net::TcpStream::connect(upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                        }
                    });
                    conns.lock().expect("lock").push(task.abort_handle());
                }
            })
        };
        Self {
            port,
            open,
            conns,
            accept,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Closes every forwarded connection and refuses new ones.
    pub fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
        for c in self.conns.lock().expect("lock").drain(..) {
            c.abort();
        }
    }

    /// Forwards new connections again.
    pub fn restore(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for CuttableProxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

/// A Redis server of one test's own, on a free port, which the test may kill, pause or
/// restart (outage tests). Killed when dropped. Needs `redis-server`; without it
/// [`PrivateRedis::start`] says how to install it and gives `None` (the test passes without
/// running), unless `XINLI_REDIS_TESTS=required` (set by `.ci/run`).
pub struct PrivateRedis {
    child: std::process::Child,
    port: u16,
}

impl PrivateRedis {
    pub async fn start() -> Option<Self> {
        let installed = std::env::var_os("PATH").is_some_and(|paths| {
            std::env::split_paths(&paths).any(|dir| dir.join("redis-server").is_file())
        });
        if !installed {
            assert!(
                std::env::var("XINLI_REDIS_TESTS").as_deref() != Ok("required"),
                "Redis outage tests required, but redis-server is missing: apt-get install -y redis-server"
            );
            eprintln!("Redis outage test skipped: apt-get install -y redis-server");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Some(Self::start_on(port).await)
    }

    async fn start_on(port: u16) -> Self {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed (apt-get install redis-server)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self { child, port }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// SIGKILL: connections are refused at once, everything it held is gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A fresh (empty) server on the same port.
    pub async fn restart(&mut self) {
        self.kill();
        *self = Self::start_on(self.port).await;
    }

    /// SIGSTOP / SIGCONT: connections stay open but nothing answers, and it keeps what it
    /// holds (a network partition, a stalled host).
    pub fn pause(&self, paused: bool) {
        assert!(self.signal(if paused { "-STOP" } else { "-CONT" }));
    }

    fn signal(&self, signal: &str) -> bool {
        std::process::Command::new("kill")
            .arg(signal)
            .arg(self.child.id().to_string())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.signal("-CONT");
        self.kill();
    }
}

/// One request of a [`Load`]: when it started, how long it took, its status (0: no answer).
pub struct Sample {
    pub started: std::time::Instant,
    pub took: Duration,
    pub status: u16,
}

/// Concurrent readers of one path, each sending its next request when the last is answered,
/// until [`Load::finish`].
pub struct Load {
    stop: Arc<std::sync::atomic::AtomicBool>,
    workers: Vec<tokio::task::JoinHandle<Vec<Sample>>>,
}

impl Load {
    pub fn start(app: &TestApp, path: &str, clients: usize) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let workers = (0..clients)
            .map(|_| {
                let (client, url, stop) = (app.client.clone(), app.url(path), stop.clone());
                tokio::spawn(async move {
                    let mut samples = Vec::new();
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let started = std::time::Instant::now();
                        let status = match client.get(&url).send().await {
                            Ok(res) => {
                                let status = res.status().as_u16();
                                let _ = res.bytes().await;
                                status
                            }
                            Err(_) => 0,
                        };
                        samples.push(Sample {
                            started,
                            took: started.elapsed(),
                            status,
                        });
                    }
                    samples
                })
            })
            .collect();
        Self { stop, workers }
    }

    /// Stops the readers and returns every sample, in no particular order.
    pub async fn finish(self) -> Vec<Sample> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut samples = Vec::new();
        for w in self.workers {
            samples.extend(w.await.unwrap_or_default());
        }
        samples
    }
}

/// The `q` quantile of sorted durations (nearest rank); zero for none.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub wechat: Arc<MockServer>,
    pub config: Config,
    /// Set when the test asked for a manual clock; move it to test time-dependent rules.
    pub clock: Option<Arc<ManualClock>>,
    route_log: RouteLog,
    handle: actix_web::dev::ServerHandle,
    run: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    // Dropped after the server stops (field order): database, then Redis keys.
    _db: TestDb,
    _redis: Option<RedisNamespace>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the workers finish on their own threads.
        drop(self.handle.stop(false));
        if std::thread::panicking() {
            return;
        }
        // Every route the test reached must be in the OpenAPI spec: a route registered
        // outside utoipa-actix-web would answer here but be missing there.
        let spec = xinli_api::openapi::spec();
        let seen = self.route_log.lock().map(|s| s.clone()).unwrap_or_default();
        for (method, pattern, status) in seen {
            // The docs and the console are files, not API operations.
            if pattern.starts_with("/docs")
                || pattern.starts_with("/console")
                || pattern == "/api-docs/openapi.json"
            {
                continue;
            }
            let operation = spec
                .paths
                .paths
                .get(&pattern)
                .and_then(|item| serde_json::to_value(item).ok())
                .and_then(|v| v.get(method.to_lowercase()).cloned());
            let Some(operation) = operation else {
                panic!("{method} {pattern} answered but is missing from the OpenAPI spec");
            };
            // Every status the server answered is one the spec declares for the operation.
            assert!(
                operation["responses"].get(status.to_string()).is_some(),
                "{method} {pattern} answered {status}, which the spec does not declare"
            );
        }
    }
}

fn unique_name(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

pub fn test_database_url() -> Option<String> {
    std::env::var("XINLI_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

pub fn test_redis_url() -> Option<String> {
    std::env::var("XINLI_TEST_REDIS_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

fn base_config(opts: &TestOptions) -> Config {
    let mut config = Config::from_lookup(|k| match k {
        "XINLI_DEV_MODE" => Some(opts.dev_mode.to_string()),
        "XINLI_JWT_SECRET" => Some(JWT_SECRET.into()),
        "XINLI_ADMIN_USERNAME" => Some(ADMIN_USERNAME.into()),
        "XINLI_ADMIN_PASSWORD" => Some(ADMIN_PASSWORD.into()),
        _ => None,
    })
    .expect("test configuration");
    config.bind = "127.0.0.1:0".into();
    config.workers = Some(2);
    config
}

/// A database of its own, empty (no migration run), removed when dropped: for tests of a
/// migration itself.
pub struct EmptyDatabase {
    pub url: String,
    _db: TestDb,
}

pub async fn empty_database() -> EmptyDatabase {
    let (url, db) = create_database().await;
    EmptyDatabase { url, _db: db }
}

async fn create_database() -> (String, TestDb) {
    match test_database_url() {
        None => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("xinli.db").display()
            );
            (url, TestDb::Sqlite { _dir: dir })
        }
        Some(admin_url) => {
            let name = unique_name("xinli_test_");
            let admin = Database::connect(&admin_url)
                .await
                .expect("XINLI_TEST_DATABASE_URL is set but PostgreSQL does not answer");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            let _ = admin.close().await;
            let (base, _) = admin_url
                .rsplit_once('/')
                .expect("database URL with a path");
            (
                format!("{base}/{name}"),
                TestDb::Postgres { admin_url, name },
            )
        }
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(TestOptions::default()).await
    }

    pub async fn spawn_with(opts: TestOptions) -> Self {
        let (database_url, db) = create_database().await;
        let redis = opts
            .redis_url
            .clone()
            .or_else(test_redis_url)
            .map(|url| RedisNamespace {
                url,
                prefix: unique_name("xinli_test_") + ":",
            });
        Self::start(
            opts,
            database_url,
            db,
            redis,
            Arc::new(MockServer::start().await),
        )
        .await
    }

    /// A second instance on the same database and cache namespace, as in a deployment of
    /// several instances behind a load balancer.
    pub async fn sibling(&self) -> Self {
        self.sibling_with(|_| {}).await
    }

    /// A [`Self::sibling`] with its configuration changed, e.g. the same database restarted
    /// outside dev mode.
    pub async fn sibling_with(&self, configure: impl FnOnce(&mut Config)) -> Self {
        let mut config = self.config.clone();
        configure(&mut config);
        config.bind = "127.0.0.1:0".into();
        let redis = None; // cleaned up by the first instance
        let app = Application::build_with(config.clone(), overrides(self.clock.clone()))
            .await
            .expect("sibling starts");
        Self::finish(
            app,
            config,
            TestDb::Borrowed,
            redis,
            self.wechat.clone(),
            self.clock.clone(),
        )
    }

    async fn start(
        opts: TestOptions,
        database_url: String,
        db: TestDb,
        redis: Option<RedisNamespace>,
        wechat: Arc<MockServer>,
    ) -> Self {
        let mut config = base_config(&opts);
        config.database_url = database_url;
        config.wechat_api_base = wechat.uri();
        if opts.wechat_configured {
            config.wechat = Some(xinli_infra::wechat::WechatCredentials {
                appid: "wx-test-appid".into(),
                secret: secrecy::SecretString::from("wx-test-secret"),
            });
        }
        if let Some(r) = &redis {
            config.redis_url = Some(r.url.clone());
            config.redis_prefix = r.prefix.clone();
        }
        (opts.configure)(&mut config);
        // A group-robot URL given as a path goes to this test's WeChat fake.
        if let Some(url) = &config.alert_webhook_url {
            use secrecy::ExposeSecret;
            if url.expose_secret().starts_with('/') {
                config.alert_webhook_url = Some(secrecy::SecretString::from(format!(
                    "{}{}",
                    wechat.uri(),
                    url.expose_secret()
                )));
            }
        }
        let clock = opts.clock_at.map(|t| Arc::new(ManualClock::new(t)));
        let app = Application::build_with(config.clone(), overrides(clock.clone()))
            .await
            .expect("application starts");
        Self::finish(app, config, db, redis, wechat, clock)
    }

    fn finish(
        app: Application,
        config: Config,
        db: TestDb,
        redis: Option<RedisNamespace>,
        wechat: Arc<MockServer>,
        clock: Option<Arc<ManualClock>>,
    ) -> Self {
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        let route_log = app_route_log(&app);
        let run = Some(tokio::spawn(app.run_until_stopped()));
        Self {
            address,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
            wechat,
            config,
            clock,
            route_log,
            handle,
            run,
            _db: db,
            _redis: redis,
        }
    }

    /// Stops the server the way an operator's SIGTERM does (graceful) and waits until it has
    /// finished, including its shutdown work. The database stays for a [`TestApp::sibling`].
    pub async fn shutdown(&mut self) {
        self.handle.stop(true).await;
        if let Some(run) = self.run.take() {
            let _ = run.await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Any request; `token` becomes a bearer header, `body` a JSON body.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request sent")
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::PUT, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::DELETE, path, token, None).await
    }

    /// A request whose status is part of the test: asserts it (naming the request and
    /// showing the answer when it differs), then returns the JSON body (`Null` when empty).
    /// Setup steps use it so that a failed step fails where it happens.
    pub async fn expect(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let res = self.request(method.clone(), path, token, body).await;
        let got = res.status().as_u16();
        let text = res.text().await.expect("answer body");
        assert_eq!(got, status, "{method} {path} answered {got}: {text}");
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"))
        }
    }

    /// `GET` expecting 200; the JSON body.
    pub async fn get_ok(&self, path: &str, token: Option<&str>) -> Value {
        self.expect(Method::GET, path, token, None, 200).await
    }

    /// `POST` expecting `status`; the JSON body.
    pub async fn post_expect(
        &self,
        path: &str,
        token: Option<&str>,
        body: Value,
        status: u16,
    ) -> Value {
        self.expect(Method::POST, path, token, Some(body), status)
            .await
    }

    /// `PUT` expecting 200; the JSON body.
    pub async fn put_ok(&self, path: &str, token: Option<&str>, body: Value) -> Value {
        self.expect(Method::PUT, path, token, Some(body), 200).await
    }

    /// Logs in through the dev route; returns the whole token answer.
    pub async fn dev_login(&self, openid: &str) -> Value {
        let res = self
            .post("/api/v1/auth/dev", None, json!({ "openid": openid }))
            .await;
        assert_eq!(res.status(), 200, "dev login");
        res.json().await.expect("json")
    }

    /// A logged-in user's access token.
    pub async fn user_token(&self, openid: &str) -> String {
        access_token(&self.dev_login(openid).await)
    }

    pub async fn staff_login(&self, username: &str, password: &str) -> Response {
        self.post(
            "/api/v1/auth/staff",
            None,
            json!({ "username": username, "password": password }),
        )
        .await
    }

    /// A staff login expecting 200; returns the whole token answer.
    pub async fn staff_login_ok(&self, username: &str, password: &str) -> Value {
        self.post_expect(
            "/api/v1/auth/staff",
            None,
            json!({ "username": username, "password": password }),
            200,
        )
        .await
    }

    /// A logged-in staff account's access token.
    pub async fn staff_token(&self, username: &str, password: &str) -> String {
        access_token(&self.staff_login_ok(username, password).await)
    }

    /// The bootstrap admin's access token.
    pub async fn admin_token(&self) -> String {
        let res = self.staff_login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
        assert_eq!(res.status(), 200, "admin login");
        access_token(&res.json().await.expect("json"))
    }

    /// Creates a staff account through the admin API; returns its view.
    pub async fn create_staff(&self, admin: &str, username: &str, role: &str) -> Value {
        let res = self
            .post(
                "/api/v1/admin/staff",
                Some(admin),
                json!({
                    "username": username,
                    "password": format!("{username}-password"),
                    "role": role,
                    "display_name": format!("{username} 老师"),
                }),
            )
            .await;
        assert_eq!(res.status(), 201, "create staff {username}");
        res.json().await.expect("json")
    }
}

fn overrides(clock: Option<Arc<ManualClock>>) -> Overrides {
    let mut o = Overrides {
        route_log: Some(RouteLog::default()),
        ..Overrides::default()
    };
    if let Some(c) = clock {
        o.clock = c;
    }
    o
}

fn app_route_log(app: &Application) -> RouteLog {
    app.route_log()
        .unwrap_or_else(|| Arc::new(Mutex::new(HashSet::new())))
}

pub fn access_token(v: &Value) -> String {
    v["access_token"].as_str().expect("access_token").to_owned()
}

/// The message of an error answer's first field detail.
pub fn first_detail(body: &Value) -> &str {
    body["details"][0]["message"].as_str().unwrap_or_default()
}

/// Asserts an error answer: status, code, a Chinese message, and the request id in both the
/// body and the header. Returns the body.
pub async fn assert_error(res: Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status of {}", res.url());
    let header_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("x-request-id header");
    let body: Value = res.json().await.expect("JSON error body");
    assert_eq!(body["code"], code, "error code in {body}");
    assert_eq!(
        body["request_id"],
        header_id.as_str(),
        "request id in body and header"
    );
    let message = body["message"].as_str().expect("message");
    assert!(
        message
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "message should be Chinese: {message}"
    );
    body
}

/// The next Monday 00:00 in China time, at least two days ahead of now: tokens issued on a
/// manual clock set there are never expired by real time.
pub fn next_monday() -> DateTime<Utc> {
    use chrono::{Datelike, TimeZone};
    let china = xinli_domain::schedule::CHINA;
    let today = Utc::now().with_timezone(&china).date_naive() + chrono::Duration::days(2);
    let monday =
        today + chrono::Duration::days((7 - i64::from(today.weekday().num_days_from_monday())) % 7);
    china
        .from_local_datetime(&monday.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("China time has no gaps")
        .with_timezone(&Utc)
}

/// `day` days, `h` hours and `m` minutes after `monday`.
pub fn at(monday: DateTime<Utc>, day: i64, h: i64, m: i64) -> DateTime<Utc> {
    monday + chrono::Duration::days(day) + chrono::Duration::hours(h) + chrono::Duration::minutes(m)
}
