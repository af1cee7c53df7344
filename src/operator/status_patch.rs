//! Writing a resource's status: one server-side apply with the operator's field manager.
//! Every string in it passes `idgap_net::redact` here, so no condition message, skipped-rule
//! reason or error text can carry a credential a server echoed.

use kube::Api;
use kube::api::{Patch, PatchParams};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::FIELD_MANAGER;
use crate::redact_value::{Strength, redacted};

/// Applies `status` as the whole status of `name`, unless it equals `previous`: a reconcile
/// that only re-checks writes nothing, and so does not trigger itself again. The comparison is
/// on the redacted status, which is what `previous` holds.
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
    let status = redacted(
        serde_json::to_value(status).map_err(kube::Error::SerdeError)?,
        Strength::ServerText,
    );
    if serde_json::to_value(previous).ok().as_ref() == Some(&status) {
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
