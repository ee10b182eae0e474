//! The recursive reader: peel compression layers, open tar and zip archives,
//! hand leaf files to the visitor.

use super::decompress::{Compression, Counted, RatioGuard};
use super::{Budget, Limits, SourceError, SourceErrorKind, SourceMeta, buffered};
use std::io::{self, BufRead, Read};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

pub(crate) struct Ctx<'v, T> {
    pub limits: &'v Limits,
    pub results: Vec<(SourceMeta, T)>,
    pub errors: Vec<SourceError>,
    pub visit: &'v mut dyn FnMut(&SourceMeta, &mut dyn BufRead) -> T,
    pub total: Arc<AtomicU64>,
}

enum Container {
    Tar,
    Zip,
}

fn sniff_container(head: &[u8]) -> Option<Container> {
    if head.len() >= 262 && &head[257..262] == b"ustar" {
        Some(Container::Tar)
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some(Container::Zip)
    } else {
        None
    }
}

/// Cleans an archive member name for display: no leading `/`, no `..` or `.`
/// components. Member names are only labels: nothing is written to disk.
pub(crate) fn clean_member_name(name: &str) -> String {
    let parts: Vec<&str> = name
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .collect();
    let s = parts.join("/");
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

impl<T> Ctx<'_, T> {
    fn err(&mut self, file: &str, kind: SourceErrorKind, detail: impl Into<String>) {
        self.errors.push(SourceError::new(file, kind, detail));
    }

    /// A file on disk: zip needs random access, so it is opened as a file;
    /// everything else is streamed.
    pub fn read_file(&mut self, display: &str, mut f: std::fs::File) {
        let mut head = [0u8; 4];
        let n = read_up_to(&mut f, &mut head).unwrap_or(0);
        if n >= 4 && (head == *b"PK\x03\x04" || head == *b"PK\x05\x06") {
            use std::io::Seek;
            if f.seek(io::SeekFrom::Start(0)).is_ok() {
                self.read_zip(display, f, 0);
                return;
            }
        }
        let chain = io::Cursor::new(head[..n].to_vec()).chain(f);
        self.read_stream(display, display, Box::new(chain), Vec::new(), 0);
    }

    /// A stream: sniff compression (peel it), then container, else a leaf.
    pub fn read_stream<'r>(
        &mut self,
        display: &str,
        logical: &str,
        reader: Box<dyn Read + 'r>,
        mut compression: Vec<Compression>,
        depth: usize,
    ) {
        let mut budget = Budget {
            inner: reader,
            total: self.total.clone(),
            limit: self.limits.max_total_bytes,
        };
        let mut head = vec![0u8; 512];
        let n = match read_up_to(&mut budget, &mut head) {
            Ok(n) => n,
            Err(e) => {
                self.err(display, SourceErrorKind::Read, e.to_string());
                return;
            }
        };
        head.truncate(n);
        let br = io::Cursor::new(head.clone()).chain(budget);
        if let Some(c) = Compression::sniff(&head) {
            if compression.len() >= 3 {
                self.err(
                    display,
                    SourceErrorKind::Limit,
                    "more than 3 nested compression layers: refusing",
                );
                return;
            }
            compression.push(c);
            let counter = std::rc::Rc::new(std::cell::Cell::new(0));
            let counted = Counted {
                inner: br,
                count: counter.clone(),
            };
            let dec = match c.decoder(Box::new(counted)) {
                Ok(d) => d,
                Err(e) => {
                    self.err(
                        display,
                        SourceErrorKind::Decompress,
                        format!("cannot start {} decoder: {e}", c.name()),
                    );
                    return;
                }
            };
            let guarded = RatioGuard {
                inner: dec,
                compressed: counter,
                out: 0,
                max_ratio: self.limits.max_ratio,
            };
            self.read_stream(display, logical, Box::new(guarded), compression, depth);
            return;
        }
        let mut br = buffered(Box::new(br));
        match sniff_container(&head) {
            Some(_) if depth >= self.limits.max_depth => {
                self.err(
                    display,
                    SourceErrorKind::Limit,
                    format!(
                        "archive nested deeper than {} levels: skipped",
                        self.limits.max_depth
                    ),
                );
            }
            Some(Container::Tar) => self.read_tar(display, br, depth + 1),
            Some(Container::Zip) => {
                // zip needs random access: buffer it, within a limit.
                let mut buf = Vec::new();
                let lim = self.limits.max_nested_zip_bytes;
                match (&mut br).take(lim + 1).read_to_end(&mut buf) {
                    Ok(n) if n as u64 > lim => self.err(
                        display,
                        SourceErrorKind::Limit,
                        format!("zip archive inside a stream is larger than {lim} bytes: cannot read it without extracting; unpack it first"),
                    ),
                    Ok(_) => self.read_zip(display, io::Cursor::new(buf), depth),
                    Err(e) => self.err(display, SourceErrorKind::Read, format!("zip: {e}")),
                }
            }
            None => {
                let meta = SourceMeta {
                    display: Arc::from(display),
                    logical_path: logical.to_string(),
                    compression,
                };
                let r = (self.visit)(&meta, &mut br);
                self.results.push((meta, r));
            }
        }
    }

    fn read_tar<'r>(&mut self, display: &str, reader: impl Read + 'r, depth: usize) {
        let mut ar = tar::Archive::new(reader);
        let entries = match ar.entries() {
            Ok(e) => e,
            Err(e) => {
                self.err(display, SourceErrorKind::Archive, format!("tar: {e}"));
                return;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    self.err(
                        display,
                        SourceErrorKind::Archive,
                        format!("tar: stopped reading it: {e}"),
                    );
                    return;
                }
            };
            let kind = entry.header().entry_type();
            if !kind.is_file() {
                continue; // directories, links, devices: never followed
            }
            let name = clean_member_name(&String::from_utf8_lossy(&entry.path_bytes()));
            if name.is_empty() || name.split('/').any(|p| p.starts_with('.')) {
                continue;
            }
            let member = format!("{display}!{name}");
            self.read_stream(&member, &member, Box::new(entry), Vec::new(), depth);
        }
    }

    fn read_zip<R: Read + io::Seek>(&mut self, display: &str, reader: R, depth: usize) {
        let mut zip = match zip::ZipArchive::new(reader) {
            Ok(z) => z,
            Err(e) => {
                self.err(display, SourceErrorKind::Archive, format!("zip: {e}"));
                return;
            }
        };
        // Read members in name order so output does not depend on archive order.
        let mut idx: Vec<(String, usize)> = (0..zip.len())
            .filter_map(|i| zip.name_for_index(i).map(|n| (n.to_string(), i)))
            .collect();
        idx.sort();
        for (raw, i) in idx {
            let name = clean_member_name(&raw);
            if raw.ends_with('/') || name.is_empty() || name.split('/').any(|p| p.starts_with('.'))
            {
                continue;
            }
            let member = format!("{display}!{name}");
            match zip.by_index(i) {
                Ok(f) => {
                    if f.is_symlink() {
                        continue;
                    }
                    // A member is compressed inside the archive: the same
                    // ratio limit as a compressed stream stops zip bombs.
                    let guarded = RatioGuard {
                        compressed: std::rc::Rc::new(std::cell::Cell::new(f.compressed_size())),
                        inner: f,
                        out: 0,
                        max_ratio: self.limits.max_ratio,
                    };
                    self.read_stream(&member, &member, Box::new(guarded), Vec::new(), depth + 1)
                }
                Err(e) => self.err(&member, SourceErrorKind::Archive, format!("zip entry: {e}")),
            }
        }
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
