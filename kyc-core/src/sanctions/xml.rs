//! A small XML reader for the list files (UN consolidated XML, EU financial sanctions XML): it
//! builds a tree of elements with attributes and text, without recursion (so hostile nesting
//! cannot overflow the stack), decoding the predefined and numeric entities, CDATA, and
//! skipping comments, processing instructions and the document type. Namespace prefixes are
//! dropped from names.

use super::model::LoadError;

/// The deepest nesting accepted.
const MAX_DEPTH: usize = 64;

/// An element: local name, attributes, child elements and its own text (concatenated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    /// The value of an attribute (local name).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Children with the given name.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first child with the given name.
    pub fn first(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The trimmed text of the first child with the given name ("" when absent).
    pub fn child_text(&self, name: &str) -> &str {
        self.first(name).map_or("", |c| c.text.trim())
    }
}

/// Parses a document and returns its root element.
pub(crate) fn parse(text: &str, format: &'static str) -> Result<Element, LoadError> {
    let bad = |pos: usize| LoadError::Malformed {
        format,
        position: format!("byte {pos}"),
    };
    let b = text.as_bytes();
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            let end = memchr(b'<', b, i).unwrap_or(b.len());
            let raw = text.get(i..end).ok_or_else(|| bad(i))?;
            if let Some(top) = stack.last_mut() {
                decode_entities_into(raw, &mut top.text);
            } else if !raw.trim().is_empty() {
                return Err(bad(i));
            }
            i = end;
            continue;
        }
        let rest = b.get(i..).unwrap_or_default();
        if rest.starts_with(b"<!--") {
            i = find(b, i + 4, b"-->").ok_or_else(|| bad(i))? + 3;
        } else if rest.starts_with(b"<![CDATA[") {
            let end = find(b, i + 9, b"]]>").ok_or_else(|| bad(i))?;
            if let Some(top) = stack.last_mut() {
                top.text
                    .push_str(text.get(i + 9..end).ok_or_else(|| bad(i))?);
            }
            i = end + 3;
        } else if rest.starts_with(b"<?") {
            i = find(b, i + 2, b"?>").ok_or_else(|| bad(i))? + 2;
        } else if rest.starts_with(b"<!") {
            i = skip_doctype(b, i).ok_or_else(|| bad(i))?;
        } else if rest.starts_with(b"</") {
            let end = memchr(b'>', b, i).ok_or_else(|| bad(i))?;
            let name = local(text.get(i + 2..end).ok_or_else(|| bad(i))?.trim());
            let el = stack.pop().ok_or_else(|| bad(i))?;
            if el.name != name {
                return Err(bad(i));
            }
            match stack.last_mut() {
                Some(parent) => parent.children.push(el),
                None => root = Some(el),
            }
            i = end + 1;
        } else {
            let end = tag_end(b, i + 1).ok_or_else(|| bad(i))?;
            let inner = text.get(i + 1..end).ok_or_else(|| bad(i))?;
            let (inner, self_closing) = match inner.strip_suffix('/') {
                Some(s) => (s, true),
                None => (inner, false),
            };
            let el = parse_tag(inner).ok_or_else(|| bad(i))?;
            if root.is_some() {
                return Err(bad(i));
            }
            if self_closing {
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            } else {
                if stack.len() >= MAX_DEPTH {
                    return Err(LoadError::Malformed {
                        format,
                        position: format!("byte {i} (nested too deeply)"),
                    });
                }
                stack.push(el);
            }
            i = end + 1;
        }
    }
    if !stack.is_empty() {
        return Err(bad(b.len()));
    }
    root.ok_or(LoadError::NotThisFormat { format })
}

fn memchr(needle: u8, b: &[u8], from: usize) -> Option<usize> {
    b.get(from..)?
        .iter()
        .position(|&c| c == needle)
        .map(|p| p + from)
}

fn find(b: &[u8], from: usize, pat: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(pat.len())
        .position(|w| w == pat)
        .map(|p| p + from)
}

/// The `>` ending a start tag, skipping quoted attribute values.
fn tag_end(b: &[u8], from: usize) -> Option<usize> {
    let mut quote = None;
    for (k, &c) in b.get(from..)?.iter().enumerate() {
        match (quote, c) {
            (None, b'"' | b'\'') => quote = Some(c),
            (Some(q), _) if q == c => quote = None,
            (None, b'>') => return Some(from + k),
            (None, b'<') => return None,
            _ => {}
        }
    }
    None
}

fn skip_doctype(b: &[u8], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, &c) in b.get(from..)?.iter().enumerate() {
        match c {
            b'<' => depth += 1,
            b'>' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(from + k + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_string()
}

fn parse_tag(inner: &str) -> Option<Element> {
    let inner = inner.trim();
    let name_end = inner
        .find(|c: char| c.is_whitespace())
        .unwrap_or(inner.len());
    let name = inner.get(..name_end)?;
    if name.is_empty() || name.contains(['<', '>', '"', '\'', '=', '/']) {
        return None;
    }
    let mut el = Element {
        name: local(name),
        ..Element::default()
    };
    let mut rest = inner.get(name_end..)?.trim_start();
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let key = rest.get(..eq)?.trim();
        let after = rest.get(eq + 1..)?.trim_start();
        let q = after.chars().next()?;
        if q != '"' && q != '\'' {
            return None;
        }
        let close = after.get(1..)?.find(q)? + 1;
        let raw = after.get(1..close)?;
        if key.is_empty() {
            return None;
        }
        if !key.starts_with("xmlns") {
            let mut v = String::new();
            decode_entities_into(raw, &mut v);
            el.attrs.push((local(key), v));
        }
        rest = after.get(close + 1..)?.trim_start();
    }
    Some(el)
}

/// Appends `raw` to `out`, decoding `&amp;` `&lt;` `&gt;` `&quot;` `&apos;` and numeric
/// references; an unknown or broken reference is kept as written.
pub(crate) fn decode_entities_into(raw: &str, out: &mut String) {
    let mut rest = raw;
    while let Some(p) = rest.find('&') {
        out.push_str(rest.get(..p).unwrap_or(""));
        let after = rest.get(p..).unwrap_or("");
        let semi = after.get(..after.len().min(12)).and_then(|s| s.find(';'));
        let decoded = semi.and_then(|s| {
            let name = after.get(1..s)?;
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let n = if let Some(h) = name.strip_prefix("#x").or(name.strip_prefix("#X")) {
                        u32::from_str_radix(h, 16).ok()?
                    } else {
                        name.strip_prefix('#')?.parse::<u32>().ok()?
                    };
                    char::from_u32(n)?
                }
            };
            Some((c, s + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = after.get(len..).unwrap_or("");
            }
            None => {
                out.push('&');
                rest = after.get(1..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn elements_attributes_entities_and_cdata_are_read() {
        let doc = r#"<?xml version="1.0"?><!DOCTYPE x><!-- c --><a:root xmlns:a="u" k='v &amp; w'>
            <b>one &amp; two &#65;&#x42;</b><c/><b><![CDATA[<raw>]]></b></a:root>"#;
        let r = parse(doc, "test").unwrap();
        assert_eq!(r.name, "root");
        assert_eq!(r.attr("k"), Some("v & w"));
        let bs: Vec<&str> = r.all("b").map(|e| e.text.as_str()).collect();
        assert_eq!(bs, vec!["one & two AB", "<raw>"]);
        assert!(r.first("c").is_some());
    }

    #[test]
    fn broken_documents_are_refused_with_a_position() {
        for doc in [
            "<a><b></a>",
            "<a>",
            "text",
            "<a></a><b/>",
            "<a x=1/>",
            "<a><!-- x",
        ] {
            let e = parse(doc, "test").unwrap_err();
            assert!(
                e.to_string().starts_with("input is not") || e.to_string().contains("malformed")
            );
        }
        let deep = "<a>".repeat(10_000);
        assert!(parse(&deep, "test").is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,200}|[<>/a=\"'&;#!\\[\\]CDAT -]{0,80}") {
            let _ = parse(&s, "test");
        }
    }
}
