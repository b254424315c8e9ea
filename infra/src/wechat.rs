//! The WeChat client: `jscode2session` for logins, `wxa/getwxacodeunlimit` for mini-program
//! codes (with the shared access token of [`crate::wechat_token`]). Every call has a timeout
//! (5 s, connect 3 s) and maps WeChat's `errcode` to a [`WechatError`].
//!
//! <https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html>
//! <https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/qrcode-link/qr-code/getUnlimitedQRCode.html>

use std::time::Duration;

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use xinli_domain::cache::Cache;
use xinli_domain::wechat::{
    SubscribeMessage, WechatError, WechatGateway, WechatIdentity, valid_scene,
};

use crate::wechat_token::AccessTokens;

/// Mini-program credentials. The secret is a `SecretString`: never in `Debug`, zeroed when
/// dropped, read only where a request to WeChat needs it.
#[derive(Clone, Debug)]
pub struct WechatCredentials {
    pub appid: String,
    pub secret: SecretString,
}

pub struct WechatClient {
    http: reqwest::Client,
    base: String,
    credentials: Option<WechatCredentials>,
    tokens: Option<AccessTokens>,
}

impl WechatClient {
    pub fn new(base: &str, credentials: Option<WechatCredentials>) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(3))
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            credentials,
            tokens: None,
        })
    }

    /// Holds the access token in `cache`, shared by every instance that uses the same cache.
    pub fn with_token_cache(mut self, cache: Arc<dyn Cache>) -> Self {
        self.tokens = self
            .credentials
            .clone()
            .map(|c| AccessTokens::new(self.http.clone(), self.base.clone(), c, cache));
        self
    }

    /// Runs `call` with the shared access token; when WeChat refuses the token (40001,
    /// 42001), replaces it once and runs `call` again.
    async fn with_token<T, F, Fut>(&self, call: F) -> Result<T, WechatError>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<T, WechatError>>,
    {
        let tokens = self.tokens.as_ref().ok_or(WechatError::NotConfigured)?;
        let token = tokens.get().await?;
        match call(token.clone()).await {
            Err(e) if token_refused(&e) => {
                tracing::warn!("WeChat refused the access token; replacing it once");
                let fresh = tokens.replace(&token).await?;
                call(fresh).await
            }
            other => other,
        }
    }

    /// One `message/subscribe/send` call.
    async fn send_with(&self, token: &str, m: &SubscribeMessage) -> Result<(), WechatError> {
        let data: serde_json::Map<String, serde_json::Value> = m
            .data
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::json!({ "value": v })))
            .collect();
        let answer: ErrorAnswer = exchange(
            self.http
                .post(format!("{}/cgi-bin/message/subscribe/send", self.base))
                .query(&[("access_token", token)])
                .json(&serde_json::json!({
                    "touser": m.touser,
                    "template_id": m.template_id,
                    "page": m.page,
                    "data": data,
                    "miniprogram_state": m.miniprogram_state,
                    "lang": "zh_CN",
                })),
        )
        .await?
        .decode()?;
        match answer.errcode {
            0 => Ok(()),
            -1 => Err(WechatError::Busy),
            code => Err(WechatError::Upstream {
                code,
                message: answer.errmsg,
            }),
        }
    }

    /// One `getwxacodeunlimit` call: the image, or WeChat's error.
    async fn code_with(
        &self,
        token: &str,
        scene: &str,
        page: &str,
    ) -> Result<Vec<u8>, WechatError> {
        let answer = exchange(
            self.http
                .post(format!("{}/wxa/getwxacodeunlimit", self.base))
                .query(&[("access_token", token)])
                .json(&serde_json::json!({
                    "scene": scene,
                    "page": page,
                    "check_path": false,
                    "env_version": "release",
                    "width": 430,
                    "is_hyaline": true,
                })),
        )
        .await?;
        if !answer.json {
            return Ok(answer.body);
        }
        let answer: ErrorAnswer = answer.decode()?;
        Err(match answer.errcode {
            -1 => WechatError::Busy,
            45009 => WechatError::Quota(answer.errcode),
            code => WechatError::Upstream {
                code,
                message: answer.errmsg,
            },
        })
    }
}

/// A WeChat answer: whether it is JSON (errors always are), and its bytes.
pub(crate) struct Answer {
    pub json: bool,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as `T`; an unreadable body is an upstream error.
    pub(crate) fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, WechatError> {
        serde_json::from_slice(&self.body).map_err(|e| WechatError::Upstream {
            code: 0,
            message: format!("unreadable answer: {e}"),
        })
    }
}

/// Sends a request to WeChat and reads the answer. Network failures and HTTP errors become
/// [`WechatError`]s without the URL, which carries the app secret or the access token.
pub(crate) async fn exchange(request: reqwest::RequestBuilder) -> Result<Answer, WechatError> {
    let response = request
        .send()
        .await
        .map_err(|e| WechatError::Unreachable(e.without_url().to_string()))?;
    let status = response.status();
    let json = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json") || v.starts_with("text/"));
    let body = response
        .bytes()
        .await
        .map_err(|e| WechatError::Unreachable(e.without_url().to_string()))?;
    if !status.is_success() {
        return Err(WechatError::Upstream {
            code: i64::from(status.as_u16()),
            message: format!("HTTP {status}"),
        });
    }
    let json = json || body.starts_with(b"{");
    Ok(Answer {
        json,
        body: body.to_vec(),
    })
}

#[derive(Deserialize)]
struct ErrorAnswer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

/// errcode 40001 (invalid credential), 42001 (token expired): get a new token and retry once.
fn token_refused(e: &WechatError) -> bool {
    matches!(
        e,
        WechatError::Upstream {
            code: 40001 | 42001,
            ..
        }
    )
}

/// WeChat answers with `Content-Type: text/plain` and either the session or an `errcode`.
#[derive(Deserialize)]
struct SessionAnswer {
    openid: Option<String>,
    unionid: Option<String>,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

#[async_trait]
impl WechatGateway for WechatClient {
    async fn code_to_session(&self, code: &str) -> Result<WechatIdentity, WechatError> {
        let creds = self
            .credentials
            .as_ref()
            .ok_or(WechatError::NotConfigured)?;
        let answer: SessionAnswer = exchange(
            self.http
                .get(format!("{}/sns/jscode2session", self.base))
                .query(&[
                    ("appid", creds.appid.as_str()),
                    ("secret", creds.secret.expose_secret()),
                    ("js_code", code),
                    ("grant_type", "authorization_code"),
                ]),
        )
        .await?
        .decode()?;
        match answer.errcode {
            0 => match answer.openid.filter(|o| !o.is_empty()) {
                Some(openid) => Ok(WechatIdentity {
                    openid,
                    unionid: answer.unionid.filter(|u| !u.is_empty()),
                }),
                None => Err(WechatError::Upstream {
                    code: 0,
                    message: "answer without openid".into(),
                }),
            },
            40029 | 40163 => Err(WechatError::InvalidCode(answer.errcode)),
            45011 => Err(WechatError::RateLimited),
            40226 => Err(WechatError::RiskyUser),
            -1 => Err(WechatError::Busy),
            code => Err(WechatError::Upstream {
                code,
                message: answer.errmsg,
            }),
        }
    }

    async fn unlimited_code(&self, scene: &str, page: &str) -> Result<Vec<u8>, WechatError> {
        if !valid_scene(scene) {
            return Err(WechatError::Upstream {
                code: 40129,
                message: "invalid scene".into(),
            });
        }
        self.with_token(|token| async move { self.code_with(&token, scene, page).await })
            .await
    }

    async fn send_subscribe(&self, message: &SubscribeMessage) -> Result<(), WechatError> {
        self.with_token(|token| async move { self.send_with(&token, message).await })
            .await
    }

    async fn send_group_robot(&self, webhook_url: &str, content: &str) -> Result<(), WechatError> {
        let answer: ErrorAnswer = exchange(self.http.post(webhook_url).json(&serde_json::json!({
            "msgtype": "text",
            "text": {"content": content, "mentioned_list": ["@all"]},
        })))
        .await?
        .decode()?;
        match answer.errcode {
            0 => Ok(()),
            -1 => Err(WechatError::Busy),
            45009 => Err(WechatError::Quota(45009)),
            code => Err(WechatError::Upstream {
                code,
                message: answer.errmsg,
            }),
        }
    }
}

/// How long a mini-program code is kept: a code for a page and scene never changes, and
/// WeChat's calls are limited.
const CODE_TTL: Duration = Duration::from_secs(24 * 3600);

/// The gateway with its mini-program codes kept a day in the shared cache (the same decorator
/// style as `CachedHotlines`); every other call goes straight through.
pub struct CachedCodes<G> {
    inner: G,
    cache: Arc<dyn Cache>,
}

impl<G> CachedCodes<G> {
    pub fn new(inner: G, cache: Arc<dyn Cache>) -> Self {
        Self { inner, cache }
    }
}

#[async_trait]
impl<G: WechatGateway> WechatGateway for CachedCodes<G> {
    async fn code_to_session(&self, code: &str) -> Result<WechatIdentity, WechatError> {
        self.inner.code_to_session(code).await
    }

    async fn unlimited_code(&self, scene: &str, page: &str) -> Result<Vec<u8>, WechatError> {
        let key = format!("mini_program_code:{page}:{scene}");
        if let Some(png) = self.cache.get(&key).await {
            return Ok(png);
        }
        let png = self.inner.unlimited_code(scene, page).await?;
        self.cache.set(&key, &png, CODE_TTL).await;
        Ok(png)
    }

    async fn send_subscribe(&self, message: &SubscribeMessage) -> Result<(), WechatError> {
        self.inner.send_subscribe(message).await
    }

    async fn send_group_robot(&self, webhook_url: &str, content: &str) -> Result<(), WechatError> {
        self.inner.send_group_robot(webhook_url, content).await
    }
}
