//! The incremental form parser against the framings clients send, split at every byte.

use super::*;

const B: &str = "XyZ-boundary-42";

/// A form with the given parts, each (headers, body), framed with CRLF.
fn form(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (headers, bytes) in parts {
        body.extend_from_slice(format!("--{B}\r\n{headers}\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{B}--\r\n").as_bytes());
    body
}

fn file_part(name: &str) -> String {
    format!("Content-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: image/png")
}

/// The file's bytes and name from `body` fed in `chunk`-byte pieces, or the parser's error.
fn parse(body: &[u8], chunk: usize) -> Result<(Vec<u8>, Option<String>), FormError> {
    let mut parser = FormParser::new(B, "file");
    let mut file = Vec::new();
    for piece in body.chunks(chunk.max(1)) {
        parser.feed(piece, &mut file)?;
    }
    parser.finish()?;
    let name = parser.file().ok_or(FormError::Unterminated)?;
    Ok((file.clone(), name.map(str::to_string)))
}

/// Bytes that look like a delimiter's start in many places but never are one.
fn tricky_bytes() -> Vec<u8> {
    let mut bytes = format!("\r\n--{}\r\n-\r\r\n--XyZ", &B[..B.len() - 1]).into_bytes();
    bytes.extend((0..=255u8).cycle().take(3000));
    bytes.extend_from_slice(b"\r\n--");
    bytes
}

#[test]
fn the_file_field_is_read_whole_with_its_name() {
    let body = form(&[(&file_part("cat.png"), b"\x89PNG...")]);
    assert_eq!(parse(&body, body.len()), Ok((b"\x89PNG...".to_vec(), Some("cat.png".into()))));
}

#[test]
fn a_delimiter_split_across_chunks_at_any_byte_gives_the_same_file() {
    let bytes = tricky_bytes();
    let body = form(&[("Content-Disposition: form-data; name=\"note\"", b"hi"), (&file_part("a.png"), &bytes)]);
    for split in 0..=body.len() {
        let mut parser = FormParser::new(B, "file");
        let mut file = Vec::new();
        parser.feed(&body[..split], &mut file).expect("first half");
        parser.feed(&body[split..], &mut file).expect("second half");
        assert_eq!(parser.finish(), Ok(()), "split at {split}");
        assert_eq!(file, bytes, "split at {split}");
    }
    for chunk in [1, 2, 3, 7, B.len() + 3, 64] {
        assert_eq!(parse(&body, chunk).map(|(f, _)| f), Ok(bytes.clone()), "{chunk}-byte chunks");
    }
}

#[test]
fn header_lines_may_end_in_bare_lf_but_the_delimiter_needs_crlf() {
    let lf_headers = format!("--{B}\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\n\nDATA\r\n--{B}--");
    assert_eq!(parse(lf_headers.as_bytes(), 5), Ok((b"DATA".to_vec(), Some("x.png".into()))));
    let lf_only = format!("--{B}\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\n\nDATA\n--{B}--\n");
    assert_eq!(parse(lf_only.as_bytes(), 5), Err(FormError::Unterminated));
}

#[test]
fn the_boundary_is_read_quoted_or_bare_among_other_parameters() {
    assert_eq!(boundary(&format!("multipart/form-data; boundary={B}")), Ok(B.into()));
    assert_eq!(boundary("multipart/form-data; charset=utf-8; Boundary=\"a b;c=d\""), Ok("a b;c=d".into()));
    assert_eq!(boundary("multipart/form-data;boundary=\"q\\\"x\"; x=y"), Ok("q\"x".into()));
    assert_eq!(boundary("multipart/form-data"), Err(FormError::NoBoundary));
    assert_eq!(boundary("multipart/form-data; charset=utf-8"), Err(FormError::NoBoundary));
    assert_eq!(boundary("multipart/form-data; boundary=\"\""), Err(FormError::BadBoundary));
    assert_eq!(boundary(&format!("multipart/form-data; boundary={}", "b".repeat(71))), Err(FormError::BadBoundary));
}

#[test]
fn a_quoted_boundary_with_spaces_frames_the_form() {
    let boundary = boundary("multipart/form-data; boundary=\"with space\"").expect("quoted");
    let body = "--with space\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.png\"\r\n\r\nOK\r\n--with space--";
    let mut parser = FormParser::new(&boundary, "file");
    let mut file = Vec::new();
    parser.feed(body.as_bytes(), &mut file).expect("parses");
    assert_eq!((parser.finish(), file, parser.file()), (Ok(()), b"OK".to_vec(), Some(Some("s.png"))));
}

#[test]
fn preamble_and_epilogue_are_ignored() {
    let mut body = b"This is a preamble.\r\nIt ends here.\r\n".to_vec();
    body.extend(form(&[(&file_part("p.png"), b"PIXELS")]));
    body.extend_from_slice(b"epilogue --XyZ-boundary-42 more\r\n");
    assert_eq!(parse(&body, 4), Ok((b"PIXELS".to_vec(), Some("p.png".into()))));
}

#[test]
fn padding_after_a_boundary_is_allowed_and_anything_else_is_refused() {
    let padded = format!("--{B} \t\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t\"\r\n\r\nT\r\n--{B}--  ");
    assert_eq!(parse(padded.as_bytes(), 3), Ok((b"T".to_vec(), Some("t".into()))));
    let glued = format!("--{B}x\r\n\r\nT\r\n--{B}--");
    assert_eq!(parse(glued.as_bytes(), 3), Err(FormError::BadDelimiter));
}

#[test]
fn only_the_first_file_field_with_a_file_name_is_kept() {
    let body = form(&[
        ("Content-Disposition: form-data; name=\"file\"", b"not a file"),
        ("Content-Disposition: form-data; name=\"other\"; filename=\"o.png\"", b"other file"),
        (&file_part("first.png"), b"first"),
        (&file_part("second.png"), b"second"),
    ]);
    assert_eq!(parse(&body, 9), Ok((b"first".to_vec(), Some("first.png".into()))));
}

#[test]
fn a_form_without_the_file_field_ends_cleanly_with_no_file() {
    let body = form(&[("Content-Disposition: form-data; name=\"name\"", b"cat")]);
    let mut parser = FormParser::new(B, "file");
    let mut file = Vec::new();
    parser.feed(&body, &mut file).expect("parses");
    assert_eq!((parser.finish(), parser.file(), file.len()), (Ok(()), None, 0));
}

#[test]
fn an_empty_file_name_reads_as_none() {
    let body = form(&[(&file_part(""), b"x")]);
    assert_eq!(parse(&body, 100), Ok((b"x".to_vec(), None)));
}

#[test]
fn file_names_keep_raw_backslashes_and_unescape_quotes() {
    let body = form(&[("Content-Disposition: form-data; name=\"file\"; filename=\"C:\\dir\\a \\\"b\\\".png\"", b"x")]);
    assert_eq!(parse(&body, 100).map(|(_, n)| n), Ok(Some("C:\\dir\\a \"b\".png".into())));
}

#[test]
fn a_body_without_its_closing_boundary_or_cut_short_is_unterminated() {
    let body = form(&[(&file_part("a.png"), b"0123456789")]);
    let unclosed = &body[..body.len() - format!("--{B}--\r\n").len()];
    assert_eq!(parse(unclosed, 4), Err(FormError::Unterminated));
    for cut in [0, 5, 30, body.len() / 2, body.len() - 12] {
        assert_eq!(parse(&body[..cut], 4), Err(FormError::Unterminated), "cut at {cut}");
    }
    assert_eq!(parse(b"no delimiter at all", 4), Err(FormError::Unterminated));
}

#[test]
fn oversized_part_headers_are_refused_without_being_held() {
    let long = format!("Content-Disposition: form-data; name=\"file\"; filename=\"a\"\r\nX-Pad: {}", "p".repeat(MAX_HEADER_BYTES));
    let body = form(&[(&long, b"x")]);
    assert_eq!(parse(&body, 1000), Err(FormError::HeadersTooLong));
    let endless_line = [format!("--{B}\r\n").into_bytes(), vec![b'h'; 3 * MAX_HEADER_BYTES]].concat();
    assert_eq!(parse(&endless_line, 1000), Err(FormError::HeadersTooLong));
}

#[test]
fn a_large_file_is_passed_on_holding_less_than_a_delimiter_between_chunks() {
    let bytes: Vec<u8> = (0..(1u32 << 20)).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let body = form(&[(&file_part("big.png"), &bytes)]);
    let mut parser = FormParser::new(B, "file");
    let (mut file, mut longest_carry) = (Vec::new(), 0);
    for piece in body.chunks(64 << 10) {
        parser.feed(piece, &mut file).expect("parses");
        longest_carry = longest_carry.max(parser.carry.len());
    }
    assert_eq!(parser.finish(), Ok(()));
    assert!(file == bytes, "the file's bytes pass through unchanged");
    assert!(longest_carry < parser.delimiter.len(), "held back {longest_carry} bytes");
}
