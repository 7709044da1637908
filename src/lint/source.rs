//! Where things are in a linted file: JSON pointers of the parsed document mapped to line and
//! column, so a finding about `properties.configuration.secrets[1]` points at that line.

use super::finding::Pos;
use std::collections::BTreeMap;

/// Positions of the document's nodes by JSON pointer (RFC 6901). An object member's position is
/// its key's; an array element's is the element's own.
#[derive(Debug, Clone, Default)]
pub struct Spans {
    map: BTreeMap<String, Pos>,
}

impl Spans {
    pub fn insert(&mut self, pointer: String, pos: Pos) {
        self.map.entry(pointer).or_insert(pos);
    }

    /// The position of `pointer`, or of its nearest ancestor that exists in the file (a
    /// missing field points at the object that should hold it).
    pub fn locate(&self, pointer: &str) -> Pos {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.map.get(p) {
                return *pos;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return self.map.get("").copied().unwrap_or(Pos::START),
            }
        }
    }

    /// The spans under `prefix`, re-rooted so `prefix` becomes `""`.
    pub fn subtree(&self, prefix: &str) -> Spans {
        let mut out = Spans::default();
        for (k, v) in &self.map {
            if k == prefix {
                out.insert(String::new(), *v);
            } else if let Some(rest) = k.strip_prefix(prefix)
                && rest.starts_with('/')
            {
                out.insert(rest.to_string(), *v);
            }
        }
        out
    }

    /// Moves every pointer under `from` to `to` (the YAML short form's top-level
    /// `configuration` becomes `properties/configuration`).
    pub fn rename(&mut self, from: &str, to: &str) {
        let moved: Vec<(String, Pos)> = self
            .map
            .iter()
            .filter(|(k, _)| *k == from || k.starts_with(&format!("{from}/")))
            .map(|(k, v)| (format!("{to}{}", &k[from.len()..]), *v))
            .collect();
        self.map
            .retain(|k, _| !(k == from || k.starts_with(&format!("{from}/"))));
        for (k, v) in moved {
            self.map.insert(k, v);
        }
    }
}

/// One RFC 6901 reference token.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// `properties.template.containers[0].env[1].secretRef` -> `/properties/template/containers/0/env/1/secretRef`
/// (the shape of `SecretRefSite::json_path`; its keys never contain dots or brackets).
pub fn dotted_to_pointer(dotted: &str) -> String {
    let mut out = String::new();
    for part in dotted.split('.').filter(|p| !p.is_empty()) {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            out.push('/');
            out.push_str(&escape(&rest[..i]));
            rest = &rest[i..];
            while let Some(end) = rest.find(']') {
                out.push('/');
                out.push_str(&rest[1..end]);
                rest = &rest[end + 1..];
            }
        } else {
            out.push('/');
            out.push_str(&escape(rest));
        }
    }
    out
}

/// The inverse for display: `/properties/configuration/secrets/1/name` ->
/// `properties.configuration.secrets[1].name`.
pub fn pointer_to_dotted(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else if seg.contains(['.', '/', '[', ']', ' ']) {
            out.push_str(&format!("['{seg}']"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

/// Byte offsets to 1-based line and character column.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    pub fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|s| *s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        Pos { line, column }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_paths_round_trip_to_pointers() {
        let p = dotted_to_pointer("properties.template.containers[0].env[12].secretRef");
        assert_eq!(p, "/properties/template/containers/0/env/12/secretRef");
        assert_eq!(
            pointer_to_dotted(&p),
            "properties.template.containers[0].env[12].secretRef"
        );
        assert_eq!(
            pointer_to_dotted("/identity/userAssignedIdentities/~1subscriptions~1x"),
            "identity.userAssignedIdentities['/subscriptions/x']"
        );
    }

    #[test]
    fn missing_fields_point_at_their_parent() {
        let mut s = Spans::default();
        s.insert(String::new(), Pos { line: 1, column: 1 });
        s.insert("/properties".into(), Pos { line: 3, column: 1 });
        assert_eq!(s.locate("/properties/configuration/secrets").line, 3);
        assert_eq!(s.locate("/other").line, 1);
    }

    #[test]
    fn line_index_counts_characters() {
        let idx = LineIndex::new("ab\néé x\n");
        assert_eq!(idx.pos(0), Pos { line: 1, column: 1 });
        assert_eq!(idx.pos(3), Pos { line: 2, column: 1 });
        assert_eq!(idx.pos(3 + 4 + 1), Pos { line: 2, column: 4 });
    }
}
