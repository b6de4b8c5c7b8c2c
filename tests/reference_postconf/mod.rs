//! The reference's postconf for the oracles that run it outside any sandbox
//! (`fuzz.rs`, `exactness.rs`): the host's `/usr/sbin/postconf`, or with
//! POSTMULTI_REFERENCE=RELEASE the release root's, chrooted there in a
//! private mount namespace where the host's temporary directory (every
//! scratch directory of these tests is in it) is bound at its own path, so
//! that `postconf -c DIR` reads the very files the native reader read (the
//! cached root itself is left alone).  [`use_reference_table`] makes the
//! native reader in this process use that release's table of parameters
//! and defaults, as postmulti does when it runs on that release.
//!
//! The crate root must declare `mod common;` (for `reference_root`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::reference_root;

/// Where postconf is, on the host and in a release's root.
pub const POSTCONF: &str = "/usr/sbin/postconf";
/// Debian's stock master.cf, as the package ships it.
pub const STOCK_MASTER_CF: &str = "/usr/share/postfix/master.cf.dist";

/// A path of the reference's file system, as the host sees it.
pub fn in_reference(path: &str) -> PathBuf {
    match reference_root() {
        Some(root) => root.join(path.trim_start_matches('/')),
        None => PathBuf::from(path),
    }
}

/// Debian's stock master.cf of the reference release.
pub fn stock_master_cf() -> Vec<u8> {
    let p = in_reference(STOCK_MASTER_CF);
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (Debian's postfix of the reference is needed)",
            p.display()
        )
    })
}

/// Whether the reference's postconf and stock master.cf are there.
pub fn available() -> bool {
    in_reference(POSTCONF).exists() && in_reference(STOCK_MASTER_CF).exists()
}

/// A command that runs the reference's postconf with the arguments the
/// caller adds (`-c DIR` with DIR under the temporary directory).
pub fn postconf() -> Command {
    let Some(root) = reference_root() else {
        return Command::new(POSTCONF);
    };
    let tmp = std::env::temp_dir();
    assert!(
        root.join(tmp.strip_prefix("/").unwrap_or(&tmp)).is_dir(),
        "{} has no {}: the scratch directories cannot be bound there",
        root.display(),
        tmp.display()
    );
    let mut c = Command::new("unshare");
    c.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg(format!(
            "tmp=$1 root=$2; shift 2; mount --bind \"$tmp\" \"$root$tmp\" && exec chroot \"$root\" {POSTCONF} \"$@\""
        ))
        .arg("sh")
        .arg(&tmp)
        .arg(root);
    c
}

/// `postconf -dh mail_version` of the reference.
pub fn mail_version() -> String {
    let out = postconf()
        .args(["-dh", "mail_version"])
        .output()
        .expect("run the reference's postconf");
    assert!(out.status.success(), "postconf -dh mail_version failed");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Makes the native reader of this process use the reference's table of
/// built-in parameters and its defaults (`postmulti::defaults::activate`
/// with a command_directory whose postconf is the reference's: on the host
/// the recorded table, on a release the one its `postconf -d` prints), and
/// checks that it did.  Call before the first native read.
pub fn use_reference_table() {
    static DONE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        let command_dir: Vec<u8> = match reference_root() {
            None => b"/usr/sbin".to_vec(),
            Some(root) => {
                // A postconf that is the release's, for activate() to run.
                let dir = std::env::temp_dir()
                    .join(format!("pm-reference-postconf.{}", std::process::id()));
                std::fs::create_dir_all(&dir).unwrap();
                let script = format!(
                    "#!/bin/sh\nexec chroot {} {POSTCONF} \"$@\"\n",
                    shell_word(&root)
                );
                let path = dir.join("postconf");
                std::fs::write(&path, script).unwrap();
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
                use std::os::unix::ffi::OsStrExt;
                dir.as_os_str().as_bytes().to_vec()
            }
        };
        let active = postmulti::defaults::activate(&command_dir);
        if reference_root().is_some() {
            use std::os::unix::ffi::OsStrExt;
            let _ = std::fs::remove_dir_all(std::ffi::OsStr::from_bytes(&command_dir));
        }
        let want = mail_version();
        assert_eq!(
            active.table.mail_version, want,
            "the native reader's table ({:?}) is not the reference's",
            active.source
        );
    });
}

fn shell_word(p: &Path) -> String {
    format!("'{}'", p.to_string_lossy().replace('\'', "'\\''"))
}

/// The warnings the native reader printed itself in an answer, as
/// postmulti prints them for postconf (`/usr/sbin/postconf: warning: ...`).
pub fn warnings_of(answer: &postmulti::native::Answer) -> Vec<u8> {
    let mut text = Vec::new();
    for w in &answer.warnings {
        text.extend_from_slice(POSTCONF.as_bytes());
        text.extend_from_slice(b": warning: ");
        text.extend_from_slice(w);
        text.push(b'\n');
    }
    text
}
