//! The simulator's wire shapes, checked raw: what the client relies on must match the
//! reference (`reference/salesforce-api.md`), or the client tests prove nothing.

mod common;

use base64::Engine;
use common::*;
use hmac::{Hmac, Mac};
use idgap_net::{Attempt, HttpResponse, Method, NetError};
use idgap_sim::salesforce::{OrgData, SimOptions};
use jiff::Timestamp;
use serde_json::Value;
use sha2::Sha256;

async fn raw(
    method: Method,
    url: &str,
    bearer: Option<&str>,
    form: Option<String>,
    headers: &[(&str, &str)],
) -> HttpResponse {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    http()
        .request::<HttpResponse, NetError>(
            "raw",
            method,
            url,
            |mut rb| {
                if let Some(t) = bearer {
                    rb = rb.bearer_auth(t);
                }
                if let Some(f) = &form {
                    rb = rb
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(f.clone());
                }
                for (k, v) in &headers {
                    rb = rb.header(k.as_str(), v.as_str());
                }
                rb
            },
            Attempt::Done,
        )
        .await
        .unwrap()
}

fn json(resp: &HttpResponse) -> Value {
    serde_json::from_slice(&resp.body).unwrap()
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn is_sf_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 28 && b[10] == b'T' && b[19] == b'.' && s.ends_with("+0000")
}

#[tokio::test]
async fn token_endpoint_shapes() {
    let (org, _) = scenario(Timestamp::now());
    let sim = start(org, SimOptions::default()).await;
    let c = sim.credentials();
    let url = format!("{}/services/oauth2/token", sim.base_url());
    let body = form(&[
        ("grant_type", "refresh_token"),
        ("client_id", &c.client_id),
        ("client_secret", &c.client_secret),
        ("refresh_token", &c.refresh_token),
    ]);
    let resp = raw(Method::POST, &url, None, Some(body), &[]).await;
    assert_eq!(resp.status.as_u16(), 200);
    let v = json(&resp);
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "access_token",
            "id",
            "instance_url",
            "issued_at",
            "scope",
            "signature",
            "token_type"
        ]
    );
    let issued_at = v["issued_at"].as_str().unwrap();
    assert_eq!(issued_at.len(), 13);
    assert!(issued_at.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(v["instance_url"], sim.base_url());
    assert_eq!(v["token_type"], "Bearer");
    let id = v["id"].as_str().unwrap();
    assert!(id.starts_with(&format!("{}/id/00D", sim.base_url())));
    let mut mac = Hmac::<Sha256>::new_from_slice(c.client_secret.as_bytes()).unwrap();
    mac.update(format!("{id}{issued_at}").as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(v["signature"], expected);

    for (pairs, error, description) in [
        (
            vec![
                ("grant_type", "refresh_token"),
                ("client_id", "nope"),
                ("refresh_token", "x"),
            ],
            "invalid_client_id",
            "client identifier invalid",
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("client_id", c.client_id.as_str()),
                ("refresh_token", "x"),
            ],
            "invalid_grant",
            "expired access/refresh token",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", c.client_id.as_str()),
                ("client_secret", "bad"),
            ],
            "invalid_grant",
            "authentication failure",
        ),
    ] {
        let resp = raw(Method::POST, &url, None, Some(form(&pairs)), &[]).await;
        assert_eq!(resp.status.as_u16(), 400);
        assert_eq!(
            json(&resp),
            serde_json::json!({ "error": error, "error_description": description })
        );
    }
}

#[tokio::test]
async fn query_page_shapes() {
    let (org, _) = scenario(Timestamp::now());
    let sim = start(org, SimOptions::default().min_batch_size(2)).await;
    let c = sim.credentials();
    let token_url = format!("{}/services/oauth2/token", sim.base_url());
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", &c.client_id),
        ("client_secret", &c.client_secret),
    ]);
    let token = json(&raw(Method::POST, &token_url, None, Some(body), &[]).await)["access_token"]
        .as_str()
        .unwrap()
        .to_string();

    let versions = raw(
        Method::GET,
        &format!("{}/services/data/", sim.base_url()),
        None,
        None,
        &[],
    )
    .await;
    assert!(versions.header("sforce-limit-info").is_none());
    assert!(
        json(&versions)
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["url"] == "/services/data/v62.0")
    );

    let q: String = url::form_urlencoded::byte_serialize(b"SELECT Id, Username, Profile.Name, UserRole.Name, CreatedDate FROM User ORDER BY Username").collect();
    let first = raw(
        Method::GET,
        &format!("{}/services/data/v62.0/query?q={q}", sim.base_url()),
        Some(&token),
        None,
        &[("Sforce-Query-Options", "batchSize=3")],
    )
    .await;
    assert_eq!(first.status.as_u16(), 200);
    let (used, limit) = sim.api_usage();
    assert_eq!(
        first.header("sforce-limit-info"),
        Some(format!("api-usage={used}/{limit}").as_str())
    );
    let page = json(&first);
    assert_eq!(page["totalSize"], 7);
    assert_eq!(page["done"], false);
    let next = page["nextRecordsUrl"].as_str().unwrap();
    assert!(
        next.starts_with("/services/data/v62.0/query/01g") && next.ends_with("-3"),
        "{next}"
    );
    let rec = &page["records"][0];
    assert_eq!(rec["Username"], "admin@acme.com");
    assert_eq!(rec["attributes"]["type"], "User");
    let id = rec["Id"].as_str().unwrap();
    assert_eq!(id.len(), 18);
    assert!(id.starts_with("005"));
    assert_eq!(
        rec["attributes"]["url"],
        format!("/services/data/v62.0/sobjects/User/{id}")
    );
    assert_eq!(rec["Profile"]["attributes"]["type"], "Profile");
    assert_eq!(rec["Profile"]["Name"], "System Administrator");
    assert_eq!(rec["UserRole"]["Name"], "CEO");
    assert!(
        is_sf_datetime(rec["CreatedDate"].as_str().unwrap()),
        "{}",
        rec["CreatedDate"]
    );
    assert_eq!(
        page["records"][1]["UserRole"],
        Value::Null,
        "an empty lookup is null"
    );

    let second = json(
        &raw(
            Method::GET,
            &format!("{}{next}", sim.base_url()),
            Some(&token),
            None,
            &[],
        )
        .await,
    );
    assert_eq!(second["records"].as_array().unwrap().len(), 3);
    assert_eq!(second["records"][0]["Username"], "integration@acme.com");

    let bad: String = url::form_urlencoded::byte_serialize(b"SELECT Id, Foo FROM User").collect();
    let resp = raw(
        Method::GET,
        &format!("{}/services/data/v62.0/query?q={bad}", sim.base_url()),
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(resp.status.as_u16(), 400);
    let err = json(&resp);
    assert_eq!(err[0]["errorCode"], "INVALID_FIELD");
    assert!(err[0]["message"].as_str().unwrap().contains("ERROR at Row:1:Column:12\nNo such column 'Foo' on entity 'User'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name."));

    let missing: String =
        url::form_urlencoded::byte_serialize(b"SELECT Id FROM Missing__c").collect();
    let resp = raw(
        Method::GET,
        &format!("{}/services/data/v62.0/query?q={missing}", sim.base_url()),
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(
        json(&resp)[0]["message"],
        "sObject type 'Missing__c' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
    );

    let resp = raw(
        Method::GET,
        &format!("{}{next}", sim.base_url()),
        Some("00Dbogus!AQ"),
        None,
        &[],
    )
    .await;
    assert_eq!(resp.status.as_u16(), 401);
    assert_eq!(
        json(&resp),
        serde_json::json!([{ "message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID" }])
    );
}

#[tokio::test]
async fn oauth_token_rows_never_carry_an_id_and_count_works() {
    let now = Timestamp::now();
    let mut org = OrgData::new();
    let p = org.add_profile("Standard User");
    let u = org.add_user("a@acme.com", p, now);
    for i in 0..1200 {
        org.add_oauth_token(
            "Slack",
            u,
            now - jiff::SignedDuration::from_secs(i),
            None,
            1,
        );
    }
    let sim = start(org, SimOptions::default()).await;
    let token = client_credentials_token(&sim).await;
    let count = soql(&sim, &token, "SELECT COUNT() FROM OauthToken").await;
    assert_eq!(
        count,
        serde_json::json!({ "totalSize": 1200, "done": true, "records": [] })
    );
    let q: String =
        url::form_urlencoded::byte_serialize(b"SELECT Id, AppName FROM OauthToken").collect();
    let page = json(
        &raw(
            Method::GET,
            &format!("{}/services/data/v62.0/query?q={q}", sim.base_url()),
            Some(&token),
            None,
            &[],
        )
        .await,
    );
    assert_eq!(
        page["records"].as_array().unwrap().len(),
        500,
        "capped pages of 500"
    );
    assert_eq!(page["records"][0]["Id"], Value::Null);
}

async fn client_credentials_token(sim: &idgap_sim::salesforce::SalesforceSim) -> String {
    let c = sim.credentials();
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", &c.client_id),
        ("client_secret", &c.client_secret),
    ]);
    let token_url = format!("{}/services/oauth2/token", sim.base_url());
    json(&raw(Method::POST, &token_url, None, Some(body), &[]).await)["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn soql(sim: &idgap_sim::salesforce::SalesforceSim, token: &str, q: &str) -> Value {
    let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
    json(
        &raw(
            Method::GET,
            &format!("{}/services/data/v62.0/query?q={q}", sim.base_url()),
            Some(token),
            None,
            &[],
        )
        .await,
    )
}

async fn list_profiles(sim: &idgap_sim::salesforce::SalesforceSim, token: &str) -> String {
    let envelope = format!(
        r#"<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:met="http://soap.sforce.com/2006/04/metadata"><soapenv:Header><met:SessionHeader><met:sessionId>{token}</met:sessionId></met:SessionHeader></soapenv:Header><soapenv:Body><met:listMetadata><met:queries><met:type>Profile</met:type></met:queries><met:asOfVersion>62.0</met:asOfVersion></met:listMetadata></soapenv:Body></soapenv:Envelope>"#
    );
    let resp = http()
        .request::<HttpResponse, NetError>(
            "raw",
            Method::POST,
            &format!("{}/services/Soap/m/62.0", sim.base_url()),
            |rb| {
                rb.header("content-type", "text/xml")
                    .header("soapaction", "\"\"")
                    .body(envelope.clone())
            },
            Attempt::Done,
        )
        .await
        .unwrap();
    String::from_utf8(resp.body.to_vec()).unwrap()
}

/// The documented per-user answers: without Customize Application `OauthToken` shows only
/// the reader's own rows with no error; `UserLogin` is `INVALID_TYPE` without Manage Users;
/// the Metadata API is `INSUFFICIENT_ACCESS` without Modify Metadata / Modify All Data;
/// `UserPermissionAccess` says which of them the reader holds.
#[tokio::test]
async fn what_a_user_sees_depends_on_its_permissions() {
    use idgap_sim::salesforce::UserPermissions;
    let now = Timestamp::now();
    let (mut org, s) = scenario(now);
    org.add_oauth_token("Own App", s.integration, now, None, 1);
    org.integration_permissions = UserPermissions::NONE;
    let sim = start(org, SimOptions::default()).await;
    let token = client_credentials_token(&sim).await;

    let count = soql(&sim, &token, "SELECT COUNT() FROM OauthToken").await;
    assert_eq!(count["totalSize"], 1, "only its own token, no error");
    let login = soql(&sim, &token, "SELECT UserId FROM UserLogin").await;
    assert_eq!(login[0]["errorCode"], "INVALID_TYPE");
    assert!(
        login[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("sObject type 'UserLogin' is not supported"),
        "{login}"
    );
    let access = soql(
        &sim,
        &token,
        "SELECT PermissionsCustomizeApplication, PermissionsManageUsers, PermissionsModifyMetadata, PermissionsModifyAllData FROM UserPermissionAccess",
    )
    .await;
    assert_eq!(access["totalSize"], 1, "one row: the reader's own");
    assert_eq!(
        access["records"][0]["PermissionsCustomizeApplication"],
        false
    );
    let fault = list_profiles(&sim, &token).await;
    assert!(fault.contains("sf:INSUFFICIENT_ACCESS"), "{fault}");

    sim.org()
        .update(|o| o.integration_permissions = UserPermissions::READ_ONLY_INTEGRATION);
    let count = soql(&sim, &token, "SELECT COUNT() FROM OauthToken").await;
    assert_eq!(count["totalSize"], 4, "every user's tokens");
    let login = soql(&sim, &token, "SELECT UserId FROM UserLogin").await;
    assert_eq!(login["totalSize"], 7);
    assert!(
        list_profiles(&sim, &token)
            .await
            .contains("<fullName>Admin</fullName>")
    );
}

/// Standard profile names are translated into the reader's language; `listMetadata`
/// keeps the API names.
#[tokio::test]
async fn standard_profile_labels_are_translated_but_api_names_are_not() {
    use idgap_sim::salesforce::Language;
    let (org, _) = scenario(Timestamp::now());
    let admin_profile = org.profile_id(idgap_sim::salesforce::ProfileRef(0));
    let sim = start(org.in_language(Language::German), SimOptions::default()).await;
    let token = client_credentials_token(&sim).await;
    let profiles = soql(&sim, &token, "SELECT Id, Name FROM Profile").await;
    let names: Vec<&str> = profiles["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Systemadministrator",
            "Standardbenutzer",
            "Customer Community User"
        ]
    );
    let users = soql(
        &sim,
        &token,
        "SELECT Profile.Name FROM User WHERE Username = 'admin@acme.com'",
    )
    .await;
    assert_eq!(
        users["records"][0]["Profile"]["Name"],
        "Systemadministrator"
    );
    let listed = list_profiles(&sim, &token).await;
    assert!(
        listed.contains(&format!(
            "<fullName>Admin</fullName><id>{admin_profile}</id>"
        )),
        "{listed}"
    );
}

/// Salesforce answers `query/?q=` (with the slash simple-salesforce sends) as `query?q=`,
/// for the REST and the Tooling API; the next-page link keeps its usual form.
#[tokio::test]
async fn query_with_a_trailing_slash_answers_the_same_rows() {
    let (org, _) = scenario(Timestamp::now());
    let sim = start(org, SimOptions::default().min_batch_size(2)).await;
    let token = client_credentials_token(&sim).await;
    let q: String =
        url::form_urlencoded::byte_serialize(b"SELECT Id, Username FROM User ORDER BY Username")
            .collect();
    for api in ["query", "tooling/query"] {
        let get = |path: String| {
            let token = token.clone();
            async move {
                let resp = raw(
                    Method::GET,
                    &path,
                    Some(&token),
                    None,
                    &[("Sforce-Query-Options", "batchSize=3")],
                )
                .await;
                assert_eq!(resp.status.as_u16(), 200, "{path}");
                json(&resp)
            }
        };
        let base = format!("{}/services/data/v62.0/{api}", sim.base_url());
        let plain = get(format!("{base}?q={q}")).await;
        let slashed = get(format!("{base}/?q={q}")).await;
        assert_eq!(slashed["totalSize"], plain["totalSize"], "{api}");
        assert_eq!(slashed["records"], plain["records"], "{api}");
        let next = slashed["nextRecordsUrl"].as_str().unwrap();
        assert!(
            next.starts_with(&format!("/services/data/v62.0/{api}/01g")),
            "{next}"
        );
        let second = get(format!("{}{next}", sim.base_url())).await;
        assert_eq!(second["records"].as_array().unwrap().len(), 3, "{api}");
    }
}
