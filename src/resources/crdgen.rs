//! The CustomResourceDefinitions, generated from the Rust types. `crds/` and the Helm chart's
//! `files/crds/` hold byte-identical copies of [`crd_files`]; `tests/crds.rs` fails when they
//! drift (regenerate with `IDGAP_UPDATE_CRDS=1 cargo test --test crds`).

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

use super::{AccessFinding, IdentityProvider, SalesforceIntegration};

/// Every CRD idgap serves, in install order.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        SalesforceIntegration::crd(),
        IdentityProvider::crd(),
        AccessFinding::crd(),
    ]
}

/// One CRD as a YAML document (no leading `---`).
pub fn crd_yaml(crd: &CustomResourceDefinition) -> String {
    serde_yaml::to_string(crd).expect("a CustomResourceDefinition always serializes to YAML")
}

/// `(file name, YAML)` per CRD, e.g. `("salesforceintegrations.idgap.io.yaml", "...")`.
pub fn crd_files() -> Vec<(String, String)> {
    crds()
        .iter()
        .map(|crd| {
            let name = crd.metadata.name.clone().unwrap_or_default();
            (format!("{name}.yaml"), crd_yaml(crd))
        })
        .collect()
}

/// All CRDs as one multi-document YAML stream, for `idgap crd` and `kubectl apply -f -`.
pub fn crds_yaml() -> String {
    crd_files()
        .into_iter()
        .map(|(_, yaml)| format!("---\n{yaml}"))
        .collect()
}
