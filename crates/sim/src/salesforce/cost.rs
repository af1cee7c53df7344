//! The least a complete sync of an org can cost, for benchmarks to compare against.

use super::org::{AssignmentTarget, OrgData};

fn pages(rows: usize, page: usize) -> u64 {
    rows.div_ceil(page).max(1) as u64
}

impl OrgData {
    /// The fewest API calls a complete read-only sync of this org needs when queries return
    /// `batch` rows a page and `OauthToken` returns `token_page` rows a page: one query per
    /// collector, every page of it, the `OauthToken` count, and the Metadata reads (security
    /// settings plus profiles ten at a time).
    pub fn minimum_sync_calls(&self, batch: usize, token_page: usize) -> u64 {
        let frozen = self.users.iter().filter(|u| u.frozen).count();
        let privileged = |ps: usize| {
            let s = &self.permission_sets[ps];
            s.modify_all_data || s.view_all_data
        };
        let privileged_assignments = self
            .assignments
            .iter()
            .filter(|a| match a.target {
                AssignmentTarget::PermissionSet(ps) => privileged(ps.0),
                AssignmentTarget::Group(g) => self.permission_set_groups[g.0]
                    .members
                    .iter()
                    .any(|ps| privileged(ps.0)),
            })
            .count()
            + self
                .users
                .iter()
                .filter(|u| {
                    let p = &self.profiles[u.profile.0];
                    self.profile_owned_assignments && (p.modify_all_data || p.view_all_data)
                })
                .count();
        let token_calls = 1 + pages(self.oauth_tokens.len(), token_page);
        let metadata = 1 + pages(self.profiles.len(), 10);
        1 // Organization
            + pages(self.profiles.len(), batch)
            + pages(self.users.len(), batch)
            + pages(frozen, batch)
            + pages(privileged_assignments, batch)
            + pages(self.permission_set_groups.len(), batch)
            + token_calls
            + pages(self.audit_trail.len(), batch)
            + 1 // CronTrigger
            + metadata
    }
}
