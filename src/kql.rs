//! KQL string literals: every name placed in a query is escaped here, never spliced raw.

/// A single-quoted KQL string literal with `\` and `'` escaped (KQL string-literal rules).
pub fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_quotes_and_backslashes() {
        assert_eq!(string_literal("ca-orders-web"), "'ca-orders-web'");
        assert_eq!(string_literal("a' | take 1 //"), r"'a\' | take 1 //'");
        assert_eq!(string_literal(r"a\'b"), r"'a\\\'b'");
    }
}
