//! The demo's built-in org: a small Acme where each of the nine rules fires at least once
//! for a reason a reader can follow, and where the cases that must *not* fire sit beside
//! them. Times are relative to `now`, so the export events always fall inside the window.

use idgap_sim::idp::{Directory, Person, PersonState};
use idgap_sim::salesforce::{OrgData, UserRef};
use jiff::{SignedDuration, Timestamp};

/// The org, the two directories, and what the demo explains as correctly not flagged.
pub struct Story {
    pub org: OrgData,
    pub okta: Directory,
    pub entra: Directory,
    pub not_flagged: Vec<NotFlagged>,
    /// The exclusion the demo manifest declares for the integration user.
    pub exclusion_user: &'static str,
    pub exclusion_reason: &'static str,
}

/// A user the rules leave alone, and why that is right.
#[derive(Debug, Clone)]
pub struct NotFlagged {
    pub username: String,
    pub why: String,
}

pub const INTEGRATION_USER: &str = "integration@acme.com";
pub const EXCLUSION_REASON: &str =
    "Integration user owned by RevOps; not a person, never provisioned from the IdP";
/// Filler employees who are in Salesforce and in Okta, with nothing to report.
const FILLER: u64 = 40;

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

pub fn build(now: Timestamp) -> Story {
    let ago = |d: i64| now - days(d);
    let mut org = OrgData::new();
    org.name = "Acme".to_string();
    org.set_security(false, false);
    org.health_check_from_security();

    let admin = org.add_profile_with("System Administrator", true, true);
    let standard = org.add_profile("Standard User");
    let integration = org.add_profile("Acme Integration");
    let partner = org.add_profile("Partner Community User");
    org.profiles[partner.0].user_type = "PowerPartner".to_string();
    let vad_set = org.add_permission_set("Support_View_All", false, true);
    let support_group = org.add_permission_set_group("Support_Superuser", &[vad_set]);

    // The first user is the one the simulator's OAuth tokens act as.
    let integ = org.add_user(INTEGRATION_USER, integration, ago(700));
    login(&mut org, integ, ago(0));

    let alice = org.add_user("alice.admin@acme.com", admin, ago(600));
    login(&mut org, alice, ago(1));
    org.assign_group(alice, support_group);

    let ghost = org.add_user("ghost.admin@acme.com", admin, ago(900));
    login(&mut org, ghost, ago(12));

    let bob = org.add_user("bob@acme.com", standard, ago(400));
    login(&mut org, bob, ago(1));

    let carol = org.add_user("carol@acme.com", standard, ago(380));
    login(&mut org, carol, ago(3));

    let dave = org.add_user("dave@acme.com", standard, ago(500));
    login(&mut org, dave, ago(40));

    let erin = org.add_user("erin@acme.com", standard, ago(300));
    login(&mut org, erin, ago(2));

    let frank = org.add_user("frank@acme.io", standard, ago(200));
    login(&mut org, frank, ago(4));

    let grace = org.add_user("grace@acme-crm.com", standard, ago(250));
    org.user_mut(grace).email = "grace@acme.com.invalid".to_string();
    login(&mut org, grace, ago(5));

    let portal = org.add_user("pat@partner.example", partner, ago(150));
    org.user_mut(portal).user_type = "PowerPartner".to_string();
    login(&mut org, portal, ago(6));

    let former = org.add_user("hank@acme.com", standard, ago(800));
    org.user_mut(former).is_active = false;

    for i in 0..FILLER {
        let u = org.add_user(
            &format!("employee{i:02}@acme.com"),
            standard,
            ago(100 + i as i64),
        );
        login(&mut org, u, ago(i as i64 % 9));
    }

    org.add_oauth_token("Dataloader Partner", carol, ago(30), Some(ago(2)), 57);
    org.add_oauth_token("Workbench", ghost, ago(90), Some(ago(12)), 8);
    org.add_oauth_token("Salesforce Mobile", bob, ago(60), Some(ago(1)), 310);
    org.add_oauth_token("Slack", frank, ago(45), Some(ago(4)), 120);

    org.add_audit(
        "dataExport",
        "Data Export",
        "Requested an export of all data (weekly export, includes attachments)",
        now - SignedDuration::from_hours(50),
        Some(alice),
    );
    org.add_audit(
        "dataExport",
        "Data Export",
        "Requested an export of Account, Contact, Opportunity",
        now - SignedDuration::from_hours(20),
        Some(bob),
    );
    org.add_audit(
        "PermSetGroupAssign",
        "Manage Users",
        "Permission set group Support Superuser: assigned to user alice.admin@acme.com",
        now - SignedDuration::from_hours(70),
        Some(alice),
    );
    org.add_audit(
        "createduser",
        "Manage Users",
        "Created new user grace@acme-crm.com",
        now - SignedDuration::from_hours(90),
        Some(alice),
    );

    let mut okta = vec![
        Person::active(0, "alice.admin@acme.com"),
        Person::active(1, "bob@acme.com"),
        Person::active(2, "dave@acme.com").with_state(PersonState::Suspended),
        Person::active(3, "erin@acme.com").with_state(PersonState::Suspended),
        Person::active(4, "frank@acme.com"),
        Person::active(5, "grace@acme.com"),
        Person::active(6, "hank@acme.com").with_state(PersonState::Deprovisioned),
    ];
    for i in 0..FILLER {
        okta.push(Person::active(10 + i, &format!("employee{i:02}@acme.com")));
    }
    // People with an Okta account but no Salesforce licence.
    for i in 0..12 {
        okta.push(Person::active(100 + i, &format!("staff{i:02}@acme.com")));
    }
    let mut entra = vec![
        Person::active(0, "alice.admin@acme.com"),
        Person::active(1, "dave@acme.com").with_state(PersonState::Suspended),
        Person::active(2, "erin@acme.com"),
    ];
    for i in 0..FILLER / 2 {
        entra.push(Person::active(10 + i, &format!("employee{i:02}@acme.com")));
    }

    let not_flagged = vec![
        NotFlagged {
            username: "frank@acme.io".into(),
            why: "matched frank@acme.com in Okta through the domain alias acme.io ≡ acme.com".into(),
        },
        NotFlagged {
            username: "grace@acme-crm.com".into(),
            why: "email grace@acme.com.invalid (a sandbox-copied address) matched grace@acme.com once `.invalid` is stripped".into(),
        },
        NotFlagged {
            username: "erin@acme.com".into(),
            why: "suspended in Okta but active in Entra ID: the union of the two directories still knows her".into(),
        },
        NotFlagged {
            username: "pat@partner.example".into(),
            why: "a partner-portal user (UserType PowerPartner): portal users are not expected in the IdP".into(),
        },
        NotFlagged {
            username: "hank@acme.com".into(),
            why: "deprovisioned in Okta, but already inactive in Salesforce: nothing left to revoke".into(),
        },
    ];

    Story {
        org,
        okta: Directory::from_people(okta),
        entra: Directory::from_people(entra),
        not_flagged,
        exclusion_user: INTEGRATION_USER,
        exclusion_reason: EXCLUSION_REASON,
    }
}

fn login(org: &mut OrgData, user: UserRef, at: Timestamp) {
    org.user_mut(user).last_login = Some(at);
}
