//! Writing a resource's status: one server-side apply with the operator's field manager.

use kube::Api;
use kube::api::{Patch, PatchParams};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::FIELD_MANAGER;

/// Applies `status` as the whole status of `name`, unless it equals `previous`: a reconcile
/// that only re-checks writes nothing, and so does not trigger itself again.
pub(super) async fn apply_if_changed<K, S>(
    api: &Api<K>,
    kind: &str,
    name: &str,
    previous: &S,
    status: &S,
) -> Result<(), kube::Error>
where
    K: Clone + DeserializeOwned + std::fmt::Debug,
    S: Serialize + PartialEq,
{
    if status == previous {
        return Ok(());
    }
    let patch = serde_json::json!({
        "apiVersion": format!("{}/{}", crate::resources::GROUP, crate::resources::VERSION),
        "kind": kind,
        "status": status,
    });
    api.patch_status(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    Ok(())
}
