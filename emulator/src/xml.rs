//! Just enough XML for the bodies the SDK sends S3 (a `CreateBucketConfiguration`,
//! a lifecycle configuration, …) and for writing answers.
//!
//! The SDK writes plain XML: elements, text, the five predefined entities and
//! character references, a namespace on the root. Attributes, comments,
//! processing instructions and CDATA are accepted; all but CDATA's text is
//! ignored. Names keep only their local part (`s3:Rule` is `Rule`).

use std::fmt::Write as _;

/// An element: its local name, its child elements and its text (the text of
/// an element with children is whatever whitespace sat between them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) children: Vec<Element>,
    pub(crate) text: String,
}

impl Element {
    /// The first child called `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.name == name)
    }

    /// Every child called `name`.
    pub(crate) fn children_named<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |child| child.name == name)
    }

    /// The trimmed text of the first child called `name`.
    pub(crate) fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|child| child.text.trim())
    }

    /// The element written back as XML, children in their order.
    pub(crate) fn to_xml(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        let _ = write!(out, "<{}>", self.name);
        if self.children.is_empty() {
            out.push_str(&escape(&self.text));
        } else {
            for child in &self.children {
                child.write(out);
            }
        }
        let _ = write!(out, "</{}>", self.name);
    }

    /// The element as JSON for the admin endpoints: a leaf is its text, an
    /// element with children an object, and a name repeated among siblings
    /// an array.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        if self.children.is_empty() {
            return serde_json::Value::String(self.text.trim().to_owned());
        }
        let mut object = serde_json::Map::new();
        for child in &self.children {
            let value = child.to_json();
            match object.get_mut(&child.name) {
                None => {
                    object.insert(child.name.clone(), value);
                }
                // A child's own JSON is never an array: this one was built here.
                Some(serde_json::Value::Array(items)) => items.push(value),
                Some(existing) => {
                    let first = existing.take();
                    *existing = serde_json::Value::Array(vec![first, value]);
                }
            }
        }
        serde_json::Value::Object(object)
    }
}

/// Parses a whole document into its root element.
pub(crate) fn parse(text: &str) -> Result<Element, String> {
    let mut parser = Parser { text, at: 0 };
    parser.skip_prolog()?;
    let root = parser.element()?;
    parser.skip_misc()?;
    if parser.at != text.len() {
        return Err("content after the root element".into());
    }
    Ok(root)
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn skip_whitespace(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    /// Skips `<?…?>`, `<!--…-->` and `<!DOCTYPE …>` before the root.
    fn skip_prolog(&mut self) -> Result<(), String> {
        // A byte-order mark is allowed before everything.
        if self.rest().starts_with('\u{feff}') {
            self.at += '\u{feff}'.len_utf8();
        }
        self.skip_misc()?;
        if self.rest().starts_with("<!DOCTYPE") {
            self.skip_past(">")?;
            self.skip_misc()?;
        }
        Ok(())
    }

    fn skip_misc(&mut self) -> Result<(), String> {
        loop {
            self.skip_whitespace();
            if self.rest().starts_with("<?") {
                self.skip_past("?>")?;
            } else if self.rest().starts_with("<!--") {
                self.skip_past("-->")?;
            } else {
                return Ok(());
            }
        }
    }

    fn skip_past(&mut self, end: &str) -> Result<(), String> {
        match self.rest().find(end) {
            Some(index) => {
                self.at += index + end.len();
                Ok(())
            }
            None => Err(format!("`{end}` is missing")),
        }
    }

    fn element(&mut self) -> Result<Element, String> {
        if !self.rest().starts_with('<') {
            return Err("an element was expected".into());
        }
        let close = self.rest().find('>').ok_or("a start tag is not closed")?;
        let tag = &self.rest()[1..close];
        self.at += close + 1;
        let (tag, empty) = match tag.strip_suffix('/') {
            Some(tag) => (tag, true),
            None => (tag, false),
        };
        let qualified = tag.split_whitespace().next().ok_or("a tag has no name")?;
        let name = local(qualified).to_owned();
        let mut element = Element {
            name,
            children: Vec::new(),
            text: String::new(),
        };
        if empty {
            return Ok(element);
        }
        loop {
            let rest = self.rest();
            if rest.is_empty() {
                return Err(format!("<{qualified}> is not closed"));
            }
            if let Some(after) = rest.strip_prefix("</") {
                let end = after.find('>').ok_or("an end tag is not closed")?;
                if after[..end].trim() != qualified {
                    return Err(format!(
                        "<{qualified}> is closed by </{}>",
                        after[..end].trim()
                    ));
                }
                self.at += 2 + end + 1;
                return Ok(element);
            }
            if rest.starts_with("<!--") {
                self.skip_past("-->")?;
            } else if let Some(data) = rest.strip_prefix("<![CDATA[") {
                let end = data.find("]]>").ok_or("a CDATA section is not closed")?;
                element.text.push_str(&data[..end]);
                self.at += "<![CDATA[".len() + end + 3;
            } else if rest.starts_with("<?") {
                self.skip_past("?>")?;
            } else if rest.starts_with('<') {
                let child = self.element()?;
                element.children.push(child);
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                element.text.push_str(&unescape(&rest[..end])?);
                self.at += end;
            }
        }
    }
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find(';').ok_or("an entity is not closed")?;
        let entity = &after[..end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(decimal) = entity.strip_prefix('#') {
                    decimal.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown entity `&{entity};`"))?
            }
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Escapes text for an XML element or attribute.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_sdk_sends() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ID>a &amp; b</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule><Rule><ID>x&#x41;</ID><Filter/><Status>Disabled</Status></Rule></LifecycleConfiguration>"#;
        let root = parse(body).unwrap();
        assert_eq!(root.name, "LifecycleConfiguration");
        let rules: Vec<&Element> = root.children_named("Rule").collect();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].text_of("ID"), Some("a & b"));
        assert_eq!(rules[1].text_of("ID"), Some("xA"));
        assert_eq!(
            rules[0].child("Filter").unwrap().text_of("Prefix"),
            Some("logs/")
        );
        assert_eq!(
            rules[0].to_xml(),
            "<Rule><ID>a &amp; b</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule>"
        );
        assert_eq!(
            root.to_json()["Rule"][0]["Expiration"]["Days"],
            serde_json::json!("30")
        );
    }

    #[test]
    fn rejects_malformed_documents() {
        for bad in [
            "",
            "text",
            "<a>",
            "<a></b>",
            "<a>&bogus;</a>",
            "<a></a><b></b>",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
