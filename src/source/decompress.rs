//! Compression layers, recognised by magic bytes.

use std::io::{self, Read};

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Compression {
    Gzip,
    Zstd,
    Bzip2,
    Xz,
}

impl Compression {
    pub fn sniff(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else if head.starts_with(b"BZh") && head.len() > 3 && head[3].is_ascii_digit() {
            Some(Compression::Bzip2)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Some(Compression::Xz)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
        }
    }

    /// Wraps `r` in the matching decoder.
    pub fn decoder<'a>(self, r: Box<dyn Read + 'a>) -> io::Result<Box<dyn Read + 'a>> {
        Ok(match self {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(r)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(r)?),
            Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(r)),
            Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(r)),
        })
    }
}

/// Counts bytes read through it (the compressed side of a decoder).
pub(crate) struct Counted<R> {
    pub inner: R,
    pub count: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Fails when the decompressed side outgrows the compressed side by more
/// than `max_ratio` (after a 16 MiB grace), which stops decompression bombs.
pub(crate) struct RatioGuard<R> {
    pub inner: R,
    pub compressed: std::rc::Rc<std::cell::Cell<u64>>,
    pub out: u64,
    pub max_ratio: u64,
}

impl<R: Read> Read for RatioGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        let c = self.compressed.get().max(1);
        if self.out > (16 << 20) && self.out / c > self.max_ratio {
            return Err(io::Error::other(format!(
                "decompression ratio above {}:1 ({} bytes from {} compressed): refusing a possible archive bomb (raise with --max-ratio)",
                self.max_ratio, self.out, c
            )));
        }
        Ok(n)
    }
}
