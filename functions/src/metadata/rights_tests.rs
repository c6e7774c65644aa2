//! The `copyright` policy's XMP and IPTC: reading the rights fields, writing minimal blocks.

use super::iptc::{self, Dataset};
use super::xmp::{self, Rights};
use super::{MetadataPolicy, SourceMetadata};

/// A Photoshop resource block: a named resource of odd size first (to test the padding), then
/// the IPTC one holding `datasets`.
fn irb(datasets: &[((u8, u8), &str)]) -> Vec<u8> {
    let mut iim = Vec::new();
    for ((record, number), text) in datasets {
        iim.extend_from_slice(&[0x1C, *record, *number]);
        iim.extend_from_slice(&(text.len() as u16).to_be_bytes());
        iim.extend_from_slice(text.as_bytes());
    }
    let mut out = b"8BIM\x04\x0C\x03abc".to_vec();
    out.extend_from_slice(&3u32.to_be_bytes());
    out.extend_from_slice(b"xyz\0");
    out.extend_from_slice(b"8BIM\x04\x04\0\0");
    out.extend_from_slice(&(iim.len() as u32).to_be_bytes());
    out.extend_from_slice(&iim);
    out
}

const EXIFTOOL_XMP: &str = r#"<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?>
<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>
 <rdf:Description rdf:about='' xmlns:dc='http://purl.org/dc/elements/1.1/'>
  <dc:creator><rdf:Seq><rdf:li>Ada Lovelace</rdf:li><rdf:li>Charles &amp; Co</rdf:li></rdf:Seq></dc:creator>
  <dc:description><rdf:Alt><rdf:li xml:lang='x-default'>a secret place</rdf:li></rdf:Alt></dc:description>
  <dc:rights><rdf:Alt><rdf:li xml:lang='fr'>(c) Ada, en français</rdf:li><rdf:li xml:lang='x-default'>(c) Ada</rdf:li></rdf:Alt></dc:rights>
 </rdf:Description>
 <rdf:Description rdf:about='' xmlns:ps='http://ns.adobe.com/photoshop/1.0/' ps:Credit='Analytical Press' ps:City='London'/>
</rdf:RDF></x:xmpmeta><?xpacket end='w'?>"#;

#[test]
fn xmp_rights_are_read_in_element_and_attribute_form_whatever_the_prefix() {
    let rights = xmp::rights(EXIFTOOL_XMP.as_bytes());
    assert_eq!(rights.creators, ["Ada Lovelace", "Charles & Co"]);
    assert_eq!(rights.rights.as_deref(), Some("(c) Ada"), "the x-default entry");
    assert_eq!(rights.credit.as_deref(), Some("Analytical Press"));
    assert!(xmp::rights(b"<not xml").is_empty());
}

#[test]
fn the_minimal_packet_holds_only_the_rights_and_reads_back_the_same() {
    let rights = Rights { creators: vec!["A <b> & \"c\"".into()], rights: Some("(c) Ada".into()), credit: Some("Press".into()) };
    let packet = xmp::packet(&rights);
    assert_eq!(xmp::rights(&packet), rights);
    let text = String::from_utf8(packet).expect("utf-8");
    assert!(!text.contains("description") && !text.contains("City"), "{text}");
}

#[test]
fn iptc_rights_only_keeps_the_charset_by_line_credit_and_copyright_notice() {
    let source = irb(&[((1, 90), "\x1b%G"), ((2, 25), "secret"), ((2, 80), "Ada"), ((2, 110), "Analytical Press"), ((2, 116), "(c) Ada")]);
    let read = iptc::datasets(&source);
    assert_eq!(read.len(), 5, "found past a padded resource: {read:?}");
    let kept: Vec<Dataset> = iptc::datasets(&iptc::rights_only(&read).expect("some rights"));
    let tags: Vec<(u8, u8)> = kept.iter().map(|(t, _)| *t).collect();
    assert_eq!(tags, [(1, 90), (2, 0), (2, 80), (2, 110), (2, 116)]);
    assert_eq!(iptc::text(&kept, iptc::CREDIT).as_deref(), Some("Analytical Press"));
    assert_eq!(iptc::rights_only(&iptc::datasets(&irb(&[((2, 25), "secret")]))), None);
    assert!(iptc::datasets(b"8BIM\x04\x04\0\0\xFF\xFF\xFF\xFF").is_empty(), "a lying size reads nothing");
}

#[test]
fn copyright_takes_the_credit_from_iptc_when_the_xmp_has_none() {
    let xmp = br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><rdf:Alt><rdf:li xml:lang="x-default">Harbour</rdf:li></rdf:Alt></dc:title></rdf:Description></rdf:RDF></x:xmpmeta>"#;
    let source =
        SourceMetadata { xmp: Some(xmp.to_vec()), iptc: Some(irb(&[((2, 110), "Analytical Press")])), ..SourceMetadata::default() };
    let kept = source.for_policy(MetadataPolicy::Copyright);
    let rights = xmp::rights(&kept.xmp.expect("a packet"));
    assert_eq!(rights, Rights { credit: Some("Analytical Press".into()), ..Rights::default() }, "no title");
    assert!(kept.iptc.is_some());
    let none = SourceMetadata { xmp: Some(xmp.to_vec()), ..SourceMetadata::default() };
    assert_eq!(none.for_policy(MetadataPolicy::Copyright), SourceMetadata::default(), "no rights: no blocks");
}
