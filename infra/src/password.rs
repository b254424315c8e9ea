//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes, OWASP's minimum).
//! Hashing is deliberately slow, so it runs on the blocking thread pool.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

pub async fn hash(password: String) -> Result<String, HashError> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(e.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| HashError(e.to_string()))
    })
    .await
    .map_err(|e| HashError(e.to_string()))?
}

/// Whether `password` matches the PHC string `hash`. A malformed hash never matches.
pub async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password, verified against when a username does not exist, so that
/// a login for an unknown account takes as long as one for a known account.
pub async fn dummy_hash() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    hash(format!("{bytes:?}")).await.unwrap_or_default()
}

/// The argon2id hasher behind `xinli_domain::account::Passwords`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Argon2Passwords;

#[async_trait::async_trait]
impl xinli_domain::account::Passwords for Argon2Passwords {
    async fn hash(
        &self,
        password: &xinli_domain::account::NewPassword,
    ) -> Result<String, xinli_domain::RepoError> {
        hash(password.expose().to_owned())
            .await
            .map_err(|e| xinli_domain::RepoError::Storage(e.to_string()))
    }

    async fn verify(&self, password: &str, hash: &str) -> bool {
        verify(password.to_owned(), hash.to_owned()).await
    }
}
