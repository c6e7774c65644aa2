//! An incremental `multipart/form-data` parser: fed the body chunk by chunk as it arrives, it
//! hands back the bytes of one named file field and drops every other part, holding no more
//! than a chunk plus a delimiter's length of the body at a time (and a part's headers, capped).
//!
//! Hand-written, not `multer` (the well-kept crate for this): multer needs a `Send` stream of
//! `Bytes`, and the Worker's body stream holds JS values (not `Send`), so it would need a
//! channel and a second future just to bridge the two; it also collects every chunk the stream
//! has ready into its own buffer, and brings `http`, `httparse`, `mime` and `encoding_rs` for
//! header handling we do not use. What the studio needs is the delimiter search (`memchr`'s
//! `memmem`, already in the bundle) and a `Content-Disposition` reader: this module, sans I/O,
//! so every framing case is unit-tested natively (`form_parser_tests.rs`).
//!
//! Framing (RFC 7578 / RFC 2046): a delimiter is CRLF `--boundary` (the first may open the body
//! without the CRLF; anything before it is preamble, ignored); after it come optional spaces or
//! tabs and either a line break (a part follows: headers up to a blank line, then its bytes up
//! to the next delimiter) or `--` (the close; anything after it is epilogue, ignored). Header
//! lines may end in CRLF or a bare LF; the delimiter itself must be CRLF `--boundary` (a body
//! framed with bare LFs never finds its close and is refused as unterminated).

use memchr::memmem;
use thiserror::Error;

/// Most bytes one part's header block may take.
pub const MAX_HEADER_BYTES: usize = 8 << 10;
/// RFC 2046's longest boundary.
const MAX_BOUNDARY: usize = 70;

/// Why a form cannot be read (each is a client's malformed body: 400).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FormError {
    #[error("the Content-Type gives no boundary")]
    NoBoundary,
    #[error("the boundary must be 1 to {MAX_BOUNDARY} characters")]
    BadBoundary,
    #[error("a boundary line is followed by neither a line break nor \"--\"")]
    BadDelimiter,
    #[error("a part's headers exceed {MAX_HEADER_BYTES} bytes")]
    HeadersTooLong,
    #[error("the body ends before the form's closing boundary")]
    Unterminated,
}

/// The boundary of a `multipart/form-data` Content-Type (quoted or not).
pub fn boundary(content_type: &str) -> Result<String, FormError> {
    let (_, params) = content_type.split_once(';').ok_or(FormError::NoBoundary)?;
    let boundary = parameters(params).into_iter().find(|(k, _)| k == "boundary").map(|(_, v)| v).ok_or(FormError::NoBoundary)?;
    match boundary.len() {
        1..=MAX_BOUNDARY => Ok(boundary),
        _ => Err(FormError::BadBoundary),
    }
}

/// `name=value` parameters after a header's first `;`, names lower-cased; a quoted value may
/// escape `"` and `\` with a backslash (any other backslash is kept: browsers send raw ones).
pub fn parameters(params: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = params;
    loop {
        rest = rest.trim_start_matches([';', ' ', '\t']);
        let Some((name, after)) = rest.split_once('=') else { break };
        if let Some(semi) = name.find(';') {
            // A parameter without a value: skip it.
            rest = &rest[semi..];
            continue;
        }
        let after = after.trim_start();
        let (value, tail) = match after.strip_prefix('"') {
            Some(quoted) => unquote(quoted),
            None => {
                let end = after.find(';').unwrap_or(after.len());
                (after[..end].trim_end().to_string(), &after[end..])
            }
        };
        out.push((name.trim().to_ascii_lowercase(), value));
        match tail.find(';') {
            Some(semi) => rest = &tail[semi..],
            None => break,
        }
    }
    out
}

/// A quoted string's value (after its opening quote) and what follows its closing quote.
fn unquote(quoted: &str) -> (String, &str) {
    let mut value = String::new();
    let mut chars = quoted.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (value, &quoted[i + 1..]),
            '\\' if matches!(chars.peek(), Some((_, '"' | '\\'))) => {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            }
            c => value.push(c),
        }
    }
    (value, "")
}

/// What the parser expects next.
enum State {
    /// Before the first delimiter.
    Preamble,
    /// Right after a delimiter: padding, then a line break or `--`.
    Delimiter,
    /// A part's header lines; `bytes` read so far, and its field and file names.
    Headers { bytes: usize, name: Option<String>, filename: Option<String> },
    /// A part's bytes; `keep` for the file field's.
    Body { keep: bool },
    /// After the closing delimiter.
    Done,
}

/// The parser of one form, looking for the file field named `field`.
pub struct FormParser {
    /// CRLF `--boundary`.
    delimiter: Vec<u8>,
    field: &'static str,
    state: State,
    /// The bytes not yet consumed (less than a delimiter, or a partial header line).
    carry: Vec<u8>,
    /// `Some(file name)` once the file field's headers are read (the name may be empty).
    file: Option<String>,
}

impl FormParser {
    pub fn new(boundary: &str, field: &'static str) -> FormParser {
        // A CRLF before the body lets the opening delimiter be found like every other one.
        let carry = b"\r\n".to_vec();
        FormParser { delimiter: [b"\r\n--", boundary.as_bytes()].concat(), field, state: State::Preamble, carry, file: None }
    }

    /// Parses `chunk`, appending the file field's bytes in it to `file`.
    pub fn feed(&mut self, chunk: &[u8], file: &mut Vec<u8>) -> Result<(), FormError> {
        let mut input = std::mem::take(&mut self.carry);
        input.extend_from_slice(chunk);
        let mut at = 0;
        while let Some(used) = self.step(&input[at..], file)? {
            at += used;
        }
        input.drain(..at);
        self.carry = input;
        Ok(())
    }

    /// Ok once the closing delimiter was read.
    pub fn finish(&self) -> Result<(), FormError> {
        match self.state {
            State::Done => Ok(()),
            _ => Err(FormError::Unterminated),
        }
    }

    /// Whether the form had the file field, and its file name (`None` when empty).
    pub fn file(&self) -> Option<Option<&str>> {
        self.file.as_deref().map(|name| Some(name).filter(|n| !n.is_empty()))
    }

    /// Consumes what it can from the front of `input`: `None` when it needs more bytes.
    fn step(&mut self, input: &[u8], file: &mut Vec<u8>) -> Result<Option<usize>, FormError> {
        match &mut self.state {
            State::Preamble => Ok(self.until_delimiter(input, None)),
            State::Body { keep } => {
                let keep = *keep;
                Ok(self.until_delimiter(input, keep.then_some(file)))
            }
            State::Delimiter => self.after_delimiter(input),
            State::Headers { .. } => self.header_line(input),
            State::Done => Ok(Some(input.len()).filter(|&n| n > 0)),
        }
    }

    /// Passes bytes up to the next delimiter (to `out`, if given), keeping back any tail that
    /// may be a delimiter's start.
    fn until_delimiter(&mut self, input: &[u8], out: Option<&mut Vec<u8>>) -> Option<usize> {
        let (end, used) = match memmem::find(input, &self.delimiter) {
            Some(i) => {
                self.state = State::Delimiter;
                (i, i + self.delimiter.len())
            }
            None => {
                let safe = input.len().saturating_sub(self.delimiter.len() - 1);
                (safe, safe)
            }
        };
        if let Some(out) = out {
            out.extend_from_slice(&input[..end]);
        }
        Some(used).filter(|&n| n > 0)
    }

    fn after_delimiter(&mut self, input: &[u8]) -> Result<Option<usize>, FormError> {
        let pad = input.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
        let rest = &input[pad..];
        let (next, len) = if rest.starts_with(b"--") {
            (State::Done, 2)
        } else if rest.starts_with(b"\r\n") {
            (State::Headers { bytes: 0, name: None, filename: None }, 2)
        } else if rest.starts_with(b"\n") {
            (State::Headers { bytes: 0, name: None, filename: None }, 1)
        } else if matches!(rest, [] | [b'-'] | [b'\r']) {
            return Ok(Some(pad).filter(|&n| n > 0));
        } else {
            return Err(FormError::BadDelimiter);
        };
        self.state = next;
        Ok(Some(pad + len))
    }

    /// One header line (CRLF or LF); the blank line ends the headers and opens the body.
    fn header_line(&mut self, input: &[u8]) -> Result<Option<usize>, FormError> {
        let State::Headers { bytes, name, filename } = &mut self.state else { return Ok(None) };
        let Some(newline) = memchr::memchr(b'\n', input) else {
            return match *bytes + input.len() > MAX_HEADER_BYTES {
                true => Err(FormError::HeadersTooLong),
                false => Ok(None),
            };
        };
        *bytes += newline + 1;
        if *bytes > MAX_HEADER_BYTES {
            return Err(FormError::HeadersTooLong);
        }
        let line = String::from_utf8_lossy(input[..newline].strip_suffix(b"\r").unwrap_or(&input[..newline]));
        if line.is_empty() {
            let keep = self.file.is_none() && name.as_deref() == Some(self.field) && filename.is_some();
            if keep {
                self.file = filename.take();
            }
            self.state = State::Body { keep };
        } else if let Some((header, value)) = line.split_once(':') {
            if header.trim().eq_ignore_ascii_case("content-disposition") {
                for (key, v) in value.split_once(';').map(|(_, p)| parameters(p)).unwrap_or_default() {
                    match key.as_str() {
                        "name" => *name = Some(v),
                        "filename" => *filename = Some(v),
                        _ => {}
                    }
                }
            }
        }
        Ok(Some(newline + 1))
    }
}

#[cfg(test)]
#[path = "form_parser_tests.rs"]
mod tests;
