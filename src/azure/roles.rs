//! Azure RBAC role definitions and how they are evaluated for one data action.
//!
//! The rule (docs/azure.md#evaluating-role-assignments): a role grants a data action when one of
//! its `permissions[]` blocks has a `dataActions` pattern that matches the action and no
//! `notDataActions` pattern of that same block matches it. Patterns compare without case and `*`
//! matches any run of characters, `/` included. `notDataActions` only subtracts inside its own
//! block; it is not a deny (another role may still grant). Control-plane `actions` (Owner's `*`)
//! never grant a data action.
//!
//! Built-in roles are compiled in so that the common case needs no role-definition read; their
//! permissions are copied from the built-in role list (see `docs/research-builtin-roles.md`).
//! Never special-case one "good" role: every decision goes through [`RoleDefinition::grants`].

use serde::Serialize;

/// The data action the Container Apps platform performs when it syncs a Key Vault reference
/// (verbatim in the Key Vault 403 body, docs/azure-errors.md B3).
pub const GET_SECRET: &str = "Microsoft.KeyVault/vaults/secrets/getSecret/action";

/// One `permissions[]` block of a role definition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Permission {
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub data_actions: Vec<String>,
    pub not_data_actions: Vec<String>,
}

/// A role definition, built in or custom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleDefinition {
    /// The definition's GUID (the last segment of `roleDefinitionId`), lower-cased.
    pub guid: String,
    pub name: String,
    pub built_in: bool,
    pub permissions: Vec<Permission>,
}

impl RoleDefinition {
    /// True when this role grants `action` as a data action.
    pub fn grants(&self, action: &str) -> bool {
        self.permissions.iter().any(|p| {
            p.data_actions
                .iter()
                .any(|pattern| matches(pattern, action))
                && !p
                    .not_data_actions
                    .iter()
                    .any(|pattern| matches(pattern, action))
        })
    }

    /// True when the role matches `action` in `dataActions` but a `notDataActions` entry of the
    /// same block takes it away: worth saying, because the role looks like it should work.
    pub fn excludes(&self, action: &str) -> bool {
        !self.grants(action)
            && self.permissions.iter().any(|p| {
                p.data_actions
                    .iter()
                    .any(|pattern| matches(pattern, action))
            })
    }

    /// True for management-plane roles with broad `actions` (Owner, Contributor): people expect
    /// them to include secret reads, and they do not.
    pub fn is_broad_control_plane(&self) -> bool {
        self.permissions.iter().any(|p| {
            p.actions
                .iter()
                .any(|a| a == "*" || a.eq_ignore_ascii_case("Microsoft.KeyVault/*"))
        })
    }
}

/// Matches an RBAC action pattern against an action: no case, `*` spans anything.
pub fn matches(pattern: &str, action: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let action = action.to_ascii_lowercase();
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == action;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !action.starts_with(first)
        || action.len() < first.len() + last.len()
        || !action.ends_with(last)
    {
        return false;
    }
    // Greedy left-to-right search for the middle pieces within the span between the anchors.
    let mut rest = &action[first.len()..action.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// The management-plane `actions` shared verbatim by the Key Vault Administrator, Secrets
/// Officer, Reader, Certificates Officer and Crypto Officer roles.
const KEY_VAULT_MANAGEMENT_READS: &[&str] = &[
    "Microsoft.Authorization/*/read",
    "Microsoft.Insights/alertRules/*",
    "Microsoft.Resources/deployments/*",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Support/*",
    "Microsoft.KeyVault/checkNameAvailability/read",
    "Microsoft.KeyVault/deletedVaults/read",
    "Microsoft.KeyVault/locations/*/read",
    "Microsoft.KeyVault/vaults/*/read",
    "Microsoft.KeyVault/operations/read",
];

struct BuiltIn {
    guid: &'static str,
    name: &'static str,
    actions: &'static [&'static str],
    not_actions: &'static [&'static str],
    data_actions: &'static [&'static str],
    not_data_actions: &'static [&'static str],
}

/// The built-in roles kvdiag knows without a read. Roles outside this list are fetched
/// (the plan's role-definition read) and, when that read is missing, make a verdict less than complete.
const BUILT_INS: &[BuiltIn] = &[
    BuiltIn {
        guid: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        name: "Owner",
        actions: &["*"],
        not_actions: &[],
        data_actions: &[],
        not_data_actions: &[],
    },
    BuiltIn {
        guid: "b24988ac-6180-42a0-ab88-20f7382dd24c",
        name: "Contributor",
        actions: &["*"],
        not_actions: &[
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
            "Microsoft.Purview/consents/write",
            "Microsoft.Purview/consents/delete",
            "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
            "Microsoft.Subscription/cancel/action",
            "Microsoft.Subscription/enable/action",
        ],
        data_actions: &[],
        not_data_actions: &[],
    },
    BuiltIn {
        guid: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        name: "Reader",
        actions: &["*/read"],
        not_actions: &[],
        data_actions: &[],
        not_data_actions: &[],
    },
    BuiltIn {
        guid: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        name: "User Access Administrator",
        actions: &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
        not_actions: &[],
        data_actions: &[],
        not_data_actions: &[],
    },
    BuiltIn {
        guid: "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
        name: "Role Based Access Control Administrator",
        actions: &[
            "Microsoft.Authorization/roleAssignments/write",
            "Microsoft.Authorization/roleAssignments/delete",
            "*/read",
            "Microsoft.Support/*",
        ],
        not_actions: &[],
        data_actions: &[],
        not_data_actions: &[],
    },
    BuiltIn {
        guid: "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        name: "Key Vault Administrator",
        actions: KEY_VAULT_MANAGEMENT_READS,
        not_actions: &[],
        data_actions: &["Microsoft.KeyVault/vaults/*"],
        not_data_actions: &[],
    },
    BuiltIn {
        guid: "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        name: "Key Vault Secrets Officer",
        actions: KEY_VAULT_MANAGEMENT_READS,
        not_actions: &[],
        data_actions: &["Microsoft.KeyVault/vaults/secrets/*"],
        not_data_actions: &[],
    },
    BuiltIn {
        guid: "4633458b-17de-408a-b874-0445c86b69e6",
        name: "Key Vault Secrets User",
        actions: &[],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
        not_data_actions: &[],
    },
    BuiltIn {
        guid: "21090545-7ca7-4776-b22c-e363652d74d2",
        name: "Key Vault Reader",
        actions: KEY_VAULT_MANAGEMENT_READS,
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
        not_data_actions: &[],
    },
    BuiltIn {
        guid: "a4417e6f-fecd-4de8-b567-7b0420556985",
        name: "Key Vault Certificates Officer",
        actions: KEY_VAULT_MANAGEMENT_READS,
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/certificatecas/*",
            "Microsoft.KeyVault/vaults/certificates/*",
            "Microsoft.KeyVault/vaults/certificatecontacts/write",
        ],
        not_data_actions: &[],
    },
    BuiltIn {
        guid: "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
        name: "Key Vault Certificate User",
        actions: &[],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/certificates/read",
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
            "Microsoft.KeyVault/vaults/keys/read",
        ],
        not_data_actions: &[],
    },
    BuiltIn {
        guid: "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        name: "Key Vault Crypto Officer",
        actions: KEY_VAULT_MANAGEMENT_READS,
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/keys/*",
            "Microsoft.KeyVault/vaults/keyrotationpolicies/*",
        ],
        not_data_actions: &[],
    },
    BuiltIn {
        guid: "12338af0-0e69-4776-bea7-57ae8d297424",
        name: "Key Vault Crypto User",
        actions: &[],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/keys/read",
            "Microsoft.KeyVault/vaults/keys/update/action",
            "Microsoft.KeyVault/vaults/keys/backup/action",
            "Microsoft.KeyVault/vaults/keys/encrypt/action",
            "Microsoft.KeyVault/vaults/keys/decrypt/action",
            "Microsoft.KeyVault/vaults/keys/wrap/action",
            "Microsoft.KeyVault/vaults/keys/unwrap/action",
            "Microsoft.KeyVault/vaults/keys/sign/action",
            "Microsoft.KeyVault/vaults/keys/verify/action",
        ],
        not_data_actions: &[],
    },
    BuiltIn {
        guid: "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        name: "Key Vault Crypto Service Encryption User",
        actions: &[
            "Microsoft.EventGrid/eventSubscriptions/write",
            "Microsoft.EventGrid/eventSubscriptions/read",
            "Microsoft.EventGrid/eventSubscriptions/delete",
        ],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/keys/read",
            "Microsoft.KeyVault/vaults/keys/wrap/action",
            "Microsoft.KeyVault/vaults/keys/unwrap/action",
        ],
        not_data_actions: &[],
    },
    BuiltIn {
        guid: "08bbd89e-9f13-488c-ac41-acfcb10c90ab",
        name: "Key Vault Crypto Service Release User",
        actions: &[],
        not_actions: &[],
        data_actions: &["Microsoft.KeyVault/vaults/keys/release/action"],
        not_data_actions: &[],
    },
    BuiltIn {
        guid: "8b54135c-b56d-4d72-a534-26097cfdc8d8",
        name: "Key Vault Data Access Administrator",
        // Its ABAC condition (it may only assign Key Vault data roles) is not modelled: it grants
        // no data action either way.
        actions: &[
            "Microsoft.Authorization/roleAssignments/write",
            "Microsoft.Authorization/roleAssignments/delete",
            "Microsoft.Authorization/*/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Resources/subscriptions/read",
            "Microsoft.Management/managementGroups/read",
            "Microsoft.Support/*",
            "Microsoft.KeyVault/vaults/*/read",
        ],
        not_actions: &[],
        data_actions: &[],
        not_data_actions: &[],
    },
    BuiltIn {
        guid: "f25e0fa2-a7c8-4377-a976-54943a77a395",
        name: "Key Vault Contributor",
        actions: &[
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.KeyVault/*",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
        ],
        not_actions: &[
            "Microsoft.KeyVault/locations/deletedVaults/purge/action",
            "Microsoft.KeyVault/hsmPools/*",
            "Microsoft.KeyVault/managedHsms/*",
        ],
        data_actions: &[],
        not_data_actions: &[],
    },
];

/// The compiled-in definition for a role GUID, if it is a known built-in role.
pub fn builtin(guid: &str) -> Option<RoleDefinition> {
    let guid = guid.to_ascii_lowercase();
    BUILT_INS.iter().find(|b| b.guid == guid).map(|b| {
        let strings = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        RoleDefinition {
            guid: b.guid.to_string(),
            name: b.name.to_string(),
            built_in: true,
            permissions: vec![Permission {
                actions: strings(b.actions),
                not_actions: strings(b.not_actions),
                data_actions: strings(b.data_actions),
                not_data_actions: strings(b.not_data_actions),
            }],
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_arm() {
        assert!(matches("*", GET_SECRET));
        assert!(matches("Microsoft.KeyVault/vaults/*", GET_SECRET));
        assert!(matches("microsoft.keyvault/VAULTS/secrets/*", GET_SECRET));
        assert!(matches("Microsoft.KeyVault/*/getSecret/action", GET_SECRET));
        assert!(!matches("Microsoft.KeyVault/vaults/*/read", GET_SECRET));
        assert!(!matches("Microsoft.KeyVault/vaults/keys/*", GET_SECRET));
        assert!(!matches(
            "Microsoft.KeyVault/vaults/secrets/getSecret",
            GET_SECRET
        ));
        assert!(matches("a*b*c", "aXbYc"));
        assert!(!matches("a*b*c", "ac"));
        assert!(!matches("ab*ba", "aba"));
    }

    #[test]
    fn only_data_roles_grant_get_secret() {
        let grants: Vec<&str> = BUILT_INS
            .iter()
            .filter(|b| builtin(b.guid).unwrap().grants(GET_SECRET))
            .map(|b| b.name)
            .collect();
        assert_eq!(
            grants,
            [
                "Key Vault Administrator",
                "Key Vault Secrets Officer",
                "Key Vault Secrets User",
                "Key Vault Certificate User"
            ]
        );
        let owner = builtin("8E3AF657-A8FF-443C-A75C-2FE8C4BCB635").unwrap();
        assert!(!owner.grants(GET_SECRET));
        assert!(owner.is_broad_control_plane());
    }

    #[test]
    fn not_data_actions_subtract_within_their_block() {
        let custom = RoleDefinition {
            guid: "x".into(),
            name: "metadata only".into(),
            built_in: false,
            permissions: vec![Permission {
                data_actions: vec!["Microsoft.KeyVault/vaults/secrets/*".into()],
                not_data_actions: vec![GET_SECRET.into()],
                ..Permission::default()
            }],
        };
        assert!(!custom.grants(GET_SECRET));
        assert!(custom.excludes(GET_SECRET));
        let mut two_blocks = custom.clone();
        two_blocks.permissions.push(Permission {
            data_actions: vec![GET_SECRET.into()],
            ..Permission::default()
        });
        assert!(
            two_blocks.grants(GET_SECRET),
            "another block may still grant"
        );
    }
}
