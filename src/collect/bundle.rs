//! The bundle on disk: the output directory, the log copies that follow
//! growing (and rotating) files, and the final `.tar.gz`.

use super::{CollectError, LogSpec, Progress};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Bytes read from a log per call (the copy buffer).
const CHUNK: usize = 64 * 1024;
/// A "line" longer than this without a newline is copied anyway: holding it
/// back would need unbounded memory, and `analyze` cuts such lines itself.
const MAX_HELD: u64 = 1024 * 1024;

pub fn is_tar_gz(p: &Path) -> bool {
    let n = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    n.ends_with(".tar.gz") || n.ends_with(".tgz")
}

/// Creates `dir`, which must not exist or be empty (a bundle is never mixed
/// with an older one); for a .tar.gz, `out` must not exist either.
pub fn prepare_dir(dir: &Path, out: &Path) -> Result<(), CollectError> {
    if dir != out && out.exists() {
        return Err(CollectError::io(
            out,
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, "already exists"),
            "choose a new -o, or remove the old bundle",
        ));
    }
    if dir.exists() {
        let mut rd = std::fs::read_dir(dir)
            .map_err(|e| CollectError::io(dir, e, "-o must be a directory"))?;
        if rd.next().is_some() {
            return Err(CollectError::io(
                dir,
                std::io::Error::new(std::io::ErrorKind::AlreadyExists, "directory is not empty"),
                "choose a new -o: a bundle is never mixed with an older one",
            ));
        }
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| CollectError::io(dir, e, "check the permissions of -o"))
}

/// Packs `dir` into `out` (.tar.gz, members under the archive's stem), then
/// removes `dir`. Written to `<out>.tmp` and renamed: never half an archive.
pub fn pack(dir: &Path, out: &Path) -> Result<(), CollectError> {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle.tar.gz".into());
    let root = name
        .strip_suffix(".tar.gz")
        .or_else(|| name.strip_suffix(".tgz"))
        .unwrap_or(&name)
        .to_string();
    let mut tmp = out.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let hint = "check the free space and permissions next to -o";
    let f = File::create(&tmp).map_err(|e| CollectError::io(&tmp, e, hint))?;
    let gz =
        flate2::write::GzEncoder::new(std::io::BufWriter::new(f), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.follow_symlinks(false);
    let mut files = Vec::new();
    list_files(dir, &mut files).map_err(|e| CollectError::io(dir, e, hint))?;
    files.sort();
    for f in &files {
        let rel = f.strip_prefix(dir).unwrap_or(f);
        tar.append_path_with_name(f, Path::new(&root).join(rel))
            .map_err(|e| CollectError::io(f, e, hint))?;
    }
    let gz = tar
        .into_inner()
        .map_err(|e| CollectError::io(&tmp, e, hint))?;
    let mut w = gz.finish().map_err(|e| CollectError::io(&tmp, e, hint))?;
    w.flush().map_err(|e| CollectError::io(&tmp, e, hint))?;
    drop(w);
    std::fs::rename(&tmp, out).map_err(|e| CollectError::io(out, e, hint))?;
    std::fs::remove_dir_all(dir).map_err(|e| CollectError::io(dir, e, hint))
}

fn list_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            list_files(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// What was copied of one log file.
#[derive(Clone, Debug, PartialEq)]
pub struct LogCopy {
    pub source: PathBuf,
    /// File name in the bundle.
    pub name: String,
    pub bytes: u64,
    /// Times the source was rotated or truncated under us.
    pub rotations: u32,
    /// Bytes of an unfinished last line left out at the end.
    pub unfinished: u64,
    /// Set when the source could never be read.
    pub error: Option<String>,
}

struct Follower {
    copy: LogCopy,
    dst: File,
    src: Option<File>,
    /// Identity of the open source (device, inode) to see rotations.
    id: Option<(u64, u64)>,
    /// Bytes of the source consumed (always at a line boundary).
    offset: u64,
    warned: bool,
}

/// Copies growing log files into the bundle, complete lines only.
pub struct LogFollowers {
    f: Vec<Follower>,
    buf: Vec<u8>,
}

/// The node a nats-server log names in its banner (`[INF]   Name:     n3`),
/// from the first 64 KiB.
pub fn banner_name(path: &Path) -> Option<String> {
    let mut head = Vec::new();
    File::open(path)
        .ok()?
        .take(64 * 1024)
        .read_to_end(&mut head)
        .ok()?;
    let text = String::from_utf8_lossy(&head);
    text.lines().find_map(|l| {
        let i = l.find("]   Name:")?;
        let name = l[i + "]   Name:".len()..].trim();
        (!name.is_empty()).then(|| name.to_string())
    })
}

impl LogFollowers {
    pub fn new(
        dir: &Path,
        specs: &[LogSpec],
        progress: &dyn Progress,
    ) -> Result<LogFollowers, CollectError> {
        let mut f: Vec<Follower> = Vec::new();
        for s in specs {
            let node = s.node.clone().or_else(|| banner_name(&s.source));
            let base = match &node {
                Some(n) => super::file_stem(n),
                None => s
                    .source
                    .file_stem()
                    .map(|x| super::file_stem(&x.to_string_lossy()))
                    .unwrap_or_else(|| "log".into()),
            };
            let mut name = format!("{base}.log");
            let mut k = 2;
            while f.iter().any(|x| x.copy.name == name) {
                name = format!("{base}-{k}.log");
                k += 1;
            }
            if node.is_none() {
                progress.note(&format!(
                    "{}: no nats-server banner (`Name:`) found yet; copied as {name} (give --logs NODE=PATH to name its node)",
                    s.source.display()
                ));
            }
            let path = dir.join(&name);
            let dst = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| CollectError::io(&path, e, "check the permissions of -o"))?;
            f.push(Follower {
                copy: LogCopy {
                    source: s.source.clone(),
                    name,
                    bytes: 0,
                    rotations: 0,
                    unfinished: 0,
                    error: None,
                },
                dst,
                src: None,
                id: None,
                offset: 0,
                warned: false,
            });
        }
        Ok(LogFollowers {
            f,
            buf: vec![0; CHUNK],
        })
    }

    /// Copies what the sources gained since the last call. `last`: the final
    /// call; an unfinished last line is left out and counted.
    pub fn poll(&mut self, last: bool, progress: &dyn Progress) {
        for f in &mut self.f {
            if let Err(e) = f.poll(&mut self.buf, last, progress) {
                if !f.warned {
                    progress.note(&format!(
                        "{}: {e} (copying goes on when it can be read)",
                        f.copy.source.display()
                    ));
                    f.warned = true;
                }
                f.copy.error = Some(e.to_string());
            }
        }
    }

    pub fn finish(self) -> Vec<LogCopy> {
        self.f.into_iter().map(|f| f.copy).collect()
    }
}

#[cfg(unix)]
fn identity(m: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

impl Follower {
    fn poll(&mut self, buf: &mut [u8], last: bool, progress: &dyn Progress) -> std::io::Result<()> {
        let meta = std::fs::metadata(&self.copy.source)?;
        let id = identity(&meta);
        let rotated = self.src.is_some() && id.is_some() && id != self.id;
        if rotated {
            // Finish the old file (its last lines were written before the
            // rename), then follow the new one from its start.
            self.copy_available(buf)?;
            self.src = None;
        }
        if self.src.is_none() {
            self.src = Some(File::open(&self.copy.source)?);
            self.id = id;
            self.offset = 0;
            if rotated {
                self.rotations_note(progress, "rotated");
            }
        } else if meta.len() < self.offset {
            // Truncated in place (copytruncate), seen when the file is shorter
            // than what was copied: start again at its start.
            self.offset = 0;
            self.rotations_note(progress, "truncated");
        }
        self.copy_available(buf)?;
        if last {
            let len = self
                .src
                .as_ref()
                .map_or(Ok(0), |s| s.metadata().map(|m| m.len()))?;
            self.copy.unfinished = len.saturating_sub(self.offset);
            self.dst.flush()?;
        }
        self.copy.error = None;
        Ok(())
    }

    fn rotations_note(&mut self, progress: &dyn Progress, what: &str) {
        self.copy.rotations += 1;
        progress.note(&format!(
            "{}: {what}; following the new file",
            self.copy.source.display()
        ));
    }

    /// Copies complete lines from `offset` to the end of the source.
    fn copy_available(&mut self, buf: &mut [u8]) -> std::io::Result<()> {
        let Some(src) = self.src.as_mut() else {
            return Ok(());
        };
        src.seek(SeekFrom::Start(self.offset))?;
        let mut held: u64 = 0; // bytes read past the last newline
        loop {
            let n = src.read(buf)?;
            if n == 0 {
                break;
            }
            let chunk = &buf[..n];
            match memchr::memrchr(b'\n', chunk) {
                Some(i) => {
                    if held > 0 {
                        // The held bytes are still in the file: re-read them.
                        src.seek(SeekFrom::Start(self.offset))?;
                        copy_exact(src, &mut self.dst, held + i as u64 + 1, buf)?;
                        self.offset += held + i as u64 + 1;
                        self.copy.bytes += held + i as u64 + 1;
                        held = 0;
                        src.seek(SeekFrom::Start(self.offset))?;
                        continue;
                    }
                    self.dst.write_all(&chunk[..=i])?;
                    self.offset += i as u64 + 1;
                    self.copy.bytes += i as u64 + 1;
                    held = (n - i - 1) as u64;
                }
                None => held += n as u64,
            }
            if held >= MAX_HELD {
                src.seek(SeekFrom::Start(self.offset))?;
                copy_exact(src, &mut self.dst, held, buf)?;
                self.dst.write_all(b"\n")?;
                self.offset += held;
                self.copy.bytes += held + 1;
                held = 0;
            }
        }
        Ok(())
    }
}

fn copy_exact(src: &mut File, dst: &mut File, mut n: u64, buf: &mut [u8]) -> std::io::Result<()> {
    while n > 0 {
        let want = buf.len().min(usize::try_from(n).unwrap_or(usize::MAX));
        let got = src.read(&mut buf[..want])?;
        if got == 0 {
            break;
        }
        dst.write_all(&buf[..got])?;
        n -= got as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Notes(Mutex<Vec<String>>);
    impl Progress for Notes {
        fn fetched(&self, _: &str, _: &str, _: f64, _: &super::super::Outcome) {}
        fn note(&self, m: &str) {
            self.0.lock().unwrap().push(m.to_string());
        }
    }

    fn append(p: &Path, s: &str) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .unwrap();
        f.write_all(s.as_bytes()).unwrap();
    }

    #[test]
    fn copies_complete_lines_follows_rotation_and_truncation() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("nats.log");
        let out = d.path().join("out");
        std::fs::create_dir(&out).unwrap();
        append(
            &src,
            "[1] 2026/11/24 19:00:00.000001 [INF]   Name:     n2\n[1] 2026/11/24 19:00:01.000000 [INF] half",
        );
        let notes = Notes::default();
        let mut f = LogFollowers::new(
            &out,
            &[LogSpec {
                source: src.clone(),
                node: None,
            }],
            &notes,
        )
        .unwrap();
        f.poll(false, &notes);
        let copy = out.join("n2.log");
        assert_eq!(
            std::fs::read_to_string(&copy).unwrap(),
            "[1] 2026/11/24 19:00:00.000001 [INF]   Name:     n2\n",
            "the unfinished line waits"
        );
        append(&src, " done\n");
        f.poll(false, &notes);
        assert!(
            std::fs::read_to_string(&copy)
                .unwrap()
                .ends_with("half done\n")
        );
        // Rotation: rename, then a new file at the same path.
        append(&src, "last of old\n");
        std::fs::rename(&src, d.path().join("nats.log.1")).unwrap();
        append(&src, "first of new\n");
        f.poll(false, &notes);
        let text = std::fs::read_to_string(&copy).unwrap();
        assert!(text.ends_with("last of old\nfirst of new\n"), "{text}");
        // Truncation in place.
        std::fs::write(&src, "").unwrap();
        f.poll(false, &notes);
        append(&src, "after truncate\nunfinished");
        f.poll(true, &notes);
        let text = std::fs::read_to_string(&copy).unwrap();
        assert!(text.ends_with("first of new\nafter truncate\n"), "{text}");
        let c = f.finish();
        assert_eq!(c[0].rotations, 2);
        assert_eq!(c[0].unfinished, "unfinished".len() as u64);
        assert!(
            notes
                .0
                .lock()
                .unwrap()
                .iter()
                .any(|n| n.contains("rotated"))
        );
    }

    #[test]
    fn missing_log_is_reported_not_fatal() {
        let d = tempfile::tempdir().unwrap();
        let notes = Notes::default();
        let mut f = LogFollowers::new(
            d.path(),
            &[LogSpec {
                source: d.path().join("nope.log"),
                node: Some("n9".into()),
            }],
            &notes,
        )
        .unwrap();
        f.poll(true, &notes);
        let c = f.finish();
        assert!(c[0].error.is_some());
        assert_eq!(c[0].name, "n9.log");
        assert!(notes.0.lock().unwrap()[0].contains("nope.log"));
    }

    #[test]
    fn pack_writes_one_archive_and_removes_the_staging_dir() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("incident.tar.gz");
        let dir = super::super::staging_dir(&out);
        prepare_dir(&dir, &out).unwrap();
        std::fs::create_dir_all(dir.join("metrics")).unwrap();
        std::fs::write(dir.join("metrics/n1.varz.jsonl"), "{}\n").unwrap();
        pack(&dir, &out).unwrap();
        assert!(!dir.exists());
        let mut a = tar::Archive::new(flate2::read::GzDecoder::new(File::open(&out).unwrap()));
        let names: Vec<String> = a
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, vec!["incident/metrics/n1.varz.jsonl"]);
        // An existing bundle is never overwritten, nor a non-empty directory mixed in.
        assert!(prepare_dir(&dir, &out).is_err());
        let full = d.path().join("full");
        std::fs::create_dir(&full).unwrap();
        std::fs::write(full.join("old.log"), "x\n").unwrap();
        let e = prepare_dir(&full, &full).unwrap_err();
        assert!(e.to_string().contains("not empty"), "{e}");
        prepare_dir(&d.path().join("new/dir"), &d.path().join("new/dir")).unwrap();
    }
}
