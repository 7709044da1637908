//! The evidence snapshot: typed facts built from a bundle's raw responses, plus every gap.
//!
//! The builder knows the request plan (`docs/bundle.md`): from the app it derives which reads
//! should exist (its environment, each vault, each role-assignment listing, ...), finds them by
//! path pattern, and records a [`Gap`] for each one that failed or is absent. Checkers then
//! read [`Read`] values and never have to guess whether "nothing" means "none" or "unknown".

mod builder;
mod certificate;
mod consumer;
mod dapr;
mod environment;
mod events;
mod execution;
mod gap;
mod json;
mod model;
mod rbac;
mod revision;
mod vault;
mod workload;

pub use certificate::{Certificate, KeyVaultSource};
pub use consumer::{Consumer, Fetcher, environment_label};
pub use dapr::{DaprComponent, DaprMetadata};
pub use environment::Environment;
pub use events::{ActivityEvent, LogTable, RoleChange, SystemLogEntry};
pub use execution::JobExecution;
pub use gap::Gap;
pub use json::Stamp;
pub use model::{
    DenyListing, KvReference, RoleListing, Snapshot, VAULT_WIDE, resource_group_of, vault_groups,
};
pub use rbac::{DenyAssignment, EVERYONE, RoleAssignment, parse_role_definition};
pub use revision::Revision;
pub use vault::{AccessPolicy, NetworkAcls, PrivateEndpoint, SecretVersion, Vault, VaultSecret};
pub use workload::{
    AppSecret, Container, CustomDomain, Dapr, EnvVar, Identity, Registry, ScaleRule, SecretRefSite,
    SiteKind, Template, UserAssigned, Volume, Workload, WorkloadKind,
};

/// The outcome of one read.
#[derive(Debug, Clone)]
pub enum Read<T> {
    Ok(T),
    /// A 404: itself evidence (a deleted identity, a secret that does not exist). Also what
    /// a 404 implies for the reads below it (the secrets of a vault that does not exist).
    NotFound(String),
    /// Not attempted: what it depends on could not be read (the app itself, say). Checkers
    /// never see it; it says why a read is absent without pretending it answered.
    NotRead(String),
    /// Failed, malformed or not collected; the gap says which and what would fix it.
    Unavailable(Gap),
}

impl<T> Read<T> {
    pub fn ok(&self) -> Option<&T> {
        match self {
            Read::Ok(value) => Some(value),
            _ => None,
        }
    }

    pub fn gap(&self) -> Option<&Gap> {
        match self {
            Read::Unavailable(gap) => Some(gap),
            _ => None,
        }
    }

    /// The same outcome for another type, when it holds no value (`None` for `Ok`).
    pub fn without_value<U>(&self) -> Option<Read<U>> {
        match self {
            Read::Ok(_) => None,
            Read::NotFound(d) => Some(Read::NotFound(d.clone())),
            Read::NotRead(d) => Some(Read::NotRead(d.clone())),
            Read::Unavailable(g) => Some(Read::Unavailable(g.clone())),
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Read::NotFound(_))
    }
}
