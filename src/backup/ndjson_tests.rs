//! Unit tests of the backup NDJSON's framing: lines split across chunks, parts cut at one size.

use super::*;

fn split(chunks: &[&[u8]], max: usize) -> Result<Vec<Vec<u8>>, LineTooLong> {
    let mut lines = Lines::new(max);
    let mut out = Vec::new();
    for chunk in chunks {
        out.extend(lines.push(chunk)?);
    }
    out.extend(lines.finish());
    Ok(out)
}

#[test]
fn a_line_split_across_chunks_is_returned_whole_once_its_newline_arrives() {
    let mut lines = Lines::new(100);
    assert_eq!(lines.push(b"{\"a\":").unwrap(), Vec::<Vec<u8>>::new());
    assert_eq!(lines.push(b"1}\n{\"b\"").unwrap(), vec![b"{\"a\":1}".to_vec()]);
    assert_eq!(lines.push(b":2}\n").unwrap(), vec![b"{\"b\":2}".to_vec()]);
    assert_eq!(lines.finish(), None);
}

#[test]
fn a_chunk_holding_several_lines_returns_them_in_order() {
    assert_eq!(split(&[b"1\n22\n333\n"], 10).unwrap(), vec![b"1".to_vec(), b"22".to_vec(), b"333".to_vec()]);
}

#[test]
fn every_way_of_chunking_an_object_gives_the_same_lines() {
    let object = b"{\"x\":1}\n\n{\"y\":\"two\"}\n{\"z\":3}";
    let whole = split(&[object], 100).unwrap();
    assert_eq!(whole, vec![b"{\"x\":1}".to_vec(), b"{\"y\":\"two\"}".to_vec(), b"{\"z\":3}".to_vec()]);
    for size in 1..object.len() {
        let chunks: Vec<&[u8]> = object.chunks(size).collect();
        assert_eq!(split(&chunks, 100).unwrap(), whole, "chunks of {size}");
    }
}

#[test]
fn empty_lines_are_skipped() {
    assert_eq!(split(&[b"\n\na\n", b"\n", b"\nb\n\n"], 10).unwrap(), vec![b"a".to_vec(), b"b".to_vec()]);
    assert_eq!(split(&[b"", b"\n\n"], 10).unwrap(), Vec::<Vec<u8>>::new());
}

#[test]
fn the_last_line_without_a_newline_is_kept() {
    assert_eq!(split(&[b"a\nb", b"c"], 10).unwrap(), vec![b"a".to_vec(), b"bc".to_vec()]);
}

#[test]
fn a_line_longer_than_the_cap_is_refused_even_before_its_newline() {
    // Exactly the cap is accepted.
    assert_eq!(split(&[b"abcd\n"], 4).unwrap(), vec![b"abcd".to_vec()]);
    assert_eq!(split(&[b"abcde\n"], 4), Err(LineTooLong { max: 4 }));
    // A line that never ends is refused once it passes the cap, not held to the end.
    let mut lines = Lines::new(4);
    assert!(lines.push(b"ab").is_ok());
    assert!(lines.push(b"cd").is_ok());
    assert_eq!(lines.push(b"e"), Err(LineTooLong { max: 4 }));
    assert!(LineTooLong { max: 4 }.to_string().contains("exceeds 4 bytes"));
}

#[test]
fn a_small_object_is_never_cut_and_finishes_whole() {
    let mut parts = Parts::new(10);
    parts.push(b"abc\n");
    parts.push(b"de\n");
    assert_eq!(parts.next_full(), None);
    assert_eq!((parts.cut(), parts.total()), (0, 7));
    assert_eq!(parts.finish(), b"abc\nde\n".to_vec());
}

#[test]
fn parts_are_cut_at_exactly_the_part_size_across_lines_and_rejoin_to_the_object() {
    let mut parts = Parts::new(4);
    let mut got = Vec::new();
    let mut object = Vec::new();
    for line in [&b"ab\n"[..], b"cdefghij\n", b"k\n", b"lmn\n"] {
        object.extend_from_slice(line);
        parts.push(line);
        while let Some(part) = parts.next_full() {
            got.push(part);
        }
    }
    // Every part but the last has the same size, as R2 requires; numbers run from 1.
    assert!(got.iter().all(|(_, p)| p.len() == 4));
    assert_eq!(got.iter().map(|(n, _)| *n).collect::<Vec<_>>(), (1..=got.len() as u16).collect::<Vec<_>>());
    assert_eq!(parts.total(), object.len() as u64);
    let last = parts.finish();
    assert!(last.len() < 4);
    let rejoined: Vec<u8> = got.into_iter().flat_map(|(_, p)| p).chain(last).collect();
    assert_eq!(rejoined, object);
}

#[test]
fn the_part_buffer_never_holds_more_than_a_part_plus_the_line_pushed() {
    let mut parts = Parts::new(8);
    for i in 0..100u32 {
        let line = format!("{}\n", "x".repeat((i % 13) as usize));
        parts.push(line.as_bytes());
        assert!(parts.buf.len() < 8 + line.len());
        while parts.next_full().is_some() {}
        assert!(parts.buf.len() < 8);
    }
}
