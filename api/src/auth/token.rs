//! Access tokens: HS256 JWTs, algorithm fixed, zero leeway, short-lived.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use xinli_domain::account::Role;

use crate::error::{ApiError, ErrorCode};

const ISSUER: &str = "xinli";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user's or staff member's id.
    pub sub: String,
    /// `user`, `counselor` or `admin`.
    pub role: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

/// Who a valid access token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub id: Uuid,
    pub role: Role,
}

pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl TokenService {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        // Only HS256 is accepted: a token claiming `none` or another algorithm is rejected.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(&self, id: Uuid, role: Role, now: DateTime<Utc>) -> Result<String, ApiError> {
        let iat = now.timestamp();
        let claims = Claims {
            sub: id.to_string(),
            role: role.as_str().to_owned(),
            iat,
            exp: iat + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2),
            iss: ISSUER.to_owned(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(ApiError::internal)
    }

    pub fn verify(&self, token: &str) -> Result<Verified, ApiError> {
        let data =
            decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature => ApiError::new(ErrorCode::TokenExpired),
                    _ => ApiError::new(ErrorCode::TokenInvalid),
                }
            })?;
        let id = Uuid::parse_str(&data.claims.sub)
            .map_err(|_| ApiError::new(ErrorCode::TokenInvalid))?;
        let role =
            Role::parse(&data.claims.role).ok_or_else(|| ApiError::new(ErrorCode::TokenInvalid))?;
        Ok(Verified { id, role })
    }
}
