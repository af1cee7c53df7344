//! Salesforce sync: sign in (refresh token, JWT bearer, client credentials), read the
//! org's identity and access data with paged, read-only REST / Tooling / Metadata calls,
//! and return an [`OrgSnapshot`]. Never reads CRM records; never writes.
//!
//! ```no_run
//! # async fn run(http: &idgap_net::Http) -> Result<(), idgap_salesforce::SyncError> {
//! use idgap_salesforce::{LoginHost, SalesforceAuth, SalesforceConfig, sync};
//! // Client credentials work only on the org's My Domain host.
//! let config = SalesforceConfig::new(
//!     LoginHost::MyDomain("https://acme.my.salesforce.com".into()),
//!     SalesforceAuth::ClientCredentials { client_id: "3MVG…".into(), client_secret: "…".into() },
//!     jiff::Timestamp::now() - jiff::SignedDuration::from_hours(168),
//! );
//! let outcome = sync(http, &config).await?;
//! println!("{} users", outcome.snapshot.users.len());
//! # Ok(()) }
//! ```

mod access;
mod auth;
mod collect;
pub mod connect;
mod error;
mod rest;
mod soap;
pub mod wire;

/// Entry points for the coverage-guided fuzz targets in `fuzz/` (not an API).
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::access::fuzzing::*;
    pub use crate::auth::fuzzing::*;
    pub use crate::collect::fuzzing::*;
    pub use crate::soap::fuzzing::*;
    pub use crate::wire::{looks_like_html, parse_datetime, parse_error_body, parse_limit_info};
}

use std::sync::Arc;

use idgap_model::{ApiUsage, OrgSnapshot, collector};
use idgap_net::{Http, SecretString};
use jiff::Timestamp;

pub use error::{Refusal, SyncError};

use crate::access::{METADATA_API_NEEDS, OAUTH_TOKENS_NEED, ReaderAccess, USER_LOGIN_NEEDS};
use crate::auth::Authenticator;
use crate::collect::optional;
use crate::rest::{Budget, Rest};

/// Where to sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginHost {
    /// `https://login.salesforce.com`
    Production,
    /// `https://test.salesforce.com`
    Sandbox,
    /// A My Domain (or other) login URL, e.g. `https://acme.my.salesforce.com`.
    MyDomain(String),
}

/// How to sign in. Secrets stay in [`SecretString`]s and never print.
#[derive(Debug, Clone)]
pub enum SalesforceAuth {
    /// The connected-app flow's refresh token (from `idgap connect salesforce`).
    RefreshToken {
        client_id: String,
        client_secret: Option<SecretString>,
        refresh_token: SecretString,
    },
    /// Server-to-server: a JWT signed with the key whose certificate is on the app.
    JwtBearer {
        client_id: String,
        username: String,
        private_key_pem: SecretString,
    },
    /// Server-to-server with a run-as user configured on the app. Salesforce accepts it only
    /// on the org's My Domain host ([`LoginHost::MyDomain`]).
    ClientCredentials {
        client_id: String,
        client_secret: SecretString,
    },
}

/// The Health Check `Setting` labels matched when the Metadata API is refused. Salesforce's
/// exact wording is UNCONFIRMED, so both are configurable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheckLabels {
    pub lock_sessions_to_ip: String,
    pub enforce_ip_ranges: String,
}

impl Default for HealthCheckLabels {
    fn default() -> Self {
        HealthCheckLabels {
            lock_sessions_to_ip: "Lock sessions to the IP address from which they originated"
                .into(),
            enforce_ip_ranges: "Enforce login IP ranges on every request".into(),
        }
    }
}

/// The `sessionSettings` field for "enforce login IP ranges on every request". The name
/// is UNCONFIRMED; change it here (or per config) when a live org says otherwise.
pub const DEFAULT_ENFORCE_IP_RANGES_FIELD: &str = "enforceIpRangesEveryRequest";

/// The OauthToken row cap per query (500 per page, 2,500 in all, since API v34.0).
pub const DEFAULT_OAUTH_TOKEN_CAP: u32 = 2500;

/// The body ceiling for one Metadata API `readMetadata` answer: 48 MiB. A `Profile` carries a
/// field and object permission per field and object in the org, so ten of them (the most one
/// call asks for) from a large org can reach tens of MB, far above a query page. UNCONFIRMED:
/// no published maximum; the figure is an estimate with room to spare, kept configurable.
pub const DEFAULT_METADATA_BODY_LIMIT: usize = 48 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct SalesforceConfig {
    pub login: LoginHost,
    pub auth: SalesforceAuth,
    /// REST API version, e.g. `v62.0`.
    pub api_version: String,
    /// Stop the sync when the org's daily usage reaches this share of its limit.
    pub max_api_usage_share: f64,
    /// Read audit rows created after this instant (the last watermark, or now − lookback).
    pub audit_since: Timestamp,
    /// `Sforce-Query-Options: batchSize` (Salesforce honours 200–2,000).
    pub batch_size: u32,
    pub oauth_token_cap: u32,
    pub health_check_labels: HealthCheckLabels,
    pub enforce_ip_ranges_field: String,
    /// Ceiling for one Metadata API answer (query pages use the `Http` handle's own limit).
    pub metadata_body_limit: usize,
    /// The JWT bearer `aud` to use instead of the documented default and its My Domain
    /// fallback (e.g. an Experience Cloud site URL).
    pub jwt_audience: Option<String>,
    /// Receives a refresh token Salesforce rotated to, as soon as the sync ends — also when
    /// it ends in an error, because the old token is dead either way.
    pub rotation: RotationSlot,
}

/// Where a sync leaves a rotated refresh token for its caller to store.
#[derive(Debug, Clone, Default)]
pub struct RotationSlot(Arc<std::sync::Mutex<Option<SecretString>>>);

impl RotationSlot {
    /// The rotated token, if a sync left one since the last `take`.
    pub fn take(&self) -> Option<SecretString> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    fn put(&self, token: SecretString) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(token);
    }
}

impl SalesforceConfig {
    /// The defaults: `v62.0`, stop at 80% of the daily API allocation, batches of 2,000.
    pub fn new(login: LoginHost, auth: SalesforceAuth, audit_since: Timestamp) -> Self {
        SalesforceConfig {
            login,
            auth,
            api_version: "v62.0".into(),
            max_api_usage_share: 0.8,
            audit_since,
            batch_size: 2000,
            oauth_token_cap: DEFAULT_OAUTH_TOKEN_CAP,
            health_check_labels: HealthCheckLabels::default(),
            enforce_ip_ranges_field: DEFAULT_ENFORCE_IP_RANGES_FIELD.into(),
            metadata_body_limit: DEFAULT_METADATA_BODY_LIMIT,
            jwt_audience: None,
            rotation: RotationSlot::default(),
        }
    }
}

/// A finished sync.
#[derive(Debug, Clone)]
pub struct SyncOutcome {
    pub snapshot: OrgSnapshot,
    /// Set when Salesforce rotated the refresh token: store it, the old one is dead.
    pub rotated_refresh_token: Option<SecretString>,
}

fn take<T>(result: collect::Optional<T>, gaps: &mut Vec<idgap_model::CollectorGap>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(gap) => {
            gaps.push(gap);
            None
        }
    }
}

/// A refusal of a permission-dependent read, tagged with the permission that would lift it.
fn needing(
    mut gap: idgap_model::CollectorGap,
    any_of: &[access::UserPermission],
) -> idgap_model::CollectorGap {
    if gap.missing_permission.is_none() {
        gap.missing_permission = any_of.first().map(|p| p.as_str().to_string());
    }
    gap
}

/// Like [`optional`] for the Metadata API: any refusal (a SOAP fault, or a 403/500 without
/// one) is a gap, as it is for the session settings read from it.
fn metadata_optional<T>(result: Result<T, SyncError>) -> Result<collect::Optional<T>, SyncError> {
    match result {
        Ok(v) => Ok(Ok(v)),
        Err(SyncError::Query { code, message, .. }) => Ok(Err(idgap_model::CollectorGap {
            collector: collector::PROFILE_NAMES.to_string(),
            // The documented answer to a user without Modify Metadata / Modify All Data.
            missing_permission: (code == "INSUFFICIENT_ACCESS")
                .then(|| METADATA_API_NEEDS[0].as_str().to_string()),
            reason: format!("the Metadata API refused listMetadata(Profile) ({code}: {message})"),
        })),
        Err(e) => Err(e),
    }
}

fn normalize_version(v: &str) -> String {
    let v = v.trim();
    if v.starts_with('v') {
        v.to_string()
    } else {
        format!("v{v}")
    }
}

/// Reads the whole snapshot. Either every required part is read completely, or the sync
/// fails; optional parts that the integration user cannot read become `gaps`.
///
/// A refresh token rotated during the sync is in the outcome, and also left in
/// `config.rotation` whether or not the sync succeeded.
pub async fn sync(http: &Http, config: &SalesforceConfig) -> Result<SyncOutcome, SyncError> {
    let auth = Arc::new(Authenticator::new(http, config)?);
    let result = read(http, config, auth.clone()).await;
    if let Some(token) = auth.rotated_refresh_token() {
        config.rotation.put(token);
    }
    result
}

async fn read(
    http: &Http,
    config: &SalesforceConfig,
    auth: Arc<Authenticator>,
) -> Result<SyncOutcome, SyncError> {
    let read_at = Timestamp::now();
    let rest = Rest {
        http: http.clone(),
        auth: auth.clone(),
        version: normalize_version(&config.api_version),
        batch_size: config.batch_size.clamp(1, 2000),
        share: config.max_api_usage_share,
        budget: Budget::default(),
        metadata_body_limit: config.metadata_body_limit,
    };
    let session = auth.session().await?;
    let instance_url = session.instance_url.clone();
    let skipped = collect::Skipped::default();

    let (org, profiles, access) = futures::try_join!(
        collect::org_info(&rest, &instance_url),
        collect::profiles(&rest),
        ReaderAccess::read(&rest, &session.user_id),
    )?;
    // Reads the integration user's permissions would cut short are not attempted: they
    // become gaps that name the permission, so no rule is evaluated on part of the org.
    let oauth_gap = access.require(
        collector::OAUTH_GRANTS,
        OAUTH_TOKENS_NEED,
        "OauthToken would return only its own tokens, without an error",
    );
    let frozen_gap = (!access.may_try(USER_LOGIN_NEEDS)).then(|| {
        access.require(
            collector::FROZEN_STATE,
            USER_LOGIN_NEEDS,
            "UserLogin (frozen state) is not readable",
        )
    });
    let metadata_gap = (!access.may_try(METADATA_API_NEEDS)).then(|| {
        access.require(
            collector::PROFILE_NAMES,
            METADATA_API_NEEDS,
            "the Metadata API (profile API names, session settings) is refused",
        )
    });
    let (
        users,
        frozen,
        (assignments, groups),
        oauth,
        (api_names, session_settings),
        audit,
        exports,
    ) = futures::try_join!(
        collect::users(&rest),
        async {
            match frozen_gap.flatten() {
                Some(gap) => Ok(Err(gap)),
                None => Ok(optional(
                    collector::FROZEN_STATE,
                    collect::frozen_users(&rest, &skipped).await,
                )?
                .map_err(|gap| needing(gap, USER_LOGIN_NEEDS))),
            }
        },
        collect::assignments(&rest),
        async {
            match oauth_gap {
                Some(gap) => Ok(Err(gap)),
                None => optional(
                    collector::OAUTH_GRANTS,
                    collect::oauth_grants(&rest, config.oauth_token_cap, &skipped).await,
                ),
            }
        },
        async {
            let names = match metadata_gap.flatten() {
                Some(gap) => Err(gap),
                None => metadata_optional(collect::profile_api_names(&rest).await)?,
            };
            let settings = collect::session_settings(&rest, &profiles, &names, config).await?;
            Ok::<_, SyncError>((names, settings))
        },
        async {
            optional(
                "auditTrail",
                collect::audit_trail(&rest, config.audit_since).await,
            )
        },
        async { optional("exportJobs", collect::export_jobs(&rest).await) },
    )?;
    let mut gaps = Vec::new();
    let mut users = users;
    if let Some(frozen) = take(frozen, &mut gaps) {
        for u in &mut users {
            u.is_frozen = frozen.contains(&u.id);
        }
    }
    let permissions = collect::effective_permissions(&users, &profiles, &assignments, &groups);
    let api_names = take(api_names, &mut gaps);
    let snapshot_profiles = collect::snapshot_profiles(&profiles, api_names.as_ref());
    let oauth_grants = take(oauth, &mut gaps).unwrap_or_default();
    let session_settings = take(session_settings, &mut gaps);
    let audit_events = take(audit, &mut gaps).unwrap_or_default();
    let export_jobs = take(exports, &mut gaps).unwrap_or_default();
    let audit_watermark = audit_events.iter().map(|e| e.created).max();
    let (calls, used, limit) = rest.budget.snapshot();
    tracing::info!(
        org = %session.org_id,
        users = users.len(),
        calls,
        token_requests = auth.token_requests(),
        "Salesforce sync complete"
    );
    Ok(SyncOutcome {
        snapshot: OrgSnapshot {
            org,
            users,
            profiles: snapshot_profiles,
            permissions,
            oauth_grants,
            session_settings,
            audit_events,
            audit_since: config.audit_since,
            audit_watermark,
            export_jobs,
            api_usage: ApiUsage {
                calls_this_sync: calls,
                used,
                limit,
            },
            gaps,
            skipped_records: skipped.records(),
            read_at,
        },
        rotated_refresh_token: auth.rotated_refresh_token(),
    })
}
