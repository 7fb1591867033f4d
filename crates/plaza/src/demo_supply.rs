//! The demo's supply chain: the example apps are signed with the demo publisher's key (registered
//! for the manifest's `provenance.signedBy`), carry signed SLSA provenance of a local build and
//! their committed SBOM, attached as OCI referrers as `plaza push --signature --provenance
//! --sbom` would, so the supply gate has something real to check.
//!
//! Each demo publisher's key is derived from its name: it is public, for the demo only, and must
//! never sign anything else.

use anyhow::Context;
use plaza_core::access::Principal;
use plaza_core::identity::Org;
use plaza_core::service::{NewPublisherKey, Services};
use plaza_core::supply::KeyAlgorithm;
use plaza_core::supply_gate::SubmissionMaterials;
use plaza_registry::referrer::{self, Subject};
use plaza_registry::BlobStore;
use plaza_supply::sign::artifact::sign_artifact;
use plaza_supply::sign::intoto::sha256_hex;
use plaza_supply::sign::keys::PrivateKey;
use plaza_supply::sign::slsa::provenance::{
    local_build_provenance, LocalBuild, PLAZA_LOCAL_BUILDER_ID,
};

/// The publisher the demo signs as when a manifest names none.
const DEMO_PUBLISHER: &str = "did:example:plaza-examples";

/// PKCS#8 v1 DER prefix of an Ed25519 private key (RFC 8410); the 32-byte seed follows.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// A demo publisher's key: Ed25519 from a public seed, the SHA-256 of its name (a key belongs to
/// one publisher).
fn demo_key(publisher: &str) -> anyhow::Result<PrivateKey> {
    use sha2::Digest as _;
    let mut der = ED25519_PKCS8_PREFIX.to_vec();
    der.extend_from_slice(&sha2::Sha256::digest(format!(
        "plaza demo publisher key: {publisher}"
    )));
    Ok(PrivateKey::from_pkcs8_der(&der)?)
}

/// Signs `component`, attests its build, attaches signature, provenance and `sbom` to the image
/// `subject` as referrers, registers the demo key for the manifest's publisher if needed, and
/// returns the materials the supply gate reads (as the server would gather them).
#[allow(clippy::too_many_arguments)]
pub async fn sign_and_attach(
    services: &Services,
    blobs: &dyn BlobStore,
    author: &Principal,
    org: &Org,
    manifest: &serde_json::Value,
    component: &[u8],
    sbom: &[u8],
    subject: &Subject,
) -> anyhow::Result<SubmissionMaterials> {
    let publisher = manifest
        .pointer("/provenance/signedBy")
        .and_then(|v| v.as_str())
        .unwrap_or(DEMO_PUBLISHER);
    let key = demo_key(publisher)?;
    let public = key.public_key();
    let registered = services.publisher_keys(org, Some(publisher)).await?;
    if !registered.iter().any(|k| k.key_id == public.key_id()) {
        services
            .register_publisher_key(
                author,
                org,
                NewPublisherKey {
                    publisher: publisher.to_owned(),
                    key_id: public.key_id(),
                    algorithm: KeyAlgorithm::Ed25519,
                    public_pem: public.to_pem()?,
                    not_before: None,
                    not_after: None,
                    rotate_grace: None,
                },
            )
            .await
            .context("registering the demo publisher key")?;
    }
    let app_id = manifest["id"].as_str().unwrap_or_default();
    let name = format!("{app_id}.wasm");
    let signature = sign_artifact(&name, component, &key).to_json().into_bytes();
    let now = services.now();
    let repository = manifest["repository"]
        .as_str()
        .unwrap_or("https://github.com/plaza-examples/apps")
        .to_owned();
    let provenance = local_build_provenance(&LocalBuild {
        artifact_name: name,
        artifact_sha256: sha256_hex(component),
        repository,
        git_ref: "refs/heads/main".into(),
        commit: None,
        command: Some("scripts/build-example-apps".into()),
        manifest: None,
        builder_id: PLAZA_LOCAL_BUILDER_ID.into(),
        internal_parameters: None,
        invocation_id: format!("demo-{app_id}"),
        started_on: now,
        finished_on: now,
    })
    .sign(&key)
    .to_json()
    .into_bytes();
    let repo = format!("{}/{app_id}", org.slug);
    for attachment in [
        referrer::signature(signature.clone())?,
        referrer::provenance(provenance.clone())?,
        referrer::sbom(sbom.to_vec())?,
    ] {
        plaza_server::submission::attach_referrer(
            services,
            blobs,
            &author.actor(),
            org,
            &repo,
            subject,
            &attachment,
        )
        .await?;
    }
    Ok(SubmissionMaterials {
        artifact_digest: format!("sha256:{}", sha256_hex(component)),
        artifact_bytes: Some(component.to_vec()),
        layers: Vec::new(),
        manifest_text: serde_json::to_string(manifest)?,
        signatures: vec![signature],
        provenance: vec![provenance],
        sbom: Some(sbom.to_vec()),
        sbom_attached_as_referrer: true,
        timestamps: Vec::new(),
    })
}
