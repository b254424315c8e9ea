//! Logging: one line per request with method, path, route, status, latency and request id.
//! Request bodies are never logged: they carry answers and messages (sensitive data).

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}
