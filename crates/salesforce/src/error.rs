use idgap_net::NetError;

/// Why a sync (or a `connect` exchange) failed. Messages say what is wrong and what to do;
/// none of them ever contains a credential.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Salesforce refused the credentials. Not retried: a dead credential stays dead.
    #[error("Salesforce refused the {method} sign-in: {error} ({description}). {action}")]
    Auth {
        method: &'static str,
        error: String,
        description: String,
        action: String,
        /// What the refusal means, read once from `error` and `description`.
        refusal: Refusal,
    },
    /// The sign-in method cannot work on the configured login host.
    #[error("{detail}")]
    UnsupportedLoginHost { detail: String },
    /// The configured private key cannot be used to sign a JWT assertion.
    #[error(
        "the JWT bearer private key is not usable: {detail}. Provide the PEM-encoded RSA private key (PKCS#8 `BEGIN PRIVATE KEY` or PKCS#1 `BEGIN RSA PRIVATE KEY`) whose certificate is uploaded to the connected app"
    )]
    InvalidKey { detail: String },
    #[error(transparent)]
    Net(#[from] NetError),
    /// Something answered, but not as Salesforce does.
    #[error(
        "{target} did not answer like Salesforce ({detail}); check the login URL / instance (e.g. https://login.salesforce.com or https://<domain>.my.salesforce.com)"
    )]
    NotSalesforce { target: String, detail: String },
    /// The org's daily API usage reached the share idgap may use; the sync stopped early.
    #[error(
        "stopped the sync: the org has used {used} of its {limit} daily API calls, at or above the {share_pct}% idgap may use (maxApiUsageShare); the next sync will try again, or raise the share"
    )]
    ApiBudget {
        used: u64,
        limit: u64,
        share: f64,
        share_pct: u32,
    },
    /// `REQUEST_LIMIT_EXCEEDED` "TotalRequests Limit exceeded.": the daily allocation is gone.
    #[error(
        "Salesforce refused the call: the org's daily API request limit is exhausted (REQUEST_LIMIT_EXCEEDED, usage {used}/{limit}); wait for the rolling 24-hour window or ask Salesforce for more"
    )]
    RequestLimitExceeded { used: u64, limit: u64 },
    /// A query was refused (permission, edition, or an unexpected schema).
    #[error("Salesforce refused the {object} query: {code}: {message}")]
    Query {
        object: String,
        code: String,
        message: String,
    },
    /// The response could not be read, even after retries; no partial page is ever used.
    #[error("{what}: {detail}; nothing from this sync was kept")]
    Protocol { what: String, detail: String },
}

/// The meaning of a refused sign-in, where Salesforce's OAuth error tells it apart only by its
/// description text. Read in one place ([`Refusal::of`]) so nothing else matches strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `invalid_grant` "request not supported on this domain": client credentials sent to
    /// login.salesforce.com or test.salesforce.com instead of the org's My Domain.
    NotOnThisDomain,
    /// `invalid_grant` "audience is invalid" or "user hasn't approved this consumer": with
    /// JWT bearer, the `aud` may be one this org does not accept.
    Audience,
    /// `invalid_grant` "authentication failure".
    AuthenticationFailure,
    Other,
}

impl Refusal {
    pub fn of(error: &str, description: &str) -> Refusal {
        if error != "invalid_grant" {
            return Refusal::Other;
        }
        let desc = description.to_ascii_lowercase();
        if desc.contains("not supported on this domain") {
            Refusal::NotOnThisDomain
        } else if desc.contains("audience is invalid")
            || desc.contains("hasn't approved this consumer")
        {
            Refusal::Audience
        } else if desc.contains("authentication failure") {
            Refusal::AuthenticationFailure
        } else {
            Refusal::Other
        }
    }
}

impl SyncError {
    /// A PascalCase reason for Kubernetes conditions and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            SyncError::Auth { .. } => "AuthenticationFailed",
            SyncError::InvalidKey { .. } => "InvalidPrivateKey",
            SyncError::UnsupportedLoginHost { .. } => "LoginHostNotSupported",
            SyncError::Net(NetError::HostNotAllowed(_)) => "HostNotAllowed",
            SyncError::Net(NetError::Transport { .. }) => "Unreachable",
            SyncError::Net(NetError::RetriesExhausted { .. }) => "SalesforceUnavailable",
            SyncError::Net(NetError::WaitTooLong { .. }) => "RateLimited",
            SyncError::Net(NetError::BodyTooLarge { .. }) => "ResponseTooLarge",
            SyncError::NotSalesforce { .. } => "NotSalesforce",
            SyncError::ApiBudget { .. } => "ApiBudgetExhausted",
            SyncError::RequestLimitExceeded { .. } => "ApiLimitExceeded",
            SyncError::Query { .. } => "QueryFailed",
            SyncError::Protocol { .. } => "ProtocolError",
        }
    }

    /// True when the stored credential is dead and a person must re-authorize.
    pub fn needs_reauthorization(&self) -> bool {
        matches!(self, SyncError::Auth { .. } | SyncError::InvalidKey { .. })
    }

    pub(crate) fn api_budget(used: u64, limit: u64, share: f64) -> Self {
        SyncError::ApiBudget {
            used,
            limit,
            share,
            share_pct: (share * 100.0).round() as u32,
        }
    }
}
