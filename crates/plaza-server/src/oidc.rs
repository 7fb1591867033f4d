//! OIDC bearer tokens for enterprise single sign-on: a JWT signed by the identity provider is
//! checked against its JWKS (from a file, or a URL fetched and cached), its issuer, audience and
//! lifetime; the groups claim maps to Plaza teams and roles.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use plaza_core::identity::{Role, RoleSet};
use plaza_core::service::OidcIdentity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::RwLock;
use std::time::{Duration, Instant};
use thiserror::Error;

/// The `[server.oidc]` settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// Expected `iss`.
    pub issuer: String,
    /// Expected `aud`.
    pub audience: String,
    /// Where the identity provider publishes its keys (https URL).
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// Or a local JWKS file.
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// Slug of the org that signed-in users belong to.
    pub org: String,
    /// The claim holding the user's groups; a dotted path reaches nested claims
    /// (`realm_access.roles`). Default `groups`.
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Roles every signed-in user gets (default: consumer).
    #[serde(default = "default_roles")]
    pub default_roles: Vec<Role>,
    /// What each group grants: a team and/or roles.
    #[serde(default)]
    pub groups: BTreeMap<String, GroupGrant>,
}

/// What membership of one identity-provider group grants.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupGrant {
    /// Team (slug) the user joins.
    #[serde(default)]
    pub team: Option<String>,
    /// Roles the user gets.
    #[serde(default)]
    pub roles: Vec<Role>,
}

fn default_groups_claim() -> String {
    "groups".into()
}
fn default_roles() -> Vec<Role> {
    vec![Role::Consumer]
}

/// Why a bearer JWT was not accepted.
#[derive(Debug, Error)]
pub enum OidcError {
    /// The configuration cannot work.
    #[error("OIDC configuration: {0}")]
    Config(String),
    /// The JWKS could not be loaded.
    #[error("cannot load the identity provider's keys: {0}")]
    Jwks(String),
    /// The token is not acceptable; the text is safe to show the caller.
    #[error("{0}")]
    Rejected(String),
}

/// Verifies OIDC JWTs against the configured provider.
pub struct OidcVerifier {
    config: OidcConfig,
    keys: RwLock<(JwkSet, Option<Instant>)>,
    http: reqwest::Client,
}

/// The least time between two JWKS refetches for an unknown key id.
const REFRESH_INTERVAL: Duration = Duration::from_secs(60);

impl OidcVerifier {
    /// Builds a verifier, loading the JWKS file now (a URL is fetched on first use).
    pub fn new(config: OidcConfig) -> Result<Self, OidcError> {
        let keys = match (&config.jwks_file, &config.jwks_url) {
            (Some(path), None) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| OidcError::Jwks(format!("{}: {e}", path.display())))?;
                let set: JwkSet = serde_json::from_str(&text)
                    .map_err(|e| OidcError::Jwks(format!("{}: not a JWKS: {e}", path.display())))?;
                (set, Some(Instant::now()))
            }
            (None, Some(_)) => (JwkSet { keys: vec![] }, None),
            _ => {
                return Err(OidcError::Config(
                    "set exactly one of `jwks_url` or `jwks_file` in [server.oidc]".into(),
                ))
            }
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| OidcError::Config(e.to_string()))?;
        Ok(Self {
            config,
            keys: RwLock::new(keys),
            http,
        })
    }

    /// The org slug signed-in users belong to.
    pub fn org_slug(&self) -> &str {
        &self.config.org
    }

    /// Checks a JWT and says who it vouches for.
    pub async fn verify(&self, jwt: &str) -> Result<OidcIdentity, OidcError> {
        let header =
            decode_header(jwt).map_err(|e| OidcError::Rejected(format!("malformed JWT: {e}")))?;
        if !is_asymmetric(header.alg) {
            return Err(OidcError::Rejected(format!(
                "JWT algorithm {:?} is not accepted; the identity provider must sign with RS*, PS*, ES* or EdDSA",
                header.alg
            )));
        }
        let key = match self.find_key(header.kid.as_deref()) {
            Some(k) => k,
            None => {
                self.refresh_if_allowed().await?;
                self.find_key(header.kid.as_deref()).ok_or_else(|| {
                    OidcError::Rejected(
                        "the JWT's key id is not in the identity provider's JWKS".into(),
                    )
                })?
            }
        };
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 60;
        let data = decode::<serde_json::Map<String, serde_json::Value>>(jwt, &key, &validation)
            .map_err(|e| OidcError::Rejected(format!("JWT rejected: {e}")))?;
        Ok(self.identity(&data.claims))
    }

    fn identity(&self, claims: &serde_json::Map<String, serde_json::Value>) -> OidcIdentity {
        let text = |k: &str| claims.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let groups = lookup_path(claims, &self.config.groups_claim)
            .map(|v| match v {
                serde_json::Value::Array(items) => items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect(),
                serde_json::Value::String(s) => vec![s.clone()],
                _ => vec![],
            })
            .unwrap_or_default();
        let mut roles: Vec<Role> = self.config.default_roles.clone();
        let mut teams = Vec::new();
        for g in &groups {
            if let Some(grant) = self.config.groups.get(g) {
                roles.extend(grant.roles.iter().copied());
                teams.extend(grant.team.clone());
            }
        }
        teams.sort();
        teams.dedup();
        OidcIdentity {
            issuer: self.config.issuer.clone(),
            subject: text("sub").unwrap_or_default(),
            email: text("email"),
            name: text("name"),
            team_slugs: teams,
            roles: RoleSet::new(roles),
        }
    }

    fn find_key(&self, kid: Option<&str>) -> Option<DecodingKey> {
        let guard = self.keys.read().ok()?;
        let jwk = match kid {
            Some(kid) => guard.0.find(kid)?,
            None if guard.0.keys.len() == 1 => &guard.0.keys[0],
            None => return None,
        };
        DecodingKey::from_jwk(jwk).ok()
    }

    async fn refresh_if_allowed(&self) -> Result<(), OidcError> {
        let Some(url) = &self.config.jwks_url else {
            return Ok(());
        };
        let due = self
            .keys
            .read()
            .map(|g| g.1.is_none_or(|t| t.elapsed() >= REFRESH_INTERVAL))
            .unwrap_or(true);
        if !due {
            return Ok(());
        }
        let set: JwkSet = self
            .http
            .get(url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| OidcError::Jwks(format!("{url}: {e}")))?
            .json()
            .await
            .map_err(|e| OidcError::Jwks(format!("{url}: not a JWKS: {e}")))?;
        if let Ok(mut g) = self.keys.write() {
            *g = (set, Some(Instant::now()));
        }
        Ok(())
    }
}

fn is_asymmetric(alg: Algorithm) -> bool {
    !matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

fn lookup_path<'a>(
    claims: &'a serde_json::Map<String, serde_json::Value>,
    path: &str,
) -> Option<&'a serde_json::Value> {
    let mut parts = path.split('.');
    let mut cur = claims.get(parts.next()?)?;
    for p in parts {
        cur = cur.get(p)?;
    }
    Some(cur)
}

/// Whether a bearer credential looks like a JWT (three dot-separated parts).
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}
