//! DSSE envelopes (Dead Simple Signing Envelope, secure-systems-lab/dsse, protocol v1).
//!
//! JSON form: `{"payloadType": "...", "payload": "<base64>", "signatures": [{"keyid": "...",
//! "sig": "<base64>"}]}`. Reading accepts standard and URL-safe base64, padded or not (the spec
//! allows either); writing uses standard padded base64. Signatures are over the
//! pre-authentication encoding [`pae`], never over the payload alone.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::Deserialize as _;

use super::keys::{PrivateKey, PublicKey};
use super::SignError;

/// The payload type of in-toto statements.
pub const INTOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// At most this many signatures are read from one envelope (bounds verification time).
pub const MAX_SIGNATURES: usize = 64;

const WHAT: &str = "DSSE envelope";

/// A DSSE envelope, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// `payloadType`: how to read the payload (e.g. [`INTOTO_PAYLOAD_TYPE`]).
    pub payload_type: String,
    /// The payload bytes (decoded from base64).
    pub payload: Vec<u8>,
    /// The signatures.
    pub signatures: Vec<Signature>,
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// `keyid`: a hint naming the key (may be empty). Plaza writes [`PublicKey::key_id`].
    pub keyid: String,
    /// The signature bytes (decoded from base64).
    pub sig: Vec<u8>,
}

/// The signature that verified, as [`Envelope::verify`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Index of the signature in the envelope.
    pub signature_index: usize,
    /// The envelope's `keyid` for it (as written, unchecked).
    pub keyid: String,
    /// Index of the key (in the slice given) that verified it.
    pub key_index: usize,
    /// That key's Plaza key id.
    pub key_id: String,
}

/// DSSE v1 pre-authentication encoding:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths as ASCII decimal byte counts.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// Decodes standard or URL-safe base64, padded or not (whitespace around it is ignored).
pub fn decode_base64(what: &'static str, pointer: &str, text: &str) -> Result<Vec<u8>, SignError> {
    let text = text.trim();
    STANDARD_LENIENT
        .decode(text)
        .or_else(|e| URL_SAFE_LENIENT.decode(text).map_err(|_| e))
        .map_err(|e| SignError::Base64 {
            what,
            pointer: pointer.to_owned(),
            detail: e.to_string(),
        })
}

/// Standard padded base64, as Plaza writes it.
pub fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[derive(serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct WireEnvelope {
    payload_type: String,
    payload: String,
    signatures: Vec<WireSignature>,
}

#[derive(serde::Deserialize, serde::Serialize)]
struct WireSignature {
    #[serde(default)]
    keyid: String,
    sig: String,
}

impl Envelope {
    /// Reads an envelope from JSON.
    pub fn from_json(json: &[u8]) -> Result<Self, SignError> {
        let wire: WireEnvelope =
            serde_json::from_slice(json).map_err(|e| SignError::json(WHAT, &e))?;
        Self::from_wire(WHAT, "", wire)
    }

    /// Reads an envelope from a JSON value (e.g. a bundle's `dsseEnvelope`); `pointer` locates
    /// it in its document for error messages.
    pub fn from_value(
        what: &'static str,
        pointer: &str,
        value: &serde_json::Value,
    ) -> Result<Self, SignError> {
        let wire = WireEnvelope::deserialize(value)
            .map_err(|e| SignError::field(what, pointer, e.to_string()))?;
        Self::from_wire(what, pointer, wire)
    }

    fn from_wire(what: &'static str, pointer: &str, wire: WireEnvelope) -> Result<Self, SignError> {
        if wire.signatures.len() > MAX_SIGNATURES {
            return Err(SignError::field(
                what,
                format!("{pointer}/signatures"),
                format!(
                    "{} signatures, more than the {MAX_SIGNATURES} Plaza reads",
                    wire.signatures.len()
                ),
            ));
        }
        let payload = decode_base64(what, &format!("{pointer}/payload"), &wire.payload)?;
        let signatures = wire
            .signatures
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                Ok(Signature {
                    keyid: s.keyid,
                    sig: decode_base64(what, &format!("{pointer}/signatures/{i}/sig"), &s.sig)?,
                })
            })
            .collect::<Result<Vec<_>, SignError>>()?;
        Ok(Envelope {
            payload_type: wire.payload_type,
            payload,
            signatures,
        })
    }

    /// The JSON form (compact, standard base64).
    pub fn to_json(&self) -> String {
        let wire = WireEnvelope {
            payload_type: self.payload_type.clone(),
            payload: encode_base64(&self.payload),
            signatures: self
                .signatures
                .iter()
                .map(|s| WireSignature {
                    keyid: s.keyid.clone(),
                    sig: encode_base64(&s.sig),
                })
                .collect(),
        };
        // A struct of strings always serialises.
        serde_json::to_string(&wire).unwrap_or_default()
    }

    /// An envelope over `payload` with one signature by `key` (keyid: the key's Plaza key id).
    pub fn sign(payload_type: &str, payload: Vec<u8>, key: &PrivateKey) -> Self {
        let mut env = Envelope {
            payload_type: payload_type.to_owned(),
            payload,
            signatures: Vec::new(),
        };
        env.add_signature(key, key.public_key().key_id());
        env
    }

    /// Adds a signature by `key` under `keyid`.
    pub fn add_signature(&mut self, key: &PrivateKey, keyid: String) {
        let sig = key.sign(&pae(&self.payload_type, &self.payload));
        self.signatures.push(Signature { keyid, sig });
    }

    /// The first (signature, key) pair that verifies, trying every signature against every key
    /// (the keyid is a hint and is not trusted).
    pub fn verify(&self, keys: &[PublicKey]) -> Result<Verified, SignError> {
        self.verify_all(keys)
            .into_iter()
            .next()
            .ok_or_else(|| SignError::NoValidSignature {
                what: WHAT,
                signatures: self.signatures.len(),
                keys: keys.len(),
                extra: String::new(),
            })
    }

    /// Every (signature, key) pair that verifies.
    pub fn verify_all(&self, keys: &[PublicKey]) -> Vec<Verified> {
        let message = pae(&self.payload_type, &self.payload);
        let mut out = Vec::new();
        for (si, s) in self.signatures.iter().enumerate() {
            for (ki, k) in keys.iter().enumerate() {
                if k.verifies(&message, &s.sig) {
                    out.push(Verified {
                        signature_index: si,
                        keyid: s.keyid.clone(),
                        key_index: ki,
                        key_id: k.key_id(),
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::keys::{generate, Algorithm};

    #[test]
    fn pae_matches_the_spec_example() {
        // The DSSE protocol document's example.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    fn key(alg: Algorithm) -> PrivateKey {
        PrivateKey::from_pem(&generate(alg, None).unwrap().private_pem, None).unwrap()
    }

    #[test]
    fn sign_verify_round_trip_and_tamper() {
        for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256] {
            let k = key(alg);
            let other = key(alg);
            let env = Envelope::sign(INTOTO_PAYLOAD_TYPE, b"{\"a\":1}".to_vec(), &k);
            let read = Envelope::from_json(env.to_json().as_bytes()).unwrap();
            assert_eq!(read, env);
            let v = read.verify(&[other.public_key(), k.public_key()]).unwrap();
            assert_eq!(v.key_index, 1);
            assert_eq!(v.keyid, k.public_key().key_id());
            let mut tampered = read.clone();
            tampered.payload = b"{\"a\":2}".to_vec();
            assert!(matches!(
                tampered.verify(&[k.public_key()]),
                Err(SignError::NoValidSignature { .. })
            ));
            let mut retyped = read.clone();
            retyped.payload_type = "text/plain".into();
            assert!(retyped.verify(&[k.public_key()]).is_err());
            assert!(read.verify(&[other.public_key()]).is_err());
        }
    }

    #[test]
    fn url_safe_and_unpadded_base64_are_read() {
        let k = key(Algorithm::EcdsaP256);
        // Payload bytes chosen so that standard base64 has `+`, `/` and padding.
        let payload = vec![0xfb, 0xff, 0xbf, 0x3e, 0x00];
        let env = Envelope::sign("application/octet-stream", payload.clone(), &k);
        let json = env.to_json();
        assert!(json.contains("\"+/+/PgA=\""), "{json}");
        let url_b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let url = serde_json::json!({
            "payloadType": env.payload_type,
            "payload": url_b64(&env.payload),
            "signatures": [{"keyid": "k", "sig": url_b64(&env.signatures[0].sig)}],
        })
        .to_string();
        assert!(url.contains("\"-_-_PgA\""), "{url}");
        let read = Envelope::from_json(url.as_bytes()).unwrap();
        assert_eq!(read.payload, payload);
        read.verify(&[k.public_key()]).unwrap();
    }

    #[test]
    fn bad_base64_names_the_field() {
        let e = Envelope::from_json(
            br#"{"payloadType":"t","payload":"aGk=","signatures":[{"keyid":"","sig":"!!"}]}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("/signatures/0/sig"), "{e}");
        let e = Envelope::from_json(br#"{"payloadType":"t","signatures":[]}"#).unwrap_err();
        assert!(e.to_string().contains("payload"), "{e}");
    }
}
