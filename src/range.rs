//! Parsing of a single HTTP `Range: bytes=…` header (RFC 9110 §14.1.2) against a known length.

/// An inclusive byte span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

/// The range lies wholly outside the representation (answer 416).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

/// `None` when the header should be ignored (malformed, another unit, or several ranges —
/// a server may always answer those with the whole representation); otherwise the span or
/// `Unsatisfiable`.
pub fn parse(header: &str, total: u64) -> Option<Result<ByteRange, Unsatisfiable>> {
    let spec = header.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    let span = if first.is_empty() {
        // Suffix form: the last N bytes.
        let n: u64 = last.parse().ok()?;
        if n == 0 || total == 0 {
            return Some(Err(Unsatisfiable));
        }
        ByteRange { start: total.saturating_sub(n), end: total - 1 }
    } else {
        let start: u64 = first.parse().ok()?;
        let end = if last.is_empty() { u64::MAX } else { last.parse().ok()? };
        if end < start {
            return None;
        }
        if start >= total {
            return Some(Err(Unsatisfiable));
        }
        ByteRange { start, end: end.min(total - 1) }
    };
    Some(Ok(span))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_open_and_suffix_ranges() {
        assert_eq!(parse("bytes=0-9", 100), Some(Ok(ByteRange { start: 0, end: 9 })));
        assert_eq!(parse("bytes=90-", 100), Some(Ok(ByteRange { start: 90, end: 99 })));
        assert_eq!(parse("bytes=-10", 100), Some(Ok(ByteRange { start: 90, end: 99 })));
        assert_eq!(parse("bytes=50-500", 100), Some(Ok(ByteRange { start: 50, end: 99 })));
    }

    #[test]
    fn ranges_past_the_end_are_unsatisfiable() {
        assert_eq!(parse("bytes=100-", 100), Some(Err(Unsatisfiable)));
        assert_eq!(parse("bytes=-0", 100), Some(Err(Unsatisfiable)));
    }

    #[test]
    fn malformed_or_multiple_ranges_are_ignored() {
        for h in ["items=0-1", "bytes=a-b", "bytes=5-1", "bytes=0-1,4-5", "bytes"] {
            assert_eq!(parse(h, 100), None, "{h}");
        }
    }
}
