//! The directory fault matrix through the operator for Okta, Entra ID, Google Workspace and
//! OneLogin (JumpCloud's is in `faults.rs`): each provider's simulator, in its real auth mode,
//! is the linked IdentityProvider. Throttling and outage bursts with `Retry-After` and an
//! access token expiring between two pages are absorbed within the sync; persistent 503 and
//! 500 answers, cut-off and non-JSON pages, answers slower than the request timeout, a revoked
//! credential (and, for Entra and OneLogin, a client secret replaced until the Secret has the
//! new one) and an empty directory give the IdentityProvider the right condition and Warning
//! Event while the integration skips the IdP rules and keeps the AccessFindings of the last
//! good sync; a directory shrunk to a fifth is read but distrusted by the shrink guard. Each
//! fault clears into a full recovery.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use idgap::resources::IdentityProvider;
use idgap_sim::faults::{Fault, FaultRule, Faults};
use idgap_sim::idp::Directory;
use idgap_sim::idp::entra::{EntraSim, EntraSimOptions};
use idgap_sim::idp::google::{self, GoogleSim, GoogleSimOptions};
use idgap_sim::idp::okta::{OktaSim, OktaSimOptions};
use idgap_sim::idp::onelogin::{self, OneLoginSim, OneLoginSimOptions};
use serde_json::json;

use crate::env::{Env, LinkedIdp, condition, idp_condition, paging, small_directory, small_org};

const NAME: &str = "acme";
/// Every simulator serves two users a page, so the five-person directory takes three pages
/// and a fault can land between two of them.
const PAGE: usize = 2;
/// Enough matching requests that a fault outlasts every retry and backoff re-sync.
const PERSISTENT: u32 = 10_000;
/// The admin Google's service account acts as (domain-wide delegation).
const GOOGLE_ADMIN: &str = "integration@acme.com";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    Okta,
    Entra,
    Google,
    OneLogin,
}

/// A running simulator of one of the four providers.
enum Sim {
    Okta(OktaSim),
    Entra(EntraSim),
    Google(GoogleSim),
    OneLogin(OneLoginSim),
}

impl Sim {
    fn faults(&self) -> &Faults {
        match self {
            Sim::Okta(s) => s.faults(),
            Sim::Entra(s) => s.faults(),
            Sim::Google(s) => s.faults(),
            Sim::OneLogin(s) => s.faults(),
        }
    }

    fn set_directory(&self, d: Directory) {
        match self {
            Sim::Okta(s) => s.set_directory(d),
            Sim::Entra(s) => s.set_directory(d),
            Sim::Google(s) => s.set_directory(d),
            Sim::OneLogin(s) => s.set_directory(d),
        }
    }

    /// Makes the simulator accept only `secret` as the client secret (Entra, OneLogin).
    fn set_client_secret(&self, secret: &str) {
        match self {
            Sim::Entra(s) => s.update_options(|o| o.client_secret = Some(secret.to_string())),
            Sim::OneLogin(s) => s.update_options(|o| o.client_secret = secret.to_string()),
            Sim::Okta(_) | Sim::Google(_) => panic!("not a client-secret provider"),
        }
    }

    /// (token, user list) requests that reached the simulator, faulted ones included.
    fn requests(&self) -> (u64, u64) {
        match self {
            Sim::Okta(s) => (s.requests().token, s.requests().users),
            Sim::Entra(s) => (s.requests().token, s.requests().users),
            Sim::Google(s) => (s.requests().token, s.requests().users),
            Sim::OneLogin(s) => (s.requests().token, s.requests().users),
        }
    }
}

impl Provider {
    fn label(self) -> &'static str {
        match self {
            Provider::Okta => "okta",
            Provider::Entra => "entra",
            Provider::Google => "google",
            Provider::OneLogin => "onelogin",
        }
    }

    /// User-list requests of a clean read of the five-person directory: three pages, and
    /// for Okta one more for the deprovisioned users its default list leaves out.
    fn clean_reads(self) -> u64 {
        match self {
            Provider::Okta => 4,
            _ => 3,
        }
    }

    fn users_path(self) -> &'static str {
        match self {
            Provider::Okta => "/api/v1/users",
            Provider::Entra => "/v1.0/users",
            Provider::Google => "/admin/directory/v1/users",
            Provider::OneLogin => "/api/2/users",
        }
    }

    fn token_path(self) -> &'static str {
        match self {
            Provider::Okta => "/oauth2/v1/token",
            Provider::Entra => "/oauth2/v2.0/token",
            Provider::Google => "/token",
            Provider::OneLogin => "/auth/oauth2/v2/token",
        }
    }

    /// The provider's own throttling answer, asking to wait a second.
    fn throttled(self) -> Fault {
        let fault = match self {
            // Okta's wait is X-Rate-Limit-Reset (epoch seconds), which it always sends.
            Provider::Okta => OktaSim::rate_limited(Duration::from_secs(1)),
            Provider::Entra => EntraSim::throttled(1),
            Provider::Google => google::quota_fault("rateLimitExceeded"),
            Provider::OneLogin => onelogin::rate_limited_fault(1),
        };
        with_retry_after(fault, Some(1))
    }

    fn server_error(self, status: u16, retry_after: Option<u64>) -> Fault {
        let fault = match self {
            Provider::OneLogin => onelogin::server_error_fault(status),
            _ => Fault::Status {
                status,
                retry_after: None,
                body: None,
                headers: Vec::new(),
            },
        };
        with_retry_after(fault, retry_after)
    }

    /// What the token endpoint says about a revoked credential.
    fn revoked_message(self) -> &'static str {
        match self {
            Provider::Okta => "invalid_client",
            Provider::Entra => "7000222",
            Provider::Google => "invalid_grant",
            Provider::OneLogin => "Authentication Failure",
        }
    }

    /// Starts the simulator serving `directory`, and describes the IdentityProvider and
    /// Secret that link it in its real auth mode. `private_key_pem` is a TEST-ONLY RSA key
    /// (the Salesforce simulator's, so no second key is generated).
    async fn start(self, directory: Directory, private_key_pem: &str) -> (Sim, LinkedIdp) {
        let nonce = rand::random::<u64>();
        let secret = format!("{}-creds", self.label());
        match self {
            Provider::Okta => {
                let client_id = "0oarelfaults00000001";
                let mut options = OktaSimOptions::new("unused", client_id);
                options.api_token = None;
                options.key_id = Some("rel-key-1".into());
                options.page_cap = PAGE;
                let sim = OktaSim::start(directory, options).await.unwrap();
                let spec = json!({ "okta": {
                    "domain": "acme.okta.com",
                    "baseUrl": sim.base_url(),
                    "serviceApp": {
                        "clientId": client_id,
                        "keyId": "rel-key-1",
                        "dpop": true,
                        "privateKey": { "name": secret, "key": "private-key.pem" },
                    },
                }});
                let linked = linked(self, spec, &secret, &[("private-key.pem", private_key_pem)]);
                (Sim::Okta(sim), linked)
            }
            Provider::Entra => {
                let (tenant, client) = (
                    "0a0b0c0d-0000-4000-8000-00000000aaaa",
                    "11111111-2222-4333-8444-555555555555",
                );
                let client_secret = format!("entra~secret~{nonce:016x}");
                let mut options = EntraSimOptions::new(tenant, client, &client_secret);
                options.served_page_cap = PAGE;
                let sim = EntraSim::start(directory, options).await.unwrap();
                let spec = json!({ "entraId": {
                    "tenantId": tenant,
                    "clientId": client,
                    "clientSecret": { "name": secret, "key": "client-secret" },
                    "loginBaseUrl": sim.base_url(),
                    "graphBaseUrl": sim.base_url(),
                }});
                let linked = linked(self, spec, &secret, &[("client-secret", &client_secret)]);
                (Sim::Entra(sim), linked)
            }
            Provider::Google => {
                let service_account = "idgap-rel@idgap-rel.iam.gserviceaccount.com";
                let mut options = GoogleSimOptions::new(GOOGLE_ADMIN, service_account);
                options.page_cap = PAGE;
                // The assertion's RS256 signature is checked, as at Google.
                options.public_key_pem =
                    Some(google::public_key_pem_of(private_key_pem).expect("a PKCS#8 RSA key"));
                let sim = GoogleSim::start(directory, options).await.unwrap();
                let key_json = json!({
                    "type": "service_account",
                    "project_id": "idgap-rel",
                    "private_key_id": format!("{nonce:040x}"),
                    "private_key": private_key_pem,
                    "client_email": service_account,
                    "client_id": "100000000000000000001",
                    "token_uri": sim.token_url(),
                })
                .to_string();
                let spec = json!({ "googleWorkspace": {
                    "subject": GOOGLE_ADMIN,
                    "serviceAccountKey": { "name": secret, "key": "key.json" },
                    "tokenUrl": sim.token_url(),
                    "apiBaseUrl": sim.base_url(),
                }});
                let linked = linked(self, spec, &secret, &[("key.json", &key_json)]);
                (Sim::Google(sim), linked)
            }
            Provider::OneLogin => {
                let client_id = format!("onelogin-client-{nonce:016x}");
                let client_secret = format!("onelogin-secret-{:032x}", rand::random::<u128>());
                let mut options = OneLoginSimOptions::new(&client_id, &client_secret);
                options.page_cap = PAGE;
                let sim = OneLoginSim::start(directory, options).await.unwrap();
                let spec = json!({ "oneLogin": {
                    "subdomain": "acme",
                    "clientId": { "name": secret, "key": "client-id" },
                    "clientSecret": { "name": secret, "key": "client-secret" },
                    "baseUrl": sim.base_url(),
                }});
                let mut linked = linked(
                    self,
                    spec,
                    &secret,
                    &[("client-id", &client_id), ("client-secret", &client_secret)],
                );
                // A client ID is not a secret; only the secret joins the leak checks.
                linked.secret_values = vec![client_secret];
                (Sim::OneLogin(sim), linked)
            }
        }
    }
}

fn linked(p: Provider, spec: serde_json::Value, secret: &str, data: &[(&str, &str)]) -> LinkedIdp {
    LinkedIdp {
        name: p.label().to_string(),
        spec,
        secret: secret.to_string(),
        data: data
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        secret_values: data.iter().map(|(_, v)| v.to_string()).collect(),
    }
}

fn with_retry_after(fault: Fault, seconds: Option<u64>) -> Fault {
    match fault {
        Fault::Status {
            status,
            body,
            headers,
            ..
        } => Fault::Status {
            status,
            retry_after: seconds,
            body,
            headers,
        },
        other => other,
    }
}

/// Panics raised outside the test code (the operator, a client, a simulator), counted by a
/// hook that otherwise behaves like the default one.
static FOREIGN_PANICS: AtomicU64 = AtomicU64::new(0);

fn count_foreign_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_tests = info
                .location()
                .is_some_and(|l| l.file().starts_with("tests/"));
            if !in_tests {
                FOREIGN_PANICS.fetch_add(1, Ordering::Relaxed);
            }
            previous(info);
        }));
    });
}

fn assert_no_panic(case: &str) {
    assert_eq!(
        FOREIGN_PANICS.load(Ordering::Relaxed),
        0,
        "{case}: code outside the tests panicked (see the output above)"
    );
}

struct Scenario {
    env: Env,
    sim: Sim,
    provider: Provider,
    findings: Vec<(String, String)>,
    /// Token and user-list requests of one clean directory read.
    clean: (u64, u64),
}

/// The operator with `provider` linked, one good sync done: the exact findings, and the
/// requests a clean directory read takes.
async fn synced(provider: Provider) -> Scenario {
    count_foreign_panics();
    let prefix = format!("rel-{}", provider.label());
    let mut env =
        Env::start_with(&prefix, small_org(), small_directory(), paging(false), true).await;
    let key = env.sf.credentials().private_key_pem;
    let (sim, linked) = provider.start(small_directory(), &key).await;
    env.link(linked);
    env.create_secrets().await;
    env.create_linked_identity_provider().await;
    env.create_integration(NAME, env.integration_spec(&env.sf.base_url()))
        .await;
    env.wait_ready_reason(NAME, "Succeeded").await;
    let org_id = env.sf.org().lock().org_id();
    assert_eq!(
        env.finding_keys().await,
        vec![
            ("session-ip-not-enforced".to_string(), org_id),
            (
                "stale-active-user".to_string(),
                "carol@acme.com".to_string()
            ),
            ("user-not-in-idp".to_string(), "bob@acme.com".to_string()),
        ],
        "{provider:?}: the findings of a good sync"
    );
    let findings = env.finding_versions().await;
    let mut s = Scenario {
        env,
        sim,
        provider,
        findings,
        clean: (0, 0),
    };
    let (ready, requests, idp) = s.idp_sync("clean").await;
    assert_eq!(ready_pair(&ready), ("True", "Succeeded"), "{}", ready.2);
    let status = idp.status.unwrap();
    assert_eq!(
        (
            status.provider.as_deref(),
            status.accounts,
            status.active_accounts,
            status.suspended_accounts
        ),
        (Some(provider_kind(provider)), Some(5), Some(4), Some(1)),
        "{provider:?}"
    );
    assert_eq!(
        requests.1,
        provider.clean_reads(),
        "{provider:?}: pages of two"
    );
    s.clean = requests;
    s.expect_clean_sync("clean-integration").await;
    s
}

fn provider_kind(p: Provider) -> &'static str {
    let kind = match p {
        Provider::Okta => idgap_model::ProviderKind::Okta,
        Provider::Entra => idgap_model::ProviderKind::EntraId,
        Provider::Google => idgap_model::ProviderKind::GoogleWorkspace,
        Provider::OneLogin => idgap_model::ProviderKind::OneLogin,
    };
    kind.as_str()
}

fn ready_pair(r: &crate::env::ReadyView) -> (&str, &str) {
    (r.0.as_str(), r.1.as_str())
}

impl Scenario {
    /// Reads the directory with `token`: the IdP's Ready condition, the (token, user list)
    /// requests that reached the simulator, and the IdentityProvider.
    async fn idp_sync(&self, token: &str) -> (crate::env::ReadyView, (u64, u64), IdentityProvider) {
        let before = self.sim.requests();
        let idp = self.env.sync_idp_now(token).await;
        let after = self.sim.requests();
        let ready = idp_condition(&idp, "Ready").unwrap();
        (
            (ready.status, ready.reason, ready.message),
            (after.0 - before.0, after.1 - before.1),
            idp,
        )
    }

    /// An integration sync: Ready=True, the IdPs synced, no finding written or changed.
    async fn expect_clean_sync(&self, token: &str) {
        let writes = self.env.writes();
        let obj = self.env.sync_now(NAME, token).await;
        let ready = condition(&obj, "Ready").unwrap();
        let case = format!("{:?} {token}", self.provider);
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("True", "Succeeded"),
            "{case}: {ready:?}"
        );
        assert_eq!(
            condition(&obj, "IdentityProvidersSynced").map(|c| c.status),
            Some("True".to_string()),
            "{case}"
        );
        assert!(
            obj.status.clone().unwrap().skipped_rules.is_empty(),
            "{case}: nothing skipped"
        );
        assert_eq!(self.env.finding_versions().await, self.findings, "{case}");
        assert_eq!(self.env.writes(), writes, "{case}: no finding written");
        assert_no_panic(&case);
    }

    /// The integration's sync after the directory read failed or was distrusted: still
    /// Ready (Salesforce was read), the IdP rules skipped with `why`, the findings of the last
    /// good sync untouched.
    async fn expect_idp_rules_skipped(&self, token: &str, why: &str, idp_failed: bool) {
        let writes = self.env.writes();
        let obj = self.env.sync_now(NAME, token).await;
        let case = format!("{:?} {token}", self.provider);
        let ready = condition(&obj, "Ready").unwrap();
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("True", "Succeeded"),
            "{case}: {ready:?}"
        );
        let synced = condition(&obj, "IdentityProvidersSynced").unwrap();
        let expected = if idp_failed {
            ("False", "IdentityProviderFailed")
        } else {
            ("True", synced.reason.as_str())
        };
        assert_eq!(
            (synced.status.as_str(), synced.reason.as_str()),
            expected,
            "{case}: {synced:?}"
        );
        let skipped: Vec<(String, String)> = obj
            .status
            .clone()
            .unwrap()
            .skipped_rules
            .into_iter()
            .map(|s| (s.rule, s.reason))
            .collect();
        for rule in ["admin-not-in-idp", "user-not-in-idp", "stale-active-user"] {
            let reason = skipped
                .iter()
                .find(|(r, _)| r == rule)
                .map(|(_, reason)| reason.as_str())
                .unwrap_or_else(|| panic!("{case}: {rule} skipped, got {skipped:?}"));
            let label = format!("identity provider `{}`", self.env.idp_name());
            assert!(
                reason.starts_with(&label) && reason.contains(why),
                "{case}: {reason}"
            );
        }
        assert_eq!(
            self.env.finding_versions().await,
            self.findings,
            "{case}: findings kept"
        );
        assert_eq!(self.env.writes(), writes, "{case}: no finding written");
        assert_no_panic(&case);
    }

    /// Writes `secret` as the linked Secret's `client-secret`, keeping its other keys.
    async fn put_client_secret(&self, secret: &str) {
        let linked = self.env.linked.as_ref().expect("a linked provider");
        let data: Vec<(&str, &str)> = linked
            .data
            .iter()
            .map(|(k, v)| {
                let v = if k == "client-secret" { secret } else { v };
                (k.as_str(), v)
            })
            .collect();
        self.env.put_secret(&linked.secret, &data).await;
    }

    /// Every Warning with `reason` is about the IdentityProvider, from its directory sync.
    async fn expect_warning_about_idp(&self, reason: &str, label: &str) {
        let warnings: Vec<_> = self
            .env
            .events()
            .await
            .into_iter()
            .filter(|e| {
                e.type_.as_deref() == Some("Warning") && e.reason.as_deref() == Some(reason)
            })
            .collect();
        assert!(!warnings.is_empty(), "{label}");
        for e in warnings {
            let about = e.regarding.unwrap_or_default();
            assert_eq!(
                (
                    about.kind.as_deref(),
                    about.name.as_deref(),
                    e.action.as_deref()
                ),
                (
                    Some("IdentityProvider"),
                    Some(self.env.idp_name()),
                    Some("SyncDirectory")
                ),
                "{label}"
            );
        }
    }

    /// A burst the client's retries absorb: read in full, `extra` more user-list requests
    /// and `extra_tokens` more token requests than a clean read, nothing written.
    async fn expect_absorbed(&self, case: &str, rule: FaultRule, extra: u64, extra_tokens: u64) {
        let writes = self.env.writes();
        self.sim.faults().push(rule);
        let (ready, requests, _) = self.idp_sync(case).await;
        let label = format!("{:?} {case}", self.provider);
        assert_eq!(
            ready_pair(&ready),
            ("True", "Succeeded"),
            "{label}: {}",
            ready.2
        );
        assert_eq!(
            requests,
            (self.clean.0 + extra_tokens, self.clean.1 + extra),
            "{label}: (token, user list) requests"
        );
        assert_eq!(self.env.writes(), writes, "{label}: no finding written");
        self.expect_clean_sync(&format!("{case}-integration")).await;
    }

    /// A persistent directory fault: the IdP Ready=False with `reason` naming `in_message`,
    /// a Warning Event, the integration skipping the IdP rules with its findings kept; then
    /// `clear` and a full recovery.
    async fn expect_fault_then_recovery(
        &self,
        case: &str,
        reason: &str,
        in_message: &[&str],
        inject: impl FnOnce(&Self),
        clear: impl AsyncFnOnce(&Self),
    ) {
        let label = format!("{:?} {case}", self.provider);
        let (warnings, _) = self.env.warnings(reason).await;
        inject(self);
        let (ready, _, idp) = self.idp_sync(case).await;
        assert_eq!(
            ready_pair(&ready),
            ("False", reason),
            "{label}: {}",
            ready.2
        );
        for part in in_message {
            assert!(ready.2.contains(part), "{label}: {part:?} in {}", ready.2);
        }
        assert!(
            idp_condition(&idp, "Stalled").is_none(),
            "{label}: it may come back"
        );
        let notes = self.env.wait_warning(reason, warnings).await;
        if warnings == 0 {
            assert_eq!(notes, vec![ready.2.clone()], "{label}: the Warning's note");
        }
        self.expect_warning_about_idp(reason, &label).await;
        self.expect_idp_rules_skipped(
            &format!("{case}-integration"),
            &format!("sync failed: {}", ready.2),
            true,
        )
        .await;

        clear(self).await;
        let (ready, _, _) = self.idp_sync(&format!("{case}-cleared")).await;
        assert_eq!(
            ready_pair(&ready),
            ("True", "Succeeded"),
            "{label}: {}",
            ready.2
        );
        self.expect_clean_sync(&format!("{case}-recovered")).await;
    }
}

/// The whole matrix for one provider.
async fn fault_matrix(provider: Provider) {
    let s = synced(provider).await;
    let users = provider.users_path();
    let token = provider.token_path();

    // Bursts with Retry-After: 1, retried within the read.
    s.expect_absorbed(
        "burst-429",
        FaultRule::new(users, provider.throttled()).times(2),
        2,
        0,
    )
    .await;
    s.expect_absorbed(
        "burst-503",
        FaultRule::new(users, provider.server_error(503, Some(1))).times(2),
        2,
        0,
    )
    .await;
    // The access token dies between the first and the second page: the client fetches a
    // new one and asks for the page again, in the same read.
    s.expect_absorbed(
        "expire-mid-paging",
        FaultRule::new(users, Fault::ExpireToken).skip(1),
        1,
        1,
    )
    .await;

    for (case, reason, in_message, fault, path) in [
        (
            "persistent-503",
            "Unreachable",
            ["gave up after 5 attempts", "503 Service Unavailable"],
            provider.server_error(503, None),
            users,
        ),
        (
            "persistent-500",
            "Unreachable",
            ["gave up after 5 attempts", "500 Internal Server Error"],
            provider.server_error(500, None),
            users,
        ),
        (
            "truncated",
            "UnexpectedResponse",
            [users, "EOF while parsing"],
            Fault::TruncateBody,
            users,
        ),
        (
            "not-json",
            "UnexpectedResponse",
            [users, "<html><body><h1>Service temporarily unavailable"],
            Fault::NotJson,
            users,
        ),
        (
            "slow",
            "Unreachable",
            ["could not reach", "timed out"],
            Fault::Delay(Duration::from_secs(2)),
            users,
        ),
        (
            "revoked",
            "AuthenticationFailed",
            ["authentication failed", provider.revoked_message()],
            Fault::RevokeCredential,
            token,
        ),
    ] {
        s.expect_fault_then_recovery(
            case,
            reason,
            &in_message,
            |s| {
                s.sim
                    .faults()
                    .push(FaultRule::new(path, fault).times(PERSISTENT))
            },
            async |s: &Scenario| s.sim.faults().clear(),
        )
        .await;
    }

    // The client secret revoked and a new one issued: AuthenticationFailed until the new
    // secret is put into the Secret, which the next read picks up.
    if let Some(rejected) = match provider {
        Provider::Entra => Some("AADSTS7000215"),
        Provider::OneLogin => Some("Authentication Failure"),
        Provider::Okta | Provider::Google => None,
    } {
        let fresh = format!("rotated-secret-{:032x}", rand::random::<u128>());
        crate::capture::register_secret(&fresh);
        s.expect_fault_then_recovery(
            "secret-rotated",
            "AuthenticationFailed",
            &["authentication failed", rejected],
            |s| s.sim.set_client_secret(&fresh),
            async |s: &Scenario| s.put_client_secret(&fresh).await,
        )
        .await;
    }

    // No accounts at all: the read fails and the last good snapshot stays.
    s.expect_fault_then_recovery(
        "empty",
        "EmptyDirectory",
        &["the directory returned no accounts"],
        |s| s.sim.set_directory(Directory::from_people(Vec::new())),
        async |s: &Scenario| s.sim.set_directory(small_directory()),
    )
    .await;

    // A fifth of the accounts: read, but the shrink guard distrusts it.
    let people = small_directory().people;
    s.sim
        .set_directory(Directory::from_people(people[..1].to_vec()));
    let (ready, _, _) = s.idp_sync("fifth").await;
    assert_eq!(
        ready_pair(&ready),
        ("True", "Succeeded"),
        "{provider:?}: {}",
        ready.2
    );
    s.expect_idp_rules_skipped("after-fifth", "returned 1 accounts, 80% fewer", false)
        .await;
    s.sim.set_directory(small_directory());
    let (ready, _, _) = s.idp_sync("restored").await;
    assert_eq!(
        ready_pair(&ready),
        ("True", "Succeeded"),
        "{provider:?}: {}",
        ready.2
    );
    s.expect_clean_sync("after-restore").await;

    assert_no_panic(&format!("{provider:?}"));
    s.env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_directory_faults_keep_findings_and_recover() {
    fault_matrix(Provider::Okta).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_directory_faults_keep_findings_and_recover() {
    fault_matrix(Provider::Entra).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_directory_faults_keep_findings_and_recover() {
    fault_matrix(Provider::Google).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onelogin_directory_faults_keep_findings_and_recover() {
    fault_matrix(Provider::OneLogin).await;
}

/// While the IdP rules are skipped their findings are kept, so the status summary (the
/// Critical/High/… columns of `kubectl get salesforceintegrations`) and the Ready message
/// must still count them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_counts_kept_findings_while_idp_rules_are_skipped() {
    let s = synced(Provider::Entra).await;
    let good = s.env.integrations().get(NAME).await.unwrap();
    let good_summary = good.status.clone().unwrap().summary.unwrap();
    assert_eq!((good_summary.total, good_summary.high), (3, 2));
    let good_message = condition(&good, "Ready").unwrap().message;

    s.sim.faults().push(
        FaultRule::new(
            Provider::Entra.users_path(),
            Provider::Entra.server_error(503, None),
        )
        .times(PERSISTENT),
    );
    let (ready, _, _) = s.idp_sync("outage").await;
    assert_eq!(ready_pair(&ready), ("False", "Unreachable"), "{}", ready.2);
    let obj = s.env.sync_now(NAME, "outage-integration").await;
    assert_eq!(s.env.finding_versions().await, s.findings, "findings kept");
    assert_eq!(
        obj.status.clone().unwrap().summary.unwrap(),
        good_summary,
        "the summary counts the kept findings"
    );
    assert_eq!(condition(&obj, "Ready").unwrap().message, good_message);
    s.sim.faults().clear();
    s.env.finish().await;
}
