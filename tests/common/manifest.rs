//! Manifests of the overlay upper directories (`Manifest`, `Entry`), what
//! changed between two of them, and their normalization for comparison
//! (`normalize_files`, the IGNORED and VOLATILE_CONTENT lists).

use std::collections::BTreeMap;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// Directories of the overlay upper dir that are part of the manifest.
const OVERLAID: &[&str] = &["etc", "var", "run"];

/// Files whose presence is compared but not their content (nor mode/owner),
/// found by running the same scenario twice with the reference:
const VOLATILE_CONTENT: &[&str] = &[
    // master(8) writes its pid, which depends on how many processes were
    // forked before it in the namespace (ours may fork a different number).
    "/var/spool/*/pid/master.pid",
    "/var/lib/*/master.lock",
];

/// Files ignored altogether: written asynchronously by daemons, so whether
/// they exist when the namespace dies is a race.
const IGNORED: &[&str] = &[
    // tlsmgr(8) PRNG state and the TLS session caches: created lazily by
    // daemons spawned on demand (not seen in the current tests, which send
    // no mail; listed because they would be racy if they appeared).
    "/var/lib/*/prng_exch",
    "/var/lib/*/smtp_scache.db",
    "/var/lib/*/smtpd_scache.db",
    // master(8) per-service lock files (unix.NAME / inet.NAME): seen as
    // pid/unix.cleanup and pid/unix.local once a service is first spawned.
    "/var/spool/*/pid/unix.*",
    "/var/spool/*/pid/inet.*",
    "/var/spool/*/pid/pass.*",
    "/var/spool/*/pid/fifo.*",
    // Our life-cycle lock file (src/lock.rs): every life-cycle command of
    // ours creates it, empty, where it can, and upstream has no lock. tests/concurrency.rs
    // checks it (Outcome::after still lists it).
    "/run/postmulti.lock",
];

/// One entry of an upper directory, as read (`Manifest::read`) or as
/// compared between reference and ours (`normalize_files`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Dir {
        mode: u32,
        uid: u32,
        gid: u32,
        opaque: bool,
    },
    File {
        mode: u32,
        uid: u32,
        gid: u32,
        content: Vec<u8>,
    },
    Symlink {
        uid: u32,
        gid: u32,
        target: Vec<u8>,
    },
    /// Overlay whiteout (char device 0/0): the lower file was deleted.
    Deleted,
    Special {
        kind: &'static str,
        mode: u32,
        uid: u32,
        gid: u32,
        rdev: u64,
    },
    /// A volatile file (VOLATILE_CONTENT) after `normalize_files`: presence
    /// only.  Never read from a directory.
    Present,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest(pub BTreeMap<String, Entry>);

impl Manifest {
    pub fn read(upper: &Path) -> Manifest {
        let mut m = BTreeMap::new();
        for top in OVERLAID {
            let root = upper.join(top);
            if !root.exists() {
                continue;
            }
            // Symlinks are entries, never followed; an unreadable directory
            // is an entry without children; an entry that vanished or
            // cannot be stat'ed is left out.
            for e in walkdir::WalkDir::new(&root)
                .min_depth(1)
                .follow_links(false)
                .into_iter()
                .flatten()
            {
                let Ok(md) = e.metadata() else {
                    continue;
                };
                let Ok(rel) = e.path().strip_prefix(&root) else {
                    continue;
                };
                let key = format!("/{top}/{}", name_key(rel.as_os_str().as_bytes()));
                m.insert(key, entry(e.path(), &md));
            }
        }
        Manifest(m)
    }

    pub fn changes_since(&self, before: &Manifest) -> BTreeMap<String, Option<Entry>> {
        let mut c = BTreeMap::new();
        for (k, v) in &self.0 {
            if before.0.get(k) != Some(v) {
                c.insert(k.clone(), Some(v.clone()));
            }
        }
        for k in before.0.keys() {
            if !self.0.contains_key(k) {
                c.insert(k.clone(), None);
            }
        }
        c
    }
}

/// A file name as a manifest key, every byte kept: UTF-8 as it is, a
/// backslash as `\\`, any other byte as `\xNN`, so that two names are
/// the same key only when they are the same bytes (to_string_lossy would
/// make every invalid byte U+FFFD).
pub fn name_key(name: &[u8]) -> String {
    let mut out = String::new();
    for chunk in name.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// The manifest entry of the file at `path`, whose metadata (not followed
/// through a symlink) is `md`.
fn entry(path: &Path, md: &std::fs::Metadata) -> Entry {
    let ft = md.file_type();
    let (mode, uid, gid) = (md.mode() & 0o7777, md.uid(), md.gid());
    if ft.is_dir() {
        Entry::Dir {
            mode,
            uid,
            gid,
            opaque: is_opaque(path),
        }
    } else if ft.is_file() {
        Entry::File {
            mode,
            uid,
            gid,
            content: std::fs::read(path).unwrap_or_default(),
        }
    } else if ft.is_symlink() {
        Entry::Symlink {
            uid,
            gid,
            target: std::fs::read_link(path)
                .map(|p| p.into_os_string().into_vec())
                .unwrap_or_default(),
        }
    } else if ft.is_char_device() && md.rdev() == 0 {
        Entry::Deleted
    } else {
        let kind = if ft.is_socket() {
            "socket"
        } else if ft.is_fifo() {
            "fifo"
        } else if ft.is_char_device() {
            "chardev"
        } else {
            "blockdev"
        };
        Entry::Special {
            kind,
            mode,
            uid,
            gid,
            rdev: md.rdev(),
        }
    }
}

const OPAQUE: &[u8] = b"trusted.overlay.opaque\0";

fn is_opaque(p: &Path) -> bool {
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    let mut buf = [0u8; 8];
    let n = unsafe {
        nix::libc::lgetxattr(
            c.as_ptr(),
            OPAQUE.as_ptr().cast(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    n > 0 && buf[0] == b'y'
}

/// Glob match where `*` matches any run of characters except `/`.
pub fn glob(pat: &str, s: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => {
                let mut i = 0;
                loop {
                    if go(rest, &s[i..]) {
                        return true;
                    }
                    if i == s.len() || s[i] == b'/' {
                        return false;
                    }
                    i += 1;
                }
            }
            Some((c, rest)) => s.first() == Some(c) && go(rest, &s[1..]),
        }
    }
    go(pat.as_bytes(), s.as_bytes())
}

/// The changes as compared between reference and ours: without the
/// IGNORED files, VOLATILE_CONTENT ones as `Entry::Present`.  (Two main.cf
/// files that differ only in the order of what `postconf -e` appended are
/// then told apart by [`same_but_appended_order`].)
pub fn normalize_files(f: &BTreeMap<String, Option<Entry>>) -> BTreeMap<String, Option<Entry>> {
    let mut out = BTreeMap::new();
    for (k, v) in f {
        if IGNORED.iter().any(|p| glob(p, k)) {
            continue;
        }
        let volatile = VOLATILE_CONTENT.iter().any(|p| glob(p, k));
        let n = v.as_ref().map(|e| match e {
            _ if volatile => Entry::Present,
            other => other.clone(),
        });
        out.insert(k.clone(), n);
    }
    out
}

/// The name a main.cf line assigns (`name = ...` or `name=...`, the name
/// starting the line), if it does.
fn assigned_name(line: &[u8]) -> Option<&[u8]> {
    let first = *line.first()?;
    if first.is_ascii_whitespace() || first == b'#' {
        return None;
    }
    let eq = line.iter().position(|&c| c == b'=')?;
    Some(line[..eq].trim_ascii_end())
}

/// Whether two main.cf contents are the same but for the order of the
/// parameters `postconf -e` appended.  It edits a parameter the file has
/// in place and appends the others at the end, one `name = value` line
/// each, in the order of its hash table, which 3.7 randomizes from run to
/// run (in the command, and in the setup steps each sandbox runs for
/// itself).  So: after their longest common run of first lines, what is
/// left of each is only such lines (a whole line, ` = `, a name no other
/// line of that file assigns), and the same lines.  Everything else is
/// compared as it is: every line above, blank and continuation lines, a
/// missing final newline.  What this cannot tell apart: two such lines of
/// the test's own at the end of a file, swapped.
pub fn same_but_appended_order(a: &[u8], b: &[u8]) -> bool {
    let la: Vec<&[u8]> = a.split_inclusive(|&c| c == b'\n').collect();
    let lb: Vec<&[u8]> = b.split_inclusive(|&c| c == b'\n').collect();
    let p = la.iter().zip(&lb).take_while(|(x, y)| x == y).count();
    let appended = |lines: &[&[u8]], i: usize| {
        let l = lines[i];
        l.ends_with(b"\n")
            && l.windows(3).any(|w| w == b" = ")
            && assigned_name(l).is_some_and(|n| {
                lines
                    .iter()
                    .enumerate()
                    .all(|(j, e)| j == i || assigned_name(e) != Some(n))
            })
    };
    if !(p..la.len()).all(|i| appended(&la, i)) || !(p..lb.len()).all(|i| appended(&lb, i)) {
        return false;
    }
    let (mut ra, mut rb) = (la[p..].to_vec(), lb[p..].to_vec());
    ra.sort_unstable();
    rb.sort_unstable();
    ra == rb
}

pub(super) fn show_norm(e: Option<&Option<Entry>>) -> String {
    match e {
        None => "(not written)".into(),
        Some(None) => "(removed from the upper dir)".into(),
        Some(Some(Entry::File {
            mode,
            uid,
            gid,
            content,
        })) => {
            format!("file {mode:04o} {uid}:{gid}, {} bytes", content.len())
        }
        Some(Some(other)) => format!("{other:?}"),
    }
}
