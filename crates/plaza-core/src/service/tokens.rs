//! API tokens: issue, authenticate, list, revoke.

use super::Services;
use crate::access::{AuthMethod, Principal};
use crate::audit::AuditEntry;
use crate::error::{CoreError, StoreError};
use crate::identity::{validate_display_name, Org, Role, User};
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

/// Why a token that matches no stored token is refused.
pub const UNKNOWN_TOKEN: &str = "unknown token";

/// Longest lifetime a user may give a token.
pub const MAX_TOKEN_DAYS: i64 = 366;

impl Services {
    /// Resolves a presented API token to its principal; `Unauthenticated` for unknown, expired or
    /// revoked tokens (with a reason that does not help guessing).
    pub async fn authenticate_token(&self, presented: &str) -> Result<Principal, CoreError> {
        let hash = TokenHash::of(presented);
        if let Some((token, principal)) = self.principals.get(&hash) {
            // Expiry is checked on every use; a revocation here clears the cache at once.
            if let Some(reason) = token.unusable_reason(self.now()) {
                return Err(CoreError::Unauthenticated(reason.into()));
            }
            return Ok(principal);
        }
        let token = self
            .store
            .find_token_by_hash(&TokenHash::of(presented))
            .await?
            .ok_or_else(|| CoreError::Unauthenticated(UNKNOWN_TOKEN.into()))?;
        if let Some(reason) = token.unusable_reason(self.now()) {
            return Err(CoreError::Unauthenticated(reason.into()));
        }
        let user = self.store.get_user(&token.user_id).await?;
        let principal = self
            .principal_for(
                user,
                AuthMethod::Token {
                    token_id: token.id.clone(),
                },
            )
            .await?;
        self.principals.insert(hash, (token, principal.clone()));
        Ok(principal)
    }

    /// Issues a token for the caller, valid for `days` (default 90, at most [`MAX_TOKEN_DAYS`]).
    /// `secret` fixes the secret (an operator's `PLAZA_DEMO_TOKEN`); otherwise one is generated.
    ///
    /// A caller signed in through SSO cannot mint their own API token: it would keep working after
    /// the identity provider takes their access away. An admin can issue one deliberately with
    /// [`Services::issue_token_for_user`].
    pub async fn issue_token(
        &self,
        actor: &Principal,
        name: &str,
        days: Option<i64>,
        secret: Option<TokenSecret>,
    ) -> Result<NewToken, CoreError> {
        if matches!(actor.method, AuthMethod::Oidc { .. }) {
            return Err(CoreError::Forbidden(
                "you signed in with single sign-on; use your SSO token, or ask an admin to issue \
                 an API token for you (POST /api/orgs/{org}/users/{user}/tokens)"
                    .into(),
            ));
        }
        self.mint(actor, &actor.user, name, days, secret).await
    }

    /// Issues a token for the org's user `handle` (an admin's act, e.g. for a service account).
    pub async fn issue_token_for_user(
        &self,
        actor: &Principal,
        org: &Org,
        handle: &str,
        name: &str,
        days: Option<i64>,
    ) -> Result<NewToken, CoreError> {
        let owner = self.user_by_handle(&org.id, handle).await?;
        self.mint(actor, &owner, name, days, None).await
    }

    /// The tokens of the org's user `handle` (never their secrets).
    pub async fn list_user_tokens(
        &self,
        org: &Org,
        handle: &str,
    ) -> Result<Vec<ApiToken>, CoreError> {
        let owner = self.user_by_handle(&org.id, handle).await?;
        Ok(self.store.list_tokens(&owner.id).await?)
    }

    async fn mint(
        &self,
        actor: &Principal,
        owner: &User,
        name: &str,
        days: Option<i64>,
        secret: Option<TokenSecret>,
    ) -> Result<NewToken, CoreError> {
        let name = name.trim();
        validate_display_name("token name", name).map_err(CoreError::Invalid)?;
        let days = days.unwrap_or(90);
        if !(1..=MAX_TOKEN_DAYS).contains(&days) {
            return Err(CoreError::Invalid(format!(
                "expiresInDays must be between 1 and {MAX_TOKEN_DAYS} (got {days})"
            )));
        }
        let now = self.now();
        let secret = secret.unwrap_or_else(TokenSecret::generate);
        let token = ApiToken {
            id: TokenId::generate(),
            user_id: owner.id.clone(),
            org_id: owner.org_id.clone(),
            name: name.into(),
            hash: secret.hash(),
            created_at: now,
            expires_at: Some(now + Duration::days(days)),
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
        let now = self.now();
        let audit = AuditEntry::new(
            now,
            Some(token.org_id.clone()),
            actor.actor(),
            "token.revoke",
            format!("token:{}", token.id),
            json!({"name": token.name, "user": token.user_id}),
        );
        self.store.revoke_token(id, now, &audit).await?;
        self.forget_principals();
        Ok(now)
    }
}
