//! The ServiceAccount, the token Secret and the Deployment of an instance, as JSON values in
//! the Kubernetes 1.31 API (`v1`, `apps/v1`).

use serde_json::{json, Map, Value};

use crate::check::Plan;
use crate::labels::{annotations, labels, INSTANCE_LABEL};

/// The key of the capability token in the Secret, and the environment variable that holds it.
pub const TOKEN_KEY: &str = "PLAZA_TOKEN";
/// Where the Secret is mounted in the container; the token file there follows refreshes.
pub const TOKEN_DIR: &str = "/var/run/plaza";
/// The user (and group) the container runs as: the conventional "nonroot" of distroless images.
pub const RUN_AS: u32 = 65532;

/// `metadata` of an object: name, namespace, the common labels and annotations, plus `extra`
/// annotations.
pub(crate) fn metadata(plan: &Plan<'_>, name: &str, extra: &[(&str, String)]) -> Value {
    let mut ann = annotations(plan);
    for (k, v) in extra {
        ann.insert((*k).to_owned(), Value::String(v.clone()));
    }
    json!({
        "name": name,
        "namespace": plan.namespace,
        "labels": labels(plan),
        "annotations": ann,
    })
}

/// The instance's own identity in the cluster, with no API token mounted anywhere.
pub(crate) fn service_account(plan: &Plan<'_>) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(plan, &plan.name, &[]),
        "automountServiceAccountToken": false,
    })
}

/// The Secret the capability token lives in: rendered with an empty placeholder, filled later.
pub(crate) fn token_secret(plan: &Plan<'_>) -> Value {
    let note = format!(
        "The key {TOKEN_KEY} is rendered empty on purpose: Plaza's token refresher (or the \
         operator) writes the instance's short-lived capability token into it. Rendered YAML \
         never holds a real token."
    );
    let mut data = Map::new();
    data.insert(TOKEN_KEY.into(), Value::String(String::new()));
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(plan, &plan.secret_name, &[("plaza.dev/token", note)]),
        "type": "Opaque",
        "stringData": data,
    })
}

/// The Deployment: one locked-down replica of the image, pinned by digest.
pub(crate) fn deployment(plan: &Plan<'_>) -> Value {
    let i = plan.input;
    let cpu = format!("{}m", i.cpu_millis);
    let resources = json!({"cpu": cpu, "memory": i.memory});
    let env = json!([
        {"name": "PLAZA_INSTANCE_ID", "value": i.instance_id},
        {"name": "PLAZA_APP_ID", "value": i.app_id},
        {"name": "PLAZA_SPIFFE_ID", "value": i.spiffe_id},
        {"name": TOKEN_KEY, "valueFrom": {"secretKeyRef": {"name": plan.secret_name, "key": TOKEN_KEY}}},
        {"name": "PLAZA_TOKEN_FILE", "value": format!("{TOKEN_DIR}/{TOKEN_KEY}")},
    ]);
    let mut selector = Map::new();
    selector.insert(INSTANCE_LABEL.into(), i.instance_id.clone().into());
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(plan, &plan.name, &[]),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": labels(plan), "annotations": annotations(plan)},
                "spec": {
                    "serviceAccountName": plan.name,
                    "automountServiceAccountToken": false,
                    "enableServiceLinks": false,
                    "securityContext": {
                        "runAsNonRoot": true,
                        "runAsUser": RUN_AS,
                        "runAsGroup": RUN_AS,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [{
                        "name": "app",
                        "image": i.image,
                        "imagePullPolicy": "IfNotPresent",
                        "ports": [{"name": "app", "containerPort": plan.port, "protocol": "TCP"}],
                        "env": env,
                        "resources": {"requests": resources, "limits": resources},
                        "securityContext": {
                            "readOnlyRootFilesystem": true,
                            "allowPrivilegeEscalation": false,
                            "capabilities": {"drop": ["ALL"]},
                        },
                        "volumeMounts": [
                            {"name": "tmp", "mountPath": "/tmp"},
                            {"name": "plaza-token", "mountPath": TOKEN_DIR, "readOnly": true},
                        ],
                    }],
                    "volumes": [
                        {"name": "tmp", "emptyDir": {}},
                        {"name": "plaza-token", "secret": {"secretName": plan.secret_name}},
                    ],
                },
            },
        },
    })
}
