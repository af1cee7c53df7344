//! Seeded orgs of any size, for the demo, the operator tests and benchmarks.

use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::org::{OrgData, UserRef};

/// How big a generated org is and where its clock stands.
#[derive(Debug, Clone)]
pub struct GenerateSpec {
    pub users: usize,
    pub oauth_grants: usize,
    pub audit_events: usize,
    /// Users are `user000123@{domain}`.
    pub domain: String,
    /// "Now" for the generated history: logins, grants and audit rows are before it.
    pub anchor: Timestamp,
    pub sandbox: bool,
}

impl Default for GenerateSpec {
    fn default() -> Self {
        GenerateSpec {
            users: 200,
            oauth_grants: 100,
            audit_events: 200,
            domain: "acme.example".to_string(),
            anchor: Timestamp::now(),
            sandbox: false,
        }
    }
}

const APPS: &[&str] = &[
    "Salesforce CLI",
    "Dataloader Partner",
    "Salesforce for Outlook",
    "Workbench",
    "Slack",
    "Tableau",
    "Salesforce Mobile",
    "Zapier",
];

const AUDIT_ACTIONS: &[(&str, &str, &str)] = &[
    (
        "PermSetAssign",
        "Manage Users",
        "Permission set Data Steward: assigned to user",
    ),
    (
        "changedprofileforuser",
        "Manage Users",
        "Changed profile for user",
    ),
    ("createduser", "Manage Users", "Created new user"),
    ("deactivateduser", "Manage Users", "Deactivated user"),
    ("changedemail", "Manage Users", "Changed email for user"),
    (
        "suOrgAdminLogin",
        "Manage Users",
        "Logged in using Login-As access",
    ),
    ("loginIpRange", "Manage Users", "Changed login IP ranges"),
    (
        "insertApplication",
        "Connected Apps",
        "Created connected app",
    ),
    (
        "dataExport",
        "Data Management",
        "Requested an export of organization data",
    ),
];

impl OrgData {
    /// An org with `spec.users` users and the given numbers of OAuth grants and audit
    /// rows, the same for the same seed. About 2% admins (System Administrator, MAD+VAD),
    /// 10% inactive, 1% frozen, 70% with a federation id, a few portal and integration
    /// users; a "Data Steward" permission set (MAD) held directly and through the
    /// "Ops Admins" group; one weekly Data Export job; session settings unlocked.
    pub fn generate(seed: u64, spec: &GenerateSpec) -> OrgData {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut org = OrgData::new().sandbox(spec.sandbox);
        org.org_number = 1 + seed % 1_000_000;
        let day = SignedDuration::from_hours(24);
        let at = |days_ago: f64| spec.anchor - SignedDuration::from_secs_f64(days_ago * 86_400.0);

        let admin = org.add_profile_with("System Administrator", true, true);
        let standard = org.add_profile("Standard User");
        let read_only = org.add_profile("Read Only");
        let sales = org.add_profile("Sales Representative");
        let integration = org.add_profile_with("Integration User", false, true);
        let community = org.add_profile("Customer Community User");
        org.profiles[community.0].user_type = "CspLitePortal".to_string();
        org.add_login_ip_range(integration, "10.0.0.0", "10.255.255.255");
        let roles = [
            org.add_role("CEO"),
            org.add_role("Sales Manager"),
            org.add_role("Support"),
        ];

        // The first user is the integration user the simulator's tokens act as.
        let integ = org.add_user(
            &format!("integration@{}", spec.domain),
            integration,
            at(900.0),
        );
        org.users[integ.0].last_login = Some(spec.anchor - day);
        for i in 1..spec.users.max(1) {
            let roll: u32 = rng.random_range(0..1000);
            let profile = match roll {
                0..=19 => admin,
                20..=39 => community,
                40..=139 => read_only,
                140..=399 => sales,
                _ => standard,
            };
            let created = at(rng.random_range(30.0..1500.0));
            let u = org.add_user(&format!("user{i:06}@{}", spec.domain), profile, created);
            let user = &mut org.users[u.0];
            if profile == community {
                user.user_type = "CspLitePortal".to_string();
            } else if rng.random_bool(0.7) {
                user.federation_id = Some(format!("user{i:06}@{}", spec.domain));
            }
            user.is_active = !rng.random_bool(0.10);
            user.frozen = user.is_active && rng.random_bool(0.01);
            user.role = rng.random_bool(0.6).then(|| roles[i % roles.len()]);
            user.last_login = rng
                .random_bool(0.9)
                .then(|| at(rng.random_range(0.0..400.0)));
        }

        let steward = org.add_permission_set("Data_Steward", true, false);
        let auditor = org.add_permission_set("Auditor", false, true);
        let reports = org.add_permission_set("Report_Builder", false, false);
        let ops = org.add_permission_set_group("Ops_Admins", &[steward, reports]);
        let n = org.users.len();
        for i in 1..n {
            let roll: u32 = rng.random_range(0..1000);
            match roll {
                0..=2 => org.assign_permission_set(UserRef(i), steward),
                3..=5 => org.assign_permission_set(UserRef(i), auditor),
                6..=7 => org.assign_group(UserRef(i), ops),
                8..=40 => org.assign_permission_set(UserRef(i), reports),
                _ => {}
            }
        }

        for _ in 0..spec.oauth_grants {
            let user = UserRef(rng.random_range(0..n));
            let app = APPS[rng.random_range(0..APPS.len())];
            let created = at(rng.random_range(1.0..1000.0));
            let last_used = rng.random_bool(0.8).then(|| {
                created
                    + SignedDuration::from_secs_f64(
                        rng.random_range(0.0..0.99)
                            * spec.anchor.duration_since(created).as_secs_f64(),
                    )
            });
            let uses = rng.random_range(1..5000);
            org.add_oauth_token(app, user, created, last_used, uses);
        }

        let mut audit_times: Vec<f64> = (0..spec.audit_events)
            .map(|_| rng.random_range(0.0..180.0))
            .collect();
        audit_times.sort_by(|a, b| b.total_cmp(a));
        for days_ago in audit_times {
            let (action, section, display) =
                AUDIT_ACTIONS[rng.random_range(0..AUDIT_ACTIONS.len())];
            let by = UserRef(rng.random_range(0..n));
            org.add_audit(action, section, display, at(days_ago), Some(by));
        }

        let job = org.add_cron_job("Weekly Data Export", "1", UserRef(1.min(n - 1)), at(200.0));
        org.cron_jobs[job].next_fire = Some(spec.anchor + day * 3);
        org.cron_jobs[job].previous_fire = Some(spec.anchor - day * 4);
        let apex = org.add_cron_job("Nightly cleanup", "7", integ, at(300.0));
        org.cron_jobs[apex].next_fire = Some(spec.anchor + day);

        org.set_security(false, false);
        org.health_check_from_security();
        org
    }
}
