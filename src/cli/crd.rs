//! `idgap crd`: the CustomResourceDefinitions as multi-document YAML, the same text as the
//! checked-in `crds/` files.

pub fn crds_yaml() -> anyhow::Result<String> {
    Ok(crate::resources::crds_yaml())
}
