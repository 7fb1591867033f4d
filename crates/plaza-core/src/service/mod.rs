//! Domain services: the operations the HTTP edge and the CLI call. Each takes the acting
//! [`Principal`](crate::access::Principal) (or names the system actor), checks the domain's rules,
//! and calls the store with the audit entry for the change.

mod apps;
mod attestation;
mod audit;
mod cache;
pub use audit::OrgChainReport;
mod identity;
mod installs;
mod policy;
mod publisher_keys;
mod supply;
mod team_settings;
mod tokens;
mod usage;
mod vex;

pub use attestation::{Countersigned, MAX_TIMESTAMPED_SIGNATURE_BYTES, VERIFIER_ID};
pub use identity::{Bootstrap, OidcIdentity};
pub use installs::{
    ExchangeError, ExchangedToken, InstallRequest, InstallSettings, IssuedCapability, UnusedGrant,
    UnusedGrantReport, UpgradeOutcome, CALENDAR_PROVIDER, DOWNSTREAM_TTL,
};
pub use policy::{outcome_of, GateFinding, PreviewRow, MAX_EXCEPTION_DAYS, POLICY_ERROR_RULE};
pub use publisher_keys::{NewPublisherKey, MAX_ROTATION_GRACE_DAYS};
pub use supply::{
    JobOutcome, RescanResult, MAX_JOB_ATTEMPTS, MAX_NOTIFICATIONS, MAX_TRUSTED_BUILDERS,
    SUPPLY_JOB_LEASE, VULN_INDEX_TTL,
};
pub use tokens::{NewToken, MAX_TOKEN_DAYS, UNKNOWN_TOKEN};
pub use usage::{
    EventReport, EventStatus, GroupBy, IngestReport, InstanceGaps, PeriodStatus, UsageAnswer,
    UsageQuery, UsageRow, MAX_LATE_ARRIVAL_DAYS, MAX_QUERY_WINDOWS,
};
pub use vex::MAX_VEX_PER_APP;

use crate::clock::Clock;
use crate::ports::{Store, UsageBus};
use std::sync::Arc;

/// The services, sharing one store and one clock.
#[derive(Clone)]
pub struct Services {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    policy_cache: Arc<policy::PolicyCache>,
    /// The usage bus of the scale-out metering mode; `None`: ingest writes to the store.
    usage_bus: Option<Arc<dyn UsageBus>>,
    install_settings: Arc<InstallSettings>,
    keys: Arc<installs::KeyCache>,
    /// The principal (and token) behind an API token hash, for a couple of seconds.
    principals: Arc<
        cache::TtlCache<
            crate::token::TokenHash,
            (crate::token::ApiToken, crate::access::Principal),
        >,
    >,
    /// Orgs by id.
    orgs: Arc<cache::TtlCache<crate::ids::OrgId, crate::identity::Org>>,
    /// Instances serving requests, by id, for a second.
    running: Arc<cache::TtlCache<crate::install::InstanceId, crate::install::Instance>>,
    /// Orgs' runtime policies, for a few seconds.
    runtime_policies: Arc<cache::TtlCache<crate::ids::OrgId, crate::install::RuntimePolicy>>,
    /// Capability tokens handed to invocations, by instance and revision.
    invocation_tokens:
        Arc<cache::TtlCache<(crate::install::InstanceId, i64), installs::IssuedCapability>>,
    /// The supply gate's OSV index and secret scanner.
    supply: Arc<supply::SupplyCaches>,
}

impl Services {
    /// Services over `store`, telling time by `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            policy_cache: Arc::default(),
            usage_bus: None,
            install_settings: Arc::default(),
            keys: Arc::default(),
            principals: Arc::new(cache::TtlCache::new(
                std::time::Duration::from_secs(2),
                10_000,
            )),
            orgs: Arc::new(cache::TtlCache::new(
                std::time::Duration::from_secs(30),
                1_000,
            )),
            running: Arc::new(cache::TtlCache::new(
                std::time::Duration::from_secs(1),
                10_000,
            )),
            runtime_policies: Arc::new(cache::TtlCache::new(
                std::time::Duration::from_secs(5),
                1_000,
            )),
            invocation_tokens: Arc::new(cache::TtlCache::new(
                installs::INVOCATION_TOKEN_REUSE,
                10_000,
            )),
            supply: Arc::default(),
        }
    }

    /// The same services with these install and capability-token settings.
    pub fn with_install_settings(mut self, settings: InstallSettings) -> Self {
        self.install_settings = Arc::new(settings);
        self
    }

    /// The install settings in force.
    pub fn install_settings(&self) -> &InstallSettings {
        &self.install_settings
    }

    /// The same services, but usage ingest appends validated events to `bus` (the scale-out
    /// metering mode) instead of writing them to the store; a consumer
    /// ([`Services::record_bus_usage`]) writes them later.
    pub fn with_usage_bus(mut self, bus: Arc<dyn UsageBus>) -> Self {
        self.usage_bus = Some(bus);
        self
    }

    /// Whether usage ingest goes through a bus.
    pub fn has_usage_bus(&self) -> bool {
        self.usage_bus.is_some()
    }

    /// "Now", truncated to the millisecond precision every store keeps, so what a create returns
    /// equals what a later read returns.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        crate::audit::truncate_to_millis(self.clock.now())
    }

    /// An org by id (cached for a while: orgs do not change).
    pub async fn org(
        &self,
        id: &crate::ids::OrgId,
    ) -> Result<crate::identity::Org, crate::CoreError> {
        if let Some(org) = self.orgs.get(id) {
            return Ok(org);
        }
        let org = self.store.get_org(id).await?;
        self.orgs.insert(id.clone(), org.clone());
        Ok(org)
    }

    /// Forgets cached principals, after a change to tokens, roles or team memberships.
    pub(crate) fn forget_principals(&self) {
        self.principals.clear();
    }

    /// The underlying store (for health checks).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}
