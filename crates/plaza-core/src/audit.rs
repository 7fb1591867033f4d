//! The audit log: an append-only, hash-chained record of every change that matters to security or
//! money. Each record carries the hash of the one before it, so an edited, deleted or reordered
//! record breaks the chain and [`verify_chain`] says where.
//!
//! Stores append records in the same transaction as the change they describe; this module owns
//! the hashing rule so every backend chains identically.

use crate::ids::OrgId;
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first record: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A change to record, before the store gives it a place in the chain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When it happened (millisecond precision, as stored).
    pub at: DateTime<Utc>,
    /// The org it concerns, if any.
    pub org_id: Option<OrgId>,
    /// Who did it: `user:<id>`, `system`, `cli:bootstrap`, ...
    pub actor: String,
    /// What was done, dotted: `team.create`, `token.revoke`, ...
    pub action: String,
    /// What it was done to: `team:<id>`, `token:<id>`, ...
    pub target: String,
    /// Further facts, as a JSON object (never secrets).
    pub details: serde_json::Value,
}

impl AuditEntry {
    /// An entry at `at` (truncated to milliseconds, the precision every store keeps).
    pub fn new(
        at: DateTime<Utc>,
        org_id: Option<OrgId>,
        actor: impl Into<String>,
        action: impl Into<String>,
        target: impl Into<String>,
        details: serde_json::Value,
    ) -> Self {
        Self {
            at: truncate_to_millis(at),
            org_id,
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            details,
        }
    }
}

/// A record as stored: the entry plus its place and hashes in the chain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// The recorded change.
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// Hash of the previous record ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// This record's hash: [`chain_hash`] of the fields above.
    pub hash: String,
}

/// The hash of the record at `seq` holding `entry` after a record hashed `prev_hash`.
///
/// It covers every field, length-prefixed so no two field lists encode alike.
pub fn chain_hash(seq: i64, entry: &AuditEntry, prev_hash: &str) -> String {
    let details = serde_json::to_string(&entry.details).unwrap_or_default();
    let org = entry.org_id.as_ref().map(|o| o.as_str()).unwrap_or("");
    let millis = entry.at.timestamp_millis().to_string();
    let seq = seq.to_string();
    let mut h = Sha256::new();
    for field in [
        seq.as_str(),
        millis.as_str(),
        org,
        entry.actor.as_str(),
        entry.action.as_str(),
        entry.target.as_str(),
        details.as_str(),
        prev_hash,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Where and why a chain failed verification.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at record {seq}: {reason}")]
pub struct ChainBreak {
    /// The first record that does not verify.
    pub seq: i64,
    /// What is wrong with it.
    pub reason: String,
}

/// The head of the chain as the store last wrote it: the number of records and the last hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// Sequence number of the last record (0 when empty).
    pub seq: i64,
    /// Hash of the last record ([`GENESIS_HASH`] when empty).
    pub hash: String,
}

/// Checks records in stored order against each other and against the head. Returns the number of
/// records verified.
pub fn verify_chain(
    records: impl IntoIterator<Item = AuditRecord>,
    head: &ChainHead,
) -> Result<i64, ChainBreak> {
    let mut expected_seq = 1;
    let mut prev = GENESIS_HASH.to_owned();
    for rec in records {
        if rec.seq != expected_seq {
            return Err(ChainBreak {
                seq: rec.seq,
                reason: format!(
                    "expected record {expected_seq} here: a record was deleted or reordered"
                ),
            });
        }
        if rec.prev_hash != prev {
            return Err(ChainBreak {
                seq: rec.seq,
                reason: "its prev_hash does not match the record before it".into(),
            });
        }
        let recomputed = chain_hash(rec.seq, &rec.entry, &rec.prev_hash);
        if recomputed != rec.hash {
            return Err(ChainBreak {
                seq: rec.seq,
                reason: "its content does not match its hash: the record was edited".into(),
            });
        }
        prev = rec.hash;
        expected_seq += 1;
    }
    let last = expected_seq - 1;
    if last != head.seq || prev != head.hash {
        return Err(ChainBreak {
            seq: last + 1,
            reason: format!(
                "the chain ends at record {last} but the store's head says {}: records at the \
                 end were deleted",
                head.seq
            ),
        });
    }
    Ok(last)
}

/// Filters for reading the log; every field narrows, `None` means any.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Only this org's records.
    pub org_id: Option<OrgId>,
    /// Only this actor.
    pub actor: Option<String>,
    /// Only actions starting with this (e.g. `token.` or `token.revoke`).
    pub action_prefix: Option<String>,
    /// Only this target.
    pub target: Option<String>,
    /// At or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Before this instant.
    pub until: Option<DateTime<Utc>>,
    /// Only records after this sequence number (for paging).
    pub after_seq: Option<i64>,
    /// At most this many records (the store caps it).
    pub limit: Option<i64>,
}

/// Truncates an instant to whole milliseconds.
pub fn truncate_to_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(at.timestamp_millis())
        .single()
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(n: i64) -> (Vec<AuditRecord>, ChainHead) {
        let mut prev = GENESIS_HASH.to_owned();
        let mut out = Vec::new();
        for seq in 1..=n {
            let entry = AuditEntry::new(
                Utc.timestamp_millis_opt(1_700_000_000_000 + seq).unwrap(),
                Some(OrgId::from("org_a")),
                "user:u1",
                "team.create",
                format!("team:t{seq}"),
                json!({"slug": format!("t{seq}")}),
            );
            let hash = chain_hash(seq, &entry, &prev);
            out.push(AuditRecord {
                seq,
                entry,
                prev_hash: prev.clone(),
                hash: hash.clone(),
            });
            prev = hash;
        }
        (out, ChainHead { seq: n, hash: prev })
    }

    #[test]
    fn an_intact_chain_verifies() {
        let (recs, head) = chain(5);
        assert_eq!(verify_chain(recs, &head), Ok(5));
        assert_eq!(
            verify_chain(
                vec![],
                &ChainHead {
                    seq: 0,
                    hash: GENESIS_HASH.into()
                }
            ),
            Ok(0)
        );
    }

    #[test]
    fn an_edited_record_is_detected() {
        let (mut recs, head) = chain(5);
        recs[2].entry.target = "team:evil".into();
        assert_eq!(verify_chain(recs, &head).unwrap_err().seq, 3);
    }

    #[test]
    fn a_deleted_record_is_detected() {
        let (mut recs, head) = chain(5);
        recs.remove(1);
        assert_eq!(verify_chain(recs.clone(), &head).unwrap_err().seq, 3);
        let (mut recs, head) = chain(5);
        recs.pop();
        assert_eq!(verify_chain(recs, &head).unwrap_err().seq, 5);
    }

    #[test]
    fn reordered_records_are_detected() {
        let (mut recs, head) = chain(5);
        recs.swap(1, 2);
        assert_eq!(verify_chain(recs, &head).unwrap_err().seq, 3);
    }
}
