//! XMP for the `copyright` policy: the source packet's rights properties (dc:creator, dc:rights,
//! photoshop:Credit) read with roxmltree, and a minimal packet holding only those.
//!
//! Reading goes through a real XML parser (namespaces, entities, attribute or element form).
//! The packet is written by hand: it is one fixed template with three escaped values, and the
//! registry's XMP writers are bindings to Adobe's C++ toolkit, which cannot run in the Worker.

const DC: &str = "http://purl.org/dc/elements/1.1/";
const PHOTOSHOP: &str = "http://ns.adobe.com/photoshop/1.0/";
const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

/// The rights properties of an XMP packet.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rights {
    /// dc:creator, an ordered list of names.
    pub creators: Vec<String>,
    /// dc:rights, its default-language text.
    pub rights: Option<String>,
    /// photoshop:Credit.
    pub credit: Option<String>,
}

impl Rights {
    pub fn is_empty(&self) -> bool {
        self.creators.is_empty() && self.rights.is_none() && self.credit.is_none()
    }
}

/// Bytes a parse of the largest kept packet ([`super::MAX_XMP`]) may hold: roxmltree keeps a node
/// (under 64 bytes) per element, attribute and text, and the smallest of those takes 4 bytes of
/// input, so 16 bytes a byte of packet bounds it.
pub const PARSE_BYTES: u64 = 16 * super::MAX_XMP as u64;

/// The rights properties of `packet`; empty when it has none or is not well-formed XML.
pub fn rights(packet: &[u8]) -> Rights {
    let Ok(text) = std::str::from_utf8(packet) else { return Rights::default() };
    // Packets are wrapped in processing instructions and may start with a byte-order mark.
    let text = text.trim_start_matches('\u{feff}');
    let Ok(doc) = roxmltree::Document::parse(text) else { return Rights::default() };
    let mut found = Rights::default();
    for node in doc.descendants().filter(roxmltree::Node::is_element) {
        // Simple properties may be attributes of rdf:Description.
        if found.credit.is_none() {
            found.credit = node.attribute((PHOTOSHOP, "Credit")).map(str::to_string);
        }
        match (node.tag_name().namespace(), node.tag_name().name()) {
            (Some(PHOTOSHOP), "Credit") => found.credit = found.credit.take().or_else(|| node.text().map(str::to_string)),
            (Some(DC), "creator") if found.creators.is_empty() => found.creators = items(node).map(|(_, v)| v).collect(),
            (Some(DC), "rights") if found.rights.is_none() => {
                let mut alts: Vec<(Option<String>, String)> = items(node).collect();
                // The x-default entry, else the first.
                let default = alts.iter().position(|(lang, _)| lang.as_deref() == Some("x-default")).unwrap_or(0);
                found.rights = (!alts.is_empty()).then(|| alts.swap_remove(default).1);
            }
            _ => {}
        }
    }
    found
}

/// The rdf:li items of an array property, with their xml:lang.
fn items<'a>(property: roxmltree::Node<'a, 'a>) -> impl Iterator<Item = (Option<String>, String)> + 'a {
    let xml = "http://www.w3.org/XML/1998/namespace";
    property.descendants().filter(|n| n.has_tag_name((RDF, "li"))).map(move |li| {
        let lang = li.attribute((xml, "lang")).map(str::to_string);
        (lang, li.text().unwrap_or_default().to_string())
    })
}

/// A minimal XMP packet carrying only `rights`.
pub fn packet(rights: &Rights) -> Vec<u8> {
    let mut body = String::new();
    if !rights.creators.is_empty() {
        let names: String = rights.creators.iter().map(|c| format!("<rdf:li>{}</rdf:li>", escape(c))).collect();
        body.push_str(&format!("<dc:creator><rdf:Seq>{names}</rdf:Seq></dc:creator>"));
    }
    if let Some(text) = &rights.rights {
        body.push_str(&format!("<dc:rights><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></dc:rights>", escape(text)));
    }
    if let Some(credit) = &rights.credit {
        body.push_str(&format!("<photoshop:Credit>{}</photoshop:Credit>", escape(credit)));
    }
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?><x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"{RDF}\"><rdf:Description rdf:about=\"\" xmlns:dc=\"{DC}\" xmlns:photoshop=\"{PHOTOSHOP}\">{body}</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"r\"?>"
    )
    .into_bytes()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
