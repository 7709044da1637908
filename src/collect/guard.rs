//! The request guard: the one check every request passes before it is sent — the planned call,
//! every follow-up page (`nextLink`), and every request the Key Vault SDK makes underneath.
//!
//! A request is sent only when all of these hold:
//! - **method**: `GET`, or `POST` for the two query APIs (Resource Graph, Log Analytics);
//! - **host**: the service's configured endpoint (scheme, host, port and path prefix), or for
//!   Key Vault the host of the vault being read, `https://{vault}.{suffix}`, on a suffix of a
//!   cloud kvdiag knows;
//! - **path**: one of the read shapes of the request plan (docs/bundle.md), recognised by the
//!   same router that finds responses in a bundle ([`crate::bundle::route`]), with every id
//!   segment a plain name. For Key Vault only the version list of the one secret being read:
//!   never `/secrets/{name}` or `/secrets/{name}/{version}`, the two paths that return a value;
//! - **pages**: a follow-up page reads the same list as the first request (same host, same path),
//!   so an answer cannot steer the token to another host or another read.
//!
//! What fails the guard is not sent. The caller records it as a `refused: …` error, which the
//! snapshot shows as a gap naming the link.

use crate::azure::ids;
use crate::bundle::{Response, Route, Service, route};
use url::Url;

/// Checks a request to ARM, Resource Graph or Log Analytics: `base` is the service's endpoint.
pub fn check(service: Service, method: &str, url: &Url, base: &Url) -> Result<(), String> {
    let path = below(url, base)?;
    let decoded = decoded_path(&path)?;
    let probe = Response {
        method: method.to_string(),
        service,
        host: None,
        path: decoded.clone(),
        query: url
            .query_pairs()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&"),
        request_body: None,
        status: None,
        body: None,
        error: None,
        headers: None,
    };
    let route = route(&probe);
    let allowed_method = route.kind().map_or("GET", |k| k.spec().method);
    if method != allowed_method {
        return Err(format!("{method} {decoded} is not a read kvdiag makes"));
    }
    if planned_shape(&route, &decoded) {
        Ok(())
    } else {
        Err(format!("{method} {decoded} is not a read kvdiag plans"))
    }
}

/// Checks a Key Vault data-plane request: a `GET` of the version list of `secret` on `host`.
pub fn check_vault(method: &str, url: &Url, host: &str, secret: &str) -> Result<(), String> {
    if url.scheme() != "https" || !url.host_str().is_some_and(|h| h.eq_ignore_ascii_case(host)) {
        return Err(format!(
            "{} is not the vault being read (https://{host})",
            shown(url)
        ));
    }
    if url.port().is_some() {
        return Err(format!("{} names a port; a vault has none", shown(url)));
    }
    let decoded = decoded_path(url.path())?;
    let wanted = format!("/secrets/{secret}/versions");
    if method != "GET" || !decoded.trim_end_matches('/').eq_ignore_ascii_case(&wanted) {
        return Err(format!(
            "{method} https://{host}{decoded} is not the version list of secret '{secret}' (the only Key Vault read kvdiag makes; it never reads a value)"
        ));
    }
    Ok(())
}

/// Checks that a follow-up page reads the same list as the request it follows.
pub fn check_page(first: &Url, next: &Url) -> Result<(), String> {
    let same_origin = first.scheme() == next.scheme()
        && first.host_str().map(str::to_ascii_lowercase)
            == next.host_str().map(str::to_ascii_lowercase)
        && first.port_or_known_default() == next.port_or_known_default();
    if !same_origin {
        return Err(format!(
            "nextLink {} points to another host than the list it continues",
            shown(next)
        ));
    }
    let path = |u: &Url| u.path().trim_end_matches('/').to_ascii_lowercase();
    if path(first) != path(next) {
        return Err(format!(
            "nextLink {} is not a page of the list it continues ({})",
            shown(next),
            first.path()
        ));
    }
    Ok(())
}

/// Resolves a `nextLink` against the URL of the page that carried it (absolute links stay
/// absolute; a relative one is read the way a browser would).
pub fn resolve_link(current: &Url, link: &str) -> Result<Url, String> {
    current
        .join(link.trim())
        .map_err(|_| format!("nextLink '{}' is not a URL", clip(link)))
}

/// The path of `url` below `base`, when `url` is on `base`'s origin and under its path prefix.
fn below(url: &Url, base: &Url) -> Result<String, String> {
    let same_origin = url.scheme() == base.scheme()
        && url.host_str().map(str::to_ascii_lowercase)
            == base.host_str().map(str::to_ascii_lowercase)
        && url.port_or_known_default() == base.port_or_known_default();
    if !same_origin || url.username() != "" || url.password().is_some() {
        return Err(format!(
            "{} is not on the configured endpoint {}",
            shown(url),
            base.origin().ascii_serialization()
        ));
    }
    let prefix = base.path().trim_end_matches('/');
    match url.path().strip_prefix(prefix) {
        Some(rest) if rest.starts_with('/') => Ok(rest.to_string()),
        _ => Err(format!(
            "{} is not under the configured endpoint's path {prefix}/",
            shown(url)
        )),
    }
}

/// The path with each segment percent-decoded, refused when a decoded segment is empty, `.`,
/// `..`, or holds anything but letters, digits and `-_.()` (a decoded `/`, `?`, `%` or `\` would
/// let a name from an answer reach another resource).
fn decoded_path(path: &str) -> Result<String, String> {
    let segments: Result<Vec<String>, String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|segment| {
            percent_encoding::percent_decode_str(segment)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| format!("path {} is not UTF-8", clip(path)))
        })
        .collect();
    let joined = format!("/{}", segments?.join("/"));
    if ids::is_safe_path(&joined) && joined.split('/').count() == path.split('/').count() {
        Ok(joined)
    } else {
        Err(format!(
            "path {} has a segment that is not a plain name",
            clip(path)
        ))
    }
}

/// True when a routed path is one the request plan makes, with ids of the expected types.
fn planned_shape(route: &Route, path: &str) -> bool {
    let segments: Vec<String> = ids::normalize(path)
        .trim_start_matches('/')
        .split('/')
        .map(str::to_string)
        .collect();
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    match route {
        Route::App { .. }
        | Route::Job { .. }
        | Route::Revisions { .. }
        | Route::Environment { .. }
        | Route::DaprComponents { .. }
        | Route::Certificate { .. }
        | Route::Certificates { .. }
        | Route::JobExecutions { .. }
        | Route::UserAssignedIdentity { .. }
        | Route::Vault { .. }
        | Route::VaultSecret { .. }
        | Route::VaultSecretList { .. } => ids::is_guid(s[1]),
        Route::VaultList { .. } => {
            matches!(s.as_slice(), ["subscriptions", sub, "providers", "microsoft.keyvault", "vaults"] if ids::is_guid(sub))
        }
        Route::RoleAssignments { scope, .. } | Route::DenyAssignments { scope } => {
            ids::vault_scope(scope).is_some()
        }
        Route::RoleDefinition { .. } => ids::role_definition(path).is_some(),
        Route::ActivityLog { .. } => ids::is_guid(s[1]),
        Route::ResourceGraph => true,
        Route::LogQuery { workspace } => ids::is_guid(workspace),
        Route::SecretVersions { .. } | Route::Other => false,
    }
}

/// A URL for a message: without its query (a `$skiptoken` is noise), at most 200 characters.
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    clip(url.as_str())
}

fn clip(text: &str) -> String {
    let mut out: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    if text.chars().count() > 200 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90";

    fn arm(path: &str) -> Url {
        Url::parse(&format!("https://management.azure.com{path}?api-version=1")).unwrap()
    }

    fn base() -> Url {
        Url::parse("https://management.azure.com").unwrap()
    }

    fn vault(tail: &str) -> String {
        format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv{tail}"
        )
    }

    #[test]
    fn every_planned_read_passes() {
        let app = format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.App");
        for path in [
            format!("{app}/containerApps/ca"),
            format!("{app}/containerApps/ca/revisions"),
            format!("{app}/jobs/job"),
            format!("{app}/managedEnvironments/env"),
            format!("{app}/managedEnvironments/env/daprComponents"),
            format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-x"
            ),
            vault(""),
            vault("/secrets/db"),
            vault("/secrets"),
            vault("/providers/Microsoft.Authorization/roleAssignments"),
            vault("/secrets/db/providers/Microsoft.Authorization/roleAssignments"),
            vault("/providers/Microsoft.Authorization/denyAssignments"),
            format!("/subscriptions/{SUB}/providers/Microsoft.KeyVault/vaults"),
            format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{SUB}"),
            format!("/providers/Microsoft.Authorization/roleDefinitions/{SUB}"),
            format!(
                "/providers/Microsoft.Management/managementGroups/mg-1/providers/Microsoft.Authorization/roleDefinitions/{SUB}"
            ),
            format!(
                "/subscriptions/{SUB}/providers/Microsoft.Insights/eventtypes/management/values"
            ),
            format!("{app}/containerApps/ca-%C3%A9"),
        ] {
            assert_eq!(
                check(Service::Arm, "GET", &arm(&path), &base()),
                Ok(()),
                "{path}"
            );
        }
        assert_eq!(
            check(
                Service::Arm,
                "POST",
                &arm("/providers/Microsoft.ResourceGraph/resources"),
                &base()
            ),
            Ok(())
        );
        let la = Url::parse("https://api.loganalytics.io").unwrap();
        let query = Url::parse(&format!(
            "https://api.loganalytics.io/v1/workspaces/{SUB}/query"
        ))
        .unwrap();
        assert_eq!(check(Service::LogAnalytics, "POST", &query, &la), Ok(()));
    }

    #[test]
    fn anything_else_is_refused() {
        let app = format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.App/containerApps/ca"
        );
        for (method, path) in [
            ("POST", format!("{app}/listSecrets")),
            ("GET", format!("{app}/listSecrets")),
            ("PUT", app.clone()),
            ("DELETE", app.clone()),
            ("POST", app.clone()),
            ("GET", "/kv/kv-orders-shared/secrets/db".to_string()),
            ("GET", "/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.App/containerApps/ca".to_string()),
            ("GET", format!("{app}/revisions/r1/restart")),
            ("POST", format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/env/daprComponents/statestore/listSecrets")),
            ("GET", format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/env/daprComponents/statestore")),
            ("GET", format!("{app}%2F..%2Fx")),
            ("GET", format!("{app}/x%3Fy")),
            ("GET", "/providers/Microsoft.ResourceGraph/resources".to_string()),
            ("GET", format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments")),
            ("GET", format!("/kv/x/providers/Microsoft.Authorization/roleDefinitions/{SUB}")),
            ("POST", vault("/secrets")),
            ("GET", vault("/secrets/db/versions")),
            ("GET", "/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/secrets".to_string()),
        ] {
            assert!(
                check(Service::Arm, method, &arm(&path), &base()).is_err(),
                "{method} {path}"
            );
        }
        let la = Url::parse("https://api.loganalytics.io").unwrap();
        let bad = Url::parse("https://api.loganalytics.io/v1/workspaces/w/query").unwrap();
        assert!(check(Service::LogAnalytics, "POST", &bad, &la).is_err());
    }

    #[test]
    fn only_the_configured_endpoint_and_its_prefix_are_used() {
        let base = Url::parse("http://127.0.0.1:8080/arm").unwrap();
        let path = format!("/subscriptions/{SUB}/providers/Microsoft.KeyVault/vaults");
        let ok = Url::parse(&format!("http://127.0.0.1:8080/arm{path}")).unwrap();
        assert_eq!(check(Service::Arm, "GET", &ok, &base), Ok(()));
        for bad in [
            format!("http://127.0.0.1:8081/arm{path}"),
            format!("http://localhost:8080/arm{path}"),
            format!("https://127.0.0.1:8080/arm{path}"),
            format!("http://127.0.0.1:8080{path}"),
            format!("http://127.0.0.1:8080/armx{path}"),
            format!("http://user:pw@127.0.0.1:8080/arm{path}"),
        ] {
            let url = Url::parse(&bad).unwrap();
            assert!(check(Service::Arm, "GET", &url, &base).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_vault_reads_only_the_version_list_of_its_secret() {
        let ok = Url::parse(
            "https://kv.vault.azure.net/secrets/db/versions?api-version=7.6&$skiptoken=x",
        )
        .unwrap();
        assert_eq!(check_vault("GET", &ok, "kv.vault.azure.net", "db"), Ok(()));
        for bad in [
            "https://kv.vault.azure.net/secrets/db",
            "https://kv.vault.azure.net/secrets/db/0123456789abcdef0123456789abcdef",
            "https://kv.vault.azure.net/secrets/other/versions",
            "https://kv.vault.azure.net/secrets/db%2Fversions",
            "https://kv.vault.azure.net/secrets/versions",
            "https://evil.example/secrets/db/versions",
            "https://kv2.vault.azure.net/secrets/db/versions",
            "https://kv.vault.azure.net:8443/secrets/db/versions",
            "http://kv.vault.azure.net/secrets/db/versions",
            "https://kv.vault.azure.net/deletedsecrets/db",
        ] {
            let url = Url::parse(bad).unwrap();
            assert!(
                check_vault("GET", &url, "kv.vault.azure.net", "db").is_err(),
                "{bad}"
            );
        }
        assert!(check_vault("POST", &ok, "kv.vault.azure.net", "db").is_err());
    }

    #[test]
    fn pages_stay_on_their_list() {
        let first =
            Url::parse("https://kv.vault.azure.net/secrets/db/versions?api-version=1").unwrap();
        let same = resolve_link(
            &first,
            "https://KV.vault.azure.net/secrets/DB/versions?$skiptoken=a",
        )
        .unwrap();
        assert_eq!(check_page(&first, &same), Ok(()));
        for link in [
            "https://evil.example/secrets/db/versions?$skiptoken=a",
            "/secrets/db/0123456789abcdef0123456789abcdef",
            "https://kv.vault.azure.net/secrets/db",
            "//evil.example/secrets/db/versions",
            "http://kv.vault.azure.net/secrets/db/versions",
        ] {
            let next = resolve_link(&first, link).unwrap();
            assert!(check_page(&first, &next).is_err(), "{link}");
        }
        assert!(resolve_link(&Url::parse("data:text/plain,x").unwrap(), "a").is_err());
    }
}
