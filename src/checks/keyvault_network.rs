//! `keyvault_network`: the platform has no network path to the vault.
//!
//! **Azure rule.** With `publicNetworkAccess: Disabled` only private-endpoint traffic reaches
//! the vault and firewall rules are ignored. With `networkAcls.defaultAction: Deny` only the
//! listed IP ranges, virtual-network rules, private endpoints and trusted services pass — and
//! Container Apps is **not** a trusted Microsoft service, so `bypass: AzureServices` does not
//! let it in. The sync goes out through the environment's network: a private endpoint needs a
//! VNet-integrated environment and private DNS (`privatelink.vaultcore.azure.net`) linked to
//! that VNet (docs/azure.md#key-vault-network-rules; docs/azure-errors.md A4, A5, B1, B2).
//!
//! **Evidence read.** The vault's network settings and private endpoint connections; the
//! environment's infrastructure subnet; the app's outbound IPs; sync failures in the system
//! log (`ForbiddenByFirewall`, `ForbiddenByConnection`, `no such host`).
//!
//! **Cannot see.** Private DNS zones and their VNet links, custom DNS servers, UDRs and
//! firewalls on the path, network security perimeters (their 403 in the log is the only sign).

use super::certificates::{self, FetchFailure};
use super::{CheckerId, Tally, commands, latest_sync, log_evidence};
use crate::logs::{FailureCause, LogEvent};
use crate::snapshot::{Fetcher, KvReference, Read, Snapshot, SystemLogEntry, Vault, Workload};
use crate::verdict::{Evidence, Hypothesis, Remediation, Status};
use std::net::Ipv4Addr;

pub const ID: CheckerId = CheckerId::KeyvaultNetwork;
pub const TITLE: &str = "the environment has a network path to each referenced vault";

pub fn check(snapshot: &Snapshot, workload: &Workload) -> Option<Hypothesis> {
    if snapshot.kv_refs.is_empty() {
        return None;
    }
    let mut tally = Tally::new(ID);
    for (name, read) in &snapshot.vaults {
        match read {
            Read::Ok(vault) => {
                certificate_path(snapshot, vault, &mut tally);
                if on_vault(snapshot, vault).any(|r| r.consumer.fetcher() == Fetcher::Workload) {
                    vault_path(snapshot, workload, vault, &mut tally);
                }
            }
            Read::Unavailable(gap) => {
                tally.item(
                    Status::Inconclusive,
                    format!(
                        "cannot check the network path to vault '{name}': it could not be read"
                    ),
                    name,
                );
                tally.gap(gap, "vault");
            }
            Read::NotFound(_) | Read::NotRead(_) => {}
        }
    }
    Some(tally.finish(
        (Status::RuledOut, "no referenced vault could be read"),
        "every referenced vault accepts traffic from the app",
    ))
}

/// The newest network-caused sync failure for a secret of this vault, if that is the latest
/// sync event for the secret.
fn network_failure<'a>(
    snapshot: &'a Snapshot,
    vault: &'a Vault,
) -> Option<(&'a SystemLogEntry, FailureCause)> {
    on_vault(snapshot, vault)
        .filter_map(|r| latest_sync(snapshot, r))
        .filter_map(|e| match &e.event {
            LogEvent::SyncFailed(f)
                if matches!(
                    f.cause,
                    FailureCause::Firewall | FailureCause::PrivateLinkOnly | FailureCause::Dns
                ) =>
            {
                Some((e, f.cause.clone()))
            }
            _ => None,
        })
        .max_by_key(|(e, _)| e.time)
}

/// The references that point at `vault`.
fn on_vault<'a>(snapshot: &'a Snapshot, vault: &'a Vault) -> impl Iterator<Item = &'a KvReference> {
    snapshot.kv_refs.iter().filter(move |r| {
        r.parsed
            .as_ref()
            .is_ok_and(|p| p.vault.eq_ignore_ascii_case(&vault.name))
    })
}

/// Certificates the environment fetches from `vault`. Reported, not documented: the fetch
/// leaves from the platform's public egress, not through the environment's VNet, so a vault
/// closed to public traffic refuses it even where a private endpoint serves the app's own
/// secrets (microsoft/azure-container-apps#888, Azure/azure-cli-extensions#7685,
/// Azure/azure-rest-api-specs#37960; docs/azure.md#other-key-vault-consumers). From the
/// configuration alone that is `likely`; the certificate's own error naming the firewall
/// confirms it.
fn certificate_path(snapshot: &Snapshot, vault: &Vault, tally: &mut Tally) {
    let name = &vault.name;
    let closed = vault.public_access_disabled() || vault.firewall_on();
    for r in on_vault(snapshot, vault).filter(|r| r.consumer.is_certificate()) {
        let subject = r.subject();
        let refused = match certificates::failure(snapshot, r) {
            Some((FetchFailure::Network, text)) => Some(text),
            _ => None,
        };
        if let Some(text) = refused {
            tally.item(
                Status::Confirmed,
                format!("vault '{name}' refuses the environment's fetch of {subject} on the network path"),
                &r.concern(),
            );
            tally.evidence(certificates::failure_evidence(r, text));
        } else if closed && fetched(snapshot, r) {
            tally.item(
                Status::Unlikely,
                format!("vault '{name}' is closed to public traffic, but the environment's last fetch of {subject} succeeded"),
                &r.concern(),
            );
            tally.evidence(Evidence::weakens(
                format!("{subject}: provisioningState Succeeded and valid"),
                "certificate",
            ));
            continue;
        } else if closed {
            tally.item(
                Status::Likely,
                format!("vault '{name}' is closed to public traffic, and the environment fetches {subject} from the platform's public egress, not through its VNet (reported, not documented)"),
                &r.concern(),
            );
        } else {
            tally.item(
                Status::RuledOut,
                format!("vault '{name}' accepts public traffic, the path the environment fetches {subject} on"),
                &r.concern(),
            );
            continue;
        }
        tally.evidence(Evidence::supports(
            format!(
                "vault '{name}': publicNetworkAccess {}, firewall {}; reports (microsoft/azure-container-apps#888, Azure/azure-rest-api-specs#37960) show certificate fetches refused by such vaults even with a private endpoint and trusted services allowed",
                if vault.public_access_disabled() { "Disabled" } else { "Enabled" },
                if vault.firewall_on() { "on (defaultAction Deny)" } else { "off" },
            ),
            "vault",
        ));
        tally.remedy(Remediation::advice(format!(
            "let the environment reach vault '{name}' from the public network while it imports the certificate (public access on, firewall off), or upload the certificate to the environment directly (az containerapp env certificate upload --certificate-file)"
        )));
    }
}

/// True when the certificate resource shows the environment's last fetch worked.
fn fetched(snapshot: &Snapshot, r: &KvReference) -> bool {
    certificates::resource_of(snapshot, r).is_some_and(|c| {
        c.provisioning_state
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("Succeeded"))
            && c.valid != Some(false)
    })
}

fn vault_path(snapshot: &Snapshot, workload: &Workload, vault: &Vault, tally: &mut Tally) {
    let name = &vault.name;
    let show = commands::keyvault_show(
        name,
        "properties.{publicNetworkAccess:publicNetworkAccess, networkAcls:networkAcls, privateEndpoints:privateEndpointConnections[].properties.privateLinkServiceConnectionState.status}",
    );
    let subnet = snapshot
        .environment
        .ok()
        .and_then(|e| e.infrastructure_subnet.clone());
    let env_read = snapshot.environment.ok().is_some();
    let endpoints = vault.approved_private_endpoints();
    let failure = network_failure(snapshot, vault);
    if let Some((entry, cause)) = &failure {
        tally.evidence(log_evidence(
            entry,
            &format!("sync refused on the network path: {}", cause.describe()),
            true,
            snapshot,
        ));
    }
    let env_note = match (&subnet, env_read) {
        (Some(s), _) => format!("the environment is VNet-integrated (subnet {s})"),
        (None, true) => "the environment is not VNet-integrated".to_string(),
        (None, false) => "the environment could not be read".to_string(),
    };

    if vault.public_access_disabled() {
        tally.evidence(Evidence::supports(format!("vault '{name}' has publicNetworkAccess = Disabled: only private endpoints reach it, firewall rules are ignored; {endpoints} approved private endpoint(s)"), "vault").reproduce(show.clone()));
        let (status, summary) = match (endpoints, &subnet) {
            (0, _) => (
                Status::Confirmed,
                format!(
                    "vault '{name}' disables public access and has no approved private endpoint: nothing can reach it"
                ),
            ),
            (_, None) if env_read => (
                Status::Confirmed,
                format!(
                    "vault '{name}' is reachable only through a private endpoint, and the app's environment is not in a VNet"
                ),
            ),
            _ if failure.is_some() => (
                Status::Confirmed,
                format!(
                    "vault '{name}' is private and the platform's sync is refused on the network path"
                ),
            ),
            (_, None) if let Some(gap) = snapshot.environment.gap() => {
                tally.gap(gap, "environment");
                (
                    Status::Inconclusive,
                    format!(
                        "vault '{name}' is reachable only through its {endpoints} private endpoint(s), and the environment could not be read to tell whether it is in a VNet"
                    ),
                )
            }
            _ => (
                Status::Unlikely,
                format!(
                    "vault '{name}' is private; {env_note} and has {endpoints} approved private endpoint(s) (private DNS not verifiable)"
                ),
            ),
        };
        tally.item(status, summary, name);
        tally.evidence(Evidence::supports(env_note.clone(), "environment"));
        tally.remedy(Remediation::advice(format!("create a private endpoint for '{name}' in the environment's VNet and link the private DNS zone privatelink.vaultcore.azure.net to that VNet")));
        tally.remedy(Remediation::run(
            "or allow public access (then restrict it with the firewall)",
            commands::keyvault_public_access(name),
        ));
        return;
    }
    if !vault.firewall_on() {
        match &failure {
            Some((_, FailureCause::Firewall)) => tally.item(Status::Confirmed, format!("vault '{name}' looks open but the platform is refused by a firewall (a network security perimeter is not visible in networkAcls)"), name),
            Some((_, FailureCause::Dns)) => tally.item(Status::Likely, format!("the environment's DNS cannot resolve vault '{name}'"), name),
            Some(_) => tally.item(Status::Likely, format!("the platform's sync to vault '{name}' is refused on the network path"), name),
            None => {
                tally.item(Status::RuledOut, format!("vault '{name}' accepts public traffic (no firewall)"), name);
                tally.evidence(Evidence::weakens(format!("vault '{name}' has public access enabled and no firewall (networkAcls absent or defaultAction Allow)"), "vault").reproduce(show));
            }
        }
        return;
    }
    let acls = vault.network_acls.as_ref();
    let bypass = acls.and_then(|a| a.bypass.as_deref()).unwrap_or("None");
    tally.evidence(Evidence::supports(format!("vault '{name}' firewall is on (defaultAction Deny, bypass {bypass}); Container Apps is not a trusted Microsoft service, so bypass does not let it in"), "vault").reproduce(show.clone()));
    let mut paths = Vec::new();
    if endpoints > 0 && subnet.is_some() {
        paths.push(format!("{endpoints} approved private endpoint(s) with a VNet-integrated environment (private DNS not verifiable)"));
    }
    if let (Some(s), Some(a)) = (&subnet, acls)
        && a.virtual_network_rules
            .iter()
            .any(|r| crate::azure::ids::same(r, s))
    {
        paths.push("a virtual-network rule for the environment's subnet (needs the Microsoft.KeyVault service endpoint on it)".into());
    }
    let allowed_ips: Vec<&String> = workload
        .outbound_ips
        .iter()
        .filter(|ip| acls.is_some_and(|a| a.ip_rules.iter().any(|rule| cidr_contains(rule, ip))))
        .collect();
    if !allowed_ips.is_empty() {
        paths.push(format!(
            "an IP rule covering the app's outbound IP(s) {}",
            allowed_ips
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // A private endpoint or a subnet rule is a path only for a VNet environment: when the
    // environment could not be read, whether one applies is unknown, not absent.
    let env_gap = snapshot
        .environment
        .gap()
        .filter(|_| endpoints > 0 || acls.is_some_and(|a| !a.virtual_network_rules.is_empty()));
    match (&failure, paths.is_empty()) {
        (Some(_), _) => tally.item(Status::Confirmed, format!("the vault '{name}' firewall refuses the platform's sync"), name),
        (None, true) if let Some(gap) = env_gap => {
            tally.gap(gap, "environment");
            tally.item(Status::Inconclusive, format!("cannot tell whether vault '{name}' firewall admits the app: it allows private endpoints or subnets, and the environment could not be read"), name);
        }
        (None, true) => tally.item(Status::Likely, format!("vault '{name}' firewall admits no path from the app: no private endpoint with a VNet environment, no rule for its subnet or outbound IPs"), name),
        (None, false) => {
            tally.item(Status::Unlikely, format!("vault '{name}' firewall is on, but the app has a path: {}", paths.join("; ")), name);
            tally.evidence(Evidence::weakens(format!("path from the app to '{name}': {}", paths.join("; ")), "vault"));
        }
    }
    if let Some(s) = &subnet {
        tally.remedy(Remediation::run("allow the environment's subnet (requires the Microsoft.KeyVault service endpoint on it)", commands::keyvault_network_rule(name, s)));
    }
    tally.remedy(Remediation::advice(format!("or add a private endpoint for '{name}' in the environment's VNet with private DNS privatelink.vaultcore.azure.net; 'Allow trusted Microsoft services' does not cover Container Apps")));
}

/// True when IPv4 `ip` is inside `rule` (`a.b.c.d` or `a.b.c.d/n`). Quotes stray in real
/// payloads (`"'10.91.4.0/24'"`) are ignored.
fn cidr_contains(rule: &str, ip: &str) -> bool {
    let rule = rule.trim().trim_matches('\'');
    let (net, bits) = rule
        .split_once('/')
        .map_or((rule, 32), |(n, b)| (n, b.parse().unwrap_or(33)));
    let (Ok(net), Ok(ip)) = (net.parse::<Ipv4Addr>(), ip.trim().parse::<Ipv4Addr>()) else {
        return false;
    };
    if bits > 32 {
        return false;
    }
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    u32::from(net) & mask == u32::from(ip) & mask
}

#[cfg(test)]
mod tests {
    use super::cidr_contains;

    #[test]
    fn matches_ip_rules() {
        assert!(cidr_contains("20.126.45.0/24", "20.126.45.210"));
        assert!(cidr_contains("'20.126.45.210'", "20.126.45.210"));
        assert!(cidr_contains("0.0.0.0/0", "1.2.3.4"));
        assert!(!cidr_contains("20.126.45.0/25", "20.126.45.210"));
        assert!(!cidr_contains("20.126.45.0/40", "20.126.45.210"));
        assert!(!cidr_contains("2001:db8::/32", "20.126.45.210"));
    }
}
