//! Dereference: reads the Secrets a resource points at into a [`SecretMap`] for `resolve`,
//! and writes a rotated refresh token back.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams};

use crate::resolve::SecretMap;
use crate::resources::SecretKeyRef;
use idgap_net::SecretString;

#[derive(Debug, thiserror::Error)]
pub enum DereferenceError {
    #[error(
        "could not read Secret `{secret}` in namespace `{namespace}`: {source}. Check that the operator may get secrets in this namespace"
    )]
    Read {
        secret: String,
        namespace: String,
        #[source]
        source: kube::Error,
    },
}

impl DereferenceError {
    pub fn reason(&self) -> &'static str {
        "SecretReadFailed"
    }
}

/// Reads every referenced Secret in `namespace`. Missing Secrets are left out of the map
/// (resolve then reports which field points at them); references to other namespaces are
/// never read (resolve refuses them).
pub async fn read_referenced(
    api: &Api<Secret>,
    namespace: &str,
    refs: &[(String, SecretKeyRef)],
) -> Result<SecretMap, DereferenceError> {
    let mut map = SecretMap::new(namespace);
    let mut names: Vec<&str> = refs
        .iter()
        .filter(|(_, r)| {
            r.namespace
                .as_deref()
                .is_none_or(|ns| ns.is_empty() || ns == namespace)
        })
        .map(|(_, r)| r.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        let secret = api
            .get_opt(name)
            .await
            .map_err(|source| DereferenceError::Read {
                secret: name.to_string(),
                namespace: namespace.to_string(),
                source,
            })?;
        let Some(secret) = secret else { continue };
        map.add_secret(name);
        for (key, value) in secret.data.unwrap_or_default() {
            if let Ok(text) = String::from_utf8(value.0) {
                map.insert(name, &key, SecretString::unregistered(text));
            }
        }
        for (key, value) in secret.string_data.unwrap_or_default() {
            map.insert(name, &key, SecretString::unregistered(value));
        }
    }
    Ok(map)
}

/// Writes a rotated refresh token into its Secret key (merge patch of `data`). Returns the
/// Secret's new resourceVersion so the Secret watch can tell our own write from a user's.
pub async fn write_rotated(
    api: &Api<Secret>,
    r: &SecretKeyRef,
    value: &str,
) -> Result<Option<String>, kube::Error> {
    let data = BTreeMap::from([(r.key.clone(), ByteString(value.as_bytes().to_vec()))]);
    let patch = serde_json::json!({ "data": data });
    let secret = api
        .patch(
            &r.name,
            &PatchParams {
                field_manager: Some(crate::operator::FIELD_MANAGER.to_string()),
                ..PatchParams::default()
            },
            &Patch::Merge(&patch),
        )
        .await?;
    Ok(secret.metadata.resource_version)
}
