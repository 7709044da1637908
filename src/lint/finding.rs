//! One lint finding: which rule, how bad, what to do, and exactly where in which file.

use crate::verdict::Remediation;
use serde::Serialize;

/// How bad a finding is. Declared worst first, so the derived order sorts errors first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The deploy fails or the app cannot get the secret.
    Error,
    /// Works today but is a risk (a leak, a legacy name, a reference that never rotates).
    Warning,
    /// Information: something lint could not check, or a deliberate choice worth knowing.
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }

    /// True when this severity is at least as bad as `threshold` (for `--fail-on`).
    pub fn at_least(self, threshold: Severity) -> bool {
        self <= threshold
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A line and column in the linted file, both 1-based (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub const START: Pos = Pos { line: 1, column: 1 };
}

/// One finding. Never holds a secret value: messages name secrets, never quote `value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's stable kebab-case id (README, "Lint rules").
    pub rule: String,
    pub severity: Severity,
    /// What is wrong and why it matters; how to fix it is in `remediation`.
    pub message: String,
    /// The file as given on the command line.
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Where in the (normalized) resource, as `az --query` and Azure errors spell it:
    /// `properties.configuration.secrets[1].keyVaultUrl`.
    pub path: String,
    /// The app or job the finding is about (its name as the file gives it).
    pub resource: String,
    /// A replacement value, when there is one obvious fix (a did-you-mean name); `null` in
    /// JSON otherwise.
    pub suggestion: Option<String>,
    /// Steps that fix it (commands where one exists), apart from the message, like ruff's
    /// fix title: every static rule gives one. `[]` in JSON when there is none.
    pub remediation: Vec<Remediation>,
}

impl Finding {
    /// Adds a step that fixes the finding.
    pub fn fix(mut self, remediation: Remediation) -> Finding {
        self.remediation.push(remediation);
        self
    }
}
