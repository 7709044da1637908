//! ARM template language expressions (`"[parameters('x')]"`), evaluated only as far as the file
//! itself decides them: `parameters()`, `variables()`, `concat()`, `format()`, `toLower()`,
//! `toUpper()`, string and number literals, and property access on their results. Anything
//! that depends on the deployment (`resourceId()`, `reference()`, `uniqueString()`,
//! `copyIndex()`, ...) is left unresolved with the reason, never guessed.

use serde_json::Value;

/// Where expression values come from: one template's parameters and variables.
pub trait Context {
    fn parameter(&self, name: &str) -> Result<Value, String>;
    fn variable(&self, name: &str) -> Result<Value, String>;
}

/// True when a JSON string is an ARM expression (`[...]`, but not the `[[` escape).
pub fn is_expression(s: &str) -> bool {
    let t = s.trim();
    t.starts_with('[') && !t.starts_with("[[") && t.ends_with(']')
}

/// A string as ARM reads it: an expression's value, `[[x]` as the literal `[x]`, else itself.
pub fn evaluate_string(s: &str, ctx: &dyn Context) -> Result<Value, String> {
    let t = s.trim();
    if t.starts_with("[[") {
        return Ok(Value::String(s.replacen("[[", "[", 1)));
    }
    if !is_expression(s) {
        return Ok(Value::String(s.to_string()));
    }
    let inner = &t[1..t.len() - 1];
    let tokens = tokenize(inner)?;
    let mut p = Parser {
        tokens: &tokens,
        at: 0,
        depth: 0,
    };
    let e = p.expr()?;
    if p.at != tokens.len() {
        return Err("could not parse the expression".into());
    }
    eval(&e, ctx, 0)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Num(i64),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
}

fn tokenize(s: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Token::LParen);
                i += 1
            }
            ')' => {
                out.push(Token::RParen);
                i += 1
            }
            '[' => {
                out.push(Token::LBracket);
                i += 1
            }
            ']' => {
                out.push(Token::RBracket);
                i += 1
            }
            ',' => {
                out.push(Token::Comma);
                i += 1
            }
            '.' => {
                out.push(Token::Dot);
                i += 1
            }
            '\'' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated string literal".into()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            text.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            text.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Token::Str(text));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                out.push(Token::Num(
                    text.parse()
                        .map_err(|_| format!("'{text}' is not a number"))?,
                ));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                out.push(Token::Ident(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character '{other}'")),
        }
    }
    Ok(out)
}

#[derive(Debug)]
enum Expr {
    Str(String),
    Num(i64),
    Call(String, Vec<Expr>),
    Member(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<&Token> {
        let t = self.tokens.get(self.at);
        self.at += 1;
        t
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn expr(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > 64 {
            return Err("expression nests too deeply".into());
        }
        let mut e = match self.next().cloned() {
            Some(Token::Str(s)) => Expr::Str(s),
            Some(Token::Num(n)) => Expr::Num(n),
            Some(Token::Ident(name)) => {
                if self.next() != Some(&Token::LParen) {
                    return Err(format!("'{name}' is not a function call"));
                }
                let mut args = Vec::new();
                if self.peek() == Some(&Token::RParen) {
                    self.at += 1;
                } else {
                    loop {
                        args.push(self.expr()?);
                        match self.next() {
                            Some(Token::Comma) => continue,
                            Some(Token::RParen) => break,
                            _ => return Err(format!("unclosed call to {name}()")),
                        }
                    }
                }
                Expr::Call(name, args)
            }
            _ => return Err("could not parse the expression".into()),
        };
        loop {
            match self.peek() {
                Some(Token::Dot) => {
                    self.at += 1;
                    match self.next().cloned() {
                        Some(Token::Ident(p)) => e = Expr::Member(Box::new(e), p),
                        _ => return Err("expected a property name after '.'".into()),
                    }
                }
                Some(Token::LBracket) => {
                    self.at += 1;
                    let index = self.expr()?;
                    if self.next() != Some(&Token::RBracket) {
                        return Err("unclosed '['".into());
                    }
                    e = Expr::Index(Box::new(e), Box::new(index));
                }
                _ => break,
            }
        }
        self.depth -= 1;
        Ok(e)
    }
}

fn eval(e: &Expr, ctx: &dyn Context, depth: usize) -> Result<Value, String> {
    if depth > 64 {
        return Err("expression nests too deeply".into());
    }
    let string_arg = |args: &[Expr], i: usize| -> Result<String, String> {
        match args.get(i).map(|a| eval(a, ctx, depth + 1)).transpose()? {
            Some(Value::String(s)) => Ok(s),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(Value::Bool(b)) => Ok(b.to_string()),
            Some(_) => Err("an argument is not a string".into()),
            None => Err("an argument is missing".into()),
        }
    };
    match e {
        Expr::Str(s) => Ok(Value::String(s.clone())),
        Expr::Num(n) => Ok(Value::Number((*n).into())),
        Expr::Member(inner, prop) => {
            let v = eval(inner, ctx, depth + 1)?;
            v.as_object()
                .and_then(|o| {
                    o.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(prop))
                        .map(|(_, v)| v.clone())
                })
                .ok_or_else(|| format!("property '{prop}' is not in the value"))
        }
        Expr::Index(inner, index) => {
            let v = eval(inner, ctx, depth + 1)?;
            match (v, eval(index, ctx, depth + 1)?) {
                (Value::Array(a), Value::Number(n)) => n
                    .as_u64()
                    .and_then(|i| a.get(i as usize).cloned())
                    .ok_or_else(|| "index out of range".into()),
                (Value::Object(o), Value::String(k)) => o
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(&k))
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| format!("property '{k}' is not in the value")),
                _ => Err("cannot index that value".into()),
            }
        }
        Expr::Call(name, args) => match name.to_ascii_lowercase().as_str() {
            "parameters" => ctx.parameter(&string_arg(args, 0)?),
            "variables" => ctx.variable(&string_arg(args, 0)?),
            "concat" => {
                let values: Vec<Value> = args
                    .iter()
                    .map(|a| eval(a, ctx, depth + 1))
                    .collect::<Result<_, _>>()?;
                if values.iter().all(Value::is_array) {
                    Ok(Value::Array(
                        values
                            .into_iter()
                            .flat_map(|v| v.as_array().cloned().unwrap_or_default())
                            .collect(),
                    ))
                } else {
                    let mut out = String::new();
                    for i in 0..args.len() {
                        out.push_str(&string_arg(args, i)?);
                    }
                    Ok(Value::String(out))
                }
            }
            "format" => {
                let template = string_arg(args, 0)?;
                let mut out = String::new();
                let mut rest = template.as_str();
                while let Some(open) = rest.find('{') {
                    out.push_str(&rest[..open]);
                    let close = rest[open..].find('}').ok_or("unbalanced '{' in format()")?;
                    let n: usize = rest[open + 1..open + close]
                        .parse()
                        .map_err(|_| "format() uses a format specifier kvdiag does not evaluate")?;
                    out.push_str(&string_arg(args, n + 1)?);
                    rest = &rest[open + close + 1..];
                }
                out.push_str(rest);
                Ok(Value::String(out))
            }
            "tolower" => Ok(Value::String(string_arg(args, 0)?.to_lowercase())),
            "toupper" => Ok(Value::String(string_arg(args, 0)?.to_uppercase())),
            other => Err(format!("{other}() is only known at deployment time")),
        },
    }
}

/// Two unresolved expressions that name the same thing (`format('{0}', X)` is X): Bicep writes
/// a user-assigned identity key as `[format('{0}', resourceId(...))]` and the secret's
/// `identity` as `[resourceId(...)]`.
pub fn same_expression(a: &str, b: &str) -> bool {
    fn canonical(s: &str) -> String {
        let mut t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        t = t.trim_start_matches('[').trim_end_matches(']').to_string();
        if let Some(inner) = t
            .strip_prefix("format('{0}',")
            .and_then(|r| r.strip_suffix(')'))
        {
            t = inner.to_string();
        }
        t.to_ascii_lowercase()
    }
    is_expression(a) && is_expression(b) && canonical(a) == canonical(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Fixed;
    impl Context for Fixed {
        fn parameter(&self, name: &str) -> Result<Value, String> {
            match name {
                "appName" => Ok(json!("ca-orders-web")),
                "cfg" => Ok(json!({"vault": "kv-orders-shared", "list": ["a", "b"]})),
                _ => Err(format!("parameter '{name}' has no value")),
            }
        }
        fn variable(&self, name: &str) -> Result<Value, String> {
            match name {
                "suffix" => Ok(json!("-web")),
                _ => Err(format!("variable '{name}' is not defined")),
            }
        }
    }

    #[test]
    fn evaluates_what_the_file_decides() {
        let cases = [
            ("[parameters('appName')]", json!("ca-orders-web")),
            (
                "[concat('ca-orders', variables('suffix'))]",
                json!("ca-orders-web"),
            ),
            (
                "[format('https://{0}.vault.azure.net/secrets/{1}', parameters('cfg').vault, 'db')]",
                json!("https://kv-orders-shared.vault.azure.net/secrets/db"),
            ),
            ("[toLower('AB')]", json!("ab")),
            ("[parameters('cfg').list[1]]", json!("b")),
            ("[['literal']", json!("['literal']")),
            ("plain", json!("plain")),
            ("[string('it''s')]", json!(null)),
        ];
        for (text, expected) in cases {
            match evaluate_string(text, &Fixed) {
                Ok(v) => assert_eq!(v, expected, "{text}"),
                Err(e) => assert!(expected.is_null(), "{text}: {e}"),
            }
        }
    }

    #[test]
    fn deployment_time_functions_stay_unresolved() {
        let e = evaluate_string(
            "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-x')]",
            &Fixed,
        )
        .unwrap_err();
        assert!(
            e.contains("resourceid() is only known at deployment time"),
            "{e}"
        );
        assert!(evaluate_string("[parameters('nope')]", &Fixed).is_err());
        assert!(evaluate_string("[concat('a']", &Fixed).is_err());
    }

    #[test]
    fn bicep_identity_keys_match_their_references() {
        assert!(same_expression(
            "[format('{0}', resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-orders-web'))]",
            "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-orders-web')]"
        ));
    }
}
