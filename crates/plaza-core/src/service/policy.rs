//! The policy gate and its governance: org policy versions (pushed, compiled, activated), the
//! enforcement mode, council exceptions with expiry, evaluation of an app version into a recorded
//! decision, and a preview of a candidate policy against every stored decision input.
//!
//! Evaluation itself is `plaza_policy`'s: the CLI's `plaza validate` and this gate call the same
//! `PolicySet::evaluate`, so an author's CI and the marketplace never disagree.

use super::Services;
use crate::access::Principal;
use crate::audit::AuditEntry;
use crate::error::{CoreError, StoreError};
use crate::identity::Org;
use crate::ids::{DecisionId, ExceptionId};
use crate::policy::{
    input_digest, policy_digest, Decision, OrgPolicyVersion, Outcome, PolicyException, PolicyFile,
    PolicyMode,
};
use chrono::{DateTime, Duration, Utc};
use plaza_policy::{Facts, Finding, PolicySet, Severity};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;

/// Longest an exception may be granted for.
pub const MAX_EXCEPTION_DAYS: i64 = 366;
/// The actor recorded for what the gate does on its own (expiring exceptions).
const GATE_ACTOR: &str = "system:policy-gate";
/// Rule id of the finding reported when a policy cannot be evaluated.
pub const POLICY_ERROR_RULE: &str = "plaza.policy.error";

/// Compiled policy sets by digest (the built-in bundle alone under `builtin`), so a request
/// never pays for compiling Rego.
#[derive(Default)]
pub(crate) struct PolicyCache(Mutex<HashMap<String, PolicySet>>);

impl PolicyCache {
    fn get_or_build(
        &self,
        key: &str,
        build: impl FnOnce() -> Result<PolicySet, CoreError>,
    ) -> Result<PolicySet, CoreError> {
        if let Some(set) = self.0.lock().ok().and_then(|m| m.get(key).cloned()) {
            return Ok(set);
        }
        let set = build()?;
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= 64 {
                m.clear();
            }
            m.insert(key.to_owned(), set.clone());
        }
        Ok(set)
    }
}

/// A finding as the gate reports and records it: the policy's finding, and whether an exception
/// waived it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GateFinding {
    /// `deny`, `warn` or `info`.
    pub severity: Severity,
    /// Stable rule id.
    pub rule_id: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    /// The rule's title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Structured details from the policy (e.g. a `path` into the manifest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    /// Where the rule is defined (`builtin:scopes.rego:12` or `org-policy/x.rego:3`).
    pub source: String,
    /// The exception that waives it, if one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<String>,
}

impl GateFinding {
    fn from_finding(f: &Finding) -> Self {
        Self {
            severity: f.severity,
            rule_id: f.rule_id.clone(),
            message: f.message.clone(),
            remediation: f.remediation.clone(),
            title: f.title.clone(),
            details: f.details.clone(),
            source: f.source.to_string(),
            waived_by: None,
        }
    }
}

/// What a candidate policy would change for one stored app version.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewRow {
    /// The app.
    pub app_id: String,
    /// Its version.
    pub version: String,
    /// The outcome recorded last.
    pub before: Outcome,
    /// The outcome under the candidate.
    pub after: Outcome,
    /// Rule ids that fire under the candidate and did not before.
    pub new_rules: Vec<String>,
    /// Rule ids that fired before and no longer do.
    pub gone_rules: Vec<String>,
}

/// The outcome of findings under `mode`: an unwaived deny blocks in enforce mode and sends to
/// review in warn-only mode; an unwaived warn sends to review.
pub fn outcome_of(findings: &[GateFinding], mode: PolicyMode) -> Outcome {
    let live = |s: Severity| {
        findings
            .iter()
            .any(|f| f.severity == s && f.waived_by.is_none())
    };
    if live(Severity::Deny) {
        match mode {
            PolicyMode::Enforce => Outcome::Deny,
            PolicyMode::WarnOnly => Outcome::Review,
        }
    } else if live(Severity::Warn) {
        Outcome::Review
    } else {
        Outcome::Pass
    }
}

impl Services {
    /// Compiles `files` together with the built-in bundle; a file that does not compile is an
    /// `Invalid` error naming file, line and column.
    pub fn compile_policies(files: &[PolicyFile]) -> Result<PolicySet, CoreError> {
        let mut b = PolicySet::builder().builtin(true);
        for f in files {
            b = b.file(f.path.clone(), f.content.clone());
        }
        b.build().map_err(|e| CoreError::Invalid(e.to_string()))
    }

    /// Pushes a new version of the org's policies: compiled first, stored only if it compiles,
    /// then active. `settings` (an object) configures the built-in bundle (`data.plaza.org`).
    pub async fn push_policy(
        &self,
        actor: &Principal,
        org: &Org,
        mut files: Vec<PolicyFile>,
        settings: Value,
    ) -> Result<OrgPolicyVersion, CoreError> {
        if !settings.is_object() {
            return Err(CoreError::Invalid(
                "`settings` must be a JSON object".into(),
            ));
        }
        for f in &files {
            let ok = f.path.ends_with(".rego")
                && !f.path.starts_with('/')
                && !f.path.split('/').any(|p| p.is_empty() || p == "..");
            if !ok {
                return Err(CoreError::Invalid(format!(
                    "policy file path `{}` must be a relative `.rego` path without `..`",
                    f.path
                )));
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        if files.windows(2).any(|w| w[0].path == w[1].path) {
            return Err(CoreError::Invalid(
                "two policy files have the same path".into(),
            ));
        }
        let set = Self::compile_policies(&files)?;
        // Settings are checked by building the data document the policies will see.
        set.data_document(&json!({"plaza": {"org": settings}}))
            .map_err(|e| CoreError::Invalid(format!("settings: {e}")))?;
        let next = self
            .store
            .latest_policy_version(&org.id)
            .await?
            .map_or(1, |v| v.version + 1);
        let now = self.now();
        let digest = policy_digest(&files, &settings);
        let version = OrgPolicyVersion {
            org_id: org.id.clone(),
            version: next,
            files,
            settings,
            digest: digest.clone(),
            created_by: actor.user.id.clone(),
            created_at: now,
        };
        let audit = AuditEntry::new(
            now,
            Some(org.id.clone()),
            actor.actor(),
            "policy.push",
            format!("policy:{}", next),
            json!({"digest": digest, "files": version.files.iter().map(|f| &f.path).collect::<Vec<_>>()}),
        );
        self.store.create_policy_version(&version, &audit).await?;
        self.runtime_policies.remove(&org.id);
        Ok(version)
    }

    /// The org's policy versions, newest (active) first.
    pub async fn policy_versions(&self, org: &Org) -> Result<Vec<OrgPolicyVersion>, CoreError> {
        Ok(self.store.list_policy_versions(&org.id).await?)
    }

    /// One policy version.
    pub async fn policy_version(
        &self,
        org: &Org,
        version: i64,
    ) -> Result<OrgPolicyVersion, CoreError> {
        Ok(self.store.get_policy_version(&org.id, version).await?)
    }

    /// The org's mode.
    pub async fn policy_mode(&self, org: &Org) -> Result<PolicyMode, CoreError> {
        Ok(self.store.policy_mode(&org.id).await?)
    }

    /// Sets the org's mode.
    pub async fn set_policy_mode(
        &self,
        actor: &Principal,
        org: &Org,
        mode: PolicyMode,
    ) -> Result<(), CoreError> {
        let before = self.store.policy_mode(&org.id).await?;
        let audit = AuditEntry::new(
            self.now(),
            Some(org.id.clone()),
            actor.actor(),
            "policy.mode.set",
            format!("org:{}", org.id),
            json!({"from": before, "to": mode}),
        );
        Ok(self.store.set_policy_mode(&org.id, mode, &audit).await?)
    }

    /// Grants an exception for (app, rule) until `expires_at` (at most a year ahead).
    pub async fn grant_exception(
        &self,
        actor: &Principal,
        org: &Org,
        app_id: &str,
        rule_id: &str,
        reason: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<PolicyException, CoreError> {
        let now = self.now();
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 1000 {
            return Err(CoreError::Invalid(
                "an exception needs a reason of 1-1000 characters".into(),
            ));
        }
        if app_id.trim().is_empty() || rule_id.trim().is_empty() {
            return Err(CoreError::Invalid(
                "an exception names an `appId` and a `ruleId`".into(),
            ));
        }
        if expires_at <= now {
            return Err(CoreError::Invalid(
                "`expiresAt` must be in the future".into(),
            ));
        }
        if expires_at > now + Duration::days(MAX_EXCEPTION_DAYS) {
            return Err(CoreError::Invalid(format!(
                "`expiresAt` may be at most {MAX_EXCEPTION_DAYS} days ahead; grant a new exception later"
            )));
        }
        let exception = PolicyException {
            id: ExceptionId::generate(),
            org_id: org.id.clone(),
            app_id: app_id.into(),
            rule_id: rule_id.into(),
            reason: reason.into(),
            expires_at: crate::audit::truncate_to_millis(expires_at),
            granted_by: actor.user.id.clone(),
            created_at: now,
            revoked_at: None,
            expired_at: None,
        };
        let audit = AuditEntry::new(
            now,
            Some(org.id.clone()),
            actor.actor(),
            "policy.exception.grant",
            format!("exception:{}", exception.id),
            json!({"app": app_id, "rule": rule_id, "reason": reason, "expiresAt": exception.expires_at}),
        );
        self.store.create_exception(&exception, &audit).await?;
        Ok(exception)
    }

    /// The org's exceptions (recording any that have expired first).
    pub async fn exceptions(&self, org: &Org) -> Result<Vec<PolicyException>, CoreError> {
        self.expire_exceptions(org).await?;
        Ok(self.store.list_exceptions(&org.id).await?)
    }

    /// Revokes an exception before its expiry.
    pub async fn revoke_exception(
        &self,
        actor: &Principal,
        org: &Org,
        id: &ExceptionId,
    ) -> Result<(), CoreError> {
        let e = self.store.get_exception(&org.id, id).await?;
        let now = self.now();
        let audit = AuditEntry::new(
            now,
            Some(org.id.clone()),
            actor.actor(),
            "policy.exception.revoke",
            format!("exception:{}", e.id),
            json!({"app": e.app_id, "rule": e.rule_id}),
        );
        Ok(self.store.revoke_exception(id, now, &audit).await?)
    }

    /// Records (audits) the expiry of every exception of the org that has run out. An expired
    /// exception already stops applying at its expiry; this makes the moment visible in the log.
    pub async fn expire_exceptions(&self, org: &Org) -> Result<usize, CoreError> {
        let now = self.now();
        let mut n = 0;
        for e in self.store.list_exceptions(&org.id).await? {
            if e.expired_at.is_some() || e.revoked_at.is_some() || e.expires_at > now {
                continue;
            }
            let audit = AuditEntry::new(
                now,
                Some(org.id.clone()),
                GATE_ACTOR,
                "policy.exception.expire",
                format!("exception:{}", e.id),
                json!({"app": e.app_id, "rule": e.rule_id, "expiresAt": e.expires_at}),
            );
            match self.store.mark_exception_expired(&e.id, now, &audit).await {
                Ok(()) => n += 1,
                // Another request recorded it first.
                Err(StoreError::Conflict { .. }) => {}
                Err(err) => return Err(err.into()),
            }
        }
        Ok(n)
    }

    /// Records the expiry of every run-out exception of every org (the server runs this every
    /// minute, so the audit log shows an expiry close to when it happened, even if nobody asks).
    pub async fn expire_all_exceptions(&self) -> Result<usize, CoreError> {
        let mut n = 0;
        for org in self.store.list_orgs().await? {
            n += self.expire_exceptions(&org).await?;
        }
        Ok(n)
    }

    /// The org's runtime policy: the resource caps and private-egress setting of its active
    /// policy settings over the bundle's defaults (cached for a few seconds).
    pub async fn runtime_policy(
        &self,
        org: &crate::ids::OrgId,
    ) -> Result<crate::install::RuntimePolicy, CoreError> {
        if let Some(p) = self.runtime_policies.get(org) {
            return Ok(p);
        }
        let mut settings = plaza_policy::bundle::defaults();
        if let Some(v) = self.store.latest_policy_version(org).await? {
            plaza_policy::bundle::merge(&mut settings, &v.settings);
        }
        let policy = crate::install::RuntimePolicy::from_settings(&settings);
        self.runtime_policies.insert(org.clone(), policy.clone());
        Ok(policy)
    }

    /// The compiled policies and settings in force for the org.
    async fn active_policies(
        &self,
        org: &Org,
    ) -> Result<(PolicySet, Value, Option<i64>), CoreError> {
        match self.store.latest_policy_version(&org.id).await? {
            Some(v) => {
                let set = self
                    .policy_cache
                    .get_or_build(&v.digest, || Self::compile_policies(&v.files))?;
                Ok((set, v.settings, Some(v.version)))
            }
            None => {
                let set = self
                    .policy_cache
                    .get_or_build("builtin", || Self::compile_policies(&[]))?;
                Ok((set, json!({}), None))
            }
        }
    }

    /// Evaluates `set` on `input`; a policy that cannot be evaluated (timeout, runtime error)
    /// becomes one `warn` finding, so a broken policy sends to review instead of failing open or
    /// blocking everything.
    fn run(set: &PolicySet, input: &Value, settings: &Value) -> (Vec<GateFinding>, i64) {
        match set.evaluate(input, &json!({"plaza": {"org": settings}})) {
            Ok(ev) => (
                ev.findings.iter().map(GateFinding::from_finding).collect(),
                i64::try_from(ev.duration.as_micros()).unwrap_or(i64::MAX),
            ),
            Err(e) => (
                vec![GateFinding {
                    severity: Severity::Warn,
                    rule_id: POLICY_ERROR_RULE.into(),
                    message: format!("the policies could not be evaluated: {e}"),
                    remediation: Some(
                        "fix the policy (see `plaza policy eval`); a reviewer decides meanwhile"
                            .into(),
                    ),
                    title: None,
                    details: None,
                    source: "plaza".into(),
                    waived_by: None,
                }],
                0,
            ),
        }
    }

    fn waive(
        findings: &mut [GateFinding],
        exceptions: &[PolicyException],
        app_id: &str,
        now: DateTime<Utc>,
    ) {
        for f in findings.iter_mut() {
            if let Some(e) = exceptions
                .iter()
                .find(|e| e.app_id == app_id && e.rule_id == f.rule_id && e.applies_at(now))
            {
                f.waived_by = Some(e.id.to_string());
            }
        }
    }

    /// Judges an app version: the manifest (normalised JSON) and the facts other gates produced,
    /// under the org's active policies, mode and exceptions. The decision is recorded and
    /// returned with its findings.
    pub async fn evaluate_app(
        &self,
        org: &Org,
        manifest: &Value,
        facts: Option<&Facts>,
    ) -> Result<(Decision, Vec<GateFinding>), CoreError> {
        let text = |k: &str| {
            manifest
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let (app_id, version) = (text("id"), text("version"));
        self.expire_exceptions(org).await?;
        let (set, settings, org_version) = self.active_policies(org).await?;
        let mode = self.store.policy_mode(&org.id).await?;
        let input = plaza_policy::input_document(manifest, facts);
        let (mut findings, duration_us) = Self::run(&set, &input, &settings);
        let now = self.now();
        let exceptions = self.store.list_exceptions(&org.id).await?;
        Self::waive(&mut findings, &exceptions, &app_id, now);
        let decision = Decision {
            id: DecisionId::generate(),
            org_id: org.id.clone(),
            app_id,
            version,
            input_digest: input_digest(&input),
            input,
            bundle_version: plaza_policy::bundle::version(),
            org_policy_version: org_version,
            mode,
            outcome: outcome_of(&findings, mode),
            findings: serde_json::to_value(&findings).unwrap_or_default(),
            duration_us,
            created_at: now,
        };
        self.store.record_decision(&decision).await?;
        Ok((decision, findings))
    }

    /// The decision log, newest first.
    pub async fn decisions(
        &self,
        org: &Org,
        app_id: Option<&str>,
        version: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Vec<Decision>, CoreError> {
        let limit = limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(CoreError::Invalid(format!(
                "limit must be between 1 and 1000 (got {limit})"
            )));
        }
        Ok(self
            .store
            .list_decisions(&org.id, app_id, version, limit)
            .await?)
    }

    /// What a candidate policy (files and settings) would change: each app version's latest
    /// recorded input is evaluated under the candidate with today's mode and exceptions, and
    /// compared with its recorded outcome. Nothing is stored.
    pub async fn preview_policy(
        &self,
        org: &Org,
        files: &[PolicyFile],
        settings: &Value,
    ) -> Result<Vec<PreviewRow>, CoreError> {
        let set = Self::compile_policies(files)?;
        let mode = self.store.policy_mode(&org.id).await?;
        let exceptions = self.store.list_exceptions(&org.id).await?;
        let now = self.now();
        let mut seen = std::collections::HashSet::new();
        let mut rows = Vec::new();
        for d in self.store.list_decisions(&org.id, None, None, 1000).await? {
            if !seen.insert((d.app_id.clone(), d.version.clone())) {
                continue;
            }
            let (mut after, _) = Self::run(&set, &d.input, settings);
            Self::waive(&mut after, &exceptions, &d.app_id, now);
            let b: std::collections::BTreeSet<String> = d
                .findings
                .as_array()
                .into_iter()
                .flatten()
                .filter(|f| f.get("waivedBy").is_none())
                .filter_map(|f| f.get("ruleId").and_then(Value::as_str).map(str::to_owned))
                .collect();
            let a: std::collections::BTreeSet<String> = after
                .iter()
                .filter(|f| f.waived_by.is_none())
                .map(|f| f.rule_id.clone())
                .collect();
            rows.push(PreviewRow {
                app_id: d.app_id.clone(),
                version: d.version.clone(),
                before: d.outcome,
                after: outcome_of(&after, mode),
                new_rules: a.difference(&b).cloned().collect(),
                gone_rules: b.difference(&a).cloned().collect(),
            });
        }
        rows.sort_by(|x, y| (&x.app_id, &x.version).cmp(&(&y.app_id, &y.version)));
        Ok(rows)
    }
}
