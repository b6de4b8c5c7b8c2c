//! The life-cycle lock: an exclusive flock(2) on a lock file only root can
//! create, open or lock, [`LOCK_FILE`] (normally `/run/postmulti.lock`).
//! The lock never costs a command: when it cannot be had safely, the
//! command goes on without it, as upstream (which has no lock) always does,
//! and the lock never changes what a command prints or does otherwise.
//!
//! - Where: every directory from `/` down to the file's own must be owned by
//!   root and writable by no one else, so no other user can pre-create,
//!   replace, rename or symlink the file; the file must be a regular file
//!   owned by root, mode 0600 (or stricter), one link, so no other user can
//!   open it, and flock(2) needs an open descriptor, so no other user can
//!   hold it.  The file is created (empty, mode 0600) when missing, opened
//!   read-only without following a symbolic link or blocking on a FIFO, and
//!   never written.
//! - When: it serializes every life-cycle operation on the host, from
//!   reading the instance table until postmulti-script and its children
//!   have finished: the descriptor is inherited across the exec (no
//!   close-on-exec).  The kernel releases it when the last process holding
//!   it dies, kill -9 included.
//! - Waiting: when it is not free within about a second, one line (on
//!   stderr where the installed release writes diagnostics there, and to
//!   syslog, as msg_info() would) says so, with the holder's pid
//!   from /proc/locks, then postmulti waits, trying again ten times a
//!   second.
//! - Never for itself: iterator mode never takes it, so `postfix start`
//!   calling back into `postmulti -p` cannot wait for it.  A life-cycle
//!   postmulti started by a helper that already holds the lock finds the
//!   inherited descriptor (same device and inode) and re-locks it, which
//!   succeeds at once.  When the descriptor was lost on the way (a wrapper
//!   or sudo closing descriptors from 3 up), the holder /proc/locks names
//!   for this very file (same device and inode; the device as the lock's
//!   mount has it in /proc/self/mountinfo, since on overlayfs fstat(2)
//!   reports a layer's) is an ancestor of this process (the parent chain
//!   of /proc/PID/stat): the ancestor's hold covers this command, which
//!   goes on at once without the lock.  So does a command run under `flock
//!   -o /run/postmulti.lock` (flock(1) holds the lock and closes its
//!   descriptor before it runs the command).  That is checked at the first
//!   failed try and again once a second while waiting, so a lock that
//!   passes to an ancestor later is seen too.
//!
//! Going on without the lock.  A cause that is how the host is made goes
//! unsaid; a cause that looks like tampering, or an error, gets exactly one
//! warning (stderr and syslog, msg_warn()'s format), then the command goes
//! on:
//!
//! - silent: a directory on the path is missing (ENOENT: a minimal chroot
//!   without `/run`; only root can remove a directory of a path that passed
//!   the checks above); the directory is read-only and the file is not
//!   there yet (EROFS: ProtectSystem=strict, read-only containers; an
//!   existing lock file on a read-only `/run` is opened and locked as
//!   usual); a directory owned by a user this user namespace does not map.
//!   The kernel shows an unmapped owner as the overflow uid
//!   (`/proc/sys/kernel/overflowuid`, 65534), so the test is: this process
//!   is not in the initial user namespace (`/proc/self/uid_map` is not
//!   `0 0 4294967295`) and the owner is the overflow uid.  That is a
//!   container given the host's `/run`.  In the initial namespace every
//!   uid is mapped, so a 65534 owner there is the user nobody, and warned
//!   about.  A container whose own, mapped, nobody owns `/run` looks the
//!   same from inside and is let through silently too: the lock is not
//!   used either way, so all that rides on the decision is one line of
//!   warning.  A caller other than root that may not open or create the
//!   file (EACCES, EPERM, EROFS) is silent too: postmulti-script then
//!   reports what that user cannot do, as upstream.
//! - one warning: a directory on the path that group or other can write,
//!   or that is owned by another uid, or that is not a directory (a
//!   symbolic link included: its target's directories are not checked);
//!   anything at the file's path but a regular file (a symbolic link,
//!   dangling or not, a FIFO, a directory, a socket, a device), a file of
//!   another owner, with group or other permissions, or with more than one
//!   link; and any other failure to open, fstat or flock (EACCES for root,
//!   ENOLCK, ...).  Nothing is ever opened through what is refused: what is
//!   not a regular file is refused from its lstat before any open.
//!
//! ```text
//! postmulti: warning: life-cycle lock /run/postmulti.lock is a symbolic link, not a regular file; going on without it
//! postmulti: warning: life-cycle lock /run/postmulti.lock is owned by uid 65534, not by root; going on without it
//! postmulti: warning: life-cycle lock /run/postmulti.lock has mode 0644, not 0600; going on without it
//! postmulti: warning: life-cycle lock /run/postmulti.lock has 2 links, not 1; going on without it
//! postmulti: warning: life-cycle lock directory /run is writable by group or other (mode 1777); going on without it
//! postmulti: warning: life-cycle lock directory /run is owned by uid 12345, not by root; going on without it
//! postmulti: warning: cannot open life-cycle lock /run/postmulti.lock: Permission denied; going on without it
//! postmulti: waiting for the life-cycle lock /run/postmulti.lock (held by pid 1234)
//! ```
//!
//! (`is a FIFO`, `is a directory`, ... for the other kinds; `life-cycle
//! lock directory /run is a symbolic link, not a directory`; `cannot open
//! life-cycle lock directory PATH: ...`, `cannot fstat ...`, `cannot lock
//! life-cycle lock PATH: ...` for the errors.)  Being never fatal, the lock
//! never pre-empts upstream's own checks: `postmulti -e destroy -i -` says
//! `Cannot remove the primary instance` whatever state the lock is in.
//!
//! Threat model.  Why a lock: upstream says of its edits "No multi.cf lock
//! file, so this is not race-free", and concurrent `postmulti -e create`
//! calls lose instances there.  Why there: a lock anyone can open is a lock
//! anyone can hold.  Locking a path every user can open, such as
//! `/etc/postfix`, would let any user (`flock /etc/postfix sleep 1000`) make
//! root's `postmulti -e create` hang, silently.  What another local user
//! (nobody, or the Postfix mail owner `postfix`) can do:
//!
//! - hold the lock, or delay a command: no.  The file is root's 0600 in
//!   root's directories; the user cannot open it, so cannot flock it.
//! - plant something at the path (a symbolic link to a file root would
//!   then truncate or create, a FIFO, a file of theirs): only where a
//!   directory on the path lets them, which is warned about; then nothing
//!   is opened through the path, so the plant gains them nothing and costs
//!   the command nothing (it runs, unserialized, as upstream's does).
//! - make a command skip the lock (so that two run at once, as upstream's
//!   do): only by being named by /proc/locks as the holder of this
//!   device and inode, which needs a descriptor of the file, which they
//!   cannot open.  A flock on another file with the same inode number on
//!   another file system does not match (the device is compared, exactly).
//!   An ancestor they own (the shell that ran `sudo postmulti ...`) holds
//!   nothing of the file.
//! - races: between reading /proc/locks and walking the parent chain the
//!   holder can only change when root's holder lets go: an ancestor that
//!   lets go of its lock while its descendant runs (or dies, and its pid is
//!   reused by a new ancestor of ours, a root process, while one of its
//!   children still has the descriptor) lets this command run beside the
//!   next holder, as upstream's always do.  Only root can arrange any of
//!   that.  An orphan reparented to pid 1 counts pid 1 as an ancestor: a
//!   container whose init is a life-cycle postmulti (its helper, or a
//!   script under it) covers the container's other life-cycle commands.
//! - fill the disk or lock table: an open that fails (ENOSPC, EDQUOT) or a
//!   flock that fails (ENOLCK) is one warning, and the command goes on.
//!
//! `tests/concurrency.rs` shows each of these, side by side with Debian's
//! postmulti wherever upstream has a behaviour: users `nobody` and
//! `postfix` holding flock and lockf locks on everything they can open
//! under `/etc`, `/run`, `/var` and `/tmp` change nothing; each odd lock
//! path (read-only, missing, foreign (also as seen from a user namespace
//! that does not map its owner) and world-writable `/run`, and each
//! odd lock file) gives the reference's status, output and files plus at
//! most the one warning; waiting and not waiting, a non-root caller, `kill
//! -9` of the holder, the nested call with and without the inherited
//! descriptor, and 32 creates released together through a barrier.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, openat, AtFlags, FcntlArg, OFlag};
use nix::sys::stat::{fstat, fstatat, FileStat, Mode};

use crate::msg;

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

/// How often it tries the lock once it has said that it waits.
const WAIT_INTERVAL: Duration = Duration::from_millis(100);

/// How often it reads /proc/locks for the holder (an ancestor?) while it
/// waits; the same as [`QUIET_WAIT`], so that the waiting line comes on time.
const HOLDER_CHECK: Duration = QUIET_WAIT;

/// A held lock; dropping it closes our descriptor (the exec'd helper keeps
/// its copy).  No descriptor when an inherited one, or an ancestor's
/// hold, is what holds it.
pub struct Lock {
    _fd: Option<OwnedFd>,
}

/// Why a command goes on without the lock.
enum Without {
    /// How the host is made, or a caller other than root: nothing to say.
    Quietly,
    /// Something looks tampered with, or failed: the warning's text.
    Warning(String),
}

type Attempt<T> = std::result::Result<T, Without>;

/// How the lock came to be held.
enum Held {
    /// By the descriptor flock(2) was called on.
    Locked,
    /// By an ancestor of this process, which covers it.
    ByAncestor,
}

/// Takes the life-cycle lock, waiting for it if need be; None when the
/// command goes on without it (after the one warning, where one is due).
pub fn acquire() -> Option<Lock> {
    match try_acquire() {
        Ok(lock) => Some(lock),
        Err(Without::Quietly) => None,
        Err(Without::Warning(why)) => {
            msg::warn(warning_line(&why).as_bytes());
            None
        }
    }
}

/// The warning of a command that goes on without the lock.
fn warning_line(why: &str) -> String {
    format!("{why}; going on without it")
}

fn try_acquire() -> Attempt<Lock> {
    let (dir, name) = split(LOCK_FILE);
    loop {
        let parent = open_directory(dir)?;
        let file = open_lock_file(&parent, name)?;
        let st = check_lock_file(&file)?;
        let held = match inherited_descriptor(file.as_raw_fd(), &st) {
            Some(fd) => match wait_for(fd, &st)? {
                Held::Locked => Lock { _fd: None },
                Held::ByAncestor => return Ok(Lock { _fd: None }),
            },
            None => match wait_for(file.as_raw_fd(), &st)? {
                Held::Locked => Lock { _fd: Some(file) },
                Held::ByAncestor => return Ok(Lock { _fd: None }),
            },
        };
        // Only root can have replaced it meanwhile (rm by hand): then lock the new one.
        if is_in_place(&parent, name, &st) {
            return Ok(held);
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
/// no one else.
fn open_directory(dir: &str) -> Attempt<OwnedFd> {
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let mut path = String::from("/");
    let mut fd = owned(openat(None, "/", flags, Mode::empty()).map_err(|e| {
        Without::Warning(format!(
            "cannot open life-cycle lock directory /: {}",
            msg::errno_text(e)
        ))
    })?);
    check_directory(&fd, &path)?;
    for component in dir.split('/').filter(|c| !c.is_empty()) {
        if !path.ends_with('/') {
            path.push('/');
        }
        path.push_str(component);
        let next = match openat(Some(fd.as_raw_fd()), component, flags, Mode::empty()) {
            Ok(next) => owned(next),
            Err(e) => return Err(directory_failure(&fd, component, &path, e)),
        };
        check_directory(&next, &path)?;
        fd = next;
    }
    Ok(fd)
}

/// Why a directory of the path could not be opened: missing (how the host
/// is made), not a directory, or an error.
fn directory_failure(parent: &OwnedFd, component: &str, path: &str, e: Errno) -> Without {
    if e == Errno::ENOENT || unprivileged_refusal(e) {
        return Without::Quietly;
    }
    match fstatat(
        Some(parent.as_raw_fd()),
        component,
        AtFlags::AT_SYMLINK_NOFOLLOW,
    ) {
        Ok(st) if st.st_mode & nix::libc::S_IFMT != nix::libc::S_IFDIR => {
            Without::Warning(format!(
                "life-cycle lock directory {path} is {}, not a directory",
                kind(st.st_mode)
            ))
        }
        _ => Without::Warning(format!(
            "cannot open life-cycle lock directory {path}: {}",
            msg::errno_text(e)
        )),
    }
}

/// Refuses a lock directory that someone other than root could change;
/// quietly when its owner is one this user namespace does not map.
fn check_directory(fd: &OwnedFd, path: &str) -> Attempt<()> {
    let st = fstat(fd.as_raw_fd()).map_err(|e| {
        Without::Warning(format!(
            "cannot fstat life-cycle lock directory {path}: {}",
            msg::errno_text(e)
        ))
    })?;
    if st.st_mode & 0o022 != 0 {
        return Err(Without::Warning(format!(
            "life-cycle lock directory {path} is writable by group or other (mode {:04o})",
            st.st_mode & 0o7777
        )));
    }
    if st.st_uid != 0 {
        if owner_is_unmapped(st.st_uid) {
            return Err(Without::Quietly);
        }
        return Err(Without::Warning(format!(
            "life-cycle lock directory {path} is owned by uid {}, not by root",
            st.st_uid
        )));
    }
    Ok(())
}

/// Whether a file owned by `uid`, as stat(2) shows it, belongs to a user
/// this user namespace does not map: in a namespace other than the initial
/// one, the kernel shows every such owner as the overflow uid.
fn owner_is_unmapped(uid: u32) -> bool {
    let overflow = std::fs::read_to_string("/proc/sys/kernel/overflowuid")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(65534);
    uid == overflow
        && std::fs::read_to_string("/proc/self/uid_map").is_ok_and(|map| !is_initial_uid_map(&map))
}

/// Whether a /proc/self/uid_map is the initial user namespace's, which maps
/// every uid to itself.
fn is_initial_uid_map(map: &str) -> bool {
    map.split_whitespace().eq(["0", "0", "4294967295"])
}

/// Opens or creates the lock file read-only (mode 0600), never through a
/// symbolic link, never blocking on a FIFO, and inherited across exec.
fn open_lock_file(parent: &OwnedFd, name: &str) -> Attempt<OwnedFd> {
    let lstat = || fstatat(Some(parent.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW);
    // Refuse what is not a regular file before opening it (a device could react to open).
    if let Ok(st) = lstat() {
        not_regular(&st)?;
    }
    let flags =
        OFlag::O_RDONLY | OFlag::O_CREAT | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_NOCTTY;
    match openat(
        Some(parent.as_raw_fd()),
        name,
        flags,
        Mode::from_bits_truncate(0o600),
    ) {
        Ok(fd) => Ok(owned(fd)),
        // Read-only, and no lock file yet: how the host is made.
        Err(e) if e == Errno::EROFS || unprivileged_refusal(e) => Err(Without::Quietly),
        Err(e) => {
            if let Ok(st) = lstat() {
                not_regular(&st)?;
            }
            Err(Without::Warning(format!(
                "cannot open life-cycle lock {LOCK_FILE}: {}",
                msg::errno_text(e)
            )))
        }
    }
}

/// Refuses a lock file that is not a regular file.
fn not_regular(st: &FileStat) -> Attempt<()> {
    if st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFREG {
        return Ok(());
    }
    Err(Without::Warning(format!(
        "life-cycle lock {LOCK_FILE} is {}, not a regular file",
        kind(st.st_mode)
    )))
}

/// Checks what was opened: a regular file of root's, mode 0600 or
/// stricter, with one link.
fn check_lock_file(fd: &OwnedFd) -> Attempt<FileStat> {
    let st = fstat(fd.as_raw_fd()).map_err(|e| {
        Without::Warning(format!(
            "cannot fstat life-cycle lock {LOCK_FILE}: {}",
            msg::errno_text(e)
        ))
    })?;
    not_regular(&st)?;
    let refuse = |why: String| {
        Err(Without::Warning(format!(
            "life-cycle lock {LOCK_FILE} {why}"
        )))
    };
    if st.st_uid != 0 {
        return refuse(format!("is owned by uid {}, not by root", st.st_uid));
    }
    if st.st_mode & 0o077 != 0 {
        return refuse(format!("has mode {:04o}, not 0600", st.st_mode & 0o7777));
    }
    if st.st_nlink != 1 {
        return refuse(format!("has {} links, not 1", st.st_nlink));
    }
    Ok(st)
}

/// Whether the lock file's name still refers to the file we locked.
fn is_in_place(parent: &OwnedFd, name: &str, st: &FileStat) -> bool {
    fstatat(Some(parent.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW)
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
/// that it waits and for whom; at once, without it, when the holder is an
/// ancestor of this process.  /proc/locks, which the kernel builds from
/// every lock on the host, is read once a second at most (at the first
/// failed try, then each [`HOLDER_CHECK`]), not at every try: many waiters
/// on a host with many locks would otherwise cost everyone CPU.
fn wait_for(fd: RawFd, st: &FileStat) -> Attempt<Held> {
    let devices = lock_devices(fd, st);
    let started = Instant::now();
    let mut next_check = started;
    let mut said = false;
    loop {
        match flock(fd, nix::libc::LOCK_EX | nix::libc::LOCK_NB) {
            Ok(()) => return Ok(Held::Locked),
            Err(Errno::EINTR) => continue,
            Err(Errno::EWOULDBLOCK) => {}
            Err(e) => {
                return Err(Without::Warning(format!(
                    "cannot lock life-cycle lock {LOCK_FILE}: {}",
                    msg::errno_text(e)
                )))
            }
        }
        if Instant::now() >= next_check {
            next_check = Instant::now() + HOLDER_CHECK;
            let locks = std::fs::read("/proc/locks").unwrap_or_default();
            let holders = holder_pids(&locks, &devices, st.st_ino);
            if !holders.is_empty() {
                let ancestors = ancestors();
                if holders.iter().all(|pid| ancestors.contains(pid)) {
                    return Ok(Held::ByAncestor);
                }
            }
            if !said && started.elapsed() >= QUIET_WAIT {
                msg::info(waiting_line(holders.first().copied()).as_bytes());
                said = true;
            }
        }
        std::thread::sleep(if said { WAIT_INTERVAL } else { POLL_INTERVAL });
    }
}

/// flock(2) on a descriptor we hold open.
fn flock(fd: RawFd, operation: i32) -> std::result::Result<(), Errno> {
    // SAFETY: flock only reads its two integer arguments.
    Errno::result(unsafe { nix::libc::flock(fd, operation) }).map(drop)
}

/// What a waiting command says, with the holder's pid when it is known.
fn waiting_line(holder: Option<u32>) -> String {
    match holder {
        Some(pid) => format!("waiting for the life-cycle lock {LOCK_FILE} (held by pid {pid})"),
        None => format!("waiting for the life-cycle lock {LOCK_FILE}"),
    }
}

/// The devices (major, minor) /proc/locks may name the lock file by: what
/// fstat(2) says, and the device of the mount it was opened on
/// (/proc/self/fdinfo's mnt_id in /proc/self/mountinfo), which is the one
/// /proc/locks shows on overlayfs, where fstat(2) reports a layer's.
fn lock_devices(fd: RawFd, st: &FileStat) -> Vec<(u64, u64)> {
    let mut devices = vec![(
        nix::sys::stat::major(st.st_dev),
        nix::sys::stat::minor(st.st_dev),
    )];
    let mount = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}"))
        .ok()
        .and_then(|info| mount_id(&info))
        .and_then(|id| {
            let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
            mount_device(&mountinfo, id)
        });
    devices.extend(mount.filter(|d| !devices.contains(d)));
    devices
}

/// The `mnt_id:` of a /proc/PID/fdinfo/FD text.
fn mount_id(fdinfo: &str) -> Option<u64> {
    fdinfo
        .lines()
        .find_map(|l| l.strip_prefix("mnt_id:"))
        .and_then(|v| v.trim().parse().ok())
}

/// The device (major, minor) of mount `id` in a /proc/self/mountinfo text,
/// whose lines begin `ID PARENT MAJOR:MINOR ...` (decimal).
fn mount_device(mountinfo: &str, id: u64) -> Option<(u64, u64)> {
    mountinfo.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        if fields.next()?.parse::<u64>().ok()? != id {
            return None;
        }
        let (major, minor) = fields.nth(1)?.split_once(':')?;
        Some((major.parse().ok()?, minor.parse().ok()?))
    })
}

/// The pids of the processes holding a flock(2) lock on this inode of one
/// of these devices, from /proc/locks lines such as `1: FLOCK  ADVISORY
/// WRITE 1234 00:1a:5678 0 EOF` (waiters' lines have `->` after the number
/// and are skipped; a holder in a pid namespace we cannot see shows as pid
/// 0 and is skipped too).  The device is compared exactly: another file
/// system's file with the same inode number is another file.
fn holder_pids(locks: &[u8], devices: &[(u64, u64)], ino: u64) -> Vec<u32> {
    String::from_utf8_lossy(locks)
        .lines()
        .filter_map(flock_holder)
        .filter(|(device, inode, _)| *inode == ino && devices.contains(device))
        .map(|(_, _, pid)| pid)
        .collect()
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

/// This process's ancestors, parent first, from the parent chain of
/// /proc/PID/stat (as far as it can be read; pid 1 ends it).
fn ancestors() -> Vec<u32> {
    let mut chain = Vec::new();
    let mut pid = nix::unistd::getppid().as_raw() as u32;
    while pid > 0 && !chain.contains(&pid) {
        chain.push(pid);
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) if pid != 1 => match parent_pid(&stat) {
                Some(parent) => pid = parent,
                None => break,
            },
            _ => break,
        }
    }
    chain
}

/// The parent pid in a /proc/PID/stat text: `PID (COMM) STATE PPID ...`,
/// where COMM may hold spaces and parentheses (so: after the last `)`).
fn parent_pid(stat: &str) -> Option<u32> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
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
    fn the_holders_are_the_flock_lines_of_the_same_device_and_inode() {
        assert_eq!(holder_pids(LOCKS, &[(0, 0x2c)], 10011305), [1234]);
        assert_eq!(holder_pids(LOCKS, &[(0xfd, 1)], 10011305), [555]);
        assert_eq!(
            holder_pids(LOCKS, &[(0, 0x2c), (0xfd, 1)], 10011305),
            [1234, 555]
        );
        // A POSIX lock does not conflict with flock(2); waiters hold nothing.
        assert!(holder_pids(LOCKS, &[(0, 0x2c)], 42).is_empty());
        assert!(holder_pids(
            b"1: -> FLOCK ADVISORY WRITE 9 00:2c:7 0 EOF\n",
            &[(0, 0x2c)],
            7
        )
        .is_empty());
        // A holder in a pid namespace we cannot see shows as pid 0.
        assert!(holder_pids(
            b"1: FLOCK ADVISORY WRITE 0 00:2c:7 0 EOF\n",
            &[(0, 0x2c)],
            7
        )
        .is_empty());
        // The same inode number on another device is another file, even
        // when it is the only holder of that number.
        assert!(holder_pids(
            b"1: FLOCK ADVISORY WRITE 4321 00:61:7 0 EOF\n",
            &[(0, 0x5e)],
            7
        )
        .is_empty());
    }

    #[test]
    fn the_mount_device_comes_from_fdinfo_and_mountinfo() {
        let fdinfo = "pos:\t0\nflags:\t0100000\nmnt_id:\t80\nino:\t10011342\n";
        assert_eq!(mount_id(fdinfo), Some(80));
        assert_eq!(mount_id("pos:\t0\n"), None);
        let mountinfo = "\
26 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
80 70 0:49 / /run rw,relatime - overlay overlay rw,lowerdir=/a:/b
";
        assert_eq!(mount_device(mountinfo, 80), Some((0, 49)));
        assert_eq!(mount_device(mountinfo, 26), Some((254, 1)));
        assert_eq!(mount_device(mountinfo, 8), None);
    }

    #[test]
    fn the_parent_pid_follows_the_last_parenthesis() {
        assert_eq!(parent_pid("1234 (sh) S 77 1234 1 0 -1"), Some(77));
        assert_eq!(parent_pid("1234 (a) b) (c) R 5 1234"), Some(5));
        assert_eq!(parent_pid("1234 (sh"), None);
        // Our own chain starts at our parent and ends by pid 1 at the latest.
        let chain = ancestors();
        assert_eq!(
            chain.first(),
            Some(&(nix::unistd::getppid().as_raw() as u32))
        );
        assert!(!chain.contains(&std::process::id()));
    }

    #[test]
    fn only_the_identity_map_of_every_uid_is_the_initial_user_namespace() {
        assert!(is_initial_uid_map("         0          0 4294967295\n"));
        assert!(!is_initial_uid_map("         0     100000      65536\n"));
        assert!(!is_initial_uid_map(
            "         0          0 4294967295\n    1 1 1\n"
        ));
        assert!(!is_initial_uid_map(""));
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
        assert_eq!(
            warning_line(&format!("life-cycle lock {LOCK_FILE} has 2 links, not 1")),
            format!("life-cycle lock {LOCK_FILE} has 2 links, not 1; going on without it")
        );
    }

    #[test]
    fn the_lock_file_splits_into_directory_and_name() {
        assert_eq!(split("/run/postmulti.lock"), ("/run", "postmulti.lock"));
        assert_eq!(split("/postmulti.lock"), ("", "postmulti.lock"));
        assert_eq!(kind(nix::libc::S_IFIFO | 0o600), "a FIFO");
    }
}
