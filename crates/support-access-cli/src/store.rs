//! The record file: read and replay it under a file lock, append only the new events.
//!
//! Guarantees:
//! - a reader takes a shared lock, a writer an exclusive one, held from the read through the
//!   append, so two writers are serialised and each sees the other's events;
//! - the file is replayed by the core before anything happens; a truncated or tampered file is
//!   refused (exit 4) and never written to;
//! - new events are appended in one `write` on a file opened for appending, then fsynced; if the
//!   write fails half way the file is cut back to its old length;
//! - `init` writes the first event to a temporary file, fsyncs it and links it into place only
//!   if no record exists there (never overwriting one).

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use support_access_core::{Error, Policy};

use crate::fail::Fail;

/// An open, locked, verified record.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    file: File,
    len: u64,
    ends_with_newline: bool,
    base_events: usize,
    pub policy: Policy,
}

#[cfg(unix)]
fn lock(file: &File, exclusive: bool) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let op = if exclusive {
        libc::LOCK_EX
    } else {
        libc::LOCK_SH
    };
    loop {
        // SAFETY: flock on a file descriptor we own for the duration of the call.
        let rc = unsafe { libc::flock(file.as_raw_fd(), op) };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(not(unix))]
fn lock(_file: &File, _exclusive: bool) -> std::io::Result<()> {
    Ok(())
}

/// The seq of the line holding byte `offset` (1-based).
fn seq_at(bytes: &[u8], offset: usize) -> u64 {
    bytes[..offset].iter().filter(|b| **b == b'\n').count() as u64 + 1
}

impl Store {
    /// Opens the record, locks it (exclusively when `write`), reads and replays it.
    pub fn open(path: &Path, write: bool) -> Result<Store, Fail> {
        let file = OpenOptions::new().read(true).append(write).open(path).map_err(|e| {
            let f = Fail::record_io(path, "open", &e);
            if e.kind() == ErrorKind::NotFound {
                f.hint("create one with `support-access init --org ID`, or choose another with --record PATH")
            } else {
                f
            }
        })?;
        lock(&file, write).map_err(|e| Fail::record_io(path, "lock", e))?;
        let mut bytes = Vec::new();
        (&file)
            .read_to_end(&mut bytes)
            .map_err(|e| Fail::record_io(path, "read", e))?;
        let text = match std::str::from_utf8(&bytes) {
            Ok(t) => t,
            Err(e) => {
                let seq = seq_at(&bytes, e.valid_up_to());
                let err = Error::RecordTampered {
                    seq,
                    detail: String::from("the line is not UTF-8"),
                };
                return Err(Fail::tampered(path, err));
            }
        };
        let policy = Policy::replay(text).map_err(|e| Fail::tampered(path, e))?;
        Ok(Store {
            path: path.to_path_buf(),
            len: bytes.len() as u64,
            ends_with_newline: bytes.last() == Some(&b'\n'),
            base_events: policy.record().len(),
            file,
            policy,
        })
    }

    /// Appends the events recorded since `open` in one write, then fsyncs. Returns how many.
    pub fn commit(&mut self) -> Result<usize, Fail> {
        let new: Vec<&str> = self
            .policy
            .record()
            .lines()
            .skip(self.base_events)
            .collect();
        if new.is_empty() {
            return Ok(0);
        }
        let mut buf = String::with_capacity(new.iter().map(|l| l.len() + 1).sum::<usize>() + 1);
        if !self.ends_with_newline {
            // The last event was complete (replay accepted it) but its newline is missing.
            buf.push('\n');
        }
        for l in &new {
            buf.push_str(l);
            buf.push('\n');
        }
        if let Err(e) = (&self.file).write_all(buf.as_bytes()) {
            // Never leave half an event behind: cut the file back to what it was.
            let _ = self.file.set_len(self.len);
            let _ = self.file.sync_all();
            return Err(Fail::record_io(&self.path, "append to", e));
        }
        self.file
            .sync_data()
            .map_err(|e| Fail::record_io(&self.path, "fsync", e))?;
        self.len += buf.len() as u64;
        self.ends_with_newline = true;
        self.base_events = self.policy.record().len();
        Ok(new.len())
    }

    /// Creates a new record holding `policy`'s events; refuses to replace an existing file.
    pub fn create(path: &Path, policy: &Policy) -> Result<(), Fail> {
        if path.exists() {
            return Err(Fail::usage(format!(
                "record {} already exists; init only creates new records (choose another with --record PATH)",
                path.display()
            )));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".support-access-init-")
            .tempfile_in(&dir)
            .map_err(|e| Fail::record_io(path, "create", e))?;
        tmp.write_all(policy.export_record().as_bytes())
            .map_err(|e| Fail::record_io(path, "write", e))?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| Fail::record_io(path, "fsync", e))?;
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == ErrorKind::AlreadyExists {
                Fail::usage(format!(
                    "record {} already exists; init only creates new records",
                    path.display()
                ))
            } else {
                Fail::record_io(path, "create", e.error)
            }
        })?;
        #[cfg(unix)]
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}
