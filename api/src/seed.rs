//! Accounts created at start: the operator's bootstrap admin (`XINLI_ADMIN_*`, any mode)
//! and, in dev mode only, demo accounts for trying the API.

use secrecy::ExposeSecret;
use xinli_domain::account::{NewPassword, NewStaff, StaffRole, Username};

use crate::startup::StartupError;
use crate::state::AppState;

/// Demo accounts (dev mode only). The password is public: never use dev mode in production.
pub const DEMO_STAFF: &[(&str, &str, StaffRole)] = &[
    ("demo-admin", "演示管理员", StaffRole::Admin),
    ("demo-counselor", "演示咨询师", StaffRole::Counselor),
];
pub const DEMO_PASSWORD: &str = "xinli-demo-2026";

async fn ensure_staff(
    state: &AppState,
    username: &str,
    password: &str,
    role: StaffRole,
    display_name: &str,
) -> Result<bool, StartupError> {
    let username = Username::parse(username)
        .map_err(|e| StartupError::Seed(format!("username {username:?}: {}", e.0[0].message)))?;
    if state
        .staff
        .find_by_username(&username)
        .await
        .map_err(|e| StartupError::Seed(e.to_string()))?
        .is_some()
    {
        return Ok(false);
    }
    let password = NewPassword::parse(password)
        .map_err(|e| StartupError::Seed(format!("password: {}", e.0[0].message)))?;
    let password_hash = xinli_infra::password::hash(password.expose().to_owned())
        .await
        .map_err(|e| StartupError::Seed(e.to_string()))?;
    state
        .staff
        .create(
            NewStaff {
                username,
                password_hash,
                role,
                display_name: display_name.to_owned(),
            },
            state.clock.now(),
        )
        .await
        .map_err(|e| StartupError::Seed(e.to_string()))?;
    Ok(true)
}

pub async fn run(state: &AppState) -> Result<(), StartupError> {
    if let Some((username, password)) = &state.config.bootstrap_admin
        && ensure_staff(
            state,
            username,
            password.expose_secret(),
            StaffRole::Admin,
            "管理员",
        )
        .await?
    {
        tracing::info!(username = %username, "bootstrap admin created");
    }
    if state.config.dev_mode {
        for (username, display_name, role) in DEMO_STAFF {
            if ensure_staff(state, username, DEMO_PASSWORD, *role, display_name).await? {
                tracing::warn!(
                    username,
                    password = DEMO_PASSWORD,
                    "dev mode: demo staff account created"
                );
            }
        }
    }
    Ok(())
}
