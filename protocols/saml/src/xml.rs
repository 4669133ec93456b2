//! A small XML tree, a hardened parser for it, and exclusive canonicalization.
//!
//! Outgoing messages are built as trees and written only through
//! [`Element::canonical`], so the bytes sent are the bytes digested: the
//! document is its own exclusive-C14N form (no DOCTYPE, attributes sorted,
//! namespace declarations on the element that first uses them, no empty-element
//! tags). Incoming messages are parsed into the same tree and canonicalized by
//! the same code to check their digests.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::SamlError;

pub(crate) const NS_XML: &str = "http://www.w3.org/XML/1998/namespace";
pub(crate) const NS_SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub(crate) const NS_SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub(crate) const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub(crate) const NS_XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
pub(crate) const NS_XS: &str = "http://www.w3.org/2001/XMLSchema";
pub(crate) const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
pub(crate) const NS_MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";

/// A node of the tree: comments and processing instructions are never kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Element(Element),
    Text(String),
}

/// An attribute, by its qualified name as written (`ID`, `xsi:type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attribute {
    pub name: String,
    pub value: String,
}

/// An element. `ns` is the namespace URI its prefix resolves to (empty when
/// none); `namespaces` are the declarations written on it, prefix `""` for the
/// default namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub name: String,
    pub ns: String,
    pub namespaces: Vec<(String, String)>,
    pub attributes: Vec<Attribute>,
    pub children: Vec<Node>,
}

fn prefix_of(qname: &str) -> &str {
    qname.split_once(':').map_or("", |(prefix, _)| prefix)
}

fn local_of(qname: &str) -> &str {
    qname.split_once(':').map_or(qname, |(_, local)| local)
}

impl Element {
    /// A new element `prefix:local` in namespace `ns`, declaring the prefix on
    /// itself; canonical output drops the declaration where an output
    /// ancestor already made it.
    pub fn new(prefix: &str, local: &str, ns: &str) -> Self {
        let name = if prefix.is_empty() { local.to_owned() } else { format!("{prefix}:{local}") };
        Element {
            name,
            ns: ns.to_owned(),
            namespaces: vec![(prefix.to_owned(), ns.to_owned())],
            attributes: Vec::new(),
            children: Vec::new(),
        }
    }

    pub fn attr(mut self, name: &str, value: impl Into<String>) -> Self {
        self.attributes.push(Attribute { name: name.to_owned(), value: value.into() });
        self
    }

    pub fn attr_opt(self, name: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(value) => self.attr(name, value),
            None => self,
        }
    }

    pub fn declare(mut self, prefix: &str, ns: &str) -> Self {
        self.namespaces.push((prefix.to_owned(), ns.to_owned()));
        self
    }

    pub fn child(mut self, child: Element) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.children.push(Node::Text(text.into()));
        self
    }

    pub fn local_name(&self) -> &str {
        local_of(&self.name)
    }

    /// Whether this is `{ns}local`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local_name() == local
    }

    /// The value of an unqualified attribute.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|a| a.name == name).map(|a| a.value.as_str())
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    pub fn find(&self, ns: &str, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, local))
    }

    pub fn find_all<'a>(&'a self, ns: &'a str, local: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements().filter(move |e| e.is(ns, local))
    }

    /// All text directly inside this element, concatenated. Text split by a
    /// comment (`user@example.com<!---->.evil.com`) comes back whole, so a
    /// comment cannot shorten a NameID.
    pub fn text_content(&self) -> String {
        let mut out = String::new();
        for node in &self.children {
            if let Node::Text(t) = node {
                out.push_str(t);
            }
        }
        out
    }

    /// The trimmed text of child `{ns}local`, if present.
    pub fn child_text(&self, ns: &str, local: &str) -> Option<String> {
        self.find(ns, local).map(|e| e.text_content().trim().to_owned())
    }

    /// Calls `f` on this element and every descendant.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Element)) {
        f(self);
        for child in self.elements() {
            child.walk(f);
        }
    }

    /// The exclusive canonical form (xml-exc-c14n, without comments) of this
    /// element as a document subset apex.
    pub fn canonical(&self) -> String {
        self.canonical_with(&[])
    }

    /// The exclusive canonical form with an InclusiveNamespaces PrefixList.
    pub fn canonical_with(&self, inclusive: &[&str]) -> String {
        let mut out = String::with_capacity(4096);
        let inclusive = inclusive.iter().map(|p| (*p).to_owned()).collect();
        Canonicalizer { inclusive, ..Default::default() }.write(self, &mut out);
        out
    }
}

/// Exclusive XML canonicalization 1.0 (without comments) over [`Element`].
///
/// `scope` holds the namespace declarations in scope (including those of
/// ancestors outside the subset); `rendered` those already written by output
/// ancestors. A declaration is written on the element that visibly uses its
/// prefix, unless an output ancestor wrote the same one (exc-c14n §3).
#[derive(Default)]
pub(crate) struct Canonicalizer<'a> {
    pub scope: Vec<(String, String)>,
    pub rendered: Vec<(String, String)>,
    /// Prefixes from an InclusiveNamespaces PrefixList (`""` for `#default`),
    /// treated as by inclusive C14N.
    pub inclusive: Vec<String>,
    /// An element left out of the output: the enveloped signature.
    pub skip: Option<&'a Element>,
}

fn lookup<'v>(stack: &'v [(String, String)], prefix: &str) -> Option<&'v str> {
    stack.iter().rev().find(|(p, _)| p == prefix).map(|(_, ns)| ns.as_str())
}

impl<'a> Canonicalizer<'a> {
    pub fn write(&mut self, element: &Element, out: &mut String) {
        let scope_mark = self.scope.len();
        let rendered_mark = self.rendered.len();
        self.scope.extend(element.namespaces.iter().cloned());

        let mut used: Vec<&str> = vec![prefix_of(&element.name)];
        for attribute in &element.attributes {
            let prefix = prefix_of(&attribute.name);
            if !prefix.is_empty() && prefix != "xml" && !used.contains(&prefix) {
                used.push(prefix);
            }
        }
        for prefix in &self.inclusive {
            if !used.contains(&prefix.as_str()) && lookup(&self.scope, prefix).is_some() {
                used.push(prefix);
            }
        }
        let mut declarations: Vec<(String, String)> = Vec::new();
        for prefix in used {
            let ns = lookup(&self.scope, prefix).unwrap_or("");
            let already = lookup(&self.rendered, prefix);
            let needed = match already {
                Some(previous) => previous != ns,
                // An empty default namespace needs no `xmlns=""` unless an
                // output ancestor declared a non-empty one.
                None => !(prefix.is_empty() && ns.is_empty()),
            };
            if needed {
                declarations.push((prefix.to_owned(), ns.to_owned()));
            }
        }
        declarations.sort();

        let mut attributes: Vec<(&str, &str, &Attribute)> = element
            .attributes
            .iter()
            .map(|a| {
                let prefix = prefix_of(&a.name);
                let ns = match prefix {
                    "" => "",
                    "xml" => NS_XML,
                    p => lookup(&self.scope, p).unwrap_or(""),
                };
                (ns, local_of(&a.name), a)
            })
            .collect();
        attributes.sort_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)));

        out.push('<');
        out.push_str(&element.name);
        for (prefix, ns) in &declarations {
            if prefix.is_empty() {
                out.push_str(" xmlns=\"");
            } else {
                out.push_str(" xmlns:");
                out.push_str(prefix);
                out.push_str("=\"");
            }
            escape_attribute(ns, out);
            out.push('"');
        }
        for (_, _, attribute) in attributes {
            out.push(' ');
            out.push_str(&attribute.name);
            out.push_str("=\"");
            escape_attribute(&attribute.value, out);
            out.push('"');
        }
        out.push('>');
        self.rendered.extend(declarations);

        for child in &element.children {
            match child {
                Node::Text(text) => escape_text(text, out),
                Node::Element(child) => {
                    if self.skip.is_some_and(|skip| std::ptr::eq(skip, child)) {
                        continue;
                    }
                    self.write(child, out);
                }
            }
        }
        out.push_str("</");
        out.push_str(&element.name);
        out.push('>');
        self.scope.truncate(scope_mark);
        self.rendered.truncate(rendered_mark);
    }
}

/// Text escaping per C14N 1.0 §2.3.
fn escape_text(text: &str, out: &mut String) {
    escape(text, out, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '\r' => Some("&#xD;"),
        _ => None,
    });
}

/// Attribute value escaping per C14N 1.0 §2.3.
fn escape_attribute(value: &str, out: &mut String) {
    escape(value, out, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '"' => Some("&quot;"),
        '\t' => Some("&#x9;"),
        '\n' => Some("&#xA;"),
        '\r' => Some("&#xD;"),
        _ => None,
    });
}

/// Copies `input` to `out`, replacing what `replacement` names, in runs so
/// that ordinary text is copied a slice at a time. Characters XML 1.0 does
/// not allow at all (most C0 controls, U+FFFE, U+FFFF), which could only
/// come from a profile attribute, become U+FFFD so a response stays well
/// formed.
fn escape(input: &str, out: &mut String, replacement: impl Fn(char) -> Option<&'static str>) {
    let mut copied = 0;
    for (at, c) in input.char_indices() {
        let forbidden =
            matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}');
        let with = if forbidden { Some("\u{FFFD}") } else { replacement(c) };
        if let Some(with) = with {
            out.push_str(&input[copied..at]);
            out.push_str(with);
            copied = at + c.len_utf8();
        }
    }
    out.push_str(&input[copied..]);
}

/// Bounds on what the parser accepts from a peer.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// Largest document, in bytes (after base64 decoding and inflating).
    pub max_bytes: usize,
    /// Deepest element nesting.
    pub max_depth: usize,
    /// Most elements in one document.
    pub max_elements: usize,
}

impl Default for ParseLimits {
    /// Generous for any AuthnRequest or logout message (they are a few KB).
    fn default() -> Self {
        ParseLimits { max_bytes: 256 * 1024, max_depth: 32, max_elements: 4096 }
    }
}

impl ParseLimits {
    /// For metadata documents, which carry certificates and many endpoints.
    pub fn metadata() -> Self {
        ParseLimits { max_bytes: 2 * 1024 * 1024, max_depth: 48, max_elements: 65_536 }
    }
}

fn malformed(reason: impl Into<String>) -> SamlError {
    SamlError::Malformed(reason.into())
}

/// XML 1.0 §2.11 end-of-line handling, then entity and character references.
/// Only the five predefined entities exist here; any other is an error.
fn unescape_text(raw: &str) -> Result<String, SamlError> {
    let normalized: Cow<str> =
        if raw.contains('\r') { Cow::Owned(raw.replace("\r\n", "\n").replace('\r', "\n")) } else { Cow::Borrowed(raw) };
    quick_xml::escape::unescape(&normalized).map(Cow::into_owned).map_err(|e| malformed(format!("text: {e}")))
}

/// XML 1.0 §3.3.3 attribute-value normalization for CDATA attributes:
/// literal whitespace characters become spaces, references are then resolved.
fn unescape_attribute(raw: &str) -> Result<String, SamlError> {
    let normalized: Cow<str> = if raw.contains(['\t', '\n', '\r']) {
        Cow::Owned(raw.replace("\r\n", " ").replace(['\t', '\n', '\r'], " "))
    } else {
        Cow::Borrowed(raw)
    };
    quick_xml::escape::unescape(&normalized)
        .map(Cow::into_owned)
        .map_err(|e| malformed(format!("attribute value: {e}")))
}

fn start_element(start: &BytesStart<'_>, scope: &[(String, String)]) -> Result<Element, SamlError> {
    let name = std::str::from_utf8(start.name().as_ref()).map_err(|_| malformed("name is not UTF-8"))?.to_owned();
    let mut element =
        Element { name, ns: String::new(), namespaces: Vec::new(), attributes: Vec::new(), children: Vec::new() };
    for attribute in start.attributes().with_checks(true) {
        let attribute = attribute.map_err(|e| malformed(format!("attribute: {e}")))?;
        let key = std::str::from_utf8(attribute.key.as_ref()).map_err(|_| malformed("name is not UTF-8"))?;
        let raw = std::str::from_utf8(&attribute.value).map_err(|_| malformed("value is not UTF-8"))?;
        let value = unescape_attribute(raw)?;
        if key == "xmlns" {
            element.namespaces.push((String::new(), value));
        } else if let Some(prefix) = key.strip_prefix("xmlns:") {
            if value.is_empty() {
                return Err(malformed("undeclaring a prefix is not XML 1.0"));
            }
            element.namespaces.push((prefix.to_owned(), value));
        } else {
            element.attributes.push(Attribute { name: key.to_owned(), value });
        }
    }
    let resolve = |prefix: &str| -> Option<String> {
        lookup(&element.namespaces, prefix).or_else(|| lookup(scope, prefix)).map(str::to_owned)
    };
    let prefix = prefix_of(&element.name);
    element.ns = match resolve(prefix) {
        Some(ns) => ns,
        None if prefix.is_empty() => String::new(),
        None => return Err(malformed(format!("unbound prefix {prefix:?}"))),
    };
    for attribute in &element.attributes {
        let prefix = prefix_of(&attribute.name);
        if !prefix.is_empty() && prefix != "xml" && resolve(prefix).is_none() {
            return Err(malformed(format!("unbound prefix {prefix:?}")));
        }
    }
    Ok(element)
}

/// Parses a document into a tree. Rejects any DOCTYPE (so no DTD is read and
/// no entity is defined or expanded), processing instructions, content after
/// the root, unbound prefixes, and anything over `limits`.
pub(crate) fn parse(xml: &[u8], limits: &ParseLimits) -> Result<Element, SamlError> {
    if xml.len() > limits.max_bytes {
        return Err(SamlError::TooLarge { limit: limits.max_bytes });
    }
    let text = std::str::from_utf8(xml).map_err(|_| malformed("document is not UTF-8"))?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    reader.config_mut().expand_empty_elements = false;

    let mut stack: Vec<Element> = Vec::new();
    let mut scope: Vec<(String, String)> = Vec::new();
    let mut scope_marks: Vec<usize> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;

    loop {
        let event = reader.read_event().map_err(SamlError::Xml)?;
        match event {
            Event::DocType(_) => return Err(SamlError::Doctype),
            Event::PI(_) => return Err(malformed("processing instruction")),
            Event::Decl(_) => {
                if !stack.is_empty() || root.is_some() {
                    return Err(malformed("misplaced XML declaration"));
                }
            }
            Event::Comment(_) => {}
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(malformed("content after the root element"));
            }
            Event::Start(start) => {
                count += 1;
                if count > limits.max_elements {
                    return Err(SamlError::TooManyElements { limit: limits.max_elements });
                }
                if stack.len() >= limits.max_depth {
                    return Err(SamlError::TooDeep { limit: limits.max_depth });
                }
                let element = start_element(&start, &scope)?;
                scope_marks.push(scope.len());
                scope.extend(element.namespaces.iter().cloned());
                stack.push(element);
            }
            Event::Empty(start) => {
                count += 1;
                if count > limits.max_elements {
                    return Err(SamlError::TooManyElements { limit: limits.max_elements });
                }
                if stack.len() >= limits.max_depth {
                    return Err(SamlError::TooDeep { limit: limits.max_depth });
                }
                let element = start_element(&start, &scope)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(element)),
                    None => root = Some(element),
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or_else(|| malformed("unbalanced end tag"))?;
                scope.truncate(scope_marks.pop().unwrap_or(0));
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(element)),
                    None => root = Some(element),
                }
            }
            Event::Text(text) => {
                let raw = std::str::from_utf8(&text).map_err(|_| malformed("text is not UTF-8"))?;
                push_text(&mut stack, unescape_text(raw)?)?;
            }
            Event::CData(data) => {
                let raw = std::str::from_utf8(&data).map_err(|_| malformed("CDATA is not UTF-8"))?;
                push_text(&mut stack, raw.replace("\r\n", "\n").replace('\r', "\n"))?;
            }
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(malformed("unclosed element"));
    }
    root.ok_or_else(|| malformed("no root element"))
}

fn push_text(stack: &mut [Element], text: String) -> Result<(), SamlError> {
    match stack.last_mut() {
        None if text.trim().is_empty() => Ok(()),
        None => Err(malformed("text outside the root element")),
        Some(parent) => {
            if let Some(Node::Text(previous)) = parent.children.last_mut() {
                previous.push_str(&text);
            } else {
                parent.children.push(Node::Text(text));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(xml: &str) -> String {
        parse(xml.as_bytes(), &ParseLimits::default()).unwrap().canonical()
    }

    #[test]
    fn canonical_form_cases() {
        let cases = [
            // Empty elements are expanded, attributes sorted, whitespace in tags dropped.
            (r#"<a b="2"   a="1"/>"#, r#"<a a="1" b="2"></a>"#),
            // Unused namespace declarations are dropped; used ones move to the user.
            (
                r#"<p:a xmlns:p="urn:p" xmlns:q="urn:q"><q:b/><c/></p:a>"#,
                r#"<p:a xmlns:p="urn:p"><q:b xmlns:q="urn:q"></q:b><c></c></p:a>"#,
            ),
            // Namespaced attributes sort after unqualified ones, by namespace URI.
            (
                r#"<a xmlns:z="urn:a" xmlns:y="urn:b" y:k="1" z:k="2" k="3"/>"#,
                r#"<a xmlns:y="urn:b" xmlns:z="urn:a" k="3" z:k="2" y:k="1"></a>"#,
            ),
            // Escaping of text and attributes; CDATA becomes text; comments vanish.
            (
                "<a t=\"&lt;&amp;&gt;&quot;&#9;&#10;\">x&gt;&amp;<![CDATA[<y>]]><!-- c --></a>",
                "<a t=\"&lt;&amp;>&quot;&#x9;&#xA;\">x&gt;&amp;&lt;y&gt;</a>",
            ),
            // Literal newlines in attributes are normalized to spaces; CRLF in text to LF.
            ("<a t=\"x\ny\">1\r\n2</a>", "<a t=\"x y\">1\n2</a>"),
            // A redeclared default namespace is written once per change.
            (
                r#"<a xmlns="urn:d"><b xmlns="urn:d"/><c xmlns=""/></a>"#,
                r#"<a xmlns="urn:d"><b></b><c xmlns=""></c></a>"#,
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(c14n(input), expected, "{input}");
        }
    }

    #[test]
    fn hostile_documents_are_rejected() {
        let limits = ParseLimits { max_bytes: 4096, max_depth: 8, max_elements: 100 };
        let deep = "<a>".repeat(9) + &"</a>".repeat(9);
        type Expect = fn(&SamlError) -> bool;
        let cases: [(&str, Expect); 8] = [
            (r#"<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>"#, |e| matches!(e, SamlError::Doctype)),
            ("<a>&x;</a>", |e| matches!(e, SamlError::Malformed(_))),
            ("<?php x?><a/>", |e| matches!(e, SamlError::Malformed(_))),
            ("<a/><b/>", |e| matches!(e, SamlError::Malformed(_))),
            ("<p:a/>", |e| matches!(e, SamlError::Malformed(_))),
            ("<a><b></a>", |e| matches!(e, SamlError::Xml(_) | SamlError::Malformed(_))),
            (&deep, |e| matches!(e, SamlError::TooDeep { .. })),
            ("<a b='1' b='2'/>", |e| matches!(e, SamlError::Malformed(_))),
        ];
        for (input, check) in cases {
            let err = parse(input.as_bytes(), &limits).unwrap_err();
            assert!(check(&err), "{input}: {err:?}");
        }
        let big = format!("<a>{}</a>", "x".repeat(5000));
        assert!(matches!(parse(big.as_bytes(), &limits), Err(SamlError::TooLarge { .. })));
    }

    #[test]
    fn characters_xml_forbids_are_replaced() {
        let e = Element::new("", "a", "").attr("v", "x\u{1}y").text("1\u{0}2\u{FFFF}3\t");
        assert_eq!(e.canonical(), "<a v=\"x\u{FFFD}y\">1\u{FFFD}2\u{FFFD}3\t</a>");
    }

    #[test]
    fn comments_do_not_split_text() {
        let e = parse(b"<n>user@example.com<!---->.evil.com</n>", &ParseLimits::default()).unwrap();
        assert_eq!(e.text_content(), "user@example.com.evil.com");
    }
}
