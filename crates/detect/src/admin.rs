//! Who counts as an admin: the one definition every rule, the operator's status inventory
//! and the CLI's inventory use. Salesforce translates standard profile labels into the
//! reader's language, so the built-in parts never compare a label:
//!
//! * the profile whose Metadata API name is `Admin` (System Administrator in any language);
//! * a profile named in `Policy::admin_profiles`, by API name or by label (cloned admin
//!   profiles, custom admin profiles);
//! * a user who effectively holds Modify All Data, from a profile, a permission set or a
//!   permission set group: that permission is what makes an admin in Salesforce, and it
//!   recognises a cloned admin profile or a translated System Administrator even when the
//!   Metadata API could not be read. View All Data alone (read-only) does not.

use idgap_model::{OrgSnapshot, Permission, SfUser};

use crate::hash::FastMap;
use crate::policy::{NameSet, Policy};

/// The Metadata API name of the System Administrator profile.
pub const ADMIN_PROFILE_API_NAME: &str = "Admin";

/// A profile's names by id: the API name when the Metadata API gave it, and the label.
pub(crate) struct ProfileNames<'a> {
    by_id: FastMap<&'a str, (&'a str, Option<&'a str>)>,
}

impl<'a> ProfileNames<'a> {
    pub(crate) fn new(org: &'a OrgSnapshot) -> Self {
        ProfileNames {
            by_id: org
                .profiles
                .iter()
                .map(|p| (p.id.as_str(), (p.label.as_str(), p.api_name.as_deref())))
                .collect(),
        }
    }

    /// The profile's API name, if known.
    pub(crate) fn api_name(&self, u: &SfUser) -> Option<&'a str> {
        self.by_id.get(u.profile_id.as_deref()?)?.1
    }

    /// True when `names` lists the user's profile by API name or by label.
    pub(crate) fn listed(&self, names: &NameSet, u: &SfUser) -> bool {
        names.contains_opt(u.profile.as_deref())
            || u.profile_id
                .as_deref()
                .and_then(|id| self.by_id.get(id))
                .is_some_and(|(label, api)| names.contains(label) || names.contains_opt(*api))
    }
}

/// The admin definition compiled for one snapshot.
pub struct Admins<'a> {
    profiles: ProfileNames<'a>,
    listed: NameSet,
    modify_all_data: FastMap<&'a str, ()>,
}

impl<'a> Admins<'a> {
    pub fn new(org: &'a OrgSnapshot, policy: &Policy) -> Self {
        Admins {
            profiles: ProfileNames::new(org),
            listed: NameSet::new(&policy.admin_profiles),
            modify_all_data: org
                .permissions
                .iter()
                .filter(|g| g.permission == Permission::ModifyAllData)
                .map(|g| (g.user_id.as_str(), ()))
                .collect(),
        }
    }

    pub fn is_admin(&self, u: &SfUser) -> bool {
        self.profiles.api_name(u) == Some(ADMIN_PROFILE_API_NAME)
            || self.profiles.listed(&self.listed, u)
            || self.modify_all_data.contains_key(u.id.as_str())
    }

    /// Active users who are admins: the status and CLI inventory count.
    pub fn count_active(&self, org: &OrgSnapshot) -> usize {
        org.users
            .iter()
            .filter(|u| u.is_active && self.is_admin(u))
            .count()
    }

    pub(crate) fn profiles(&self) -> &ProfileNames<'a> {
        &self.profiles
    }
}
