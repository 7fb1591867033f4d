//! Organisations, teams, users and roles: who exists and what each person may be asked to do.

use crate::ids::{OrgId, TeamId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An organisation: the tenant that owns teams, users, apps, policies and money.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    /// Stable id.
    pub id: OrgId,
    /// URL-safe unique name, e.g. `acme`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A team inside an org: the unit that installs apps and is charged for them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Stable id.
    pub id: TeamId,
    /// Owning org.
    pub org_id: OrgId,
    /// URL-safe name, unique within the org.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A team's own settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamSettings {
    /// Whether the team's instances take a newly published version that widens nothing on
    /// their own (each instance can still opt out); also the default of a new install's
    /// `autoUpgrade`. Default true.
    pub auto_upgrade: bool,
}

impl Default for TeamSettings {
    fn default() -> Self {
        Self { auto_upgrade: true }
    }
}

/// A user of one org: a person, or a service account for automation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Stable id.
    pub id: UserId,
    /// The org the user belongs to.
    pub org_id: OrgId,
    /// Login handle, unique within the org.
    pub handle: String,
    /// Display name.
    pub display_name: String,
    /// E-mail address, if known.
    pub email: Option<String>,
    /// Subject of the user at the enterprise identity provider, for OIDC sign-in.
    pub external_subject: Option<String>,
    /// Roles held in the org.
    pub roles: RoleSet,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// What a person does in the marketplace. A user may hold several.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Publishes apps.
    Author,
    /// Finds, installs and rates apps for a team.
    Consumer,
    /// Works the security/platform review queue.
    Reviewer,
    /// Governance: policy exceptions, featured lists, badges.
    Council,
    /// Price catalog, cost centers, budgets, invoices.
    Finance,
    /// Org, teams, users, tokens, policies, keys.
    Admin,
}

impl Role {
    /// Every role, in a stable order.
    pub const ALL: [Role; 6] = [
        Role::Author,
        Role::Consumer,
        Role::Reviewer,
        Role::Council,
        Role::Finance,
        Role::Admin,
    ];

    /// The role's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Author => "author",
            Role::Consumer => "consumer",
            Role::Reviewer => "reviewer",
            Role::Council => "council",
            Role::Finance => "finance",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown role `{s}`; expected one of: {}",
                    Role::ALL.map(Role::as_str).join(", ")
                )
            })
    }
}

/// A set of roles, kept sorted and without duplicates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoleSet(Vec<Role>);

impl RoleSet {
    /// A set from any roles.
    pub fn new(roles: impl IntoIterator<Item = Role>) -> Self {
        let mut v: Vec<Role> = roles.into_iter().collect();
        v.sort();
        v.dedup();
        Self(v)
    }
    /// Whether the set holds `role`.
    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }
    /// Whether the set holds any of `roles`.
    pub fn any_of(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.contains(*r))
    }
    /// The roles, sorted.
    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }
    /// Comma-separated wire form, e.g. `admin,author` (how the store keeps it).
    pub fn to_csv(&self) -> String {
        self.0
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
    /// Parses the comma-separated wire form.
    pub fn from_csv(s: &str) -> Result<Self, String> {
        let roles = s
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(Role::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(roles))
    }
}

/// Checks a slug (org, team, user handle): 1–63 chars of lowercase ASCII letters, digits and
/// hyphens, starting with a letter, not ending with a hyphen.
pub fn validate_slug(kind: &str, s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{kind} `{s}` is not a valid slug: use 1-63 lowercase letters, digits and hyphens, \
             starting with a letter (e.g. `platform-team`)"
        ))
    }
}

/// Checks a display name (org, team, user, token): 1–200 characters after trimming, with no
/// control characters and no bidirectional overrides (which can disguise text in audit views).
pub fn validate_display_name(kind: &str, s: &str) -> Result<(), String> {
    let trimmed = s.trim();
    let len = trimmed.chars().count();
    if len == 0 || len > 200 {
        return Err(format!("{kind} must be 1-200 characters (got {len})"));
    }
    if let Some(c) = trimmed
        .chars()
        .find(|c| c.is_control() || is_bidi_control(*c))
    {
        return Err(format!(
            "{kind} contains the invisible or control character U+{:04X}; remove it",
            c as u32
        ));
    }
    Ok(())
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_set_round_trips_through_csv_sorted_and_deduplicated() {
        let set = RoleSet::new([Role::Admin, Role::Author, Role::Admin]);
        assert_eq!(set.to_csv(), "author,admin");
        assert_eq!(RoleSet::from_csv("admin, author,").unwrap(), set);
        assert!(RoleSet::from_csv("admin,root")
            .unwrap_err()
            .contains("root"));
    }

    #[test]
    fn display_names_refuse_empty_huge_control_and_bidi_text() {
        assert!(validate_display_name("team name", "Payments & Billing").is_ok());
        assert!(validate_display_name("team name", "Équipe données").is_ok());
        for bad in [
            "",
            "   ",
            "a\u{0}b",
            "evil\u{202E}gnp.exe",
            "tab\there",
            &"x".repeat(201),
        ] {
            assert!(validate_display_name("team name", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn slugs_follow_the_documented_rule() {
        assert!(validate_slug("team", "platform-team").is_ok());
        for bad in ["", "Platform", "1team", "team-", "te_am", &"a".repeat(64)] {
            assert!(validate_slug("team", bad).is_err(), "{bad}");
        }
    }
}
