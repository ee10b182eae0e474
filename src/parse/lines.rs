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

    /// Calls `f` with every line, in order, until the end or an I/O error
    /// (a truncated gzip, say: it ends the file; the caller reports it with
    /// [`LineReader::line_no`]).
    ///
    /// The lines that lie wholly in the inner reader's buffer are handed out
    /// where they lie, a buffer at a time: no copy and no call into the
    /// reader per line. A line across two buffers, too long, or last without
    /// an end goes through [`LineReader::next_line`].
    pub fn for_each(&mut self, mut f: impl FnMut(Line<'_>)) -> io::Result<()> {
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let mut used = 0;
            while let Some((start, end, n, skip_lf)) =
                line_in(&avail[used..], self.skip_lf, self.max)
            {
                self.line_no += 1;
                self.skip_lf = skip_lf;
                f(Line {
                    bytes: &avail[used + start..used + end],
                    truncated: false,
                    number: self.line_no,
                });
                used += n;
            }
            self.inner.consume(used);
            self.bytes += used as u64;
            if used == 0 {
                match self.next_line()? {
                    Some(line) => f(line),
                    None => return Ok(()),
                }
            }
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

/// Where the next line lies in `avail` when it ends there within `max`
/// bytes: (start, end, bytes to consume, whether a `\n` right after must be
/// skipped, the `\r` being the buffer's last byte). `skip_lf`: the last line
/// ended with a `\r` at the end of a buffer.
fn line_in(avail: &[u8], skip_lf: bool, max: usize) -> Option<(usize, usize, usize, bool)> {
    let start = usize::from(skip_lf && avail.first() == Some(&b'\n'));
    let slice = &avail[start..];
    let pos = memchr::memchr2(b'\n', b'\r', slice)?;
    if pos > max {
        return None;
    }
    let mut used = start + pos + 1;
    let mut skip_lf = false;
    if slice[pos] == b'\r' {
        match slice.get(pos + 1) {
            Some(b'\n') => used += 1,
            Some(_) => {}
            None => skip_lf = true,
        }
    }
    Some((start, start + pos, used, skip_lf))
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
    /// The lines as the reader's contract says: `\n`, `\r\n` and a lone
    /// `\r` end a line; a last line without an end counts; cut at `max`.
    fn reference(input: &[u8], max: usize) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < input.len() {
            let end = input[i..]
                .iter()
                .position(|c| *c == b'\n' || *c == b'\r')
                .map_or(input.len(), |p| i + p);
            let line = &input[i..end];
            let cut = &line[..line.len().min(max)];
            out.push((String::from_utf8_lossy(cut).into_owned(), line.len() > max));
            i = end + 1;
            if input.get(end) == Some(&b'\r') && input.get(end + 1) == Some(&b'\n') {
                i += 1;
            }
        }
        out
    }

    #[test]
    fn any_buffer_size_reads_the_same_lines() {
        let inputs: &[&[u8]] = &[
            b"a\r\nb\rc\nd",
            b"\r\n\r\n\r\r\n\n",
            b"first line\nsecond, longer line\r\nthird\r\rfifth\n",
            b"no end at all",
            b"0123456789abcdef\n\n0123456789\r\n01234\r",
        ];
        for input in inputs {
            for max in [1, 3, 5, 100] {
                let want = reference(input, max);
                for cap in (1..=9).chain([64]) {
                    let mut r = LineReader::new(io::BufReader::with_capacity(cap, *input), max);
                    let mut got = Vec::new();
                    while let Some(l) = r.next_line().unwrap() {
                        assert_eq!(l.number, got.len() as u64 + 1);
                        got.push((String::from_utf8_lossy(l.bytes).into_owned(), l.truncated));
                    }
                    assert_eq!(got, want, "{input:?} capacity {cap} max {max}");
                    assert_eq!(r.bytes, input.len() as u64, "{input:?} capacity {cap}");
                    let mut r = LineReader::new(io::BufReader::with_capacity(cap, *input), max);
                    let mut got = Vec::new();
                    r.for_each(|l| {
                        assert_eq!(l.number, got.len() as u64 + 1);
                        got.push((String::from_utf8_lossy(l.bytes).into_owned(), l.truncated));
                    })
                    .unwrap();
                    assert_eq!(got, want, "for_each: {input:?} capacity {cap} max {max}");
                    assert_eq!(
                        r.bytes,
                        input.len() as u64,
                        "for_each: {input:?} capacity {cap}"
                    );
                    assert_eq!(r.line_no, want.len() as u64);
                }
                // A slice is its own buffer: every line where it lies.
                let mut r = LineReader::new(*input, max);
                let mut got = Vec::new();
                r.for_each(|l| {
                    got.push((String::from_utf8_lossy(l.bytes).into_owned(), l.truncated))
                })
                .unwrap();
                assert_eq!(got, want, "{input:?} as a slice, max {max}");
            }
        }
    }
}
