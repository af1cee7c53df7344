//! Shared by the CLI tests: running the binary, the simulators behind a scan, manifests.

use std::collections::BTreeSet;
use std::path::PathBuf;

use idgap_sim::idp::entra::{EntraSim, EntraSimOptions};
use idgap_sim::idp::okta::{OktaSim, OktaSimOptions};
use idgap_sim::salesforce::{SalesforceSim, SimOptions};
use jiff::Timestamp;

pub const OKTA_TOKEN: &str = "00test-okta-token-Zq81";
pub const ENTRA_TENANT: &str = "11111111-2222-4333-8444-555555555555";
pub const ENTRA_CLIENT: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
pub const ENTRA_SECRET: &str = "test~entra~secret~Wk7";

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the built `idgap` binary with `args` and waits for it.
pub async fn idgap(args: &[&str]) -> Output {
    idgap_with_env(args, &[]).await
}

/// Like [`idgap`], with extra environment variables (`RUST_LOG` is unset otherwise).
pub async fn idgap_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_idgap"))
        .args(args)
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .output()
        .await
        .expect("the idgap binary runs");
    Output {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// The story org behind simulated Salesforce, Okta and Entra ID, and its manifests written
/// to a temporary directory.
pub struct Fixture {
    pub salesforce: SalesforceSim,
    pub okta: OktaSim,
    pub entra: EntraSim,
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub async fn start() -> Fixture {
        Fixture::start_with(SimOptions::default()).await
    }

    pub async fn start_with(options: SimOptions) -> Fixture {
        Fixture::start_with_org(options, |_| {}).await
    }

    /// The story with its Salesforce org changed by `edit` (language, permissions, …).
    pub async fn start_with_org(
        options: SimOptions,
        edit: impl FnOnce(&mut idgap_sim::salesforce::OrgData),
    ) -> Fixture {
        let mut story = idgap::demo::story::build(Timestamp::now());
        edit(&mut story.org);
        let salesforce = SalesforceSim::start(story.org, options).await.unwrap();
        let okta = OktaSim::start(story.okta, OktaSimOptions::new(OKTA_TOKEN, "0oatest"))
            .await
            .unwrap();
        let entra = EntraSim::start(
            story.entra,
            EntraSimOptions::new(ENTRA_TENANT, ENTRA_CLIENT, ENTRA_SECRET),
        )
        .await
        .unwrap();
        let f = Fixture {
            salesforce,
            okta,
            entra,
            dir: tempfile::tempdir().unwrap(),
        };
        for name in [
            "secrets.yaml",
            "identity-providers.yaml",
            "integration.yaml",
        ] {
            f.write(name, &f.fill(&fixture(name), ""));
        }
        f
    }

    /// Replaces the `${…}` placeholders of a template with this fixture's values.
    pub fn fill(&self, template: &str, severity_overrides: &str) -> String {
        use base64::Engine;
        let creds = self.salesforce.credentials();
        let expires = Timestamp::now()
            .checked_add(jiff::SignedDuration::from_hours(24 * 400))
            .unwrap()
            .strftime("%Y-%m-%d")
            .to_string();
        template
            .replace("${SF_URL}", &self.salesforce.base_url())
            .replace("${SF_CLIENT_ID}", &creds.client_id)
            .replace(
                "${SF_CLIENT_SECRET_B64}",
                &base64::engine::general_purpose::STANDARD.encode(&creds.client_secret),
            )
            .replace("${SF_REFRESH_TOKEN}", &creds.refresh_token)
            .replace("${OKTA_URL}", &self.okta.base_url())
            .replace("${OKTA_TOKEN}", OKTA_TOKEN)
            .replace("${ENTRA_URL}", &self.entra.base_url())
            .replace("${ENTRA_TENANT}", ENTRA_TENANT)
            .replace("${ENTRA_CLIENT}", ENTRA_CLIENT)
            .replace("${ENTRA_SECRET}", ENTRA_SECRET)
            .replace("${EXPIRES}", &expires)
            .replace("${SEVERITY_OVERRIDES}", severity_overrides)
    }

    pub fn write(&self, name: &str, contents: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path.display().to_string()
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    pub fn dir(&self) -> String {
        self.dir.path().display().to_string()
    }

    /// Every credential value the fixture handed out: none may ever be printed.
    pub fn secret_values(&self) -> Vec<String> {
        let creds = self.salesforce.credentials();
        vec![
            creds.client_secret,
            creds.refresh_token,
            OKTA_TOKEN.to_string(),
            ENTRA_SECRET.to_string(),
        ]
    }

    /// Runs `idgap scan --allow-host 127.0.0.1 -f <dir>` plus `extra`.
    pub async fn scan(&self, extra: &[&str]) -> Output {
        let dir = self.dir();
        let mut args = vec!["scan", "--allow-host", "127.0.0.1", "-f", dir.as_str()];
        args.extend_from_slice(extra);
        idgap(&args).await
    }
}

pub fn fixture(name: &str) -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        "scan",
        name,
    ]
    .iter()
    .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The story's findings as (rule, username or "", app or ""): 13 in all.
pub fn expected_findings() -> BTreeSet<(String, String, String)> {
    [
        ("admin-not-in-idp", "ghost.admin@acme.com", ""),
        ("data-export-by-non-admin", "bob@acme.com", ""),
        ("user-not-in-idp", "carol@acme.com", ""),
        ("stale-active-user", "dave@acme.com", ""),
        ("admin-modify-all-data", "alice.admin@acme.com", ""),
        ("admin-modify-all-data", "ghost.admin@acme.com", ""),
        ("admin-view-all-data", "alice.admin@acme.com", ""),
        ("admin-view-all-data", "ghost.admin@acme.com", ""),
        ("bulk-data-export", "alice.admin@acme.com", ""),
        ("bulk-data-export", "bob@acme.com", ""),
        (
            "connected-app-unknown-user",
            "ghost.admin@acme.com",
            "Workbench",
        ),
        (
            "connected-app-unknown-user",
            "carol@acme.com",
            "Dataloader Partner",
        ),
        ("session-ip-not-enforced", "", ""),
    ]
    .into_iter()
    .map(|(r, u, a)| (r.to_string(), u.to_string(), a.to_string()))
    .collect()
}

pub const ALL_RULES: [&str; 9] = [
    "admin-not-in-idp",
    "user-not-in-idp",
    "stale-active-user",
    "connected-app-unknown-user",
    "admin-modify-all-data",
    "admin-view-all-data",
    "session-ip-not-enforced",
    "bulk-data-export",
    "data-export-by-non-admin",
];

/// Asserts that `text` contains none of `secrets`.
pub fn assert_no_secret(text: &str, secrets: &[String]) {
    for s in secrets {
        assert!(
            !text.contains(s.as_str()),
            "a secret value was printed:\n{text}"
        );
    }
}

/// A small RFC 4180 reader: quoted fields, doubled quotes, CRLF records.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                other => field.push(other),
            }
            continue;
        }
        match c {
            '"' => {
                assert!(field.is_empty(), "a quote inside an unquoted field");
                quoted = true;
            }
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "records end with CRLF");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            '\n' => panic!("bare LF outside a quoted field"),
            other => field.push(other),
        }
    }
    assert!(!quoted, "unterminated quoted field");
    assert!(field.is_empty() && row.is_empty(), "last record lacks CRLF");
    rows
}

/// The SARIF subset schema of `tests/fixtures`, with formats checked.
pub fn sarif_validator() -> jsonschema::Validator {
    let schema_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sarif-2.1.0-subset.schema.json"
    );
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles")
}

pub fn assert_valid_sarif(doc: &serde_json::Value) {
    let errors: Vec<String> = sarif_validator()
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF does not validate:\n{}",
        errors.join("\n")
    );
}

/// The string field `key` of every item of the JSON array `list`.
pub(crate) fn strings<'a>(list: &'a serde_json::Value, key: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item[key].as_str().unwrap())
        .collect()
}
