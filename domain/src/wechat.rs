//! What the domain needs from WeChat: turning a `wx.login` code into an identity, and
//! mini-program codes (QR-like images) that open a page of the mini-program.

use async_trait::async_trait;

/// The identity WeChat vouches for. The `session_key` WeChat also returns is deliberately not
/// kept: this service decrypts nothing, and a key it does not hold cannot leak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WechatIdentity {
    pub openid: String,
    pub unionid: Option<String>,
}

/// Why a login code could not be exchanged. The first three are about the user's code or
/// account; the rest are WeChat's or our configuration's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WechatError {
    /// errcode 40029 (invalid code) or 40163 (code already used): ask the user to log in again.
    #[error("invalid or used login code (errcode {0})")]
    InvalidCode(i64),
    /// errcode 45011: this user calls too often.
    #[error("rate limited by WeChat")]
    RateLimited,
    /// errcode 40226: WeChat's risk control blocks this user.
    #[error("user blocked by WeChat risk control")]
    RiskyUser,
    /// errcode 45009 and the like: this app called an interface too often today.
    #[error("WeChat quota reached (errcode {0})")]
    Quota(i64),
    /// errcode -1: WeChat is busy; try again shortly.
    #[error("WeChat is busy")]
    Busy,
    /// Any other errcode, or an answer that could not be read.
    #[error("WeChat returned errcode {code}: {message}")]
    Upstream { code: i64, message: String },
    /// Timeout, DNS or connection failure.
    #[error("WeChat unreachable: {0}")]
    Unreachable(String),
    /// `XINLI_WECHAT_APPID`/`XINLI_WECHAT_SECRET` are not set.
    #[error("WeChat login is not configured")]
    NotConfigured,
}

#[async_trait]
pub trait WechatGateway: Send + Sync {
    /// Calls `jscode2session` for a code from `wx.login`.
    async fn code_to_session(&self, code: &str) -> Result<WechatIdentity, WechatError>;

    /// A mini-program code (PNG) opening `page` with `scene` (at most 32 visible ASCII
    /// characters), from `wxa/getwxacodeunlimit`, with the one shared access token.
    async fn unlimited_code(&self, scene: &str, page: &str) -> Result<Vec<u8>, WechatError>;

    /// Sends one subscribe message (`cgi-bin/message/subscribe/send`) with the shared access
    /// token. errcode 43101 (refused, or the grant used) and the others come back as
    /// [`WechatError::Upstream`] with their code.
    async fn send_subscribe(&self, message: &SubscribeMessage) -> Result<(), WechatError>;

    /// Posts a text to a WeCom (企业微信) group robot (`cgi-bin/webhook/send`, the full URL
    /// with its key), mentioning everyone in the group. errcode -1 is
    /// [`WechatError::Busy`], 45009 (20 messages a minute) [`WechatError::Quota`].
    async fn send_group_robot(&self, webhook_url: &str, content: &str) -> Result<(), WechatError>;
}

/// A subscribe message as WeChat takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeMessage {
    pub touser: String,
    pub template_id: String,
    pub page: String,
    /// Template key → value, already cut to WeChat's limits.
    pub data: Vec<(String, String)>,
    /// `formal`, `trial` or `developer`.
    pub miniprogram_state: String,
}

/// `scene` of a mini-program code: 1–32 characters of `0-9a-zA-Z!#$&'()*+,/:;=?@-._~`.
pub fn valid_scene(scene: &str) -> bool {
    (1..=32).contains(&scene.len())
        && scene
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$&'()*+,/:;=?@-._~".contains(c))
}
