//! The `Scenario` DSL: what a side-by-side test declares (setup steps, files,
//! environment, checks, normalizers, cache points), which binaries it runs as
//! the reference and as ours, and the runs that return a `Compared` or an
//! `Outcome`.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::driver::sh_quote_str;
use super::fixtures::{BASELINE_MAIN_CF, TWO_SECONDARIES};
use super::outcome::{Compared, Normalizer, Outcome};
use super::root::require_root;
use super::sandbox::{copy_tree, run_in_sandbox};

/// The reference binary, as installed by Debian's postfix package.
pub const REFERENCE: &str = "/usr/sbin/postmulti";

#[derive(Clone, Debug, Hash)]
pub(super) enum Step {
    Setup(String),
    File {
        path: String,
        content: Vec<u8>,
        mode: Option<u32>,
    },
}

#[derive(Clone, Debug)]
pub(super) enum Cmd {
    Args(Vec<OsString>),
    Shell(String),
}

#[derive(Clone)]
pub struct Scenario {
    pub(super) steps: Vec<Step>,
    pub(super) env: Vec<(OsString, Option<OsString>)>,
    pub(super) checks: Vec<String>,
    pub(super) normalizers: Vec<Normalizer>,
    pub(super) timeout: Duration,
    /// Step counts after which the upper dirs may be cached and reused.
    pub(super) cache_points: Vec<usize>,
    /// The binary run as "ours" (default: [`ours_binary`]).
    pub(super) ours: Option<PathBuf>,
}

impl Default for Scenario {
    fn default() -> Self {
        Self::new()
    }
}

impl Scenario {
    /// A fresh sandbox whose primary /etc/postfix/main.cf is [`BASELINE_MAIN_CF`].
    pub fn new() -> Self {
        require_root();
        Scenario {
            steps: vec![Step::File {
                path: "/etc/postfix/main.cf".into(),
                content: BASELINE_MAIN_CF.as_bytes().to_vec(),
                mode: Some(0o644),
            }],
            env: Vec::new(),
            checks: Vec::new(),
            normalizers: Vec::new(),
            timeout: Duration::from_secs(120),
            cache_points: Vec::new(),
            ours: None,
        }
    }

    /// Runs BINARY as "ours" instead of [`ours_binary`] (a build with other
    /// settings, say); the harness still refuses Debian's own postmulti.
    pub fn with_ours(mut self, binary: impl AsRef<Path>) -> Self {
        self.ours = Some(binary.as_ref().to_path_buf());
        self
    }

    /// The binary this scenario runs as "ours".
    fn ours(&self) -> PathBuf {
        self.ours.clone().unwrap_or_else(ours_binary)
    }

    /// A bash script (`bash -e`) run inside the sandbox before the command,
    /// always with the real postmulti. Output goes to WORK/setup.log; a
    /// failure panics with that log.
    pub fn setup(mut self, script: &str) -> Self {
        self.steps.push(Step::Setup(script.to_string()));
        self
    }

    /// Write a file (parents created, mode 0644) inside the sandbox before the command.
    pub fn file(self, path: &str, content: impl AsRef<[u8]>) -> Self {
        self.file_mode(path, content, 0o644)
    }

    pub fn file_mode(mut self, path: &str, content: impl AsRef<[u8]>, mode: u32) -> Self {
        self.steps.push(Step::File {
            path: path.into(),
            content: content.as_ref().to_vec(),
            mode: Some(mode),
        });
        self
    }

    /// Append `param = value` lines to a main.cf (last assignment wins).
    pub fn main_cf_append(self, path: &str, lines: &str) -> Self {
        let p = sh_quote_str(path);
        let mut script = format!("cat >> {p} <<'__PM_EOF__'\n{lines}");
        if !lines.ends_with('\n') {
            script.push('\n');
        }
        script.push_str("__PM_EOF__\n");
        self.setup(&script)
    }

    /// Set an environment variable for the command (not for setup steps).
    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((name.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    /// Remove a variable from the command's environment.
    pub fn env_remove(mut self, name: impl AsRef<OsStr>) -> Self {
        self.env.push((name.as_ref().to_owned(), None));
        self
    }

    /// A bash script run after the command (our binary still bind-mounted);
    /// its stdout+stderr and exit status land in `Outcome::checks`.
    pub fn check(mut self, script: &str) -> Self {
        self.checks.push(script.to_string());
        self
    }

    /// Rewrite stdout, stderr and checks output of both runs before comparing
    /// them (e.g. [`mask_pids`]).
    pub fn normalize(mut self, f: Normalizer) -> Self {
        self.normalizers.push(f);
        self
    }

    /// Everything declared so far is a pure function of the host (it only
    /// writes files under /etc, /var, /run: no mounts, no daemons left
    /// running): its upper dirs are computed once per test binary and copied
    /// into later sandboxes that start with the same steps.
    pub fn cache_point(mut self) -> Self {
        self.cache_points.push(self.steps.len());
        self
    }

    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Run `/usr/sbin/postmulti ARGS...` with the reference and with ours.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Compared {
        self.both(&Cmd::Args(argv(args)))
    }

    /// Run a bash script (stdin /dev/null, stdout pipe, stderr pty) with the
    /// reference and with ours.
    pub fn run_shell(&self, script: &str) -> Compared {
        self.both(&Cmd::Shell(script.to_string()))
    }

    /// Run `/usr/sbin/postmulti ARGS...` with ours only.
    pub fn run_ours<S: AsRef<OsStr>>(&self, args: &[S]) -> Outcome {
        self.once(&Cmd::Args(argv(args)), Some(&self.ours()))
    }

    pub fn run_shell_ours(&self, script: &str) -> Outcome {
        self.once(&Cmd::Shell(script.to_string()), Some(&self.ours()))
    }

    /// Run `/usr/sbin/postmulti ARGS...` with the reference only.
    pub fn run_reference<S: AsRef<OsStr>>(&self, args: &[S]) -> Outcome {
        self.once(&Cmd::Args(argv(args)), None)
    }

    pub fn run_shell_reference(&self, script: &str) -> Outcome {
        self.once(&Cmd::Shell(script.to_string()), None)
    }

    fn both(&self, cmd: &Cmd) -> Compared {
        let ours = self.ours();
        let (reference, ours) = std::thread::scope(|s| {
            let r = s.spawn(|| self.once(cmd, None));
            let o = s.spawn(|| self.once(cmd, Some(&ours)));
            (join(r), join(o))
        });
        Compared {
            reference,
            ours,
            normalizers: self.normalizers.clone(),
            compared: std::cell::Cell::new(false),
        }
    }

    fn once(&self, cmd: &Cmd, ours: Option<&Path>) -> Outcome {
        let tmp = tempfile::Builder::new()
            .prefix(if ours.is_some() {
                "pm-ours."
            } else {
                "pm-ref."
            })
            .tempdir_in("/tmp")
            .expect("create work dir in /tmp");
        let work = tmp.path().to_path_buf();
        let (start, cached) = self.cached_prefix();
        if let Some(c) = &cached {
            copy_tree(c, &work.join("upper"));
        }
        let outcome = run_in_sandbox(self, start, cmd, ours, &work);
        if std::env::var_os("POSTMULTI_KEEP").is_some() {
            eprintln!("kept work dir {}", work.display());
            // Not dropped, so not removed (TempDir::keep is tempfile 3.20+;
            // Cargo.toml allows any 3.x).
            std::mem::forget(tmp);
        }
        outcome
    }
}

impl Scenario {
    /// Primary + postfix-a (group g1) + postfix-b, all made by the real postmulti, both secondaries disabled.
    pub fn two_secondaries() -> Self {
        TWO_SECONDARIES
            .iter()
            .fold(Scenario::new(), |s, l| s.setup(l))
            .cache_point()
    }
    /// As [`Scenario::two_secondaries`], with postfix-a enabled.
    pub fn two_secondaries_a_enabled() -> Self {
        Self::two_secondaries()
            .setup("postmulti -i postfix-a -e enable")
            .cache_point()
    }
}

fn join<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    match h.join() {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e),
    }
}

fn argv<S: AsRef<OsStr>>(args: &[S]) -> Vec<OsString> {
    let mut v = vec![OsString::from(REFERENCE)];
    v.extend(args.iter().map(|a| a.as_ref().to_owned()));
    v
}

/// Set to 1 to let POSTMULTI_OURS name Debian's own postmulti (the
/// reference compared with itself); without it the harness refuses.
pub const OURS_IS_REFERENCE: &str = "POSTMULTI_OURS_IS_REFERENCE";

/// Whether the caller opted in to POSTMULTI_OURS being Debian's binary.
pub(super) fn ours_may_be_the_reference() -> bool {
    std::env::var_os(OURS_IS_REFERENCE).is_some_and(|v| v == "1")
}

/// Our binary: $POSTMULTI_OURS, else the crate's binary.  Refused (a
/// panic) when it is one of Debian's postmulti binaries (see
/// [`debian_postmulti`]), unless POSTMULTI_OURS_IS_REFERENCE=1: every
/// harness (the scenarios, the sandboxed scripts' `OURS`, the .deb of
/// systemd.rs) gets its binary here, so none compares Debian with itself
/// by accident.
pub fn ours_binary() -> PathBuf {
    let p = match std::env::var_os("POSTMULTI_OURS") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_postmulti")),
    };
    let p = std::fs::canonicalize(&p).unwrap_or_else(|e| panic!("our binary {}: {e}", p.display()));
    // Checked once per path and test process (an md5sum of the binary).
    static CHECKED: std::sync::Mutex<Vec<(PathBuf, Option<String>)>> =
        std::sync::Mutex::new(Vec::new());
    if !ours_may_be_the_reference() {
        let which = {
            let mut checked = CHECKED.lock().unwrap_or_else(|e| e.into_inner());
            match checked.iter().find(|(q, _)| *q == p) {
                Some((_, w)) => w.clone(),
                None => {
                    let w = debian_postmulti(&p);
                    checked.push((p.clone(), w.clone()));
                    w
                }
            }
        };
        if let Some(which) = which {
            panic!(
                "our binary {} is {which} (set {OURS_IS_REFERENCE}=1 to compare the reference with itself)",
                p.display()
            );
        }
    }
    p
}

/// Whether BINARY is Debian's packaged postmulti, of the host or of the
/// reference's release root: its md5sum is the one listed for
/// usr/sbin/postmulti in that root's /var/lib/dpkg/info/postfix.md5sums.
/// Some("Debian's postmulti (ROOT)") then, else None.
pub fn debian_postmulti(binary: &Path) -> Option<String> {
    let md5 = |f: &Path| -> String {
        let out = std::process::Command::new("md5sum")
            .arg("--")
            .arg(f)
            .output()
            .unwrap_or_else(|e| panic!("md5sum {}: {e}", f.display()));
        assert!(out.status.success(), "md5sum {} failed", f.display());
        String::from_utf8_lossy(&out.stdout)[..32].to_string()
    };
    let sum = md5(binary);
    let mut roots = vec![PathBuf::from("/")];
    roots.extend(super::reference::reference_root());
    for root in roots {
        let list = root.join("var/lib/dpkg/info/postfix.md5sums");
        let Ok(text) = std::fs::read_to_string(&list) else {
            continue;
        };
        let listed = text.lines().any(|l| {
            let mut w = l.split_whitespace();
            w.next() == Some(sum.as_str()) && w.next() == Some("usr/sbin/postmulti")
        });
        if listed {
            return Some(format!("Debian's postmulti ({})", list.display()));
        }
    }
    None
}
