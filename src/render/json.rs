//! `-o json`: the `kvdiag/verdict/v1` document.

use crate::verdict::Verdict;

pub fn render(verdict: &Verdict) -> String {
    let mut out = serde_json::to_string_pretty(verdict).expect("a verdict is plain data");
    out.push('\n');
    out
}
