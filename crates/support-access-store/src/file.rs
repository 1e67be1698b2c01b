//! The file backend: one organization's record as a local JSON Lines file.
//!
//! Guarantees:
//! - readers take a shared `flock`, an append an exclusive one; an append is compare-and-set
//!   on the file's length: it writes only if the file still ends where this process last read
//!   it (otherwise another writer appended, and the caller catches up and tries again);
//! - new events are written in one `write` on a file opened for appending, then fsynced; if the
//!   write fails half way the file is cut back to its old length;
//! - a file that shrank, was replaced (renamed over) or grew by bytes that do not verify is
//!   refused and never written to;
//! - `create` writes the first event to a temporary file, fsyncs it and links it into place only
//!   if no record exists there (never overwriting one).

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support_access_core::{Error, Policy};

use crate::error::StoreError;

/// An open record file and how far this process has read (and verified) it.
#[derive(Debug)]
pub(crate) struct FileBackend {
    path: PathBuf,
    file: File,
    /// Bytes verified so far: the file is expected to be at least this long.
    len: u64,
    ends_with_newline: bool,
}

/// Where a file ends after a batch of new lines: its length and whether it ends with a
/// newline. The read position moves there only once the caller has verified the batch
/// ([`FileBackend::advance`]).
pub(crate) type FileEnd = (u64, bool);

#[cfg(unix)]
fn flock(file: &File, op: libc::c_int) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    loop {
        // SAFETY: flock on a file descriptor we own for the duration of the call.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(not(unix))]
fn flock(_file: &File, _op: i32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
const SHARED: libc::c_int = libc::LOCK_SH;
#[cfg(unix)]
const EXCLUSIVE: libc::c_int = libc::LOCK_EX;
#[cfg(unix)]
const UNLOCK: libc::c_int = libc::LOCK_UN;
#[cfg(not(unix))]
const SHARED: i32 = 0;
#[cfg(not(unix))]
const EXCLUSIVE: i32 = 0;
#[cfg(not(unix))]
const UNLOCK: i32 = 0;

/// Holds a lock for as long as it lives: every early return unlocks.
struct Locked<'a>(&'a File);

impl<'a> Locked<'a> {
    fn take(file: &'a File, op: i32) -> std::io::Result<Locked<'a>> {
        flock(file, op)?;
        Ok(Locked(file))
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        let _ = flock(self.0, UNLOCK);
    }
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

fn not_utf8(seq: u64) -> Error {
    Error::RecordTampered {
        seq,
        detail: String::from("the line is not UTF-8"),
    }
}

impl FileBackend {
    pub(crate) fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn io(&self, what: &'static str, e: impl std::fmt::Display) -> StoreError {
        StoreError::Io {
            store: self.name(),
            what,
            detail: e.to_string(),
        }
    }

    fn tampered(&self, error: Error) -> StoreError {
        StoreError::Tampered {
            store: self.name(),
            error,
        }
    }

    /// Opens the record and replays it under a shared lock.
    pub(crate) fn open(path: &Path) -> Result<(FileBackend, Policy), StoreError> {
        let io = |what, e: std::io::Error| StoreError::Io {
            store: path.display().to_string(),
            what,
            detail: e.to_string(),
        };
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(path)
            .or_else(|e| match e.kind() {
                // A record one may read but not write still answers questions.
                ErrorKind::PermissionDenied => OpenOptions::new().read(true).open(path),
                _ => Err(e),
            })
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => StoreError::NotFound {
                    store: path.display().to_string(),
                    what: String::from("a record (no such file)"),
                },
                _ => io("open", e),
            })?;
        let mut bytes = Vec::new();
        {
            let _lock = Locked::take(&file, SHARED).map_err(|e| io("lock", e))?;
            (&file).read_to_end(&mut bytes).map_err(|e| io("read", e))?;
        }
        let mut backend = FileBackend {
            path: path.to_path_buf(),
            file,
            len: bytes.len() as u64,
            ends_with_newline: bytes.last() == Some(&b'\n'),
        };
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| backend.tampered(not_utf8(seq_at(&bytes, e.valid_up_to()))))?;
        let policy = Policy::replay(text).map_err(|e| backend.tampered(e))?;
        backend.len = bytes.len() as u64;
        Ok((backend, policy))
    }

    /// Reads what other writers appended since this process last read (`last_seq` events).
    pub(crate) fn fetch(&self, last_seq: u64) -> Result<(Vec<String>, FileEnd), StoreError> {
        let _lock = Locked::take(&self.file, SHARED).map_err(|e| self.io("lock", e))?;
        let changed = |detail: String| {
            self.tampered(Error::RecordTampered {
                seq: last_seq,
                detail,
            })
        };
        match same_file(&self.path, &self.file) {
            Ok(true) => {}
            Ok(false) => {
                return Err(changed(String::from(
                    "the record file was replaced by another file while this process had it open",
                )))
            }
            Err(e) => return Err(self.io("stat", e)),
        }
        let size = self.file.metadata().map_err(|e| self.io("stat", e))?.len();
        if size < self.len {
            return Err(changed(format!(
                "the record file shrank from {} to {size} bytes while this process had it open",
                self.len
            )));
        }
        if size == self.len {
            return Ok((Vec::new(), (self.len, self.ends_with_newline)));
        }
        let mut bytes = vec![0; (size - self.len) as usize];
        read_at(&self.file, &mut bytes, self.len).map_err(|e| self.io("read", e))?;
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
        let text = std::str::from_utf8(new)
            .map_err(|e| self.tampered(not_utf8(last_seq + seq_at(new, e.valid_up_to()))))?;
        let lines = text
            .strip_suffix('\n')
            .unwrap_or(text)
            .split('\n')
            .map(String::from)
            .collect();
        Ok((lines, (size, bytes.last() == Some(&b'\n'))))
    }

    /// Moves the read position past a batch the caller verified.
    pub(crate) fn advance(&mut self, end: FileEnd) {
        (self.len, self.ends_with_newline) = end;
    }

    /// Appends `lines` if the file still ends where this process last read it. `Ok(false)`:
    /// another writer appended first (nothing was written).
    pub(crate) fn append(&mut self, lines: &[&str]) -> Result<bool, StoreError> {
        let _lock = Locked::take(&self.file, EXCLUSIVE).map_err(|e| self.io("lock", e))?;
        if !same_file(&self.path, &self.file).map_err(|e| self.io("stat", e))? {
            return Err(self.tampered(Error::RecordTampered {
                seq: 0,
                detail: String::from(
                    "the record file was replaced by another file while this process had it open",
                ),
            }));
        }
        let size = self.file.metadata().map_err(|e| self.io("stat", e))?.len();
        if size != self.len {
            return Ok(false);
        }
        let mut buf = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum::<usize>() + 1);
        if !self.ends_with_newline {
            // The last event was complete (replay accepted it) but its newline is missing.
            buf.push('\n');
        }
        for l in lines {
            buf.push_str(l);
            buf.push('\n');
        }
        if let Err(e) = (&self.file).write_all(buf.as_bytes()) {
            // Never leave half an event behind: cut the file back to what it was.
            let _ = self.file.set_len(self.len);
            let _ = self.file.sync_all();
            return Err(self.io("append to", e));
        }
        self.file.sync_data().map_err(|e| self.io("fsync", e))?;
        self.len += buf.len() as u64;
        self.ends_with_newline = true;
        Ok(true)
    }

    /// Waits until the file grows past what this process read, or `timeout` passes; polls the
    /// file's length (a `stat`) every `poll`. Returns whether it changed.
    pub(crate) fn wait(&self, timeout: Duration, poll: Duration) -> Result<bool, StoreError> {
        let deadline = Instant::now() + timeout;
        loop {
            let size = self.file.metadata().map_err(|e| self.io("stat", e))?.len();
            if size != self.len {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            std::thread::sleep(poll.min(deadline.saturating_duration_since(Instant::now())));
        }
    }

    /// Creates a new record holding `lines` (the genesis first), written whole to a temporary
    /// file and linked into place: all there or not at all; refuses to replace a file.
    pub(crate) fn create(path: &Path, lines: &[&str]) -> Result<(), StoreError> {
        let exists = || StoreError::AlreadyExists {
            what: format!("record {}", path.display()),
        };
        let io = |what, e: std::io::Error| StoreError::Io {
            store: path.display().to_string(),
            what,
            detail: e.to_string(),
        };
        if path.exists() {
            return Err(exists());
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".support-access-init-")
            .tempfile_in(&dir)
            .map_err(|e| io("create", e))?;
        let mut text = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        tmp.write_all(text.as_bytes()).map_err(|e| io("write", e))?;
        tmp.as_file().sync_all().map_err(|e| io("fsync", e))?;
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == ErrorKind::AlreadyExists {
                exists()
            } else {
                io("create", e.error)
            }
        })?;
        #[cfg(unix)]
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}
