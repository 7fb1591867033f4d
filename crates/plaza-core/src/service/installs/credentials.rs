//! Credentials of instances: capability tokens signed with Plaza's rotating key (and the JWKS
//! that publishes it), token exchange (RFC 8693) for a downstream credential of one granted
//! scope, the built-in *mock* calendar provider the demo exchanges for (a stand-in for a real
//! third-party API, which cannot exist here), and the unused-grant report.

use super::Services;
use crate::access::Principal;
use crate::audit::AuditEntry;
use crate::capability::{self, CapabilityClaims, CapabilityError, SigningKey};
use crate::error::CoreError;
use crate::install::{
    new_downstream_secret, DownstreamCredential, GrantKind, Instance, InstanceStatus,
};
use crate::token::TokenHash;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use std::sync::Mutex;

/// The provider token exchange knows: the demo's mock calendar (scopes `calendar.*`).
pub const CALENDAR_PROVIDER: &str = "calendar";
/// How long an invocation token is handed to later invocations of the same instance.
pub const INVOCATION_TOKEN_REUSE: std::time::Duration = std::time::Duration::from_secs(30);
/// Lifetime of a downstream credential.
pub const DOWNSTREAM_TTL: Duration = Duration::minutes(5);

/// A capability token just issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedCapability {
    /// The JWS compact token.
    pub token: String,
    /// What it says.
    pub claims: CapabilityClaims,
}

/// The answer of a token exchange (RFC 8693 §2.2.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExchangedToken {
    /// The downstream credential.
    pub access_token: String,
    /// `urn:ietf:params:oauth:token-type:access_token`.
    pub issued_token_type: &'static str,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// The one scope it carries.
    pub scope: String,
}

/// A refused token exchange, with its RFC 6749 §5.2 error code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct ExchangeError {
    /// `invalid_request`, `unsupported_grant_type`, `invalid_grant`, `invalid_scope` or
    /// `invalid_target`.
    pub code: &'static str,
    /// What is wrong, for the app's developer.
    pub description: String,
}

impl ExchangeError {
    fn new(code: &'static str, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }
}

/// One granted scope or egress entry and when the instance last used it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnusedGrant {
    /// `scope` or `egress`.
    pub kind: GrantKind,
    /// The scope or egress entry.
    pub name: String,
    /// When it was last used, if ever.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Which granted scopes and egress entries an instance did not use in the last `days`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnusedGrantReport {
    /// The instance.
    pub instance_id: String,
    /// The window, in days.
    pub days: u32,
    /// Its start.
    pub since: DateTime<Utc>,
    /// Granted but not used in the window: candidates to narrow.
    pub unused: Vec<UnusedGrant>,
    /// Granted and used in the window.
    pub used: Vec<UnusedGrant>,
}

/// Published signing keys, kept in memory between store reads.
#[derive(Default)]
pub(crate) struct KeyCache {
    keys: Mutex<Vec<SigningKey>>,
}

impl KeyCache {
    fn snapshot(&self) -> Vec<SigningKey> {
        self.keys.lock().map(|k| k.clone()).unwrap_or_default()
    }
    fn replace(&self, keys: Vec<SigningKey>) {
        if let Ok(mut k) = self.keys.lock() {
            *k = keys;
        }
    }
}

impl Services {
    /// The key that signs now: the cached one, else the newest stored one, else a new key
    /// (audited as `signing_key.rotate`).
    pub(crate) async fn signing_key(&self) -> Result<SigningKey, CoreError> {
        let now = self.now();
        if let Some(k) = self.keys.snapshot().into_iter().find(|k| k.signs_at(now)) {
            return Ok(k);
        }
        let mut keys = self.store.published_signing_keys(now).await?;
        if !keys.iter().any(|k| k.signs_at(now)) {
            let key = SigningKey::generate(now, self.install_settings.key_rotation)
                .map_err(|e| CoreError::Invalid(e.to_string()))?;
            let audit = AuditEntry::new(
                now,
                None,
                "system",
                "signing_key.rotate",
                format!("signing_key:{}", key.kid),
                json!({"algorithm": "EdDSA", "signsUntil": key.signs_until}),
            );
            self.store.create_signing_key(&key, &audit).await?;
            keys.insert(0, key);
        }
        self.keys.replace(keys.clone());
        keys.into_iter()
            .find(|k| k.signs_at(now))
            .ok_or_else(|| CoreError::Invalid("no signing key signs now".into()))
    }

    /// The keys that verify now (reloaded from the store when `kid` is not cached).
    async fn verifying_keys(&self, kid: &str) -> Result<Vec<SigningKey>, CoreError> {
        let cached = self.keys.snapshot();
        if cached.iter().any(|k| k.kid == kid) {
            return Ok(cached);
        }
        let keys = self.store.published_signing_keys(self.now()).await?;
        self.keys.replace(keys.clone());
        Ok(keys)
    }

    /// The JWKS document: every key whose tokens may still be valid.
    pub async fn jwks(&self) -> Result<serde_json::Value, CoreError> {
        self.signing_key().await?;
        let now = self.now();
        Ok(capability::jwks(
            &self.store.published_signing_keys(now).await?,
            now,
        ))
    }

    /// A capability token for an active instance (the host calls this per invocation).
    pub async fn capability_for(&self, instance: &Instance) -> Result<IssuedCapability, CoreError> {
        if !instance.is_active() {
            return Err(CoreError::Invalid(format!(
                "instance `{}` is {}; only an active instance gets tokens",
                instance.id,
                instance.status.as_str()
            )));
        }
        let key = self.signing_key().await?;
        let now = self.clock.now();
        let claims = CapabilityClaims {
            iss: capability::ISSUER.to_owned(),
            sub: instance.spiffe_id.clone(),
            aud: instance.spiffe_id.clone(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: (now + self.install_settings.token_ttl).timestamp(),
            jti: uuid::Uuid::now_v7().simple().to_string(),
            scope: instance.grant.scopes.join(" "),
            org: instance.org_id.clone(),
            team: instance.team_id.clone(),
            app: instance.app_id.clone(),
            ver: instance.version.clone(),
            inst: instance.id.clone(),
        };
        let token =
            capability::mint(&key, &claims).map_err(|e| CoreError::Invalid(e.to_string()))?;
        Ok(IssuedCapability { token, claims })
    }

    /// The capability token an invocation of `instance` is handed: a token minted for the
    /// instance at its current revision in the last [`INVOCATION_TOKEN_REUSE`], else a new one.
    /// Signing is the largest cost of serving a small app, so a burst of requests shares one
    /// token; each still gets one valid for at least the lifetime less that window, and an
    /// upgrade, consent or uninstall (a new revision, or an inactive instance) never reuses it.
    pub async fn invocation_capability(
        &self,
        instance: &Instance,
    ) -> Result<IssuedCapability, CoreError> {
        let key = (instance.id.clone(), instance.revision);
        if let Some(issued) = self.invocation_tokens.get(&key) {
            if instance.is_active() {
                return Ok(issued);
            }
        }
        let issued = self.capability_for(instance).await?;
        self.invocation_tokens.insert(key, issued.clone());
        Ok(issued)
    }

    /// Issues a capability token for an instance on a person's request (for container apps
    /// and tests); team members and admins only, audited.
    pub async fn issue_capability(
        &self,
        actor: &Principal,
        id: &str,
    ) -> Result<IssuedCapability, CoreError> {
        let instance = self.instance(actor, id).await?;
        Self::require_team_access(actor, &instance)?;
        let issued = self.capability_for(&instance).await?;
        let audit = AuditEntry::new(
            self.now(),
            Some(instance.org_id.clone()),
            actor.actor(),
            "capability.issue",
            format!("instance:{}", instance.id),
            json!({"jti": issued.claims.jti, "exp": issued.claims.exp}),
        );
        self.store.append_audit(&audit).await?;
        Ok(issued)
    }

    /// Checks a capability token: signature, time, and that its instance is still active with
    /// the same identity. Returns the claims and the instance as it is now.
    pub async fn verify_capability(
        &self,
        token: &str,
    ) -> Result<(CapabilityClaims, Instance), CoreError> {
        let unauthenticated = |e: CapabilityError| CoreError::Unauthenticated(e.to_string());
        let kid = capability::key_id(token).map_err(unauthenticated)?;
        let keys = self.verifying_keys(&kid).await?;
        let claims = capability::verify(token, &keys, self.clock.now()).map_err(unauthenticated)?;
        let instance = match self.store.get_instance(&claims.inst).await {
            Ok(i) => i,
            Err(crate::StoreError::NotFound { .. }) => {
                return Err(CoreError::Unauthenticated(
                    "the token's instance does not exist".into(),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        if instance.spiffe_id != claims.sub || instance.org_id != claims.org {
            return Err(CoreError::Unauthenticated(
                "the token does not match its instance's identity".into(),
            ));
        }
        match instance.status {
            InstanceStatus::Active => Ok((claims, instance)),
            InstanceStatus::Uninstalled => Err(CoreError::Unauthenticated(
                "the instance was uninstalled: its credentials are revoked".into(),
            )),
            InstanceStatus::PendingConsent => Err(CoreError::Unauthenticated(
                "the instance waits for consent".into(),
            )),
        }
    }

    /// Token exchange (RFC 8693): a capability token (`subject_token`) for a downstream
    /// credential of one granted `scope`. A refusal is audited (`token.exchange.refused`).
    pub async fn exchange_token(
        &self,
        subject_token: &str,
        scope: &str,
    ) -> Result<ExchangedToken, ExchangeError> {
        let (claims, instance) =
            self.verify_capability(subject_token)
                .await
                .map_err(|e| match e {
                    CoreError::Unauthenticated(m) => ExchangeError::new("invalid_grant", m),
                    other => ExchangeError::new("invalid_request", other.to_string()),
                })?;
        let scope = scope.trim();
        if scope.is_empty() || scope.contains(char::is_whitespace) {
            return Err(self
                .refuse_exchange(
                    &instance,
                    scope,
                    "invalid_scope",
                    "ask for exactly one scope per exchange".to_owned(),
                )
                .await);
        }
        let granted =
            claims.scopes().any(|s| s == scope) && instance.grant.scopes.iter().any(|s| s == scope);
        if !granted {
            return Err(self
                .refuse_exchange(
                    &instance,
                    scope,
                    "invalid_scope",
                    format!(
                        "the scope `{scope}` is not granted to instance `{}` (granted: {})",
                        instance.id,
                        if instance.grant.scopes.is_empty() {
                            "none".to_owned()
                        } else {
                            instance.grant.scopes.join(", ")
                        }
                    ),
                )
                .await);
        }
        let Some(provider) = provider_of(scope) else {
            return Err(self
                .refuse_exchange(
                    &instance,
                    scope,
                    "invalid_target",
                    format!("no downstream provider serves the scope `{scope}`"),
                )
                .await);
        };
        let now = self.now();
        let secret = new_downstream_secret();
        let credential = DownstreamCredential {
            hash: TokenHash::of(&secret),
            org_id: instance.org_id.clone(),
            instance_id: instance.id.clone(),
            scope: scope.to_owned(),
            provider: provider.to_owned(),
            issued_at: now,
            expires_at: now + DOWNSTREAM_TTL,
            revoked_at: None,
        };
        let audit = AuditEntry::new(
            now,
            Some(instance.org_id.clone()),
            format!("instance:{}", instance.id),
            "token.exchange",
            format!("instance:{}", instance.id),
            json!({"scope": scope, "provider": provider, "subjectJti": claims.jti}),
        );
        self.store
            .create_downstream_credential(&credential, &audit)
            .await
            .map_err(|e| ExchangeError::new("invalid_request", e.to_string()))?;
        if let Err(e) = self
            .store
            .record_grant_use(&instance.id, GrantKind::Scope, scope, now)
            .await
        {
            tracing::warn!(instance = %instance.id, error = %e, "recording a scope use failed");
        }
        Ok(ExchangedToken {
            access_token: secret,
            issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
            token_type: "Bearer",
            expires_in: DOWNSTREAM_TTL.num_seconds(),
            scope: scope.to_owned(),
        })
    }

    /// Audits a refused exchange (`token.exchange.refused`) and returns the refusal. The
    /// refusal stands even if the audit write fails; the log keeps it then.
    async fn refuse_exchange(
        &self,
        instance: &Instance,
        scope: &str,
        code: &'static str,
        why: String,
    ) -> ExchangeError {
        let audit = AuditEntry::new(
            self.now(),
            Some(instance.org_id.clone()),
            format!("instance:{}", instance.id),
            "token.exchange.refused",
            format!("instance:{}", instance.id),
            json!({"scope": scope, "reason": why}),
        );
        if let Err(e) = self.store.append_audit(&audit).await {
            tracing::error!(instance = %instance.id, error = %e, "audit of a refused token exchange failed");
        }
        ExchangeError::new(code, why)
    }

    /// The mock calendar provider: the events of `date` for a downstream credential holding
    /// `calendar.read`. The events are made up (the same for every date), so the demo app has
    /// something real to read through a real exchange.
    pub async fn mock_calendar_events(
        &self,
        credential: &str,
        date: NaiveDate,
    ) -> Result<serde_json::Value, CoreError> {
        let stored = self
            .store
            .find_downstream_credential(&TokenHash::of(credential))
            .await?
            .ok_or_else(|| CoreError::Unauthenticated("unknown calendar credential".into()))?;
        if let Some(reason) = stored.unusable_reason(self.now()) {
            return Err(CoreError::Unauthenticated(reason.into()));
        }
        if stored.provider != CALENDAR_PROVIDER || stored.scope != "calendar.read" {
            return Err(CoreError::Forbidden(format!(
                "this credential carries `{}`; reading events needs `calendar.read`",
                stored.scope
            )));
        }
        let at = |h: u32, m: u32| {
            date.and_hms_opt(h, m, 0).map(|t| {
                t.and_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            })
        };
        Ok(json!({
            "provider": "plaza mock calendar (demo stand-in for a real calendar API)",
            "date": date.to_string(),
            "events": [
                {"title": "Stand-up", "start": at(9, 30), "end": at(9, 45)},
                {"title": "Design review", "start": at(11, 0), "end": at(12, 0)},
                {"title": "1:1", "start": at(13, 15), "end": at(13, 45)},
            ],
        }))
    }

    /// Notes that an instance's outgoing request used a granted egress entry (the runtime
    /// calls this), for the unused-grant report.
    pub async fn record_egress_use(
        &self,
        instance: &crate::install::InstanceId,
        entry: &str,
    ) -> Result<(), CoreError> {
        Ok(self
            .store
            .record_grant_use(instance, GrantKind::Egress, entry, self.now())
            .await?)
    }

    /// Which granted scopes and egress entries the instance did not use in the last `days`.
    pub async fn unused_grants(
        &self,
        actor: &Principal,
        id: &str,
        days: u32,
    ) -> Result<UnusedGrantReport, CoreError> {
        if !(1..=366).contains(&days) {
            return Err(CoreError::Invalid(format!(
                "days must be between 1 and 366 (got {days})"
            )));
        }
        let instance = self.instance(actor, id).await?;
        let since = self.now() - Duration::days(i64::from(days));
        let uses = self.store.grant_uses(&instance.id).await?;
        let last = |kind: GrantKind, name: &str| {
            uses.iter()
                .find(|u| u.kind == kind && u.name == name)
                .map(|u| u.last_used_at)
        };
        let (mut unused, mut used) = (Vec::new(), Vec::new());
        let granted = instance
            .grant
            .scopes
            .iter()
            .map(|s| (GrantKind::Scope, s))
            .chain(instance.grant.egress.iter().map(|e| (GrantKind::Egress, e)));
        for (kind, name) in granted {
            let item = UnusedGrant {
                kind,
                name: name.clone(),
                last_used_at: last(kind, name),
            };
            if item.last_used_at.is_some_and(|t| t >= since) {
                used.push(item);
            } else {
                unused.push(item);
            }
        }
        Ok(UnusedGrantReport {
            instance_id: instance.id.to_string(),
            days,
            since,
            unused,
            used,
        })
    }
}

/// The provider that serves a scope.
fn provider_of(scope: &str) -> Option<&'static str> {
    scope.strip_prefix("calendar.").map(|_| CALENDAR_PROVIDER)
}
