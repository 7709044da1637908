//! `suppression-unused` (note): an inline suppression that matched no finding, like ruff's
//! `RUF100`.
//!
//! **Rule.** A `kvdiag: ignore[rule-id] reason` comment that no finding of `rule-id` uses, on
//! the line it applies to (README, "Accepting findings"), is stale: the problem was fixed or
//! moved, and a later finding there would be hidden by a reason written for something else.
//! Reported once per unused id. Found by [`crate::lint::suppress`]; only `kvdiag.toml` can
//! change its severity or turn it off.

use super::Rule;
use crate::lint::finding::Severity;

pub const RULE: Rule = Rule {
    id: "suppression-unused",
    severity: Severity::Note,
    summary: "an inline `kvdiag: ignore[...]` matched no finding on its line: remove it",
    help: include_str!("../../../docs/rules/suppression-unused.md"),
    check: None,
};
