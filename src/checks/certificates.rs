//! Environment certificates as evidence for the Key Vault checkers.
//!
//! The environment fetches a certificate from Key Vault with its own identity and records the
//! outcome on the certificate resource: `provisioningState`, `deploymentErrors` (the platform's
//! words), `valid` and `expirationDate`. No system-log line is known for these fetches
//! (docs/azure.md#other-key-vault-consumers), so the resource itself is the log: its
//! `deploymentErrors` are read here into the cause they name, and each checker takes the
//! failures that are its own (access, network, the object's state).

use crate::azure::{ids, time as t};
use crate::snapshot::{Certificate, Consumer, KvReference, Read, Snapshot};
use crate::verdict::Evidence;
use time::{Duration, OffsetDateTime};

/// A certificate expiring within this window is worth a warning (`possible`).
pub const EXPIRY_WARNING: Duration = Duration::days(30);

/// What a certificate's `deploymentErrors` say went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchFailure {
    /// The vault's firewall or disabled public access refused the platform
    /// (microsoft/azure-container-apps#888, Azure/azure-rest-api-specs#37960).
    Network,
    /// The identity may not read the object.
    Access,
    /// The Key Vault object does not exist.
    NotFound,
    /// Anything else (the text is still shown).
    Other,
}

impl FetchFailure {
    /// Classifies the platform's error text. Network markers are tested first: #888's
    /// "Client address is not authorized" is a firewall refusal, not an RBAC one.
    pub fn of(text: &str) -> FetchFailure {
        let t = text.to_ascii_lowercase();
        let any = |markers: &[&str]| markers.iter().any(|m| t.contains(m));
        if any(&[
            "client address is not authorized",
            "forbiddenbyfirewall",
            "public network access is disabled",
            "not from a trusted service",
            "forbiddenbyconnection",
        ]) {
            FetchFailure::Network
        } else if any(&[
            "forbiddenbyrbac",
            "does not have secrets get permission",
            "accessdenied",
            "forbidden",
            "unauthorized",
        ]) {
            FetchFailure::Access
        } else if any(&["secretnotfound", "certificatenotfound", "was not found"]) {
            FetchFailure::NotFound
        } else {
            FetchFailure::Other
        }
    }
}

/// The certificate resource behind a certificate reference, when it was read.
pub fn resource_of<'a>(snapshot: &'a Snapshot, r: &KvReference) -> Option<&'a Certificate> {
    let Consumer::Certificate {
        environment,
        certificate,
        ..
    } = &r.consumer
    else {
        return None;
    };
    snapshot
        .certificates
        .values()
        .filter_map(Read::ok)
        .find(|c| {
            c.name.eq_ignore_ascii_case(certificate)
                && ids::certificate_environment(&c.id).is_some_and(|e| ids::same(&e, environment))
        })
}

/// The failure a certificate reference's resource records, with the platform's text (the
/// parser keeps `deploymentErrors` only when it says something).
pub fn failure<'a>(snapshot: &'a Snapshot, r: &KvReference) -> Option<(FetchFailure, &'a str)> {
    let text = resource_of(snapshot, r)?.deployment_errors.as_deref()?;
    Some((FetchFailure::of(text), text))
}

/// The platform's words on a certificate reference that failed, as evidence.
pub fn failure_evidence(r: &KvReference, text: &str) -> Evidence {
    Evidence::supports(
        format!(
            "{} failed with deploymentErrors \"{}\"",
            r.subject(),
            crate::logs::one_line(text, 300)
        ),
        "certificate",
    )
}

/// `expired 3 days ago (2026-11-17T…)` or `expires in 12 days (…)`, when the certificate has
/// expired or expires within [`EXPIRY_WARNING`] of `now`.
pub fn expiry_note(c: &Certificate, now: OffsetDateTime) -> Option<(bool, String)> {
    let at = c.expiration?;
    if at <= now {
        return Some((
            true,
            format!("expired {} ({})", t::ago(now, at), t::display(at)),
        ));
    }
    let left = t::elapsed(at, now);
    (left <= EXPIRY_WARNING).then(|| {
        (
            false,
            format!("expires in {} days ({})", left.whole_days(), t::display(at)),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_reported_texts() {
        // microsoft/azure-container-apps#888
        assert_eq!(
            FetchFailure::of(
                "Error while creating domain cert for Managed Environment: Client address is not authorized and caller is not a trusted service.\r\nClient address: 20.61.146.97"
            ),
            FetchFailure::Network
        );
        // Azure/azure-rest-api-specs#37960
        assert_eq!(
            FetchFailure::of(
                "403 Forbidden: Public network access is disabled and request is not from a trusted service nor via an approved private link"
            ),
            FetchFailure::Network
        );
        assert_eq!(
            FetchFailure::of(
                "Caller is not authorized to perform action on resource. (ForbiddenByRbac)"
            ),
            FetchFailure::Access
        );
        assert_eq!(
            FetchFailure::of(
                "A certificate with (name/id) api-cert was not found in this key vault"
            ),
            FetchFailure::NotFound
        );
        assert_eq!(
            FetchFailure::of("Internal server error occurred"),
            FetchFailure::Other
        );
    }
}
