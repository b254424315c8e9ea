//! SeaORM implementations of the account repositories.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;
use xinli_domain::account::{
    AudienceGroup, Consumed, NewRefreshToken, NewStaff, ProfileUpdate, RefreshTokenRepository,
    Staff, StaffChanges, StaffRepository, StaffRole, Subject, User, UserRepository, Username,
};
use xinli_domain::page::{Page, PageRequest};
use xinli_domain::wechat::WechatIdentity;
use xinli_domain::{Conflict, RepoError};

use crate::db::{begin_write, fetch_page, parse_id, repo_err, storage};
use crate::entities::{refresh_tokens, staff, users};

/// Users, staff and refresh tokens in one SeaORM connection.
#[derive(Clone)]
pub struct AccountStore {
    db: DatabaseConnection,
    /// Deleting an account cancels its future bookings and hands their seats to the people
    /// waiting, under the deployment's booking rules and clock.
    booking_policy: xinli_domain::station::BookingPolicy,
    clock: std::sync::Arc<dyn xinli_domain::clock::Clock>,
}

impl AccountStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            booking_policy: Default::default(),
            clock: std::sync::Arc::new(xinli_domain::clock::SystemClock),
        }
    }

    pub fn with_bookings(
        mut self,
        policy: xinli_domain::station::BookingPolicy,
        clock: std::sync::Arc<dyn xinli_domain::clock::Clock>,
    ) -> Self {
        self.booking_policy = policy;
        self.clock = clock;
        self
    }
}

fn user_from_row(m: users::Model) -> Result<User, RepoError> {
    Ok(User {
        id: parse_id(&m.id)?,
        openid: m.openid,
        unionid: m.unionid,
        nickname: m.nickname,
        audience_group: m.audience_group.as_deref().and_then(AudienceGroup::parse),
        created_at: m.created_at,
        updated_at: m.updated_at,
        last_login_at: m.last_login_at,
    })
}

fn staff_from_row(m: staff::Model) -> Result<Staff, RepoError> {
    Ok(Staff {
        id: parse_id(&m.id)?,
        role: StaffRole::parse(&m.role)
            .ok_or_else(|| RepoError::Storage(format!("corrupt staff role {:?}", m.role)))?,
        username: m.username,
        password_hash: m.password_hash,
        display_name: m.display_name,
        disabled: m.disabled,
        created_at: m.created_at,
        updated_at: m.updated_at,
        last_login_at: m.last_login_at,
    })
}

#[async_trait]
impl UserRepository for AccountStore {
    async fn find_by_id(&self, id: Uuid) -> Result<Option<User>, RepoError> {
        users::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await
            .map_err(storage)?
            .map(user_from_row)
            .transpose()
    }

    async fn login_wechat(
        &self,
        identity: &WechatIdentity,
        now: DateTime<Utc>,
    ) -> Result<(User, bool), RepoError> {
        // Two first logins of the same person can race; the unique index on `openid` lets
        // one insert win, and the loser retries as a returning user.
        for _ in 0..2 {
            let txn = begin_write(&self.db).await.map_err(storage)?;
            let existing = users::Entity::find()
                .filter(users::Column::Openid.eq(identity.openid.as_str()))
                .one(&txn)
                .await
                .map_err(storage)?;
            let result = match existing {
                Some(row) => {
                    let mut active: users::ActiveModel = row.into();
                    active.last_login_at = Set(now);
                    if identity.unionid.is_some() {
                        active.unionid = Set(identity.unionid.clone());
                    }
                    active.update(&txn).await.map(|m| (m, false))
                }
                None => users::ActiveModel {
                    id: Set(Uuid::now_v7().to_string()),
                    openid: Set(identity.openid.clone()),
                    unionid: Set(identity.unionid.clone()),
                    nickname: Set(None),
                    audience_group: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                    last_login_at: Set(now),
                }
                .insert(&txn)
                .await
                .map(|m| (m, true)),
            };
            match result.map_err(repo_err(Conflict::Openid)) {
                Ok((row, created)) => {
                    txn.commit().await.map_err(storage)?;
                    return Ok((user_from_row(row)?, created));
                }
                Err(RepoError::Conflict(Conflict::Openid)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(RepoError::Storage("user insert kept conflicting".into()))
    }

    async fn update_profile(
        &self,
        id: Uuid,
        update: &ProfileUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, RepoError> {
        let Some(row) = users::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await
            .map_err(storage)?
        else {
            return Ok(None);
        };
        let mut active: users::ActiveModel = row.into();
        if let Some(nickname) = &update.nickname {
            active.nickname = Set(nickname.clone());
        }
        if let Some(group) = update.audience_group {
            active.audience_group = Set(group.map(|g| g.code().to_owned()));
        }
        active.updated_at = Set(now);
        let row = active.update(&self.db).await.map_err(storage)?;
        user_from_row(row).map(Some)
    }

    async fn delete(&self, id: Uuid) -> Result<bool, RepoError> {
        // One transaction for every module's part: a failure half-way leaves nothing done.
        let txn = begin_write(&self.db).await.map_err(storage)?;
        crate::consultations::forget_user(&txn, id).await?;
        crate::articles::forget_user(&txn, id).await?;
        crate::lectures::forget_user(&txn, id).await?;
        crate::surveys::forget_user(&txn, id).await?;
        crate::risk::forget_user(&txn, id).await?;
        crate::stations::forget_user(&txn, id, self.clock.now(), &self.booking_policy).await?;
        crate::audit::forget_subject(&txn, id).await?;
        refresh_tokens::Entity::delete_many()
            .filter(refresh_tokens::Column::SubjectKind.eq("user"))
            .filter(refresh_tokens::Column::SubjectId.eq(id.to_string()))
            .exec(&txn)
            .await
            .map_err(storage)?;
        // Rows of other modules reference users.id with ON DELETE CASCADE.
        let res = users::Entity::delete_by_id(id.to_string())
            .exec(&txn)
            .await
            .map_err(storage)?;
        txn.commit().await.map_err(storage)?;
        Ok(res.rows_affected > 0)
    }
}

#[async_trait]
impl StaffRepository for AccountStore {
    async fn find_by_id(&self, id: Uuid) -> Result<Option<Staff>, RepoError> {
        staff::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await
            .map_err(storage)?
            .map(staff_from_row)
            .transpose()
    }

    async fn find_by_username(&self, username: &Username) -> Result<Option<Staff>, RepoError> {
        staff::Entity::find()
            .filter(staff::Column::Username.eq(username.as_str()))
            .one(&self.db)
            .await
            .map_err(storage)?
            .map(staff_from_row)
            .transpose()
    }

    async fn create(&self, new: NewStaff, now: DateTime<Utc>) -> Result<Staff, RepoError> {
        let row = staff::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            username: Set(new.username.as_str().to_owned()),
            password_hash: Set(new.password_hash),
            role: Set(new.role.as_str().to_owned()),
            display_name: Set(new.display_name),
            disabled: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            last_login_at: Set(None),
        }
        .insert(&self.db)
        .await
        .map_err(repo_err(Conflict::Username))?;
        staff_from_row(row)
    }

    async fn list(&self, page: PageRequest) -> Result<Page<Staff>, RepoError> {
        let query = staff::Entity::find().order_by_asc(staff::Column::Username);
        fetch_page(&self.db, query, page, staff_from_row).await
    }

    async fn update(
        &self,
        id: Uuid,
        changes: &StaffChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<Staff>, RepoError> {
        let Some(row) = staff::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await
            .map_err(storage)?
        else {
            return Ok(None);
        };
        let mut active: staff::ActiveModel = row.into();
        if let Some(name) = &changes.display_name {
            active.display_name = Set(name.clone());
        }
        if let Some(role) = changes.role {
            active.role = Set(role.as_str().to_owned());
        }
        if let Some(disabled) = changes.disabled {
            active.disabled = Set(disabled);
        }
        if let Some(hash) = &changes.password_hash {
            active.password_hash = Set(hash.clone());
        }
        active.updated_at = Set(now);
        let row = active.update(&self.db).await.map_err(storage)?;
        staff_from_row(row).map(Some)
    }

    async fn record_login(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), RepoError> {
        staff::Entity::update_many()
            .col_expr(staff::Column::LastLoginAt, Expr::value(now))
            .filter(staff::Column::Id.eq(id.to_string()))
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(())
    }
}

#[async_trait]
impl RefreshTokenRepository for AccountStore {
    async fn insert(&self, token: &NewRefreshToken) -> Result<(), RepoError> {
        refresh_tokens::ActiveModel {
            id: Set(token.id.to_string()),
            token_hash: Set(token.token_hash.clone()),
            family_id: Set(token.family_id.to_string()),
            subject_kind: Set(token.subject.kind().to_owned()),
            subject_id: Set(token.subject.id().to_string()),
            created_at: Set(token.created_at),
            expires_at: Set(token.expires_at),
            used_at: Set(None),
            revoked_at: Set(None),
        }
        .insert(&self.db)
        .await
        .map_err(repo_err(Conflict::TokenHash))?;
        Ok(())
    }

    async fn consume(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Consumed, RepoError> {
        let Some(row) = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
            .one(&self.db)
            .await
            .map_err(storage)?
        else {
            return Ok(Consumed::Invalid);
        };
        let family_id = parse_id(&row.family_id)?;
        if row.revoked_at.is_some() || row.expires_at <= now {
            return Ok(Consumed::Invalid);
        }
        if row.used_at.is_some() {
            return Ok(Consumed::Replayed { family_id });
        }
        // The conditional update is the atomic step: of two concurrent refreshes with the same
        // token, only one changes the row.
        let spent = refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::UsedAt, Expr::value(now))
            .filter(refresh_tokens::Column::Id.eq(row.id.as_str()))
            .filter(refresh_tokens::Column::UsedAt.is_null())
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(storage)?;
        if spent.rows_affected != 1 {
            return Ok(Consumed::Replayed { family_id });
        }
        let id = parse_id(&row.subject_id)?;
        let subject = match row.subject_kind.as_str() {
            "user" => Subject::User(id),
            "staff" => Subject::Staff(id),
            other => {
                return Err(RepoError::Storage(format!(
                    "corrupt subject kind {other:?}"
                )));
            }
        };
        Ok(Consumed::Fresh { subject, family_id })
    }

    async fn revoke_family(&self, family_id: Uuid, now: DateTime<Utc>) -> Result<(), RepoError> {
        refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
            .filter(refresh_tokens::Column::FamilyId.eq(family_id.to_string()))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(())
    }

    async fn revoke_subject(&self, subject: Subject, now: DateTime<Utc>) -> Result<(), RepoError> {
        refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
            .filter(refresh_tokens::Column::SubjectKind.eq(subject.kind()))
            .filter(refresh_tokens::Column::SubjectId.eq(subject.id().to_string()))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(())
    }

    async fn purge_expired_before(&self, cutoff: DateTime<Utc>) -> Result<u64, RepoError> {
        let res = refresh_tokens::Entity::delete_many()
            .filter(refresh_tokens::Column::ExpiresAt.lt(cutoff))
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(res.rows_affected)
    }

    async fn family_of(&self, token_hash: &str) -> Result<Option<Uuid>, RepoError> {
        refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
            .one(&self.db)
            .await
            .map_err(storage)?
            .map(|r| parse_id(&r.family_id))
            .transpose()
    }
}

/// Whether a user account still exists, asked for every request that carries a user token,
/// mostly answered by the cache: a found account is remembered for a minute, and a deletion
/// leaves a tombstone that outlives every access token issued before it. The tombstone is
/// read first, so a "still there" stored by a request that raced the deletion is never
/// believed.
pub struct UserPresence {
    users: std::sync::Arc<dyn UserRepository>,
    cache: std::sync::Arc<dyn xinli_domain::cache::Cache>,
    /// Longer than an access token lives.
    tombstone_ttl: std::time::Duration,
}

const PRESENT_TTL: std::time::Duration = std::time::Duration::from_secs(60);

impl UserPresence {
    pub fn new(
        users: std::sync::Arc<dyn UserRepository>,
        cache: std::sync::Arc<dyn xinli_domain::cache::Cache>,
        access_token_ttl: std::time::Duration,
    ) -> Self {
        Self {
            users,
            cache,
            tombstone_ttl: access_token_ttl + std::time::Duration::from_secs(60),
        }
    }

    fn gone_key(id: Uuid) -> String {
        format!("account:user-gone:{id}")
    }

    fn present_key(id: Uuid) -> String {
        format!("account:user:{id}")
    }

    pub async fn exists(&self, id: Uuid) -> Result<bool, RepoError> {
        if self.cache.get(&Self::gone_key(id)).await.is_some() {
            return Ok(false);
        }
        if self.cache.get(&Self::present_key(id)).await.is_some() {
            return Ok(true);
        }
        let found = self.users.find_by_id(id).await?.is_some();
        if found {
            self.cache
                .set(&Self::present_key(id), b"1", PRESENT_TTL)
                .await;
        }
        Ok(found)
    }

    /// After the account is deleted: refuse its tokens from now on, on every instance.
    pub async fn forget(&self, id: Uuid) {
        self.cache
            .set(&Self::gone_key(id), b"1", self.tombstone_ttl)
            .await;
        self.cache.delete(&Self::present_key(id)).await;
    }
}
