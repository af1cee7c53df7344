//! The CRDs: generated from the Rust types, checked in without drift, accepted by a real
//! kube-apiserver as structural schemas, and enforcing what a schema can enforce.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};
use support::{Cluster, eventually};

const REGENERATE: &str = "regenerate with `IDGAP_UPDATE_CRDS=1 cargo test --test crds`";

const CRD_FILES: [&str; 3] = [
    "salesforceintegrations.idgap.io.yaml",
    "identityproviders.idgap.io.yaml",
    "accessfindings.idgap.io.yaml",
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every copy of the generated CRDs: `crds/` for GitOps users and the chart's `files/crds/`,
/// which the chart's `templates/crds.yaml` renders.
fn crd_dirs() -> [PathBuf; 2] {
    [repo().join("crds"), repo().join("charts/idgap/files/crds")]
}

#[test]
fn checked_in_crds_match_the_rust_types() {
    let generated = idgap::resources::crd_files();
    let names: Vec<&str> = generated.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, CRD_FILES);
    let update = std::env::var_os("IDGAP_UPDATE_CRDS").is_some_and(|v| v == "1");
    for dir in crd_dirs() {
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            for (name, yaml) in &generated {
                std::fs::write(dir.join(name), yaml).unwrap();
            }
        }
        for (name, yaml) in &generated {
            let path = dir.join(name);
            let on_disk = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{} is missing ({e}); {REGENERATE}", path.display()));
            assert!(
                on_disk == *yaml,
                "{} differs from the CRD generated from src/resources; {REGENERATE}",
                path.display()
            );
        }
        let mut extra: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|name| !CRD_FILES.contains(&name.as_str()))
            .collect();
        extra.sort();
        assert!(
            extra.is_empty(),
            "{} holds files no CRD generates: {extra:?}",
            dir.display()
        );
    }
}

#[test]
fn crds_yaml_is_every_crd_as_one_stream() {
    let stream = idgap::resources::crds_yaml();
    let documents: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(&stream)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let names: Vec<&str> = documents
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "salesforceintegrations.idgap.io",
            "identityproviders.idgap.io",
            "accessfindings.idgap.io"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Against the real API server

#[tokio::test]
async fn crds_are_structural_established_and_named() {
    let cluster = Cluster::shared().await;
    cluster.install_crds().await;
    // Applying twice is a no-op, not a conflict.
    cluster.install_crds().await;
    let crds: Api<CustomResourceDefinition> = Api::all(cluster.client().await);
    let expected = [
        (
            "salesforceintegrations.idgap.io",
            "sfi",
            vec!["Ready", "Status", "Critical", "High", "Last Sync", "Age"],
        ),
        (
            "identityproviders.idgap.io",
            "idp",
            vec![
                "Ready",
                "Status",
                "Provider",
                "Accounts",
                "Last Sync",
                "Age",
            ],
        ),
        (
            "accessfindings.idgap.io",
            "af",
            vec![
                "Severity",
                "Rule",
                "Subject",
                "Integration",
                "Category",
                "Age",
            ],
        ),
    ];
    for (name, short, columns) in expected {
        let crd = crds.get(name).await.unwrap();
        let conditions = crd.status.as_ref().unwrap().conditions.clone().unwrap();
        let status_of = |t: &str| {
            conditions
                .iter()
                .find(|c| c.type_ == t)
                .map(|c| (c.status.clone(), c.message.clone()))
        };
        assert_eq!(
            status_of("Established").map(|s| s.0).as_deref(),
            Some("True"),
            "{name}"
        );
        assert_eq!(
            status_of("NamesAccepted").map(|s| s.0).as_deref(),
            Some("True"),
            "{name}"
        );
        // The API server adds NonStructuralSchema=True when a schema is not structural.
        assert_eq!(
            status_of("NonStructuralSchema"),
            None,
            "{name} is not structural"
        );
        assert_eq!(
            crd.spec.names.short_names.as_deref(),
            Some(&[short.to_string()][..])
        );
        assert_eq!(
            crd.spec.names.categories.as_deref(),
            Some(&["idgap".to_string()][..])
        );
        let version = &crd.spec.versions[0];
        // The two reconciled kinds report through /status; AccessFinding has no status (first
        // seen is its creation time), so a new finding costs one write.
        let has_status = version
            .subresources
            .as_ref()
            .is_some_and(|s| s.status.is_some());
        assert_eq!(
            has_status,
            name != "accessfindings.idgap.io",
            "{name}: /status subresource"
        );
        let got: Vec<String> = version
            .additional_printer_columns
            .as_ref()
            .unwrap()
            .iter()
            .map(|c| c.name.clone())
            .collect();
        assert_eq!(got, columns, "{name} printer columns");
    }
}

fn sfi(mutate: impl FnOnce(&mut Value)) -> Value {
    let mut object = json!({
        "apiVersion": "idgap.io/v1alpha1",
        "kind": "SalesforceIntegration",
        "metadata": { "name": "acme-prod" },
        "spec": {
            "environment": "production",
            "auth": { "refreshToken": {
                "clientId": { "name": "sf-acme", "key": "client_id" },
                "clientSecret": { "name": "sf-acme", "key": "client_secret" },
                "refreshToken": { "name": "sf-acme", "key": "refresh_token" }
            } },
            "identityProviderRefs": [ { "name": "okta" } ],
            "exclusions": [ {
                "rule": "user-not-in-idp",
                "users": [ "integration@acme.example" ],
                "reason": "Integration user owned by RevOps",
                "expires": "2027-06-30"
            } ]
        }
    });
    mutate(&mut object["spec"]);
    object
}

fn idp(mutate: impl FnOnce(&mut Value)) -> Value {
    let mut object = json!({
        "apiVersion": "idgap.io/v1alpha1",
        "kind": "IdentityProvider",
        "metadata": { "name": "okta" },
        "spec": { "okta": { "domain": "acme.okta.com", "apiToken": { "name": "okta-creds", "key": "token" } } }
    });
    mutate(&mut object["spec"]);
    object
}

fn finding(mutate: impl FnOnce(&mut Value)) -> Value {
    let mut object = json!({
        "apiVersion": "idgap.io/v1alpha1",
        "kind": "AccessFinding",
        "metadata": { "name": "acme-prod-admin-not-in-idp-5f0c1a9e" },
        "spec": {
            "integration": "acme-prod",
            "rule": "admin-not-in-idp",
            "title": "Salesforce admin not in IdP",
            "severity": "critical",
            "category": "identity-gap",
            "subject": { "type": "User", "display": "jane@acme.example" },
            "remediation": "Suspend the account in Salesforce or provision the user in the IdP."
        }
    });
    mutate(&mut object["spec"]);
    object
}

fn secret_ref(name: &str, key: &str) -> Value {
    json!({ "name": name, "key": key })
}

/// A bad manifest, and the fragments the API server's message must contain.
struct Bad {
    case: &'static str,
    object: Value,
    expect: &'static [&'static str],
}

fn assert_no_failures(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} bad manifests misbehaved:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

impl Bad {
    /// A failure line when `message` lacks an expected fragment.
    fn lacks(&self, message: &str) -> Option<String> {
        let missing: Vec<&str> = self
            .expect
            .iter()
            .copied()
            .filter(|f| !message.contains(f))
            .collect();
        (!missing.is_empty())
            .then(|| format!("{}: message lacks {missing:?}: {message}", self.case))
    }
}

fn bad_manifests() -> Vec<Bad> {
    let long_reason = "x".repeat(1025);
    let many_users: Vec<String> = (0..101).map(|i| format!("user{i}@acme.example")).collect();
    let many_refs: Vec<Value> = (0..11)
        .map(|i| json!({ "name": format!("idp-{i}") }))
        .collect();
    vec![
        // --- SalesforceIntegration: types and durations
        Bad {
            case: "interval is a number",
            object: sfi(|s| s["interval"] = json!(5)),
            expect: &["spec.interval", "string"],
        },
        Bad {
            case: "interval in days",
            object: sfi(|s| s["interval"] = json!("1d")),
            expect: &["spec.interval", "should match"],
        },
        Bad {
            case: "interval without unit",
            object: sfi(|s| s["interval"] = json!("10")),
            expect: &["spec.interval", "should match"],
        },
        Bad {
            case: "negative interval",
            object: sfi(|s| s["interval"] = json!("-5m")),
            expect: &["spec.interval", "should match"],
        },
        Bad {
            case: "auditLookback in weeks",
            object: sfi(|s| s["auditLookback"] = json!("1w")),
            expect: &["spec.auditLookback", "should match"],
        },
        Bad {
            case: "eventRetention in words",
            object: sfi(|s| s["findings"] = json!({ "eventRetention": "30 days" })),
            expect: &["spec.findings.eventRetention", "should match"],
        },
        Bad {
            case: "suspend is a string",
            object: sfi(|s| s["suspend"] = json!("yes")),
            expect: &["spec.suspend", "boolean"],
        },
        Bad {
            case: "identityProviderRefs is a string",
            object: sfi(|s| s["identityProviderRefs"] = json!("okta")),
            expect: &["spec.identityProviderRefs", "array"],
        },
        // --- auth: exactly one method
        Bad {
            case: "two auth methods",
            object: sfi(
                |s| s["auth"]["clientCredentials"] = json!({ "clientId": secret_ref("sf", "id"), "clientSecret": secret_ref("sf", "secret") }),
            ),
            expect: &[
                "spec.auth",
                "set exactly one of refreshToken, jwtBearer, clientCredentials",
            ],
        },
        Bad {
            case: "no auth method",
            object: sfi(|s| s["auth"] = json!({})),
            expect: &[
                "spec.auth",
                "set exactly one of refreshToken, jwtBearer, clientCredentials",
            ],
        },
        Bad {
            case: "auth missing",
            object: sfi(|s| {
                s.as_object_mut().unwrap().remove("auth");
            }),
            expect: &["spec.auth", "Required value"],
        },
        Bad {
            case: "unknown auth method",
            object: sfi(|s| s["auth"]["password"] = json!({ "name": "x", "key": "y" })),
            expect: &["unknown field", "spec.auth.password"],
        },
        Bad {
            case: "jwtBearer without username",
            object: sfi(
                |s| s["auth"] = json!({ "jwtBearer": { "clientId": secret_ref("sf", "id"), "privateKey": secret_ref("sf", "key.pem") } }),
            ),
            expect: &["spec.auth.jwtBearer.username", "Required value"],
        },
        // --- login host
        Bad {
            case: "environment and loginUrl together",
            object: sfi(|s| s["loginUrl"] = json!("https://acme.my.salesforce.com")),
            expect: &[
                "spec.loginUrl",
                "set either environment or loginUrl, not both",
            ],
        },
        Bad {
            case: "clientCredentials without loginUrl",
            object: sfi(|s| {
                s["auth"] = json!({ "clientCredentials": { "clientId": secret_ref("sf", "id"), "clientSecret": secret_ref("sf", "secret") } });
            }),
            expect: &[
                "spec.loginUrl",
                "auth.clientCredentials needs loginUrl set to the org's My Domain URL",
            ],
        },
        Bad {
            case: "clientCredentials with loginUrl login.salesforce.com",
            object: sfi(|s| {
                s.as_object_mut().unwrap().remove("environment");
                s["loginUrl"] = json!("https://login.salesforce.com/");
                s["auth"] = json!({ "clientCredentials": { "clientId": secret_ref("sf", "id"), "clientSecret": secret_ref("sf", "secret") } });
            }),
            expect: &["spec.loginUrl", "my.salesforce.com"],
        },
        Bad {
            case: "jwtBearer audience not https",
            object: sfi(|s| {
                s["auth"] = json!({ "jwtBearer": { "clientId": secret_ref("sf", "client_id"), "username": "integration@acme.example", "privateKey": secret_ref("sf", "tls.key"), "audience": "login.salesforce.com" } });
            }),
            expect: &["spec.auth.jwtBearer.audience", "should match"],
        },
        Bad {
            case: "environment not an enum value",
            object: sfi(|s| s["environment"] = json!("staging")),
            expect: &["spec.environment", "Unsupported value", "\"production\""],
        },
        Bad {
            case: "loginUrl without scheme",
            object: sfi(|s| {
                s.as_object_mut().unwrap().remove("environment");
                s["loginUrl"] = json!("acme.my.salesforce.com");
            }),
            expect: &["spec.loginUrl", "should match"],
        },
        Bad {
            case: "apiVersion without v",
            object: sfi(|s| s["apiVersion"] = json!("62.0")),
            expect: &["spec.apiVersion", "should match"],
        },
        Bad {
            case: "apiVersion minor not zero",
            object: sfi(|s| s["apiVersion"] = json!("v62.1")),
            expect: &["spec.apiVersion", "should match"],
        },
        // --- numeric bounds
        Bad {
            case: "maxApiUsagePercent 0",
            object: sfi(|s| s["maxApiUsagePercent"] = json!(0)),
            expect: &["spec.maxApiUsagePercent", "greater than or equal to 1"],
        },
        Bad {
            case: "maxApiUsagePercent 101",
            object: sfi(|s| s["maxApiUsagePercent"] = json!(101)),
            expect: &["spec.maxApiUsagePercent", "less than or equal to 100"],
        },
        Bad {
            case: "maxFindings 0",
            object: sfi(|s| s["findings"] = json!({ "maxFindings": 0 })),
            expect: &["spec.findings.maxFindings", "greater than or equal to 1"],
        },
        Bad {
            case: "maxFindings above 20000",
            object: sfi(|s| s["findings"] = json!({ "maxFindings": 20001 })),
            expect: &["spec.findings.maxFindings", "less than or equal to 20000"],
        },
        Bad {
            case: "idpShrinkPercent 0",
            object: sfi(|s| s["rules"] = json!({ "idpShrinkPercent": 0 })),
            expect: &["spec.rules.idpShrinkPercent", "greater than or equal to 1"],
        },
        // --- rules
        Bad {
            case: "disabled rule foo",
            object: sfi(|s| s["rules"] = json!({ "disabled": ["foo"] })),
            expect: &["spec.rules.disabled[0]", "Unsupported value: \"foo\""],
        },
        Bad {
            case: "severity override urgent",
            object: sfi(
                |s| s["rules"] = json!({ "severityOverrides": [ { "rule": "admin-not-in-idp", "severity": "urgent" } ] }),
            ),
            expect: &[
                "spec.rules.severityOverrides[0].severity",
                "Unsupported value: \"urgent\"",
            ],
        },
        // --- exclusions
        Bad {
            case: "exclusion without users",
            object: sfi(|s| {
                s["exclusions"][0].as_object_mut().unwrap().remove("users");
            }),
            expect: &["spec.exclusions[0].users", "Required value"],
        },
        Bad {
            case: "exclusion without reason",
            object: sfi(|s| {
                s["exclusions"][0].as_object_mut().unwrap().remove("reason");
            }),
            expect: &["spec.exclusions[0].reason", "Required value"],
        },
        Bad {
            case: "exclusion with empty users",
            object: sfi(|s| s["exclusions"][0]["users"] = json!([])),
            expect: &["spec.exclusions[0].users", "should have at least 1 items"],
        },
        Bad {
            case: "exclusion expiry not ISO",
            object: sfi(|s| s["exclusions"][0]["expires"] = json!("30/06/2027")),
            expect: &["spec.exclusions[0].expires", "should match"],
        },
        Bad {
            case: "exclusion expiry with time",
            object: sfi(|s| s["exclusions"][0]["expires"] = json!("2027-06-30T00:00:00Z")),
            expect: &["spec.exclusions[0].expires", "should match"],
        },
        Bad {
            case: "exclusion rule foo",
            object: sfi(|s| s["exclusions"][0]["rule"] = json!("foo")),
            expect: &["spec.exclusions[0].rule", "Unsupported value: \"foo\""],
        },
        Bad {
            case: "exclusion reason over 1024 chars",
            object: sfi(move |s| s["exclusions"][0]["reason"] = json!(long_reason)),
            expect: &["spec.exclusions[0].reason", "may not be more than 1024"],
        },
        Bad {
            case: "exclusion with 101 users",
            object: sfi(move |s| s["exclusions"][0]["users"] = json!(many_users)),
            expect: &["spec.exclusions[0].users", "must have at most 100 items"],
        },
        Bad {
            case: "identityProviderRefs with a duplicate",
            object: sfi(|s| {
                s["identityProviderRefs"] =
                    json!([{ "name": "okta" }, { "name": "entra" }, { "name": "okta" }])
            }),
            expect: &[
                "spec.identityProviderRefs",
                "each IdentityProvider may be listed once",
            ],
        },
        Bad {
            case: "11 identityProviderRefs",
            object: sfi(move |s| s["identityProviderRefs"] = json!(many_refs)),
            expect: &["spec.identityProviderRefs", "must have at most 10 items"],
        },
        // --- Secret references
        Bad {
            case: "secret name with uppercase and underscore",
            object: sfi(|s| s["auth"]["refreshToken"]["clientId"]["name"] = json!("SF_Creds")),
            expect: &["spec.auth.refreshToken.clientId.name", "should match"],
        },
        Bad {
            case: "secret key with a space",
            object: sfi(|s| {
                s["auth"]["refreshToken"]["refreshToken"]["key"] = json!("refresh token")
            }),
            expect: &["spec.auth.refreshToken.refreshToken.key", "should match"],
        },
        Bad {
            case: "secret name empty",
            object: sfi(|s| s["auth"]["refreshToken"]["clientSecret"]["name"] = json!("")),
            expect: &["spec.auth.refreshToken.clientSecret.name"],
        },
        Bad {
            case: "secret reference without key",
            object: sfi(|s| s["auth"]["refreshToken"]["clientId"] = json!({ "name": "sf-acme" })),
            expect: &["spec.auth.refreshToken.clientId.key", "Required value"],
        },
        Bad {
            case: "unknown spec field",
            object: sfi(|s| s["schedule"] = json!("@hourly")),
            expect: &["unknown field", "spec.schedule"],
        },
        // --- IdentityProvider
        Bad {
            case: "no provider",
            object: idp(|s| {
                s.as_object_mut().unwrap().remove("okta");
            }),
            expect: &[
                "exactly one of okta, entraId, googleWorkspace, jumpCloud, oneLogin must be set",
            ],
        },
        Bad {
            case: "two providers",
            object: idp(
                |s| s["oneLogin"] = json!({ "subdomain": "acme", "clientId": secret_ref("ol", "id"), "clientSecret": secret_ref("ol", "secret") }),
            ),
            expect: &[
                "exactly one of okta, entraId, googleWorkspace, jumpCloud, oneLogin must be set",
            ],
        },
        Bad {
            case: "unknown provider block",
            object: idp(|s| s["pingFederate"] = json!({ "domain": "acme" })),
            expect: &["unknown field", "spec.pingFederate"],
        },
        Bad {
            case: "okta baseUrl without scheme",
            object: idp(|s| s["okta"]["baseUrl"] = json!("acme.okta.com/api")),
            expect: &["spec.okta.baseUrl", "should match"],
        },
        Bad {
            case: "entra graphBaseUrl with a space",
            object: idp(|s| {
                s.as_object_mut().unwrap().remove("okta");
                s["entraId"] = json!({ "tenantId": "acme.example", "clientId": "c1",
                    "clientSecret": secret_ref("entra", "secret"), "graphBaseUrl": "https://graph microsoft.com" });
            }),
            expect: &["spec.entraId.graphBaseUrl", "should match"],
        },
        Bad {
            case: "idp interval in days",
            object: idp(|s| s["interval"] = json!("1d")),
            expect: &["spec.interval", "should match"],
        },
        Bad {
            case: "okta token and service app",
            object: idp(|s| {
                s["okta"]["serviceApp"] =
                    json!({ "clientId": "0oa1", "privateKey": secret_ref("okta-app", "key.pem") })
            }),
            expect: &["spec.okta", "set exactly one of apiToken or serviceApp"],
        },
        Bad {
            case: "okta without credentials",
            object: idp(|s| s["okta"] = json!({ "domain": "acme.okta.com" })),
            expect: &["spec.okta", "set exactly one of apiToken or serviceApp"],
        },
        Bad {
            case: "entra secret and certificate",
            object: idp(|s| {
                s.as_object_mut().unwrap().remove("okta");
                s["entraId"] = json!({ "tenantId": "acme.example", "clientId": "c1",
                    "clientSecret": secret_ref("entra", "secret"),
                    "certificate": { "privateKey": secret_ref("entra", "key.pem"), "thumbprint": "0123456789abcdef0123456789abcdef01234567" } });
            }),
            expect: &[
                "spec.entraId",
                "set exactly one of clientSecret or certificate",
            ],
        },
        Bad {
            case: "entra thumbprint not hex",
            object: idp(|s| {
                s.as_object_mut().unwrap().remove("okta");
                s["entraId"] = json!({ "tenantId": "acme.example", "clientId": "c1",
                    "certificate": { "privateKey": secret_ref("entra", "key.pem"), "thumbprint": "not-a-thumbprint" } });
            }),
            expect: &["spec.entraId.certificate.thumbprint", "should match"],
        },
        Bad {
            case: "onelogin subdomain is a hostname",
            object: idp(|s| {
                s.as_object_mut().unwrap().remove("okta");
                s["oneLogin"] = json!({ "subdomain": "Acme.onelogin.com", "clientId": secret_ref("ol", "id"), "clientSecret": secret_ref("ol", "secret") });
            }),
            expect: &["spec.oneLogin.subdomain", "should match"],
        },
        Bad {
            case: "google without subject",
            object: idp(|s| {
                s.as_object_mut().unwrap().remove("okta");
                s["googleWorkspace"] =
                    json!({ "serviceAccountKey": secret_ref("google", "key.json") });
            }),
            expect: &["spec.googleWorkspace.subject", "Required value"],
        },
        Bad {
            case: "jumpcloud apiKey is a string",
            object: idp(|s| {
                s.as_object_mut().unwrap().remove("okta");
                s["jumpCloud"] = json!({ "apiKey": "jca_123" });
            }),
            expect: &["spec.jumpCloud.apiKey", "object"],
        },
        // --- AccessFinding
        Bad {
            case: "finding severity urgent",
            object: finding(|s| s["severity"] = json!("urgent")),
            expect: &["spec.severity", "should match"],
        },
        Bad {
            case: "finding category other",
            object: finding(|s| s["category"] = json!("other")),
            expect: &["spec.category", "should match"],
        },
        Bad {
            case: "finding without rule",
            object: finding(|s| {
                s.as_object_mut().unwrap().remove("rule");
            }),
            expect: &["spec.rule", "Required value"],
        },
        Bad {
            case: "finding rule not an id",
            object: finding(|s| s["rule"] = json!("Admin Not In IdP")),
            expect: &["spec.rule", "should match"],
        },
        Bad {
            case: "finding integration not a name",
            object: finding(|s| s["integration"] = json!("Acme Prod")),
            expect: &["spec.integration", "should match"],
        },
        Bad {
            case: "finding evidence not strings",
            object: finding(|s| s["evidence"] = json!({ "lastLogin": 5 })),
            expect: &["spec.evidence.lastLogin", "string"],
        },
    ]
}

#[tokio::test]
async fn the_api_server_rejects_bad_manifests_naming_the_field() {
    let cluster = Cluster::shared().await;
    cluster.install_crds().await;
    let ns = cluster.fresh_namespace("bad-manifests").await;
    let cases = bad_manifests();
    assert!(
        cases.len() >= 30,
        "keep at least 30 bad manifests, have {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for bad in cases {
        let yaml = serde_json::to_string(&bad.object).unwrap();
        match cluster.dry_run_create_yaml(&ns, &yaml).await {
            Ok(_) => failures.push(format!("{}: ACCEPTED", bad.case)),
            Err(e) => {
                failures.extend(bad.lacks(&e.message()));
                if let support::ApplyError::Rejected { code, .. } = &e {
                    if !(*code == 422 || *code == 400) {
                        failures.push(format!("{}: status {code}, expected 422 or 400", bad.case));
                    }
                } else {
                    failures.push(format!("{}: not an API rejection: {e}", bad.case));
                }
            }
        }
    }
    assert_no_failures(&failures);
}

/// `idgap scan` reads the same manifests: every one the API server refuses, its loader
/// refuses too, with the API server's words (checked from the CRD schema and CEL rules, see
/// src/cli/manifests/schema.rs).
#[test]
fn the_scan_loader_rejects_the_same_bad_manifests_with_the_same_words() {
    let mut failures = Vec::new();
    for bad in bad_manifests() {
        let yaml = serde_json::to_string(&bad.object).unwrap();
        let mut loaded = idgap::cli::manifests::Manifests::default();
        match loaded.add_text(Path::new("bad.yaml"), &yaml) {
            Ok(()) => failures.push(format!("{}: ACCEPTED", bad.case)),
            Err(e) => failures.extend(bad.lacks(&e.to_string())),
        }
    }
    assert_no_failures(&failures);
}

#[test]
fn the_scan_loader_accepts_every_example() {
    let mut read = 0;
    for entry in std::fs::read_dir(repo().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let loaded = idgap::cli::manifests::Manifests::load(&[path], true)
                .unwrap_or_else(|e| panic!("{e}"));
            read += loaded.integrations.len() + loaded.identity_providers.len();
        }
    }
    assert!(read >= 10, "{read} objects");
}

#[tokio::test]
async fn the_api_server_accepts_good_manifests_and_applies_defaults() {
    let cluster = Cluster::shared().await;
    cluster.install_crds().await;
    let ns = cluster.fresh_namespace("good-manifests").await;
    let good = [
        (
            "minimal integration",
            sfi(|s| {
                s.as_object_mut().unwrap().remove("exclusions");
            }),
        ),
        (
            "sandbox + full options",
            sfi(|s| {
                s["environment"] = json!("sandbox");
                s["interval"] = json!("1h30m");
                s["apiVersion"] = json!("v62.0");
                s["maxApiUsagePercent"] = json!(100);
                s["findings"] = json!({ "maxFindings": 20000, "eventRetention": "720h" });
                s["rules"] = json!({ "disabled": ["stale-active-user"], "severityOverrides": [ { "rule": "user-not-in-idp", "severity": "low" } ] });
            }),
        ),
        (
            "loginUrl instead of environment",
            sfi(|s| {
                s.as_object_mut().unwrap().remove("environment");
                s["loginUrl"] = json!("https://acme.my.salesforce.com");
                s["auth"] = json!({ "jwtBearer": { "clientId": secret_ref("sf", "client_id"), "username": "integration@acme.example", "privateKey": secret_ref("sf", "tls.key") } });
            }),
        ),
        (
            "clientCredentials with a My Domain loginUrl, the new rules fields",
            sfi(|s| {
                s.as_object_mut().unwrap().remove("environment");
                s["loginUrl"] = json!("https://acme.my.salesforce.com");
                s["auth"] = json!({ "clientCredentials": { "clientId": secret_ref("sf", "id"), "clientSecret": secret_ref("sf", "secret") } });
                s["rules"] = json!({
                    "matchPersonalAddresses": true,
                    "exportMatchers": { "sections": ["Data Management"], "actions": ["dataExport"] },
                    "healthCheckLabels": { "enforceIpRanges": "Enforce login IP ranges on every request" }
                });
            }),
        ),
        ("okta idp", idp(|_| {})),
        (
            "okta idp with a simulator base URL",
            idp(|s| s["okta"]["baseUrl"] = json!("http://127.0.0.1:18443/")),
        ),
        (
            "finding",
            finding(|s| s["evidence"] = json!({ "lastLogin": "2026-01-01T00:00:00Z" })),
        ),
    ];
    for (i, (case, mut object)) in good.into_iter().enumerate() {
        if i > 0 && object["kind"] == "SalesforceIntegration" {
            object["metadata"]["name"] = json!(format!("acme-{i}"));
        }
        let applied = cluster
            .apply_yaml(&ns, &serde_json::to_string(&object).unwrap())
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(applied.len(), 1, "{case}");
    }
    // Defaults come from the schema, so every client (kubectl, Flux) sees the same values.
    let gvk = GroupVersionKind::gvk("idgap.io", "v1alpha1", "SalesforceIntegration");
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client().await, &ns, &ApiResource::from_gvk(&gvk));
    let minimal = api.get("acme-prod").await.unwrap();
    assert_eq!(minimal.data["spec"]["interval"], json!("1h"));
    assert_eq!(minimal.data["spec"]["auditLookback"], json!("168h"));
    assert_eq!(minimal.data["spec"]["suspend"], json!(false));
    assert_eq!(minimal.data["spec"]["findings"]["maxFindings"], json!(1000));
    let full = api.get("acme-1").await.unwrap();
    assert_eq!(full.data["spec"]["interval"], json!("1h30m"));
    let typed: Api<idgap::resources::IdentityProvider> =
        Api::namespaced(cluster.client().await, &ns);
    let okta = typed.get("okta").await.unwrap();
    assert_eq!(okta.spec.interval, "30m");
}

#[tokio::test]
async fn access_findings_are_selectable_by_severity_rule_and_integration() {
    let cluster = Cluster::shared().await;
    cluster.install_crds().await;
    let ns = cluster.fresh_namespace("selectable").await;
    let findings = [
        ("a-critical", "acme-prod", "admin-not-in-idp", "critical"),
        ("b-high", "acme-prod", "user-not-in-idp", "high"),
        ("c-critical", "acme-dev", "admin-not-in-idp", "critical"),
        ("d-low", "acme-dev", "stale-active-user", "low"),
    ];
    for (name, integration, rule, severity) in findings {
        let object = finding(|s| {
            s["integration"] = json!(integration);
            s["rule"] = json!(rule);
            s["severity"] = json!(severity);
        });
        let mut object = object;
        object["metadata"]["name"] = json!(name);
        cluster.apply_yaml(&ns, &object.to_string()).await.unwrap();
    }
    let api: Api<idgap::resources::AccessFinding> = Api::namespaced(cluster.client().await, &ns);
    let names = |selector: &'static str| {
        let api = api.clone();
        async move {
            let mut names: Vec<String> = api
                .list(&ListParams::default().fields(selector))
                .await
                .unwrap_or_else(|e| panic!("list with {selector}: {e}"))
                .items
                .into_iter()
                .map(|f| f.metadata.name.unwrap())
                .collect();
            names.sort();
            names
        }
    };
    assert_eq!(
        names("spec.severity=critical").await,
        ["a-critical", "c-critical"]
    );
    assert_eq!(
        names("spec.rule=admin-not-in-idp").await,
        ["a-critical", "c-critical"]
    );
    assert_eq!(
        names("spec.integration=acme-dev").await,
        ["c-critical", "d-low"]
    );
    assert_eq!(
        names("spec.integration=acme-prod,spec.severity!=critical").await,
        ["b-high"]
    );
    // A field that is not selectable is refused, not ignored.
    let err = api
        .list(&ListParams::default().fields("spec.title=x"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("spec.title"), "{err}");

    // `kubectl get accessfindings` shows the printer columns (the Table API).
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cluster.ca_pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let table: Value = http
        .get(format!("{}/apis/idgap.io/v1alpha1/namespaces/{ns}/accessfindings?fieldSelector=spec.severity%3Dlow", cluster.server_url()))
        .bearer_auth(cluster.admin_token())
        .header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        columns,
        [
            "Name",
            "Severity",
            "Rule",
            "Subject",
            "Integration",
            "Category",
            "Age"
        ]
    );
    let rows = table["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0]["cells"].as_array().unwrap()[0..5],
        [
            json!("d-low"),
            json!("low"),
            json!("stale-active-user"),
            json!("jane@acme.example"),
            json!("acme-dev")
        ]
    );
}

/// Every custom resource under `examples/` is accepted by the API server as written (server-side
/// dry run), so users can copy them and `idgap scan -f` can read them.
#[tokio::test]
async fn every_example_is_accepted_by_the_api_server() {
    let cluster = Cluster::shared().await;
    cluster.install_crds().await;
    let ns = cluster.fresh_namespace("examples").await;
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .expect("examples/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 11,
        "expected at least 11 examples, found {}",
        files.len()
    );
    let mut kinds = std::collections::BTreeSet::new();
    for file in files {
        let yaml = std::fs::read_to_string(&file).unwrap();
        let applied = cluster
            .dry_run_yaml(&ns, &yaml)
            .await
            .unwrap_or_else(|e| panic!("{} is rejected: {e}", file.display()));
        assert!(!applied.is_empty(), "{} holds no objects", file.display());
        for object in applied {
            kinds.insert(object.types.unwrap().kind);
        }
        let documents: Vec<serde_json::Value> = serde_yaml::Deserializer::from_str(&yaml)
            .map(|d| serde::Deserialize::deserialize(d).unwrap())
            .collect();
        // Secrets use stringData (readable, obviously fake values), and every Secret reference
        // in the file names a key one of its Secrets holds: the file works as copied.
        let mut secret_keys = std::collections::BTreeSet::new();
        for secret in documents.iter().filter(|d| d["kind"] == "Secret") {
            assert!(
                secret.get("data").is_none(),
                "{}: use stringData in examples",
                file.display()
            );
            let name = secret["metadata"]["name"].as_str().unwrap();
            for key in secret["stringData"].as_object().unwrap().keys() {
                secret_keys.insert((name.to_string(), key.clone()));
            }
        }
        for document in &documents {
            match document["kind"].as_str() {
                Some("SalesforceIntegration") => {
                    serde_json::from_value::<idgap::resources::SalesforceIntegration>(
                        document.clone(),
                    )
                    .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                }
                Some("IdentityProvider") => {
                    serde_json::from_value::<idgap::resources::IdentityProvider>(document.clone())
                        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                }
                _ => continue,
            }
            let mut refs = Vec::new();
            collect_secret_refs(&document["spec"], &mut refs);
            assert!(!refs.is_empty(), "{}: no Secret references", file.display());
            for reference in refs {
                assert!(
                    secret_keys.contains(&reference),
                    "{}: {reference:?} names no key of a Secret in the file",
                    file.display()
                );
            }
        }
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["IdentityProvider", "SalesforceIntegration", "Secret"]
    );
}

#[tokio::test]
async fn harness_gives_namespaces_and_service_account_tokens() {
    let cluster = Cluster::shared().await;
    let ns = cluster.fresh_namespace("harness").await;
    let token = cluster.token_for_service_account(&ns, "reader").await;
    let client = cluster.client_with_token(&token).await;
    // A fresh ServiceAccount may not list Secrets: RBAC is on.
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client, &ns);
    let err = secrets.list(&ListParams::default()).await.unwrap_err();
    match err {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 403);
            assert!(
                status
                    .message
                    .contains(&format!("system:serviceaccount:{ns}:reader")),
                "{}",
                status.message
            );
        }
        other => panic!("expected 403, got {other}"),
    }
    // The controller manager runs: it publishes the root CA into new namespaces.
    let config_maps: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(cluster.client().await, &ns);
    eventually(
        "kube-root-ca.crt in a new namespace",
        Duration::from_secs(30),
        || async { config_maps.get_opt("kube-root-ca.crt").await.ok().flatten() },
    )
    .await;
}

/// `{name, key}` objects (Secret references) anywhere under `value`.
fn collect_secret_refs(value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            if let (Some(Value::String(name)), Some(Value::String(key))) =
                (map.get("name"), map.get("key"))
            {
                out.push((name.clone(), key.clone()));
            }
            map.values().for_each(|v| collect_secret_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_secret_refs(v, out)),
        _ => {}
    }
}

/// The operator relies on these: findings carry an ownerReference to their integration, and
/// test namespaces are deleted.
#[tokio::test]
async fn controller_manager_collects_garbage_and_deletes_namespaces() {
    use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
    let cluster = Cluster::shared().await;
    cluster.install_crds().await;
    let ns = cluster.fresh_namespace("gc").await;
    let owner = cluster
        .apply_yaml(&ns, &serde_json::to_string(&sfi(|_| {})).unwrap())
        .await
        .unwrap()
        .remove(0);
    let mut dependent = finding(|_| {});
    dependent["metadata"]["ownerReferences"] = json!([{
        "apiVersion": "idgap.io/v1alpha1", "kind": "SalesforceIntegration",
        "name": owner.metadata.name, "uid": owner.metadata.uid, "controller": true
    }]);
    cluster
        .apply_yaml(&ns, &dependent.to_string())
        .await
        .unwrap();
    let client = cluster.client().await;
    let integrations: Api<idgap::resources::SalesforceIntegration> =
        Api::namespaced(client.clone(), &ns);
    integrations
        .delete("acme-prod", &Default::default())
        .await
        .unwrap();
    let findings: Api<idgap::resources::AccessFinding> = Api::namespaced(client.clone(), &ns);
    eventually(
        "the owned AccessFinding to be garbage-collected",
        Duration::from_secs(60),
        || async {
            findings
                .get_opt("acme-prod-admin-not-in-idp-5f0c1a9e")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        },
    )
    .await;

    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    assert!(
        !config_maps
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let namespaces: Api<Namespace> = Api::all(client);
    namespaces.delete(&ns, &Default::default()).await.unwrap();
    eventually(
        "the namespace to be deleted",
        Duration::from_secs(60),
        || async {
            namespaces
                .get_opt(&ns)
                .await
                .unwrap()
                .is_none()
                .then_some(())
        },
    )
    .await;
}
