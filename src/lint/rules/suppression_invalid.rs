//! `suppression-invalid` (warning): a `kvdiag:` comment that does not suppress what it meant to.
//!
//! **Rule.** An inline suppression is `# kvdiag: ignore[rule-id, ...] reason` in YAML and
//! `// kvdiag: ignore[rule-id, ...] reason` in JSON (README, "Accepting findings"). A comment
//! that starts with `kvdiag:` but is not that shape, names a rule kvdiag does not have (a typo
//! would otherwise silently suppress nothing), or gives no reason is this finding. A suppression
//! without a reason is not applied: the finding it meant to hide stays, so the gate keeps
//! failing until someone writes down why the finding is acceptable. Ids it names that exist
//! are still checked for use. Found by [`crate::lint::suppress`], not by a static check; only
//! `kvdiag.toml` can change its severity or turn it off.

use super::Rule;
use crate::lint::finding::Severity;

pub const RULE: Rule = Rule {
    id: "suppression-invalid",
    severity: Severity::Warning,
    summary: "a `kvdiag:` comment is not `ignore[rule-id, ...] reason`, names an unknown rule, or gives no reason (then it is not applied)",
    help: include_str!("../../../docs/rules/suppression-invalid.md"),
    check: None,
};
