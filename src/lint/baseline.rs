//! The `--baseline` file: today's findings, accepted so the gate fails only on new ones.
//!
//! ```json
//! {
//!   "schema": "kvdiag/baseline/v1",
//!   "findings": [
//!     {
//!       "rule": "secret-literal-value",
//!       "file": "infra/app.yaml",
//!       "resource": "ca-orders-web",
//!       "path": "properties.configuration.secrets[0].value",
//!       "fingerprint": "sha256:5d0b7c…(64 hex digits)"
//!     }
//!   ]
//! }
//! ```
//!
//! An entry names a finding without its line, so moving lines keeps it matched: rule, file (as
//! given on the command line, `/`-separated, without `./`; run from the same directory, the
//! repository root, each time), resource, path within the resource, and a fingerprint of the
//! message (SHA-256 of its UTF-8 bytes, stable across platforms and releases), so the same
//! rule saying something different about the same field is new. Each entry accepts one
//! finding; the same finding twice needs two entries. Entries are sorted, so a rewritten
//! baseline diffs cleanly.

use super::FileReport;
use super::accept::{Kind, Suppressed, normalize};
use super::finding::Finding;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The schema id of the baseline file.
pub const SCHEMA: &str = "kvdiag/baseline/v1";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub rule: String,
    pub file: String,
    pub resource: String,
    pub path: String,
    pub fingerprint: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    schema: String,
    findings: Vec<Entry>,
}

/// A loaded baseline: how many findings each entry still accepts.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    entries: BTreeMap<Entry, usize>,
}

/// SHA-256 of the message's UTF-8 bytes, as `sha256:<64 hex>`: a standard hash, the same on
/// every platform and release (the SARIF fingerprints use the same crate).
pub fn fingerprint(message: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(message.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// A finding's baseline entry.
pub fn entry(f: &Finding) -> Entry {
    Entry {
        rule: f.rule.clone(),
        file: normalize(&f.file),
        resource: f.resource.clone(),
        path: f.path.clone(),
        fingerprint: fingerprint(&f.message),
    }
}

impl Baseline {
    /// Reads a baseline file. The error is one line naming the file (exit 2).
    pub fn load(path: &Path) -> Result<Baseline, String> {
        let shown = path.display();
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        let doc: Document = serde_json::from_str(&text)
            .map_err(|e| format!("{shown}: not a kvdiag baseline ({SCHEMA}): {e}"))?;
        if doc.schema != SCHEMA {
            return Err(format!("{shown}: schema '{}' is not {SCHEMA}", doc.schema));
        }
        let mut out = Baseline::default();
        for e in doc.findings {
            *out.entries.entry(e).or_default() += 1;
        }
        Ok(out)
    }

    /// A baseline accepting exactly these findings.
    pub fn from_findings<'a>(findings: impl Iterator<Item = &'a Finding>) -> Baseline {
        let mut out = Baseline::default();
        for f in findings {
            *out.entries.entry(entry(f)).or_default() += 1;
        }
        out
    }

    /// How many findings it accepts.
    pub fn len(&self) -> usize {
        self.entries.values().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes it (entries sorted, one per accepted finding).
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let doc = Document {
            schema: SCHEMA.to_string(),
            findings: self
                .entries
                .iter()
                .flat_map(|(e, n)| std::iter::repeat_n(e.clone(), *n))
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
        text.push('\n');
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// Removes the findings it accepts from a file's report (each entry accepts one) and
    /// returns them; `shown` names the baseline in `source`.
    pub fn apply(&mut self, report: &mut FileReport, shown: &str) -> Vec<Suppressed> {
        let mut out = Vec::new();
        let mut kept = Vec::new();
        for f in std::mem::take(&mut report.findings) {
            match self.entries.get_mut(&entry(&f)) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    out.push(Suppressed::new(
                        f,
                        Kind::Baseline,
                        &format!("accepted in baseline {shown}"),
                        shown.to_string(),
                    ));
                }
                _ => kept.push(f),
            }
        }
        report.findings = kept;
        out
    }

    /// Entries that accepted nothing so far.
    pub fn unmatched(&self) -> usize {
        self.entries.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_sha_256() {
        // FIPS 180-2 test vectors.
        assert_eq!(
            fingerprint(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            fingerprint("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
