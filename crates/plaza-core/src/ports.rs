//! Ports: the repository traits that store adapters implement (SQLite and PostgreSQL in
//! `plaza-store`). Every method that changes state takes the [`AuditEntry`] describing the change,
//! and the adapter writes both in one transaction: a change is never stored without its audit
//! record, nor the record without the change.

use crate::apps::AppVersion;
use crate::audit::{AuditEntry, AuditFilter, AuditRecord, ChainHead};
use crate::capability::SigningKey;
use crate::error::{BusError, StoreError};
use crate::identity::{Org, RoleSet, Team, User};
use crate::ids::{ExceptionId, OrgId, TeamId, TokenId, UserId};
use crate::install::{DownstreamCredential, GrantKind, GrantUse, Instance, InstanceId};
use crate::policy::{Decision, OrgPolicyVersion, PolicyException, PolicyMode};
use crate::registry::StoredManifest;
use crate::supply::{PublisherKey, StoredAdvisory};
use crate::supply_gate::{
    ComponentRecord, JobState, Notification, Recipient, ScanRecord, SupplyJob, SupplySettings,
    VersionBlock, VersionRef,
};
use crate::token::{ApiToken, TokenHash};
use crate::usage::{
    BusOutcome, DeadLetter, InstanceSequences, PeriodMarker, RollupBucket, StoredCorrection,
    StoredOutcome, UsageScope,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Organisations.
#[async_trait]
pub trait OrgRepo: Send + Sync {
    /// Creates an org; `Conflict` when the slug is taken.
    async fn create_org(&self, org: &Org, audit: &AuditEntry) -> StoreResult<()>;
    /// Creates an org, its first admin and the admin's token, all or nothing.
    async fn create_org_with_admin(
        &self,
        org: &Org,
        admin: &User,
        token: &ApiToken,
        audit: &[AuditEntry],
    ) -> StoreResult<()>;
    /// The org with this id; `NotFound` otherwise.
    async fn get_org(&self, id: &OrgId) -> StoreResult<Org>;
    /// The org with this slug, if any.
    async fn find_org_by_slug(&self, slug: &str) -> StoreResult<Option<Org>>;
    /// All orgs, by slug.
    async fn list_orgs(&self) -> StoreResult<Vec<Org>>;
}

/// Teams and their members.
#[async_trait]
pub trait TeamRepo: Send + Sync {
    /// Creates a team; `Conflict` when the org already has that slug, `NotFound` for no org.
    async fn create_team(&self, team: &Team, audit: &AuditEntry) -> StoreResult<()>;
    /// The team of `org` with this slug; `NotFound` otherwise.
    async fn get_team_by_slug(&self, org: &OrgId, slug: &str) -> StoreResult<Team>;
    /// The org's teams, by slug.
    async fn list_teams(&self, org: &OrgId) -> StoreResult<Vec<Team>>;
    /// Adds a member; `Conflict` when already a member.
    async fn add_team_member(
        &self,
        team: &TeamId,
        user: &UserId,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Removes a member; `NotFound` when not a member.
    async fn remove_team_member(
        &self,
        team: &TeamId,
        user: &UserId,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// The team's members, by handle.
    async fn list_team_members(&self, team: &TeamId) -> StoreResult<Vec<User>>;
    /// The teams a user belongs to, by slug.
    async fn teams_of_user(&self, user: &UserId) -> StoreResult<Vec<Team>>;
    /// The team's settings (the defaults until set).
    async fn team_settings(&self, team: &TeamId) -> StoreResult<crate::identity::TeamSettings>;
    /// Replaces the team's settings, audited; `NotFound` for no such team.
    async fn set_team_settings(
        &self,
        team: &TeamId,
        settings: &crate::identity::TeamSettings,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
}

/// Users and their roles.
#[async_trait]
pub trait UserRepo: Send + Sync {
    /// Creates a user; `Conflict` when the handle (or external subject) is taken in the org.
    async fn create_user(&self, user: &User, audit: &AuditEntry) -> StoreResult<()>;
    /// The user with this id; `NotFound` otherwise.
    async fn get_user(&self, id: &UserId) -> StoreResult<User>;
    /// The user of `org` with this handle, if any.
    async fn find_user_by_handle(&self, org: &OrgId, handle: &str) -> StoreResult<Option<User>>;
    /// The user of `org` signed in by the identity provider as `subject`, if any.
    async fn find_user_by_external_subject(
        &self,
        org: &OrgId,
        subject: &str,
    ) -> StoreResult<Option<User>>;
    /// The org's users, by handle.
    async fn list_users(&self, org: &OrgId) -> StoreResult<Vec<User>>;
    /// Replaces a user's roles.
    async fn set_user_roles(
        &self,
        user: &UserId,
        roles: &RoleSet,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
}

/// API tokens.
#[async_trait]
pub trait TokenRepo: Send + Sync {
    /// Stores a new token (its hash only).
    async fn create_token(&self, token: &ApiToken, audit: &AuditEntry) -> StoreResult<()>;
    /// The token whose secret hashes to `hash`, if any.
    async fn find_token_by_hash(&self, hash: &TokenHash) -> StoreResult<Option<ApiToken>>;
    /// The token with this id; `NotFound` otherwise.
    async fn get_token(&self, id: &TokenId) -> StoreResult<ApiToken>;
    /// A user's tokens, newest first.
    async fn list_tokens(&self, user: &UserId) -> StoreResult<Vec<ApiToken>>;
    /// Marks a token revoked at `at`; `NotFound` for no such token, `Conflict` when already
    /// revoked.
    async fn revoke_token(
        &self,
        id: &TokenId,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
}

/// Registered app versions.
#[async_trait]
pub trait AppRepo: Send + Sync {
    /// Registers a version; `Conflict` when the org already has this app id and version, or when
    /// another org owns the app id.
    async fn create_app_version(&self, app: &AppVersion, audit: &AuditEntry) -> StoreResult<()>;
    /// One version; `NotFound` otherwise.
    async fn get_app_version(
        &self,
        org: &OrgId,
        app_id: &str,
        version: &str,
    ) -> StoreResult<AppVersion>;
    /// The org's app versions, by app id then registration order.
    async fn list_app_versions(&self, org: &OrgId) -> StoreResult<Vec<AppVersion>>;
    /// The app's most recently registered version in the org, if any.
    async fn latest_app_version(
        &self,
        org: &OrgId,
        app_id: &str,
    ) -> StoreResult<Option<AppVersion>>;
}

/// The audit log.
#[async_trait]
pub trait AuditRepo: Send + Sync {
    /// Appends a record that goes with no other change (e.g. a refused request).
    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<AuditRecord>;
    /// Records matching the filter, by sequence number.
    async fn list_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>>;
    /// Every record in stored order, and the head, for verification.
    async fn read_chain(&self) -> StoreResult<(Vec<AuditRecord>, ChainHead)>;
}

/// Org policy versions, modes, exceptions and the decision log.
#[async_trait]
pub trait PolicyRepo: Send + Sync {
    /// Stores a new policy version; `Conflict` unless `policy.version` is exactly one more than
    /// the org's newest (1 for the first), `NotFound` for no org.
    async fn create_policy_version(
        &self,
        policy: &OrgPolicyVersion,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// One version; `NotFound` otherwise.
    async fn get_policy_version(&self, org: &OrgId, version: i64) -> StoreResult<OrgPolicyVersion>;
    /// The newest (active) version, if any.
    async fn latest_policy_version(&self, org: &OrgId) -> StoreResult<Option<OrgPolicyVersion>>;
    /// Every version, newest first.
    async fn list_policy_versions(&self, org: &OrgId) -> StoreResult<Vec<OrgPolicyVersion>>;
    /// Sets the org's mode.
    async fn set_policy_mode(
        &self,
        org: &OrgId,
        mode: PolicyMode,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// The org's mode ([`PolicyMode::Enforce`] until one is set).
    async fn policy_mode(&self, org: &OrgId) -> StoreResult<PolicyMode>;
    /// Stores an exception.
    async fn create_exception(
        &self,
        exception: &PolicyException,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// One exception of the org; `NotFound` otherwise.
    async fn get_exception(&self, org: &OrgId, id: &ExceptionId) -> StoreResult<PolicyException>;
    /// The org's exceptions, newest first, including revoked and expired ones.
    async fn list_exceptions(&self, org: &OrgId) -> StoreResult<Vec<PolicyException>>;
    /// Revokes an exception at `at`; `Conflict` when already revoked.
    async fn revoke_exception(
        &self,
        id: &ExceptionId,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Records that an exception has expired (sets `expired_at`); `Conflict` when already
    /// recorded.
    async fn mark_exception_expired(
        &self,
        id: &ExceptionId,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Appends a decision to the log.
    async fn record_decision(&self, decision: &Decision) -> StoreResult<()>;
    /// The org's decisions, newest first, optionally for one app and version, at most `limit`.
    async fn list_decisions(
        &self,
        org: &OrgId,
        app_id: Option<&str>,
        version: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<Decision>>;
}

/// Registry metadata: manifests by repository, tags, referrers, and which blobs a repository
/// may serve. Pushes and deletions are audited.
#[async_trait]
pub trait RegistryRepo: Send + Sync {
    /// Records a pushed manifest with the blobs and child manifests it references (all already
    /// present: the caller checked the blob store), links those blobs to the repository, and
    /// points `tag` at it when given (moving the tag). Pushing the same digest again is allowed
    /// and only (re)points the tag.
    async fn put_manifest(
        &self,
        manifest: &StoredManifest,
        blobs: &[String],
        tag: Option<&str>,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// A repository's manifest by digest, if present.
    async fn get_manifest(
        &self,
        repository: &str,
        digest: &str,
    ) -> StoreResult<Option<StoredManifest>>;
    /// The digest a tag points at, if the tag exists.
    async fn resolve_tag(&self, repository: &str, tag: &str) -> StoreResult<Option<String>>;
    /// A repository's tags, in byte order; `NotFound` for a repository with no manifest.
    async fn list_tags(&self, repository: &str) -> StoreResult<Vec<String>>;
    /// Deletes a manifest and every tag pointing at it; `NotFound` when absent.
    async fn delete_manifest(
        &self,
        repository: &str,
        digest: &str,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Deletes a tag (not the manifest); `NotFound` when absent.
    async fn delete_tag(&self, repository: &str, tag: &str, audit: &AuditEntry) -> StoreResult<()>;
    /// The repository's manifests whose `subject` is `subject`, oldest first.
    async fn referrers(&self, repository: &str, subject: &str) -> StoreResult<Vec<StoredManifest>>;
    /// Lets the repository serve a blob (after an upload or a cross-repository mount).
    async fn link_blob(&self, repository: &str, digest: &str) -> StoreResult<()>;
    /// Whether the repository may serve the blob.
    async fn blob_linked(&self, repository: &str, digest: &str) -> StoreResult<bool>;
    /// The distinct blobs linked to any repository under `namespace/` (for storage quotas).
    async fn namespace_blobs(&self, namespace: &str) -> StoreResult<Vec<String>>;
    /// Removes a blob from a repository; `NotFound` when it was not linked.
    async fn unlink_blob(&self, repository: &str, digest: &str) -> StoreResult<()>;
    /// Every digest any repository still needs (linked blobs and manifests), for garbage
    /// collection.
    async fn referenced_digests(&self) -> StoreResult<Vec<String>>;
    /// Every repository with at least one manifest or linked blob, in byte order.
    async fn list_repositories(&self) -> StoreResult<Vec<String>>;
    /// Records that the upload session `id` was opened in `repository` at `started_at`;
    /// `Conflict` if the id is taken.
    async fn open_upload(
        &self,
        id: &str,
        repository: &str,
        started_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The repository the upload session `id` was opened in, if it is open.
    async fn upload_repository(&self, id: &str) -> StoreResult<Option<String>>;
    /// Forgets the upload session (finished or cancelled); `false` when it was not open.
    async fn close_upload(&self, id: &str) -> StoreResult<bool>;
}

/// Metered usage: events counted exactly once, conflicts and dead letters.
#[async_trait]
pub trait UsageRepo: Send + Sync {
    /// Records validated events of `org` in one transaction and says per event (in input
    /// order) whether it was counted, was a duplicate of an identical event already counted
    /// (same app and event id, same content hash; within the batch too), conflicts with one
    /// (same ids, other content: recorded in the conflict log, not counted), or is a correction
    /// the store refuses (its `ref` names no counted usage event of that app, metric and
    /// instance). Dedup has no window: it is forever. The same transaction keeps the rollups
    /// and the instances' sequence numbers up to date and audits each correction as `actor`.
    async fn record_usage(
        &self,
        org: &OrgId,
        events: &[plaza_metering::ValidatedEvent],
        received_at: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<Vec<StoredOutcome>>;
    /// Keeps rejected events for inspection and replay.
    async fn add_dead_letters(&self, letters: &[DeadLetter]) -> StoreResult<()>;
    /// The org's dead letters, oldest first, at most `limit`; replayed ones only when
    /// `include_replayed`.
    async fn list_dead_letters(
        &self,
        org: &OrgId,
        limit: u32,
        include_replayed: bool,
    ) -> StoreResult<Vec<DeadLetter>>;
    /// One dead letter of the org; `NotFound` otherwise.
    async fn get_dead_letter(&self, org: &OrgId, id: &str) -> StoreResult<DeadLetter>;
    /// Marks a dead letter replayed with the replay's status (`accepted` or `duplicate`).
    async fn mark_dead_letter_replayed(
        &self,
        org: &OrgId,
        id: &str,
        at: DateTime<Utc>,
        status: &str,
    ) -> StoreResult<()>;
    /// The sum of `metric`'s values (in its canonical unit, as an exact decimal string) for
    /// `app_id` over `[from, until)`, corrections applied, and how many events count.
    async fn usage_total(
        &self,
        org: &OrgId,
        app_id: &str,
        metric: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<(String, u64)>;
    /// The rollup buckets in scope (buckets starting in `[from, until)`), by app, instance and
    /// bucket.
    async fn rollup_buckets(
        &self,
        org: &OrgId,
        scope: &UsageScope,
    ) -> StoreResult<Vec<RollupBucket>>;
    /// The raw usage events in scope (by `occurred_at`) and every correction of them, for
    /// exact recomputation (`plaza_metering::aggregate`).
    async fn usage_events(
        &self,
        org: &OrgId,
        scope: &UsageScope,
    ) -> StoreResult<Vec<plaza_metering::ValidatedEvent>>;
    /// The sequence numbers each instance reported, optionally of one app and one instance.
    async fn instance_sequences(
        &self,
        org: &OrgId,
        app_id: Option<&str>,
        instance_id: Option<&str>,
    ) -> StoreResult<Vec<InstanceSequences>>;
    /// Stores (or replaces, for the same app, instance and period start) a period-complete
    /// marker, audited.
    async fn put_period_marker(
        &self,
        org: &OrgId,
        marker: &PeriodMarker,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// The org's period markers, optionally of one app and one instance, by period.
    async fn list_period_markers(
        &self,
        org: &OrgId,
        app_id: Option<&str>,
        instance_id: Option<&str>,
    ) -> StoreResult<Vec<PeriodMarker>>;
    /// The org's own late-arrival window in days, if it set one.
    async fn usage_late_arrival_days(&self, org: &OrgId) -> StoreResult<Option<u32>>;
    /// Sets the org's late-arrival window (`None`: back to the server default), audited.
    async fn set_usage_late_arrival_days(
        &self,
        org: &OrgId,
        days: Option<u32>,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// The corrections received at or after `since`, oldest first, with the period they
    /// correct.
    async fn list_corrections(
        &self,
        org: &OrgId,
        app_id: Option<&str>,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<StoredCorrection>>;
}

/// The usage bus of the scale-out metering mode (`metering.bus`): validated events are
/// appended to a durable log (NATS JetStream in `plaza-bus`) instead of being written to the
/// store by the server; consumers write them to the store later with the same permanent dedup
/// ([`UsageRepo::record_usage`]).
#[async_trait]
pub trait UsageBus: Send + Sync {
    /// Appends `events` of `org` (validated, received at `received_at` from `actor`) and
    /// returns, per event in input order, whether the log stored it or recognised it as a
    /// duplicate of an event it already holds (same org, app and event id, within the log's
    /// dedup window). Returns only when every event is durably stored: on `Ok`, nothing of the
    /// batch can be lost. On `Err`, some events may be stored; a retry is safe.
    async fn publish_usage(
        &self,
        org: &OrgId,
        actor: &str,
        received_at: DateTime<Utc>,
        events: &[plaza_metering::ValidatedEvent],
    ) -> Result<Vec<BusOutcome>, BusError>;
}

/// Which instances to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstanceFilter {
    /// Only of this app.
    pub app_id: Option<String>,
    /// Only of this team.
    pub team_id: Option<TeamId>,
    /// Include uninstalled ones.
    pub include_uninstalled: bool,
}

/// Installed instances, their grants and what they used of them.
#[async_trait]
pub trait InstanceRepo: Send + Sync {
    /// Creates an instance (revision 1); `Conflict` when its id is taken, `NotFound` when its
    /// org, team or app version does not exist.
    async fn create_instance(&self, instance: &Instance, audit: &AuditEntry) -> StoreResult<()>;
    /// One instance, of any org; `NotFound` otherwise.
    async fn get_instance(&self, id: &InstanceId) -> StoreResult<Instance>;
    /// The org's instances, oldest first.
    async fn list_instances(
        &self,
        org: &OrgId,
        filter: &InstanceFilter,
    ) -> StoreResult<Vec<Instance>>;
    /// Stores the instance's new state (version, grants, pending upgrade, status, tags, times)
    /// if it is still at `instance.revision - 1`; `Conflict` when someone changed it meanwhile.
    /// When the new status is uninstalled, every downstream credential of the instance is
    /// revoked in the same transaction.
    async fn update_instance(&self, instance: &Instance, audit: &AuditEntry) -> StoreResult<()>;
    /// Notes that the instance used a granted scope or egress entry at `at`.
    async fn record_grant_use(
        &self,
        instance: &InstanceId,
        kind: GrantKind,
        name: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// When the instance last used each scope and egress entry it ever used.
    async fn grant_uses(&self, instance: &InstanceId) -> StoreResult<Vec<GrantUse>>;
}

/// Plaza's own credentials: token-signing keys and downstream credentials from token exchange.
#[async_trait]
pub trait CredentialRepo: Send + Sync {
    /// Stores a new signing key, audited (never the private half in the audit record).
    async fn create_signing_key(&self, key: &SigningKey, audit: &AuditEntry) -> StoreResult<()>;
    /// Every signing key still published at `now`, newest first.
    async fn published_signing_keys(&self, now: DateTime<Utc>) -> StoreResult<Vec<SigningKey>>;
    /// Stores a downstream credential, audited; `NotFound` if its instance does not exist.
    async fn create_downstream_credential(
        &self,
        credential: &DownstreamCredential,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// The downstream credential with this secret hash.
    async fn find_downstream_credential(
        &self,
        hash: &TokenHash,
    ) -> StoreResult<Option<DownstreamCredential>>;
}

/// Supply chain: publishers' keys and the OSV vulnerability database.
#[async_trait]
pub trait SupplyRepo: Send + Sync {
    /// Registers a publisher key, audited. With `retire_others_at`, every other unrevoked key of
    /// the same publisher whose window ends later (or never) is made to end then, in the same
    /// transaction (rotation with a grace period). `Conflict` when the org already has this key.
    async fn create_publisher_key(
        &self,
        key: &PublisherKey,
        retire_others_at: Option<DateTime<Utc>>,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// The org's keys (of one publisher, when given), oldest first.
    async fn list_publisher_keys(
        &self,
        org: &OrgId,
        publisher: Option<&str>,
    ) -> StoreResult<Vec<PublisherKey>>;
    /// Revokes a key from `at` on, audited, and enqueues `job` (the re-scan of what the key
    /// verified) in the same transaction; `NotFound` for no such key, `Conflict` when it is
    /// already revoked. Returns the key as now stored.
    async fn revoke_publisher_key(
        &self,
        org: &OrgId,
        key_id: &str,
        at: DateTime<Utc>,
        reason: &str,
        audit: &AuditEntry,
        job: Option<&crate::supply_gate::SupplyJob>,
    ) -> StoreResult<PublisherKey>;
    /// Every imported advisory's id and file digest, for an incremental import.
    async fn advisory_digests(&self) -> StoreResult<Vec<(String, String)>>;
    /// Applies an import all or nothing: writes `upserts` (replacing the package index of each),
    /// deletes `removals`, appends the audit record and enqueues `job` (the re-scan), in one
    /// transaction.
    async fn apply_advisory_import(
        &self,
        upserts: &[StoredAdvisory],
        removals: &[String],
        at: DateTime<Utc>,
        audit: &AuditEntry,
        job: Option<&crate::supply_gate::SupplyJob>,
    ) -> StoreResult<()>;
    /// Every imported advisory (to build the in-memory matching index).
    async fn list_advisories(&self) -> StoreResult<Vec<StoredAdvisory>>;
}

/// What a scan writes, in one transaction with its audit record.
#[derive(Debug, Clone, Copy)]
pub struct ScanWrite<'a> {
    /// The score-history entry (its `seq` is assigned by the store).
    pub scan: &'a ScanRecord,
    /// The version's components (the purl → version index), replacing the previous ones;
    /// `None` keeps them.
    pub components: Option<&'a [ComponentRecord]>,
    /// The key ids the version's signature verified with, replacing the previous ones; `None`
    /// keeps them.
    pub key_ids: Option<&'a [String]>,
    /// Notifications to write.
    pub notifications: &'a [Notification],
    /// Blocks the version for new installs (replacing an earlier block).
    pub block: Option<&'a VersionBlock>,
}

/// Supply-chain scans: score history, the purl → version index, the keys each version verified
/// with, the durable re-scan jobs, notifications, blocks and the org's supply settings.
#[async_trait]
pub trait ScanRepo: Send + Sync {
    /// Records a scan (and what goes with it) and its audit record in one transaction; returns
    /// the scan's `seq` (1, 2, … per version).
    async fn record_scan(&self, write: ScanWrite<'_>, audit: &AuditEntry) -> StoreResult<i64>;
    /// A version's score history, oldest first.
    async fn list_scans(
        &self,
        org: &OrgId,
        app_id: &str,
        version: &str,
    ) -> StoreResult<Vec<ScanRecord>>;
    /// A version's newest scan, if any.
    async fn latest_scan(
        &self,
        org: &OrgId,
        app_id: &str,
        version: &str,
    ) -> StoreResult<Option<ScanRecord>>;
    /// A version's indexed components, by ecosystem, name, version and purl.
    async fn version_components(
        &self,
        org: &OrgId,
        app_id: &str,
        version: &str,
    ) -> StoreResult<Vec<ComponentRecord>>;
    /// The versions (of any org) with a component among `packages` ((ecosystem, name)),
    /// sorted, each once.
    async fn versions_with_packages(
        &self,
        packages: &[(String, String)],
    ) -> StoreResult<Vec<VersionRef>>;
    /// The org's versions whose newest scan verified with `key_id`, sorted.
    async fn versions_verified_by_key(
        &self,
        org: &OrgId,
        key_id: &str,
    ) -> StoreResult<Vec<VersionRef>>;
    /// The version's block for new installs, if it is blocked.
    async fn version_block(
        &self,
        org: &OrgId,
        app_id: &str,
        version: &str,
    ) -> StoreResult<Option<VersionBlock>>;
    /// A recipient's notifications in the org, newest first, at most `limit`.
    async fn list_notifications(
        &self,
        org: &OrgId,
        recipient: &Recipient,
        limit: u32,
    ) -> StoreResult<Vec<Notification>>;
    /// The org's supply settings (defaults until set).
    async fn supply_settings(&self, org: &OrgId) -> StoreResult<SupplySettings>;
    /// Replaces the org's supply settings, audited; `NotFound` for no org.
    async fn set_supply_settings(
        &self,
        org: &OrgId,
        settings: &SupplySettings,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Enqueues a job (state queued); `Conflict` when its id is taken.
    async fn enqueue_supply_job(&self, job: &SupplyJob) -> StoreResult<()>;
    /// Claims the oldest job that is queued, or running with its lease expired (`updated_at`
    /// at or before `lease_expired_before`: its worker died), and has been claimed fewer than
    /// `max_attempts` times: marks it running at `now` with one more attempt and returns it.
    /// Concurrent claimers never get the same claim.
    async fn claim_supply_job(
        &self,
        now: DateTime<Utc>,
        lease_expired_before: DateTime<Utc>,
        max_attempts: i64,
    ) -> StoreResult<Option<SupplyJob>>;
    /// Ends the claim `attempt` of a running job: `state` done, failed or queued (retry later),
    /// with `error`. `false` when that claim is no longer the job's (its lease ran out and
    /// another worker claimed it): nothing is changed then.
    async fn finish_supply_job(
        &self,
        id: &str,
        attempt: i64,
        state: JobState,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Jobs, oldest first, optionally in one state, at most `limit`.
    async fn list_supply_jobs(
        &self,
        state: Option<JobState>,
        limit: u32,
    ) -> StoreResult<Vec<SupplyJob>>;
}

/// VEX statements (suppressions) per app.
#[async_trait]
pub trait VexRepo: Send + Sync {
    /// Stores a statement, audited; `NotFound` for no such org or user.
    async fn create_vex(
        &self,
        statement: &crate::supply_gate::VexStatement,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// The app's statements, oldest first.
    async fn list_vex(
        &self,
        org: &OrgId,
        app_id: &str,
    ) -> StoreResult<Vec<crate::supply_gate::VexStatement>>;
    /// Removes a statement of the org, audited; `NotFound` when there is none.
    async fn delete_vex(&self, org: &OrgId, id: &str, audit: &AuditEntry) -> StoreResult<()>;
}

/// Everything a Plaza server needs from its store.
#[async_trait]
pub trait Store:
    OrgRepo
    + TeamRepo
    + UserRepo
    + TokenRepo
    + AppRepo
    + AuditRepo
    + PolicyRepo
    + RegistryRepo
    + UsageRepo
    + InstanceRepo
    + CredentialRepo
    + SupplyRepo
    + VexRepo
    + ScanRepo
{
    /// Checks the backend answers (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;
    /// The backend's name, e.g. `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
}
