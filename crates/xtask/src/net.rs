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

/// Waits up to 20 s for `child`, just started to listen at `addr`, to accept connections there.
///
/// False as soon as the child has exited: a service that could not bind `addr` (somebody else
/// took the port between `free_port` and its start) must not be taken for listening because the
/// other listener answers. A child that exits right after a first connection (its bind failed
/// while the other listener accepted) is caught by looking once more a moment later.
fn wait_listening(addr: &str, child: &mut Child) -> bool {
    let start = Instant::now();
    let exited = |child: &mut Child| !matches!(child.try_wait(), Ok(None));
    loop {
        if exited(child) {
            return false;
        }
        if TcpStream::connect(addr).is_ok() {
            std::thread::sleep(Duration::from_millis(100));
            return !exited(child);
        }
        if start.elapsed() > Duration::from_secs(20) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Child processes killed (and reaped) when this is dropped, whatever the step did.
#[derive(Default)]
pub struct Children(pub Vec<Child>);

impl Children {
    /// Holds `child`, a service just started to listen at `addr` (killed on drop from now on,
    /// whatever happens next), and waits for it to listen there ([`wait_listening`]).
    pub fn hold_listening(&mut self, child: Child, addr: &str) -> bool {
        self.0.push(child);
        match self.0.last_mut() {
            Some(child) => wait_listening(addr, child),
            None => false,
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn some_listener() -> (TcpListener, String) {
        let l = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = l.local_addr().expect("its address").to_string();
        (l, addr)
    }

    #[test]
    fn a_child_that_has_exited_is_not_listening_though_another_listener_answers() {
        let (_other, addr) = some_listener();
        let mut child = Command::new("true").spawn().expect("true");
        let _ = child.wait(); // it ran and ended, as a service does when its bind fails
        assert!(!wait_listening(&addr, &mut child));
    }

    #[test]
    fn a_running_child_with_something_accepting_at_its_address_is_listening() {
        let (_listener, addr) = some_listener();
        let mut child = Command::new("sleep").arg("30").spawn().expect("sleep");
        let listening = wait_listening(&addr, &mut child);
        let _ = child.kill();
        let _ = child.wait();
        assert!(listening);
    }
}
