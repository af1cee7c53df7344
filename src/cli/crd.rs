//! `idgap crd`: the CustomResourceDefinitions as multi-document YAML.

use kube::CustomResourceExt;

use crate::resources::{AccessFinding, IdentityProvider, SalesforceIntegration};

pub fn crds_yaml() -> anyhow::Result<String> {
    let mut out = String::new();
    for crd in [
        SalesforceIntegration::crd(),
        IdentityProvider::crd(),
        AccessFinding::crd(),
    ] {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(&crd)?);
    }
    Ok(out)
}
