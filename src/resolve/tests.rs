//! Resolve is tested from YAML, the way users write resources.

use idgap_idp::{IdpConfig, OktaAuth};
use idgap_model::RuleId;
use idgap_salesforce::{LoginHost, SalesforceAuth};
use jiff::Timestamp;

use super::*;
use crate::resources::{IdentityProvider, SalesforceIntegration};

const NOW: &str = "2026-11-30T12:00:00Z";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

fn integration(yaml: &str) -> SalesforceIntegration {
    serde_yaml::from_str(yaml).expect("fixture parses")
}

fn idp(yaml: &str) -> IdentityProvider {
    serde_yaml::from_str(yaml).expect("fixture parses")
}

fn secrets() -> SecretMap {
    let mut s = SecretMap::new("security");
    s.insert("sf", "client_id", "3MVG9-client")
        .insert("sf", "client_secret", "s3cr3t-client")
        .insert("sf", "refresh_token", "5Aep-refresh")
        .insert("okta", "token", "00okta-token")
        .insert("empty", "token", "  ");
    s
}

const BASE: &str = r#"
apiVersion: idgap.io/v1alpha1
kind: SalesforceIntegration
metadata: { name: acme-prod, namespace: security }
spec:
  interval: 1h
  auth:
    refreshToken:
      clientId: { name: sf, key: client_id }
      clientSecret: { name: sf, key: client_secret }
      refreshToken: { name: sf, key: refresh_token }
  identityProviderRefs: [ { name: okta } ]
"#;

#[test]
fn refresh_token_integration_with_defaults() {
    let plan = resolve_integration(&integration(BASE), &secrets(), now()).unwrap();
    assert_eq!(plan.name, "acme-prod");
    assert_eq!(plan.namespace, "security");
    assert_eq!(plan.identity_providers, vec!["okta".to_string()]);
    assert_eq!(plan.interval, std::time::Duration::from_secs(3600));
    assert!(matches!(plan.salesforce.login, LoginHost::Production));
    assert_eq!(plan.salesforce.api_version, "v62.0");
    assert!((plan.salesforce.max_api_usage_share - 0.8).abs() < 1e-9);
    // First sync: the audit trail is read for the default 168h lookback.
    let expected: Timestamp = "2026-11-23T12:00:00Z".parse().unwrap();
    assert_eq!(plan.salesforce.audit_since, expected);
    assert_eq!(plan.audit_window_start, expected);
    match &plan.salesforce.auth {
        SalesforceAuth::RefreshToken {
            client_id,
            client_secret,
            refresh_token,
        } => {
            assert_eq!(client_id, "3MVG9-client");
            assert_eq!(client_secret.as_ref().unwrap().expose(), "s3cr3t-client");
            assert_eq!(refresh_token.expose(), "5Aep-refresh");
        }
        other => panic!("wrong auth {other:?}"),
    }
    assert_eq!(
        plan.policy.admin_profiles,
        vec!["System Administrator".to_string()]
    );
}

#[test]
fn audit_watermark_moves_the_read_window_but_not_the_finding_window() {
    let mut obj = integration(BASE);
    obj.status = Some(crate::resources::SalesforceIntegrationStatus {
        audit_watermark: Some("2026-11-30T11:00:00Z".into()),
        ..Default::default()
    });
    let plan = resolve_integration(&obj, &secrets(), now()).unwrap();
    assert_eq!(
        plan.salesforce.audit_since,
        "2026-11-30T11:00:00Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(
        plan.audit_window_start,
        "2026-11-23T12:00:00Z".parse::<Timestamp>().unwrap()
    );
}

#[test]
fn login_hosts() {
    let sandbox = BASE.replace("interval: 1h", "interval: 1h\n  environment: sandbox");
    let plan = resolve_integration(&integration(&sandbox), &secrets(), now()).unwrap();
    assert!(matches!(plan.salesforce.login, LoginHost::Sandbox));
    let mydomain = BASE.replace(
        "interval: 1h",
        "interval: 1h\n  loginUrl: https://acme.my.salesforce.com/",
    );
    let plan = resolve_integration(&integration(&mydomain), &secrets(), now()).unwrap();
    match plan.salesforce.login {
        LoginHost::MyDomain(url) => assert_eq!(url, "https://acme.my.salesforce.com"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn policy_from_rules_and_exclusions() {
    let yaml = format!(
        "{BASE}  rules:\n    disabled: [session-ip-not-enforced]\n    adminProfiles: [System Administrator, Security Admin]\n    severityOverrides: [ {{ rule: user-not-in-idp, severity: medium }} ]\n    domainAliases: [ {{ domain: ACME.io, sameAs: acme.com }} ]\n    idpShrinkPercent: 30\n  exclusions:\n    - rule: user-not-in-idp\n      users: [\"integration@acme.com\", \"svc-*@acme.com\"]\n      reason: Integration user owned by RevOps\n      expires: \"2027-06-30\"\n"
    );
    let plan = resolve_integration(&integration(&yaml), &secrets(), now()).unwrap();
    let p = &plan.policy;
    assert_eq!(p.disabled_rules, vec![RuleId::SessionIpNotEnforced]);
    assert_eq!(p.admin_profiles.len(), 2);
    assert_eq!(
        p.severity_overrides,
        vec![(RuleId::UserNotInIdp, idgap_model::Severity::Medium)]
    );
    assert_eq!(
        p.domain_aliases,
        vec![("acme.io".to_string(), "acme.com".to_string())]
    );
    assert!((p.idp_shrink_threshold - 0.3).abs() < 1e-9);
    assert_eq!(p.exclusions.len(), 1);
    assert_eq!(p.exclusions[0].rule, Some(RuleId::UserNotInIdp));
    assert_eq!(
        p.exclusions[0].expires,
        Some(jiff::civil::date(2027, 6, 30))
    );
}

#[test]
fn errors_name_the_field_and_never_the_secret() {
    // Secret missing.
    let mut s = SecretMap::new("security");
    s.insert("other", "x", "y");
    let err = resolve_integration(&integration(BASE), &s, now()).unwrap_err();
    assert_eq!(err.reason(), "SecretNotFound");
    assert_eq!(err.field(), "spec.auth.refreshToken.clientId");
    assert!(
        err.to_string()
            .contains("Secret `sf` not found in namespace `security`"),
        "{err}"
    );

    // Key missing.
    let mut s = SecretMap::new("security");
    s.insert("sf", "client_id", "id")
        .insert("sf", "client_secret", "s3cr3t-client");
    let err = resolve_integration(&integration(BASE), &s, now()).unwrap_err();
    assert_eq!(err.reason(), "SecretKeyNotFound");
    assert!(
        err.to_string()
            .contains("spec.auth.refreshToken.refreshToken"),
        "{err}"
    );
    assert!(!err.to_string().contains("s3cr3t-client"));

    // Cross-namespace reference.
    let yaml = BASE.replace(
        "refreshToken: { name: sf, key: refresh_token }",
        "refreshToken: { name: sf, key: refresh_token, namespace: kube-system }",
    );
    let err = resolve_integration(&integration(&yaml), &secrets(), now()).unwrap_err();
    assert_eq!(err.reason(), "CrossNamespaceReference");
    assert!(err.to_string().contains("kube-system"), "{err}");
}

#[test]
fn what_the_schema_cannot_express_is_refused_here() {
    let cases = [
        (
            BASE.replace("interval: 1h", "interval: 10s"),
            "spec.interval",
        ),
        (
            format!("{BASE}  auditLookback: 5000h\n"),
            "spec.auditLookback",
        ),
        (
            BASE.replace("interval: 1h", "interval: 99999999h"),
            "spec.interval",
        ),
        (
            format!("{BASE}  findings:\n    eventRetention: 99999999h\n"),
            "spec.findings.eventRetention",
        ),
        (
            format!(
                "{BASE}  exclusions:\n    - users: [a@b.c]\n      reason: x\n      expires: \"2027-02-30\"\n"
            ),
            "spec.exclusions[0].expires",
        ),
        (
            format!("{BASE}  exclusions:\n    - users: [\" \"]\n      reason: x\n"),
            "spec.exclusions[0].users",
        ),
        (
            format!("{BASE}  rules:\n    adminProfiles: []\n"),
            "spec.rules.adminProfiles",
        ),
        (
            BASE.replace(
                "interval: 1h",
                "interval: 1h\n  environment: sandbox\n  loginUrl: https://acme.my.salesforce.com",
            ),
            "spec.loginUrl",
        ),
    ];
    for (yaml, field) in cases {
        let err = resolve_integration(&integration(&yaml), &secrets(), now()).unwrap_err();
        assert_eq!(err.field(), field, "{err}");
        assert_eq!(err.reason(), "InvalidSpec");
    }
}

const OKTA: &str = r#"
apiVersion: idgap.io/v1alpha1
kind: IdentityProvider
metadata: { name: okta, namespace: security }
spec:
  interval: 30m
  okta:
    domain: acme.okta.com
    apiToken: { name: okta, key: token }
"#;

/// `echo -n` forgotten: one trailing newline on a one-line value is not part of it.
#[test]
fn a_trailing_newline_is_not_part_of_a_credential() {
    let mut s = secrets();
    s.insert("sf", "client_secret", "s3cr3t-client\r\n")
        .insert("sf", "refresh_token", "5Aep-refresh\n")
        .insert("okta", "token", "00okta-token\n");
    let plan = resolve_integration(&integration(BASE), &s, now()).unwrap();
    let SalesforceAuth::RefreshToken {
        client_secret,
        refresh_token,
        ..
    } = &plan.salesforce.auth
    else {
        panic!("wrong auth");
    };
    assert_eq!(client_secret.as_ref().unwrap().expose(), "s3cr3t-client");
    assert_eq!(refresh_token.expose(), "5Aep-refresh");
    let plan = resolve_identity_provider(&idp(OKTA), &s).unwrap();
    let IdpConfig::Okta(c) = plan.config else {
        panic!("not okta");
    };
    assert!(matches!(c.auth, OktaAuth::ApiToken(ref t) if t.expose() == "00okta-token"));

    // Only one newline, and never inside a multi-line value such as a PEM key.
    let mut s = secrets();
    s.insert("sf", "refresh_token", "5Aep-refresh\n\n");
    let plan = resolve_integration(&integration(BASE), &s, now()).unwrap();
    let SalesforceAuth::RefreshToken { refresh_token, .. } = &plan.salesforce.auth else {
        panic!("wrong auth");
    };
    assert_eq!(refresh_token.expose(), "5Aep-refresh\n\n", "left as stored");
    assert_eq!(
        super::secrets::without_final_newline("-----BEGIN\nabc\n-----END\n".into()).expose(),
        "-----BEGIN\nabc\n-----END\n"
    );
}

#[test]
fn okta_api_token() {
    let plan = resolve_identity_provider(&idp(OKTA), &secrets()).unwrap();
    assert_eq!(plan.name, "okta");
    assert_eq!(plan.interval, std::time::Duration::from_secs(1800));
    match plan.config {
        IdpConfig::Okta(c) => {
            assert_eq!(c.domain, "acme.okta.com");
            assert!(matches!(c.auth, OktaAuth::ApiToken(ref t) if t.expose() == "00okta-token"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn identity_provider_errors() {
    let empty = OKTA.replace("{ name: okta, key: token }", "{ name: empty, key: token }");
    let err = resolve_identity_provider(&idp(&empty), &secrets()).unwrap_err();
    assert_eq!(err.reason(), "SecretKeyEmpty");

    let bad_url = OKTA.replace(
        "domain: acme.okta.com",
        "domain: acme.okta.com\n    baseUrl: not a url",
    );
    let err = resolve_identity_provider(&idp(&bad_url), &secrets()).unwrap_err();
    assert_eq!(err.field(), "spec.okta.baseUrl");

    let two = format!("{OKTA}  jumpCloud:\n    apiKey: {{ name: okta, key: token }}\n");
    let err = resolve_identity_provider(&idp(&two), &secrets()).unwrap_err();
    assert_eq!(err.field(), "spec");

    let svc = OKTA.replace(
        "apiToken: { name: okta, key: token }",
        "serviceApp: { clientId: 0oa1, privateKey: { name: okta, key: token } }",
    );
    let err = resolve_identity_provider(&idp(&svc), &secrets()).unwrap_err();
    assert_eq!(err.field(), "spec.okta.serviceApp.privateKey");
    assert!(!err.to_string().contains("00okta-token"));
}

#[test]
fn secret_refs_list_every_reference() {
    let refs = integration_secret_refs(&integration(BASE).spec);
    let fields: Vec<&str> = refs.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "spec.auth.refreshToken.clientId",
            "spec.auth.refreshToken.clientSecret",
            "spec.auth.refreshToken.refreshToken"
        ]
    );
    let refs = identity_provider_secret_refs(&idp(OKTA).spec);
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0].1.name, "okta");
}

/// [`BASE`] signing in with client credentials, without a login host.
fn client_credentials() -> String {
    BASE.replace(
        "    refreshToken:\n      clientId: { name: sf, key: client_id }\n      clientSecret: { name: sf, key: client_secret }\n      refreshToken: { name: sf, key: refresh_token }",
        "    clientCredentials:\n      clientId: { name: sf, key: client_id }\n      clientSecret: { name: sf, key: client_secret }",
    )
}

/// Salesforce refuses client credentials on login/test.salesforce.com: without a My Domain
/// `loginUrl` the spec is refused, saying what to set.
#[test]
fn client_credentials_need_a_my_domain_login_url() {
    for extra in [
        "",
        "  environment: sandbox\n",
        "  loginUrl: https://login.salesforce.com/\n",
        "  loginUrl: https://test.salesforce.com\n",
    ] {
        let yaml = format!("{}{extra}", client_credentials());
        let err = resolve_integration(&integration(&yaml), &secrets(), now()).unwrap_err();
        assert_eq!(err.field(), "spec.loginUrl", "{extra}: {err}");
        assert_eq!(err.reason(), "InvalidSpec");
        assert!(err.to_string().contains("my.salesforce.com"), "{err}");
    }
    let yaml = format!(
        "{}  loginUrl: https://acme.my.salesforce.com\n",
        client_credentials()
    );
    let plan = resolve_integration(&integration(&yaml), &secrets(), now()).unwrap();
    assert!(matches!(
        plan.salesforce.auth,
        SalesforceAuth::ClientCredentials { .. }
    ));
}

#[test]
fn jwt_audience_and_personal_addresses_reach_the_config_and_policy() {
    let mut s = secrets();
    s.insert(
        "sf",
        "key",
        "-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n",
    );
    let yaml = format!(
        "{}  rules:\n    matchPersonalAddresses: true\n",
        client_credentials().replace(
            "    clientCredentials:\n      clientId: { name: sf, key: client_id }\n      clientSecret: { name: sf, key: client_secret }",
            "    jwtBearer:\n      clientId: { name: sf, key: client_id }\n      username: int@acme.com\n      privateKey: { name: sf, key: key }\n      audience: https://acme.my.site.com",
        )
    );
    let plan = resolve_integration(&integration(&yaml), &s, now()).unwrap();
    assert_eq!(
        plan.salesforce.jwt_audience.as_deref(),
        Some("https://acme.my.site.com")
    );
    assert!(plan.policy.match_personal_addresses);
    let plan = resolve_integration(&integration(BASE), &secrets(), now()).unwrap();
    assert_eq!(plan.salesforce.jwt_audience, None);
    assert!(!plan.policy.match_personal_addresses);
}

#[test]
fn export_matchers_replace_their_defaults_one_list_at_a_time() {
    let yaml =
        format!("{BASE}  rules:\n    exportMatchers:\n      actions: [orgExportRequested]\n");
    let plan = resolve_integration(&integration(&yaml), &secrets(), now()).unwrap();
    assert_eq!(plan.policy.export_actions, ["orgExportRequested"]);
    assert_eq!(
        plan.policy.export_sections,
        idgap_detect::DEFAULT_EXPORT_SECTIONS
    );
    let yaml = format!("{BASE}  rules:\n    exportMatchers:\n      displayContains: [\"\"]\n");
    let err = resolve_integration(&integration(&yaml), &secrets(), now()).unwrap_err();
    assert_eq!(err.field(), "spec.rules.exportMatchers.displayContains");
}

#[test]
fn health_check_labels_replace_the_unconfirmed_defaults() {
    let yaml = format!(
        "{BASE}  rules:\n    healthCheckLabels:\n      enforceIpRanges: \" Enforce IP ranges on every request \"\n"
    );
    let plan = resolve_integration(&integration(&yaml), &secrets(), now()).unwrap();
    let labels = &plan.salesforce.health_check_labels;
    assert_eq!(
        labels.enforce_ip_ranges,
        "Enforce IP ranges on every request"
    );
    assert_eq!(
        labels.lock_sessions_to_ip,
        idgap_salesforce::HealthCheckLabels::default().lock_sessions_to_ip
    );
}
