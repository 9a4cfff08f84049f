//! The credential report's fast reader: quote-free CSV split a machine word at a time.
//!
//! AWS writes the report without quotes, so a field is whatever lies between two commas and a
//! record whatever lies between two line ends. Fields average ~12 bytes: too short for a byte
//! loop or a `memchr` per field to be cheap, so the separators are found eight bytes at a time
//! (SWAR: a comparison of every byte of a `u64` at once, in plain safe integer arithmetic).
//! At the first line it cannot read this way (a quote, a `\r` that does not end the line, bytes
//! that are not UTF-8) it stops and says where, and the `csv` crate reads the rest.

use super::{ColumnIndex, ReportError, ReportRow};

/// Every byte of a word set to `byte`.
const fn splat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// A mask with the high bit of each byte of `word` that equals `byte`, and nothing else.
///
/// Exact, unlike the shorter `(x - 0x01..) & !x & 0x80..`, whose borrows can mark a byte
/// above a match: that would split a field where there is no comma.
#[inline]
fn bytes_equal(word: u64, byte: u8) -> u64 {
    let x = word ^ splat(byte);
    !(((x & splat(0x7f)).wrapping_add(splat(0x7f))) | x | splat(0x7f))
}

/// The eight bytes at `at` as a word; past the end, zero bytes (a separator never).
#[inline]
fn word_at(bytes: &[u8], at: usize) -> u64 {
    let rest = &bytes[at..];
    match rest.first_chunk::<8>() {
        Some(word) => u64::from_le_bytes(*word),
        None => {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            u64::from_le_bytes(word)
        }
    }
}

/// The positions of every `,`, `\n`, `\r` and `"` in `bytes`, in order.
struct Separators<'a> {
    bytes: &'a [u8],
    /// Where the word after the current one starts.
    next_word: usize,
    /// The separators of the current word not yet returned, one high bit each.
    pending: u64,
}

impl<'a> Separators<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Separators {
            bytes,
            next_word: 0,
            pending: 0,
        }
    }
}

impl Iterator for Separators<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.pending == 0 {
            if self.next_word >= self.bytes.len() {
                return None;
            }
            let word = word_at(self.bytes, self.next_word);
            self.pending = bytes_equal(word, b',')
                | bytes_equal(word, b'\n')
                | bytes_equal(word, b'\r')
                | bytes_equal(word, b'"');
            self.next_word += 8;
        }
        let byte = self.pending.trailing_zeros() as usize / 8;
        self.pending &= self.pending - 1;
        Some(self.next_word - 8 + byte)
    }
}

/// Where the plain reader stopped.
#[allow(clippy::large_enum_variant)] // returned once per report
pub(super) enum Stop {
    /// At the end: every line was read.
    End,
    /// At the start of a line it cannot read: the `csv` crate reads from there.
    Csv {
        /// The byte where that line starts.
        from: usize,
        /// Its line number.
        line: u64,
        /// The header's column index and width, when the header was read.
        header: Option<(ColumnIndex, usize)>,
    },
}

/// Reads lines while they are plain: lines end at `\n` (a `\r` before it is dropped), fields
/// end at `,`, blank lines are skipped as the `csv` crate skips them. Lines are numbered as a
/// text editor numbers them. Fails on the first line that is wrong; stops, without reading it,
/// at the first line that is not plain.
pub(super) fn parse(bytes: &[u8], visit: &mut impl FnMut(ReportRow)) -> Result<Stop, ReportError> {
    let mut header: Option<(ColumnIndex, usize)> = None;
    // Where each field of the current line starts and ends, as byte ranges of the line.
    let mut fields: Vec<(usize, usize)> = Vec::with_capacity(32);
    let mut line = 1u64;
    let mut line_start = 0;
    let mut field_start = 0;
    for at in Separators::new(bytes).chain(std::iter::once(bytes.len())) {
        match bytes.get(at) {
            Some(b',') => {
                fields.push((field_start - line_start, at - line_start));
                field_start = at + 1;
                continue;
            }
            Some(b'\r') if bytes.get(at + 1) == Some(&b'\n') => continue,
            Some(b'\r' | b'"') => {
                return Ok(Stop::Csv {
                    from: line_start,
                    line,
                    header,
                })
            }
            _ => {} // `\n`, or the end of the text: the line ends here.
        }
        let end = if at > line_start && bytes[at - 1] == b'\r' {
            at - 1
        } else {
            at
        };
        if end > line_start {
            let Ok(text) = std::str::from_utf8(&bytes[line_start..end]) else {
                return Ok(Stop::Csv {
                    from: line_start,
                    line,
                    header,
                });
            };
            fields.push((field_start - line_start, end.max(field_start) - line_start));
            let field = |(from, to): (usize, usize)| &text[from..to];
            match &header {
                None => {
                    let names = fields.iter().map(|f| field(*f).as_bytes());
                    header = Some((ColumnIndex::from_headers(names)?, fields.len()));
                }
                Some((index, width)) => {
                    if fields.len() != *width {
                        return Err(super::wrong_width(line, *width, fields.len()));
                    }
                    visit(index.row(|position| Ok(field(fields[position])), line)?);
                }
            }
        }
        fields.clear();
        line += 1;
        line_start = at + 1;
        field_start = at + 1;
    }
    match header {
        Some(_) => Ok(Stop::End),
        None => Err(ReportError::Empty),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_separator_is_found_and_nothing_else() {
        let texts: &[&[u8]] = &[
            b"",
            b"a",
            b",",
            b"a,b\nc",
            b"\x01,\x00,\x2d\x2b\n\n,",
            b"12345678,12345678\n1234567,",
            b"a\"b\r\nc\rd\",",
            "é,ü\n€,😀".as_bytes(),
        ];
        for text in texts {
            let expected: Vec<usize> = text
                .iter()
                .enumerate()
                .filter(|(_, b)| matches!(**b, b',' | b'\n' | b'\r' | b'"'))
                .map(|(i, _)| i)
                .collect();
            assert_eq!(
                Separators::new(text).collect::<Vec<_>>(),
                expected,
                "{text:?}"
            );
        }
    }

    #[test]
    fn bytes_equal_marks_exactly_the_equal_bytes() {
        // Every byte value next to the one searched for, where a borrow would show.
        for other in 0..=255u8 {
            let word = u64::from_le_bytes([b',', other, b',', other, other, b',', 0, other]);
            let expected = [
                true,
                other == b',',
                true,
                other == b',',
                other == b',',
                true,
                false,
                other == b',',
            ];
            let mask = bytes_equal(word, b',');
            for (i, want) in expected.iter().enumerate() {
                assert_eq!(
                    mask >> (i * 8 + 7) & 1 == 1,
                    *want,
                    "byte {other:#x} at {i}"
                );
            }
        }
    }
}
