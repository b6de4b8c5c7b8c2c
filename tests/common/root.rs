//! The root check of every sandbox test.

/// Sandbox tests need root (overlay mounts, namespaces). They fail, never
/// skip: CI runs as root and a skipped sandbox test counts as missing.
#[track_caller]
pub fn require_root() {
    if !nix::unistd::geteuid().is_root() {
        panic!(
            "the postmulti sandbox tests must run as root (they use unshare and overlay mounts), e.g. `sudo bash .ci/run`; refusing to skip"
        );
    }
}
