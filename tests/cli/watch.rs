//! `coroner watch` as a user runs it: a capture written into a folder piece
//! by piece while the binary watches it; Ctrl-C after the last piece. Every
//! finding `coroner findings` gives on the finished folder was printed, and
//! the verdict printed at the end is `analyze`'s.

use crate::common::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The VERDICT section of a text report (up to the next section).
fn verdict_section(text: &str) -> String {
    let from = text.find("VERDICT").expect("a VERDICT section");
    let rest = &text[from..];
    let end = rest.find("\n\n").unwrap_or(rest.len());
    rest[..end].trim_end().to_string()
}

#[test]
fn watch_prints_findings_as_they_fire_and_analyzes_verdict_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<_> = unpack_tar_gz(&root().join("samples/real/mqtt-storm.tar.gz"))
        .into_iter()
        .map(|(p, b)| (dir.path().join(p), b))
        .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_coroner"))
        .args(["watch", "--check-every", "100ms", "--duration", "120s"])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Ctrl-C is handled once it says it is watching.
    let stderr = child.stderr.take().unwrap();
    let (ready_tx, ready) = std::sync::mpsc::channel();
    let err_reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
            let line = line.unwrap_or_default();
            if line.contains("watching") {
                let _ = ready_tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    ready
        .recv_timeout(Duration::from_secs(60))
        .expect("watch starts");
    // Eight rounds: an eighth of every file each, cut anywhere.
    let rounds = 8;
    for k in 0..rounds {
        for (p, b) in &files {
            let n = b.len() / rounds;
            let piece = if k + 1 == rounds {
                &b[k * n..]
            } else {
                &b[k * n..(k + 1) * n]
            };
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .unwrap()
                .write_all(piece)
                .unwrap();
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    // Ctrl-C: the watch reads what is left and prints the verdict.
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = err_reader.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "high findings fired: exit 1\n{stdout}\n{stderr}"
    );
    let d = dir.path().to_str().unwrap();
    let findings = coroner(&["findings", d, "--min-severity", "medium"]);
    let findings = String::from_utf8_lossy(&findings.stdout);
    // A finding is printed once, when it fires; its message (durations,
    // counts) grows afterwards: compare start, node and rule.
    let identity = |l: &str| {
        let t: Vec<&str> = l.split_whitespace().collect();
        (t.len() > 5).then(|| format!("{} {} {} {}", t[0], t[1], t[3], t[5]))
    };
    let printed: Vec<String> = stdout.lines().filter_map(identity).collect();
    let mut n = 0;
    for line in findings.lines().filter(|l| !l.starts_with(' ')) {
        n += 1;
        let id = identity(line).unwrap();
        assert!(
            printed.contains(&id),
            "watch never printed `{line}`:\n{stdout}"
        );
    }
    assert!(n >= 5, "the storm gives findings: {findings}");
    let analyzed = coroner(&["analyze", d]);
    let analyzed = String::from_utf8_lossy(&analyzed.stdout);
    let at_end = &stdout[stdout
        .find("--- verdict at the end ---")
        .expect("a final verdict")..];
    assert_eq!(verdict_section(at_end), verdict_section(&analyzed));
}

#[test]
fn watch_refuses_stdin_and_collect_without_out() {
    let o = coroner(&["watch", "-"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("stdin"));
    let o = coroner(&["watch", "samples", "--collect", "http://127.0.0.1:1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("-o DIR"));
}
