//! The HTTP(S) side of `collect`: one [`Client`] (ureq, rustls) shared by
//! every fetch thread. The only module that knows the HTTP crate.

use super::CollectError;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How to authenticate to the monitoring endpoints (e.g. behind a proxy).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Auth {
    #[default]
    None,
    /// HTTP basic authentication.
    Basic { user: String, password: String },
    /// `Authorization: Bearer TOKEN`.
    Token(String),
}

/// Client settings.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Per-request timeout (connect, send, headers and body together).
    pub timeout: Duration,
    pub auth: Auth,
    /// PEM file with the CA certificate(s) that sign the monitoring endpoints' certificates.
    pub ca_file: Option<PathBuf>,
    /// Largest response body read (bytes); larger answers are recorded as an error.
    pub max_body: u64,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_millis(800),
            auth: Auth::None,
            ca_file: None,
            max_body: 64 * 1024 * 1024,
        }
    }
}

/// What one GET produced.
#[derive(Clone, Debug)]
pub struct Answer {
    /// Time the request took, until the body was read or the error seen.
    pub elapsed: Duration,
    /// `Ok((status, body))` or the error in words (timeout, refused, TLS, ...).
    pub result: Result<(u16, Vec<u8>), String>,
}

/// A blocking HTTP(S) client shared by every fetch thread.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    auth_header: Option<String>,
    max_body: u64,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("timeout", &self.timeout)
            .field("max_body", &self.max_body)
            .field("auth", &self.auth_header.is_some())
            .finish()
    }
}

impl Client {
    pub fn new(opts: &HttpOptions) -> Result<Client, CollectError> {
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(ca) = &opts.ca_file {
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&read_ca(ca)?));
        }
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(opts.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("coroner/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls.build())
            .build();
        let auth_header = match &opts.auth {
            Auth::None => None,
            Auth::Basic { user, password } => Some(format!(
                "Basic {}",
                base64(format!("{user}:{password}").as_bytes())
            )),
            Auth::Token(t) => Some(format!("Bearer {t}")),
        };
        Ok(Client {
            agent: config.into(),
            auth_header,
            max_body: opts.max_body,
            timeout: opts.timeout,
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// One GET; never panics, never takes longer than the timeout (plus scheduling).
    pub fn get(&self, url: &str) -> Answer {
        let t0 = Instant::now();
        let mut req = self.agent.get(url);
        if let Some(h) = &self.auth_header {
            req = req.header("Authorization", h);
        }
        let result = match req.call() {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let mut body = resp.into_body();
                match body.with_config().limit(self.max_body).read_to_vec() {
                    Ok(b) => Ok((status, b)),
                    Err(e) => Err(describe(&e, self.timeout)),
                }
            }
            Err(e) => Err(describe(&e, self.timeout)),
        };
        Answer {
            elapsed: t0.elapsed(),
            result,
        }
    }
}

/// The error in the words an operator expects (`timeout after 800ms`, `connection refused`).
fn describe(e: &ureq::Error, timeout: Duration) -> String {
    match e {
        ureq::Error::Timeout(_) => format!("timeout after {}ms", timeout.as_millis()),
        ureq::Error::BodyExceedsLimit(n) => format!("answer larger than {n} bytes (--max-body)"),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused".to_string()
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            format!("timeout after {}ms", timeout.as_millis())
        }
        ureq::Error::Io(io) => format!("i/o error: {io}"),
        other => other.to_string(),
    }
}

fn read_ca(path: &Path) -> Result<Vec<ureq::tls::Certificate<'static>>, CollectError> {
    let bad = |message: String| CollectError::CaFile {
        path: path.to_path_buf(),
        message,
    };
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => return Err(bad(e.to_string())),
        }
    }
    if certs.is_empty() {
        return Err(bad("no PEM certificate in the file".into()));
    }
    Ok(certs)
}

/// Standard base64 (RFC 4648, padded), for the basic auth header.
fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if c.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn bad_ca_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ca.pem");
        std::fs::write(&p, "not a certificate").unwrap();
        let e = Client::new(&HttpOptions {
            ca_file: Some(p.clone()),
            ..HttpOptions::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("ca.pem"), "{e}");
        let missing = dir.path().join("missing.pem");
        let e = Client::new(&HttpOptions {
            ca_file: Some(missing),
            ..HttpOptions::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("missing.pem"), "{e}");
    }

    /// The Authorization header each auth option sends (a proxy in front of
    /// the monitoring port checks it): one request read off a plain socket.
    #[test]
    fn auth_headers_are_sent() {
        use std::io::{BufRead, Write};
        for (auth, want) in [
            (
                Auth::Basic {
                    user: "ops".into(),
                    password: "s3cret".into(),
                },
                "authorization: Basic b3BzOnMzY3JldA==",
            ),
            (Auth::Token("tok".into()), "authorization: Bearer tok"),
        ] {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = l.local_addr().unwrap().port();
            let h = std::thread::spawn(move || {
                let (s, _) = l.accept().unwrap();
                let mut r = std::io::BufReader::new(s.try_clone().unwrap());
                let mut headers = Vec::new();
                loop {
                    let mut line = String::new();
                    r.read_line(&mut line).unwrap();
                    if line.trim().is_empty() {
                        break;
                    }
                    headers.push(line.trim().to_ascii_lowercase());
                }
                let mut w = s;
                w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
                    .unwrap();
                headers
            });
            let c = Client::new(&HttpOptions {
                auth,
                ..HttpOptions::default()
            })
            .unwrap();
            let a = c.get(&format!("http://127.0.0.1:{port}/varz"));
            assert_eq!(a.result.unwrap(), (200, b"{}".to_vec()));
            let headers = h.join().unwrap();
            assert!(
                headers.iter().any(|x| x == &want.to_ascii_lowercase()),
                "{headers:?}"
            );
        }
    }

    #[test]
    fn refused_connection_is_an_answer_not_a_panic() {
        // A port that nothing listens on: bind, learn the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = Client::new(&HttpOptions::default()).unwrap();
        let a = c.get(&format!("http://127.0.0.1:{port}/varz"));
        let err = a.result.unwrap_err();
        assert!(err.contains("refused"), "{err}");
    }
}
