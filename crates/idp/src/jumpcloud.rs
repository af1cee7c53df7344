//! JumpCloud: the v1 `GET /api/systemusers` list with an administrator's API key
//! (`reference/idp-apis.md` §4).
//!
//! Paging is by offset (`skip`/`limit`, at most 100, always `sort=_id` so pages do not shift),
//! ending on a short page. Offset paging cannot see a directory that changes mid-read, so the
//! result is checked against `totalCount` and against duplicate ids: a mismatch is an error,
//! never a short list. 429 and 503 back off exponentially (JumpCloud documents no wait hint).

use std::collections::HashSet;

use idgap_model::{AccountStatus, IdpAccount};
use idgap_net::{
    Attempt, Http, HttpResponse, Method, SecretString, StatusCode, parse_retry_after,
    redacted_target,
};
use serde::Deserialize;

use crate::IdpError;

const PROVIDER: &str = "JumpCloud";
pub const DEFAULT_BASE_URL: &str = "https://console.jumpcloud.com";
const USERS_PATH: &str = "/api/systemusers";
const MAX_PAGE_SIZE: u32 = 100;

#[derive(Debug, Clone)]
pub struct JumpCloudConfig {
    /// An administrator's API key (sent as `x-api-key`).
    pub api_key: SecretString,
    /// The organisation id, required when the key belongs to a multi-tenant (MTP) administrator.
    pub org_id: Option<String>,
    /// Overrides `https://console.jumpcloud.com` (e.g. `https://console.eu.jumpcloud.com`).
    pub base_url: Option<String>,
    /// `limit` per page, 1–100.
    pub page_size: u32,
}

impl JumpCloudConfig {
    pub fn new(api_key: SecretString) -> Self {
        JumpCloudConfig {
            api_key,
            org_id: None,
            base_url: None,
            page_size: MAX_PAGE_SIZE,
        }
    }

    fn users_url(&self) -> String {
        let base = self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
        format!("{}{USERS_PATH}", base.trim_end_matches('/'))
    }

    fn validate(&self) -> Result<(), IdpError> {
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(config_error(format!(
                "pageSize {} is out of range; JumpCloud accepts 1 to {MAX_PAGE_SIZE}",
                self.page_size
            )));
        }
        if self.api_key.is_empty() {
            return Err(config_error("the API key is empty".into()));
        }
        if let Some(org) = &self.org_id
            && (org.len() != 24 || !org.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(config_error(
                "orgId must be the 24-hex-digit organisation id shown in the JumpCloud admin portal".into(),
            ));
        }
        Ok(())
    }
}

fn config_error(detail: String) -> IdpError {
    IdpError::Config {
        provider: PROVIDER,
        detail,
    }
}

pub(crate) async fn list_accounts(
    http: &Http,
    config: &JumpCloudConfig,
) -> Result<Vec<IdpAccount>, IdpError> {
    config.validate()?;
    let base = config.users_url();
    let target = http
        .check(&base)
        .map(|u| redacted_target(&u))
        .unwrap_or_else(|_| base.clone());
    let changed = |detail: String| IdpError::Protocol {
        provider: PROVIDER,
        target: target.clone(),
        detail: format!("{detail}; the directory changed during the read, run the sync again"),
    };
    let limit = config.page_size as usize;
    let mut accounts = Vec::new();
    let mut seen = HashSet::new();
    let mut first_total: Option<u64> = None;
    loop {
        let page = fetch_page(http, config, &base, &target, accounts.len()).await?;
        let total = *first_total.get_or_insert(page.total_count);
        if page.total_count != total {
            return Err(changed(format!(
                "totalCount went from {total} to {} between pages",
                page.total_count
            )));
        }
        let short = page.results.len() < limit;
        for user in page.results {
            if !seen.insert(user.id.clone()) {
                return Err(changed(format!("user {} appeared on two pages", user.id)));
            }
            accounts.push(user.into_account());
        }
        if short || accounts.len() as u64 >= total {
            break;
        }
    }
    let total = first_total.unwrap_or(0);
    if accounts.len() as u64 != total {
        return Err(changed(format!(
            "read {} users but totalCount says {total}",
            accounts.len()
        )));
    }
    Ok(accounts)
}

async fn fetch_page(
    http: &Http,
    config: &JumpCloudConfig,
    base: &str,
    target: &str,
    skip: usize,
) -> Result<UsersPage, IdpError> {
    let mut url =
        url::Url::parse(base).map_err(|_| config_error(format!("`{base}` is not a valid URL")))?;
    url.query_pairs_mut()
        .append_pair("limit", &config.page_size.to_string())
        .append_pair("skip", &skip.to_string())
        .append_pair("sort", "_id");
    let max_attempts = http.retry_policy().max_attempts;
    let mut answers = 0u32;
    http.request(
        "JumpCloud list users",
        Method::GET,
        url.as_str(),
        |rb| {
            let rb = rb
                .header("x-api-key", config.api_key.expose())
                .header("accept", "application/json");
            match &config.org_id {
                Some(org) => rb.header("x-org-id", org),
                None => rb,
            }
        },
        |resp| {
            answers += 1;
            page_answer(
                resp,
                target,
                config.org_id.is_some(),
                answers >= max_attempts,
            )
        },
    )
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsersPage {
    total_count: u64,
    results: Vec<SystemUser>,
}

/// The spec's `Error` definition.
#[derive(Deserialize)]
struct ApiError {
    #[serde(default)]
    message: String,
}

fn page_answer(
    resp: HttpResponse,
    target: &str,
    has_org_id: bool,
    last: bool,
) -> Attempt<UsersPage, IdpError> {
    let status = resp.status;
    if status == StatusCode::OK {
        return match serde_json::from_slice::<UsersPage>(&resp.body) {
            Ok(page) => Attempt::Done(page),
            Err(e) if e.is_data() || last => Attempt::Fail(protocol(
                target,
                format!(
                    "the user list could not be read ({e}); body starts: {}{}",
                    resp.body_excerpt(),
                    if e.is_data() {
                        "; is this host really JumpCloud?"
                    } else {
                        ""
                    }
                ),
            )),
            Err(e) => Attempt::Retry {
                after: None,
                reason: format!("the user list was cut off or not JSON ({e})"),
            },
        };
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        return Attempt::Retry {
            after: parse_retry_after(&resp.headers),
            reason: format!("JumpCloud answered {status}"),
        };
    }
    let Ok(error) = serde_json::from_slice::<ApiError>(&resp.body) else {
        return Attempt::Fail(protocol(
            target,
            format!(
                "HTTP {status} that is not a JumpCloud error: {}",
                resp.body_excerpt()
            ),
        ));
    };
    let detail = format!("JumpCloud answered {}: {}", status.as_u16(), error.message);
    Attempt::Fail(match status {
        StatusCode::UNAUTHORIZED if !has_org_id => IdpError::Auth {
            provider: PROVIDER,
            detail,
            hint: "check the API key (it stops working when its administrator resets it); a multi-tenant (MTP) administrator's key also needs orgId (sent as x-org-id)".into(),
        },
        StatusCode::UNAUTHORIZED => IdpError::Auth {
            provider: PROVIDER,
            detail,
            hint: "check the API key (it stops working when its administrator resets it)".into(),
        },
        StatusCode::FORBIDDEN => IdpError::Permission {
            provider: PROVIDER,
            detail,
            hint: "the administrator who owns the API key must be allowed to read users in this organisation".into(),
        },
        StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND if has_org_id => IdpError::Config {
            provider: PROVIDER,
            detail: format!("{detail}; check orgId (the organisation id this key may administer)"),
        },
        _ => protocol(target, detail),
    })
}

fn protocol(target: &str, detail: String) -> IdpError {
    IdpError::Protocol {
        provider: PROVIDER,
        target: target.to_string(),
        detail,
    }
}

#[derive(Deserialize)]
struct SystemUser {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default, rename = "alternateEmail")]
    alternate_email: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    suspended: Option<bool>,
    #[serde(default)]
    account_locked: Option<bool>,
}

impl SystemUser {
    fn into_account(self) -> IdpAccount {
        let state = self.state.clone().unwrap_or_default();
        let suspended = self.suspended.unwrap_or(false);
        let locked = self.account_locked.unwrap_or(false);
        let status = jumpcloud_status(&state, suspended, locked);
        let raw_status = format!("state={state},suspended={suspended},account_locked={locked}");
        let login = self
            .email
            .clone()
            .or_else(|| self.username.clone())
            .unwrap_or_default()
            .trim()
            .to_string();
        // A username only counts when it looks like an address; the recovery email is a
        // personal address and never matched.
        let username = self.username.filter(|u| u.contains('@'));
        let identifiers = crate::paging::identifiers(
            [self.email, self.alternate_email, username]
                .into_iter()
                .flatten(),
        );
        IdpAccount {
            id: self.id,
            login,
            identifiers,
            other_ids: Vec::new(),
            personal_addresses: Vec::new(),
            status,
            raw_status,
        }
    }
}

/// Suspension wins, then staging (not yet activated), then a lock.
fn jumpcloud_status(state: &str, suspended: bool, account_locked: bool) -> AccountStatus {
    if state.eq_ignore_ascii_case("SUSPENDED") || suspended {
        AccountStatus::Suspended
    } else if state.eq_ignore_ascii_case("STAGED") {
        AccountStatus::Pending
    } else if account_locked {
        AccountStatus::Locked
    } else {
        AccountStatus::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_mapping_table() {
        let rows = [
            (("ACTIVATED", false, false), AccountStatus::Active),
            (("SUSPENDED", false, false), AccountStatus::Suspended),
            (("ACTIVATED", true, false), AccountStatus::Suspended),
            (("SUSPENDED", true, true), AccountStatus::Suspended),
            (("STAGED", false, false), AccountStatus::Pending),
            (("STAGED", false, true), AccountStatus::Pending),
            (("ACTIVATED", false, true), AccountStatus::Locked),
            (("", false, false), AccountStatus::Active),
        ];
        for ((state, suspended, locked), want) in rows {
            assert_eq!(
                jumpcloud_status(state, suspended, locked),
                want,
                "state={state} suspended={suspended} locked={locked}"
            );
        }
    }

    #[test]
    fn identifiers_skip_plain_usernames_and_recovery_email() {
        let user: SystemUser = serde_json::from_value(json!({
            "_id": "5f1e1c0000000000000000a1", "username": "alice", "email": "Alice@Example.com ",
            "alternateEmail": "alice.alt@example.com",
            "recoveryEmail": {"address": "alice@personal.example", "verified": true},
            "state": "ACTIVATED", "suspended": false, "account_locked": false
        }))
        .unwrap();
        let account = user.into_account();
        assert_eq!(
            account.identifiers,
            ["alice.alt@example.com", "alice@example.com"]
        );
        assert_eq!(
            account.raw_status,
            "state=ACTIVATED,suspended=false,account_locked=false"
        );

        let user: SystemUser = serde_json::from_value(json!({
            "_id": "b", "username": "Bob@Example.com", "email": "bob@example.com", "state": "STAGED"
        }))
        .unwrap();
        let account = user.into_account();
        assert_eq!(account.identifiers, ["bob@example.com"]);
        assert_eq!(account.status, AccountStatus::Pending);
    }

    #[test]
    fn org_id_and_page_size_are_checked() {
        let mut config = JumpCloudConfig::new(SecretString::new("k"));
        config.org_id = Some("not-an-id".into());
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("24-hex-digit")
        );
        config.org_id = None;
        config.page_size = 101;
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("1 to 100")
        );
    }
}

/// Fuzz-style properties for JumpCloud's answers. Never a panic; an accepted page holds
/// every user of the body with the body's `totalCount`, and a cut body is never a page.
#[cfg(test)]
mod robustness {
    use super::*;
    use crate::paging::robustness::{
        apply, array_len, config, lossy_json, mutation, prefixes, response,
    };
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn page() -> Value {
        json!({
            "totalCount": 2,
            "results": [
                {"_id": "5f1", "username": "ada", "email": "ada@acme.com", "alternateEmail": "ada@home.example",
                 "state": "ACTIVATED", "suspended": false, "account_locked": false, "activated": true},
                {"_id": "5f2", "username": "bob@acme.com", "email": null, "state": "SUSPENDED", "suspended": true}
            ]
        })
    }

    fn statuses() -> impl Strategy<Value = u16> {
        prop::sample::select(vec![200u16, 200, 200, 400, 401, 403, 404, 429, 500])
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn user_pages_are_whole_or_refused(m in mutation(), status in statuses(), org in any::<bool>(), last in any::<bool>()) {
            let body = apply(&page(), &m);
            match page_answer(response(status, body.clone(), &[]), "t", org, last) {
                Attempt::Done(page) => {
                    prop_assert_eq!(status, 200);
                    prop_assert_eq!(Some(page.results.len()), array_len(&body, "results", 1));
                    // (A body deeper than `Value` allows, in a skipped field, has no oracle here.)
                    if let Some(v) = lossy_json(&body) {
                        let stated = v.get("totalCount").or_else(|| v.get(0)).and_then(Value::as_u64);
                        prop_assert_eq!(Some(page.total_count), stated);
                    }
                    for user in page.results {
                        prop_assert!(user.into_account().identifiers.iter().all(|i| !i.is_empty()));
                    }
                }
                Attempt::Retry { .. } => prop_assert!(status != 200 || !last),
                Attempt::Fail(_) => {}
            }
        }

        #[test]
        fn error_bodies_and_any_bytes_never_panic(
            m in mutation(), status in statuses(), body in prop::collection::vec(any::<u8>(), 0..256),
        ) {
            let error = apply(&json!({"message": "Unauthorized", "error": "x"}), &m);
            let _ = page_answer(response(status, error, &[("retry-after", "1")]), "t", true, false);
            let _ = page_answer(response(status, body, &[]), "t", false, true);
        }
    }

    #[test]
    fn a_cut_page_is_never_a_page() {
        for prefix in prefixes(&page()) {
            let answer = page_answer(response(200, prefix, &[]), "t", false, false);
            assert!(matches!(answer, Attempt::Retry { .. } | Attempt::Fail(_)));
        }
    }
}

/// Entry point for the coverage-guided fuzz targets in `fuzz/`: the answer function the
/// robustness properties above call. No behaviour of its own.
#[doc(hidden)]
pub mod fuzzing {
    use super::*;
    use crate::paging::fuzzing::Answer;

    /// A `/systemusers` answer: the stated `totalCount` and the page's accounts.
    pub fn page_answer(
        resp: HttpResponse,
        has_org_id: bool,
        last: bool,
    ) -> Answer<(u64, Vec<IdpAccount>)> {
        let attempt = super::page_answer(
            resp,
            "https://console.jumpcloud.com/api/systemusers",
            has_org_id,
            last,
        );
        Answer::from_attempt(attempt, |page| {
            Answer::Done((
                page.total_count,
                page.results
                    .into_iter()
                    .map(SystemUser::into_account)
                    .collect(),
            ))
        })
    }
}
