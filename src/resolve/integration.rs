use std::time::Duration;

use idgap_detect::{Exclusion, Policy};
use idgap_model::{RuleId, Severity};
use idgap_salesforce::{LoginHost, SalesforceAuth, SalesforceConfig};
use jiff::Timestamp;

use super::ResolveError;
use super::secrets::{SecretSource, read, read_plain};
use crate::resources::{
    CLIENT_CREDENTIALS_NEED_MY_DOMAIN, Environment, RuleName, SalesforceIntegration,
    SalesforceIntegrationSpec, SecretKeyRef, SeverityName,
};

/// Everything one sync of one integration needs, with credentials in hand.
#[derive(Debug, Clone)]
pub struct IntegrationPlan {
    pub name: String,
    pub namespace: String,
    pub salesforce: SalesforceConfig,
    pub policy: Policy,
    /// Names of the linked IdentityProviders, in spec order.
    pub identity_providers: Vec<String>,
    pub interval: Duration,
    pub event_retention: Duration,
    pub max_findings: u32,
    /// Export events from here to now are findings (`now - auditLookback`).
    pub audit_window_start: Timestamp,
}

/// Every Secret reference in the spec, with its field path.
pub fn integration_secret_refs(spec: &SalesforceIntegrationSpec) -> Vec<(String, SecretKeyRef)> {
    let mut refs = Vec::new();
    let a = &spec.auth;
    if let Some(r) = &a.refresh_token {
        refs.push((
            "spec.auth.refreshToken.clientId".into(),
            r.client_id.clone(),
        ));
        if let Some(s) = &r.client_secret {
            refs.push(("spec.auth.refreshToken.clientSecret".into(), s.clone()));
        }
        refs.push((
            "spec.auth.refreshToken.refreshToken".into(),
            r.refresh_token.clone(),
        ));
    }
    if let Some(j) = &a.jwt_bearer {
        refs.push(("spec.auth.jwtBearer.clientId".into(), j.client_id.clone()));
        refs.push((
            "spec.auth.jwtBearer.privateKey".into(),
            j.private_key.clone(),
        ));
    }
    if let Some(c) = &a.client_credentials {
        refs.push((
            "spec.auth.clientCredentials.clientId".into(),
            c.client_id.clone(),
        ));
        refs.push((
            "spec.auth.clientCredentials.clientSecret".into(),
            c.client_secret.clone(),
        ));
    }
    refs
}

/// Turns a SalesforceIntegration and its Secrets into a plan. `now` anchors the audit window.
pub fn resolve_integration(
    obj: &SalesforceIntegration,
    secrets: &dyn SecretSource,
    now: Timestamp,
) -> Result<IntegrationPlan, ResolveError> {
    let name = obj.metadata.name.clone().unwrap_or_default();
    let namespace = obj
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".to_string());
    let spec = &obj.spec;

    let interval = spec.interval.at_least_minimum().map_err(|m| {
        ResolveError::invalid(
            "spec.interval",
            format!("{m}; each sync spends Salesforce API calls"),
        )
    })?;
    let lookback = spec
        .audit_lookback
        .checked()
        .map_err(|m| ResolveError::invalid("spec.auditLookback", m))?;
    if lookback > Duration::from_secs(180 * 86400) {
        return Err(ResolveError::invalid(
            "spec.auditLookback",
            "Salesforce keeps the setup audit trail for 180 days; use 4320h or less",
        ));
    }
    let event_retention = spec
        .findings
        .event_retention
        .checked()
        .map_err(|m| ResolveError::invalid("spec.findings.eventRetention", m))?;

    let login = match (&spec.environment, &spec.login_url) {
        (Some(_), Some(_)) => {
            return Err(ResolveError::invalid(
                "spec.loginUrl",
                "set either environment or loginUrl, not both",
            ));
        }
        (_, Some(url)) => {
            let url = url.trim_end_matches('/').to_string();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(ResolveError::invalid(
                    "spec.loginUrl",
                    "must be an https:// URL",
                ));
            }
            match LoginHost::MyDomain(url).url().as_str() {
                "https://login.salesforce.com" => LoginHost::Production,
                "https://test.salesforce.com" => LoginHost::Sandbox,
                url => LoginHost::MyDomain(url.to_string()),
            }
        }
        (Some(Environment::Sandbox), None) => LoginHost::Sandbox,
        (Some(Environment::Production), None) | (None, None) => LoginHost::Production,
    };

    if spec.auth.client_credentials.is_some() && !matches!(login, LoginHost::MyDomain(_)) {
        return Err(ResolveError::invalid(
            "spec.loginUrl",
            CLIENT_CREDENTIALS_NEED_MY_DOMAIN,
        ));
    }
    let auth = resolve_auth(spec, secrets, &namespace)?;

    let window_start = now
        .checked_sub(signed(lookback))
        .map_err(|_| ResolveError::invalid("spec.auditLookback", "too long"))?;
    let watermark = match obj
        .status
        .as_ref()
        .and_then(|s| s.audit_watermark.as_deref())
    {
        Some(w) => Some(w.parse::<Timestamp>().map_err(|_| {
            ResolveError::invalid(
                "status.auditWatermark",
                format!("`{w}` is not an RFC 3339 time"),
            )
        })?),
        None => None,
    };
    let audit_since = match watermark {
        Some(w) if w > window_start => w,
        _ => window_start,
    };

    let mut salesforce = SalesforceConfig::new(login, auth, audit_since);
    if let Some(v) = &spec.api_version {
        salesforce.api_version = v.clone();
    }
    if let Some(pct) = spec.max_api_usage_percent {
        salesforce.max_api_usage_share = f64::from(pct) / 100.0;
    }
    if let Some(l) = &spec.rules.health_check_labels {
        if let Some(v) = &l.lock_sessions_to_ip {
            salesforce.health_check_labels.lock_sessions_to_ip = v.trim().to_string();
        }
        if let Some(v) = &l.enforce_ip_ranges {
            salesforce.health_check_labels.enforce_ip_ranges = v.trim().to_string();
        }
    }
    salesforce.jwt_audience = spec
        .auth
        .jwt_bearer
        .as_ref()
        .and_then(|j| j.audience.as_deref())
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string);

    Ok(IntegrationPlan {
        name,
        namespace,
        salesforce,
        policy: policy(spec)?,
        identity_providers: spec
            .identity_provider_refs
            .iter()
            .map(|r| r.name.clone())
            .collect(),
        interval,
        event_retention,
        max_findings: spec.findings.max_findings,
        audit_window_start: window_start,
    })
}

fn resolve_auth(
    spec: &SalesforceIntegrationSpec,
    secrets: &dyn SecretSource,
    ns: &str,
) -> Result<SalesforceAuth, ResolveError> {
    let a = &spec.auth;
    let set = [
        a.refresh_token.is_some(),
        a.jwt_bearer.is_some(),
        a.client_credentials.is_some(),
    ]
    .into_iter()
    .filter(|x| *x)
    .count();
    if set != 1 {
        return Err(ResolveError::invalid(
            "spec.auth",
            "set exactly one of refreshToken, jwtBearer, clientCredentials",
        ));
    }
    if let Some(r) = &a.refresh_token {
        return Ok(SalesforceAuth::RefreshToken {
            client_id: read_plain(secrets, ns, "spec.auth.refreshToken.clientId", &r.client_id)?,
            client_secret: r
                .client_secret
                .as_ref()
                .map(|s| read(secrets, ns, "spec.auth.refreshToken.clientSecret", s))
                .transpose()?,
            refresh_token: read(
                secrets,
                ns,
                "spec.auth.refreshToken.refreshToken",
                &r.refresh_token,
            )?,
        });
    }
    if let Some(j) = &a.jwt_bearer {
        let key = read(
            secrets,
            ns,
            "spec.auth.jwtBearer.privateKey",
            &j.private_key,
        )?;
        if !key.expose().contains("PRIVATE KEY-----") {
            return Err(ResolveError::invalid(
                "spec.auth.jwtBearer.privateKey",
                "the Secret value is not a PEM private key (expected -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)",
            ));
        }
        return Ok(SalesforceAuth::JwtBearer {
            client_id: read_plain(secrets, ns, "spec.auth.jwtBearer.clientId", &j.client_id)?,
            username: j.username.trim().to_string(),
            private_key_pem: key,
        });
    }
    let c = a
        .client_credentials
        .as_ref()
        .expect("one auth method is set");
    Ok(SalesforceAuth::ClientCredentials {
        client_id: read_plain(
            secrets,
            ns,
            "spec.auth.clientCredentials.clientId",
            &c.client_id,
        )?,
        client_secret: read(
            secrets,
            ns,
            "spec.auth.clientCredentials.clientSecret",
            &c.client_secret,
        )?,
    })
}

fn policy(spec: &SalesforceIntegrationSpec) -> Result<Policy, ResolveError> {
    let rules = &spec.rules;
    let mut policy = Policy::default();
    if let Some(p) = &rules.admin_profiles {
        if p.is_empty() {
            return Err(ResolveError::invalid(
                "spec.rules.adminProfiles",
                "must name at least one profile (omit it for the default, System Administrator)",
            ));
        }
        policy.admin_profiles = p.clone();
    }
    if let Some(t) = &rules.idp_user_types {
        policy.idp_user_types = t.clone();
    }
    if let Some(p) = &rules.excluded_profiles {
        policy.excluded_profiles = p.clone();
    }
    policy.disabled_rules = rules.disabled.iter().map(|r| rule_id(*r)).collect();
    policy.severity_overrides = rules
        .severity_overrides
        .iter()
        .map(|o| (rule_id(o.rule), severity(o.severity)))
        .collect();
    policy.domain_aliases = rules
        .domain_aliases
        .iter()
        .map(|a| {
            (
                a.domain.trim().to_lowercase(),
                a.same_as.trim().to_lowercase(),
            )
        })
        .collect();
    if let Some(pct) = rules.idp_shrink_percent {
        policy.idp_shrink_threshold = f64::from(pct) / 100.0;
    }
    if let Some(m) = rules.match_personal_addresses {
        policy.match_personal_addresses = m;
    }
    if let Some(m) = &rules.export_matchers {
        let lists = [
            (&m.sections, &mut policy.export_sections, "sections"),
            (&m.actions, &mut policy.export_actions, "actions"),
            (
                &m.display_contains,
                &mut policy.export_display_contains,
                "displayContains",
            ),
        ];
        for (given, target, name) in lists {
            if let Some(v) = given {
                if v.iter().any(|s| s.trim().is_empty()) {
                    return Err(ResolveError::invalid(
                        format!("spec.rules.exportMatchers.{name}"),
                        "contains an empty entry, which would match every row",
                    ));
                }
                *target = v.clone();
            }
        }
    }
    policy.exclusions = spec
        .exclusions
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let field = format!("spec.exclusions[{i}]");
            if e.users.iter().any(|u| u.trim().is_empty()) {
                return Err(ResolveError::invalid(
                    format!("{field}.users"),
                    "contains an empty entry",
                ));
            }
            if e.reason.trim().is_empty() {
                return Err(ResolveError::invalid(
                    format!("{field}.reason"),
                    "must say why the exclusion exists",
                ));
            }
            let expires = e
                .expires
                .as_deref()
                .map(|d| {
                    d.parse::<jiff::civil::Date>().map_err(|_| {
                        ResolveError::invalid(
                            format!("{field}.expires"),
                            format!("`{d}` is not a calendar date (YYYY-MM-DD)"),
                        )
                    })
                })
                .transpose()?;
            Ok(Exclusion {
                rule: e.rule.map(rule_id),
                users: e.users.clone(),
                reason: e.reason.clone(),
                expires,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(policy)
}

pub(crate) fn rule_id(r: RuleName) -> RuleId {
    match r {
        RuleName::AdminNotInIdp => RuleId::AdminNotInIdp,
        RuleName::UserNotInIdp => RuleId::UserNotInIdp,
        RuleName::StaleActiveUser => RuleId::StaleActiveUser,
        RuleName::ConnectedAppUnknownUser => RuleId::ConnectedAppUnknownUser,
        RuleName::AdminModifyAllData => RuleId::AdminModifyAllData,
        RuleName::AdminViewAllData => RuleId::AdminViewAllData,
        RuleName::SessionIpNotEnforced => RuleId::SessionIpNotEnforced,
        RuleName::BulkDataExport => RuleId::BulkDataExport,
        RuleName::DataExportByNonAdmin => RuleId::DataExportByNonAdmin,
    }
}

fn severity(s: SeverityName) -> Severity {
    match s {
        SeverityName::Critical => Severity::Critical,
        SeverityName::High => Severity::High,
        SeverityName::Medium => Severity::Medium,
        SeverityName::Low => Severity::Low,
    }
}

fn signed(d: Duration) -> jiff::SignedDuration {
    jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX)
}
