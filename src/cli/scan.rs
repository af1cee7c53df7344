//! `idgap scan`: manifests → resolve → sync each linked IdP once → scan each integration →
//! print. Everything is resolved before the first request, so a typo fails fast.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use futures::{StreamExt, stream};

use idgap_model::{OrgSnapshot, Severity};
use idgap_net::{HostPolicy, HostPolicyError, Http, RetryPolicy};
use jiff::Timestamp;

use super::manifests::{Located, ManifestError, Manifests, Origin, one_line};
use super::progress::Progress;
use super::{ScanArgs, exit_code};
use crate::output::{
    self, DirectorySummary, ExcludedFinding, FailedIntegration, IntegrationReport, Inventory,
    Report, SkippedRule,
};
use crate::pipeline::{self, DirectoryState};
use crate::resolve::{
    IdentityProviderPlan, IntegrationPlan, ResolveError, SecretMap, resolve_identity_provider,
    resolve_integration,
};
use crate::resources::SalesforceIntegration;

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// `at` is e.g. `security.yaml:12: SalesforceIntegration security/acme-prod`.
    #[error("{at}: {error}")]
    Resolve {
        at: String,
        error: Box<ResolveError>,
    },
    #[error(
        "{origin}: SalesforceIntegration {namespace}/{name}: spec.identityProviderRefs[{index}].name: IdentityProvider `{idp}` is not in namespace `{namespace}` in the given manifests; add it or fix the reference"
    )]
    MissingIdentityProvider {
        origin: Origin,
        namespace: String,
        name: String,
        index: usize,
        idp: String,
    },
    #[error(
        "no SalesforceIntegration in the given manifests; nothing to scan (see `idgap sim` for an example set)"
    )]
    NoIntegrations,
    #[error("--integration `{0}` matches no SalesforceIntegration in the manifests")]
    UnknownIntegration(String),
    #[error("--allow-host: {0}")]
    HostPolicy(#[from] HostPolicyError),
}

pub async fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let manifests = Manifests::load(&args.files, args.strict)?;
    for note in &manifests.notes {
        super::emit::error_line(&format!("note: {note}"));
    }
    for w in &manifests.warnings {
        super::emit::error_line(&format!("warning: {w}"));
    }
    let policy = HostPolicy::vendors_only()
        .allow(&args.allow_hosts)
        .map_err(ScanError::from)?;
    for w in policy.broad_pattern_warnings() {
        super::emit::error_line(&format!("warning: {w}"));
    }
    let http = Http::new(policy, RetryPolicy::default(), args.timeout);
    let outcome = build_report(&manifests, &args.only, &http, Timestamp::now()).await?;
    super::emit::stdout(&output::render(&outcome.report, args.out.output))?;
    for w in &outcome.warnings {
        super::emit::error_line(&format!("warning: {w}"));
    }
    Ok(finish(
        &outcome.report,
        args.out.fail_on,
        args.allow_partial,
    ))
}

/// The exit code of a printed report, with one line on stderr when it is incomplete: 2
/// when an org could not be read, or when a rule that was asked for was not evaluated
/// (unless `allow_partial`); otherwise by `fail_on`. The line names each failed source with
/// its reason (the table says each reason once more; the rules' reasons are only there).
pub fn finish(report: &Report, fail_on: Option<Severity>, allow_partial: bool) -> ExitCode {
    if report.complete() {
        return exit_code(report.worst(), fail_on);
    }
    let mut parts: Vec<String> = report
        .failed_sources()
        .into_iter()
        .map(|f| format!("{} could not be read: {}", f.source, f.error))
        .collect();
    for i in &report.integrations {
        let rules: Vec<&str> = i.not_evaluated().map(|s| s.rule.as_str()).collect();
        if !rules.is_empty() {
            parts.push(format!(
                "{} rule{} not evaluated for {}/{} ({})",
                rules.len(),
                if rules.len() == 1 { "" } else { "s" },
                i.namespace,
                i.name,
                rules.join(", ")
            ));
        }
    }
    let accepted = allow_partial && report.failed.is_empty();
    let (label, tail) = if accepted {
        ("warning", "accepted by --allow-partial")
    } else if report.failed.is_empty() {
        (
            "error",
            "results not evaluated are missing, not fixed; pass --allow-partial to accept a partial scan",
        )
    } else if report.integrations.is_empty() {
        ("error", "nothing was scanned")
    } else {
        ("error", "the results of the other integrations are printed")
    };
    super::emit::error_line(&format!(
        "{label}: incomplete scan: {}; {tail}",
        one_line(&parts.join("; "))
    ));
    if accepted {
        exit_code(report.worst(), fail_on)
    } else {
        ExitCode::from(2)
    }
}

/// A finished scan over every selected integration.
pub struct ScanOutcome {
    pub report: Report,
    /// Things the user should know that do not make the scan fail.
    pub warnings: Vec<String>,
}

/// How many directories, and separately how many orgs, are read at once.
const CONCURRENT_READS: usize = 4;

struct Prepared<'a> {
    source: &'a Located<SalesforceIntegration>,
    plan: IntegrationPlan,
    /// (namespace, name) of each linked IdentityProvider.
    idps: Vec<(String, String)>,
}

/// Resolves, syncs and detects for every integration in `manifests` (or those named in
/// `only`). Shared by `scan` and `demo`.
pub async fn build_report(
    manifests: &Manifests,
    only: &[String],
    http: &Http,
    now: Timestamp,
) -> Result<ScanOutcome, ScanError> {
    let selected = select(manifests, only)?;
    let mut secret_maps: BTreeMap<String, SecretMap> = BTreeMap::new();
    let mut secrets_for = |ns: &str| -> SecretMap {
        secret_maps
            .entry(ns.to_string())
            .or_insert_with(|| {
                let mut map = SecretMap::new(ns);
                for s in manifests.secrets_in(ns) {
                    map.add_secret(&s.name);
                    for (k, v) in &s.object.values {
                        map.insert(&s.name, k, v.clone());
                    }
                }
                map
            })
            .clone()
    };

    // Resolve everything first: no request is made for a configuration that cannot run.
    let mut prepared = Vec::new();
    let mut idp_plans: BTreeMap<(String, String), IdentityProviderPlan> = BTreeMap::new();
    for source in selected {
        let secrets = secrets_for(&source.namespace);
        let plan = resolve_integration(&with_identity(source), &secrets, now).map_err(|e| {
            ScanError::Resolve {
                at: format!(
                    "{}: SalesforceIntegration {}/{}",
                    source.origin, source.namespace, source.name
                ),
                error: Box::new(e),
            }
        })?;
        let mut idps = Vec::new();
        for (index, r) in source.object.spec.identity_provider_refs.iter().enumerate() {
            let Some(idp) = manifests.identity_provider(&source.namespace, &r.name) else {
                return Err(ScanError::MissingIdentityProvider {
                    origin: source.origin.clone(),
                    namespace: source.namespace.clone(),
                    name: source.name.clone(),
                    index,
                    idp: r.name.clone(),
                });
            };
            let key = (idp.namespace.clone(), idp.name.clone());
            if !idp_plans.contains_key(&key) {
                let secrets = secrets_for(&idp.namespace);
                let mut obj = idp.object.clone();
                obj.metadata.name = Some(idp.name.clone());
                obj.metadata.namespace = Some(idp.namespace.clone());
                let plan =
                    resolve_identity_provider(&obj, &secrets).map_err(|e| ScanError::Resolve {
                        at: format!(
                            "{}: IdentityProvider {}/{}",
                            idp.origin, idp.namespace, idp.name
                        ),
                        error: Box::new(e),
                    })?;
                idp_plans.insert(key.clone(), plan);
            }
            idps.push(key);
        }
        prepared.push(Prepared { source, plan, idps });
    }

    // Each directory is read once, however many integrations link it. The directories and
    // the orgs are independent reads, so they all run at once (a few at a time, to bound
    // memory); detection runs when both sides are in.
    let progress = Progress::start("Reading identity providers and Salesforce orgs…");
    let read_directories = stream::iter(&idp_plans)
        .map(|(key, plan)| async move { (key, pipeline::sync_directory(http, plan).await) })
        .buffered(CONCURRENT_READS)
        .collect::<Vec<_>>();
    let read_orgs = stream::iter(&prepared)
        .map(|p| pipeline::sync_org(http, &p.plan))
        .buffered(CONCURRENT_READS)
        .collect::<Vec<_>>();
    let (directory_results, org_results) = tokio::join!(read_directories, read_orgs);

    let mut directories: BTreeMap<(String, String), (DirectoryState, u64)> = BTreeMap::new();
    for (key, result) in directory_results {
        let plan = &idp_plans[key];
        let (result, requests) = match result {
            Ok(snapshot) => {
                let requests = snapshot.requests;
                (Ok(Arc::new(snapshot)), requests)
            }
            Err(e) => (Err(one_line(&e.to_string())), 0),
        };
        directories.insert(
            key.clone(),
            (
                DirectoryState {
                    name: plan.name.clone(),
                    provider: plan.config.provider(),
                    result,
                    last_good_accounts: None,
                },
                requests,
            ),
        );
    }

    let mut report = Report::default();
    let mut warnings = Vec::new();
    for (p, synced) in prepared.into_iter().zip(org_results) {
        progress.set(&format!("Detecting for {}…", p.source.name));
        let states: Vec<DirectoryState> = p.idps.iter().map(|k| directories[k].0.clone()).collect();
        let sync = match synced {
            Ok(sync) => sync,
            Err(e) => {
                // The other integrations' results still count: report this one as failed.
                report.failed.push(FailedIntegration {
                    name: p.source.name.clone(),
                    namespace: p.source.namespace.clone(),
                    manifest: Some(p.source.origin.file.clone()),
                    manifest_line: Some(p.source.origin.line),
                    error: one_line(&e.to_string()),
                });
                continue;
            }
        };
        let detection = pipeline::detect(&p.plan, &sync, &states, now);
        if sync.rotated_refresh_token.is_some() {
            warnings.push(format!(
                "SalesforceIntegration {}/{}: Salesforce rotated the refresh token during this scan; the one in your Secret may no longer work. Run `idgap connect salesforce` again to get a new one.",
                p.source.namespace, p.source.name
            ));
        }
        let snapshot = &sync.snapshot;
        let summaries = p
            .idps
            .iter()
            .map(|k| {
                let (state, requests) = &directories[k];
                DirectorySummary {
                    name: state.name.clone(),
                    provider: state.provider,
                    accounts: state
                        .result
                        .as_ref()
                        .map(|s| s.accounts.len())
                        .map_err(|e| e.clone()),
                    requests: *requests,
                }
            })
            .collect();
        report.integrations.push(IntegrationReport {
            name: p.source.name.clone(),
            namespace: p.source.namespace.clone(),
            manifest: Some(p.source.origin.file.clone()),
            manifest_line: Some(p.source.origin.line),
            org: snapshot.org.clone(),
            findings: detection.findings,
            excluded: detection
                .excluded
                .into_iter()
                .map(|e| ExcludedFinding {
                    expires: p
                        .plan
                        .policy
                        .exclusions
                        .get(e.exclusion)
                        .and_then(|x| x.expires)
                        .map(|d| d.to_string()),
                    finding: e.finding,
                    reason: e.reason,
                })
                .collect(),
            skipped: detection
                .skipped
                .into_iter()
                .map(|s| SkippedRule {
                    disabled: p.plan.policy.disabled_rules.contains(&s.rule),
                    rule: s.rule.as_str().to_string(),
                    reason: s.reason,
                })
                .collect(),
            missing_permissions: crate::operator::status::describe_each(snapshot),
            rules_evaluated: detection.evaluated,
            inventory: inventory(snapshot, &p.plan),
            api_usage: snapshot.api_usage,
            directories: summaries,
        });
    }
    progress.finish();
    Ok(ScanOutcome { report, warnings })
}

fn select<'a>(
    manifests: &'a Manifests,
    only: &[String],
) -> Result<Vec<&'a Located<SalesforceIntegration>>, ScanError> {
    if manifests.integrations.is_empty() {
        return Err(ScanError::NoIntegrations);
    }
    if only.is_empty() {
        return Ok(manifests.integrations.iter().collect());
    }
    let mut out = Vec::new();
    for want in only {
        let (ns, name) = match want.split_once('/') {
            Some((ns, name)) => (Some(ns), name),
            None => (None, want.as_str()),
        };
        let found: Vec<_> = manifests
            .integrations
            .iter()
            .filter(|i| i.name == name && ns.is_none_or(|ns| ns == i.namespace))
            .collect();
        if found.is_empty() {
            return Err(ScanError::UnknownIntegration(want.clone()));
        }
        // `--integration a --integration ns/a` names one integration: scan it once.
        for i in found {
            if !out
                .iter()
                .any(|o: &&Located<SalesforceIntegration>| std::ptr::eq(*o, i))
            {
                out.push(i);
            }
        }
    }
    Ok(out)
}

/// The object with its name and namespace as the manifest loader settled them (a missing
/// namespace means `default`).
fn with_identity(source: &Located<SalesforceIntegration>) -> SalesforceIntegration {
    let mut obj = source.object.clone();
    obj.metadata.name = Some(source.name.clone());
    obj.metadata.namespace = Some(source.namespace.clone());
    obj
}

fn inventory(snapshot: &OrgSnapshot, plan: &IntegrationPlan) -> Inventory {
    Inventory {
        users: snapshot.users.len() as u64,
        active_users: snapshot.users.iter().filter(|u| u.is_active).count() as u64,
        admins: idgap_detect::Admins::new(snapshot, &plan.policy).count_active(snapshot) as u64,
        connected_app_grants: snapshot.oauth_grants.len() as u64,
        audit_events: snapshot.audit_events.len() as u64,
    }
}
