//! Orgs, teams, users and roles: bootstrap, membership, and just-in-time users for OIDC sign-in.

use super::Services;
use crate::access::Principal;
use crate::audit::AuditEntry;
use crate::error::{CoreError, StoreError};
use crate::identity::{validate_display_name, validate_slug, Org, Role, RoleSet, Team, User};
use crate::ids::{OrgId, TeamId, TokenId, UserId};
use crate::token::{ApiToken, TokenSecret};
use serde_json::json;

/// What `bootstrap` created: the org, its first admin, and the admin's token secret (shown once).
#[derive(Debug)]
pub struct Bootstrap {
    /// The new org.
    pub org: Org,
    /// Its first admin.
    pub admin: User,
    /// The admin's API token secret.
    pub token: TokenSecret,
}

/// A person as the identity provider vouches for them, after the JWT was verified.
#[derive(Clone, Debug)]
pub struct OidcIdentity {
    /// The issuer.
    pub issuer: String,
    /// The `sub` claim.
    pub subject: String,
    /// The `email` claim, if any.
    pub email: Option<String>,
    /// The `name` claim, if any.
    pub name: Option<String>,
    /// Teams (by slug) the groups claim maps to.
    pub team_slugs: Vec<String>,
    /// Roles the groups claim maps to.
    pub roles: RoleSet,
}

impl Services {
    /// Creates an org with its first admin (all six roles) and an API token, all or nothing.
    /// `token` fixes the secret (e.g. the demo's `PLAZA_DEMO_TOKEN`); otherwise one is generated.
    pub async fn bootstrap(
        &self,
        org_slug: &str,
        org_name: &str,
        admin_handle: &str,
        token: Option<TokenSecret>,
    ) -> Result<Bootstrap, CoreError> {
        validate_slug("org", org_slug).map_err(CoreError::Invalid)?;
        validate_slug("user handle", admin_handle).map_err(CoreError::Invalid)?;
        validate_display_name("org name", org_name).map_err(CoreError::Invalid)?;
        let now = self.now();
        let org = Org {
            id: OrgId::generate(),
            slug: org_slug.into(),
            name: org_name.into(),
            created_at: now,
        };
        let admin = User {
            id: UserId::generate(),
            org_id: org.id.clone(),
            handle: admin_handle.into(),
            display_name: admin_handle.into(),
            email: None,
            external_subject: None,
            roles: RoleSet::new(Role::ALL),
            created_at: now,
        };
        let secret = token.unwrap_or_else(TokenSecret::generate);
        let api_token = ApiToken {
            id: TokenId::generate(),
            user_id: admin.id.clone(),
            org_id: org.id.clone(),
            name: "bootstrap".into(),
            hash: secret.hash(),
            created_at: now,
            expires_at: None,
            revoked_at: None,
        };
        let actor = "system:bootstrap";
        let audit = [
            AuditEntry::new(
                now,
                Some(org.id.clone()),
                actor,
                "org.create",
                format!("org:{}", org.id),
                json!({"slug": org.slug}),
            ),
            AuditEntry::new(
                now,
                Some(org.id.clone()),
                actor,
                "user.create",
                format!("user:{}", admin.id),
                json!({"handle": admin.handle, "roles": admin.roles}),
            ),
            AuditEntry::new(
                now,
                Some(org.id.clone()),
                actor,
                "token.create",
                format!("token:{}", api_token.id),
                json!({"name": api_token.name, "user": admin.id}),
            ),
        ];
        self.store
            .create_org_with_admin(&org, &admin, &api_token, &audit)
            .await?;
        Ok(Bootstrap {
            org,
            admin,
            token: secret,
        })
    }

    /// The org with this slug; `NotFound` otherwise.
    pub async fn org_by_slug(&self, slug: &str) -> Result<Org, CoreError> {
        self.store
            .find_org_by_slug(slug)
            .await?
            .ok_or_else(|| not_found("org", slug))
    }

    /// Creates a team in the caller's org.
    pub async fn create_team(
        &self,
        actor: &Principal,
        org: &Org,
        slug: &str,
        name: &str,
    ) -> Result<Team, CoreError> {
        validate_slug("team", slug).map_err(CoreError::Invalid)?;
        validate_display_name("team name", name).map_err(CoreError::Invalid)?;
        let now = self.now();
        let team = Team {
            id: TeamId::generate(),
            org_id: org.id.clone(),
            slug: slug.into(),
            name: name.into(),
            created_at: now,
        };
        let audit = AuditEntry::new(
            now,
            Some(org.id.clone()),
            actor.actor(),
            "team.create",
            format!("team:{}", team.id),
            json!({"slug": slug, "name": name}),
        );
        self.store.create_team(&team, &audit).await?;
        Ok(team)
    }

    /// The org's teams.
    pub async fn list_teams(&self, org: &Org) -> Result<Vec<Team>, CoreError> {
        Ok(self.store.list_teams(&org.id).await?)
    }

    /// A team of the org, by slug.
    pub async fn team(&self, org: &Org, slug: &str) -> Result<Team, CoreError> {
        Ok(self.store.get_team_by_slug(&org.id, slug).await?)
    }

    /// The team's members.
    pub async fn team_members(&self, team: &Team) -> Result<Vec<User>, CoreError> {
        Ok(self.store.list_team_members(&team.id).await?)
    }

    /// Adds the org's user `handle` to `team`.
    pub async fn add_team_member(
        &self,
        actor: &Principal,
        team: &Team,
        handle: &str,
    ) -> Result<User, CoreError> {
        let user = self.user_by_handle(&team.org_id, handle).await?;
        let audit = AuditEntry::new(
            self.now(),
            Some(team.org_id.clone()),
            actor.actor(),
            "team.member.add",
            format!("team:{}", team.id),
            json!({"user": user.id, "handle": user.handle}),
        );
        self.store
            .add_team_member(&team.id, &user.id, &audit)
            .await?;
        self.forget_principals();
        Ok(user)
    }

    /// Removes the org's user `handle` from `team`.
    pub async fn remove_team_member(
        &self,
        actor: &Principal,
        team: &Team,
        handle: &str,
    ) -> Result<(), CoreError> {
        let user = self.user_by_handle(&team.org_id, handle).await?;
        let audit = AuditEntry::new(
            self.now(),
            Some(team.org_id.clone()),
            actor.actor(),
            "team.member.remove",
            format!("team:{}", team.id),
            json!({"user": user.id, "handle": user.handle}),
        );
        self.store
            .remove_team_member(&team.id, &user.id, &audit)
            .await?;
        self.forget_principals();
        Ok(())
    }

    /// Creates a user in `org` with `roles`.
    pub async fn create_user(
        &self,
        actor: &Principal,
        org: &Org,
        handle: &str,
        display_name: Option<&str>,
        email: Option<&str>,
        roles: RoleSet,
    ) -> Result<User, CoreError> {
        validate_slug("user handle", handle).map_err(CoreError::Invalid)?;
        if let Some(name) = display_name {
            validate_display_name("display name", name).map_err(CoreError::Invalid)?;
        }
        if let Some(e) = email {
            validate_email(e)?;
        }
        let now = self.now();
        let user = User {
            id: UserId::generate(),
            org_id: org.id.clone(),
            handle: handle.into(),
            display_name: display_name.unwrap_or(handle).into(),
            email: email.map(str::to_owned),
            external_subject: None,
            roles,
            created_at: now,
        };
        let audit = AuditEntry::new(
            now,
            Some(org.id.clone()),
            actor.actor(),
            "user.create",
            format!("user:{}", user.id),
            json!({"handle": handle, "roles": user.roles}),
        );
        self.store.create_user(&user, &audit).await?;
        Ok(user)
    }

    /// The org's users.
    pub async fn list_users(&self, org: &Org) -> Result<Vec<User>, CoreError> {
        Ok(self.store.list_users(&org.id).await?)
    }

    /// A user of the org, by handle; `NotFound` otherwise.
    pub async fn user_by_handle(&self, org: &OrgId, handle: &str) -> Result<User, CoreError> {
        self.store
            .find_user_by_handle(org, handle)
            .await?
            .ok_or_else(|| not_found("user", handle))
    }

    /// Replaces the roles of the org's user `handle`. An admin cannot remove their own admin role
    /// (so an org never locks itself out by accident).
    pub async fn set_user_roles(
        &self,
        actor: &Principal,
        org: &Org,
        handle: &str,
        roles: RoleSet,
    ) -> Result<User, CoreError> {
        let mut user = self.user_by_handle(&org.id, handle).await?;
        if user.id == actor.user.id
            && !roles.contains(Role::Admin)
            && user.roles.contains(Role::Admin)
        {
            return Err(CoreError::Invalid(
                "you cannot remove your own admin role; ask another admin to do it".into(),
            ));
        }
        let audit = AuditEntry::new(
            self.now(),
            Some(org.id.clone()),
            actor.actor(),
            "user.roles.set",
            format!("user:{}", user.id),
            json!({"from": user.roles, "to": roles}),
        );
        self.store.set_user_roles(&user.id, &roles, &audit).await?;
        self.forget_principals();
        user.roles = roles;
        Ok(user)
    }

    /// Finds or creates the user an OIDC token vouches for in `org`, and brings their roles and
    /// team memberships in line with the token's groups. Every change is audited.
    pub async fn resolve_oidc_user(&self, org: &Org, id: &OidcIdentity) -> Result<User, CoreError> {
        let now = self.now();
        let actor = format!("oidc:{}", id.issuer);
        let user = match self
            .store
            .find_user_by_external_subject(&org.id, &id.subject)
            .await?
        {
            Some(mut user) => {
                if user.roles != id.roles {
                    let audit = AuditEntry::new(
                        now,
                        Some(org.id.clone()),
                        actor.clone(),
                        "user.roles.set",
                        format!("user:{}", user.id),
                        json!({"from": user.roles, "to": id.roles, "source": "oidc groups"}),
                    );
                    self.store
                        .set_user_roles(&user.id, &id.roles, &audit)
                        .await?;
                    user.roles = id.roles.clone();
                }
                user
            }
            None => {
                let user = User {
                    id: UserId::generate(),
                    org_id: org.id.clone(),
                    handle: oidc_handle(&id.issuer, &id.subject),
                    display_name: id.name.clone().unwrap_or_else(|| id.subject.clone()),
                    email: id.email.clone(),
                    external_subject: Some(id.subject.clone()),
                    roles: id.roles.clone(),
                    created_at: now,
                };
                let audit = AuditEntry::new(
                    now,
                    Some(org.id.clone()),
                    actor.clone(),
                    "user.create",
                    format!("user:{}", user.id),
                    json!({"handle": user.handle, "subject": id.subject, "roles": user.roles, "source": "oidc"}),
                );
                match self.store.create_user(&user, &audit).await {
                    Ok(()) => user,
                    // Two first requests of the same person raced; the other one created them.
                    Err(StoreError::Conflict { .. }) => self
                        .store
                        .find_user_by_external_subject(&org.id, &id.subject)
                        .await?
                        .ok_or_else(|| not_found("user", &id.subject))?,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let current = self.store.teams_of_user(&user.id).await?;
        for slug in &id.team_slugs {
            if current.iter().any(|t| &t.slug == slug) {
                continue;
            }
            let team = match self.store.get_team_by_slug(&org.id, slug).await {
                Ok(t) => t,
                Err(StoreError::NotFound { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            let audit = AuditEntry::new(
                now,
                Some(org.id.clone()),
                actor.clone(),
                "team.member.add",
                format!("team:{}", team.id),
                json!({"user": user.id, "source": "oidc groups"}),
            );
            self.store
                .add_team_member(&team.id, &user.id, &audit)
                .await?;
        }
        for team in current.iter().filter(|t| !id.team_slugs.contains(&t.slug)) {
            let audit = AuditEntry::new(
                now,
                Some(org.id.clone()),
                actor.clone(),
                "team.member.remove",
                format!("team:{}", team.id),
                json!({"user": user.id, "source": "oidc groups"}),
            );
            self.store
                .remove_team_member(&team.id, &user.id, &audit)
                .await?;
        }
        Ok(user)
    }

    /// The principal for a user, with their current teams.
    pub async fn principal_for(
        &self,
        user: crate::identity::User,
        method: crate::access::AuthMethod,
    ) -> Result<Principal, CoreError> {
        let teams = self.store.teams_of_user(&user.id).await?;
        Ok(Principal {
            user,
            teams: teams.into_iter().map(|t| t.id).collect(),
            method,
        })
    }
}

/// A handle for a just-in-time OIDC user: `sso-`, the subject reduced to slug characters, and a
/// short hash of issuer and subject, so two subjects that reduce alike never collide and the
/// handle never clashes with one an admin chose.
fn oidc_handle(issuer: &str, subject: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut readable: String = subject
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    readable.truncate(40);
    let readable = readable.trim_matches('-');
    let digest = hex::encode(Sha256::digest(format!("{issuer}\n{subject}").as_bytes()));
    if readable.is_empty() {
        format!("sso-{}", &digest[..12])
    } else {
        format!("sso-{readable}-{}", &digest[..12])
    }
}

fn not_found(entity: &'static str, key: &str) -> CoreError {
    CoreError::Store(StoreError::NotFound {
        entity,
        key: key.into(),
    })
}

/// A deliberately simple e-mail check: one `@`, a non-empty local part, a dotted domain.
pub(crate) fn validate_email(e: &str) -> Result<(), CoreError> {
    let ok = e.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !e.contains(char::is_whitespace)
    });
    if ok {
        Ok(())
    } else {
        Err(CoreError::Invalid(format!(
            "`{e}` is not an e-mail address; use the form name@example.com"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::oidc_handle;
    use crate::identity::validate_slug;

    #[test]
    fn oidc_handles_are_valid_slugs_and_do_not_collide() {
        let a = oidc_handle("https://idp", "A.b");
        let b = oidc_handle("https://idp", "a-B");
        assert_ne!(a, b);
        assert!(a.starts_with("sso-a-b-"), "{a}");
        let long = "x".repeat(80);
        let c = oidc_handle("https://idp", &format!("{long}1"));
        let d = oidc_handle("https://idp", &format!("{long}2"));
        assert_ne!(c, d);
        for h in [a, b, c, d, oidc_handle("i", "@@@")] {
            assert!(validate_slug("handle", &h).is_ok(), "{h}");
        }
    }
}
