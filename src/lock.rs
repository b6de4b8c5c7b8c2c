//! The life-cycle lock: an exclusive flock(2) on a lock file only root can
//! create, open or lock, [`LOCK_FILE`] (normally `/run/postmulti.lock`).
//!
//! - Where: every directory from `/` down to the file's own is owned by root
//!   and writable by no one else, so no other user can pre-create, replace,
//!   rename or symlink the file; the file is a regular file owned by root,
//!   mode 0600, one link, so no other user can open it, and flock(2) needs
//!   an open descriptor, so no other user can hold it.  Anything else found
//!   there (a symbolic link, a FIFO, a directory, another user's file, a
//!   file group or other can open) is a fatal error before anything is
//!   read or written through it; the file is opened read-only, never
//!   written.
//! - When: it serializes every life-cycle operation on the host, from
//!   reading the instance table until postmulti-script and its children
//!   have finished: the descriptor is inherited across the exec (no
//!   close-on-exec).  The kernel releases it when the last process holding
//!   it dies, kill -9 included.
//! - Waiting: when it is not free within about a second, one line on stderr
//!   (and to syslog, as msg_info() would) says so, with the holder's pid
//!   from /proc/locks, then postmulti waits.
//! - Iterator mode never takes it, so `postfix start` calling back into
//!   `postmulti -p` cannot wait for it.  A life-cycle postmulti started by a
//!   helper that already holds the lock finds the inherited descriptor (same
//!   device and inode) and re-locks it, which succeeds at once instead of
//!   deadlocking.
//! - A caller other than root that may not open or create the file goes on
//!   without it, as upstream (which has no lock) does: postmulti-script then
//!   reports what that user cannot do.
//!
//! Why: upstream says of its edits "No multi.cf lock file, so this is not
//! race-free", and concurrent `postmulti -e create` calls lose instances
//! there.  Why there: a lock anyone can open is a lock anyone can hold.
//! Locking a path every user can open, such as `/etc/postfix`, would let
//! any user (`flock /etc/postfix sleep 1000`) make root's `postmulti -e
//! create` hang, silently.  `/run` is root's and writable by no one else,
//! so no other user, the Postfix mail owner included, can pre-create,
//! replace, link or symlink the file there.  What is refused, and what a
//! waiting command says:
//!
//! ```text
//! postmulti: fatal: life-cycle lock /run/postmulti.lock is a symbolic link, not a regular file
//! postmulti: fatal: life-cycle lock /run/postmulti.lock is owned by uid 65534, not by root
//! postmulti: waiting for the life-cycle lock /run/postmulti.lock (held by pid 1234)
//! ```
//!
//! A command that does not wait prints nothing new and writes nothing but
//! the (empty) lock file.  `tests/concurrency.rs` shows each of these: users
//! `nobody` and `postfix` holding flock and lockf locks on everything they
//! can open under `/etc`, `/run`, `/var` and `/tmp` change nothing (side by
//! side with Debian's binary), each hostile lock path is refused, waiting
//! and not waiting, a non-root caller, `kill -9` of the holder, the nested
//! call, and 32 creates released together through a barrier.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, openat, FcntlArg, OFlag};
use nix::sys::stat::{fstat, fstatat, FileStat, Mode};

use crate::msg::{self, bfmt, Fatal, Result};

/// The lock file; a packager may name another with POSTMULTI_LOCK_FILE at
/// build time (an absolute path in a directory only root can write).
pub const LOCK_FILE: &str = match option_env!("POSTMULTI_LOCK_FILE") {
    Some(path) => path,
    None => "/run/postmulti.lock",
};

/// How long a command waits quietly before it says that it waits.
const QUIET_WAIT: Duration = Duration::from_secs(1);

/// How often it tries the lock during the quiet wait.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// A held lock; dropping it closes our descriptor (the exec'd helper keeps its copy).
pub struct Lock {
    _fd: Option<OwnedFd>,
}

/// Waits for the life-cycle lock; None when a caller other than root may
/// not open or create the lock file and so goes on without it.
pub fn acquire() -> Result<Option<Lock>> {
    let (dir, name) = split(LOCK_FILE);
    loop {
        let Some(parent) = open_directory(dir)? else {
            return Ok(None);
        };
        let Some(file) = open_lock_file(&parent, name)? else {
            return Ok(None);
        };
        let st = check_lock_file(&file)?;
        let held = match inherited_descriptor(file.as_raw_fd(), &st) {
            Some(fd) => {
                wait_for(fd, &st)?;
                Lock { _fd: None }
            }
            None => {
                wait_for(file.as_raw_fd(), &st)?;
                Lock { _fd: Some(file) }
            }
        };
        // Only root can have replaced it meanwhile (rm by hand): then lock the new one.
        if is_in_place(&parent, name, &st) {
            return Ok(Some(held));
        }
    }
}

/// The lock file's directory and name; the root directory for a bare name.
fn split(path: &str) -> (&str, &str) {
    match path.rsplit_once('/') {
        Some((dir, name)) => (dir, name),
        None => ("", path),
    }
}

/// Whether a failure to open means "not root, and not allowed": go on without the lock.
fn unprivileged_refusal(e: Errno) -> bool {
    matches!(e, Errno::EACCES | Errno::EPERM | Errno::EROFS) && !nix::unistd::geteuid().is_root()
}

/// "a symbolic link", "a FIFO", ...: what a file of this mode is.
fn kind(mode: u32) -> &'static str {
    match mode & nix::libc::S_IFMT {
        nix::libc::S_IFREG => "a regular file",
        nix::libc::S_IFDIR => "a directory",
        nix::libc::S_IFLNK => "a symbolic link",
        nix::libc::S_IFIFO => "a FIFO",
        nix::libc::S_IFSOCK => "a socket",
        nix::libc::S_IFCHR => "a character device",
        nix::libc::S_IFBLK => "a block device",
        _ => "a file of unknown type",
    }
}

/// Takes ownership of a descriptor that open(2) just returned.
fn owned(fd: RawFd) -> OwnedFd {
    // SAFETY: the caller got fd from a successful open and gives it to no one else.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Opens (O_PATH) each directory from / down to `dir` without following
/// symbolic links, and checks that each is owned by root and writable by
/// no one else; None when a caller other than root may not search them.
fn open_directory(dir: &str) -> Result<Option<OwnedFd>> {
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let mut path = String::from("/");
    let mut fd =
        owned(openat(None, "/", flags, Mode::empty()).map_err(|e| dir_open_error(&path, e))?);
    check_directory(&fd, &path)?;
    for component in dir.split('/').filter(|c| !c.is_empty()) {
        if !path.ends_with('/') {
            path.push('/');
        }
        path.push_str(component);
        let next = match openat(Some(fd.as_raw_fd()), component, flags, Mode::empty()) {
            Ok(next) => owned(next),
            Err(e) if unprivileged_refusal(e) => return Ok(None),
            Err(e) => {
                let what = fstatat(
                    Some(fd.as_raw_fd()),
                    component,
                    nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
                );
                return Err(match what {
                    Ok(st) if st.st_mode & nix::libc::S_IFMT != nix::libc::S_IFDIR => Fatal(
                        format!(
                            "life-cycle lock directory {path} is {}, not a directory",
                            kind(st.st_mode)
                        )
                        .into_bytes(),
                    ),
                    _ => dir_open_error(&path, e),
                });
            }
        };
        check_directory(&next, &path)?;
        fd = next;
    }
    Ok(Some(fd))
}

/// The fatal error for a lock directory that cannot be opened.
fn dir_open_error(path: &str, e: Errno) -> Fatal {
    Fatal(
        format!(
            "open life-cycle lock directory {path}: {}",
            msg::errno_text(e)
        )
        .into_bytes(),
    )
}

/// Refuses a lock directory that someone other than root could change.
fn check_directory(fd: &OwnedFd, path: &str) -> Result<()> {
    let st = fstat(fd.as_raw_fd()).map_err(|e| dir_open_error(path, e))?;
    if st.st_uid != 0 {
        return Err(Fatal(
            format!(
                "life-cycle lock directory {path} is owned by uid {}, not by root",
                st.st_uid
            )
            .into_bytes(),
        ));
    }
    if st.st_mode & 0o022 != 0 {
        return Err(Fatal(
            format!(
                "life-cycle lock directory {path} is writable by group or other (mode {:04o})",
                st.st_mode & 0o7777
            )
            .into_bytes(),
        ));
    }
    Ok(())
}

/// Opens or creates the lock file read-only (mode 0600), never through a
/// symbolic link, never blocking on a FIFO, and inherited across exec;
/// None when a caller other than root may not.
fn open_lock_file(parent: &OwnedFd, name: &str) -> Result<Option<OwnedFd>> {
    let existing = fstatat(
        Some(parent.as_raw_fd()),
        name,
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    );
    // Refuse what is not a regular file before opening it (a device could react to open).
    if let Ok(st) = &existing {
        not_regular(st)?;
    }
    let flags =
        OFlag::O_RDONLY | OFlag::O_CREAT | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_NOCTTY;
    match openat(
        Some(parent.as_raw_fd()),
        name,
        flags,
        Mode::from_bits_truncate(0o600),
    ) {
        Ok(fd) => Ok(Some(owned(fd))),
        Err(e) if unprivileged_refusal(e) => Ok(None),
        Err(e) => {
            if let Ok(st) = fstatat(
                Some(parent.as_raw_fd()),
                name,
                nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
            ) {
                not_regular(&st)?;
            }
            Err(Fatal(bfmt(
                "open life-cycle lock %s: %s",
                &[LOCK_FILE.as_bytes(), msg::errno_text(e).as_bytes()],
            )))
        }
    }
}

/// Refuses a lock file that is not a regular file.
fn not_regular(st: &FileStat) -> Result<()> {
    if st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFREG {
        return Ok(());
    }
    Err(Fatal(
        format!(
            "life-cycle lock {LOCK_FILE} is {}, not a regular file",
            kind(st.st_mode)
        )
        .into_bytes(),
    ))
}

/// Checks what was opened: a regular file of root's, mode 0600 or
/// stricter, with one link.
fn check_lock_file(fd: &OwnedFd) -> Result<FileStat> {
    let st = fstat(fd.as_raw_fd()).map_err(|e| {
        Fatal(bfmt(
            "fstat life-cycle lock %s: %s",
            &[LOCK_FILE.as_bytes(), msg::errno_text(e).as_bytes()],
        ))
    })?;
    not_regular(&st)?;
    let refuse = |why: String| {
        Err(Fatal(
            format!("life-cycle lock {LOCK_FILE} {why}").into_bytes(),
        ))
    };
    if st.st_uid != 0 {
        return refuse(format!("is owned by uid {}, not by root", st.st_uid));
    }
    if st.st_mode & 0o077 != 0 {
        return refuse(format!(
            "is open to group or other (mode {:04o}); it must be mode 0600",
            st.st_mode & 0o7777
        ));
    }
    if st.st_nlink != 1 {
        return refuse(format!("has {} links; it must have one", st.st_nlink));
    }
    Ok(st)
}

/// Whether the lock file's name still refers to the file we locked.
fn is_in_place(parent: &OwnedFd, name: &str, st: &FileStat) -> bool {
    fstatat(
        Some(parent.as_raw_fd()),
        name,
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .is_ok_and(|now| now.st_dev == st.st_dev && now.st_ino == st.st_ino)
}

/// Another descriptor of ours on the same lock file, inherited from a
/// parent that holds the lock (a helper calling back into postmulti).
fn inherited_descriptor(own: RawFd, st: &FileStat) -> Option<RawFd> {
    // Without /proc, try the first 1024 descriptor numbers.
    let fds: Vec<RawFd> = match std::fs::read_dir("/proc/self/fd") {
        Ok(entries) => entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect(),
        Err(_) => (0..1024).collect(),
    };
    let mut fds = fds.into_iter().filter(|&fd| fd != own);
    fds.find(|&fd| {
        let lockable = fcntl(fd, FcntlArg::F_GETFL)
            .is_ok_and(|fl| OFlag::from_bits_truncate(fl) & OFlag::O_PATH != OFlag::O_PATH);
        lockable
            && fstat(fd).is_ok_and(|other| {
                other.st_dev == st.st_dev
                    && other.st_ino == st.st_ino
                    && other.st_mode & nix::libc::S_IFMT == nix::libc::S_IFREG
            })
    })
}

/// Takes the exclusive lock: quietly for about a second, then after saying
/// that it waits and for whom.
fn wait_for(fd: RawFd, st: &FileStat) -> Result<()> {
    let started = Instant::now();
    loop {
        match flock(fd, nix::libc::LOCK_EX | nix::libc::LOCK_NB) {
            Ok(()) => return Ok(()),
            Err(Errno::EWOULDBLOCK) if started.elapsed() >= QUIET_WAIT => break,
            Err(Errno::EWOULDBLOCK) => std::thread::sleep(POLL_INTERVAL),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(lock_error(e)),
        }
    }
    let holder = std::fs::read("/proc/locks")
        .ok()
        .and_then(|locks| holder_pid(&locks, st.st_dev, st.st_ino));
    msg::info(waiting_line(holder).as_bytes());
    loop {
        match flock(fd, nix::libc::LOCK_EX) {
            Ok(()) => return Ok(()),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(lock_error(e)),
        }
    }
}

/// flock(2) on a descriptor we hold open.
fn flock(fd: RawFd, operation: i32) -> std::result::Result<(), Errno> {
    // SAFETY: flock only reads its two integer arguments.
    Errno::result(unsafe { nix::libc::flock(fd, operation) }).map(drop)
}

/// The fatal error for a failed flock(2).
fn lock_error(e: Errno) -> Fatal {
    Fatal(bfmt(
        "lock %s: %s",
        &[LOCK_FILE.as_bytes(), msg::errno_text(e).as_bytes()],
    ))
}

/// What a waiting command says, with the holder's pid when it is known.
fn waiting_line(holder: Option<u32>) -> String {
    match holder {
        Some(pid) => format!("waiting for the life-cycle lock {LOCK_FILE} (held by pid {pid})"),
        None => format!("waiting for the life-cycle lock {LOCK_FILE}"),
    }
}

/// The pid of the process holding a flock(2) lock on this device and inode,
/// from /proc/locks lines such as `1: FLOCK  ADVISORY  WRITE 1234 00:1a:5678 0 EOF`
/// (waiters' lines have `->` after the number and are skipped).  On
/// overlayfs the device there can differ from what fstat(2) says (the lock
/// is on the overlay's inode, stat reports a layer's device): then the one
/// holder of that inode number, if there is exactly one, is the answer.
fn holder_pid(locks: &[u8], dev: u64, ino: u64) -> Option<u32> {
    let want = (nix::sys::stat::major(dev), nix::sys::stat::minor(dev));
    let text = String::from_utf8_lossy(locks);
    let holders: Vec<((u64, u64), u32)> = text
        .lines()
        .filter_map(flock_holder)
        .filter(|&(_, inode, _)| inode == ino)
        .map(|(device, _, pid)| (device, pid))
        .collect();
    if let Some(&(_, pid)) = holders.iter().find(|(device, _)| *device == want) {
        return Some(pid);
    }
    match holders.as_slice() {
        [(_, pid)] => Some(*pid),
        _ => None,
    }
}

/// ((major, minor), inode, pid) of a /proc/locks line of a flock(2) holder.
fn flock_holder(line: &str) -> Option<((u64, u64), u64, u32)> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [_, "FLOCK", _, _, pid, file, ..] = fields.as_slice() else {
        return None;
    };
    let mut parts = file.split(':');
    let major = u64::from_str_radix(parts.next()?, 16).ok()?;
    let minor = u64::from_str_radix(parts.next()?, 16).ok()?;
    let inode = parts.next()?.parse::<u64>().ok()?;
    let pid = pid.parse::<u32>().ok().filter(|&p| p > 0)?;
    Some(((major, minor), inode, pid))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCKS: &[u8] = b"\
1: POSIX  ADVISORY  WRITE 77 00:2c:42 0 EOF
2: FLOCK  ADVISORY  WRITE 1234 00:2c:10011305 0 EOF
2: -> FLOCK  ADVISORY  WRITE 999 00:2c:10011305 0 EOF
3: FLOCK  ADVISORY  WRITE 555 fd:01:10011305 0 EOF
";

    #[test]
    fn the_holder_is_the_flock_line_of_the_same_device_and_inode() {
        let dev = nix::libc::makedev(0, 0x2c);
        assert_eq!(holder_pid(LOCKS, dev, 10011305), Some(1234));
        assert_eq!(
            holder_pid(LOCKS, nix::libc::makedev(0xfd, 1), 10011305),
            Some(555)
        );
        // A POSIX lock does not conflict with flock(2); waiters hold nothing.
        assert_eq!(holder_pid(LOCKS, dev, 42), None);
        assert_eq!(
            holder_pid(b"1: -> FLOCK ADVISORY WRITE 9 00:2c:7 0 EOF\n", dev, 7),
            None
        );
        // A holder in a pid namespace we cannot see shows as pid 0.
        assert_eq!(
            holder_pid(b"1: FLOCK ADVISORY WRITE 0 00:2c:7 0 EOF\n", dev, 7),
            None
        );
    }

    #[test]
    fn on_overlayfs_the_one_holder_of_the_inode_is_the_holder() {
        // fstat says a layer's device, /proc/locks the overlay's.
        let layer = nix::libc::makedev(0, 0x5e);
        let one = b"1: FLOCK  ADVISORY  WRITE 4321 00:61:7 0 EOF\n";
        assert_eq!(holder_pid(one, layer, 7), Some(4321));
        // Two holders of inode 7 on other devices: no guess.
        let two = b"1: FLOCK  ADVISORY  WRITE 4321 00:61:7 0 EOF\n\
                    2: FLOCK  ADVISORY  WRITE 8765 00:62:7 0 EOF\n";
        assert_eq!(holder_pid(two, layer, 7), None);
        // The same device still wins over another device's holder.
        assert_eq!(holder_pid(two, nix::libc::makedev(0, 0x62), 7), Some(8765));
    }

    #[test]
    fn the_waiting_line_names_the_holder_when_known() {
        assert_eq!(
            waiting_line(Some(1234)),
            format!("waiting for the life-cycle lock {LOCK_FILE} (held by pid 1234)")
        );
        assert_eq!(
            waiting_line(None),
            format!("waiting for the life-cycle lock {LOCK_FILE}")
        );
    }

    #[test]
    fn the_lock_file_splits_into_directory_and_name() {
        assert_eq!(split("/run/postmulti.lock"), ("/run", "postmulti.lock"));
        assert_eq!(split("/postmulti.lock"), ("", "postmulti.lock"));
        assert_eq!(kind(nix::libc::S_IFIFO | 0o600), "a FIFO");
    }
}
