//! The same org read in English, German, French and Japanese gives the same findings:
//! admins are recognised by the profile API name (and Modify All Data), never by the
//! translated `Profile.Name`.

mod common;

use common::*;
use idgap_detect::{DirectoryInput, Policy, detect};
use idgap_model::{AccountStatus, DirectorySnapshot, IdpAccount, ProviderKind, RuleId, Severity};
use idgap_salesforce::sync;
use idgap_sim::salesforce::{Language, SimOptions};
use jiff::Timestamp;

fn directory(logins: &[&str], now: Timestamp) -> DirectorySnapshot {
    DirectorySnapshot {
        provider: ProviderKind::Okta,
        name: "okta".into(),
        accounts: logins
            .iter()
            .enumerate()
            .map(|(i, l)| IdpAccount {
                id: format!("00u{i}"),
                login: l.to_string(),
                identifiers: vec![l.to_string()],
                status: AccountStatus::Active,
                raw_status: "ACTIVE".into(),
                other_ids: Vec::new(),
                personal_addresses: Vec::new(),
            })
            .collect(),
        read_at: now,
        requests: 1,
    }
}

async fn findings_in(language: Language, now: Timestamp) -> Vec<(RuleId, String, Severity)> {
    let (mut org, s) = scenario(now);
    // An export by the System Administrator: an admin in every language.
    org.add_audit(
        "dataExport",
        "Data Export",
        "Requested an export",
        now - jiff::SignedDuration::from_hours(2),
        Some(s.admin),
    );
    let chatter = org.add_profile("Chatter Free User");
    org.add_user("chatter@acme.com", chatter, days_ago(now, 10));
    let sim = start(org.in_language(language), SimOptions::default()).await;
    let snap = sync(&http(), &refresh_config(&sim, days_ago(now, 7)))
        .await
        .unwrap()
        .snapshot;
    assert!(snap.gaps.is_empty(), "{:?}", snap.gaps);
    // Everyone but the admin is in the IdP.
    let dir = directory(
        &[
            "integration@acme.com",
            "steward@acme.com",
            "ops@acme.com",
            "frozen@acme.com",
        ],
        now,
    );
    let inputs = [DirectoryInput {
        name: "okta",
        provider: ProviderKind::Okta,
        result: Ok(&dir),
        last_good_accounts: None,
    }];
    let d = detect(&snap, &inputs, &Policy::default(), now, days_ago(now, 7));
    assert!(
        d.skipped.is_empty(),
        "{language:?}: every rule evaluated: {:?}",
        d.skipped
    );
    d.findings
        .into_iter()
        .map(|f| (f.rule, f.key, f.severity))
        .collect()
}

#[tokio::test]
async fn findings_do_not_depend_on_the_display_language() {
    let now = Timestamp::now();
    let english = findings_in(Language::English, now).await;
    let rules: Vec<RuleId> = english.iter().map(|f| f.0).collect();
    assert!(rules.contains(&RuleId::AdminNotInIdp), "{english:?}");
    assert!(rules.contains(&RuleId::AdminModifyAllData), "{english:?}");
    assert!(
        !rules.contains(&RuleId::DataExportByNonAdmin),
        "the admin's and the steward's (Modify All Data) exports are by admins: {english:?}"
    );
    assert!(
        !rules.contains(&RuleId::UserNotInIdp),
        "Chatter Free User is excluded by default: {english:?}"
    );
    for language in [Language::German, Language::French, Language::Japanese] {
        assert_eq!(findings_in(language, now).await, english, "{language:?}");
    }
}
