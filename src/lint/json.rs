//! JSON (and the JSON-with-comments ARM accepts) read with positions, through `jsonc-parser`'s
//! AST, whose nodes carry byte ranges.

use super::finding::Pos;
use super::source::{LineIndex, Spans, escape};
use jsonc_parser::ast;
use jsonc_parser::{CollectOptions, CommentCollectionStrategy, ParseOptions, parse_to_ast};
use serde_json::{Map, Value};

/// Documents nested deeper than this are refused.
const MAX_DEPTH: usize = 128;

/// Parses JSON (comments allowed, as ARM allows them) into a value with every node's position.
pub fn parse(text: &str) -> Result<(Value, Spans), String> {
    let options = ParseOptions {
        allow_comments: true,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let collect = CollectOptions {
        comments: CommentCollectionStrategy::Off,
        tokens: false,
    };
    let parsed = parse_to_ast(text, &collect, &options).map_err(|e| {
        format!(
            "malformed JSON at line {}, column {}: {}",
            e.line_display(),
            e.column_display(),
            e.kind()
        )
    })?;
    let Some(root) = parsed.value else {
        return Err("the file is empty (no JSON value)".into());
    };
    let index = LineIndex::new(text);
    let mut spans = Spans::default();
    spans.insert(String::new(), index.pos(range(&root).start));
    let value = convert(&root, "", &index, &mut spans, 0)?;
    Ok((value, spans))
}

fn range(v: &ast::Value) -> jsonc_parser::common::Range {
    match v {
        ast::Value::StringLit(s) => s.range,
        ast::Value::NumberLit(n) => n.range,
        ast::Value::BooleanLit(b) => b.range,
        ast::Value::Object(o) => o.range,
        ast::Value::Array(a) => a.range,
        ast::Value::NullKeyword(n) => n.range,
    }
}

fn convert(
    v: &ast::Value,
    at: &str,
    index: &LineIndex,
    spans: &mut Spans,
    depth: usize,
) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        let Pos { line, .. } = index.pos(range(v).start);
        return Err(format!(
            "the JSON nests more than {MAX_DEPTH} levels deep (line {line})"
        ));
    }
    Ok(match v {
        ast::Value::StringLit(s) => Value::String(s.value.to_string()),
        ast::Value::NumberLit(n) => serde_json::from_str::<serde_json::Number>(n.value)
            .map(Value::Number)
            .unwrap_or_else(|_| Value::String(n.value.to_string())),
        ast::Value::BooleanLit(b) => Value::Bool(b.value),
        ast::Value::NullKeyword(_) => Value::Null,
        ast::Value::Array(a) => {
            let mut out = Vec::with_capacity(a.elements.len());
            for (i, e) in a.elements.iter().enumerate() {
                let pointer = format!("{at}/{i}");
                spans.insert(pointer.clone(), index.pos(range(e).start));
                out.push(convert(e, &pointer, index, spans, depth + 1)?);
            }
            Value::Array(out)
        }
        ast::Value::Object(o) => {
            let mut out = Map::new();
            for prop in &o.properties {
                let key = prop.name.as_str().to_string();
                let pointer = format!("{at}/{}", escape(&key));
                spans.insert(pointer.clone(), index.pos(prop.range.start));
                let value = convert(&prop.value, &pointer, index, spans, depth + 1)?;
                out.insert(key, value);
            }
            Value::Object(out)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_point_at_their_key() {
        let text = "{\n  // ARM allows comments\n  \"a\": {\n    \"b\": [1, \"x\"]\n  }\n}";
        let (v, spans) = parse(text).unwrap();
        assert_eq!(v["a"]["b"][1], "x");
        assert_eq!(spans.locate("/a/b"), Pos { line: 4, column: 5 });
        assert_eq!(
            spans.locate("/a/b/1"),
            Pos {
                line: 4,
                column: 14
            }
        );
    }

    #[test]
    fn malformed_json_says_where() {
        let e = parse("{\n  \"a\": 1,\n}").unwrap_err();
        assert!(e.starts_with("malformed JSON at line"), "{e}");
    }
}
