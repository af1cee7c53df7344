//! Prometheus metrics (prometheus-client), served on `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::resources::Condition;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ObjectLabels {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProviderLabels {
    pub provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FindingLabels {
    pub namespace: String,
    pub integration: String,
    pub severity: String,
    pub rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConditionLabels {
    pub kind: String,
    pub name: String,
    pub namespace: String,
    #[prometheus(flatten)]
    pub inner: ConditionTypeStatus,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConditionTypeStatus {
    pub r#type: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub kind: String,
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OpLabels {
    pub op: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

pub struct Metrics {
    pub registry: Registry,
    sync_duration: Family<ObjectLabels, Histogram>,
    api_requests: Family<ProviderLabels, Counter>,
    findings: Family<FindingLabels, Gauge>,
    conditions: Family<ConditionLabels, Gauge>,
    reconcile_errors: Family<ErrorLabels, Counter>,
    finding_writes: Family<OpLabels, Counter>,
    syncs: Family<KindLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("idgap");
        let sync_duration = Family::<ObjectLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.05, 2.0, 14))
        });
        let api_requests = Family::<ProviderLabels, Counter>::default();
        let findings = Family::<FindingLabels, Gauge>::default();
        let conditions = Family::<ConditionLabels, Gauge>::default();
        let reconcile_errors = Family::<ErrorLabels, Counter>::default();
        let finding_writes = Family::<OpLabels, Counter>::default();
        let syncs = Family::<KindLabels, Counter>::default();
        registry.register(
            "sync_duration_seconds",
            "Duration of one sync (Salesforce org or directory), including detection and apply",
            sync_duration.clone(),
        );
        registry.register(
            "api_requests",
            "HTTP requests made to Salesforce and the identity providers",
            api_requests.clone(),
        );
        registry.register(
            "findings",
            "AccessFindings by integration, severity and rule",
            findings.clone(),
        );
        registry.register(
            "condition",
            "Status conditions of idgap resources (1 for the current status)",
            conditions.clone(),
        );
        registry.register(
            "reconcile_errors",
            "Failed syncs and reconciles by reason",
            reconcile_errors.clone(),
        );
        registry.register(
            "finding_writes",
            "AccessFinding writes by operation; an unchanged re-sync writes none",
            finding_writes.clone(),
        );
        registry.register("syncs", "Syncs started, by kind", syncs.clone());
        Metrics {
            registry,
            sync_duration,
            api_requests,
            findings,
            conditions,
            reconcile_errors,
            finding_writes,
            syncs,
        }
    }

    pub fn observe_sync(&self, kind: &str, namespace: &str, name: &str, seconds: f64) {
        self.sync_duration
            .get_or_create(&ObjectLabels {
                kind: kind.into(),
                namespace: namespace.into(),
                name: name.into(),
            })
            .observe(seconds);
        self.syncs
            .get_or_create(&KindLabels { kind: kind.into() })
            .inc();
    }

    pub fn api_requests(&self, provider: &str, n: u64) {
        self.api_requests
            .get_or_create(&ProviderLabels {
                provider: provider.into(),
            })
            .inc_by(n);
    }

    pub fn reconcile_error(&self, kind: &str, reason: &str) {
        self.reconcile_errors
            .get_or_create(&ErrorLabels {
                kind: kind.into(),
                reason: reason.into(),
            })
            .inc();
    }

    pub fn finding_write(&self, op: &str) {
        self.finding_writes
            .get_or_create(&OpLabels { op: op.into() })
            .inc();
    }

    /// Total AccessFinding writes of one operation (`create`, `update`, `delete`).
    pub fn finding_writes(&self, op: &str) -> u64 {
        self.finding_writes
            .get(&OpLabels { op: op.into() })
            .map(|c| c.get())
            .unwrap_or(0)
    }

    pub fn syncs(&self, kind: &str) -> u64 {
        self.syncs
            .get(&KindLabels { kind: kind.into() })
            .map(|c| c.get())
            .unwrap_or(0)
    }

    /// Replaces the findings gauge of one integration with `counts` (rule, severity) → n.
    pub fn set_findings(
        &self,
        namespace: &str,
        integration: &str,
        counts: &[(String, String, i64)],
    ) {
        // Zero every series of this integration first, then set the current ones.
        for (rule, severity) in idgap_model::RuleId::ALL.iter().flat_map(|r| {
            idgap_model::Severity::ALL
                .iter()
                .map(move |s| (r.as_str(), s.as_str()))
        }) {
            let labels = FindingLabels {
                namespace: namespace.into(),
                integration: integration.into(),
                severity: severity.into(),
                rule: rule.into(),
            };
            if self.findings.get(&labels).is_some() {
                self.findings.get_or_create(&labels).set(0);
            }
        }
        for (rule, severity, n) in counts {
            self.findings
                .get_or_create(&FindingLabels {
                    namespace: namespace.into(),
                    integration: integration.into(),
                    severity: severity.clone(),
                    rule: rule.clone(),
                })
                .set(*n);
        }
    }

    pub fn set_conditions(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        conditions: &[Condition],
    ) {
        for c in conditions {
            for status in ["True", "False", "Unknown"] {
                self.conditions
                    .get_or_create(&ConditionLabels {
                        kind: kind.into(),
                        name: name.into(),
                        namespace: namespace.into(),
                        inner: ConditionTypeStatus {
                            r#type: c.type_.clone(),
                            status: status.into(),
                        },
                    })
                    .set(i64::from(c.status == status));
            }
        }
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_the_documented_names() {
        let m = Metrics::new();
        m.finding_write("create");
        m.api_requests("okta", 3);
        m.reconcile_error("SalesforceIntegration", "SecretNotFound");
        m.observe_sync("SalesforceIntegration", "ns", "acme", 0.2);
        m.set_findings(
            "ns",
            "acme",
            &[("admin-not-in-idp".into(), "critical".into(), 2)],
        );
        m.set_conditions(
            "SalesforceIntegration",
            "ns",
            "acme",
            &[Condition {
                type_: "Ready".into(),
                status: "True".into(),
                reason: "Succeeded".into(),
                message: String::new(),
                last_transition_time: "2026-01-01T00:00:00Z".into(),
                observed_generation: None,
            }],
        );
        let text = m.encode();
        for needle in [
            "idgap_finding_writes_total{op=\"create\"} 1",
            "idgap_api_requests_total{provider=\"okta\"} 3",
            "idgap_reconcile_errors_total{kind=\"SalesforceIntegration\",reason=\"SecretNotFound\"} 1",
            "idgap_sync_duration_seconds_count{kind=\"SalesforceIntegration\",namespace=\"ns\",name=\"acme\"} 1",
            "idgap_findings{namespace=\"ns\",integration=\"acme\",severity=\"critical\",rule=\"admin-not-in-idp\"} 2",
            "idgap_condition{kind=\"SalesforceIntegration\",name=\"acme\",namespace=\"ns\",type=\"Ready\",status=\"True\"} 1",
            "idgap_condition{kind=\"SalesforceIntegration\",name=\"acme\",namespace=\"ns\",type=\"Ready\",status=\"False\"} 0",
        ] {
            assert!(text.contains(needle), "missing {needle} in\n{text}");
        }
        assert_eq!(m.finding_writes("create"), 1);
        assert_eq!(m.finding_writes("delete"), 0);
    }
}
