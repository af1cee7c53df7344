//! PLACEHOLDER — to be written by the provider's owner.
use idgap_model::IdpAccount;
use idgap_net::Http;

use crate::IdpError;

#[derive(Debug, Clone)]
pub struct OktaConfig {}
#[derive(Debug, Clone)]
pub enum OktaAuth {}

pub(crate) async fn list_accounts(_http: &Http, _config: &OktaConfig) -> Result<Vec<IdpAccount>, IdpError> {
    Err(IdpError::Config { provider: "placeholder", detail: "not written yet".into() })
}
