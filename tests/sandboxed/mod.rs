//! Small helpers shared by the operator-experience tests (completion,
//! syslog, version, package): run a bash script as root inside
//! tests/sandbox/enter.sh, with overlays on the host's directories, and get
//! its output back.  These tests fail, never skip, when something they need
//! is missing.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

// The same root check as tests/common's.
#[path = "../common/root.rs"]
mod root;
pub use root::require_root;

/// The binary under test.
pub const OURS: &str = env!("CARGO_BIN_EXE_postmulti");

/// The repository's top directory.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Panics unless `program` is found in PATH, naming the Debian package.
#[track_caller]
pub fn require_program(program: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{program} not found: install the Debian package {package} (.ci/run does)"
    );
}

/// A work directory under /tmp; removed at the end unless POSTMULTI_KEEP is set.
pub struct Work {
    pub path: PathBuf,
    _guard: Option<tempfile::TempDir>,
}

impl std::ops::Deref for Work {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

/// A fresh work directory under /tmp named PREFIX...
pub fn workdir(prefix: &str) -> Work {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .expect("create a work directory in /tmp");
    if std::env::var_os("POSTMULTI_KEEP").is_some() {
        let path = dir.path().to_path_buf();
        // Not dropped, so not removed (TempDir::keep is tempfile 3.20+;
        // Cargo.toml allows any 3.x).
        std::mem::forget(dir);
        eprintln!("keeping {}", path.display());
        Work { path, _guard: None }
    } else {
        Work {
            path: dir.path().to_path_buf(),
            _guard: Some(dir),
        }
    }
}

/// The finished run of a sandboxed script.
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Panics with the whole output unless the script exited 0.
    #[track_caller]
    pub fn assert_ok(&self, what: &str) -> &Run {
        assert_eq!(
            self.status, 0,
            "{what} failed\n--- stdout:\n{}--- stderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// The command that runs `script` under `bash -c` in a sandbox whose
/// overlays are `overlays` (SANDBOX_OVERLAYS); stdin is /dev/null and OURS
/// is exported to the script.
pub fn sandbox_command(work: &Path, overlays: &str, script: &str) -> Command {
    require_root();
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("tests/sandbox/enter.sh"))
        .arg(work)
        .args(["bash", "-c", script, "sandbox-script"])
        .env("SANDBOX_OVERLAYS", overlays)
        .env("OURS", OURS)
        .env("REPO", repo())
        .env_remove("MAIL_CONFIG")
        .env_remove("MAIL_VERBOSE")
        .stdin(Stdio::null());
    cmd
}

/// Runs `script` in a sandbox with /etc, /var and /run overlaid.
pub fn sandbox(work: &Path, script: &str) -> Run {
    sandbox_with(work, "etc var run", script)
}

/// Runs `script` in a sandbox with the given overlays.
pub fn sandbox_with(work: &Path, overlays: &str, script: &str) -> Run {
    Run::from(
        sandbox_command(work, overlays, script)
            .output()
            .expect("run tests/sandbox/enter.sh"),
    )
}

/// Quotes a word for bash.
pub fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}
