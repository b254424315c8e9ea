//! The audit trail in the `audit_log` table.

use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;
use xinli_domain::RepoError;
use xinli_domain::account::Role;
use xinli_domain::audit::{AuditAction, AuditEntry, AuditFilter, AuditLog};
use xinli_domain::page::{Page, PageRequest};

use crate::db::{fetch_page, parse_id, storage};
use crate::entities::audit_log as a;

#[derive(Clone)]
pub struct AuditStore {
    db: DatabaseConnection,
}

impl AuditStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn from_row(m: a::Model) -> Result<AuditEntry, RepoError> {
    let corrupt = |what: &str| RepoError::Storage(format!("corrupt audit {what} in row {}", m.id));
    Ok(AuditEntry {
        id: parse_id(&m.id)?,
        at: m.at,
        actor_id: parse_id(&m.actor_id)?,
        actor_role: Role::parse(&m.actor_role).ok_or_else(|| corrupt("role"))?,
        action: AuditAction::parse(&m.action).ok_or_else(|| corrupt("action"))?,
        consultation_id: m.consultation_id.as_deref().map(parse_id).transpose()?,
        subject_user_id: m.subject_user_id.as_deref().map(parse_id).transpose()?,
        target: m.target.clone(),
    })
}

/// Within a person's account deletion: their entries keep what happened, not who to.
pub(crate) async fn forget_subject(db: &impl ConnectionTrait, user: Uuid) -> Result<(), RepoError> {
    a::Entity::update_many()
        .col_expr(
            a::Column::SubjectUserId,
            Expr::value(Option::<String>::None),
        )
        .filter(a::Column::SubjectUserId.eq(user.to_string()))
        .exec(db)
        .await
        .map_err(storage)?;
    Ok(())
}

#[async_trait]
impl AuditLog for AuditStore {
    async fn record(&self, e: &AuditEntry) -> Result<(), RepoError> {
        if let Some((from, to)) = e.once_within() {
            let consultation = match e.consultation_id {
                Some(id) => a::Column::ConsultationId.eq(id.to_string()),
                None => a::Column::ConsultationId.is_null(),
            };
            let already = a::Entity::find()
                .filter(a::Column::ActorId.eq(e.actor_id.to_string()))
                .filter(a::Column::Action.eq(e.action.as_str()))
                .filter(consultation)
                .filter(a::Column::At.gte(from))
                .filter(a::Column::At.lt(to))
                .one(&self.db)
                .await
                .map_err(storage)?;
            if already.is_some() {
                return Ok(());
            }
        }
        a::ActiveModel {
            id: Set(e.id.to_string()),
            at: Set(e.at),
            actor_id: Set(e.actor_id.to_string()),
            actor_role: Set(e.actor_role.as_str().to_owned()),
            action: Set(e.action.as_str().to_owned()),
            consultation_id: Set(e.consultation_id.map(|id| id.to_string())),
            subject_user_id: Set(e.subject_user_id.map(|id| id.to_string())),
            target: Set(e.target.clone()),
        }
        .insert(&self.db)
        .await
        .map_err(storage)?;
        Ok(())
    }

    async fn list(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, RepoError> {
        let mut q = a::Entity::find()
            .order_by_desc(a::Column::At)
            .order_by_desc(a::Column::Id);
        if let Some(actor) = filter.actor_id {
            q = q.filter(a::Column::ActorId.eq(actor.to_string()));
        }
        if let Some(action) = filter.action {
            q = q.filter(a::Column::Action.eq(action.as_str()));
        }
        if let Some(c) = filter.consultation_id {
            q = q.filter(a::Column::ConsultationId.eq(c.to_string()));
        }
        if let Some(from) = filter.from {
            q = q.filter(a::Column::At.gte(from));
        }
        if let Some(to) = filter.to {
            q = q.filter(a::Column::At.lt(to));
        }
        fetch_page(&self.db, q, page, from_row).await
    }
}
