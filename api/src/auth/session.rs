//! Starting and continuing sessions: an access token plus a single-use refresh token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use xinli_domain::account::{NewRefreshToken, Role, Subject};

use crate::error::ApiResult;
use crate::state::AppState;

pub struct IssuedTokens {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
    pub refresh_expires_in: u64,
}

/// Refresh tokens are stored as SHA-256 hashes: a copy of the table cannot be replayed.
/// (A fast hash suffices: the token is 256 random bits, not a guessable password.)
pub fn hash_refresh_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Issues a token pair. `family` continues an existing chain of refresh tokens (rotation);
/// `None` starts a new one (a login).
pub async fn issue(
    state: &AppState,
    subject: Subject,
    role: Role,
    family: Option<Uuid>,
) -> ApiResult<IssuedTokens> {
    let now = state.clock.now();
    let access_token = state.tokens.issue(subject.id(), role, now)?;
    let refresh_token = new_refresh_token();
    let refresh_ttl = match subject {
        Subject::Staff(_) => state.config.staff_refresh_token_ttl,
        Subject::User(_) => state.config.refresh_token_ttl,
    };
    state
        .refresh_tokens
        .insert(&NewRefreshToken {
            id: Uuid::now_v7(),
            token_hash: hash_refresh_token(&refresh_token),
            family_id: family.unwrap_or_else(Uuid::now_v7),
            subject,
            created_at: now,
            expires_at: now
                + chrono::Duration::from_std(refresh_ttl).unwrap_or(chrono::Duration::days(30)),
        })
        .await?;
    Ok(IssuedTokens {
        access_token,
        expires_in: state.tokens.ttl().as_secs(),
        refresh_token,
        refresh_expires_in: refresh_ttl.as_secs(),
    })
}
