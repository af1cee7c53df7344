//! Read-only directory sync for the identity providers idgap compares Salesforce against.
//!
//! One module per provider; each turns the provider's own paging, throttling and account
//! states into a [`DirectorySnapshot`]. A directory that could not be read completely is an
//! error, never a short snapshot: a missing page would look like people leaving.

mod entra;
mod google;
mod jumpcloud;
pub mod jwt;
mod okta;
mod onelogin;
mod paging;

/// Entry points for the coverage-guided fuzz targets in `fuzz/` (not an API).
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::paging::fuzzing::*;
    pub mod okta {
        pub use crate::okta::fuzzing::*;
    }
    pub mod entra {
        pub use crate::entra::fuzzing::*;
    }
    pub mod google {
        pub use crate::google::fuzzing::*;
    }
    pub mod jumpcloud {
        pub use crate::jumpcloud::fuzzing::*;
    }
    pub mod onelogin {
        pub use crate::onelogin::fuzzing::*;
    }
    pub use crate::jwt::decode_unverified;
}

pub use entra::{EntraAuth, EntraConfig};
pub use google::GoogleConfig;
pub use jumpcloud::JumpCloudConfig;
pub use okta::{OktaAuth, OktaConfig};
pub use onelogin::OneLoginConfig;

use idgap_model::{DirectorySnapshot, ProviderKind};
use idgap_net::{Http, NetError};

/// One identity provider's connection settings, resolved from an `IdentityProvider` resource
/// and its Secrets.
#[derive(Debug, Clone)]
pub enum IdpConfig {
    Okta(OktaConfig),
    EntraId(EntraConfig),
    GoogleWorkspace(GoogleConfig),
    JumpCloud(JumpCloudConfig),
    OneLogin(OneLoginConfig),
}

impl IdpConfig {
    pub fn provider(&self) -> ProviderKind {
        match self {
            IdpConfig::Okta(_) => ProviderKind::Okta,
            IdpConfig::EntraId(_) => ProviderKind::EntraId,
            IdpConfig::GoogleWorkspace(_) => ProviderKind::GoogleWorkspace,
            IdpConfig::JumpCloud(_) => ProviderKind::JumpCloud,
            IdpConfig::OneLogin(_) => ProviderKind::OneLogin,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IdpError {
    #[error(transparent)]
    Net(#[from] NetError),
    /// The provider refused the credentials (wrong secret, revoked key, expired token).
    #[error("{provider}: authentication failed: {detail}. {hint}")]
    Auth {
        provider: &'static str,
        detail: String,
        hint: String,
    },
    /// Authenticated, but not allowed to list users (missing scope, role or delegation).
    #[error("{provider}: permission denied: {detail}. {hint}")]
    Permission {
        provider: &'static str,
        detail: String,
        hint: String,
    },
    /// The provider answered something idgap cannot read (not the provider, or a cut body).
    #[error("{provider}: unexpected response from {target}: {detail}")]
    Protocol {
        provider: &'static str,
        target: String,
        detail: String,
    },
    /// The private key or other local configuration is unusable.
    #[error("{provider}: invalid configuration: {detail}")]
    Config {
        provider: &'static str,
        detail: String,
    },
    /// Zero accounts: never passed on as "everyone is gone".
    #[error(
        "{provider}: the directory returned no accounts; refusing to treat an empty directory as real (check the credential's scope or the domain)"
    )]
    Empty { provider: &'static str },
}

impl IdpError {
    /// Relabels a provider-neutral error (e.g. from [`jwt`]) with the provider it concerns.
    pub fn with_provider(self, provider: &'static str) -> Self {
        match self {
            IdpError::Config { detail, .. } => IdpError::Config { provider, detail },
            IdpError::Auth { detail, hint, .. } => IdpError::Auth {
                provider,
                detail,
                hint,
            },
            IdpError::Permission { detail, hint, .. } => IdpError::Permission {
                provider,
                detail,
                hint,
            },
            IdpError::Protocol { target, detail, .. } => IdpError::Protocol {
                provider,
                target,
                detail,
            },
            IdpError::Empty { .. } => IdpError::Empty { provider },
            other => other,
        }
    }
}

/// Lists every account of the directory, including suspended and deprovisioned ones.
///
/// `name` labels the snapshot (the `IdentityProvider` resource name).
pub async fn sync(
    http: &Http,
    name: &str,
    config: &IdpConfig,
) -> Result<DirectorySnapshot, IdpError> {
    let http = http.fresh_counter();
    let started = jiff::Timestamp::now();
    let accounts = match config {
        IdpConfig::Okta(c) => okta::list_accounts(&http, c).await?,
        IdpConfig::EntraId(c) => entra::list_accounts(&http, c).await?,
        IdpConfig::GoogleWorkspace(c) => google::list_accounts(&http, c).await?,
        IdpConfig::JumpCloud(c) => jumpcloud::list_accounts(&http, c).await?,
        IdpConfig::OneLogin(c) => onelogin::list_accounts(&http, c).await?,
    };
    if accounts.is_empty() {
        return Err(IdpError::Empty {
            provider: config.provider().label(),
        });
    }
    Ok(DirectorySnapshot {
        provider: config.provider(),
        name: name.to_string(),
        accounts,
        read_at: started,
        requests: http.requests(),
    })
}
