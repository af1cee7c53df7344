//! Shared helpers: an allow-listed HTTP handle, configs for each auth method, and a
//! hand-written org whose every answer is known.
#![allow(dead_code)]

use std::time::Duration;

use idgap_net::{HostPolicy, Http, RetryPolicy, SecretString};
use idgap_salesforce::{LoginHost, SalesforceAuth, SalesforceConfig};
use idgap_sim::salesforce::{OrgData, SalesforceSim, SimCredentials, SimOptions, UserRef};
use jiff::{SignedDuration, Timestamp};

pub fn http() -> Http {
    http_with_timeout(Duration::from_secs(20))
}

pub fn http_with_timeout(timeout: Duration) -> Http {
    let policy = HostPolicy::vendors_only()
        .allow(["127.0.0.1"])
        .expect("valid pattern");
    Http::new(policy, RetryPolicy::quick(), timeout)
}

pub fn days_ago(now: Timestamp, days: i64) -> Timestamp {
    now - SignedDuration::from_hours(24 * days)
}

pub fn refresh_auth(creds: &SimCredentials) -> SalesforceAuth {
    SalesforceAuth::RefreshToken {
        client_id: creds.client_id.clone(),
        client_secret: Some(SecretString::new(creds.client_secret.clone())),
        refresh_token: SecretString::new(creds.refresh_token.clone()),
    }
}

pub fn jwt_auth(creds: &SimCredentials) -> SalesforceAuth {
    SalesforceAuth::JwtBearer {
        client_id: creds.client_id.clone(),
        username: creds.jwt_username.clone(),
        private_key_pem: SecretString::new(creds.private_key_pem.clone()),
    }
}

pub fn cc_auth(creds: &SimCredentials) -> SalesforceAuth {
    SalesforceAuth::ClientCredentials {
        client_id: creds.client_id.clone(),
        client_secret: SecretString::new(creds.client_secret.clone()),
    }
}

pub fn config(
    sim: &SalesforceSim,
    auth: SalesforceAuth,
    audit_since: Timestamp,
) -> SalesforceConfig {
    SalesforceConfig::new(LoginHost::MyDomain(sim.base_url()), auth, audit_since)
}

pub fn refresh_config(sim: &SalesforceSim, audit_since: Timestamp) -> SalesforceConfig {
    config(sim, refresh_auth(&sim.credentials()), audit_since)
}

/// Handles to the records of [`scenario`].
pub struct Scenario {
    pub integration: UserRef,
    pub admin: UserRef,
    pub steward: UserRef,
    pub ops: UserRef,
    pub frozen: UserRef,
    pub portal: UserRef,
    pub inactive: UserRef,
}

/// A small org with one grant of each kind:
/// * admin@acme.com — System Administrator profile (ModifyAllData + ViewAllData);
/// * steward@acme.com — the Data_Steward permission set (ModifyAllData);
/// * ops@acme.com — the Ops_Admins group (Data_Steward + Auditor: both permissions);
/// * frozen@acme.com — frozen; portal@acme.com — a portal user; gone@acme.com — inactive.
///
/// Three OAuth grants, four audit rows (3d, 2d, 1d, 1h ago), a weekly export and an Apex
/// job, sessions not locked, the admin profile with a login IP range.
pub fn scenario(now: Timestamp) -> (OrgData, Scenario) {
    let mut org = OrgData::new();
    let admin_p = org.add_profile_with("System Administrator", true, true);
    let standard = org.add_profile("Standard User");
    let portal_p = org.add_profile("Customer Community User");
    org.add_login_ip_range(admin_p, "10.0.0.0", "10.0.0.255");
    let ceo = org.add_role("CEO");

    let integration = org.add_user("integration@acme.com", standard, days_ago(now, 900));
    let admin = org.add_user("admin@acme.com", admin_p, days_ago(now, 800));
    org.user_mut(admin).role = Some(ceo);
    org.user_mut(admin).federation_id = Some("ADMIN@acme.com".into());
    org.user_mut(admin).last_login = Some(days_ago(now, 1));
    let steward = org.add_user("steward@acme.com", standard, days_ago(now, 700));
    let ops = org.add_user("ops@acme.com", standard, days_ago(now, 600));
    let frozen = org.add_user("frozen@acme.com", standard, days_ago(now, 500));
    org.user_mut(frozen).frozen = true;
    let portal = org.add_user("portal@acme.com", portal_p, days_ago(now, 400));
    org.user_mut(portal).user_type = "CspLitePortal".into();
    let inactive = org.add_user("gone@acme.com", standard, days_ago(now, 300));
    org.user_mut(inactive).is_active = false;

    let data_steward = org.add_permission_set("Data_Steward", true, false);
    let auditor = org.add_permission_set("Auditor", false, true);
    let harmless = org.add_permission_set("Report_Builder", false, false);
    let group = org.add_permission_set_group("Ops_Admins", &[data_steward, auditor]);
    org.assign_permission_set(steward, data_steward);
    org.assign_permission_set(steward, harmless);
    org.assign_group(ops, group);

    org.add_oauth_token(
        "Salesforce CLI",
        admin,
        days_ago(now, 100),
        Some(days_ago(now, 2)),
        42,
    );
    org.add_oauth_token("Dataloader Partner", frozen, days_ago(now, 200), None, 3);
    org.add_oauth_token(
        "Workbench",
        steward,
        days_ago(now, 50),
        Some(days_ago(now, 40)),
        7,
    );

    org.add_audit(
        "PermSetAssign",
        "Manage Users",
        "Assigned Data Steward",
        days_ago(now, 3),
        Some(admin),
    );
    org.add_audit(
        "dataExport",
        "Data Export",
        "Requested an export",
        days_ago(now, 2),
        Some(steward),
    );
    org.add_audit(
        "changedemail",
        "Manage Users",
        "Changed email",
        days_ago(now, 1),
        Some(admin),
    );
    org.add_audit(
        "suOrgAdminLogin",
        "Manage Users",
        "Logged in as ops",
        now - SignedDuration::from_hours(1),
        Some(ops),
    );
    org.audit_trail[3].delegate_user = Some("admin@acme.com".into());

    let export = org.add_cron_job("Weekly Data Export", "1", steward, days_ago(now, 30));
    org.cron_jobs[export].previous_fire = Some(days_ago(now, 4));
    org.cron_jobs[export].next_fire = Some(now + SignedDuration::from_hours(72));
    org.add_cron_job("Nightly Apex", "7", admin, days_ago(now, 60));

    org.set_security(false, true);
    org.health_check_from_security();
    (
        org,
        Scenario {
            integration,
            admin,
            steward,
            ops,
            frozen,
            portal,
            inactive,
        },
    )
}

pub async fn start(org: OrgData, opts: SimOptions) -> SalesforceSim {
    SalesforceSim::start(org, opts)
        .await
        .expect("simulator starts")
}
