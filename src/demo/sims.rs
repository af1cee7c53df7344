//! Starts the simulators on loopback and writes the manifests that point at them: shared by
//! `idgap demo` (in-process) and `idgap sim` (standalone).

use idgap_sim::idp::Directory;
use idgap_sim::idp::entra::{EntraSim, EntraSimOptions};
use idgap_sim::idp::okta::{OktaSim, OktaSimOptions};
use idgap_sim::salesforce::{GenerateSpec, OrgData, SalesforceSim, SimOptions};
use jiff::Timestamp;

use super::story;

/// TEST-ONLY credentials the simulated Okta accepts.
pub const OKTA_API_TOKEN: &str = "00sim-okta-api-token-not-a-real-secret";
const OKTA_CLIENT_ID: &str = "0oasimulatedclient";
/// TEST-ONLY app registration the simulated Entra ID accepts.
pub const ENTRA_TENANT_ID: &str = "6f1c2a9e-0000-4000-8000-00000000acme";
pub const ENTRA_CLIENT_ID: &str = "0b8f3d2c-0000-4000-8000-000000000001";
pub const ENTRA_CLIENT_SECRET: &str = "sim~entra~client~secret~not~real";

/// Which org the simulators serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// The demo's story org, where every rule fires at least once.
    Story,
    /// A seeded org and directories of any size.
    Generated,
}

/// What to generate for [`Scenario::Generated`].
#[derive(Debug, Clone)]
pub struct GeneratedSize {
    pub users: usize,
    pub idp_accounts: usize,
    pub seed: u64,
}

/// Running simulators. Dropping this stops them.
pub struct Sims {
    pub salesforce: SalesforceSim,
    pub okta: OktaSim,
    pub entra: EntraSim,
    pub scenario: Scenario,
    /// Fixed-port entry points (`idgap sim --port`), used in the printed manifests.
    pub forwards: Option<Forwards>,
}

/// Loopback ports forwarded to the simulators' own (random) ports.
pub struct Forwards {
    pub salesforce: u16,
    pub okta: u16,
    pub entra: u16,
    _tasks: Vec<AbortOnDrop>,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Accepts on `127.0.0.1:port` and pipes each connection to `target`.
async fn forward(port: u16, target: std::net::SocketAddr) -> std::io::Result<AbortOnDrop> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    Ok(AbortOnDrop(tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    })))
}

fn addr_of(base_url: &str) -> std::io::Result<std::net::SocketAddr> {
    base_url
        .trim_start_matches("http://")
        .parse()
        .map_err(|_| std::io::Error::other(format!("simulator URL `{base_url}` is not host:port")))
}

impl Sims {
    pub async fn start_story(now: Timestamp) -> std::io::Result<(Sims, story::Story)> {
        let story = story::build(now);
        let sims = Sims::start(
            story.org.clone(),
            story.okta.clone(),
            story.entra.clone(),
            Scenario::Story,
        )
        .await?;
        Ok((sims, story))
    }

    pub async fn start_generated(size: &GeneratedSize, now: Timestamp) -> std::io::Result<Sims> {
        let domain = "acme.example";
        let org = OrgData::generate(
            size.seed,
            &GenerateSpec {
                users: size.users,
                oauth_grants: size.users / 2,
                audit_events: size.users.clamp(50, 5000),
                domain: domain.to_string(),
                anchor: now,
                sandbox: false,
            },
        );
        let okta = Directory::generate(size.seed, size.idp_accounts, domain);
        // A second, smaller directory: part of the company lives in Entra ID.
        let entra = Directory::generate(size.seed ^ 0x5eed, size.idp_accounts / 4, domain);
        Sims::start(org, okta, entra, Scenario::Generated).await
    }

    async fn start(
        org: OrgData,
        okta: Directory,
        entra: Directory,
        scenario: Scenario,
    ) -> std::io::Result<Sims> {
        let salesforce = SalesforceSim::start(org, SimOptions::default()).await?;
        let okta =
            OktaSim::start(okta, OktaSimOptions::new(OKTA_API_TOKEN, OKTA_CLIENT_ID)).await?;
        let entra = EntraSim::start(
            entra,
            EntraSimOptions::new(ENTRA_TENANT_ID, ENTRA_CLIENT_ID, ENTRA_CLIENT_SECRET),
        )
        .await?;
        Ok(Sims {
            salesforce,
            okta,
            entra,
            scenario,
            forwards: None,
        })
    }

    /// Serves the simulators on `port`, `port + 1` and `port + 2` as well.
    pub async fn forward_from(&mut self, port: u16) -> std::io::Result<()> {
        if port == 0 || port > u16::MAX - 2 {
            return Err(std::io::Error::other(
                "the port must be between 1 and 65533",
            ));
        }
        let ports = [port, port + 1, port + 2];
        let tasks = vec![
            forward(ports[0], addr_of(&self.salesforce.base_url())?).await?,
            forward(ports[1], addr_of(&self.okta.base_url())?).await?,
            forward(ports[2], addr_of(&self.entra.base_url())?).await?,
        ];
        // Links in answers must name the forwarded ports the clients were given.
        self.salesforce
            .advertise(&format!("http://127.0.0.1:{}", ports[0]));
        self.okta
            .advertise(&format!("http://127.0.0.1:{}", ports[1]));
        self.entra
            .advertise(&format!("http://127.0.0.1:{}", ports[2]));
        self.forwards = Some(Forwards {
            salesforce: ports[0],
            okta: ports[1],
            entra: ports[2],
            _tasks: tasks,
        });
        Ok(())
    }

    /// The URLs to hand out: the fixed ports when forwarding, else the simulators' own.
    pub fn urls(&self) -> (String, String, String) {
        match &self.forwards {
            Some(f) => (
                format!("http://127.0.0.1:{}", f.salesforce),
                format!("http://127.0.0.1:{}", f.okta),
                format!("http://127.0.0.1:{}", f.entra),
            ),
            None => (
                self.salesforce.base_url(),
                self.okta.base_url(),
                self.entra.base_url(),
            ),
        }
    }

    /// Secrets, IdentityProviders and a SalesforceIntegration pointing at these simulators,
    /// as multi-document YAML ready for `idgap scan -f` or `kubectl apply -f`.
    pub fn manifests(&self, namespace: &str, now: Timestamp) -> String {
        let creds = self.salesforce.credentials();
        let (sf_url, okta_url, entra_url) = self.urls();
        let q = |s: &str| serde_json::to_string(s).expect("strings serialize");
        let story_rules = match self.scenario {
            Scenario::Story => {
                let expires = (now + jiff::SignedDuration::from_hours(24 * 365))
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .date();
                format!(
                    "  rules:\n    domainAliases:\n      - {{ domain: acme.io, sameAs: acme.com }}\n  exclusions:\n    - rule: user-not-in-idp\n      users: [{}]\n      reason: {}\n      expires: \"{expires}\"\n",
                    q(story::INTEGRATION_USER),
                    q(story::EXCLUSION_REASON),
                )
            }
            Scenario::Generated => String::new(),
        };
        format!(
            r#"# Simulated Salesforce org, Okta and Entra ID (TEST-ONLY credentials). Scan with:
#   idgap scan --allow-host 127.0.0.1 -f <this file>
apiVersion: v1
kind: Secret
metadata:
  name: acme-salesforce
  namespace: {ns}
stringData:
  client_id: {client_id}
  client_secret: {client_secret}
  refresh_token: {refresh_token}
---
apiVersion: v1
kind: Secret
metadata:
  name: okta-token
  namespace: {ns}
stringData:
  token: {okta_token}
---
apiVersion: v1
kind: Secret
metadata:
  name: entra-app
  namespace: {ns}
stringData:
  client_secret: {entra_secret}
---
apiVersion: idgap.io/v1alpha1
kind: IdentityProvider
metadata:
  name: okta
  namespace: {ns}
spec:
  interval: 30m
  okta:
    domain: acme.okta.com
    baseUrl: {okta_url}
    apiToken: {{ name: okta-token, key: token }}
---
apiVersion: idgap.io/v1alpha1
kind: IdentityProvider
metadata:
  name: entra
  namespace: {ns}
spec:
  interval: 30m
  entraId:
    tenantId: {entra_tenant}
    clientId: {entra_client}
    clientSecret: {{ name: entra-app, key: client_secret }}
    loginBaseUrl: {entra_url}
    graphBaseUrl: {entra_url}
---
apiVersion: idgap.io/v1alpha1
kind: SalesforceIntegration
metadata:
  name: acme-prod
  namespace: {ns}
spec:
  interval: 1h
  loginUrl: {sf_url}
  auth:
    refreshToken:
      clientId: {{ name: acme-salesforce, key: client_id }}
      clientSecret: {{ name: acme-salesforce, key: client_secret }}
      refreshToken: {{ name: acme-salesforce, key: refresh_token }}
  identityProviderRefs:
    - name: okta
    - name: entra
{story_rules}"#,
            ns = q(namespace),
            client_id = q(&creds.client_id),
            client_secret = q(&creds.client_secret),
            refresh_token = q(&creds.refresh_token),
            okta_token = q(OKTA_API_TOKEN),
            okta_url = q(&okta_url),
            entra_secret = q(ENTRA_CLIENT_SECRET),
            entra_tenant = q(ENTRA_TENANT_ID),
            entra_client = q(ENTRA_CLIENT_ID),
            entra_url = q(&entra_url),
            sf_url = q(&sf_url),
        )
    }
}
