//! Domain services: the operations the HTTP edge and the CLI call. Each takes the acting
//! [`Principal`](crate::access::Principal) (or names the system actor), checks the domain's rules,
//! and calls the store with the audit entry for the change.

mod apps;
mod audit;
pub use audit::OrgChainReport;
mod identity;
mod installs;
mod policy;
mod tokens;
mod usage;

pub use identity::{Bootstrap, OidcIdentity};
pub use installs::{
    ExchangeError, ExchangedToken, InstallRequest, InstallSettings, IssuedCapability, UnusedGrant,
    UnusedGrantReport, UpgradeOutcome, CALENDAR_PROVIDER, DOWNSTREAM_TTL,
};
pub use policy::{outcome_of, GateFinding, PreviewRow, MAX_EXCEPTION_DAYS, POLICY_ERROR_RULE};
pub use tokens::{NewToken, MAX_TOKEN_DAYS, UNKNOWN_TOKEN};
pub use usage::{
    EventReport, EventStatus, GroupBy, IngestReport, InstanceGaps, PeriodStatus, UsageAnswer,
    UsageQuery, UsageRow, MAX_LATE_ARRIVAL_DAYS, MAX_QUERY_WINDOWS,
};

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
    install_settings: InstallSettings,
    keys: Arc<installs::KeyCache>,
}

impl Services {
    /// Services over `store`, telling time by `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            policy_cache: Arc::default(),
            usage_bus: None,
            install_settings: InstallSettings::default(),
            keys: Arc::default(),
        }
    }

    /// The same services with these install and capability-token settings.
    pub fn with_install_settings(mut self, settings: InstallSettings) -> Self {
        self.install_settings = settings;
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

    /// The underlying store (for health checks).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}
