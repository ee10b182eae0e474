//! The progress bar on stderr, drawn for the library's [`Progress`] observer:
//! only on a terminal and only for inputs big enough to take a while.

use coroner::ingest::Progress;
use std::io::IsTerminal;
use std::sync::Mutex;

/// Inputs smaller than this are read before a bar would be worth seeing.
const MIN_BYTES: u64 = 64 << 20;

#[derive(Default)]
pub struct Bar(Mutex<Option<indicatif::ProgressBar>>);

impl Progress for Bar {
    fn start(&self, files: usize, bytes: u64) {
        if bytes < MIN_BYTES || !std::io::stderr().is_terminal() {
            return;
        }
        let pb = indicatif::ProgressBar::new(files as u64);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} reading {pos}/{len} files {wide_bar} {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(pb);
    }

    fn file_done(&self) {
        if let Some(pb) = &*self.0.lock().unwrap_or_else(|e| e.into_inner()) {
            pb.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(pb) = self.0.lock().unwrap_or_else(|e| e.into_inner()).take() {
            pb.finish_and_clear();
        }
    }
}
