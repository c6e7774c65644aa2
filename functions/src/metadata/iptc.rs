//! IPTC-IIM inside a Photoshop image-resource block (JPEG APP13), for the `copyright` policy:
//! reading the source's datasets and writing a block with only the rights ones.
//!
//! Hand-written: the registry's IPTC crates parse whole files or pull in an image stack, and the
//! two layouts involved are a few fixed-size headers (Photoshop's "8BIM" resources, IIM's
//! 0x1C-tagged datasets).

/// The resource holding IPTC-IIM ("IPTC-NAA record").
const IPTC_RESOURCE: u16 = 0x0404;
/// Coded character set (1:90), kept so the text reads as it was written (UTF-8 or not).
const CHARSET: (u8, u8) = (1, 90);
/// Record version (2:00), which record 2 should start with.
const RECORD_VERSION: (u8, u8) = (2, 0);
/// By-line (the creator), Credit (the provider) and Copyright Notice.
pub const BY_LINE: (u8, u8) = (2, 80);
pub const CREDIT: (u8, u8) = (2, 110);
pub const COPYRIGHT: (u8, u8) = (2, 116);

/// One IIM dataset: record, dataset number and its bytes.
pub type Dataset = ((u8, u8), Vec<u8>);

/// The IPTC datasets of a Photoshop resource block (`irb`, the APP13 payload after its
/// "Photoshop 3.0\0" header); empty when it has none or does not parse.
pub fn datasets(irb: &[u8]) -> Vec<Dataset> {
    resources(irb).find(|(id, _)| *id == IPTC_RESOURCE).map_or_else(Vec::new, |(_, iim)| iim_datasets(iim))
}

/// The `(id, data)` of each "8BIM" resource: signature, id, a Pascal name padded to an even
/// length, a 32-bit size and the data padded to an even length. Stops at the first that does
/// not fit.
fn resources(irb: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let head = irb.get(at..at + 7)?;
        if &head[..4] != b"8BIM" {
            return None;
        }
        let id = u16::from_be_bytes([head[4], head[5]]);
        let name = (usize::from(head[6]) + 2) & !1;
        let size_at = at + 6 + name;
        let size = irb.get(size_at..size_at + 4).map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize)?;
        let data = irb.get(size_at + 4..(size_at + 4).checked_add(size)?)?;
        at = size_at + 4 + size + (size & 1);
        Some((id, data))
    })
}

/// The datasets of an IIM stream: 0x1C, record, dataset, 16-bit size, data. Extended sizes
/// (top bit set; only used for binary objects) end the walk.
fn iim_datasets(iim: &[u8]) -> Vec<Dataset> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(&[0x1C, record, number, hi, lo]) = iim.get(at..at + 5) {
        let size = usize::from(u16::from_be_bytes([hi, lo]));
        let Some(data) = iim.get(at + 5..at + 5 + size).filter(|_| hi & 0x80 == 0) else { break };
        found.push(((record, number), data.to_vec()));
        at += 5 + size;
    }
    found
}

/// A Photoshop resource block holding one IPTC resource with the charset and the rights
/// datasets (by-line, credit, copyright notice) of `source`; `None` when it has none of those.
pub fn rights_only(source: &[Dataset]) -> Option<Vec<u8>> {
    let rights: Vec<&Dataset> = source.iter().filter(|(tag, _)| [BY_LINE, CREDIT, COPYRIGHT].contains(tag)).collect();
    if rights.is_empty() {
        return None;
    }
    let mut iim = Vec::new();
    let mut push = |(record, number): (u8, u8), data: &[u8]| {
        // Standard sizes only (below 0x8000), as read.
        if let Ok(size @ 0..=0x7FFF) = u16::try_from(data.len()) {
            iim.extend_from_slice(&[0x1C, record, number]);
            iim.extend_from_slice(&size.to_be_bytes());
            iim.extend_from_slice(data);
        }
    };
    source.iter().filter(|(tag, _)| *tag == CHARSET).for_each(|(tag, data)| push(*tag, data));
    push(RECORD_VERSION, &[0, 4]);
    rights.into_iter().for_each(|(tag, data)| push(*tag, data));
    let mut irb = b"8BIM".to_vec();
    irb.extend_from_slice(&IPTC_RESOURCE.to_be_bytes());
    // An empty Pascal name, padded to an even length.
    irb.extend_from_slice(&[0, 0]);
    irb.extend_from_slice(&(iim.len() as u32).to_be_bytes());
    let odd = iim.len() % 2 == 1;
    irb.extend_from_slice(&iim);
    if odd {
        irb.push(0);
    }
    Some(irb)
}

/// The text of the first dataset tagged `tag`, as UTF-8 (lossy: IIM text without a charset
/// dataset is most often Latin-1 or ASCII).
pub fn text(datasets: &[Dataset], tag: (u8, u8)) -> Option<String> {
    datasets.iter().find(|(t, _)| *t == tag).map(|(_, d)| String::from_utf8_lossy(d).into_owned())
}
