//! A bounded line reader: `\n`, `\r\n` and lone `\r` end a line; lines longer
//! than the limit are cut (and reported) instead of being loaded whole.

use std::io::{self, BufRead};

pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    max: usize,
    /// 1-based number of the line last returned.
    pub line_no: u64,
    /// Bytes consumed so far.
    pub bytes: u64,
    skip_lf: bool,
}

/// One line: its bytes (without terminator) and whether it was cut.
pub struct Line<'a> {
    pub bytes: &'a [u8],
    pub truncated: bool,
    pub number: u64,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R, max: usize) -> Self {
        LineReader {
            inner,
            buf: Vec::with_capacity(1024),
            max: max.max(1),
            line_no: 0,
            bytes: 0,
            skip_lf: false,
        }
    }

    /// The next line, or `None` at the end. An I/O error (a truncated gzip,
    /// say) ends the file; the caller reports it with the line number.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let mut truncated = false;
        let mut got_any = false;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if got_any {
                        // Return what we have; the error shows up on the next call.
                        break;
                    }
                    return Err(e);
                }
            };
            if avail.is_empty() {
                if !got_any {
                    return Ok(None);
                }
                break;
            }
            let mut start = 0;
            if self.skip_lf {
                self.skip_lf = false;
                if avail[0] == b'\n' {
                    start = 1;
                }
            }
            let slice = &avail[start..];
            match memchr::memchr2(b'\n', b'\r', slice) {
                Some(pos) => {
                    let room = self.max.saturating_sub(self.buf.len());
                    if pos > room {
                        truncated = true;
                    }
                    self.buf.extend_from_slice(&slice[..pos.min(room)]);
                    if slice[pos] == b'\r' {
                        if pos + 1 < slice.len() {
                            let used = start + pos + 1 + usize::from(slice[pos + 1] == b'\n');
                            self.inner.consume(used);
                            self.bytes += used as u64;
                        } else {
                            self.skip_lf = true;
                            self.inner.consume(start + pos + 1);
                            self.bytes += (start + pos + 1) as u64;
                        }
                    } else {
                        self.inner.consume(start + pos + 1);
                        self.bytes += (start + pos + 1) as u64;
                    }
                    break;
                }
                None => {
                    let room = self.max.saturating_sub(self.buf.len());
                    if slice.len() > room {
                        truncated = true;
                    }
                    self.buf.extend_from_slice(&slice[..slice.len().min(room)]);
                    let used = avail.len();
                    self.inner.consume(used);
                    self.bytes += used as u64;
                    got_any = got_any || used > start;
                }
            }
        }
        self.line_no += 1;
        Ok(Some(Line {
            bytes: &self.buf,
            truncated,
            number: self.line_no,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<(String, bool)> {
        let mut r = LineReader::new(io::BufReader::with_capacity(3, input), max);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push((String::from_utf8_lossy(l.bytes).into_owned(), l.truncated));
        }
        out
    }

    #[test]
    fn endings() {
        let v = lines(b"a\r\nb\rc\nd", 100);
        let texts: Vec<&str> = v.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(texts, ["a", "b", "c", "d"]);
        assert!(lines(b"", 10).is_empty());
        assert_eq!(lines(b"\n\n", 10).len(), 2);
    }

    #[test]
    fn cuts_long_lines() {
        let v = lines(b"0123456789abc\nxy\n", 4);
        assert_eq!(v[0], ("0123".to_string(), true));
        assert_eq!(v[1], ("xy".to_string(), false));
    }
}
