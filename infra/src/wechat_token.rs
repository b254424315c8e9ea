//! The one WeChat access token of the app, shared by every instance.
//!
//! WeChat asks for one central holder: a token fetched by one instance makes others' tokens
//! expire early, so instances that refreshed independently would keep invalidating each other.
//! The token lives in the cache (Redis across instances; in-process on the embedded default)
//! with its expiry. An instance that needs one and finds none fresh takes a short lock in the
//! same cache (the first to count 1 on a 10 s counter holds it), calls `cgi-bin/stable_token`
//! and stores the answer; the others wait for it. A token WeChat refuses (40001, 42001) is
//! replaced once, with `force_refresh`, unless another instance already replaced it.
//!
//! <https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getStableAccessToken.html>

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use xinli_domain::cache::Cache;
use xinli_domain::wechat::WechatError;

use crate::wechat::{WechatCredentials, exchange};

const TOKEN_KEY: &str = "wechat:access_token";
const LOCK_KEY: &str = "wechat:access_token:lock";
/// A refresh must finish within this; then another instance may try.
const LOCK_FOR: Duration = Duration::from_secs(10);
/// Refresh this long before WeChat's expiry (WeChat rotates stable tokens early).
const MARGIN_SECONDS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Held {
    token: String,
    expires_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    expires_in: Option<i64>,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

pub struct AccessTokens {
    http: reqwest::Client,
    base: String,
    credentials: WechatCredentials,
    cache: Arc<dyn Cache>,
}

impl AccessTokens {
    pub fn new(
        http: reqwest::Client,
        base: String,
        credentials: WechatCredentials,
        cache: Arc<dyn Cache>,
    ) -> Self {
        Self {
            http,
            base,
            credentials,
            cache,
        }
    }

    async fn held(&self) -> Option<Held> {
        let bytes = self.cache.get(TOKEN_KEY).await?;
        let held: Held = serde_json::from_slice(&bytes).ok()?;
        (held.expires_at > Utc::now()).then_some(held)
    }

    /// A token valid for at least a few more minutes.
    pub async fn get(&self) -> Result<String, WechatError> {
        if let Some(held) = self.held().await {
            return Ok(held.token);
        }
        self.refresh(None).await
    }

    /// Replaces `refused` (a token WeChat said is invalid or expired) unless another instance
    /// already did, and returns the current token.
    pub async fn replace(&self, refused: &str) -> Result<String, WechatError> {
        match self.held().await {
            Some(held) if held.token != refused => Ok(held.token),
            _ => self.refresh(Some(refused)).await,
        }
    }

    async fn refresh(&self, refused: Option<&str>) -> Result<String, WechatError> {
        for _ in 0..30 {
            if self.cache.incr(LOCK_KEY, LOCK_FOR).await == 1 {
                // Checked again under the lock: the holder before us may have stored a token
                // between our look and our lock (then a second fetch, forced or not, is one
                // too many).
                let result = match self.held().await {
                    Some(held) if Some(held.token.as_str()) != refused => Ok(held.token),
                    _ => self.fetch(refused.is_some()).await,
                };
                self.cache.delete(LOCK_KEY).await;
                return result;
            }
            // Someone else refreshes: wait for their token.
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let Some(held) = self.held().await
                && Some(held.token.as_str()) != refused
            {
                return Ok(held.token);
            }
        }
        Err(WechatError::Busy)
    }

    async fn fetch(&self, force: bool) -> Result<String, WechatError> {
        let answer: TokenAnswer = exchange(
            self.http
                .post(format!("{}/cgi-bin/stable_token", self.base))
                .json(&serde_json::json!({
                    "grant_type": "client_credential",
                    "appid": self.credentials.appid,
                    "secret": self.credentials.secret.expose_secret(),
                    "force_refresh": force,
                })),
        )
        .await?
        .decode()?;
        match (answer.errcode, answer.access_token, answer.expires_in) {
            (0, Some(token), Some(expires_in)) if !token.is_empty() && expires_in > 0 => {
                let lifetime = (expires_in - MARGIN_SECONDS).max(expires_in / 2).max(1);
                let held = Held {
                    token: token.clone(),
                    expires_at: Utc::now() + chrono::Duration::seconds(lifetime),
                };
                if let Ok(bytes) = serde_json::to_vec(&held) {
                    let ttl = Duration::from_secs(u64::try_from(lifetime).unwrap_or(1));
                    self.cache.set(TOKEN_KEY, &bytes, ttl).await;
                }
                tracing::info!(force, expires_in, "WeChat access token refreshed");
                Ok(token)
            }
            (-1, _, _) => Err(WechatError::Busy),
            (45009 | 45011, _, _) => Err(WechatError::Quota(answer.errcode)),
            (0, _, _) => Err(WechatError::Upstream {
                code: 0,
                message: "stable_token answer without a token".into(),
            }),
            (code, _, _) => Err(WechatError::Upstream {
                code,
                message: answer.errmsg,
            }),
        }
    }
}
