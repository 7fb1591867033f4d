#!/usr/bin/env python3
"""DSSE interop with securesystemslib, driven by crates/plaza-supply/tests/sign/interop.rs.

  sslib_dsse.py sign ed25519|ecdsa OUTDIR PAYLOAD_FILE
      Generates a key pair with securesystemslib's CryptoSigner, signs an in-toto DSSE envelope
      of PAYLOAD_FILE's bytes with securesystemslib.dsse.Envelope, and writes OUTDIR/key.pem
      (PKCS#8), OUTDIR/key.enc.pem (the same, encrypted with passphrase `sslib-pass`), OUTDIR/key.pub (SPKI PEM), OUTDIR/keyid (securesystemslib's default keyid) and
      OUTDIR/envelope.json.
  sslib_dsse.py verify PUBKEY_PEM ENVELOPE_JSON [KEYID]
      Verifies ENVELOPE_JSON with securesystemslib (threshold 1) using the public key, whose
      keyid is KEYID when given (DSSE keyids are agreed out of band) or securesystemslib's
      default. Prints `verified <keyid>` and the payload's sha256; exits 1 when it does not verify.
  sslib_dsse.py load-private KEY_PEM [PASSPHRASE]
      Loads a private key PEM with pyca/cryptography (as securesystemslib does) and prints the
      securesystemslib keyid of its public key.
"""
import hashlib
import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey


def sign(alg, outdir, payload_file):
    signer = CryptoSigner.generate_ed25519() if alg == "ed25519" else CryptoSigner.generate_ecdsa()
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "key.pem").write_bytes(signer.private_bytes)
    # The same key encrypted the way pyca/cryptography does (PBES2: PBKDF2-SHA256, AES-256-CBC).
    (out / "key.enc.pem").write_bytes(
        signer._private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"sslib-pass"))
    )
    public = signer._private_key.public_key()  # the pyca key behind the signer
    (out / "key.pub").write_bytes(public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    (out / "keyid").write_text(signer.public_key.keyid)
    env = Envelope(Path(payload_file).read_bytes(), "application/vnd.in-toto+json", {})
    env.sign(signer)
    (out / "envelope.json").write_text(json.dumps(env.to_dict()))


def verify(pubkey_pem, envelope_json, keyid=None):
    public = load_pem_public_key(Path(pubkey_pem).read_bytes())
    key = SSlibKey.from_crypto(public, keyid=keyid)
    env = Envelope.from_dict(json.loads(Path(envelope_json).read_text()))
    try:
        accepted = env.verify([key], 1)
    except Exception as e:  # VerificationError and friends
        print(f"not verified: {e}")
        sys.exit(1)
    print("verified", ",".join(accepted))
    print("payload-sha256", hashlib.sha256(env.payload).hexdigest())


def load_private(key_pem, passphrase=None):
    key = load_pem_private_key(Path(key_pem).read_bytes(), passphrase.encode() if passphrase else None)
    print(SSlibKey.from_crypto(key.public_key()).keyid)


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {"sign": sign, "verify": verify, "load-private": load_private}[cmd](*args)
