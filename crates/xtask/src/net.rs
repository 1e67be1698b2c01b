//! What the steps that start servers share: a free loopback port, waiting for a listener,
//! children that are killed however the step ends, and SHA-256 hex for token files.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A loopback port nobody listens on right now (`fallback` if none can be had).
pub fn free_port(fallback: u16) -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(fallback)
}

/// Waits up to 20 s for something to accept connections at `addr`.
pub fn wait_listening(addr: &str) -> bool {
    let start = Instant::now();
    while TcpStream::connect(addr).is_err() {
        if start.elapsed() > Duration::from_secs(20) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// Child processes killed (and reaped) when this is dropped, whatever the step did.
#[derive(Default)]
pub struct Children(pub Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Lowercase hex SHA-256 (xtask has no hashing crate; `sha256sum` is coreutils).
pub fn sha256_hex(text: &str) -> String {
    use std::io::Write;
    let Ok(mut c) = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    else {
        return String::new();
    };
    if let Some(mut stdin) = c.stdin.take() {
        let _ = stdin.write_all(text.as_bytes());
    }
    c.wait_with_output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_default()
}
