//! API tokens: issue, authenticate, list, revoke.

use super::Services;
use crate::access::{AuthMethod, Principal};
use crate::audit::AuditEntry;
use crate::error::{CoreError, StoreError};
use crate::identity::Role;
use crate::ids::TokenId;
use crate::token::{ApiToken, TokenHash, TokenSecret};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

/// A token just issued: the stored record and its secret (shown once).
#[derive(Debug)]
pub struct NewToken {
    /// The stored record.
    pub token: ApiToken,
    /// The secret.
    pub secret: TokenSecret,
}

/// Longest lifetime a user may give a token.
pub const MAX_TOKEN_DAYS: i64 = 366;

impl Services {
    /// Resolves a presented API token to its principal; `Unauthenticated` for unknown, expired or
    /// revoked tokens (with a reason that does not help guessing).
    pub async fn authenticate_token(&self, presented: &str) -> Result<Principal, CoreError> {
        let token = self
            .store
            .find_token_by_hash(&TokenHash::of(presented))
            .await?
            .ok_or_else(|| CoreError::Unauthenticated("unknown token".into()))?;
        if let Some(reason) = token.unusable_reason(self.clock.now()) {
            return Err(CoreError::Unauthenticated(reason.into()));
        }
        let user = self.store.get_user(&token.user_id).await?;
        self.principal_for(user, AuthMethod::Token { token_id: token.id })
            .await
    }

    /// Issues a token for the caller, valid for `days` (default 90, at most [`MAX_TOKEN_DAYS`]).
    /// `secret` fixes the secret (an operator's `PLAZA_DEMO_TOKEN`); otherwise one is generated.
    pub async fn issue_token(
        &self,
        actor: &Principal,
        name: &str,
        days: Option<i64>,
        secret: Option<TokenSecret>,
    ) -> Result<NewToken, CoreError> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(CoreError::Invalid(
                "a token name must be 1-100 characters (e.g. `ci`)".into(),
            ));
        }
        let days = days.unwrap_or(90);
        if !(1..=MAX_TOKEN_DAYS).contains(&days) {
            return Err(CoreError::Invalid(format!(
                "expiresInDays must be between 1 and {MAX_TOKEN_DAYS} (got {days})"
            )));
        }
        let now = self.clock.now();
        let secret = secret.unwrap_or_else(TokenSecret::generate);
        let token = ApiToken {
            id: TokenId::generate(),
            user_id: actor.user.id.clone(),
            org_id: actor.org_id().clone(),
            name: name.into(),
            hash: secret.hash(),
            created_at: crate::audit::truncate_to_millis(now),
            expires_at: Some(crate::audit::truncate_to_millis(now + Duration::days(days))),
            revoked_at: None,
        };
        let audit = AuditEntry::new(
            now,
            Some(token.org_id.clone()),
            actor.actor(),
            "token.create",
            format!("token:{}", token.id),
            json!({"name": token.name, "user": token.user_id, "expiresAt": token.expires_at}),
        );
        self.store.create_token(&token, &audit).await?;
        Ok(NewToken { token, secret })
    }

    /// The caller's tokens.
    pub async fn list_tokens(&self, actor: &Principal) -> Result<Vec<ApiToken>, CoreError> {
        Ok(self.store.list_tokens(&actor.user.id).await?)
    }

    /// Revokes a token: the caller's own, or any token of the caller's org for an admin. A token
    /// of another org is reported as not found, so ids cannot be probed.
    pub async fn revoke_token(
        &self,
        actor: &Principal,
        id: &TokenId,
    ) -> Result<DateTime<Utc>, CoreError> {
        let token = self.store.get_token(id).await?;
        let own = token.user_id == actor.user.id;
        let org_admin = token.org_id == *actor.org_id() && actor.has_role(Role::Admin);
        if token.org_id != *actor.org_id() {
            return Err(StoreError::NotFound {
                entity: "token",
                key: id.to_string(),
            }
            .into());
        }
        if !own && !org_admin {
            return Err(CoreError::Forbidden(
                "only the token's owner or an org admin can revoke it".into(),
            ));
        }
        let now = self.clock.now();
        let audit = AuditEntry::new(
            now,
            Some(token.org_id.clone()),
            actor.actor(),
            "token.revoke",
            format!("token:{}", token.id),
            json!({"name": token.name, "user": token.user_id}),
        );
        self.store.revoke_token(id, now, &audit).await?;
        Ok(now)
    }
}
