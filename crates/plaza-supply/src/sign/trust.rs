//! Which keys are trusted when: publisher keys with validity windows and revocations, and the
//! marketplace's signed timestamps that prove when a signature was made.
//!
//! Rules ([`key_valid_for_signature`], a pure function):
//! - A signature **with** a marketplace timestamp proving it was made at `t` (and `t` not in the
//!   future): the key must have been valid at `t` — `valid_from <= t`, `t < valid_until` (if set)
//!   and `t < revoked_at` (if revoked). So a signature made before a key expired (rotation) or
//!   was revoked stays valid.
//! - A signature **without** such a timestamp: nothing proves when it was made, so the key must
//!   be valid now — inside its window and not revoked. Revocation therefore stops every
//!   untimestamped signature from the revocation time on.
//!
//! A marketplace timestamp is an in-toto Statement v1 with predicate type
//! [`PLAZA_TIMESTAMP_V1`] and predicate `{"signedAt": RFC 3339}`, whose single subject is the
//! timestamped signature: name `dsse-signature`, digest `sha256` of the raw signature bytes.
//! It is a DSSE envelope signed by a marketplace key, verified with the marketplace's published
//! public keys ([`verify_timestamp`]).

use chrono::{DateTime, SecondsFormat, Utc};

use super::dsse::{Envelope, Verified};
use super::intoto::{sha256_hex, Statement, PLAZA_TIMESTAMP_V1};
use super::keys::{PrivateKey, PublicKey};
use super::SignError;

/// A publisher key registered with the marketplace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    /// The public key.
    pub key: PublicKey,
    /// Who registered it (publisher name), for messages.
    pub owner: String,
    /// Start of the validity window (inclusive).
    pub valid_from: DateTime<Utc>,
    /// End of the validity window (exclusive); `None` = open-ended.
    pub valid_until: Option<DateTime<Utc>>,
    /// When it was revoked; signatures from then on are invalid.
    pub revoked_at: Option<DateTime<Utc>>,
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Whether `key` may vouch for a signature, given the proven signing time (from a verified
/// marketplace timestamp) if any, at verification time `now`. `Err` says why not.
pub fn key_valid_for_signature(
    key: &TrustedKey,
    proven_signed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let (t, which) = match proven_signed_at {
        Some(t) if t > now => {
            return Err(format!(
                "the timestamp says {} which is in the future (now {})",
                ts(t),
                ts(now)
            ))
        }
        Some(t) => (t, "the timestamped signing time"),
        None => (
            now,
            "now (no marketplace timestamp proves when the signature was made)",
        ),
    };
    if t < key.valid_from {
        return Err(format!(
            "the key of {} is valid from {}, after {which} {}",
            key.owner,
            ts(key.valid_from),
            ts(t)
        ));
    }
    if let Some(until) = key.valid_until {
        if t >= until {
            let hint = if proven_signed_at.is_none() {
                "; a marketplace timestamp from before then would keep the signature valid, otherwise sign again with the current key"
            } else {
                ""
            };
            return Err(format!(
                "the key of {} expired at {}, before {which} {}{hint}",
                key.owner,
                ts(until),
                ts(t)
            ));
        }
    }
    if let Some(revoked) = key.revoked_at {
        if t >= revoked {
            let hint = if proven_signed_at.is_none() {
                "; only signatures with a marketplace timestamp from before the revocation stay valid"
            } else {
                ""
            };
            return Err(format!(
                "the key of {} was revoked at {}, not after {which} {}{hint}",
                key.owner,
                ts(revoked),
                ts(t)
            ));
        }
    }
    Ok(())
}

/// The marketplace's timestamp statement for `signature` made at `at`, signed by `marketplace_key`.
pub fn issue_timestamp(
    signature: &[u8],
    at: DateTime<Utc>,
    marketplace_key: &PrivateKey,
) -> Envelope {
    Statement::v1(
        "dsse-signature",
        &sha256_hex(signature),
        PLAZA_TIMESTAMP_V1,
        serde_json::json!({ "signedAt": ts(at) }),
    )
    .sign(marketplace_key)
}

/// Verifies a timestamp envelope with the marketplace's public keys and returns the time it
/// proves for `signature`.
pub fn verify_timestamp(
    timestamp: &Envelope,
    signature: &[u8],
    marketplace_keys: &[PublicKey],
) -> Result<DateTime<Utc>, SignError> {
    const WHAT: &str = "marketplace timestamp";
    timestamp
        .verify(marketplace_keys)
        .map_err(|_| SignError::NoValidSignature {
            what: WHAT,
            signatures: timestamp.signatures.len(),
            keys: marketplace_keys.len(),
            extra: "; fetch the marketplace's current published keys".into(),
        })?;
    let statement = Statement::from_envelope(timestamp)?;
    statement.check_predicate_type(&[PLAZA_TIMESTAMP_V1])?;
    statement.check_subject(&sha256_hex(signature))?;
    let at = statement
        .predicate
        .get("signedAt")
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            SignError::field(
                WHAT,
                "/predicate/signedAt",
                "missing; expected an RFC 3339 time",
            )
        })?;
    DateTime::parse_from_rfc3339(at)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            SignError::field(
                WHAT,
                "/predicate/signedAt",
                format!("`{at}` is not an RFC 3339 time: {e}"),
            )
        })
}

/// A signature that verified with a key valid for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedSignature {
    /// Which signature and key.
    pub verified: Verified,
    /// The signing time a marketplace timestamp proves, if one does.
    pub signed_at: Option<DateTime<Utc>>,
}

/// Verifies `envelope` against registered publisher `keys`: some signature must verify with a
/// key that [`key_valid_for_signature`] accepts, using the timestamps (from `timestamps`,
/// verified with `marketplace_keys`) that cover that signature. Errors list why each key that
/// verified was refused.
pub fn verify_with_trusted_keys(
    envelope: &Envelope,
    keys: &[TrustedKey],
    timestamps: &[Envelope],
    marketplace_keys: &[PublicKey],
    now: DateTime<Utc>,
) -> Result<TrustedSignature, SignError> {
    let public: Vec<PublicKey> = keys.iter().map(|k| k.key.clone()).collect();
    let mut refusals = Vec::new();
    for verified in envelope.verify_all(&public) {
        let (Some(sig), Some(key)) = (
            envelope.signatures.get(verified.signature_index),
            keys.get(verified.key_index),
        ) else {
            continue;
        };
        // The earliest time any valid timestamp proves for this signature.
        let signed_at = timestamps
            .iter()
            .filter_map(|t| verify_timestamp(t, &sig.sig, marketplace_keys).ok())
            .min();
        match key_valid_for_signature(key, signed_at, now) {
            Ok(()) => {
                return Ok(TrustedSignature {
                    verified,
                    signed_at,
                })
            }
            Err(why) => refusals.push(format!("key {}: {why}", verified.key_id)),
        }
    }
    Err(SignError::NoValidSignature {
        what: "DSSE envelope",
        signatures: envelope.signatures.len(),
        keys: keys.len(),
        extra: if refusals.is_empty() {
            String::new()
        } else {
            format!(" at a time the key was valid ({})", refusals.join("; "))
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::intoto::artifact_signature_statement;
    use crate::sign::keys::{generate, Algorithm};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn key(alg: Algorithm) -> PrivateKey {
        PrivateKey::from_pem(&generate(alg, None).unwrap().private_pem, None).unwrap()
    }

    fn trusted(
        k: &PrivateKey,
        from: &str,
        until: Option<&str>,
        revoked: Option<&str>,
    ) -> TrustedKey {
        TrustedKey {
            key: k.public_key(),
            owner: "acme".into(),
            valid_from: t(from),
            valid_until: until.map(t),
            revoked_at: revoked.map(t),
        }
    }

    /// (valid_from, valid_until, revoked_at, proven signing time, now, accepted)
    type WindowCase = (
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        &'static str,
        bool,
    );
    const WINDOW_CASES: &[WindowCase] = &[
        (
            "2026-01-01T00:00:00Z",
            None,
            None,
            None,
            "2026-06-01T00:00:00Z",
            true,
        ),
        (
            "2026-07-01T00:00:00Z",
            None,
            None,
            None,
            "2026-06-01T00:00:00Z",
            false,
        ),
        (
            "2026-01-01T00:00:00Z",
            Some("2026-03-01T00:00:00Z"),
            None,
            None,
            "2026-06-01T00:00:00Z",
            false,
        ),
        (
            "2026-01-01T00:00:00Z",
            Some("2026-03-01T00:00:00Z"),
            None,
            Some("2026-02-01T00:00:00Z"),
            "2026-06-01T00:00:00Z",
            true,
        ),
        (
            "2026-01-01T00:00:00Z",
            Some("2026-03-01T00:00:00Z"),
            None,
            Some("2026-03-01T00:00:00Z"),
            "2026-06-01T00:00:00Z",
            false,
        ),
        (
            "2026-01-01T00:00:00Z",
            None,
            Some("2026-05-01T00:00:00Z"),
            None,
            "2026-06-01T00:00:00Z",
            false,
        ),
        (
            "2026-01-01T00:00:00Z",
            None,
            Some("2026-05-01T00:00:00Z"),
            Some("2026-04-30T23:59:59Z"),
            "2026-06-01T00:00:00Z",
            true,
        ),
        (
            "2026-01-01T00:00:00Z",
            None,
            Some("2026-05-01T00:00:00Z"),
            Some("2026-05-02T00:00:00Z"),
            "2026-06-01T00:00:00Z",
            false,
        ),
        (
            "2026-01-01T00:00:00Z",
            None,
            Some("2026-07-01T00:00:00Z"),
            None,
            "2026-06-01T00:00:00Z",
            true,
        ),
        (
            "2026-01-01T00:00:00Z",
            None,
            None,
            Some("2025-12-31T00:00:00Z"),
            "2026-06-01T00:00:00Z",
            false,
        ),
        (
            "2026-01-01T00:00:00Z",
            None,
            None,
            Some("2026-07-01T00:00:00Z"),
            "2026-06-01T00:00:00Z",
            false,
        ),
    ];

    #[test]
    fn validity_windows_and_revocation_rules() {
        let k = key(Algorithm::Ed25519);
        for (i, (from, until, revoked, signed, now, ok)) in WINDOW_CASES.iter().enumerate() {
            let got = key_valid_for_signature(
                &trusted(&k, from, *until, *revoked),
                signed.map(t),
                t(now),
            );
            assert_eq!(got.is_ok(), *ok, "case {i}: {got:?}");
        }
    }

    #[test]
    fn revocation_before_and_after_with_and_without_timestamp() {
        let publisher = key(Algorithm::EcdsaP256);
        let market = key(Algorithm::Ed25519);
        let forger = key(Algorithm::Ed25519);
        let env = artifact_signature_statement("app.wasm", b"app").sign(&publisher);
        let sig = env.signatures[0].sig.clone();
        let stamp = issue_timestamp(&sig, t("2026-02-01T00:00:00Z"), &market);
        let forged = issue_timestamp(&sig, t("2026-02-01T00:00:00Z"), &forger);
        let other_sig = issue_timestamp(b"another signature", t("2026-02-01T00:00:00Z"), &market);
        let mk = [market.public_key()];
        let now = t("2026-06-01T00:00:00Z");
        let revoked_later = [trusted(
            &publisher,
            "2026-01-01T00:00:00Z",
            None,
            Some("2026-03-01T00:00:00Z"),
        )];
        let revoked_earlier = [trusted(
            &publisher,
            "2026-01-01T00:00:00Z",
            None,
            Some("2026-01-15T00:00:00Z"),
        )];
        let unrevoked = [trusted(&publisher, "2026-01-01T00:00:00Z", None, None)];

        // Not revoked: valid with or without a timestamp.
        assert_eq!(
            verify_with_trusted_keys(&env, &unrevoked, &[], &mk, now)
                .unwrap()
                .signed_at,
            None
        );
        // Revoked: without a timestamp, invalid.
        let e = verify_with_trusted_keys(&env, &revoked_later, &[], &mk, now).unwrap_err();
        assert!(
            e.to_string().contains("revoked at 2026-03-01T00:00:00Z"),
            "{e}"
        );
        // Revoked after the timestamped signing time: valid.
        let ok =
            verify_with_trusted_keys(&env, &revoked_later, std::slice::from_ref(&stamp), &mk, now)
                .unwrap();
        assert_eq!(ok.signed_at, Some(t("2026-02-01T00:00:00Z")));
        // Revoked before the timestamped signing time: invalid.
        assert!(verify_with_trusted_keys(
            &env,
            &revoked_earlier,
            std::slice::from_ref(&stamp),
            &mk,
            now
        )
        .is_err());
        // A timestamp not signed by the marketplace, or for another signature, proves nothing.
        assert!(verify_with_trusted_keys(&env, &revoked_later, &[forged], &mk, now).is_err());
        assert!(verify_with_trusted_keys(&env, &revoked_later, &[other_sig], &mk, now).is_err());
        // Before revocation time, no timestamp needed.
        verify_with_trusted_keys(&env, &revoked_later, &[], &mk, t("2026-02-15T00:00:00Z"))
            .unwrap();
    }

    #[test]
    fn rotation_old_key_valid_in_grace_period_new_key_after() {
        let old = key(Algorithm::Ed25519);
        let new = key(Algorithm::Ed25519);
        let keys = [
            trusted(
                &old,
                "2026-01-01T00:00:00Z",
                Some("2026-04-01T00:00:00Z"),
                None,
            ),
            trusted(&new, "2026-03-01T00:00:00Z", None, None),
        ];
        let by_old = artifact_signature_statement("a", b"a").sign(&old);
        let by_new = artifact_signature_statement("a", b"a").sign(&new);
        let grace = t("2026-03-15T00:00:00Z");
        assert_eq!(
            verify_with_trusted_keys(&by_old, &keys, &[], &[], grace)
                .unwrap()
                .verified
                .key_index,
            0
        );
        assert_eq!(
            verify_with_trusted_keys(&by_new, &keys, &[], &[], grace)
                .unwrap()
                .verified
                .key_index,
            1
        );
        assert!(
            verify_with_trusted_keys(&by_old, &keys, &[], &[], t("2026-04-02T00:00:00Z")).is_err()
        );
        assert!(
            verify_with_trusted_keys(&by_new, &keys, &[], &[], t("2026-02-01T00:00:00Z")).is_err()
        );
    }

    #[test]
    fn timestamp_round_trip() {
        let market = key(Algorithm::EcdsaP256);
        let stamp = issue_timestamp(b"sig", t("2026-02-01T10:00:00Z"), &market);
        let read = Envelope::from_json(stamp.to_json().as_bytes()).unwrap();
        assert_eq!(
            verify_timestamp(&read, b"sig", &[market.public_key()]).unwrap(),
            t("2026-02-01T10:00:00Z")
        );
        assert!(matches!(
            verify_timestamp(&read, b"gis", &[market.public_key()]),
            Err(SignError::DigestMismatch { .. })
        ));
    }
}
