//! Who sees what, and in which language. Salesforce answers the same query differently
//! depending on the reading user:
//!
//! * `OauthToken` without Customize Application returns only the reader's own tokens, with
//!   no error (object reference, OauthToken "Special Access Rules");
//! * `UserLogin` needs Manage Users, else `INVALID_TYPE`;
//! * the Metadata API needs Modify Metadata or Modify All Data, else `INSUFFICIENT_ACCESS`;
//! * standard profile names (`Profile.Name`) are translated into the reader's language,
//!   while `listMetadata(Profile)` keeps the API names (`Admin`, `Standard`, …).

/// The user permissions the simulator enforces (a subset of Salesforce's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserPermissions {
    pub customize_application: bool,
    pub manage_users: bool,
    pub modify_metadata: bool,
    pub modify_all_data: bool,
    pub view_all_data: bool,
}

impl UserPermissions {
    /// Everything the simulator enforces: what a System Administrator holds.
    pub const ALL: UserPermissions = UserPermissions {
        customize_application: true,
        manage_users: true,
        modify_metadata: true,
        modify_all_data: true,
        view_all_data: true,
    };

    /// None of them: a plain user.
    pub const NONE: UserPermissions = UserPermissions {
        customize_application: false,
        manage_users: false,
        modify_metadata: false,
        modify_all_data: false,
        view_all_data: false,
    };

    /// A read-only integration user as `docs/salesforce-permissions.md` recommends: View
    /// All Data, Customize Application, Manage Users and Modify Metadata, no Modify All Data.
    pub const READ_ONLY_INTEGRATION: UserPermissions = UserPermissions {
        modify_all_data: false,
        ..UserPermissions::ALL
    };

    pub fn metadata_api(self) -> bool {
        self.modify_metadata || self.modify_all_data
    }
}

/// The language the org's users read Salesforce in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Language {
    #[default]
    English,
    German,
    French,
    Japanese,
}

/// Standard profiles: API name, then the label in English, German, French and Japanese.
/// The English labels and API names are Salesforce's; the translations are the labels
/// Setup shows in those languages as far as public material shows them (UNCONFIRMED
/// wording: what matters is that they differ from the English label).
const STANDARD_PROFILES: &[(&str, [&str; 4])] = &[
    (
        "Admin",
        [
            "System Administrator",
            "Systemadministrator",
            "Administrateur système",
            "システム管理者",
        ],
    ),
    (
        "Standard",
        [
            "Standard User",
            "Standardbenutzer",
            "Utilisateur standard",
            "標準ユーザ",
        ],
    ),
    (
        "ReadOnly",
        ["Read Only", "Schreibgeschützt", "Lecture seule", "参照のみ"],
    ),
    (
        "ContractManager",
        [
            "Contract Manager",
            "Vertragsmanager",
            "Gestionnaire de contrats",
            "契約管理者",
        ],
    ),
    (
        "MarketingProfile",
        [
            "Marketing User",
            "Marketingbenutzer",
            "Utilisateur marketing",
            "マーケティングユーザ",
        ],
    ),
    (
        "SolutionManager",
        [
            "Solution Manager",
            "Lösungsmanager",
            "Gestionnaire de solutions",
            "ソリューション管理者",
        ],
    ),
    (
        "StandardAul",
        [
            "Standard Platform User",
            "Standard-Plattformbenutzer",
            "Utilisateur de plate-forme standard",
            "標準 Platform ユーザ",
        ],
    ),
    (
        "Chatter Free User",
        [
            "Chatter Free User",
            "Chatter Free-Benutzer",
            "Utilisateur Chatter Free",
            "Chatter Free ユーザ",
        ],
    ),
];

impl Language {
    fn column(self) -> usize {
        match self {
            Language::English => 0,
            Language::German => 1,
            Language::French => 2,
            Language::Japanese => 3,
        }
    }
}

/// The API name of a standard profile given its English label (custom profiles keep
/// their name).
/// The API name of a standard profile, by its English label; `None` for a custom profile.
pub(crate) fn standard_api_name(english_label: &str) -> Option<String> {
    STANDARD_PROFILES
        .iter()
        .find(|(_, labels)| labels[0] == english_label)
        .map(|(api, _)| api.to_string())
}

/// `Profile.Name` as a user reading in `language` sees it: standard profiles translated.
pub(crate) fn label_in(language: Language, api_name: &str, label: &str) -> String {
    STANDARD_PROFILES
        .iter()
        .find(|(api, labels)| *api == api_name && labels[0] == label)
        .map_or(label, |(_, labels)| labels[language.column()])
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_labels_are_translated_and_custom_ones_are_not() {
        assert_eq!(
            standard_api_name("System Administrator").as_deref(),
            Some("Admin")
        );
        assert_eq!(
            label_in(Language::German, "Admin", "System Administrator"),
            "Systemadministrator"
        );
        assert_eq!(
            label_in(Language::Japanese, "Admin", "System Administrator"),
            "システム管理者"
        );
        assert_eq!(
            label_in(Language::French, "Acme Admin", "Acme Admin"),
            "Acme Admin"
        );
        // A custom profile that happens to be called like a standard one is not translated.
        assert_eq!(
            label_in(Language::French, "Standard User2", "Standard User"),
            "Standard User"
        );
    }
}
