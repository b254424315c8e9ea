//! `xinli`: the 心嚟在线 server. Configuration comes from `XINLI_*` environment variables
//! (see README.md); with none set it runs the embedded development setup.

use std::process::ExitCode;

use xinli_api::{Application, Config, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
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
