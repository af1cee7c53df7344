//! PLACEHOLDER — to be written by the provider's owner.
use idgap_model::IdpAccount;
use idgap_net::Http;

use crate::IdpError;

#[derive(Debug, Clone)]
pub struct EntraConfig {}
#[derive(Debug, Clone)]
pub enum EntraAuth {}

pub(crate) async fn list_accounts(_http: &Http, _config: &EntraConfig) -> Result<Vec<IdpAccount>, IdpError> {
    Err(IdpError::Config { provider: "placeholder", detail: "not written yet".into() })
}
