//! Scripts in a sandbox (tests/sandbox/enter.sh) for the operator-experience
//! tests (completion, manpage, syslog_records, version, package,
//! reproducible): run a bash script as root with overlays on the host's
//! directories and get its output back.  Our binary is the harness's
//! (`ours_binary`: POSTMULTI_OURS, else the crate's; Debian's postmulti is
//! refused unless POSTMULTI_OURS_IS_REFERENCE=1), exported to the script
//! as $OURS.  These tests fail, never skip, when something they need
//! is missing.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::reference::sandbox_root_env;
use super::root::require_root;
use super::scenario::ours_binary;

/// The binary under test: [`ours_binary`] (POSTMULTI_OURS, else the
/// crate's), read once.  `Command::new(OURS)`, `&*OURS` (a `&str`) and
/// `OURS` in a list of `&str` all work.
pub const OURS: &Ours = &Ours;

/// The type of [`OURS`]: dereferences to the path of our binary.
pub struct Ours;

impl std::ops::Deref for Ours {
    type Target = str;
    fn deref(&self) -> &str {
        static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        PATH.get_or_init(|| {
            let p = ours_binary();
            p.to_str()
                .unwrap_or_else(|| panic!("our binary's path is not UTF-8: {}", p.display()))
                .to_owned()
        })
    }
}

impl AsRef<OsStr> for Ours {
    fn as_ref(&self) -> &OsStr {
        OsStr::new(&**self)
    }
}

impl AsRef<Path> for Ours {
    fn as_ref(&self) -> &Path {
        Path::new(&**self)
    }
}

impl std::fmt::Display for Ours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

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
        .envs(sandbox_root_env(&[Path::new(OURS)]))
        .env("OURS", &**OURS)
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

/// Builds the project's package of our binary ([`OURS`]) into DIR with
/// `.ci/build-deb`; its path.
pub fn build_deb(dir: &Path) -> PathBuf {
    require_program("dpkg-deb", "dpkg");
    let out = Command::new("bash")
        .arg(repo().join(".ci/build-deb"))
        .args(["--binary", OURS, "--output"])
        .arg(dir)
        .output()
        .expect("run .ci/build-deb");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), ".ci/build-deb failed:\n{stderr}");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}
