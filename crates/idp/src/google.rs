//! PLACEHOLDER — to be written by the provider's owner.
use idgap_model::IdpAccount;
use idgap_net::Http;

use crate::IdpError;

#[derive(Debug, Clone)]
pub struct GoogleConfig {}

pub(crate) async fn list_accounts(_http: &Http, _config: &GoogleConfig) -> Result<Vec<IdpAccount>, IdpError> {
    Err(IdpError::Config { provider: "placeholder", detail: "not written yet".into() })
}
