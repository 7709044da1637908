//! Access tokens of the developer credentials (`az`, `azd`) kept between runs, the way kubelogin
//! keeps its tokens: a second `kvdiag check` within the token's lifetime starts no `az` process.
//!
//! What is stored: one file per (credential, cloud, tenant, audience, account), named by the
//! SHA-256 of those fields, holding exactly those fields, the access token and its expiry — never
//! a refresh token (kvdiag never sees one: the CLIs keep theirs). Where: `kvdiag/tokens/` under
//! the user's cache directory (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on
//! macOS), a directory of mode 0700 whose files have mode 0600; a directory or file that is
//! not the user's own, is a symbolic link, or is readable by anyone else is ignored, never
//! repaired. How long: a token is used until [`FRESH_MARGIN`] before it expires (Entra access
//! tokens live 60–90 minutes), and dropped as soon as Azure answers 401 to it. Files are written
//! atomically ([`crate::bundle::write_file`]). README, "Token cache", says the same for users.
//!
//! Which credentials: only `azure-cli` and `azure-developer-cli`. Their login state lives in
//! files kvdiag can read without starting the CLI, which gives the key's tenant and account
//! ([`Login`]): the Azure CLI's `azureProfile.json` (the subscription's `tenantId` and
//! `user.name`), azd's `config.json` (`auth.account.currentUser`). A login kvdiag cannot
//! identify is not cached, so logging in as someone else never reuses the previous account's
//! token. CI credentials (client secret, OIDC, workload and managed identity) are never cached:
//! they run in short-lived jobs whose disk may be shared.
//!
//! Off on Windows (no owner and mode check is implemented there), with `--no-token-cache`, or
//! with `KVDIAG_TOKEN_CACHE=0`.

use azure_core::credentials::AccessToken;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// A token is used until this long before it expires: long enough for a run (at most an hour
/// with `--timeout 1h`, seconds usually) to finish its requests with it in most cases, and a
/// 401 drops it anyway.
pub const FRESH_MARGIN: time::Duration = time::Duration::minutes(5);

/// A token file larger than this is not a token file.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// Whether a token expiring at `expires_on` may still be handed out at `now`.
pub fn fresh(expires_on: OffsetDateTime, now: OffsetDateTime) -> bool {
    expires_on
        .checked_sub(FRESH_MARGIN)
        .is_some_and(|until| now < until)
}

/// Who is logged in to a developer CLI, as far as its files say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub tenant: String,
    pub account: String,
}

impl Login {
    /// The Azure CLI's login for `subscription` (its default subscription when `None`), from
    /// its profile (`$AZURE_CONFIG_DIR/azureProfile.json`): `az account get-access-token
    /// --subscription S` uses the account and tenant recorded for S there
    /// (docs/azure.md#developer-cli-logins).
    pub fn azure_cli(
        subscription: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Login> {
        let profile = super::target::cli_profile(env)?;
        let entry =
            profile
                .get("subscriptions")?
                .as_array()?
                .iter()
                .find(|s| match subscription {
                    Some(id) => s
                        .get("id")
                        .and_then(serde_json::Value::as_str)
                        .is_some_and(|v| v.eq_ignore_ascii_case(id)),
                    None => s.get("isDefault").and_then(serde_json::Value::as_bool) == Some(true),
                })?;
        let text = |v: Option<&serde_json::Value>| {
            v.and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let tenant = text(entry.get("tenantId"))?;
        let user = entry.get("user")?;
        let name = text(user.get("name"))?;
        let kind = text(user.get("type")).unwrap_or_else(|| "user".into());
        Some(Login {
            tenant,
            account: format!("{kind}:{name}"),
        })
    }

    /// azd's login, from `auth.account.currentUser` in `$AZD_CONFIG_DIR/config.json`
    /// (`~/.azd` by default; docs/azure.md#developer-cli-logins): a user's `homeAccountId` (`<object id>.<tenant id>`), or a service
    /// principal's `clientId` and `tenantId`. When azd delegates to the Azure CLI
    /// (`auth.useAzCliAuth`), its login is not in this file: no key, no cache.
    pub fn azure_developer_cli(env: &dyn Fn(&str) -> Option<String>) -> Option<Login> {
        let dir = env("AZD_CONFIG_DIR")
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from)
            .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".azd")))?;
        let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
        let config: serde_json::Value = serde_json::from_str(&text).ok()?;
        let auth = config.get("auth")?;
        let delegates = auth.get("useAzCliAuth").is_some_and(|v| {
            v.as_bool() == Some(true) || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
        });
        if delegates {
            return None;
        }
        let user = auth.get("account")?.get("currentUser")?;
        let field = |k: &str| {
            user.get(k)
                .and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        if let Some(home) = field("homeAccountId") {
            let (_, tenant) = home.rsplit_once('.')?;
            return Some(Login {
                tenant: tenant.to_string(),
                account: format!("user:{home}"),
            });
        }
        Some(Login {
            tenant: field("tenantId")?.to_string(),
            account: format!("servicePrincipal:{}", field("clientId")?),
        })
    }
}

/// What a token file is keyed by (and all it holds besides the token and its expiry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    /// `azure-cli` or `azure-developer-cli`.
    pub credential: String,
    /// `public`, `usgov`, `china`.
    pub cloud: String,
    pub tenant: String,
    /// The scope asked for: `https://management.azure.com/.default`.
    pub audience: String,
    pub account: String,
}

impl Key {
    /// The file name: the SHA-256 of the fields, so no name from a profile becomes a path.
    fn file_name(&self) -> String {
        let mut hash = Sha256::new();
        for field in [
            &self.credential,
            &self.cloud,
            &self.tenant,
            &self.audience,
            &self.account,
        ] {
            hash.update(field.as_bytes());
            hash.update([0]);
        }
        let digest = hash.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("{hex}.json")
    }
}

/// One token file.
#[derive(Serialize, Deserialize)]
struct Entry {
    #[serde(flatten)]
    key: Key,
    /// Unix seconds.
    expires_on: i64,
    token: String,
}

/// The directory of token files, checked when opened.
#[derive(Debug, Clone)]
pub struct TokenCache {
    dir: PathBuf,
}

impl TokenCache {
    /// `kvdiag/tokens` under the user's cache directory ([`dirs::cache_dir`]).
    pub fn default_dir() -> Option<PathBuf> {
        dirs::cache_dir().map(|d| d.join("kvdiag").join("tokens"))
    }

    /// The cache in `dir`. Nothing is touched until a token is looked up or stored: then the
    /// directory is created (mode 0700) when missing, and used only when it is a directory of
    /// the user's own that nobody else may enter ([`TokenCache::usable`]).
    pub fn at(dir: &Path) -> TokenCache {
        TokenCache {
            dir: dir.to_path_buf(),
        }
    }

    /// Whether the directory may hold tokens; why not goes to the debug log.
    fn usable(&self) -> bool {
        match private_dir(&self.dir) {
            Ok(()) => true,
            Err(why) => {
                tracing::debug!(target: "kvdiag::token_cache", dir = %self.dir.display(), %why, "token cache not used");
                false
            }
        }
    }

    fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// The token for `key` when a private, well-formed file holds one for exactly this key that
    /// is still fresh at `now`.
    pub fn get(&self, key: &Key, now: OffsetDateTime) -> Option<AccessToken> {
        if !self.usable() {
            return None;
        }
        let path = self.path(key);
        if let Err(why) = private_file(&path) {
            if path.exists() {
                tracing::debug!(target: "kvdiag::token_cache", file = %path.display(), %why, "token file ignored");
            }
            return None;
        }
        let text = std::fs::read_to_string(&path).ok()?;
        let entry: Entry = serde_json::from_str(&text).ok()?;
        let expires_on = OffsetDateTime::from_unix_timestamp(entry.expires_on).ok()?;
        (entry.key == *key && fresh(expires_on, now) && !entry.token.is_empty())
            .then(|| AccessToken::new(entry.token, expires_on))
    }

    /// Stores `token` for `key` (mode 0600, atomically); a failure only costs the next run a
    /// CLI start, so it goes to the debug log.
    pub fn put(&self, key: &Key, token: &AccessToken) {
        if !self.usable() {
            return;
        }
        let entry = Entry {
            key: key.clone(),
            expires_on: token.expires_on.unix_timestamp(),
            token: token.token.secret().to_string(),
        };
        let written = serde_json::to_vec(&entry)
            .map_err(std::io::Error::other)
            .and_then(|bytes| crate::bundle::write_file(&self.path(key), &bytes));
        if let Err(e) = written {
            tracing::debug!(target: "kvdiag::token_cache", error = %e, "token not stored");
        }
    }

    /// Drops the token for `key` (Azure refused it).
    pub fn remove(&self, key: &Key) {
        let _ = std::fs::remove_file(self.path(key));
    }
}

/// Creates `dir` (mode 0700) when missing, then requires a real directory owned by this user
/// with no permission for group or others.
#[cfg(unix)]
fn private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create it: {e}"))?;
    }
    let meta = std::fs::symlink_metadata(dir).map_err(|e| e.to_string())?;
    if !meta.is_dir() {
        return Err("not a directory (or a symbolic link)".into());
    }
    private(&meta)
}

/// A token file must be a regular file (not a link) of this user's, mode 0600 or narrower.
#[cfg(unix)]
fn private_file(path: &Path) -> Result<(), String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err("too large".into());
    }
    private(&meta)
}

#[cfg(unix)]
fn private(meta: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(format!("owned by uid {}, not {me}", meta.uid()));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!(
            "mode {:o} lets others in (0700 for the directory, 0600 for files)",
            meta.mode() & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn private_dir(_dir: &Path) -> Result<(), String> {
    Err("the token cache is only kept on unix systems".into())
}

#[cfg(not(unix))]
fn private_file(_path: &Path) -> Result<(), String> {
    Err("the token cache is only kept on unix systems".into())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn key(audience: &str) -> Key {
        Key {
            credential: "azure-cli".into(),
            cloud: "public".into(),
            tenant: "00000000-0000-0000-0000-0000000000aa".into(),
            audience: audience.into(),
            account: "user:dev@contoso.example".into(),
        }
    }

    fn token(secret: &str, minutes: i64) -> AccessToken {
        AccessToken::new(
            secret.to_string(),
            OffsetDateTime::now_utc() + time::Duration::minutes(minutes),
        )
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    const ARM: &str = "https://management.azure.com/.default";

    #[test]
    fn a_stored_token_comes_back_for_its_key_only_and_files_are_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("cache/kvdiag/tokens");
        let cache = TokenCache::at(&dir);
        assert!(!dir.exists(), "nothing is created before a token is stored");
        cache.put(&key(ARM), &token("tok-arm", 60));
        assert_eq!(mode(&dir), 0o700);
        let now = OffsetDateTime::now_utc();
        assert_eq!(cache.get(&key(ARM), now).unwrap().token.secret(), "tok-arm");
        assert!(
            cache
                .get(&key("https://vault.azure.net/.default"), now)
                .is_none()
        );
        let other = Key {
            account: "user:someone-else@contoso.example".into(),
            ..key(ARM)
        };
        assert!(cache.get(&other, now).is_none(), "another account's token");
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1);
        assert_eq!(mode(&files[0]), 0o600);
        let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.contains("contoso") && name.len() == 64 + 5, "{name}");
        // The file holds the key fields, the expiry and the token: nothing else.
        let stored: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
        let mut fields: Vec<&str> = stored
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "account",
                "audience",
                "cloud",
                "credential",
                "expires_on",
                "tenant",
                "token"
            ]
        );
    }

    #[test]
    fn a_token_near_its_expiry_is_not_used() {
        let root = tempfile::tempdir().unwrap();
        let cache = TokenCache::at(&root.path().join("tokens"));
        cache.put(&key(ARM), &token("tok", 4));
        assert!(cache.get(&key(ARM), OffsetDateTime::now_utc()).is_none());
        cache.put(&key(ARM), &token("tok", 6));
        assert!(cache.get(&key(ARM), OffsetDateTime::now_utc()).is_some());
        cache.remove(&key(ARM));
        assert!(cache.get(&key(ARM), OffsetDateTime::now_utc()).is_none());
    }

    #[test]
    fn loose_permissions_are_refused_not_repaired() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("tokens");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let cache = TokenCache::at(&dir);
        cache.put(&key(ARM), &token("tok", 60));
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "nothing is stored in a directory others can read"
        );
        assert_eq!(mode(&dir), 0o755, "left as it was");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        cache.put(&key(ARM), &token("tok", 60));
        assert!(cache.get(&key(ARM), OffsetDateTime::now_utc()).is_some());
        let file = cache.path(&key(ARM));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(
            cache.get(&key(ARM), OffsetDateTime::now_utc()).is_none(),
            "a token file others can read is ignored"
        );
        // A symbolic link in place of the directory or of a file is refused too.
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        let linked = TokenCache::at(&link);
        assert!(linked.get(&key(ARM), OffsetDateTime::now_utc()).is_none());
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let target = dir.join("elsewhere.json");
        std::fs::rename(&file, &target).unwrap();
        std::os::unix::fs::symlink(&target, &file).unwrap();
        assert!(cache.get(&key(ARM), OffsetDateTime::now_utc()).is_none());
    }

    #[test]
    fn logins_are_read_from_the_clis_files() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path().to_str().unwrap().to_string();
        let env = |k: &str| (k == "HOME").then(|| h.clone());
        assert_eq!(Login::azure_cli(None, &env), None, "not logged in");
        std::fs::create_dir_all(home.path().join(".azure")).unwrap();
        std::fs::write(
            home.path().join(".azure/azureProfile.json"),
            "\u{feff}{\"subscriptions\":[\
              {\"id\":\"S1\",\"tenantId\":\"t1\",\"isDefault\":false,\"user\":{\"name\":\"a@x\",\"type\":\"user\"}},\
              {\"id\":\"s2\",\"tenantId\":\"t2\",\"isDefault\":true,\"user\":{\"name\":\"sp-id\",\"type\":\"servicePrincipal\"}}]}",
        )
        .unwrap();
        assert_eq!(
            Login::azure_cli(Some("s1"), &env),
            Some(Login {
                tenant: "t1".into(),
                account: "user:a@x".into()
            })
        );
        assert_eq!(
            Login::azure_cli(None, &env).unwrap().account,
            "servicePrincipal:sp-id"
        );
        assert_eq!(Login::azure_cli(Some("s3"), &env), None);

        std::fs::create_dir_all(home.path().join(".azd")).unwrap();
        let azd = home.path().join(".azd/config.json");
        std::fs::write(
            &azd,
            r#"{"auth":{"account":{"currentUser":{"homeAccountId":"oid-1.tenant-1"}}}}"#,
        )
        .unwrap();
        assert_eq!(
            Login::azure_developer_cli(&env),
            Some(Login {
                tenant: "tenant-1".into(),
                account: "user:oid-1.tenant-1".into()
            })
        );
        std::fs::write(
            &azd,
            r#"{"auth":{"useAzCliAuth":"true","account":{"currentUser":{"homeAccountId":"o.t"}}}}"#,
        )
        .unwrap();
        assert_eq!(Login::azure_developer_cli(&env), None);
    }
}
