//! Reading and verifying the audit log.

use super::Services;
use crate::audit::{verify_chain, AuditFilter, AuditRecord, ChainBreak, ChainHead};
use crate::error::CoreError;

/// Most records one read returns.
pub const MAX_AUDIT_PAGE: i64 = 1000;

impl Services {
    /// Records matching `filter`, capped at [`MAX_AUDIT_PAGE`] (default 100).
    pub async fn audit_records(
        &self,
        mut filter: AuditFilter,
    ) -> Result<Vec<AuditRecord>, CoreError> {
        let limit = filter.limit.unwrap_or(100);
        if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
            return Err(CoreError::Invalid(format!(
                "limit must be between 1 and {MAX_AUDIT_PAGE} (got {limit})"
            )));
        }
        filter.limit = Some(limit);
        Ok(self.store.list_audit(&filter).await?)
    }

    /// Verifies the whole chain: `Ok(Ok(head))` for an intact log (the head's `seq` is the number
    /// of records; its hash can be kept elsewhere to anchor the log), `Ok(Err(break))` for a
    /// tampered one.
    pub async fn verify_audit_chain(&self) -> Result<Result<ChainHead, ChainBreak>, CoreError> {
        let (records, head) = self.store.read_chain().await?;
        Ok(verify_chain(records, &head).map(|_| head))
    }
}
