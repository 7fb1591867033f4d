//! Reading and verifying the audit log.

use super::Services;
use crate::audit::{verify_chain, AuditFilter, AuditRecord, ChainBreak, ChainHead};
use crate::error::CoreError;
use crate::ids::OrgId;

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

    /// Verifies the whole chain (its integrity is global) but tells an org only about itself: how
    /// many of its records were verified and, when the chain is broken, where only if the broken
    /// record is its own.
    pub async fn verify_audit_chain_for(&self, org: &OrgId) -> Result<OrgChainReport, CoreError> {
        let (records, head) = self.store.read_chain().await?;
        let own = |seq: i64| {
            records
                .iter()
                .find(|r| r.seq == seq)
                .is_some_and(|r| r.entry.org_id.as_ref() == Some(org))
        };
        let org_records = records
            .iter()
            .filter(|r| r.entry.org_id.as_ref() == Some(org))
            .count();
        let verdict = verify_chain(records.clone(), &head);
        Ok(match verdict {
            Ok(_) => OrgChainReport {
                intact: true,
                org_records: org_records as i64,
                head_hash: Some(head.hash),
                broken_at: None,
                reason: None,
            },
            Err(b) => {
                let mine = own(b.seq);
                OrgChainReport {
                    intact: false,
                    org_records: org_records as i64,
                    head_hash: None,
                    broken_at: mine.then_some(b.seq),
                    reason: Some(if mine {
                        b.reason
                    } else {
                        "the chain is broken at a record outside your organisation; an operator can locate it with `plaza audit verify`".into()
                    }),
                }
            }
        })
    }
}

/// What an org learns from verifying the audit chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgChainReport {
    /// Whether the whole chain verified.
    pub intact: bool,
    /// How many of the org's records the chain holds.
    pub org_records: i64,
    /// The chain's head hash (when intact), to keep elsewhere as an anchor.
    pub head_hash: Option<String>,
    /// The first broken record, when it is the org's own.
    pub broken_at: Option<i64>,
    /// Why it is broken.
    pub reason: Option<String>,
}
