//! The credential report's fast reader: quote-free CSV split a machine word at a time.
//!
//! AWS writes the report without quotes, so a field is whatever lies between two commas and a
//! record whatever lies between two line ends. Fields average ~12 bytes: too short for a byte
//! loop or a `memchr` per field to be cheap, so the separators are found eight bytes at a time
//! (SWAR: a comparison of every byte of a `u64` at once, in plain safe integer arithmetic).
//! [`super::parse_each`] sends only reports without quotes, in UTF-8, with no lone `\r` here.

use super::{ColumnIndex, ReportError, ReportRow};

/// Every byte of a word set to `byte`.
const fn splat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// A mask with the high bit of each byte of `word` that equals `byte`, and nothing else.
///
/// Exact, unlike the shorter `(x - 0x01..) & !x & 0x80..`, whose borrows can mark a byte
/// above a match: that would split a field where there is no comma.
fn bytes_equal(word: u64, byte: u8) -> u64 {
    let x = word ^ splat(byte);
    !(((x & splat(0x7f)).wrapping_add(splat(0x7f))) | x | splat(0x7f))
}

/// The eight bytes at `at` as a word; past the end, zero bytes (a separator never).
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

/// The positions of every `,` and `\n` in `bytes`, in order.
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
            self.pending = bytes_equal(word, b',') | bytes_equal(word, b'\n');
            self.next_word += 8;
        }
        let byte = self.pending.trailing_zeros() as usize / 8;
        self.pending &= self.pending - 1;
        Some(self.next_word - 8 + byte)
    }
}

/// The number of `\n` in `bytes`, eight bytes at a time.
pub(super) fn newlines(bytes: &[u8]) -> usize {
    (0..bytes.len())
        .step_by(8)
        .map(|at| bytes_equal(word_at(bytes, at), b'\n').count_ones() as usize)
        .sum()
}

/// Reads a quote-free report: lines end at `\n` (a `\r` before it is dropped), fields end at
/// `,`, blank lines are skipped as the `csv` crate skips them. Lines are numbered as a text
/// editor numbers them.
pub(super) fn parse(text: &str, visit: &mut impl FnMut(ReportRow)) -> Result<(), ReportError> {
    let bytes = text.as_bytes();
    let mut header: Option<(ColumnIndex, usize)> = None;
    // Where each field of the current line starts and ends, as byte ranges of `text`.
    let mut fields: Vec<(usize, usize)> = Vec::with_capacity(32);
    let mut line = 1u64;
    let mut line_start = 0;
    let mut field_start = 0;
    for at in Separators::new(bytes).chain(std::iter::once(bytes.len())) {
        if at < bytes.len() && bytes[at] == b',' {
            fields.push((field_start, at));
            field_start = at + 1;
            continue;
        }
        // A line ends here (or the text does).
        let end = if at > line_start && bytes[at - 1] == b'\r' {
            at - 1
        } else {
            at
        };
        if end > line_start {
            fields.push((field_start, end.max(field_start)));
            let field = |(from, to): (usize, usize)| &text[from..to];
            match &header {
                None => {
                    let names = fields.iter().map(|f| field(*f).as_bytes());
                    header = Some((ColumnIndex::from_headers(names)?, fields.len()));
                }
                Some((index, width)) => {
                    if fields.len() != *width {
                        return Err(ReportError::Csv {
                            line,
                            message: format!("expected {width} fields, found {}", fields.len()),
                        });
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
    header.map(|_| ()).ok_or(ReportError::Empty)
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
            "é,ü\n€,😀".as_bytes(),
        ];
        for text in texts {
            let expected: Vec<usize> = text
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b',' || **b == b'\n')
                .map(|(i, _)| i)
                .collect();
            assert_eq!(
                Separators::new(text).collect::<Vec<_>>(),
                expected,
                "{text:?}"
            );
            assert_eq!(
                newlines(text),
                text.iter().filter(|b| **b == b'\n').count(),
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
