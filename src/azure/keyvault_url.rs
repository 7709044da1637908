//! Key Vault secret references (`secrets[].keyVaultUrl`).
//!
//! Container Apps accepts `https://<vault>.<vault dns suffix>/secrets/<name>` (versionless:
//! follows the latest version, synced about every 30 minutes) or `.../secrets/<name>/<version>`
//! with a 32-hex version (pinned: never rotates). Anything else is rejected at write time with
//! `ContainerAppSecretKeyVaultUrlInvalid` (docs/azure.md#key-vault-references).

use url::Url;

/// A parsed, valid secret reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVaultRef {
    /// The vault name: the first label of the host, lower-cased.
    pub vault: String,
    /// The whole host (`kv-orders-shared.vault.azure.net`), lower-cased.
    pub host: String,
    /// The secret name as written (Key Vault compares names without case).
    pub secret: String,
    /// The pinned version, when the URL has one.
    pub version: Option<String>,
}

impl KeyVaultRef {
    /// Parses a `keyVaultUrl`; the error says what is wrong in words a user can act on.
    pub fn parse(text: &str) -> Result<Self, String> {
        Self::parse_in(text, &["secrets"])
    }

    /// Parses a certificate's `keyVaultUrl` (`certificateKeyVaultProperties`): the
    /// `/certificates/<name>` form or the `/secrets/<name>` form. Either is read through the
    /// secret endpoint (a certificate's private key is the secret of the same name), so the
    /// result names that secret.
    pub fn parse_certificate(text: &str) -> Result<Self, String> {
        Self::parse_in(text, &["certificates", "secrets"])
    }

    fn parse_in(text: &str, collections: &[&str]) -> Result<Self, String> {
        let forms = collections
            .iter()
            .map(|c| format!("/{c}/<name>[/<version>]"))
            .collect::<Vec<_>>()
            .join(" or ");
        let url = Url::parse(text.trim()).map_err(|e| format!("not a URL ({e})"))?;
        if url.scheme() != "https" {
            return Err(format!(
                "scheme is '{}', Key Vault references must use https",
                url.scheme()
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "has a query or fragment; a reference is only {forms}"
            ));
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let Some((vault, suffix)) = host.split_once('.') else {
            return Err(format!("host '{host}' is not <vault>.vault.azure.net"));
        };
        if !suffix.starts_with("vault.") {
            return Err(format!(
                "host '{host}' is not a Key Vault host (<vault>.vault.azure.net)"
            ));
        }
        if !(3..=24).contains(&vault.len())
            || !vault.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(format!(
                "vault name '{vault}' is not 3-24 letters, digits or hyphens"
            ));
        }
        let segments: Vec<&str> = url.path().trim_matches('/').split('/').collect();
        let (secret, version) = match segments.as_slice() {
            [collection, name] if collections.contains(collection) => (*name, None),
            [collection, name, version] if collections.contains(collection) => {
                (*name, Some(*version))
            }
            _ => {
                return Err(format!("path '{}' is not {forms}", url.path()));
            }
        };
        if secret.is_empty()
            || secret.len() > 127
            || !secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(format!(
                "secret name '{secret}' is not 1-127 letters, digits or hyphens"
            ));
        }
        if let Some(v) = version
            && (v.len() != 32 || !v.chars().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(format!(
                "version '{v}' is not a 32-character hex version id"
            ));
        }
        Ok(KeyVaultRef {
            vault: vault.to_string(),
            host: host.clone(),
            secret: secret.to_string(),
            version: version.map(str::to_ascii_lowercase),
        })
    }

    /// The versionless form of this reference, as a user would write it.
    pub fn versionless_url(&self) -> String {
        format!("https://{}/secrets/{}", self.host, self.secret)
    }
}

/// The version id at the end of a Key Vault secret id or URL (`.../secrets/<name>/<version>`).
pub fn version_of(id: &str) -> Option<String> {
    let parsed = KeyVaultRef::parse(id).ok()?;
    parsed.version
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versionless_and_pinned_references() {
        let r = KeyVaultRef::parse(
            "https://kv-orders-shared.vault.azure.net/secrets/orders-db-password",
        )
        .unwrap();
        assert_eq!(
            (r.vault.as_str(), r.secret.as_str(), r.version),
            ("kv-orders-shared", "orders-db-password", None)
        );
        let r = KeyVaultRef::parse(
            "https://KV-Orders.vault.azure.cn/secrets/db/7E3A91C4B05D4F2A8C6E19D3B7F40A25/",
        )
        .unwrap();
        assert_eq!(r.vault, "kv-orders");
        assert_eq!(
            r.version.as_deref(),
            Some("7e3a91c4b05d4f2a8c6e19d3b7f40a25")
        );
        assert_eq!(
            r.versionless_url(),
            "https://kv-orders.vault.azure.cn/secrets/db"
        );
    }

    #[test]
    fn certificates_take_either_collection() {
        let r = KeyVaultRef::parse_certificate(
            "https://kv-certs.vault.azure.net/certificates/api-cert",
        )
        .unwrap();
        assert_eq!(
            (r.vault.as_str(), r.secret.as_str()),
            ("kv-certs", "api-cert")
        );
        assert!(
            KeyVaultRef::parse_certificate("https://kv-certs.vault.azure.net/secrets/api-cert")
                .is_ok()
        );
        assert!(
            KeyVaultRef::parse("https://kv-certs.vault.azure.net/certificates/api-cert").is_err()
        );
        let e =
            KeyVaultRef::parse_certificate("https://kv-certs.vault.azure.net/keys/k").unwrap_err();
        assert!(e.contains("/certificates/<name>"), "{e}");
    }

    #[test]
    fn explains_what_is_wrong() {
        let cases = [
            ("http://kv.vault.azure.net/secrets/a", "https"),
            ("https://kv-orders.vault.azure.net/keys/a", "path"),
            (
                "https://kv-orders.vault.azure.net/secrets/a/not-hex",
                "version",
            ),
            (
                "https://kv-orders.vault.azure.net/secrets/a_b",
                "secret name",
            ),
            ("https://example.com/secrets/a", "not a Key Vault host"),
            ("https://kv.vault.azure.net/secrets/a", "vault name"),
            ("kv-orders/secrets/a", "not a URL"),
            ("https://kv-orders.vault.azure.net/secrets/a?x=1", "query"),
        ];
        for (url, expected) in cases {
            let err = KeyVaultRef::parse(url).unwrap_err();
            assert!(err.contains(expected), "{url}: {err}");
        }
    }
}
