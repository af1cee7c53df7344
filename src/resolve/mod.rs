//! Resolve: from the resources users declare, plus the Secret values they point at, to the
//! settings the clients and the rules run with. Pure — no network, no clock reads — so every
//! validation the CRD schema cannot express is unit-tested here from YAML.

mod identity_provider;
mod integration;
mod secrets;

pub use identity_provider::{
    IdentityProviderPlan, identity_provider_secret_refs, resolve_identity_provider,
};
pub use integration::{IntegrationPlan, integration_secret_refs, resolve_integration};
pub use secrets::{SecretMap, SecretSource};

/// Why a resource could not be turned into a runnable plan. Each needs a person to act, so the
/// operator reports it as `Stalled`, and the CLI exits with code 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error(
        "{field}: Secret `{secret}` not found in namespace `{namespace}`; create it or fix the reference"
    )]
    SecretNotFound {
        field: String,
        secret: String,
        namespace: String,
    },
    #[error("{field}: Secret `{secret}` has no key `{key}`; add the key or fix the reference")]
    KeyNotFound {
        field: String,
        secret: String,
        key: String,
    },
    #[error("{field}: Secret `{secret}` key `{key}` is empty")]
    EmptyValue {
        field: String,
        secret: String,
        key: String,
    },
    #[error(
        "{field}: refers to namespace `{referenced}`, but Secrets are only read from the resource's own namespace `{namespace}`; move the Secret or drop the namespace"
    )]
    CrossNamespace {
        field: String,
        referenced: String,
        namespace: String,
    },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

impl ResolveError {
    /// The condition reason the operator reports.
    pub fn reason(&self) -> &'static str {
        match self {
            ResolveError::SecretNotFound { .. } => "SecretNotFound",
            ResolveError::KeyNotFound { .. } => "SecretKeyNotFound",
            ResolveError::EmptyValue { .. } => "SecretKeyEmpty",
            ResolveError::CrossNamespace { .. } => "CrossNamespaceReference",
            ResolveError::Invalid { .. } => "InvalidSpec",
        }
    }

    /// The spec field the error is about.
    pub fn field(&self) -> &str {
        match self {
            ResolveError::SecretNotFound { field, .. }
            | ResolveError::KeyNotFound { field, .. }
            | ResolveError::EmptyValue { field, .. }
            | ResolveError::CrossNamespace { field, .. }
            | ResolveError::Invalid { field, .. } => field,
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ResolveError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests;
