//! The Kubernetes API of idgap (group `idgap.io`, version `v1alpha1`): what users write in Git
//! and what the operator writes back. The CLI reads the same types from YAML files.

mod common;
mod crdgen;
mod finding;
mod identity_provider;
mod integration;
mod interval;

pub use common::{Condition, SecretKeyRef};
pub use crdgen::{crd_files, crd_yaml, crds, crds_yaml};
pub use finding::{AccessFinding, AccessFindingSpec, FindingSubject};
pub use identity_provider::{
    EntraCertificateSpec, EntraIdSpec, GoogleWorkspaceSpec, IdentityProvider, IdentityProviderSpec,
    IdentityProviderStatus, JumpCloudSpec, OktaServiceAppSpec, OktaSpec, OneLoginSpec,
};
pub use integration::{
    CLIENT_CREDENTIALS_NEED_MY_DOMAIN, ClientCredentialsSpec, DomainAlias, Environment,
    ExclusionSpec, ExportMatchersSpec, FindingsSpec, HealthCheckLabelsSpec, IdentityProviderRef,
    JwtBearerSpec, MissingPermissionStatus, OrgStatus, RefreshTokenSpec, RuleName, RulesSpec,
    SalesforceAuthSpec, SalesforceIntegration, SalesforceIntegrationSpec,
    SalesforceIntegrationStatus, SeverityName, SeverityOverride, SkippedRuleStatus, StatusApiUsage,
    StatusInventory, StatusSummary,
};
pub use interval::{DURATION_PATTERN, Interval};

pub const GROUP: &str = "idgap.io";
pub const VERSION: &str = "v1alpha1";
