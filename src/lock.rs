//! The life-cycle lock: an exclusive flock(2) on the primary configuration
//! directory itself.
//!
//! - It serializes every life-cycle operation on the host, from reading the
//!   instance table until postmulti-script and its children have finished:
//!   the descriptor is inherited across the exec (no close-on-exec).
//! - It writes no file: the directory always exists and its inode never
//!   changes (main.cf does: postconf -e replaces it by rename).
//! - The kernel releases it when the last process holding it dies, kill -9
//!   included.
//! - Iterator mode never takes it, so `postfix start` calling back into
//!   `postmulti -p` cannot wait for it.  A life-cycle postmulti started by a
//!   helper that already holds the lock re-locks the inherited descriptor,
//!   which succeeds at once instead of deadlocking.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

use nix::fcntl::{open, OFlag};
use nix::sys::stat::{fstat, Mode};

use crate::msg::{bfmt, Fatal, Result};
use crate::osstr::os;

/// A held lock; dropping it closes our descriptor (the exec'd helper keeps its copy).
pub struct Lock {
    _fd: Option<OwnedFd>,
}

/// Waits for the lock on `config_dir` (the primary configuration directory).
pub fn acquire(config_dir: &[u8]) -> Result<Lock> {
    let path = os(config_dir);
    let meta = std::fs::metadata(path).map_err(|e| {
        Fatal(bfmt(
            "lock {}: {}",
            &[config_dir, crate::msg::io_error_text(&e).as_bytes()],
        ))
    })?;
    if let Some(fd) = inherited_descriptor(meta.dev(), meta.ino()) {
        // SAFETY: the descriptor is open for the whole life of the process.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        wait_for(fd.as_raw_fd(), config_dir)?;
        return Ok(Lock { _fd: None });
    }
    let fd = open(path, OFlag::O_RDONLY | OFlag::O_DIRECTORY, Mode::empty()).map_err(|e| {
        Fatal(bfmt(
            "lock {}: {}",
            &[config_dir, crate::msg::errno_text(e).as_bytes()],
        ))
    })?;
    // SAFETY: open just returned this descriptor and nothing else owns it.
    let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    wait_for(fd.as_raw_fd(), config_dir)?;
    Ok(Lock { _fd: Some(fd) })
}

/// Blocks until the exclusive lock is ours.
fn wait_for(fd: i32, config_dir: &[u8]) -> Result<()> {
    loop {
        // SAFETY: flock on a descriptor we hold open.
        if unsafe { nix::libc::flock(fd, nix::libc::LOCK_EX) } == 0 {
            return Ok(());
        }
        match nix::errno::Errno::last() {
            nix::errno::Errno::EINTR => continue,
            e => {
                return Err(Fatal(bfmt(
                    "lock {}: {}",
                    &[config_dir, crate::msg::errno_text(e).as_bytes()],
                )))
            }
        }
    }
}

/// A descriptor inherited from a parent that refers to the same directory.
fn inherited_descriptor(dev: u64, ino: u64) -> Option<i32> {
    let entries = std::fs::read_dir("/proc/self/fd").ok()?;
    let fds: Vec<i32> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd| fd > 2)
        .collect();
    fds.into_iter().find(|&fd| {
        fstat(fd).is_ok_and(|st| {
            st.st_dev == dev
                && st.st_ino == ino
                && (st.st_mode & nix::libc::S_IFMT) == nix::libc::S_IFDIR
        })
    })
}
