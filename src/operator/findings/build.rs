use std::collections::{BTreeMap, HashSet};

use idgap_model::{Finding, RuleId, Severity, SubjectKind, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use sha2::Digest;

use crate::operator::{INTEGRATION_LABEL, RULE_LABEL, SEVERITY_LABEL, SPEC_HASH_ANNOTATION};
use crate::redact_value::{Strength, redacted_as};
use crate::resources::{AccessFinding, AccessFindingSpec, FindingSubject};

/// The SalesforceIntegration that owns the findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub name: String,
    pub namespace: String,
    pub uid: String,
}

impl Owner {
    fn reference(&self) -> OwnerReference {
        OwnerReference {
            api_version: format!("{}/{}", crate::resources::GROUP, crate::resources::VERSION),
            kind: "SalesforceIntegration".to_string(),
            name: self.name.clone(),
            uid: self.uid.clone(),
            controller: Some(true),
            // Deleting the integration must not wait for thousands of findings.
            block_owner_deletion: Some(false),
        }
    }
}

/// One AccessFinding as it should exist.
#[derive(Debug, Clone)]
pub struct DesiredFinding {
    pub name: String,
    pub rule: RuleId,
    pub severity: Severity,
    pub occurred_at: Option<Timestamp>,
    /// Hash of everything we write (spec, labels, owner); unchanged hash → no write.
    pub hash: String,
    pub object: AccessFinding,
}

#[derive(Debug, Clone)]
pub struct Built {
    /// Most severe first.
    pub desired: Vec<DesiredFinding>,
    /// Findings left out because of `findings.maxFindings`.
    pub truncated: usize,
}

/// Builds the desired AccessFindings: most severe first, at most `max` of them. `name_of`
/// gives the deterministic object name (`idgap_detect::finding_name`).
pub fn build(
    owner: &Owner,
    findings: &[Finding],
    max: usize,
    name_of: impl Fn(&Finding) -> String,
) -> Built {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by(|a, b| a.severity.cmp(&b.severity).then_with(|| a.key.cmp(&b.key)));
    let mut seen = HashSet::new();
    let mut desired = Vec::new();
    let mut truncated = 0;
    for f in sorted {
        let name = name_of(f);
        if !seen.insert(name.clone()) {
            continue;
        }
        if desired.len() >= max {
            truncated += 1;
            continue;
        }
        desired.push(one(owner, f, name));
    }
    Built { desired, truncated }
}

fn one(owner: &Owner, f: &Finding, name: String) -> DesiredFinding {
    let spec = AccessFindingSpec {
        integration: owner.name.clone(),
        rule: f.rule.as_str().to_string(),
        title: f.title.clone(),
        severity: f.severity.as_str().to_string(),
        category: f.category.as_str().to_string(),
        subject: FindingSubject {
            type_: subject_type(f.subject.kind).to_string(),
            display: f.subject.label(),
            salesforce_id: f.subject.salesforce_id.clone(),
            username: f.subject.username.clone(),
            email: f.subject.email.clone(),
            profile: f.subject.profile.clone(),
            app: f.subject.app.clone(),
        },
        evidence: f.evidence.clone(),
        remediation: f.remediation.clone(),
        occurred_at: f.occurred_at.map(|t| t.to_string()),
    };
    // Evidence quotes org data; a credential in it (an app named after a leaked token) goes.
    let spec = redacted_as(spec, Strength::KnownSecrets);
    let labels: BTreeMap<String, String> = [
        (INTEGRATION_LABEL, label_value(&owner.name)),
        (RULE_LABEL, f.rule.as_str().to_string()),
        (SEVERITY_LABEL, f.severity.as_str().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let owner_ref = owner.reference();
    let hash = spec_hash(&spec, &labels, &owner_ref);
    let object = AccessFinding {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(owner.namespace.clone()),
            labels: Some(labels),
            annotations: Some(BTreeMap::from([(
                SPEC_HASH_ANNOTATION.to_string(),
                hash.clone(),
            )])),
            owner_references: Some(vec![owner_ref]),
            ..ObjectMeta::default()
        },
        spec,
    };
    DesiredFinding {
        name,
        rule: f.rule,
        severity: f.severity,
        occurred_at: f.occurred_at,
        hash,
        object,
    }
}

/// Label values are at most 63 characters; longer integration names are cut and suffixed
/// with a hash so they stay unique.
pub fn label_value(name: &str) -> String {
    if name.len() <= 63 {
        return name.to_string();
    }
    let digest = hex::encode(sha2::Sha256::digest(name.as_bytes()));
    format!(
        "{}-{}",
        name[..54].trim_end_matches(['-', '.']),
        &digest[..8]
    )
}

fn subject_type(kind: Option<SubjectKind>) -> &'static str {
    match kind {
        Some(SubjectKind::User) | None => "User",
        Some(SubjectKind::OAuthGrant) => "OAuthGrant",
        Some(SubjectKind::Org) => "Org",
        Some(SubjectKind::AuditEvent) => "AuditEvent",
    }
}

/// A short, stable hash of what the operator writes for one finding. Serialisation of these
/// types is deterministic (struct field order, BTreeMaps), so equal content → equal hash.
pub fn spec_hash(
    spec: &AccessFindingSpec,
    labels: &BTreeMap<String, String>,
    owner: &OwnerReference,
) -> String {
    let mut h = sha2::Sha256::new();
    h.update(serde_json::to_vec(spec).expect("spec serialises"));
    h.update(serde_json::to_vec(labels).expect("labels serialise"));
    h.update(serde_json::to_vec(owner).expect("owner serialises"));
    hex::encode(h.finalize())[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn findings_fixture() -> Vec<Finding> {
        serde_yaml::from_str(
            r#"
- key: user-not-in-idp/005A
  rule: user-not-in-idp
  severity: high
  category: identity-gap
  title: Salesforce user not in IdP
  subject: { type: User, salesforceId: 005A, username: bob@acme.com, email: bob@acme.com, profile: Standard User }
  evidence: { matchedIdentifiers: none }
  remediation: Deactivate the user.
- key: admin-not-in-idp/005B
  rule: admin-not-in-idp
  severity: critical
  category: identity-gap
  title: Salesforce admin not in IdP
  subject: { type: User, salesforceId: 005B, username: eve@acme.com, profile: System Administrator }
  evidence: { profile: System Administrator }
  remediation: Suspend the account.
- key: session-ip-not-enforced/org
  rule: session-ip-not-enforced
  severity: medium
  category: session
  title: Session IP not enforced
  subject: { type: Org, salesforceId: 00D1 }
  evidence: { lockSessionsToIp: "false" }
  remediation: Lock sessions to IP.
- key: bulk-data-export/0Ym1
  rule: bulk-data-export
  severity: high
  category: data-export
  title: Data export
  subject: { type: AuditEvent, salesforceId: 0Ym1, username: amy@acme.com }
  evidence: { action: dataExport }
  remediation: Review the export.
  occurredAt: 2026-01-01T10:00:00Z
"#,
        )
        .unwrap()
    }

    fn owner() -> Owner {
        Owner {
            name: "acme-prod".into(),
            namespace: "security".into(),
            uid: "uid-1".into(),
        }
    }

    fn name_of(f: &Finding) -> String {
        format!(
            "acme-prod-{}-{}",
            f.rule.as_str(),
            f.key.rsplit('/').next().unwrap().to_lowercase()
        )
    }

    #[test]
    fn builds_objects_with_labels_owner_and_names_most_severe_first() {
        let built = build(&owner(), &findings_fixture(), 100, name_of);
        assert_eq!(built.truncated, 0);
        let names: Vec<&str> = built.desired.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "acme-prod-admin-not-in-idp-005b",
                "acme-prod-bulk-data-export-0ym1",
                "acme-prod-user-not-in-idp-005a",
                "acme-prod-session-ip-not-enforced-org"
            ]
        );
        let admin = &built.desired[0].object;
        let labels = admin.metadata.labels.as_ref().unwrap();
        assert_eq!(labels[INTEGRATION_LABEL], "acme-prod");
        assert_eq!(labels[RULE_LABEL], "admin-not-in-idp");
        assert_eq!(labels[SEVERITY_LABEL], "critical");
        assert_eq!(admin.metadata.namespace.as_deref(), Some("security"));
        let owners = admin.metadata.owner_references.as_ref().unwrap();
        assert_eq!(owners.len(), 1);
        assert_eq!(owners[0].kind, "SalesforceIntegration");
        assert_eq!(owners[0].api_version, "idgap.io/v1alpha1");
        assert_eq!(owners[0].name, "acme-prod");
        assert_eq!(owners[0].uid, "uid-1");
        assert_eq!(owners[0].controller, Some(true));
        assert_eq!(owners[0].block_owner_deletion, Some(false));
        assert_eq!(admin.spec.subject.display, "eve@acme.com");
        assert_eq!(admin.spec.subject.type_, "User");
        assert_eq!(admin.spec.integration, "acme-prod");
        assert_eq!(
            admin.metadata.annotations.as_ref().unwrap()[SPEC_HASH_ANNOTATION],
            built.desired[0].hash
        );
        let export = &built.desired[1];
        assert_eq!(
            export.object.spec.occurred_at.as_deref(),
            Some("2026-01-01T10:00:00Z")
        );
        assert_eq!(
            export.occurred_at,
            Some("2026-01-01T10:00:00Z".parse().unwrap())
        );
        assert_eq!(built.desired[3].object.spec.subject.type_, "Org");
        assert_eq!(built.desired[3].object.spec.subject.display, "00D1");
    }

    #[test]
    fn caps_most_severe_first() {
        let built = build(&owner(), &findings_fixture(), 2, name_of);
        assert_eq!(built.truncated, 2);
        let rules: Vec<RuleId> = built.desired.iter().map(|d| d.rule).collect();
        assert_eq!(rules, [RuleId::AdminNotInIdp, RuleId::BulkDataExport]);
    }

    #[test]
    fn spec_hash_is_stable_and_sensitive() {
        let a = build(&owner(), &findings_fixture(), 100, name_of);
        let mut reversed = findings_fixture();
        reversed.reverse();
        let b = build(&owner(), &reversed, 100, name_of);
        let key = |b: &Built| {
            b.desired
                .iter()
                .map(|d| (d.name.clone(), d.hash.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(key(&a), key(&b), "input order does not matter");
        let hashes: HashSet<&str> = a.desired.iter().map(|d| d.hash.as_str()).collect();
        assert_eq!(hashes.len(), 4);
        assert!(a.desired.iter().all(|d| d.hash.len() == 16));

        let mut changed = findings_fixture();
        changed[1].evidence.insert("extra".into(), "1".into());
        let c = build(&owner(), &changed, 100, name_of);
        assert_ne!(a.desired[0].hash, c.desired[0].hash);
        assert_eq!(a.desired[1].hash, c.desired[1].hash);

        let other_owner = Owner {
            uid: "uid-2".into(),
            ..owner()
        };
        let d = build(&other_owner, &findings_fixture(), 100, name_of);
        assert_ne!(
            a.desired[0].hash, d.desired[0].hash,
            "a recreated owner rewrites"
        );
    }

    #[test]
    fn long_integration_names_fit_in_labels() {
        let long = "a".repeat(100);
        let v = label_value(&long);
        assert!(v.len() <= 63);
        assert_ne!(label_value(&format!("{long}x")), v);
        assert_eq!(label_value("short"), "short");
    }
}
