//! The rendered form of a template: an ordered tree of JSON values, and its JSON and YAML text.
//!
//! Maps keep the order in which they were built. The model builds every map in a fixed order
//! (properties sorted by name, resources by logical id), so the same model always renders to the
//! same bytes, and a diff of two renderings shows only what changed.

use std::fmt::Write as _;

/// One value of a rendered template.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
    /// A list.
    List(Vec<Node>),
    /// A map whose keys keep their insertion order.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// A map from `(key, value)` pairs, in the order given.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Node)>) -> Node {
        Node::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A string node.
    pub fn str(s: impl Into<String>) -> Node {
        Node::Str(s.into())
    }

    /// The value under `key` when this is a map.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Renders as pretty-printed JSON (two-space indent, a final newline).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        write_json(self, 0, &mut out);
        out.push('\n');
        out
    }

    /// Renders as compact JSON on one line (used for values that CloudFormation wants as a
    /// JSON string, such as a dashboard body).
    pub fn to_compact_json(&self) -> String {
        let mut out = String::new();
        write_compact(self, &mut out);
        out
    }

    /// Renders as block-style YAML (two-space indent, a final newline).
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        match self {
            Node::Map(entries) if !entries.is_empty() => write_yaml_map(entries, 0, &mut out),
            Node::List(items) if !items.is_empty() => write_yaml_list(items, 0, &mut out),
            scalar => {
                out.push_str(&yaml_scalar(scalar));
                out.push('\n');
            }
        }
        out
    }
}

fn indent(level: usize, out: &mut String) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_number(f: f64, out: &mut String) {
    if f.is_finite() {
        if f.fract() == 0.0 && f.abs() < 1e15 {
            let _ = write!(out, "{f:.1}");
        } else {
            let _ = write!(out, "{f}");
        }
    } else {
        // JSON has no infinities or NaN; the model never builds them, but never render garbage.
        out.push_str("null");
    }
}

fn write_json(node: &Node, level: usize, out: &mut String) {
    match node {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Node::Float(f) => write_number(*f, out),
        Node::Str(s) => write_json_string(s, out),
        Node::List(items) if items.is_empty() => out.push_str("[]"),
        Node::List(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                indent(level + 1, out);
                write_json(item, level + 1, out);
                if i + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            indent(level, out);
            out.push(']');
        }
        Node::Map(entries) if entries.is_empty() => out.push_str("{}"),
        Node::Map(entries) => {
            out.push_str("{\n");
            for (i, (k, v)) in entries.iter().enumerate() {
                indent(level + 1, out);
                write_json_string(k, out);
                out.push_str(": ");
                write_json(v, level + 1, out);
                if i + 1 < entries.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            indent(level, out);
            out.push('}');
        }
    }
}

fn write_compact(node: &Node, out: &mut String) {
    match node {
        Node::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_compact(item, out);
            }
            out.push(']');
        }
        Node::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(k, out);
                out.push(':');
                write_compact(v, out);
            }
            out.push('}');
        }
        scalar => write_json(scalar, 0, out),
    }
}

/// Words that a YAML 1.1 or 1.2 reader would not take as a plain string.
const YAML_RESERVED: &[&str] = &[
    "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~",
];

fn yaml_plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '/' || first == '_') {
        return false;
    }
    if YAML_RESERVED.contains(&s.to_ascii_lowercase().as_str()) {
        return false;
    }
    if s.ends_with(':') || s.contains(": ") || s.contains(" #") || s.ends_with(' ') {
        return false;
    }
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':' | ' ' | '@'))
}

fn yaml_scalar(node: &Node) -> String {
    match node {
        Node::Str(s) if yaml_plain_ok(s) => s.clone(),
        Node::Map(_) => "{}".into(),
        Node::List(_) => "[]".into(),
        other => {
            let mut out = String::new();
            write_json(other, 0, &mut out);
            out
        }
    }
}

fn yaml_key(k: &str) -> String {
    if yaml_plain_ok(k) && !k.contains(' ') {
        k.to_string()
    } else {
        let mut out = String::new();
        write_json_string(k, &mut out);
        out
    }
}

fn write_yaml_map(entries: &[(String, Node)], level: usize, out: &mut String) {
    for (k, v) in entries {
        indent(level, out);
        out.push_str(&yaml_key(k));
        out.push(':');
        write_yaml_value(v, level, out);
    }
}

/// Writes what follows `key:` or `-`: a scalar on the same line, or a block below.
fn write_yaml_value(v: &Node, level: usize, out: &mut String) {
    match v {
        Node::Map(e) if !e.is_empty() => {
            out.push('\n');
            write_yaml_map(e, level + 1, out);
        }
        Node::List(items) if !items.is_empty() => {
            out.push('\n');
            write_yaml_list(items, level + 1, out);
        }
        scalar => {
            out.push(' ');
            out.push_str(&yaml_scalar(scalar));
            out.push('\n');
        }
    }
}

fn write_yaml_list(items: &[Node], level: usize, out: &mut String) {
    for item in items {
        indent(level, out);
        out.push('-');
        match item {
            Node::Map(entries) if !entries.is_empty() => {
                // The first key sits on the dash line; the rest align under it.
                let mut first = true;
                for (k, v) in entries {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        indent(level + 1, out);
                    }
                    out.push_str(&yaml_key(k));
                    out.push(':');
                    write_yaml_value(v, level + 1, out);
                }
            }
            Node::List(inner) if !inner.is_empty() => {
                out.push('\n');
                write_yaml_list(inner, level + 1, out);
            }
            scalar => {
                out.push(' ');
                out.push_str(&yaml_scalar(scalar));
                out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Node {
        Node::map([
            ("B", Node::Int(2)),
            ("A", Node::str("yes")),
            (
                "L",
                Node::List(vec![
                    Node::map([("K", Node::str("v")), ("Q", Node::Bool(true))]),
                    Node::str("x: y"),
                    Node::List(vec![]),
                ]),
            ),
            ("M", Node::Map(vec![])),
        ])
    }

    #[test]
    fn json_keeps_insertion_order() {
        let json = sample().to_json();
        let b = json.find("\"B\"").unwrap_or(usize::MAX);
        let a = json.find("\"A\"").unwrap_or(usize::MAX);
        assert!(b < a, "{json}");
    }

    #[test]
    fn json_output_parses_back_to_the_same_values() {
        let parsed: serde_json::Value =
            serde_json::from_str(&sample().to_json()).expect("valid json");
        assert_eq!(parsed["A"], "yes");
        assert_eq!(parsed["L"][0]["Q"], true);
        assert_eq!(parsed["L"][1], "x: y");
        assert!(parsed["M"].as_object().is_some_and(|m| m.is_empty()));
    }

    #[test]
    fn yaml_quotes_strings_a_reader_would_misread() {
        let yaml = sample().to_yaml();
        assert!(yaml.contains("A: \"yes\""), "{yaml}");
        assert!(yaml.contains("- \"x: y\""), "{yaml}");
        assert!(yaml.contains("- K: v\n    Q: true"), "{yaml}");
        assert!(yaml.contains("M: {}"), "{yaml}");
    }

    #[test]
    fn control_characters_are_escaped() {
        let json = Node::str("a\u{1}b\"c").to_json();
        assert_eq!(json, "\"a\\u0001b\\\"c\"\n");
    }

    proptest::proptest! {
        #[test]
        fn any_string_renders_to_json_that_reads_back_the_same(s in "\\PC{0,200}", k in "\\PC{0,20}") {
            let node = Node::map([(k.clone(), Node::str(s.clone()))]);
            let parsed: serde_json::Value = serde_json::from_str(&node.to_json()).expect("valid json");
            proptest::prop_assert_eq!(parsed[&k].as_str(), Some(s.as_str()));
        }
    }

    #[test]
    fn compact_json_has_no_whitespace_between_tokens() {
        let n = Node::map([("a", Node::List(vec![Node::Int(1), Node::Float(2.5)]))]);
        assert_eq!(n.to_compact_json(), "{\"a\":[1,2.5]}");
    }
}
