#!/usr/bin/env python3
"""Writes the cosign test vectors in crates/plaza-supply/tests/fixtures/cosign/.

cosign itself is not installable here (no Debian package), so the vectors reproduce cosign's
documented key-pair formats with pyca/cryptography, byte for byte where cosign fixes them:
- `cosign sign-blob --key`: base64(DER ECDSA P-256 signature over SHA-256(blob)) -> blob.sig
- old bundle `--bundle`: {"base64Signature", "cert", "rekorBundle"} -> blob.bundle.legacy.json
- Sigstore bundle v0.3 with messageSignature -> blob.sigstore.json
- `cosign attest-blob --key`: DSSE envelope, payloadType application/vnd.in-toto+json, in-toto
  Statement v0.1 with the blob as subject -> blob.att.json (and inside a Sigstore bundle as
  dsseEnvelope -> blob.att.sigstore.json)
- image signature: the simple-signing payload blob, and the signature manifest whose layer
  carries the signature in the `dev.cosignproject.cosign/signature` annotation
  (`sha256-<hex>.sig` tag form, and the OCI 1.1 referrer form with subject and artifactType).
Run with the venv of scripts/ensure-securesystemslib:  python make_cosign_vectors.py OUTDIR
"""
import base64
import hashlib
import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
b64 = lambda b: base64.b64encode(b).decode()

key = ec.generate_private_key(ec.SECP256R1())
other = ec.generate_private_key(ec.SECP256R1())
pub = lambda k: k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
(out / "cosign.pub").write_bytes(pub(key))
(out / "other.pub").write_bytes(pub(other))
sign = lambda data: key.sign(data, ec.ECDSA(hashes.SHA256()))

blob = b"plaza cosign test blob\n"
(out / "blob").write_bytes(blob)
sig = sign(blob)
(out / "blob.sig").write_text(b64(sig))  # cosign writes no trailing newline
(out / "blob.bundle.legacy.json").write_text(json.dumps({"base64Signature": b64(sig), "cert": "", "rekorBundle": None}))
hint = b64(hashlib.sha256(key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).digest())
(out / "blob.sigstore.json").write_text(json.dumps({
    "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
    "verificationMaterial": {"publicKey": {"hint": hint}, "tlogEntries": []},
    "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": b64(hashlib.sha256(blob).digest())}, "signature": b64(sig)},
}))

def dsse(payload_type, payload):
    pae = b"DSSEv1 %d %b %d %b" % (len(payload_type), payload_type.encode(), len(payload), payload)
    return {"payloadType": payload_type, "payload": b64(payload), "signatures": [{"keyid": "", "sig": b64(sign(pae))}]}

statement = {
    "_type": "https://in-toto.io/Statement/v0.1",
    "predicateType": "https://cosign.sigstore.dev/attestation/v1",
    "subject": [{"name": "blob", "digest": {"sha256": hashlib.sha256(blob).hexdigest()}}],
    "predicate": {"Data": "hello from attest-blob\n", "Timestamp": "2026-05-01T12:00:00Z"},
}
env = dsse("application/vnd.in-toto+json", json.dumps(statement).encode())
(out / "blob.att.json").write_text(json.dumps(env))
(out / "blob.att.sigstore.json").write_text(json.dumps({
    "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
    "verificationMaterial": {"publicKey": {"hint": hint}, "tlogEntries": []},
    "dsseEnvelope": env,
}))

image_digest = "sha256:" + hashlib.sha256(b"image manifest").hexdigest()
(out / "image.digest").write_text(image_digest)
payload = json.dumps({
    "critical": {
        "identity": {"docker-reference": "registry.plaza.test/acme/app"},
        "image": {"docker-manifest-digest": image_digest},
        "type": "cosign container image signature",
    },
    "optional": None,
}).encode()
payload_digest = "sha256:" + hashlib.sha256(payload).hexdigest()
(out / "blobs").mkdir(exist_ok=True)
(out / "blobs" / payload_digest.replace(":", "-")).write_bytes(payload)
config = b"{}"
config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
(out / "blobs" / config_digest.replace(":", "-")).write_bytes(config)
layer = {
    "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
    "size": len(payload),
    "digest": payload_digest,
    "annotations": {"dev.cosignproject.cosign/signature": b64(sign(payload))},
}
tag_manifest = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(config), "digest": config_digest},
    "layers": [layer],
}
(out / "image.sig.manifest.json").write_text(json.dumps(tag_manifest))
referrer = dict(tag_manifest)
referrer["artifactType"] = "application/vnd.dev.cosign.artifact.sig.v1+json"
referrer["config"] = {"mediaType": "application/vnd.oci.empty.v1+json", "size": 2, "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}
referrer["subject"] = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 14, "digest": image_digest}
(out / "image.referrer.manifest.json").write_text(json.dumps(referrer))
