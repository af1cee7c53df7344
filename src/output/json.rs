//! `--output json`: one document, camelCase, findings of every integration in one list.

use idgap_model::{ApiUsage, Finding};
use serde_json::{Map, Value, json};

use super::report::{IntegrationReport, Inventory, Report};

pub fn render(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(&document(report)).expect("JSON values serialize");
    out.push('\n');
    out
}

pub(crate) fn document(report: &Report) -> Value {
    let findings: Vec<Value> = report.findings().map(|(i, f)| finding_json(i, f)).collect();
    let excluded: Vec<Value> = report
        .integrations
        .iter()
        .flat_map(|i| {
            i.excluded.iter().map(move |e| {
                let mut v = finding_json(i, &e.finding);
                let obj = v.as_object_mut().expect("finding is an object");
                obj.insert("exclusionReason".into(), e.reason.clone().into());
                if let Some(exp) = &e.expires {
                    obj.insert("exclusionExpires".into(), exp.clone().into());
                }
                v
            })
        })
        .collect();
    let skipped: Vec<Value> = report
        .integrations
        .iter()
        .flat_map(|i| {
            i.skipped.iter().map(move |s| {
                json!({"integration": i.name, "rule": s.rule, "reason": s.reason, "disabled": s.disabled})
            })
        })
        .collect();
    let t = report.totals();
    let mut doc = Map::new();
    // False when an org or an IdP was not read or a rule asked for was not evaluated: a
    // finding missing from such a run may simply not have been looked for.
    doc.insert("complete".into(), report.complete().into());
    doc.insert("findings".into(), findings.into());
    doc.insert("excluded".into(), excluded.into());
    doc.insert("skippedRules".into(), skipped.into());
    doc.insert(
        "summary".into(),
        json!({
            "critical": t.critical, "high": t.high, "medium": t.medium, "low": t.low,
            "total": t.total(), "excluded": t.excluded,
        }),
    );
    let inventory = report
        .integrations
        .iter()
        .fold(Inventory::default(), |a, i| Inventory {
            users: a.users + i.inventory.users,
            active_users: a.active_users + i.inventory.active_users,
            admins: a.admins + i.inventory.admins,
            connected_app_grants: a.connected_app_grants + i.inventory.connected_app_grants,
            audit_events: a.audit_events + i.inventory.audit_events,
        });
    doc.insert("inventory".into(), inventory_json(&inventory));
    if let ([only], []) = (report.integrations.as_slice(), report.failed.as_slice()) {
        doc.insert("org".into(), org_json(only));
        doc.insert("apiUsage".into(), api_usage_json(&only.api_usage));
    } else {
        let calls: u64 = report
            .integrations
            .iter()
            .map(|i| i.api_usage.calls_this_sync)
            .sum();
        doc.insert("apiUsage".into(), json!({ "callsThisRun": calls }));
    }
    doc.insert(
        "integrations".into(),
        report
            .integrations
            .iter()
            .map(integration_json)
            .collect::<Vec<_>>()
            .into(),
    );
    doc.insert(
        "failedIntegrations".into(),
        report
            .failed
            .iter()
            .map(|f| {
                json!({
                    "name": f.name,
                    "namespace": f.namespace,
                    "manifest": f.manifest.as_ref().map(|p| p.display().to_string()),
                    "error": f.error,
                })
            })
            .collect::<Vec<_>>()
            .into(),
    );
    Value::Object(doc)
}

fn finding_json(integration: &IntegrationReport, f: &Finding) -> Value {
    let s = &f.subject;
    let subject_type = s.kind.map(|k| format!("{k:?}"));
    json!({
        "integration": integration.name,
        "rule": f.rule.as_str(),
        "severity": f.severity.as_str(),
        "category": f.category.as_str(),
        "title": f.title,
        "subject": {
            "type": subject_type,
            "salesforceId": s.salesforce_id,
            "username": s.username,
            "email": s.email,
            "profile": s.profile,
            "app": s.app,
        },
        "evidence": f.evidence,
        "remediation": f.remediation,
        "occurredAt": f.occurred_at.map(|t| t.to_string()),
        "key": f.key,
    })
}

fn inventory_json(i: &Inventory) -> Value {
    json!({
        "users": i.users,
        "activeUsers": i.active_users,
        "admins": i.admins,
        "connectedAppGrants": i.connected_app_grants,
        "auditEvents": i.audit_events,
    })
}

fn org_json(i: &IntegrationReport) -> Value {
    json!({
        "id": i.org.id,
        "instanceUrl": i.org.instance_url,
        "sandbox": i.org.sandbox,
        "apiVersion": i.org.api_version,
    })
}

fn api_usage_json(u: &ApiUsage) -> Value {
    json!({ "callsThisRun": u.calls_this_sync, "used": u.used, "limit": u.limit })
}

fn integration_json(i: &IntegrationReport) -> Value {
    let t = i.totals();
    json!({
        "name": i.name,
        "namespace": i.namespace,
        "manifest": i.manifest.as_ref().map(|p| p.display().to_string()),
        "org": org_json(i),
        "summary": {
            "critical": t.critical, "high": t.high, "medium": t.medium, "low": t.low,
            "total": t.total(), "excluded": t.excluded,
        },
        "complete": i.not_evaluated().next().is_none(),
        "rulesEvaluated": i.rules_evaluated.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "inventory": inventory_json(&i.inventory),
        "apiUsage": api_usage_json(&i.api_usage),
        "identityProviders": i.directories.iter().map(|d| json!({
            "name": d.name,
            "provider": d.provider.as_str(),
            "accounts": d.accounts.as_ref().ok(),
            "error": d.accounts.as_ref().err(),
            "requests": d.requests,
        })).collect::<Vec<_>>(),
    })
}
