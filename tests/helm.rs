//! The Helm chart (`charts/idgap`): lint, render, schema-validated values, and install/upgrade
//! into a real API server, where the operator's ServiceAccount gets what it needs and no more.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use idgap::operator::OperatorConfig;
use idgap::operator::metrics::Metrics;
use idgap::resources::{AccessFinding, IdentityProvider, SalesforceIntegration};
use idgap_sim::idp::jumpcloud::{JumpCloudSim, JumpCloudSimOptions};
use idgap_sim::idp::{Directory, Person, PersonState};
use idgap_sim::salesforce::{OrgData, SalesforceSim, SimOptions};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::rbac::v1::{ClusterRole, Role};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_yaml::Value;
use support::{Cluster, eventually, testbin_dir};

fn chart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/idgap")
}

/// `helm` without a cluster, with its cache/config dirs inside the target dir.
fn helm_offline() -> Command {
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("helm-home");
    let mut command = Command::new(testbin_dir().join("helm"));
    command
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env_remove("KUBECONFIG");
    command
}

fn run(mut command: Command) -> Output {
    command.output().expect("run helm")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// Renders the chart with `--set` values into its documents.
fn render(sets: &[&str]) -> Vec<Value> {
    let mut command = helm_offline();
    command
        .args(["template", "idgap"])
        .arg(chart())
        .args(["--namespace", "idgap-system"]);
    for set in sets {
        command.args(["--set", set]);
    }
    let output = run(command);
    assert!(
        output.status.success(),
        "helm template {sets:?} failed: {}",
        text(&output.stderr)
    );
    serde_yaml::Deserializer::from_str(&text(&output.stdout))
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .filter(|v: &Value| !v.is_null())
        .collect()
}

fn kinds(documents: &[Value]) -> Vec<String> {
    let mut kinds: Vec<String> = documents
        .iter()
        .map(|d| {
            format!(
                "{}/{}",
                d["kind"].as_str().unwrap(),
                d["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    kinds.sort();
    kinds
}

fn find<'a>(documents: &'a [Value], kind: &str) -> Vec<&'a Value> {
    documents.iter().filter(|d| d["kind"] == kind).collect()
}

fn args(documents: &[Value]) -> Vec<String> {
    let deployment = find(documents, "Deployment")[0];
    deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn helm_lint_passes_strict() {
    let mut command = helm_offline();
    command.args(["lint", "--strict"]).arg(chart());
    let output = run(command);
    assert!(
        output.status.success(),
        "helm lint --strict failed:\n{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

#[test]
fn default_render_is_one_hardened_replica_with_cluster_wide_rbac() {
    let documents = render(&[]);
    assert_eq!(
        kinds(&documents),
        [
            "ClusterRole/idgap",
            "ClusterRole/idgap-edit",
            "ClusterRole/idgap-view",
            "ClusterRoleBinding/idgap",
            "CustomResourceDefinition/accessfindings.idgap.io",
            "CustomResourceDefinition/identityproviders.idgap.io",
            "CustomResourceDefinition/salesforceintegrations.idgap.io",
            "Deployment/idgap",
            "Service/idgap-metrics",
            "ServiceAccount/idgap",
        ]
    );
    let deployment = find(&documents, "Deployment")[0];
    let spec = &deployment["spec"];
    assert_eq!(spec["replicas"], Value::from(1));
    assert_eq!(spec["strategy"]["type"], Value::from("Recreate"));
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], Value::from(true));
    assert_eq!(pod["securityContext"]["runAsUser"], Value::from(65532));
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        Value::from("RuntimeDefault")
    );
    let container = &pod["containers"][0];
    let security = &container["securityContext"];
    assert_eq!(security["readOnlyRootFilesystem"], Value::from(true));
    assert_eq!(security["allowPrivilegeEscalation"], Value::from(false));
    assert_eq!(security["capabilities"]["drop"][0], Value::from("ALL"));
    assert_eq!(
        container["livenessProbe"]["httpGet"]["path"],
        Value::from("/healthz")
    );
    assert_eq!(
        container["readinessProbe"]["httpGet"]["path"],
        Value::from("/readyz")
    );
    assert!(container["resources"]["limits"]["memory"].is_string());
    assert_eq!(
        args(&documents),
        [
            "run",
            "--metrics-addr=0.0.0.0:8080",
            "--log-format=json",
            "--request-timeout=30s",
            "--max-concurrent-reconciles=4"
        ]
    );
    // The view role aggregates into the built-in view role, and is read-only.
    let view = find(&documents, "ClusterRole")
        .into_iter()
        .find(|r| r["metadata"]["name"] == "idgap-view")
        .unwrap();
    assert_eq!(
        view["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"],
        Value::from("true")
    );
    assert_eq!(
        view["rules"][0]["verbs"],
        serde_yaml::from_str::<Value>("[get, list, watch]").unwrap()
    );
    // No lease permissions without leader election.
    let text = serde_yaml::to_string(&documents).unwrap();
    assert!(!text.contains("coordination.k8s.io"));
}

#[test]
fn leader_election_replicas_namespaces_and_options_render() {
    let documents = render(&[
        "replicas=2",
        "leaderElection.enabled=true",
        "watchNamespaces={team-a,team-b}",
        "allowHosts={proxy.internal.example:3128}",
        "logFormat=text",
        "networkPolicy.enabled=true",
        "serviceMonitor.enabled=true",
    ]);
    assert_eq!(
        kinds(&documents),
        [
            "ClusterRole/idgap-edit",
            "ClusterRole/idgap-view",
            "CustomResourceDefinition/accessfindings.idgap.io",
            "CustomResourceDefinition/identityproviders.idgap.io",
            "CustomResourceDefinition/salesforceintegrations.idgap.io",
            "Deployment/idgap",
            "NetworkPolicy/idgap",
            "PodDisruptionBudget/idgap",
            "Role/idgap",
            "Role/idgap",
            "Role/idgap-leader-election",
            "RoleBinding/idgap",
            "RoleBinding/idgap",
            "RoleBinding/idgap-leader-election",
            "Service/idgap-metrics",
            "ServiceAccount/idgap",
            "ServiceMonitor/idgap",
        ]
    );
    let mut role_namespaces: Vec<&str> = find(&documents, "Role")
        .iter()
        .map(|r| r["metadata"]["namespace"].as_str().unwrap())
        .collect();
    role_namespaces.sort();
    assert_eq!(role_namespaces, ["idgap-system", "team-a", "team-b"]);
    let deployment = find(&documents, "Deployment")[0];
    assert_eq!(
        deployment["spec"]["strategy"]["type"],
        Value::from("RollingUpdate")
    );
    assert_eq!(
        args(&documents),
        [
            "run",
            "--metrics-addr=0.0.0.0:8080",
            "--log-format=text",
            "--request-timeout=30s",
            "--max-concurrent-reconciles=4",
            "--allow-host=proxy.internal.example:3128",
            "--watch-namespace=team-a",
            "--watch-namespace=team-b",
            "--leader-election"
        ]
    );
    // Leases: create, and get/update of the operator's own Lease only.
    let lease_role = find(&documents, "Role")
        .into_iter()
        .find(|r| r["metadata"]["name"] == "idgap-leader-election")
        .unwrap();
    assert_eq!(
        lease_role["rules"][1]["resourceNames"][0],
        Value::from("idgap-operator")
    );
}

#[test]
fn pdb_needs_several_replicas_and_crds_can_be_left_out_or_released() {
    let one_replica = render(&["leaderElection.enabled=true"]);
    assert!(find(&one_replica, "PodDisruptionBudget").is_empty());
    let without_crds = render(&["crds.install=false"]);
    assert!(find(&without_crds, "CustomResourceDefinition").is_empty());
    let released = render(&["crds.keep=false"]);
    for crd in find(&released, "CustomResourceDefinition") {
        assert!(
            crd["metadata"]["annotations"].is_null(),
            "no keep annotation with crds.keep=false"
        );
    }
    for crd in find(&render(&[]), "CustomResourceDefinition") {
        assert_eq!(
            crd["metadata"]["annotations"]["helm.sh/resource-policy"],
            Value::from("keep")
        );
    }
}

/// The chart renders exactly the CRDs in `crds/` (which `tests/crds.rs` checks against the
/// Rust types): one source of truth.
#[test]
fn chart_crds_are_the_generated_crds() {
    let rendered = render(&[]);
    for crd in find(&rendered, "CustomResourceDefinition") {
        let name = crd["metadata"]["name"].as_str().unwrap();
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("crds")
            .join(format!("{name}.yaml"));
        let mut generated: serde_json::Value =
            serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let mut rendered: serde_json::Value = serde_json::to_value(crd).unwrap();
        // The chart adds its labels and the keep annotation; nothing else may differ.
        rendered["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("labels");
        rendered["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("annotations");
        normalize_numbers(&mut rendered);
        normalize_numbers(&mut generated);
        assert!(
            rendered == generated,
            "the chart's {name} differs from {}",
            file.display()
        );
    }
}

/// Helm's fromYaml/toYaml turns `1.0` into `1`; compare numbers by value.
fn normalize_numbers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n) => {
            *value = serde_json::Value::from(n.as_f64().unwrap());
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(normalize_numbers),
        serde_json::Value::Object(map) => map.values_mut().for_each(normalize_numbers),
        _ => {}
    }
}

#[test]
fn invalid_values_are_refused_before_anything_is_installed() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["replicas=two"], &["/replicas", "want integer"]),
        (&["replicas=0"], &["/replicas", "minimum"]),
        (
            &["replicas=2"],
            &["/leaderElection/enabled", "must be true"],
        ),
        (&["logFormat=xml"], &["/logFormat", "'json', 'text'"]),
        (
            &["replica=2"],
            &["additional properties 'replica' not allowed"],
        ),
        (
            &["watchNamespaces={Team_A}"],
            &["/watchNamespaces/0", "does not match pattern"],
        ),
        (
            &["requestTimeout=30 seconds"],
            &["/requestTimeout", "does not match pattern"],
        ),
        (
            &["image.digest=latest"],
            &["/image/digest", "does not match pattern"],
        ),
        (
            &["leaderElection.enabled=yes"],
            &["/leaderElection/enabled", "want boolean"],
        ),
        (&["service.type=ExternalName"], &["/service/type"]),
        (&["crds.install=maybe"], &["/crds/install", "want boolean"]),
    ];
    for (sets, expect) in cases {
        let mut command = helm_offline();
        command.args(["template", "idgap"]).arg(chart());
        for set in *sets {
            command.args(["--set", set]);
        }
        let output = run(command);
        let stderr = text(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{sets:?} must fail; stderr: {stderr}"
        );
        assert!(
            stderr.contains("values don't meet the specifications of the schema"),
            "{sets:?}: {stderr}"
        );
        for fragment in *expect {
            assert!(
                stderr.contains(fragment),
                "{sets:?}: stderr lacks {fragment:?}: {stderr}"
            );
        }
    }
    // The template guard catches the same mistake when schema validation is skipped.
    let mut command = helm_offline();
    command.args(["template", "idgap"]).arg(chart()).args([
        "--skip-schema-validation",
        "--set",
        "replicas=3",
    ]);
    let output = run(command);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("replicas > 1 needs leaderElection.enabled=true"));
}

fn helm_on(cluster: &Cluster, args: &[&str]) -> Output {
    let mut command = cluster.helm();
    command.args(args);
    let output = run(command);
    assert!(
        output.status.success(),
        "helm {args:?} failed:\n{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    output
}

fn forbidden<T: std::fmt::Debug>(result: Result<T, kube::Error>, what: &str) -> String {
    match result {
        Err(kube::Error::Api(status)) if status.code == 403 => status.message.clone(),
        other => panic!("{what}: expected 403 Forbidden, got {other:?}"),
    }
}

async fn secret(cluster: &Cluster, ns: &str, name: &str) {
    let secrets: Api<Secret> = Api::namespaced(cluster.client().await, ns);
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "metadata": { "name": name },
        "stringData": { "token": "fake" }
    }))
    .unwrap();
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
}

/// Install, then upgrade to namespaced mode, against the real API server; the chart's
/// ServiceAccount can do what the operator needs and is refused the rest.
#[tokio::test]
async fn chart_installs_upgrades_and_grants_only_what_the_operator_needs() {
    let cluster = Cluster::shared_without_crds().await;
    let _serial = HELM_RELEASES.lock().await;
    let release_ns = cluster.fresh_namespace("idgap-system").await;
    let watched = cluster.fresh_namespace("team-a").await;
    let other = cluster.fresh_namespace("team-b").await;
    secret(cluster, &watched, "okta-creds").await;
    secret(cluster, &other, "payroll-db").await;
    let chart = chart().display().to_string();

    helm_on(
        cluster,
        &["install", "idgap", &chart, "--namespace", &release_ns],
    );
    let admin = cluster.client().await;
    let crds: Api<CustomResourceDefinition> = Api::all(admin.clone());
    for name in [
        "salesforceintegrations.idgap.io",
        "identityproviders.idgap.io",
        "accessfindings.idgap.io",
    ] {
        support::cluster::wait_established(&crds, name, Duration::from_secs(30)).await;
    }

    // Cluster-wide mode: it can read Secrets everywhere (the documented tradeoff), never
    // delete a Deployment.
    let token = cluster
        .token_for_service_account(&release_ns, "idgap")
        .await;
    let operator = cluster.client_with_token(&token).await;
    let findings_all: Api<idgap::resources::AccessFinding> = Api::all(operator.clone());
    findings_all
        .list(&ListParams::default())
        .await
        .expect("list accessfindings cluster-wide");
    let other_secrets: Api<Secret> = Api::namespaced(operator.clone(), &other);
    other_secrets
        .get("payroll-db")
        .await
        .expect("cluster-wide mode reads every Secret");
    let deployments: Api<Deployment> = Api::namespaced(operator.clone(), &release_ns);
    let message = forbidden(
        deployments.delete("idgap", &DeleteParams::default()).await,
        "delete Deployment",
    );
    assert!(
        message.contains(&format!("system:serviceaccount:{release_ns}:idgap")),
        "{message}"
    );

    // Readers of a namespace can read findings through the aggregated view role.
    let viewer_token = cluster.token_for_service_account(&watched, "viewer").await;
    cluster
        .apply_yaml(
            &watched,
            &format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: viewer\n\
                 roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: view\n\
                 subjects:\n- kind: ServiceAccount\n  name: viewer\n  namespace: {watched}\n"
            ),
        )
        .await
        .unwrap();
    let viewer = cluster.client_with_token(&viewer_token).await;
    let viewer_findings: Api<idgap::resources::AccessFinding> =
        Api::namespaced(viewer.clone(), &watched);
    eventually(
        "view to aggregate idgap-view",
        Duration::from_secs(30),
        || async { viewer_findings.list(&ListParams::default()).await.ok() },
    )
    .await;
    let viewer_secrets: Api<Secret> = Api::namespaced(viewer, &watched);
    forbidden(
        viewer_secrets.list(&ListParams::default()).await,
        "viewer lists secrets",
    );

    // Upgrade to namespaced mode.
    let set = format!("watchNamespaces={{{watched}}}");
    helm_on(
        cluster,
        &[
            "upgrade",
            "idgap",
            &chart,
            "--namespace",
            &release_ns,
            "--set",
            &set,
        ],
    );
    let cluster_roles: Api<ClusterRole> = Api::all(admin.clone());
    assert!(
        cluster_roles.get_opt("idgap").await.unwrap().is_none(),
        "no cluster-wide role in namespaced mode"
    );
    let roles_watched: Api<Role> = Api::namespaced(admin.clone(), &watched);
    roles_watched
        .get("idgap")
        .await
        .expect("a Role in the watched namespace");
    let roles_other: Api<Role> = Api::namespaced(admin.clone(), &other);
    assert!(
        roles_other
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );

    // The same token now reads only the watched namespace.
    eventually("the ClusterRoleBinding removal to reach the authorizer", Duration::from_secs(30), || async {
        matches!(other_secrets.get("payroll-db").await, Err(kube::Error::Api(ref s)) if s.code == 403).then_some(())
    })
    .await;
    let watched_secrets: Api<Secret> = Api::namespaced(operator.clone(), &watched);
    watched_secrets
        .get("okta-creds")
        .await
        .expect("reads Secrets in the watched namespace");
    let watched_findings: Api<idgap::resources::AccessFinding> =
        Api::namespaced(operator.clone(), &watched);
    watched_findings
        .list(&ListParams::default())
        .await
        .expect("lists findings in the watched namespace");
    forbidden(
        findings_all.list(&ListParams::default()).await,
        "list findings cluster-wide",
    );
    forbidden(
        deployments.delete("idgap", &DeleteParams::default()).await,
        "delete Deployment",
    );
    // Status only: the operator may not edit what users declared.
    cluster
        .apply_yaml(
            &watched,
            "apiVersion: idgap.io/v1alpha1\nkind: IdentityProvider\nmetadata:\n  name: okta\nspec:\n  okta:\n    \
             domain: acme.okta.com\n    apiToken: { name: okta-creds, key: token }\n",
        )
        .await
        .unwrap();
    let idps: Api<idgap::resources::IdentityProvider> = Api::namespaced(operator.clone(), &watched);
    forbidden(
        idps.patch(
            "okta",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({ "spec": { "suspend": true } })),
        )
        .await,
        "patch an IdentityProvider's spec",
    );
    idps.patch_status(
        "okta",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({ "status": { "provider": "okta" } })),
    )
    .await
    .expect("patch an IdentityProvider's status");

    // Uninstall keeps the CRDs (and so everyone's resources).
    helm_on(cluster, &["uninstall", "idgap", "--namespace", &release_ns]);
    for name in [
        "salesforceintegrations.idgap.io",
        "identityproviders.idgap.io",
        "accessfindings.idgap.io",
    ] {
        assert!(
            crds.get_opt(name).await.unwrap().is_some(),
            "{name} kept after uninstall"
        );
    }
}

/// The operator itself, in-process, authenticated as the chart's ServiceAccount (not admin),
/// in namespaced mode: a full sync against the Salesforce and JumpCloud simulators succeeds with
/// only what the chart grants (read Secrets and specs; write status, findings and the rotated
/// refresh token).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_with_the_charts_service_account_completes_a_sync() {
    let cluster = Cluster::shared_without_crds().await;
    let _serial = HELM_RELEASES.lock().await;
    let release_ns = cluster.fresh_namespace("idgap-e2e-system").await;
    let watched = cluster.fresh_namespace("team-e2e").await;
    let admin = cluster.client().await;
    let crds: Api<CustomResourceDefinition> = Api::all(admin.clone());
    // The CRDs are cluster-wide and kept after uninstall: install them with this release only
    // when no earlier release left them, and then remove them again at the end.
    let install_crds = crds
        .get_opt("accessfindings.idgap.io")
        .await
        .unwrap()
        .is_none();
    let chart = chart().display().to_string();
    let watch = format!("watchNamespaces={{{watched}}}");
    let crd_install = format!("crds.install={install_crds}");
    helm_on(
        cluster,
        &[
            "install",
            E2E_RELEASE,
            &chart,
            "--namespace",
            &release_ns,
            "--set",
            &watch,
            "--set",
            &crd_install,
            "--set",
            "crds.keep=false",
        ],
    );
    for name in CRD_NAMES {
        support::cluster::wait_established(&crds, name, Duration::from_secs(30)).await;
    }

    let sf = SalesforceSim::start(e2e_org(), SimOptions::default().rotate_refresh_tokens())
        .await
        .expect("start the Salesforce simulator");
    let jc = JumpCloudSim::start(e2e_directory(), JumpCloudSimOptions::new(E2E_JC_KEY))
        .await
        .expect("start the JumpCloud simulator");
    let first_refresh_token = sf.credentials().refresh_token;
    create_e2e_inputs(cluster, &watched, &sf, &jc).await;

    let token = cluster
        .token_for_service_account(&release_ns, E2E_RELEASE)
        .await;
    let operator_client = cluster.client_with_token(&token).await;
    // Namespaced mode: the token is refused cluster-wide, so the operator below cannot be
    // relying on anything but the Role in the watched namespace.
    let findings_all: Api<AccessFinding> = Api::all(operator_client.clone());
    forbidden(
        findings_all.list(&ListParams::default()).await,
        "list findings cluster-wide",
    );
    let metrics = Arc::new(Metrics::new());
    let operator = idgap::operator::start(
        operator_client,
        OperatorConfig {
            allow_hosts: vec!["127.0.0.1".into()],
            watch_namespaces: vec![watched.clone()],
            max_concurrent_reconciles: 4,
            request_timeout: Duration::from_secs(5),
            retry: idgap_net::RetryPolicy::quick(),
            instance: Some("test-helm-e2e".into()),
        },
        metrics.clone(),
        Arc::new(AtomicBool::new(false)),
    )
    .await
    .expect("start the operator with the chart's ServiceAccount");

    let integrations: Api<SalesforceIntegration> = Api::namespaced(admin.clone(), &watched);
    let synced = eventually(
        "the integration to finish a sync with Ready=True",
        Duration::from_secs(60),
        || async {
            let o = integrations.get(E2E_INTEGRATION).await.ok()?;
            let status = o.status.clone()?;
            let settled = status.observed_generation == o.metadata.generation
                && !status.conditions.iter().any(|c| c.type_ == "Reconciling");
            let ready = status
                .conditions
                .iter()
                .find(|c| c.type_ == "Ready")?
                .clone();
            (settled && ready.status == "True").then_some((o, ready))
        },
    )
    .await;
    let (integration, ready) = synced;
    assert_eq!(ready.reason, "Succeeded", "{ready:?}");
    let status = integration.status.unwrap();
    assert_eq!(status.summary.as_ref().unwrap().total, 3, "{status:?}");
    let inventory = status.inventory.unwrap();
    assert_eq!(
        (inventory.users, inventory.active_users, inventory.admins),
        (4, 4, 1)
    );

    let findings: Api<AccessFinding> = Api::namespaced(admin.clone(), &watched);
    let mut keys: Vec<(String, String)> = findings
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|f| (f.spec.rule, f.spec.subject.display))
        .collect();
    keys.sort();
    let org_id = sf.org().lock().org_id();
    assert_eq!(
        keys,
        [
            ("session-ip-not-enforced".to_string(), org_id),
            (
                "stale-active-user".to_string(),
                "carol@acme.com".to_string()
            ),
            ("user-not-in-idp".to_string(), "bob@acme.com".to_string()),
        ]
    );
    assert_eq!(metrics.finding_writes("create"), 3);
    // The org rotated the refresh token; the operator, as the ServiceAccount, wrote the new one
    // back (rbac.secretWrite).
    let secrets: Api<Secret> = Api::namespaced(admin.clone(), &watched);
    let stored = secrets.get(E2E_SF_SECRET).await.unwrap().data.unwrap()["refresh_token"]
        .0
        .clone();
    let stored = String::from_utf8(stored).unwrap();
    assert!(!stored.is_empty());
    assert_ne!(stored, first_refresh_token);

    operator.shutdown().await;
    helm_on(
        cluster,
        &["uninstall", E2E_RELEASE, "--namespace", &release_ns],
    );
    if install_crds {
        for name in CRD_NAMES {
            eventually(
                &format!("CRD {name} to be deleted with the release"),
                Duration::from_secs(60),
                || async { crds.get_opt(name).await.unwrap().is_none().then_some(()) },
            )
            .await;
        }
    }
}

/// The tests that install a release share cluster-wide objects (the CRDs, the aggregated
/// roles): one at a time.
static HELM_RELEASES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const CRD_NAMES: [&str; 3] = [
    "salesforceintegrations.idgap.io",
    "identityproviders.idgap.io",
    "accessfindings.idgap.io",
];
const E2E_RELEASE: &str = "idgap-e2e";
const E2E_INTEGRATION: &str = "acme";
const E2E_IDP: &str = "jumpcloud";
const E2E_SF_SECRET: &str = "sf-creds";
const E2E_JC_SECRET: &str = "jc-creds";
const E2E_JC_KEY: &str = "jc-helm-api-key-41c9e2";

/// integration@ (admin) and alice are in the IdP, bob is not, carol is suspended there;
/// sessions are not locked to IP.
fn e2e_org() -> OrgData {
    let t: jiff::Timestamp = "2025-06-01T00:00:00Z".parse().unwrap();
    let mut org = OrgData::new();
    let admin = org.add_profile("System Administrator");
    let standard = org.add_profile("Standard User");
    org.add_user("integration@acme.com", admin, t);
    org.add_user("alice@acme.com", standard, t);
    org.add_user("bob@acme.com", standard, t);
    org.add_user("carol@acme.com", standard, t);
    org.set_security(false, false);
    org
}

fn e2e_directory() -> Directory {
    Directory::from_people(vec![
        Person::active(1, "integration@acme.com"),
        Person::active(2, "alice@acme.com"),
        Person::active(3, "carol@acme.com").with_state(PersonState::Suspended),
        Person::active(4, "dan@acme.com"),
    ])
}

/// As admin: the credential Secrets, the JumpCloud IdentityProvider and the integration.
async fn create_e2e_inputs(cluster: &Cluster, ns: &str, sf: &SalesforceSim, jc: &JumpCloudSim) {
    let admin = cluster.client().await;
    let creds = sf.credentials();
    let secrets: Api<Secret> = Api::namespaced(admin.clone(), ns);
    for (name, data) in [
        (
            E2E_SF_SECRET,
            serde_json::json!({
                "client_id": creds.client_id,
                "client_secret": creds.client_secret,
                "refresh_token": creds.refresh_token,
            }),
        ),
        (E2E_JC_SECRET, serde_json::json!({ "api_key": E2E_JC_KEY })),
    ] {
        let secret: Secret = serde_json::from_value(serde_json::json!({
            "metadata": { "name": name },
            "stringData": data,
        }))
        .unwrap();
        secrets
            .create(&PostParams::default(), &secret)
            .await
            .unwrap();
    }
    let idp: IdentityProvider = serde_json::from_value(serde_json::json!({
        "apiVersion": "idgap.io/v1alpha1", "kind": "IdentityProvider",
        "metadata": { "name": E2E_IDP },
        "spec": {
            "interval": "30m",
            "jumpCloud": {
                "apiKey": { "name": E2E_JC_SECRET, "key": "api_key" },
                "baseUrl": jc.base_url(),
            }
        }
    }))
    .unwrap();
    Api::<IdentityProvider>::namespaced(admin.clone(), ns)
        .create(&PostParams::default(), &idp)
        .await
        .unwrap();
    let integration: SalesforceIntegration = serde_json::from_value(serde_json::json!({
        "apiVersion": "idgap.io/v1alpha1", "kind": "SalesforceIntegration",
        "metadata": { "name": E2E_INTEGRATION },
        "spec": {
            "interval": "1h",
            "loginUrl": sf.base_url(),
            "auth": { "refreshToken": {
                "clientId": { "name": E2E_SF_SECRET, "key": "client_id" },
                "clientSecret": { "name": E2E_SF_SECRET, "key": "client_secret" },
                "refreshToken": { "name": E2E_SF_SECRET, "key": "refresh_token" },
            }},
            "identityProviderRefs": [ { "name": E2E_IDP } ],
        }
    }))
    .unwrap();
    Api::<SalesforceIntegration>::namespaced(admin, ns)
        .create(&PostParams::default(), &integration)
        .await
        .unwrap();
}
