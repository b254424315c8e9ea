//! The WeChat `jscode2session` client.
//!
//! <https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html>

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use xinli_domain::wechat::{WechatError, WechatGateway, WechatIdentity};

/// Mini-program credentials. `Debug` never shows the secret.
#[derive(Clone)]
pub struct WechatCredentials {
    pub appid: String,
    pub secret: String,
}

impl std::fmt::Debug for WechatCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatCredentials")
            .field("appid", &self.appid)
            .field("secret", &"***")
            .finish()
    }
}

pub struct WechatClient {
    http: reqwest::Client,
    base: String,
    credentials: Option<WechatCredentials>,
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
        })
    }
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
        let response = self
            .http
            .get(format!("{}/sns/jscode2session", self.base))
            .query(&[
                ("appid", creds.appid.as_str()),
                ("secret", creds.secret.as_str()),
                ("js_code", code),
                ("grant_type", "authorization_code"),
            ])
            .send()
            .await
            // `without_url`: the URL carries the app secret and must not reach a log line.
            .map_err(|e| WechatError::Unreachable(e.without_url().to_string()))?;
        let status = response.status();
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
        let answer: SessionAnswer =
            serde_json::from_slice(&body).map_err(|e| WechatError::Upstream {
                code: 0,
                message: format!("unreadable answer: {e}"),
            })?;
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
}
