//! Downstream credentials: what token exchange hands an instance for one granted scope of a
//! provider (RFC 8693), stored only as a hash and revoked with the instance; and the record of
//! which granted scopes and egress hosts an instance actually used.

use super::InstanceId;
use crate::ids::OrgId;
use crate::token::TokenHash;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// Every downstream credential starts with this, so scanners recognise one.
pub const DOWNSTREAM_PREFIX: &str = "pdc_";

/// A fresh downstream secret (shown to the instance once).
pub fn new_downstream_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{DOWNSTREAM_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A downstream credential as stored (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DownstreamCredential {
    /// Hash of the secret.
    pub hash: TokenHash,
    /// The org.
    pub org_id: OrgId,
    /// The instance it was issued to.
    pub instance_id: InstanceId,
    /// The one scope it carries.
    pub scope: String,
    /// The provider it is for (`calendar`).
    pub provider: String,
    /// When.
    pub issued_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked (uninstall), if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl DownstreamCredential {
    /// Why it cannot be used at `now`, if it cannot.
    pub fn unusable_reason(&self, now: DateTime<Utc>) -> Option<&'static str> {
        if self.revoked_at.is_some_and(|t| t <= now) {
            Some("the credential was revoked (the app was uninstalled)")
        } else if self.expires_at <= now {
            Some("the credential has expired; exchange the capability token again")
        } else {
            None
        }
    }
}

/// What kind of grant an instance used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GrantKind {
    /// A scope (used by a token exchange).
    Scope,
    /// An egress host (used by an outgoing request).
    Egress,
}

impl GrantKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::Scope => "scope",
            GrantKind::Egress => "egress",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "scope" => Some(GrantKind::Scope),
            "egress" => Some(GrantKind::Egress),
            _ => None,
        }
    }
}

/// The last time an instance used one granted scope or egress entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantUse {
    /// Scope or egress.
    pub kind: GrantKind,
    /// The scope, or the egress entry as granted.
    pub name: String,
    /// When it was last used.
    pub last_used_at: DateTime<Utc>,
}
