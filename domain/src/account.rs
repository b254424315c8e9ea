//! Accounts: residents/workers who log in through WeChat, and staff (counselors, admins) who
//! log in with a username and password. Also the refresh-token rules shared by both.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::RepoError;
use crate::page::{Page, PageRequest};
use crate::validation::{self, ValidationError};
use crate::wechat::WechatIdentity;

/// Who a caller is, as far as permissions go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    User,
    Counselor,
    /// 督导: sees and acknowledges risk alerts (`domain::risk`).
    Supervisor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Counselor => "counselor",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(Role::User),
            "counselor" => Some(Role::Counselor),
            "supervisor" => Some(Role::Supervisor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// The roles a staff account can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaffRole {
    Counselor,
    /// 督导 (#17).
    Supervisor,
    Admin,
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        self.role().as_str()
    }

    pub fn role(self) -> Role {
        match self {
            StaffRole::Counselor => Role::Counselor,
            StaffRole::Supervisor => Role::Supervisor,
            StaffRole::Admin => Role::Admin,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "counselor" => Some(StaffRole::Counselor),
            "supervisor" => Some(StaffRole::Supervisor),
            "admin" => Some(StaffRole::Admin),
            _ => None,
        }
    }

    pub const ALL: [StaffRole; 3] = [
        StaffRole::Counselor,
        StaffRole::Supervisor,
        StaffRole::Admin,
    ];

    pub fn label(self) -> &'static str {
        match self {
            StaffRole::Counselor => "咨询师",
            StaffRole::Supervisor => "督导",
            StaffRole::Admin => "管理员",
        }
    }
}

/// The population a person belongs to, used to target articles and hotlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudienceGroup {
    /// 全人群
    General,
    /// 职工
    Worker,
    /// 青少年
    Youth,
    /// 老年人
    Elderly,
    /// 孕产妇
    Perinatal,
}

impl AudienceGroup {
    pub const ALL: [AudienceGroup; 5] = [
        AudienceGroup::General,
        AudienceGroup::Worker,
        AudienceGroup::Youth,
        AudienceGroup::Elderly,
        AudienceGroup::Perinatal,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AudienceGroup::General => "general",
            AudienceGroup::Worker => "worker",
            AudienceGroup::Youth => "youth",
            AudienceGroup::Elderly => "elderly",
            AudienceGroup::Perinatal => "perinatal",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AudienceGroup::General => "全人群",
            AudienceGroup::Worker => "职工",
            AudienceGroup::Youth => "青少年",
            AudienceGroup::Elderly => "老年人",
            AudienceGroup::Perinatal => "孕产妇",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    /// Whether a service for `audiences` (a hotline, a station) serves this group: it names
    /// the group, or it is for everyone (全人群).
    pub fn served_by(self, audiences: &[AudienceGroup]) -> bool {
        audiences.contains(&self) || audiences.contains(&AudienceGroup::General)
    }
}

/// A resident or worker, known by their WeChat `openid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub openid: String,
    pub unionid: Option<String>,
    pub nickname: Option<String>,
    pub audience_group: Option<AudienceGroup>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: DateTime<Utc>,
}

/// A counselor or admin account.
#[derive(Clone, PartialEq, Eq)]
pub struct Staff {
    pub id: Uuid,
    pub username: String,
    /// Argon2 PHC string. Never serialised, never logged.
    pub password_hash: String,
    pub role: StaffRole,
    pub display_name: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl Staff {
    /// A counselor account that may work: on duty at a station, given a transfer, in the queue.
    pub fn is_enabled_counselor(&self) -> bool {
        self.role == StaffRole::Counselor && !self.disabled
    }
}

/// What an admin's change of a staff account ends for them, beyond their sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffChangeEffects {
    /// A counselor who can no longer serve (disabled, or another role): the people they
    /// serve or who were assigned to them go back to the queue at once.
    pub release_consultations: bool,
    /// A counselor who becomes a supervisor or admin leaves every station roster; a
    /// disabled counselor keeps their rosters for when they come back.
    pub leave_rosters: bool,
}

/// The effects of changing `before` into `after`.
pub fn effects_of_change(before: &Staff, after: &Staff) -> StaffChangeEffects {
    let was_counselor = before.role == StaffRole::Counselor;
    StaffChangeEffects {
        release_consultations: was_counselor && !after.is_enabled_counselor(),
        leave_rosters: was_counselor && after.role != StaffRole::Counselor,
    }
}

impl std::fmt::Debug for Staff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staff")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// A login name: 3–32 characters of `a-z 0-9 _ . -`, stored lower-case so that `Admin` and
/// `admin` are the same account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MAX_CHARS: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let v = raw.trim().to_lowercase();
        let len = v.chars().count();
        if !(3..=Self::MAX_CHARS).contains(&len) {
            return Err(ValidationError::single(
                "username",
                "用户名长度须为 3 到 32 个字符",
            ));
        }
        if !v
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'))
        {
            return Err(ValidationError::single(
                "username",
                "用户名只能包含小写字母、数字和 _ . -",
            ));
        }
        Ok(Self(v))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 10–128 characters. Length is the rule that matters (NIST SP 800-63B);
/// composition rules only make passwords harder to remember.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let len = raw.chars().count();
        if len < Self::MIN_CHARS {
            return Err(ValidationError::single(
                "password",
                format!("密码至少需要 {} 个字符", Self::MIN_CHARS),
            ));
        }
        if len > Self::MAX_CHARS {
            return Err(ValidationError::single(
                "password",
                format!("密码不能超过 {} 个字符", Self::MAX_CHARS),
            ));
        }
        if raw.trim().chars().count() != len {
            return Err(ValidationError::single("password", "密码首尾不能是空格"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// One-way hashing of staff passwords (argon2id in `infra::password`). Hashing is slow on
/// purpose; an implementation keeps it off the request workers.
#[async_trait]
pub trait Passwords: Send + Sync {
    /// A PHC string for a password that passed the policy.
    async fn hash(&self, password: &NewPassword) -> Result<String, RepoError>;
    /// Whether `password` matches the PHC string `hash`; a malformed hash never matches.
    async fn verify(&self, password: &str, hash: &str) -> bool;
}

/// A staff login's two fields, bounded before either is hashed or becomes a cache key (no
/// account has a longer one); the name may be any text here — an unknown name is refused
/// like a wrong password, later.
pub fn check_login_fields(username: &str, password: &str) -> Result<(), ValidationError> {
    let mut c = validation::Collector::new();
    if username.trim().is_empty() {
        c.push("username", "请输入用户名");
    } else if username.trim().chars().count() > Username::MAX_CHARS {
        c.push(
            "username",
            format!("用户名不能超过 {} 个字符", Username::MAX_CHARS),
        );
    }
    if password.is_empty() {
        c.push("password", "请输入密码");
    } else if password.chars().count() > NewPassword::MAX_CHARS {
        c.push(
            "password",
            format!("密码不能超过 {} 个字符", NewPassword::MAX_CHARS),
        );
    }
    c.finish()
}

/// The key failed logins to one account name are counted under (any case, trimmed).
pub fn login_failure_key(username: &str) -> String {
    format!("login:fail:{}", username.trim().to_lowercase())
}

/// Why a staff login is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    /// No such account, or the wrong password — the same answer for both, and a failure
    /// counted against the name.
    InvalidCredentials,
    /// Said only once the password is right, and not counted as a failure.
    Disabled,
}

/// The outcome of a staff login: the account found by name (if any) and whether the password
/// matched its hash (a dummy hash is checked when there is none, so both take as long).
pub fn login_outcome(staff: Option<Staff>, password_ok: bool) -> Result<Staff, LoginRefusal> {
    match staff {
        Some(s) if password_ok && s.disabled => Err(LoginRefusal::Disabled),
        Some(s) if password_ok => Ok(s),
        _ => Err(LoginRefusal::InvalidCredentials),
    }
}

/// A staff member's name as shown to users and colleagues: 1–32 characters.
pub fn parse_display_name(raw: &str) -> Result<String, ValidationError> {
    validation::text("display_name", "显示名称", raw, 1, 32)
}

/// A user's nickname: 1–32 characters.
pub fn parse_nickname(raw: &str) -> Result<String, ValidationError> {
    validation::text("nickname", "昵称", raw, 1, 32)
}

pub fn parse_audience_group(field: &str, raw: &str) -> Result<AudienceGroup, ValidationError> {
    AudienceGroup::parse(raw).ok_or_else(|| {
        ValidationError::single(
            field,
            "人群类别须为 general、worker、youth、elderly、perinatal 之一",
        )
    })
}

/// A change to a user's own profile. `None` leaves a field as it is; `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileUpdate {
    pub nickname: Option<Option<String>>,
    pub audience_group: Option<Option<AudienceGroup>>,
}

#[derive(Debug, Clone)]
pub struct NewStaff {
    pub username: Username,
    pub password_hash: String,
    pub role: StaffRole,
    pub display_name: String,
}

/// A change to a staff account made by an admin. `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct StaffChanges {
    pub display_name: Option<String>,
    pub role: Option<StaffRole>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
}

impl StaffChanges {
    /// Whether applying these changes to `target` by `actor` would lock the actor out of
    /// administration. Admins may not disable or demote themselves: the last admin doing so
    /// would leave nobody to undo it.
    pub fn locks_out_self(&self, actor: Uuid, target: &Staff) -> bool {
        actor == target.id
            && (self.disabled == Some(true) || self.role.is_some_and(|r| r != StaffRole::Admin))
    }

    /// Disabling an account or changing its password or role ends its sessions.
    pub fn ends_sessions(&self) -> bool {
        self.disabled == Some(true) || self.password_hash.is_some() || self.role.is_some()
    }
}

#[async_trait]
pub trait UserRepository: Send + Sync {
    async fn find_by_id(&self, id: Uuid) -> Result<Option<User>, RepoError>;
    /// Finds the user with this `openid` or creates one; records the login time and a newly
    /// learnt `unionid`. Returns the user and whether it was created now.
    async fn login_wechat(
        &self,
        identity: &WechatIdentity,
        now: DateTime<Utc>,
    ) -> Result<(User, bool), RepoError>;
    async fn update_profile(
        &self,
        id: Uuid,
        update: &ProfileUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, RepoError>;
    /// Deletes the user and everything that belongs to them. Returns whether a user existed.
    async fn delete(&self, id: Uuid) -> Result<bool, RepoError>;
}

#[async_trait]
pub trait StaffRepository: Send + Sync {
    async fn find_by_id(&self, id: Uuid) -> Result<Option<Staff>, RepoError>;
    async fn find_by_username(&self, username: &Username) -> Result<Option<Staff>, RepoError>;
    /// Fails with `RepoError::Conflict(Conflict::Username)` when the name is taken.
    async fn create(&self, new: NewStaff, now: DateTime<Utc>) -> Result<Staff, RepoError>;
    async fn list(&self, page: PageRequest) -> Result<Page<Staff>, RepoError>;
    async fn update(
        &self,
        id: Uuid,
        changes: &StaffChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<Staff>, RepoError>;
    async fn record_login(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), RepoError>;
}

/// Whose session a refresh token continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    User(Uuid),
    Staff(Uuid),
}

impl Subject {
    pub fn kind(self) -> &'static str {
        match self {
            Subject::User(_) => "user",
            Subject::Staff(_) => "staff",
        }
    }

    pub fn id(self) -> Uuid {
        match self {
            Subject::User(id) | Subject::Staff(id) => id,
        }
    }
}

/// A refresh token as stored: only its SHA-256 hash, never the token itself.
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub id: Uuid,
    pub token_hash: String,
    /// All tokens descending from one login share a family; reuse of a spent token revokes
    /// the whole family (it means the token was copied).
    pub family_id: Uuid,
    pub subject: Subject,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What happened when a refresh token was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumed {
    /// The token was valid and is now spent.
    Fresh { subject: Subject, family_id: Uuid },
    /// The token had been spent before: someone replayed it.
    Replayed { family_id: Uuid },
    /// Unknown, expired or revoked.
    Invalid,
}

#[async_trait]
pub trait RefreshTokenRepository: Send + Sync {
    async fn insert(&self, token: &NewRefreshToken) -> Result<(), RepoError>;
    /// Spends the token with this hash, atomically: of two concurrent calls with the same
    /// token, exactly one gets [`Consumed::Fresh`].
    async fn consume(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Consumed, RepoError>;
    async fn revoke_family(&self, family_id: Uuid, now: DateTime<Utc>) -> Result<(), RepoError>;
    async fn revoke_subject(&self, subject: Subject, now: DateTime<Utc>) -> Result<(), RepoError>;
    /// Deletes tokens that expired before `cutoff`; returns how many.
    async fn purge_expired_before(&self, cutoff: DateTime<Utc>) -> Result<u64, RepoError>;
    /// Looks up the family of a token without spending it (for logout).
    async fn family_of(&self, token_hash: &str) -> Result<Option<Uuid>, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_case_insensitive_and_restricted() {
        assert_eq!(Username::parse(" Admin.Li ").unwrap().as_str(), "admin.li");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("张三丰").is_err());
        assert!(Username::parse("a b c").is_err());
    }

    #[test]
    fn password_policy_is_about_length() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("correct horse battery").is_ok());
        assert!(NewPassword::parse(&"x".repeat(129)).is_err());
        assert!(NewPassword::parse(" leadingspace").is_err());
        assert_eq!(
            format!("{:?}", NewPassword::parse("secret-secret").unwrap()),
            "NewPassword(***)"
        );
    }

    fn staff(role: StaffRole, disabled: bool) -> Staff {
        let now = Utc::now();
        Staff {
            id: Uuid::now_v7(),
            username: "root".into(),
            password_hash: String::new(),
            role,
            display_name: "管理员".into(),
            disabled,
            created_at: now,
            updated_at: now,
            last_login_at: None,
        }
    }

    #[test]
    fn a_counselor_disabled_is_released_and_one_promoted_also_leaves_the_rosters() {
        let c = staff(StaffRole::Counselor, false);
        assert!(c.is_enabled_counselor());
        let disabled = Staff {
            disabled: true,
            ..c.clone()
        };
        assert!(!disabled.is_enabled_counselor());
        let e = effects_of_change(&c, &disabled);
        assert!(e.release_consultations && !e.leave_rosters);
        let promoted = Staff {
            role: StaffRole::Supervisor,
            ..c.clone()
        };
        let e = effects_of_change(&c, &promoted);
        assert!(e.release_consultations && e.leave_rosters);
        let renamed = Staff {
            display_name: "王老师".into(),
            ..c.clone()
        };
        assert_eq!(
            effects_of_change(&c, &renamed),
            StaffChangeEffects {
                release_consultations: false,
                leave_rosters: false
            }
        );
        let admin = staff(StaffRole::Admin, false);
        let e = effects_of_change(
            &admin,
            &Staff {
                disabled: true,
                ..admin.clone()
            },
        );
        assert!(!e.release_consultations && !e.leave_rosters);
    }

    #[test]
    fn a_login_says_disabled_only_to_the_right_password() {
        let s = staff(StaffRole::Counselor, true);
        assert_eq!(
            login_outcome(Some(s.clone()), false),
            Err(LoginRefusal::InvalidCredentials)
        );
        assert_eq!(
            login_outcome(Some(s.clone()), true),
            Err(LoginRefusal::Disabled)
        );
        assert_eq!(
            login_outcome(None, true),
            Err(LoginRefusal::InvalidCredentials)
        );
        let ok = staff(StaffRole::Counselor, false);
        assert_eq!(login_outcome(Some(ok.clone()), true), Ok(ok));
        assert_eq!(login_failure_key("  Admin "), login_failure_key("admin"));
        assert!(check_login_fields("admin", "x").is_ok());
        let e = check_login_fields(" ", &"x".repeat(129)).unwrap_err();
        assert_eq!(e.0.len(), 2);
    }

    #[test]
    fn only_a_group_named_or_everyone_is_served() {
        use AudienceGroup::*;
        assert!(Worker.served_by(&[Worker, Youth]));
        assert!(Worker.served_by(&[General]));
        assert!(!Worker.served_by(&[Youth]));
        assert!(!Worker.served_by(&[]));
    }

    #[test]
    fn admins_cannot_lock_themselves_out() {
        let me = staff(StaffRole::Admin, false);
        let disable = StaffChanges {
            disabled: Some(true),
            ..Default::default()
        };
        let demote = StaffChanges {
            role: Some(StaffRole::Counselor),
            ..Default::default()
        };
        let rename = StaffChanges {
            display_name: Some("新名字".into()),
            ..Default::default()
        };
        assert!(disable.locks_out_self(me.id, &me));
        assert!(demote.locks_out_self(me.id, &me));
        assert!(!rename.locks_out_self(me.id, &me));
        assert!(!disable.locks_out_self(Uuid::now_v7(), &me));
    }
}
