//! Which Postfix is the reference: the host's (Debian 12, by default), or
//! that of another Debian release chosen with POSTMULTI_REFERENCE=RELEASE
//! (trixie: 3.10, sid: 3.11).  A release's root is made once by
//! tests/sandbox/make-root.sh (debootstrap) and cached in
//! /var/cache/postmulti-test-roots/RELEASE (POSTMULTI_ROOTS names another
//! directory); every sandbox then runs chrooted in a copy-on-write of it
//! (tests/sandbox/enter.sh's SANDBOX_ROOT), ours bind-mounted over its
//! /usr/sbin/postmulti as on the host.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The variable that picks the reference's Debian release.
pub const REFERENCE_RELEASE: &str = "POSTMULTI_REFERENCE";

/// The release named by POSTMULTI_REFERENCE; None for the host's own
/// Postfix (unset, empty or `host`).
pub fn reference_release() -> Option<String> {
    match std::env::var(REFERENCE_RELEASE) {
        Ok(r) if !r.is_empty() && r != "host" => Some(r),
        _ => None,
    }
}

/// The root of the reference's release, made now (tests/sandbox/make-root.sh,
/// once: it is cached) when it is missing; None for the host.  Panics with
/// make-root.sh's words when that fails: a missing reference is a failure,
/// never a skip.
pub fn reference_root() -> Option<PathBuf> {
    static ROOT: OnceLock<Option<PathBuf>> = OnceLock::new();
    ROOT.get_or_init(|| reference_release().map(|r| make_root(&r)))
        .clone()
}

fn make_root(release: &str) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sandbox/make-root.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(release)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{REFERENCE_RELEASE}={release}: no root for the reference ({} {release} failed):\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(stdout.trim_end())
}

/// Where the reference's Debian postmulti is on the host: that of the
/// release's root, else /usr/sbin/postmulti.
pub fn reference_binary() -> PathBuf {
    match reference_root() {
        Some(root) => root.join("usr/sbin/postmulti"),
        None => PathBuf::from(super::scenario::REFERENCE),
    }
}

/// `postconf -d -h NAME` of the reference's Postfix: a built-in default
/// that Debian's releases set differently (meta_directory: /etc/postfix on
/// Debian 12 and 13, /usr/share/postfix on unstable).
pub fn reference_default(name: &str) -> String {
    let mut c = match reference_root() {
        Some(root) => {
            let mut c = Command::new("chroot");
            c.arg(root).arg("/usr/sbin/postconf");
            c
        }
        None => Command::new("/usr/sbin/postconf"),
    };
    let out = c
        .args(["-d", "-h", name])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .unwrap_or_else(|e| panic!("run the reference's postconf -d -h {name}: {e}"));
    assert!(
        out.status.success(),
        "the reference's postconf -d -h {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

/// The reference Postfix's mail_version, as (major, minor, patch).
pub fn reference_version() -> (u32, u32, u32) {
    static VERSION: OnceLock<(u32, u32, u32)> = OnceLock::new();
    *VERSION.get_or_init(|| {
        let v = reference_default("mail_version");
        let mut n = v.split('.').map(|p| {
            p.parse::<u32>()
                .unwrap_or_else(|_| panic!("the reference's mail_version {v:?} is not N.N.N"))
        });
        match (n.next(), n.next(), n.next()) {
            (Some(a), Some(b), c) => (a, b, c.unwrap_or(0)),
            _ => panic!("the reference's mail_version {v:?} is not N.N.N"),
        }
    })
}

/// Whether the reference Postfix is release MAJOR.MINOR or newer: tests of
/// behaviour that differs between releases ask this (`-j` and diagnostics
/// on a stderr that is not a terminal are 3.11's).
pub fn reference_at_least(major: u32, minor: u32) -> bool {
    let (a, b, _) = reference_version();
    (a, b) >= (major, minor)
}

/// How the reference's postconf names a secondary's FILE (main.cf,
/// master.cf) in a warning about its values: 3.7 by the base name, 3.10
/// and 3.11 (as seen: Debian 13 and unstable) by its path.
pub fn cf_name(file: &str) -> &str {
    if reference_at_least(3, 10) {
        file
    } else {
        file.rsplit('/').next().unwrap()
    }
}

/// What tests/sandbox/enter.sh needs to run a sandbox on the reference's
/// root: SANDBOX_ROOT, and SANDBOX_SHARE (host paths bound read-only at
/// their own paths: the repository, and `extra`, e.g. our binary).  Nothing
/// for the host.
pub fn sandbox_root_env(extra: &[&Path]) -> Vec<(&'static str, std::ffi::OsString)> {
    let Some(root) = reference_root() else {
        return Vec::new();
    };
    let mut share = std::ffi::OsString::from(env!("CARGO_MANIFEST_DIR"));
    for p in extra {
        share.push(":");
        share.push(p.as_os_str());
    }
    vec![
        ("SANDBOX_ROOT", root.into_os_string()),
        ("SANDBOX_SHARE", share),
    ]
}
