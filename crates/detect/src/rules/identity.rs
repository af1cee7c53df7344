//! The IdP rules: admin-not-in-idp, user-not-in-idp, stale-active-user and
//! connected-app-unknown-user. They only run when every linked directory passed the
//! safety guards, so an empty or partial directory never reads as "nobody is in the IdP".

use std::collections::BTreeMap;

use idgap_model::{Evidence, Finding, OAuthGrant, RuleId, SfUser, Subject, SubjectKind, Timestamp};

use super::{Ctx, finding, opt_time, user_evidence, user_subject};
use crate::index::{Hit, IdentityIndex, Matcher, USERS_PER_BATCH};

/// Which of the four rules to run in this pass.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Enabled {
    pub admin_not_in_idp: bool,
    pub user_not_in_idp: bool,
    pub stale_active_user: bool,
    pub connected_app_unknown_user: bool,
}

const NOT_IN_IDP_REMEDIATION: &str = "Suspend the account in Salesforce (Setup → Users) or provision the user in the IdP, so offboarding in the IdP reaches it.";
const STALE_REMEDIATION: &str = "Deactivate the user in Setup → Users (freeze first if they own scheduled jobs or records that need a new owner) and revoke their OAuth grants.";
const GRANT_REMEDIATION: &str = "Revoke the grant in Setup → Connected Apps → OAuth Connected Apps Usage, then provision the user in the IdP or deactivate them in Setup → Users.";
const MAX_LISTED_ACCOUNTS: usize = 10;

pub(crate) fn run(
    ctx: &Ctx<'_>,
    matcher: &mut Matcher<'_, '_>,
    index: &IdentityIndex<'_>,
    directories: &str,
    on: Enabled,
    out: &mut Vec<Finding>,
) {
    if on.admin_not_in_idp || on.user_not_in_idp || on.stale_active_user {
        let wanted = ctx.org.users.iter().filter(|user| {
            ctx.in_idp_scope(user)
                && (on.stale_active_user
                    || if ctx.is_admin(user) {
                        on.admin_not_in_idp
                    } else {
                        on.user_not_in_idp
                    })
        });
        let mut batch: Vec<&SfUser> = Vec::with_capacity(USERS_PER_BATCH);
        let mut wanted = wanted.peekable();
        while wanted.peek().is_some() {
            batch.clear();
            batch.extend(wanted.by_ref().take(USERS_PER_BATCH));
            matcher.match_batch(&batch);
            for (pos, user) in batch.iter().enumerate() {
                let hits = matcher.hits_of(pos);
                let admin = ctx.is_admin(user);
                if hits.is_empty() {
                    if admin && on.admin_not_in_idp {
                        out.push(not_in_idp(RuleId::AdminNotInIdp, user, directories));
                    } else if !admin && on.user_not_in_idp {
                        out.push(not_in_idp(RuleId::UserNotInIdp, user, directories));
                    }
                } else if on.stale_active_user && hits.iter().all(|h| h.disabled) {
                    out.push(stale(user, hits, index));
                }
            }
        }
    }
    if on.connected_app_unknown_user {
        grants(ctx, matcher, directories, out);
    }
}

fn not_in_idp(rule: RuleId, user: &SfUser, directories: &str) -> Finding {
    let mut e = user_evidence(user);
    e.insert("identityProviders".into(), directories.to_string());
    e.insert(
        "matchedAccounts".into(),
        "none (federationId, email and username compared with every IdP login and email)".into(),
    );
    finding(
        rule,
        format!("{rule}:{}", user.id),
        user_subject(user),
        e,
        NOT_IN_IDP_REMEDIATION.to_string(),
        None,
    )
}

fn stale(user: &SfUser, hits: &[Hit], index: &IdentityIndex<'_>) -> Finding {
    let mut e = user_evidence(user);
    let mut accounts: Vec<(String, &'static str)> = hits
        .iter()
        .map(|h| {
            let dir = index.directory(h.account);
            let acc = index.account(h.account);
            (
                format!(
                    "{}/{}: {} ({} {})",
                    dir.name,
                    dir.provider.as_str(),
                    acc.login,
                    acc.status.as_str(),
                    acc.raw_status
                ),
                h.via.as_str(),
            )
        })
        .collect();
    accounts.sort();
    accounts.dedup();
    e.insert("matchedAccounts".into(), accounts.len().to_string());
    for (i, (account, via)) in accounts.iter().take(MAX_LISTED_ACCOUNTS).enumerate() {
        e.insert(
            format!("matchedAccount{}", i + 1),
            format!("{account} via {via}"),
        );
    }
    finding(
        RuleId::StaleActiveUser,
        format!("{}:{}", RuleId::StaleActiveUser, user.id),
        user_subject(user),
        e,
        STALE_REMEDIATION.to_string(),
        None,
    )
}

/// The grants of one user for one app, folded together (Salesforce keeps up to five).
struct GrantGroup {
    count: usize,
    first_created: Option<Timestamp>,
    last_used: Option<Timestamp>,
    use_count: u64,
}

fn grants(ctx: &Ctx<'_>, matcher: &mut Matcher<'_, '_>, directories: &str, out: &mut Vec<Finding>) {
    let mut groups: BTreeMap<(&str, &str), GrantGroup> = BTreeMap::new();
    for g in &ctx.org.oauth_grants {
        let group = groups
            .entry((g.user_id.as_str(), g.app_name.as_str()))
            .or_insert(GrantGroup {
                count: 0,
                first_created: None,
                last_used: None,
                use_count: 0,
            });
        fold(group, g);
    }
    for ((user_id, app), group) in groups {
        let (subject, mut e) = match ctx.user(user_id) {
            Some(user) => {
                // Inactive users cannot use a grant; users outside the IdP scope (portal,
                // guest, integration profiles) are not expected in the IdP.
                if !ctx.in_idp_scope(user) || !matcher.match_user(user).is_empty() {
                    continue;
                }
                let mut subject = user_subject(user);
                subject.kind = Some(SubjectKind::OAuthGrant);
                let mut e = user_evidence(user);
                e.insert("identityProviders".into(), directories.to_string());
                e.insert("matchedAccounts".into(), "none".into());
                (subject, e)
            }
            None => {
                // Only the id from the grant row: nothing else about this user was read.
                let subject = Subject {
                    kind: Some(SubjectKind::OAuthGrant),
                    salesforce_id: Some(user_id.to_string()),
                    ..Subject::default()
                };
                let mut e = Evidence::new();
                e.insert("userId".into(), user_id.to_string());
                e.insert("user".into(), "user not found in org snapshot".into());
                (subject, e)
            }
        };
        let mut subject = subject;
        subject.app = Some(app.to_string());
        e.insert("app".into(), app.to_string());
        e.insert("created".into(), opt_time(group.first_created));
        e.insert("lastUsed".into(), opt_time(group.last_used));
        e.insert("useCount".into(), group.use_count.to_string());
        e.insert("grants".into(), group.count.to_string());
        out.push(finding(
            RuleId::ConnectedAppUnknownUser,
            format!("{}:{user_id}:{app}", RuleId::ConnectedAppUnknownUser),
            subject,
            e,
            GRANT_REMEDIATION.to_string(),
            None,
        ));
    }
}

fn fold(group: &mut GrantGroup, g: &OAuthGrant) {
    group.count += 1;
    group.use_count = group.use_count.saturating_add(g.use_count);
    group.first_created = match (group.first_created, g.created) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    group.last_used = match (group.last_used, g.last_used) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
}
