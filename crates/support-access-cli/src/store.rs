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

use support_access_core::{Error, Policy, Replayer};

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

#[cfg(unix)]
fn unlock(file: &File) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: as in `lock`.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn unlock(_file: &File) -> std::io::Result<()> {
    Ok(())
}

/// Whether `path` still names the file behind `file` (not replaced by a rename since).
#[cfg(unix)]
fn same_file(path: &Path, file: &File) -> std::io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let (a, b) = (std::fs::metadata(path)?, file.metadata()?);
    Ok(a.dev() == b.dev() && a.ino() == b.ino())
}

#[cfg(not(unix))]
fn same_file(_path: &Path, _file: &File) -> std::io::Result<bool> {
    Ok(true)
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(not(unix))]
fn read_at(mut file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)
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

    /// Releases the file lock; [`Store::relock`] takes it again. A long-running writer
    /// (`support-access apply` reading commands from stdin) holds the lock only while it
    /// handles a command, so other processes interleave with it.
    pub fn unlock(&self) -> Result<(), Fail> {
        unlock(&self.file).map_err(|e| Fail::record_io(&self.path, "unlock", e))
    }

    /// Takes the lock again (exclusively when `write`) and catches up with what other
    /// processes appended meanwhile: only the new bytes are read, and each new line is checked
    /// by the core's streaming replayer exactly as a full replay would check it. A file that
    /// shrank, was replaced, or whose new bytes do not verify is refused. Returns how many
    /// events were added.
    pub fn relock(&mut self, write: bool) -> Result<usize, Fail> {
        lock(&self.file, write).map_err(|e| Fail::record_io(&self.path, "lock", e))?;
        let last_seq = self.policy.record().len() as u64;
        let changed = |detail: String| {
            Fail::tampered(
                &self.path,
                Error::RecordTampered {
                    seq: last_seq,
                    detail,
                },
            )
        };
        match same_file(&self.path, &self.file) {
            Ok(true) => {}
            Ok(false) => {
                return Err(changed(String::from(
                    "the record file was replaced by another file while this process had it open",
                )))
            }
            Err(e) => return Err(Fail::record_io(&self.path, "stat", e)),
        }
        let size = self
            .file
            .metadata()
            .map_err(|e| Fail::record_io(&self.path, "stat", e))?
            .len();
        if size < self.len {
            return Err(changed(format!(
                "the record file shrank from {} to {size} bytes while this process had it open",
                self.len
            )));
        }
        if size == self.len {
            return Ok(0);
        }
        let mut bytes = vec![0; (size - self.len) as usize];
        read_at(&self.file, &mut bytes, self.len)
            .map_err(|e| Fail::record_io(&self.path, "read", e))?;
        let new = if self.ends_with_newline {
            &bytes[..]
        } else {
            // Another writer completes a last line that lacked its newline before appending.
            match bytes.strip_prefix(b"\n") {
                Some(rest) => rest,
                None => {
                    return Err(changed(String::from(
                        "bytes were added to the end of the last event",
                    )))
                }
            }
        };
        let text = std::str::from_utf8(new).map_err(|e| {
            let seq = last_seq + seq_at(new, e.valid_up_to());
            Fail::tampered(
                &self.path,
                Error::RecordTampered {
                    seq,
                    detail: String::from("the line is not UTF-8"),
                },
            )
        })?;
        let placeholder =
            Policy::new(support_access_core::PolicyOptions::new("-")).map_err(Fail::policy)?;
        let mut r = Replayer::resume(std::mem::replace(&mut self.policy, placeholder));
        for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
            r.feed(line).map_err(|e| Fail::tampered(&self.path, e))?;
        }
        self.policy = r.finish().map_err(|e| Fail::tampered(&self.path, e))?;
        let added = self.policy.record().len() - self.base_events;
        self.len = size;
        self.ends_with_newline = bytes.last() == Some(&b'\n');
        self.base_events = self.policy.record().len();
        Ok(added)
    }

    /// Appends the events recorded since `open` in one write, then fsyncs. Returns how many.
    pub fn commit(&mut self) -> Result<usize, Fail> {
        // By index: skipping through `lines()` would walk the whole record on every commit,
        // which a long-running `apply` stream pays once per command.
        let record = self.policy.record();
        let new: Vec<&str> = (self.base_events..record.len())
            .filter_map(|i| record.line(i))
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
