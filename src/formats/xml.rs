//! A small element tree over quick-xml for the vendor XML formats (Bruker
//! SPX/BRML, PANalytical XRDML, Rigaku RASX conditions). Names are local
//! (namespace prefixes dropped); nesting is limited so hostile input cannot
//! exhaust the stack.

use crate::{Error, Result};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Deepest nesting accepted.
const MAX_DEPTH: usize = 256;

/// One XML element: local name, attributes, text, children.
#[derive(Debug, Default, Clone)]
pub(crate) struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// Attribute by local name.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// First child with this name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// First descendant (depth first, document order) with this name.
    pub fn find(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|c| {
            if c.name == name {
                Some(c)
            } else {
                c.find(name)
            }
        })
    }

    /// Text of the first descendant with this name, trimmed, non-empty.
    pub fn find_text(&self, name: &str) -> Option<&str> {
        self.find(name)
            .map(|e| e.text.trim())
            .filter(|t| !t.is_empty())
    }

    /// Number in the text of the first descendant with this name.
    pub fn find_number(&self, name: &str) -> Option<f64> {
        self.find_text(name)
            .and_then(|t| super::num::parse_f64(t.as_bytes()))
            .filter(|v| v.is_finite())
    }
}

fn element(start: &BytesStart<'_>, format: &'static str) -> Result<Element> {
    let name = start.local_name().as_ref().to_string();
    let mut attrs = Vec::new();
    for a in start.attributes() {
        let a = a.map_err(|e| Error::parse(format, format!("XML attribute: {e}")))?;
        let key = a.key.local_name().as_ref().to_string();
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| Error::parse(format, format!("XML attribute: {e}")))?
            .into_owned();
        attrs.push((key, value));
    }
    Ok(Element {
        name,
        attrs,
        ..Element::default()
    })
}

/// Parse a whole document into its root element.
pub(crate) fn parse(bytes: &[u8], format: &'static str) -> Result<Element> {
    let text = decode(bytes);
    let mut reader = Reader::from_str(&text);
    let mut stack: Vec<Element> = vec![Element::default()];
    let err = |e: &dyn std::fmt::Display| Error::parse(format, format!("XML: {e}"));
    loop {
        let event = reader.read_event().map_err(|e| err(&e))?;
        match event {
            Event::Start(s) => {
                if stack.len() > MAX_DEPTH {
                    return Err(Error::parse(format, "XML nested too deeply"));
                }
                stack.push(element(&s, format)?);
            }
            Event::Empty(s) => {
                let e = element(&s, format)?;
                if let Some(top) = stack.last_mut() {
                    top.children.push(e);
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t);
                }
            }
            Event::GeneralRef(r) => {
                let entity = format!("&{};", r.as_ref());
                let value = quick_xml::escape::unescape(&entity)
                    .map(|v| v.into_owned())
                    .unwrap_or_default();
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&value);
                }
            }
            Event::End(_) => {
                if stack.len() < 2 {
                    return Err(Error::parse(format, "XML: unexpected closing tag"));
                }
                if let Some(done) = stack.pop() {
                    if let Some(top) = stack.last_mut() {
                        top.children.push(done);
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err(Error::parse(format, "truncated XML document"));
    }
    stack
        .pop()
        .and_then(|mut w| (!w.children.is_empty()).then(|| w.children.remove(0)))
        .ok_or_else(|| Error::parse(format, "XML document has no root element"))
}

/// Bytes to text: UTF-8 (BOM stripped) or, failing that, Latin-1/Windows-1252
/// (Bruker writes `encoding="WINDOWS-1252"`; numbers are ASCII either way).
fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_tree_with_local_names() {
        let e = parse(
            br#"<?xml version="1.0"?><a:r xmlns:a="x"><b k="v">1.5</b><c/></a:r>"#,
            "t",
        )
        .unwrap();
        assert_eq!(e.name, "r");
        assert_eq!(e.find("b").unwrap().attr("k"), Some("v"));
        assert_eq!(e.find_number("b"), Some(1.5));
        assert!(e.child("c").is_some());
    }

    #[test]
    fn truncated_and_junk_are_errors() {
        assert!(parse(b"<a><b>1</b>", "t").is_err());
        assert!(parse(b"<a></b>", "t").is_err());
        assert!(parse(b"no xml", "t").is_err());
    }
}
