//! `xinli`: the 心嚟在线 server. Configuration comes from `XINLI_*` environment variables
//! (see README.md); with none set it runs the embedded development setup.

use std::process::ExitCode;

use xinli_api::{Application, Config, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    return_large_buffers();
    let _log = telemetry::init();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("xinli: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    if config.jwt_secret_generated {
        tracing::warn!(
            "XINLI_JWT_SECRET is not set: generated a random one for this run (dev mode); tokens will not survive a restart"
        );
    }
    if config.dev_mode {
        tracing::warn!(
            "dev mode: POST /api/v1/auth/dev and demo data are enabled; set XINLI_DEV_MODE=false in production"
        );
    }
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("xinli: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        "listening on http://{}  (API docs: /docs/, spec: /api-docs/openapi.json)",
        app.state().config.bind
    );
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xinli: server error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// glibc raises its mmap threshold as large blocks are freed (up to 32 MiB), after which
/// building the search index and seeding leave tens of megabytes in the heap arenas that
/// are never given back: the process then holds ~130 MB for an index of a few hundred
/// kilobytes. A fixed threshold of 128 KiB keeps every large buffer in its own mapping,
/// returned when freed (peak RSS ~90 MB; hot answers are far below the threshold).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_buffers() {
    // SAFETY: mallopt only sets an allocator parameter; it is called before any other thread
    // of this program allocates much, and a refusal (0) leaves glibc's default in place.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_buffers() {}
