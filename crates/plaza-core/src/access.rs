//! Who may do what: the [`Principal`] a request acts as, the [`Access`] rule each operation
//! declares, and [`decide`], the one function that applies a rule to a principal.

use crate::identity::{Role, User};
use crate::ids::{OrgId, TeamId, TokenId};
use serde::Serialize;

/// How a principal proved who it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum AuthMethod {
    /// A Plaza API token.
    Token {
        /// Which token.
        token_id: TokenId,
    },
    /// An OIDC bearer token from the enterprise identity provider.
    Oidc {
        /// The issuer that signed it.
        issuer: String,
    },
}

/// The authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The user.
    pub user: User,
    /// The teams the user belongs to.
    pub teams: Vec<TeamId>,
    /// How the user signed in.
    pub method: AuthMethod,
}

impl Principal {
    /// The caller's org.
    pub fn org_id(&self) -> &OrgId {
        &self.user.org_id
    }
    /// Whether the caller holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.user.roles.contains(role)
    }
    /// The actor string audit records carry for this caller.
    pub fn actor(&self) -> String {
        format!("user:{}", self.user.id)
    }
}

/// The rule an operation declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (health, metrics, the OpenAPI document).
    Public,
    /// Any signed-in user; the operation only touches the caller's own things.
    Authenticated,
    /// Any user of the org the operation targets.
    OrgMember,
    /// A user of the targeted org holding at least one of these roles.
    OrgRole(&'static [Role]),
    /// Like [`Access::OrgRole`], or an active instance presenting its capability token (the
    /// operation then acts for that instance only; the edge verifies the token).
    InstanceOrRole(&'static [Role]),
}

/// The outcome of [`decide`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// No (valid) credentials: 401.
    Unauthenticated,
    /// Signed in but not allowed: 403, with the reason.
    Forbidden(String),
}

/// Applies `access` to `principal` acting on `target_org` (the org named by the request, or the
/// caller's own org when the request names none).
pub fn decide(
    access: Access,
    principal: Option<&Principal>,
    target_org: Option<&OrgId>,
) -> Decision {
    let needs_org = match access {
        Access::Public => return Decision::Allow,
        Access::Authenticated => false,
        Access::OrgMember | Access::OrgRole(_) | Access::InstanceOrRole(_) => true,
    };
    let Some(p) = principal else {
        return Decision::Unauthenticated;
    };
    if needs_org {
        if let Some(org) = target_org {
            if org != p.org_id() {
                return Decision::Forbidden("you are not a member of this organisation".into());
            }
        }
    }
    match access {
        Access::OrgRole(roles) | Access::InstanceOrRole(roles) if !p.user.roles.any_of(roles) => {
            Decision::Forbidden(format!(
                "this needs one of the roles: {}",
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
        _ => Decision::Allow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::RoleSet;
    use crate::ids::UserId;
    use chrono::Utc;

    fn principal(org: &str, roles: &[Role]) -> Principal {
        Principal {
            user: User {
                id: UserId::from("usr_1"),
                org_id: OrgId::from(org),
                handle: "ann".into(),
                display_name: "Ann".into(),
                email: None,
                external_subject: None,
                roles: RoleSet::new(roles.iter().copied()),
                created_at: Utc::now(),
            },
            teams: vec![],
            method: AuthMethod::Token {
                token_id: TokenId::from("tok_1"),
            },
        }
    }

    #[test]
    fn rules_apply_as_documented() {
        let own = OrgId::from("org_a");
        let other = OrgId::from("org_b");
        let admin = principal("org_a", &[Role::Admin]);
        let author = principal("org_a", &[Role::Author]);
        const ADMIN: Access = Access::OrgRole(&[Role::Admin]);

        assert_eq!(decide(Access::Public, None, None), Decision::Allow);
        assert_eq!(
            decide(Access::Authenticated, None, None),
            Decision::Unauthenticated
        );
        assert_eq!(
            decide(Access::OrgMember, Some(&author), Some(&own)),
            Decision::Allow
        );
        assert!(matches!(
            decide(Access::OrgMember, Some(&author), Some(&other)),
            Decision::Forbidden(_)
        ));
        assert_eq!(decide(ADMIN, Some(&admin), Some(&own)), Decision::Allow);
        assert!(matches!(
            decide(ADMIN, Some(&author), Some(&own)),
            Decision::Forbidden(_)
        ));
        assert!(matches!(
            decide(ADMIN, Some(&admin), Some(&other)),
            Decision::Forbidden(_)
        ));
    }
}
