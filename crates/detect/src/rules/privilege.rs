//! admin-modify-all-data and admin-view-all-data: an active admin holding the permission,
//! with every source of the grant named so a reviewer knows what to change.

use std::collections::{BTreeMap, BTreeSet};

use idgap_model::{Finding, GrantSource, Permission, RuleId};

use super::{Ctx, finding, user_evidence, user_subject};

pub(crate) fn run(ctx: &Ctx<'_>, rule: RuleId, out: &mut Vec<Finding>) {
    let permission = match rule {
        RuleId::AdminModifyAllData => Permission::ModifyAllData,
        RuleId::AdminViewAllData => Permission::ViewAllData,
        _ => return,
    };
    let mut sources: BTreeMap<&str, BTreeSet<&GrantSource>> = BTreeMap::new();
    for grant in &ctx.org.permissions {
        if grant.permission == permission {
            sources
                .entry(grant.user_id.as_str())
                .or_default()
                .insert(&grant.source);
        }
    }
    for (user_id, sources) in sources {
        let Some(user) = ctx.user(user_id) else {
            continue;
        };
        if !user.is_active || !ctx.is_admin(user) {
            continue;
        }
        let listed: Vec<String> = sources
            .iter()
            .map(|s| format!("{}: {}", s.kind.as_str(), s.name))
            .collect();
        let mut e = user_evidence(user);
        e.insert("permission".into(), permission.as_str().to_string());
        e.insert("grantedBy".into(), listed.join("; "));
        let label = match permission {
            Permission::ModifyAllData => "Modify All Data",
            Permission::ViewAllData => "View All Data",
        };
        let remediation = format!(
            "Remove {label} from {} (Setup → Profiles / Permission Sets / Permission Set Groups), or accept it with an exclusion when this admin needs it.",
            listed.join(", ")
        );
        out.push(finding(
            rule,
            format!("{rule}:{}", user.id),
            user_subject(user),
            e,
            remediation,
            None,
        ));
    }
}
