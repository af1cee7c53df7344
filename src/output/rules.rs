//! The rule catalogue as the reports describe it (SARIF `tool.driver.rules`, the table's
//! legend). `docs/rules.md` has the long form of each entry.

use idgap_model::{Category, RuleId, Severity};

/// What a report says about one rule.
#[derive(Debug, Clone, Copy)]
pub struct RuleInfo {
    pub id: RuleId,
    pub title: &'static str,
    pub fires_when: &'static str,
    pub remediation: &'static str,
    pub severity: Severity,
    pub category: Category,
}

pub fn info(id: RuleId) -> RuleInfo {
    use Category::*;
    use Severity::*;
    let (title, fires_when, remediation, severity, category) = match id {
        RuleId::AdminNotInIdp => (
            "Salesforce admin not in IdP",
            "An active Salesforce admin (profile in adminProfiles) matches no account in any linked identity provider, so offboarding in the IdP never reaches this login.",
            "Suspend the account in Salesforce (Setup → Users) or provision the person in the IdP and set the user's Federation ID.",
            Critical,
            IdentityGap,
        ),
        RuleId::UserNotInIdp => (
            "Salesforce user not in IdP",
            "An active internal (UserType = Standard) non-admin Salesforce user matches no account in any linked identity provider.",
            "Deactivate the user in Salesforce, or provision them in the IdP; add a reviewed exclusion for integration users.",
            High,
            IdentityGap,
        ),
        RuleId::StaleActiveUser => (
            "Active Salesforce user disabled in IdP",
            "An active Salesforce user matches IdP accounts that are all suspended, deprovisioned or disabled: the person left but the Salesforce login stayed.",
            "Deactivate or freeze the user in Salesforce and revoke their OAuth tokens.",
            High,
            IdentityGap,
        ),
        RuleId::ConnectedAppUnknownUser => (
            "Connected-app grant of a user not in IdP",
            "An OAuth grant (OauthToken) belongs to a user who matches no IdP account: the app keeps access on behalf of someone the directory does not know.",
            "Revoke the grant (Setup → Connected Apps OAuth Usage) and review the user.",
            Medium,
            IdentityGap,
        ),
        RuleId::AdminModifyAllData => (
            "Admin holds Modify All Data",
            "An admin holds ModifyAllData through a profile, a permission set or a permission set group.",
            "Remove Modify All Data where it is not needed; grant narrower object permissions instead.",
            High,
            Privilege,
        ),
        RuleId::AdminViewAllData => (
            "Admin holds View All Data",
            "An admin holds ViewAllData through a profile, a permission set or a permission set group.",
            "Remove View All Data where it is not needed; grant narrower object permissions instead.",
            High,
            Privilege,
        ),
        RuleId::SessionIpNotEnforced => (
            "Session IP restriction not enforced",
            "The org does not lock sessions to the originating IP address and enforces no login IP ranges on every request, so a stolen session works from anywhere.",
            "Enable \"Lock sessions to the IP address from which they originated\" or enforce login IP ranges on every request (Setup → Session Settings).",
            Medium,
            Session,
        ),
        RuleId::BulkDataExport => (
            "Bulk data export",
            "The setup audit trail shows a data export event inside the sync window.",
            "Confirm the export was expected and who received the files; restrict the Weekly Export permission.",
            High,
            DataExport,
        ),
        RuleId::DataExportByNonAdmin => (
            "Data export by a non-admin",
            "A data export in the sync window was performed by a user without an admin profile.",
            "Find out why the user could export data, remove the Weekly Data Export permission and review the files.",
            Critical,
            DataExport,
        ),
    };
    RuleInfo {
        id,
        title,
        fires_when,
        remediation,
        severity,
        category,
    }
}

/// Every rule, in catalogue order.
pub fn all() -> impl Iterator<Item = RuleInfo> {
    RuleId::ALL.into_iter().map(info)
}
