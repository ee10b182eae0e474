//! Finding and reading inputs: files, directories (recursive), stdin,
//! compressed files (.gz .zst .bz2 .xz), tar and zip archives, nested.
//!
//! Everything is streamed: nothing is extracted to disk, archive members are
//! read one at a time. Compression and archive formats are recognised by
//! their magic bytes, not by file names. Limits (decompression ratio, total
//! size, nesting depth) stop archive bombs with a clear error.
//!
//! Architecture invariant: this module knows nothing about log or metric
//! formats; it hands each leaf file to a visitor as a `BufRead`.

mod archive;
mod decompress;
pub mod names;

use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use decompress::Compression;

/// One input given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Path(PathBuf),
    Stdin,
}

impl Input {
    pub fn parse(s: &str) -> Input {
        if s == "-" {
            Input::Stdin
        } else {
            Input::Path(PathBuf::from(s))
        }
    }
}

/// Limits that keep hostile input from exhausting memory or disk.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Stop a compressed stream that expands more than this many times.
    pub max_ratio: u64,
    /// Stop after this many decompressed bytes in one input (all members).
    pub max_total_bytes: u64,
    /// Archives inside archives deeper than this are refused.
    pub max_depth: usize,
    /// A zip inside another archive must be buffered in memory (zip needs
    /// random access); larger ones are refused.
    pub max_nested_zip_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_ratio: 1000,
            max_total_bytes: 256 << 30,
            max_depth: 4,
            max_nested_zip_bytes: 512 << 20,
        }
    }
}

/// What we know about a leaf file before parsing it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceMeta {
    /// Display path: the path as given, archive members as
    /// `bundle.tar.gz!n1/nats.log.gz`.
    pub display: Arc<str>,
    /// Path inside the innermost container (or the file path), used for node
    /// attribution by name.
    pub logical_path: String,
    /// Compression layers that were removed, outermost first.
    pub compression: Vec<Compression>,
}

/// A file that could not be read (or a limit that was hit). The run goes on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, thiserror::Error)]
#[error("{file}: {kind}: {detail} (hint: {hint})", hint = self.kind.hint())]
pub struct SourceError {
    /// The file (an archive member is `archive!member`).
    pub file: String,
    pub kind: SourceErrorKind,
    /// What the reader said, with the line where it applies.
    pub detail: String,
}

/// What went wrong with an input.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, thiserror::Error)]
#[non_exhaustive]
pub enum SourceErrorKind {
    #[error("cannot read")]
    Read,
    #[error("cannot list directory")]
    ListDirectory,
    #[error("cannot open")]
    Open,
    #[error("cannot decompress")]
    Decompress,
    #[error("corrupt archive")]
    Archive,
    #[error("limit reached")]
    Limit,
    #[error("ended early")]
    Truncated,
}

impl SourceErrorKind {
    /// What to try.
    pub fn hint(self) -> &'static str {
        match self {
            SourceErrorKind::Read | SourceErrorKind::Open => {
                "check that the path exists and is readable by this user"
            }
            SourceErrorKind::ListDirectory => "check the directory's permissions",
            SourceErrorKind::Decompress => {
                "the file looks compressed but its data is not; decompress it by hand to see why"
            }
            SourceErrorKind::Archive => {
                "the archive is damaged; what was read before the damage is still used"
            }
            SourceErrorKind::Limit => {
                "raise --max-ratio / --max-input-bytes if the input is trusted, or unpack it first"
            }
            SourceErrorKind::Truncated => {
                "the file was cut (a copy still being written?); what was read is still used"
            }
        }
    }
}

impl SourceError {
    pub fn new(file: impl Into<String>, kind: SourceErrorKind, detail: impl Into<String>) -> Self {
        SourceError {
            file: file.into(),
            kind,
            detail: detail.into(),
        }
    }

    /// The kind and the detail, without the file.
    pub fn message(&self) -> String {
        format!("{}: {}", self.kind, self.detail)
    }
}

/// Lists the files under the inputs: directories are walked recursively and
/// sorted by name, so the result does not depend on the order of the inputs
/// or of the directory listing. Duplicates (the same path twice) are removed.
pub fn list_files(inputs: &[Input]) -> (Vec<Input>, Vec<SourceError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        match input {
            Input::Stdin => out.push(Input::Stdin),
            Input::Path(p) => walk_dir(p, &mut out, &mut errors),
        }
    }
    out.sort_by_key(input_key);
    out.dedup();
    (out, errors)
}

fn input_key(i: &Input) -> String {
    match i {
        Input::Stdin => String::from("-"),
        Input::Path(p) => p.to_string_lossy().into_owned(),
    }
}

fn walk_dir(p: &Path, out: &mut Vec<Input>, errors: &mut Vec<SourceError>) {
    let md = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(e) => {
            errors.push(SourceError::new(
                p.display().to_string(),
                SourceErrorKind::Read,
                e.to_string(),
            ));
            return;
        }
    };
    if md.is_dir() {
        let rd = match std::fs::read_dir(p) {
            Ok(rd) => rd,
            Err(e) => {
                errors.push(SourceError::new(
                    p.display().to_string(),
                    SourceErrorKind::ListDirectory,
                    e.to_string(),
                ));
                return;
            }
        };
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for e in entries {
            // Hidden files and directories (.git, .DS_Store) are not evidence.
            if e.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                continue;
            }
            walk_dir(&e, out, errors);
        }
    } else {
        out.push(Input::Path(p.to_path_buf()));
    }
}

/// Reads one top-level input and calls `visit` for every leaf file in it
/// (the file itself, or each member of an archive, recursively). Returns the
/// visitor's results in stream order, plus errors for what could not be read.
pub fn read_input<T>(
    input: &Input,
    limits: &Limits,
    visit: &mut dyn FnMut(&SourceMeta, &mut dyn BufRead) -> T,
) -> (Vec<(SourceMeta, T)>, Vec<SourceError>) {
    let mut ctx = archive::Ctx {
        limits,
        results: Vec::new(),
        errors: Vec::new(),
        visit,
        total: Arc::new(std::sync::atomic::AtomicU64::new(0)),
    };
    match input {
        Input::Stdin => {
            let stdin = io::stdin();
            let lock = stdin.lock();
            ctx.read_stream("-", "-", Box::new(lock), Vec::new(), 0);
        }
        Input::Path(p) => {
            let display = p.display().to_string();
            match std::fs::File::open(p) {
                Ok(f) => ctx.read_file(&display, f),
                Err(e) => ctx.errors.push(SourceError::new(
                    display,
                    SourceErrorKind::Open,
                    e.to_string(),
                )),
            }
        }
    }
    (ctx.results, ctx.errors)
}

/// A reader adapter that fails once more than `limit` bytes were read
/// through it, shared across the members of one input.
pub(crate) struct Budget<R> {
    inner: R,
    total: Arc<std::sync::atomic::AtomicU64>,
    limit: u64,
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let t = self
            .total
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed)
            + n as u64;
        if t > self.limit {
            return Err(io::Error::other(format!(
                "input exceeds the total size limit of {} bytes (set with --max-input-bytes)",
                self.limit
            )));
        }
        Ok(n)
    }
}

pub(crate) fn buffered(r: Box<dyn Read + '_>) -> BufReader<Box<dyn Read + '_>> {
    BufReader::with_capacity(256 * 1024, r)
}
