//! When Redis goes away while the service runs, requests are still answered (the cache
//! degrades to the in-process one) and `/readyz` reports the outage.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use xinli_tests::{TestApp, TestOptions, assert_error};

struct PrivateRedis {
    child: Child,
    url: String,
}

impl PrivateRedis {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect(
                "redis-server must be installed to run this test (apt-get install redis-server)",
            );
        Self {
            child,
            url: format!("redis://127.0.0.1:{port}"),
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static REDIS_URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

#[tokio::test]
async fn requests_succeed_while_redis_is_down() {
    let mut redis = PrivateRedis::start();
    REDIS_URL.set(redis.url.clone()).unwrap();
    // Wait until it accepts connections.
    for _ in 0..50 {
        if std::net::TcpStream::connect(redis.url.trim_start_matches("redis://")).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let app = TestApp::spawn_with(TestOptions {
        configure: |c| {
            c.redis_url = REDIS_URL.get().cloned();
            c.redis_prefix = "outage-test:".into();
        },
        ..TestOptions::default()
    })
    .await;
    let ready: serde_json::Value = app.get("/readyz", None).await.json().await.unwrap();
    assert_eq!(ready["cache"], "redis");

    redis.child.kill().unwrap();
    redis.child.wait().unwrap();

    // Logins (which use the cache for attempt limits) still work from the database.
    let res = app
        .staff_login(xinli_tests::ADMIN_USERNAME, xinli_tests::ADMIN_PASSWORD)
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.post(
            "/api/v1/auth/dev",
            None,
            serde_json::json!({"openid": "outage-user"})
        )
        .await
        .status(),
        200
    );

    let body = assert_error(app.get("/readyz", None).await, 503, "service_unavailable").await;
    assert_eq!(body["details"][0]["field"], "cache");
}
