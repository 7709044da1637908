//! Evidence bundle v1: the recorded Azure responses a verdict is built from.
//!
//! The format is described for users, with the request plan, in
//! `docs/bundle.md`. A bundle is loaded, validated and redacted here; nothing downstream ever
//! sees a secret value or a token that a careless producer left in it. A bundle is also written
//! here ([`Bundle::to_text`], [`write_file`]): redacted again, atomically, mode 0600.

mod redact;
mod route;
mod write;

pub(crate) use redact::is_kept_header;
pub use redact::redact;
pub use route::{Route, route};
pub use write::write_file;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use time::OffsetDateTime;

/// The bundle format version this build reads and writes.
pub const BUNDLE_VERSION: u64 = 1;

/// What went wrong reading a bundle; each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The OS error is part of the message, not a `source`: the binary prints an error's
    /// chain, and the reason would otherwise be said twice.
    #[error("cannot read bundle {path}: {reason}")]
    Io {
        path: String,
        reason: std::io::Error,
    },
    #[error("{path} is not valid JSON (line {line}, column {column}): {message}")]
    Json {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path} is not a kvdiag evidence bundle: {problem}")]
    Invalid { path: String, problem: String },
    #[error(
        "{path} is bundle version {found}; this kvdiag reads version {BUNDLE_VERSION} (upgrade kvdiag)"
    )]
    Version { path: String, found: u64 },
}

/// Where an Azure request went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// Azure Resource Manager, Resource Graph included.
    Arm,
    /// A Key Vault data-plane host.
    Keyvault,
    /// The Log Analytics query API.
    LogAnalytics,
}

impl Service {
    /// The bundle's name for it (`arm`, `keyvault`, `log_analytics`).
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Arm => "arm",
            Service::Keyvault => "keyvault",
            Service::LogAnalytics => "log_analytics",
        }
    }
}

/// Which app or job the evidence is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub subscription: String,
    pub resource_group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// `check --environment`: the managed environment itself, judged for every Key Vault
    /// consumer it has (its certificates, its DNS-suffix certificate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

impl Target {
    /// The app, job or environment name.
    pub fn name(&self) -> &str {
        self.app
            .as_deref()
            .or(self.job.as_deref())
            .or(self.environment.as_deref())
            .unwrap_or_default()
    }

    /// True for a Container Apps job.
    pub fn is_job(&self) -> bool {
        self.job.is_some()
    }

    /// True for a managed environment (`check --environment`).
    pub fn is_environment(&self) -> bool {
        self.environment.is_some() && self.app.is_none() && self.job.is_none()
    }

    /// `app`, `job` or `environment`, for people.
    pub fn kind_word(&self) -> &'static str {
        if self.is_job() {
            "job"
        } else if self.is_environment() {
            "environment"
        } else {
            "app"
        }
    }

    /// The ARM id of the app, job or environment.
    pub fn resource_id(&self) -> String {
        let kind = if self.is_job() {
            "jobs"
        } else if self.is_environment() {
            "managedEnvironments"
        } else {
            "containerApps"
        };
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.App/{kind}/{}",
            self.subscription,
            self.resource_group,
            self.name()
        )
    }
}

/// One recorded request and what came back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Response {
    pub method: String,
    pub service: Service,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub path: String,
    /// Decoded query, `k=v&k=v` (an object of the same pairs is accepted on read).
    #[serde(
        default,
        deserialize_with = "query_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// Why no response came (`timeout`, `connect`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
}

impl Response {
    /// True for a 2xx answer.
    pub fn ok(&self) -> bool {
        matches!(self.status, Some(200..=299))
    }

    /// A query parameter's value (`$filter`, `api-version`), by exact key.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query.split('&').find_map(|pair| {
            pair.split_once('=')
                .filter(|(k, _)| *k == key)
                .map(|(_, v)| v)
        })
    }

    /// The request as a user would recognise it: `GET <path>?<query>`, never with a host token.
    pub fn request_line(&self) -> String {
        let host = self
            .host
            .as_deref()
            .map(|h| format!("https://{h}"))
            .unwrap_or_default();
        let query = self.query_without_api_version();
        if query.is_empty() {
            format!("{} {host}{}", self.method, self.path)
        } else {
            format!("{} {host}{}?{query}", self.method, self.path)
        }
    }

    fn query_without_api_version(&self) -> String {
        self.query
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("api-version="))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// `error.code` of an Azure error body (ARM, Key Vault, Log Analytics), or the top-level
    /// `code` some older providers return.
    pub fn error_code(&self) -> Option<&str> {
        let body = self.body.as_ref()?;
        body.pointer("/error/code")
            .or_else(|| body.get("code"))
            .and_then(Value::as_str)
    }

    /// `error.message` of an Azure error body.
    pub fn error_message(&self) -> Option<&str> {
        let body = self.body.as_ref()?;
        body.pointer("/error/message")
            .or_else(|| body.get("message"))
            .and_then(Value::as_str)
    }
}

/// An evidence bundle.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bundle {
    pub kvdiag_bundle: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub target: Target,
    pub collected_at: String,
    pub responses: Vec<Response>,
}

impl Bundle {
    /// Reads, validates and redacts a bundle file.
    pub fn load(path: &Path) -> Result<Bundle, BundleError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|reason| BundleError::Io {
            path: shown.clone(),
            reason,
        })?;
        Bundle::parse(&text, &shown)
    }

    /// Parses and validates bundle text; `origin` names it in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Bundle, BundleError> {
        let invalid = |problem: String| BundleError::Invalid {
            path: origin.to_string(),
            problem,
        };
        let raw: Value = serde_json::from_str(text).map_err(|e| BundleError::Json {
            path: origin.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        let Some(object) = raw.as_object() else {
            return Err(invalid("the top level is not a JSON object".into()));
        };
        match object.get("kvdiag_bundle").map(Value::as_u64) {
            None => return Err(invalid("it has no \"kvdiag_bundle\" version field".into())),
            Some(None) => return Err(invalid("\"kvdiag_bundle\" is not a version number".into())),
            Some(Some(BUNDLE_VERSION)) => {}
            Some(Some(found)) => {
                return Err(BundleError::Version {
                    path: origin.to_string(),
                    found,
                });
            }
        }
        let mut bundle: Bundle = serde_json::from_value(raw).map_err(|e| invalid(e.to_string()))?;
        bundle.validate().map_err(invalid)?;
        redact(&mut bundle);
        Ok(bundle)
    }

    fn validate(&self) -> Result<(), String> {
        let t = &self.target;
        match [&t.app, &t.job, &t.environment]
            .iter()
            .filter(|n| n.is_some())
            .count()
        {
            0 => return Err("target names no app, job or environment".into()),
            1 => {}
            _ => {
                return Err(
                    "target names more than one of app, job and environment; name one".into(),
                );
            }
        }
        for (field, value) in [
            ("subscription", &t.subscription),
            ("resource_group", &t.resource_group),
            ("app/job/environment", &t.name().to_string()),
        ] {
            if value.trim().is_empty() {
                return Err(format!("target.{field} is empty"));
            }
        }
        self.collected_at()?;
        for (i, r) in self.responses.iter().enumerate() {
            if !r.path.starts_with('/') {
                return Err(format!(
                    "responses[{i}].path '{}' does not start with '/'",
                    r.path
                ));
            }
            if r.status.is_none() && r.error.is_none() {
                return Err(format!(
                    "responses[{i}] ({} {}) has neither a status nor an error",
                    r.method, r.path
                ));
            }
            if r.service == Service::Keyvault && r.host.is_none() {
                return Err(format!(
                    "responses[{i}] is a keyvault response without a host"
                ));
            }
        }
        Ok(())
    }

    /// `collected_at` as a time: "now" for every rule.
    pub fn collected_at(&self) -> Result<OffsetDateTime, String> {
        crate::azure::time::parse(&self.collected_at).ok_or_else(|| {
            format!(
                "collected_at '{}' is not an RFC 3339 time",
                self.collected_at
            )
        })
    }
}

/// Accepts `query` as a decoded string or as an object of parameters.
fn query_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s,
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                )
            })
            .collect::<Vec<_>>()
            .join("&"),
        Some(other) => {
            return Err(serde::de::Error::custom(format!(
                "query must be a string or an object, not {other}"
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Bundle, String> {
        Bundle::parse(text, "b.json").map_err(|e| e.to_string())
    }

    const MINIMAL: &str = r#"{"kvdiag_bundle":1,"target":{"subscription":"s","resource_group":"rg","app":"a"},
        "collected_at":"2026-11-20T10:30:00Z","responses":[
        {"method":"GET","service":"arm","path":"/x","query":{"api-version":"2024-04-01"},"status":200,"body":{}}]}"#;

    #[test]
    fn reads_a_minimal_bundle_and_query_objects() {
        let b = parse(MINIMAL).unwrap();
        assert_eq!(b.responses[0].query, "api-version=2024-04-01");
        assert_eq!(b.responses[0].param("api-version"), Some("2024-04-01"));
        assert_eq!(
            b.target.resource_id(),
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.App/containerApps/a"
        );
    }

    #[test]
    fn says_clearly_what_is_wrong() {
        let cases = [
            ("{", "not valid JSON (line 1"),
            ("[]", "top level is not a JSON object"),
            ("{}", "no \"kvdiag_bundle\""),
            (r#"{"kvdiag_bundle":"1"}"#, "not a version number"),
            (r#"{"kvdiag_bundle":7}"#, "bundle version 7"),
            (r#"{"kvdiag_bundle":1}"#, "missing field `target`"),
            (
                &MINIMAL.replace("\"app\":\"a\"", "\"app\":\"a\",\"job\":\"j\""),
                "more than one of app, job and environment",
            ),
            (
                &MINIMAL.replace("2026-11-20T10:30:00Z", "last tuesday"),
                "collected_at 'last tuesday'",
            ),
            (
                &MINIMAL.replace("\"path\":\"/x\"", "\"path\":\"x\""),
                "does not start with '/'",
            ),
            (
                &MINIMAL.replace("\"status\":200,", ""),
                "neither a status nor an error",
            ),
            (
                &MINIMAL.replace("\"service\":\"arm\"", "\"service\":\"ftp\""),
                "unknown variant `ftp`",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(expected), "{text}\n=> {err}");
        }
    }
}
