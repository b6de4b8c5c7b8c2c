//! Side-by-side test harness: runs the reference `/usr/sbin/postmulti`
//! (the host's Debian 12 Postfix 3.7, or another Debian release's with
//! POSTMULTI_REFERENCE=trixie|sid: see `reference.rs`) and ours in two
//! identical throw-away sandboxes (tests/sandbox/enter.sh: private
//! mount+pid+net+uts namespaces, overlays on /etc, /var and /run) and
//! compares what each did.
//!
//! ```ignore
//! Scenario::new()                          // fresh sandbox per run, fixed primary main.cf
//!     .setup("postmulti -e init")          // shell, REAL postmulti, logged to WORK/setup.log
//!     .file("/etc/postfix-x/main.cf", "...")
//!     .env("NAME", "value")                // extra environment for the command only
//!     .check("postfix -c /etc/postfix-a status")  // shell run AFTER the command, output compared
//!     .run(&["-l"])                        // `/usr/sbin/postmulti -l`, reference and ours
//!     .assert_same();                      // status, stdout, stderr (a pty), checks, syslog, files
//! ```
//!
//! * `run_shell("postmulti -l | head -1")` runs a bash script instead of argv.
//! * `run_ours(..)` / `run_shell_ours(..)` run only ours, for behaviour the
//!   reference lacks (`-j` before 3.11: ask `reference_at_least(3, 11)`);
//!   assert on the returned [`Outcome`].
//! * POSTMULTI_OURS=/path overrides our binary; Debian's own postmulti is
//!   refused unless POSTMULTI_OURS_IS_REFERENCE=1 (then every differential
//!   test compares the reference with itself).
//! * POSTMULTI_KEEP=1 keeps the work directories (paths printed on stderr).
//!
//! Inside the sandbox: setup steps and `.file()` writes run in the order they
//! were declared, with the real postmulti; then the harness snapshots the
//! overlay upper directories; then (for ours) our binary is bind-mounted over
//! /usr/sbin/postmulti, so `postfix start` (multi_instance_wrapper) uses it
//! too; then the command runs with stdin = /dev/null, stdout = a pipe and
//! stderr = a raw-mode pty (before 3.11 postmulti writes diagnostics to
//! stderr only when it is a terminal); then the checks. When the driver exits, the pid
//! namespace dies and every daemon with it.
//!
//! "Files written" = entries of WORK/upper/{etc,var,run} that the command and
//! the checks added, changed or removed relative to the snapshot.
//!
//! Files: `scenario.rs` (the DSL), `driver.rs` (the bash driver script),
//! `sandbox.rs` (running one sandbox), `outcome.rs` (Outcome, Compared,
//! normalizers), `manifest.rs` (upper-dir manifests), `fixtures.rs` (fixed
//! inputs), `root.rs` (the root check), `sandboxed.rs` (a bash script in a
//! sandbox, its output back: the operator-experience tests; tests/sandboxed
//! is this same module under another name).
// Each test binary uses a part of this module: what it leaves unused is
// neither dead code nor a stray import.
#![allow(dead_code, unused_imports)]

mod driver;
mod fixtures;
mod manifest;
mod outcome;
mod reference;
mod root;
mod sandbox;
mod sandboxed;
mod scenario;

pub use driver::{sh_quote, sh_quote_str};
pub use fixtures::*;
pub use manifest::*;
pub use outcome::*;
pub use reference::{
    cf_name, reference_at_least, reference_binary, reference_default, reference_release,
    reference_root, reference_version, REFERENCE_RELEASE,
};
pub use root::require_root;
pub use sandboxed::*;
pub use scenario::*;
