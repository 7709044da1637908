//! The checkers' ids, typed: one enum instead of five string literals spread over the
//! checkers, the verdict's ranking, the refusal classifier and `lint --live`.
//!
//! What an id means in each of those places is answered here once: its stable string (JSON,
//! renderers), its place among equal statuses, whether it answers even when the workload
//! could not be read, and which lint rule reports it under `lint --live`.

use crate::lint::rules::{self, Rule};
use serde::{Serialize, Serializer};

/// One hypothesis, one checker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckerId {
    /// H1: every `secretRef` names a defined secret.
    SecretRef,
    /// H2: each Key Vault reference's identity exists and may read the secret.
    KeyvaultAccess,
    /// Refinement: the referenced vault and secret (version) exist, are enabled, not expired.
    KeyvaultSecretState,
    /// Refinement: the environment has a network path to the vault.
    KeyvaultNetwork,
    /// Timing: serving revisions run on current secret values.
    StaleRevision,
}

impl CheckerId {
    /// Every id, in the order the checkers run.
    pub const ALL: [CheckerId; 5] = [
        CheckerId::SecretRef,
        CheckerId::KeyvaultAccess,
        CheckerId::KeyvaultSecretState,
        CheckerId::KeyvaultNetwork,
        CheckerId::StaleRevision,
    ];

    /// The stable id of the JSON verdict and every renderer (`keyvault_access`).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckerId::SecretRef => "secret_ref",
            CheckerId::KeyvaultAccess => "keyvault_access",
            CheckerId::KeyvaultSecretState => "keyvault_secret_state",
            CheckerId::KeyvaultNetwork => "keyvault_network",
            CheckerId::StaleRevision => "stale_revision",
        }
    }

    /// Order among equal statuses: configuration faults before timing effects (docs/design.md#verdict-semantics):
    /// `secret_ref`, then `keyvault_access`, then the `keyvault_*` refinements by id, then
    /// `stale_revision`.
    pub fn tie_order(self) -> (u8, &'static str) {
        match self {
            CheckerId::SecretRef => (0, ""),
            CheckerId::KeyvaultAccess => (1, ""),
            CheckerId::KeyvaultSecretState | CheckerId::KeyvaultNetwork => (2, self.as_str()),
            CheckerId::StaleRevision => (3, ""),
        }
    }

    /// True for the hypotheses that answer even when the workload could not be read; the
    /// `keyvault_*` refinements answer only when the workload has a Key Vault reference.
    pub fn always_answers(self) -> bool {
        matches!(
            self,
            CheckerId::SecretRef | CheckerId::KeyvaultAccess | CheckerId::StaleRevision
        )
    }

    /// The `lint --live` rule that reports this checker's hypotheses, if any.
    pub fn lint_rule(self) -> Option<&'static Rule> {
        match self {
            CheckerId::KeyvaultAccess => Some(&rules::keyvault_access::RULE),
            CheckerId::KeyvaultSecretState => Some(&rules::keyvault_secret_state::RULE),
            CheckerId::KeyvaultNetwork => Some(&rules::keyvault_network::RULE),
            CheckerId::SecretRef | CheckerId::StaleRevision => None,
        }
    }
}

impl std::fmt::Display for CheckerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Serialised as its string: the verdict's JSON is unchanged.
impl Serialize for CheckerId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialEq<str> for CheckerId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for CheckerId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::CheckerId;

    #[test]
    fn ids_are_the_strings_they_always_were() {
        let ids: Vec<&str> = CheckerId::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            ids,
            [
                "secret_ref",
                "keyvault_access",
                "keyvault_secret_state",
                "keyvault_network",
                "stale_revision"
            ]
        );
        for id in CheckerId::ALL {
            assert_eq!(id.to_string(), id.as_str());
            assert_eq!(
                serde_json::to_value(id).unwrap(),
                serde_json::json!(id.as_str())
            );
        }
    }

    #[test]
    fn tie_order_puts_configuration_before_timing() {
        let mut ids = CheckerId::ALL;
        ids.reverse();
        ids.sort_by_key(|id| id.tie_order());
        assert_eq!(
            ids,
            [
                CheckerId::SecretRef,
                CheckerId::KeyvaultAccess,
                CheckerId::KeyvaultNetwork,
                CheckerId::KeyvaultSecretState,
                CheckerId::StaleRevision
            ]
        );
    }
}
