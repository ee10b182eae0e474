//! Large plain files are parsed in parallel chunks, cut at line boundaries,
//! then stitched back into one file result: line numbers continue, a chunk's
//! first segment continues the previous chunk's segment of the same origin
//! (unless a banner opened it), and the accounting adds up exactly as if the
//! file had been read in one pass.

use super::sink::{Edges, EventSink, FileResult, KindId, NO_HEARTBEAT, Segment};
use super::{CoalescePolicy, IngestOptions};
use crate::classify::Classifier;
use crate::model::Event;
use crate::parse::log::{FileAccount, parse_stream_from};
use crate::source::SourceMeta;
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

/// Files smaller than this are read in one pass.
pub const MIN_CHUNKED: u64 = 64 << 20;

/// Cut offsets: `n` chunks of about equal size, each starting after a newline
/// (before a `[` when one is near).
fn cuts(path: &Path, len: u64, n: usize) -> std::io::Result<Vec<u64>> {
    let mut f = std::fs::File::open(path)?;
    let mut out = vec![0];
    let mut buf = vec![0u8; 64 * 1024];
    for k in 1..n as u64 {
        let target = len * k / n as u64;
        if target <= *out.last().unwrap_or(&0) {
            continue;
        }
        f.seek(SeekFrom::Start(target))?;
        let got = f.read(&mut buf)?;
        // Prefer cutting before a line that starts a record (`[pid] ...`), so
        // continuation lines stay with their record.
        let at = memchr::memmem::find(&buf[..got], b"\n[")
            .or_else(|| memchr::memchr(b'\n', &buf[..got]));
        if let Some(p) = at {
            let cut = target + p as u64 + 1;
            if cut < len {
                out.push(cut);
            }
        }
    }
    out.push(len);
    out.dedup();
    Ok(out)
}

/// Parses `path` (a plain log file on disk) in parallel chunks; `None` when
/// it is better read as a stream (small, compressed, an archive, a metric dump).
pub(crate) fn read_chunked(
    path: &Path,
    display: &str,
    classifier: &Classifier,
    opts: &IngestOptions,
) -> Option<FileResult> {
    let threads = rayon::current_num_threads();
    let len = std::fs::metadata(path).ok()?.len();
    if threads < 2 || len < opts.chunk_min.max(1) {
        return None;
    }
    let mut head = [0u8; 4096];
    let n = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let head = &head[..n];
    let archive = n >= 262 && &head[257..262] == b"ustar" || head.starts_with(b"PK");
    if crate::source::Compression::sniff(head).is_some()
        || archive
        || crate::parse::metric::sniff(path.to_str().unwrap_or(""), head).is_some()
    {
        return None;
    }
    let cuts = cuts(path, len, threads * 4).ok()?;
    let meta = SourceMeta {
        display: Arc::from(display),
        logical_path: display.to_string(),
        compression: Vec::new(),
    };
    let parts: Vec<std::io::Result<(FileResult, u64)>> = cuts
        .windows(2)
        .enumerate()
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|(k, w)| {
            let mut f = std::fs::File::open(path)?;
            f.seek(SeekFrom::Start(w[0]))?;
            let mut r = BufReader::with_capacity(256 * 1024, f.take(w[1] - w[0]));
            Ok(parse_part(&mut r, k, &meta, classifier, opts))
        })
        .collect();
    // An I/O error: fall back to one pass, which reports it.
    let parts: Vec<(FileResult, u64)> = parts.into_iter().collect::<std::io::Result<_>>().ok()?;
    stitch_all(parts, opts).map(|(fr, _)| fr)
}

/// Parses one part of a file (`k` > 0: not its beginning); with its line count.
fn parse_part(
    reader: &mut dyn BufRead,
    k: usize,
    meta: &SourceMeta,
    classifier: &Classifier,
    opts: &IngestOptions,
) -> (FileResult, u64) {
    let mut sink = EventSink::new(meta.display.clone(), classifier, opts);
    let acc = parse_stream_from(reader, &opts.log, &mut sink, k > 0);
    let lines = acc.lines_read;
    (sink.finish(meta.clone(), acc), lines)
}

/// Stitches parts in order (line numbers continue) into one result, without
/// spare capacity; with the total line count.
fn stitch_all(parts: Vec<(FileResult, u64)>, opts: &IngestOptions) -> Option<(FileResult, u64)> {
    let mut merged: Option<FileResult> = None;
    let mut line_offset = 0u64;
    for (mut fr, lines) in parts {
        shift_lines(&mut fr, line_offset);
        line_offset += lines;
        merged = Some(match merged {
            None => fr,
            Some(m) => stitch(m, fr, opts.coalesce.as_ref()),
        });
    }
    let mut m = merged?;
    m.events.shrink_to_fit();
    Some((m, line_offset))
}

pub(super) fn shift_lines(fr: &mut FileResult, by: u64) {
    if by == 0 {
        return;
    }
    for (e, _) in &mut fr.events {
        e.loc.line += by;
    }
    for (l, _) in &mut fr.account.unparsed_samples {
        *l += by;
    }
}

fn add_account(a: &mut FileAccount, b: FileAccount) {
    a.lines_read += b.lines_read;
    a.parsed += b.parsed;
    a.continuation += b.continuation;
    a.unparsed += b.unparsed;
    a.truncated += b.truncated;
    a.bytes += b.bytes;
    a.untimed += b.untimed;
    for (k, v) in b.formats {
        *a.formats.entry(k).or_insert(0) += v;
    }
    let room = 20usize.saturating_sub(a.unparsed_samples.len());
    a.unparsed_samples
        .extend(b.unparsed_samples.into_iter().take(room));
    if a.error.is_none() {
        a.error = b.error;
    }
}

fn merge_segment(into: &mut Segment, from: Segment) {
    if into.name.is_none() {
        into.name = from.name;
    }
    let (a, b) = (&mut into.stats, from.stats);
    a.records += b.records;
    for (x, y) in a.levels.iter_mut().zip(b.levels) {
        *x += y;
    }
    a.first = a.first.min(b.first).or(a.first).or(b.first);
    a.last = a.last.max(b.last);
    if a.by_template.len() < b.by_template.len() {
        a.by_template
            .resize(b.by_template.len(), Default::default());
    }
    for (x, y) in a.by_template.iter_mut().zip(b.by_template) {
        x.count += y.count;
        x.classified |= y.classified;
        x.max_level = x.max_level.max(y.max_level);
    }
    for (k, y) in b.unmatched {
        let x = a.unmatched.entry(k).or_default();
        x.count += y.count;
        x.classified |= y.classified;
        x.max_level = x.max_level.max(y.max_level);
    }
    a.starts += b.starts;
    for v in b.versions {
        if !a.versions.contains(&v) {
            a.versions.push(v);
        }
    }
    for (sec, (w, e)) in b.activity {
        let c = a.activity.entry(sec).or_default();
        c.0 += w;
        c.1 += e;
    }
}

/// Appends chunk `b`'s events to `a`, deciding at the seam what one pass
/// would have: b's first heartbeat of a segment is dropped when `a` kept one in
/// the same second, and b's first event of a (segment, kind) joins a's open
/// group when it could have been counted there.
fn join_edges(
    a: &mut FileResult,
    events: Vec<(Event, usize)>,
    edges: Edges,
    map: &[usize],
    coalesce: Option<&CoalescePolicy>,
) {
    // b's event index → Some(a's event it is counted in) or None (dropped).
    let mut fold: HashMap<usize, Option<usize>> = HashMap::new();
    for h in &edges.heads {
        let seg = map[h.seg];
        let g = &h.group;
        match &h.kind {
            None => {
                if a.edges.heartbeat.get(seg) == Some(&g.sec) {
                    fold.insert(g.idx, None);
                }
            }
            Some(kind) => {
                if let Some(open) = a.edges.tail.get(&(seg, KindId::of(kind)))
                    && open.sec == g.sec
                    && open.level == g.level
                    && open.key == g.key
                {
                    fold.insert(g.idx, Some(open.idx));
                }
            }
        }
    }
    let mut new_idx = Vec::with_capacity(events.len());
    a.events.reserve(events.len());
    for (i, (e, seg)) in events.into_iter().enumerate() {
        match fold.get(&i) {
            Some(Some(into)) => {
                let distinct = coalesce.map_or(&[][..], |c| c.0.distinct_fields(&e.kind));
                a.events[*into].0.absorb(&e, distinct);
                new_idx.push(*into);
            }
            Some(None) => new_idx.push(usize::MAX),
            None => {
                new_idx.push(a.events.len());
                a.events.push((e, map[seg]));
            }
        }
    }
    for ((seg, kind), mut g) in edges.tail {
        g.idx = new_idx[g.idx];
        a.edges.tail.insert((map[seg], kind), g);
    }
    for (seg, sec) in edges.heartbeat.into_iter().enumerate() {
        if sec != NO_HEARTBEAT {
            let to = map[seg];
            if a.edges.heartbeat.len() <= to {
                a.edges.heartbeat.resize(to + 1, NO_HEARTBEAT);
            }
            a.edges.heartbeat[to] = sec;
        }
    }
}

/// Appends chunk `b` to the stitched result `a`.
pub(super) fn stitch(
    mut a: FileResult,
    b: FileResult,
    coalesce: Option<&CoalescePolicy>,
) -> FileResult {
    // Where each of b's segments goes in a.
    let mut map = Vec::with_capacity(b.segments.len());
    let mut first_of_key: Vec<Option<String>> = Vec::new();
    for seg in b.segments {
        let first = !first_of_key.contains(&seg.key);
        if first {
            first_of_key.push(seg.key.clone());
        }
        let target = if first && !seg.opened_by_start {
            a.segments.iter().rposition(|s| s.key == seg.key)
        } else {
            None
        };
        match target {
            Some(t) => {
                merge_segment(&mut a.segments[t], seg);
                map.push(t);
            }
            None => {
                a.segments.push(seg);
                map.push(a.segments.len() - 1);
            }
        }
    }
    join_edges(&mut a, b.events, b.edges, &map, coalesce);
    for (id, seg) in b.node_ids {
        a.node_ids.push((id, map[seg]));
    }
    add_account(&mut a.account, b.account);
    a
}

/// Largest block a stream is cut into (smaller when `chunk_min` is).
pub const MAX_BLOCK: usize = 8 << 20;

/// Where to cut `buf` (a block read from a stream) so that the block ends
/// a line: after the last newline, preferring one before a `[` near the end.
fn block_cut(buf: &[u8]) -> Option<usize> {
    let tail = buf.len().saturating_sub(64 * 1024);
    memchr::memmem::rfind(&buf[tail..], b"\n[")
        .map(|p| tail + p + 1)
        .or_else(|| memchr::memrchr(b'\n', buf).map(|p| p + 1))
}

/// Reads a log stream (a compressed file, an archive member): this thread
/// reads (and decompresses) blocks cut at line ends while rayon's workers
/// parse the blocks already read; the results are stitched as one pass would
/// have made them. A stream shorter than one block, or with a block holding
/// no newline, is read in one pass (from there on), as is every stream
/// without a second thread.
pub(crate) fn read_stream(
    meta: &SourceMeta,
    reader: &mut dyn BufRead,
    classifier: &Classifier,
    opts: &IngestOptions,
) -> FileResult {
    let threads = rayon::current_num_threads();
    let block = (opts.chunk_min.min(MAX_BLOCK as u64) as usize).max(1);
    let one_pass =
        |reader: &mut dyn BufRead, k: usize| parse_part(reader, k, meta, classifier, opts);
    if threads < 2 {
        return one_pass(reader, 0).0;
    }
    let done: std::sync::Mutex<Vec<(usize, (FileResult, u64))>> = Default::default();
    let in_flight = std::sync::atomic::AtomicUsize::new(0);
    let limit = 2 * threads;
    let mut error: Option<std::io::Error> = None;
    let mut tail: Option<(usize, (FileResult, u64))> = None;
    rayon::in_place_scope(|s| {
        let mut carry: Vec<u8> = Vec::new();
        let mut k = 0usize;
        loop {
            // Fill a block: what was left after the last cut, then the stream.
            // Made at its full size at once: grown by doubling, each block would
            // leave the smaller sizes it passed through behind in the allocator.
            let mut buf = Vec::with_capacity(block.max(carry.len()));
            buf.append(&mut carry);
            let mut eof = false;
            while buf.len() < block {
                let avail = match reader.fill_buf() {
                    Ok(a) => a,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        error = Some(e);
                        eof = true;
                        break;
                    }
                };
                if avail.is_empty() {
                    eof = true;
                    break;
                }
                let n = avail.len().min(block - buf.len());
                buf.extend_from_slice(&avail[..n]);
                reader.consume(n);
            }
            if k == 0 && eof && error.is_none() {
                // Shorter than a block: one pass, as before.
                tail = Some((0, one_pass(&mut &buf[..], 0)));
                return;
            }
            let cut = if eof {
                Some(buf.len())
            } else {
                block_cut(&buf)
            };
            let Some(cut) = cut else {
                // No line end in a whole block (a huge line): the rest in one pass.
                let mut rest = std::io::Cursor::new(buf).chain(&mut *reader);
                let mut rest = BufReader::with_capacity(256 * 1024, &mut rest);
                tail = Some((k, one_pass(&mut rest, k)));
                return;
            };
            carry = buf.split_off(cut);
            if eof {
                // The last block, parsed here; a read error is added below.
                tail = Some((k, one_pass(&mut &buf[..], k)));
                return;
            }
            while in_flight.load(std::sync::atomic::Ordering::Acquire) >= limit {
                // Help with the parsing rather than read further ahead.
                if rayon::yield_now() != Some(rayon::Yield::Executed) {
                    std::thread::yield_now();
                }
            }
            in_flight.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            let (done, in_flight) = (&done, &in_flight);
            s.spawn(move |_| {
                let r = parse_part(&mut &buf[..], k, meta, classifier, opts);
                done.lock().unwrap_or_else(|e| e.into_inner()).push((k, r));
                in_flight.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
            });
            k += 1;
        }
    });
    let mut parts = done.into_inner().unwrap_or_else(|e| e.into_inner());
    parts.extend(tail);
    parts.sort_by_key(|(k, _)| *k);
    let parts = parts.into_iter().map(|(_, p)| p).collect();
    let (mut fr, line_offset) =
        stitch_all(parts, opts).unwrap_or_else(|| one_pass(&mut std::io::empty(), 0));
    if let Some(e) = error {
        // As a one-pass read reports it: after the last (partial) line.
        fr.account.error = Some(format!("read error after line {line_offset}: {e}"));
    }
    fr
}
