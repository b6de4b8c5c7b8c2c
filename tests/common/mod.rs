//! Side-by-side test harness: runs the reference `/usr/sbin/postmulti`
//! (Debian's Postfix 3.7) and ours in two identical throw-away sandboxes
//! (tests/sandbox/enter.sh: private mount+pid+net+uts namespaces, overlays on
//! /etc, /var and /run) and compares what each did.
//!
//! ```ignore
//! Scenario::new()                          // fresh sandbox per run, fixed primary main.cf
//!     .setup("postmulti -e init")          // shell, REAL postmulti, logged to WORK/setup.log
//!     .file("/etc/postfix-x/main.cf", "...")
//!     .env("NAME", "value")                // extra environment for the command only
//!     .check("postfix -c /etc/postfix-a status")  // shell run AFTER the command, output compared
//!     .run(&["-l"])                        // `/usr/sbin/postmulti -l`, reference and ours
//!     .assert_same();                      // status, stdout, stderr (a pty), checks, files written
//! ```
//!
//! * `run_shell("postmulti -l | head -1")` runs a bash script instead of argv.
//! * `run_ours(..)` / `run_shell_ours(..)` run only ours, for 3.11+ behaviour
//!   that Debian's 3.7 lacks (`-j`); assert on the returned [`Outcome`].
//! * POSTMULTI_OURS=/path overrides our binary (POSTMULTI_OURS=/usr/sbin/postmulti
//!   makes every differential test compare the reference with itself).
//! * POSTMULTI_KEEP=1 keeps the work directories (paths printed on stderr).
//!
//! Inside the sandbox: setup steps and `.file()` writes run in the order they
//! were declared, with the real postmulti; then the harness snapshots the
//! overlay upper directories; then (for ours) our binary is bind-mounted over
//! /usr/sbin/postmulti, so `postfix start` (multi_instance_wrapper) uses it
//! too; then the command runs with stdin = /dev/null, stdout = a pipe and
//! stderr = a raw-mode pty (Debian 3.7 writes diagnostics to stderr only when
//! it is a terminal); then the checks. When the driver exits, the pid
//! namespace dies and every daemon with it.
//!
//! "Files written" = entries of WORK/upper/{etc,var,run} that the command and
//! the checks added, changed or removed relative to the snapshot.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The reference binary, as installed by Debian's postfix package.
pub const REFERENCE: &str = "/usr/sbin/postmulti";

/// The usage fatal of postmulti, as the reference prints it (note: no space
/// after "Usage:").
pub const USAGE: &str = "postmulti: fatal: Usage:postmulti -l [-v] [-a] [-g group] [-i instance] | postmulti -p [-v] [-a] [-g group] [-i instance] command... | postmulti -x [-v] [-a] [-i name] [-g group] command... | postmulti -e action [-v] [-a] [-i name] [-g group] [-I name] [-G group] [param=value ...]\n";

/// The fixed primary main.cf every sandbox starts from: Debian 12's default
/// with every host-dependent value pinned (myhostname, mydestination) and a
/// loopback-only, IPv4-only network so that `postfix start` binds nothing
/// outside the sandbox's lo.
pub const BASELINE_MAIN_CF: &str = "\
# postmulti test sandbox: fixed primary main.cf (Debian 12 default, host-independent)
smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
biff = no
append_dot_mydomain = no
readme_directory = no
compatibility_level = 3.6
smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem
smtpd_tls_key_file=/etc/ssl/private/ssl-cert-snakeoil.key
smtpd_tls_security_level=may
smtp_tls_CApath=/etc/ssl/certs
smtp_tls_security_level=may
smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination
myhostname = sandbox.example
alias_maps = hash:/etc/aliases
alias_database = hash:/etc/aliases
mydestination = $myhostname, localhost.localdomain, localhost
relayhost =
mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128
mailbox_size_limit = 0
recipient_delimiter = +
inet_interfaces = loopback-only
inet_protocols = ipv4
";

/// Environment every sandbox (and so every command) starts with; nothing of
/// the caller's environment leaks in.
const BASE_ENV: &[(&str, &str)] = &[
    (
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ),
    ("HOME", "/root"),
];

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
    // ours creates it, empty, and upstream has no lock. tests/concurrency.rs
    // checks it (Outcome::after still lists it).
    "/run/postmulti.lock",
];

// ---------------------------------------------------------------------------
// Scenario builder
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, Hash)]
enum Step {
    Setup(String),
    File {
        path: String,
        content: Vec<u8>,
        mode: Option<u32>,
    },
}

#[derive(Clone, Debug)]
enum Cmd {
    Args(Vec<OsString>),
    Shell(String),
}

type Normalizer = fn(&[u8]) -> Vec<u8>;

#[derive(Clone)]
pub struct Scenario {
    steps: Vec<Step>,
    env: Vec<(OsString, Option<OsString>)>,
    checks: Vec<String>,
    normalizers: Vec<Normalizer>,
    timeout: Duration,
    /// Step counts after which the upper dirs may be cached and reused.
    cache_points: Vec<usize>,
    /// The binary run as "ours" (default: [`ours_binary`]).
    ours: Option<PathBuf>,
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
            let _ = tmp.keep();
        }
        outcome
    }
}

impl Scenario {
    /// The longest cache point, with its upper dirs (computed now if needed).
    fn cached_prefix(&self) -> (usize, Option<PathBuf>) {
        let Some(&n) = self.cache_points.iter().filter(|&&n| n > 0).max() else {
            return (0, None);
        };
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.steps[..n].hash(&mut h);
        let key = h.finish();
        let cell = {
            let mut m = CACHE.lock().unwrap();
            m.entry(key)
                .or_insert_with(|| std::sync::Arc::new(std::sync::OnceLock::new()))
                .clone()
        };
        let dir = cell.get_or_init(|| {
            let mut prefix = self.clone();
            prefix.steps.truncate(n);
            prefix.cache_points.clear();
            prefix.checks.clear();
            let dir = cache_root().join(format!("{key:016x}"));
            std::fs::create_dir_all(&dir).unwrap();
            let work = tempfile::Builder::new()
                .prefix("pm-cache.")
                .tempdir_in("/tmp")
                .unwrap();
            run_in_sandbox(&prefix, 0, &Cmd::Shell("true".into()), None, work.path());
            copy_tree(&work.path().join("upper"), &dir);
            dir
        });
        (n, Some(dir.clone()))
    }
}

static CACHE: std::sync::Mutex<BTreeMap<u64, std::sync::Arc<std::sync::OnceLock<PathBuf>>>> =
    std::sync::Mutex::new(BTreeMap::new());

/// /tmp/pm-cache.PID, removed when the test process exits.
fn cache_root() -> PathBuf {
    static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let p = PathBuf::from(format!("/tmp/pm-cache.{}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        extern "C" fn cleanup() {
            let _ = std::fs::remove_dir_all(format!("/tmp/pm-cache.{}", std::process::id()));
        }
        unsafe { nix::libc::atexit(cleanup) };
        p
    })
    .clone()
}

/// `cp -a SRC/. DST` (keeps owners, modes, mtimes, xattrs and whiteouts).
fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    let st = Command::new("cp")
        .arg("-a")
        .arg("--")
        .arg(src.join("."))
        .arg(dst)
        .status()
        .expect("cp");
    assert!(
        st.success(),
        "cp -a {} {} failed",
        src.display(),
        dst.display()
    );
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
fn ours_may_be_the_reference() -> bool {
    std::env::var_os(OURS_IS_REFERENCE).is_some_and(|v| v == "1")
}

/// Our binary: $POSTMULTI_OURS, else the crate's binary.
pub fn ours_binary() -> PathBuf {
    let p = match std::env::var_os("POSTMULTI_OURS") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_postmulti")),
    };
    std::fs::canonicalize(&p).unwrap_or_else(|e| panic!("our binary {}: {e}", p.display()))
}

/// Sandbox tests need root (overlay mounts, namespaces). They fail, never
/// skip: CI runs as root and a skipped sandbox test counts as missing.
pub fn require_root() {
    if !nix::unistd::geteuid().is_root() {
        panic!("the postmulti sandbox tests must run as root (they use unshare and overlay mounts); refusing to skip");
    }
}

// ---------------------------------------------------------------------------
// Running one sandbox
// ---------------------------------------------------------------------------

fn enter_sh() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sandbox/enter.sh")
}

/// Shell-quote arbitrary bytes for bash (single quotes).
pub fn sh_quote(b: &[u8]) -> Vec<u8> {
    let mut s = Vec::with_capacity(b.len() + 2);
    s.push(b'\'');
    for &c in b {
        if c == b'\'' {
            s.extend_from_slice(b"'\\''");
        } else {
            s.push(c);
        }
    }
    s.push(b'\'');
    s
}

/// sh_quote for text.
pub fn sh_quote_str(s: &str) -> String {
    String::from_utf8(sh_quote(s.as_bytes())).unwrap()
}

fn write_file(path: &Path, content: &[u8]) {
    std::fs::write(path, content).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn build_driver(
    sc: &Scenario,
    start: usize,
    cmd: &Cmd,
    ours: Option<&Path>,
    work: &Path,
) -> Vec<u8> {
    let w = sh_quote_str(&work.to_string_lossy());
    let mut d = String::new();
    writeln!(d, "#!/bin/bash").unwrap();
    writeln!(d, "# generated by tests/common/mod.rs").unwrap();
    writeln!(d, "W={w}").unwrap();
    // fd 6: the go channel from the harness; everything else gets /dev/null.
    writeln!(d, "exec 6<&0 </dev/null").unwrap();
    writeln!(d, "cd /").unwrap();
    writeln!(d, "fail() {{ echo \"SETUP-FAILED $1\"; exit 0; }}").unwrap();
    // Postfix will not read a configuration file modified less than ~2 s
    // ago (dict_load_file waits, polling every 300 ms, for it to settle):
    // backdate everything setup wrote under /etc so the command does not
    // spend seconds sleeping. mtimes are not part of the manifest.
    writeln!(
        d,
        "age() {{ find \"$W/upper/etc\" -type f -exec touch -h -d @1577836800 {{}} + ; }}"
    )
    .unwrap();
    for (i, step) in sc.steps.iter().enumerate().skip(start) {
        match step {
            Step::Setup(script) => {
                let f = work.join(format!("step-{i}.sh"));
                let mut script = script.clone();
                if !script.ends_with('\n') {
                    script.push('\n');
                }
                write_file(&f, script.as_bytes());
                writeln!(d, "{{ echo \"## step {i}: setup\"; sed 's/^/## | /' \"$W/step-{i}.sh\"; }} >>\"$W/setup.log\"").unwrap();
                writeln!(
                    d,
                    "bash -e \"$W/step-{i}.sh\" >>\"$W/setup.log\" 2>&1 6<&- || fail {i}; age"
                )
                .unwrap();
            }
            Step::File {
                path,
                content,
                mode,
            } => {
                let f = work.join(format!("file-{i}"));
                write_file(&f, content);
                let p = sh_quote_str(path);
                writeln!(d, "echo \"## step {i}: file \"{p} >>\"$W/setup.log\"").unwrap();
                let mut line =
                    format!("{{ mkdir -p -- \"$(dirname -- {p})\" && cat -- \"$W/file-{i}\" > {p}");
                if let Some(m) = mode {
                    write!(line, " && chmod {m:o} -- {p}").unwrap();
                }
                write!(line, "; }} >>\"$W/setup.log\" 2>&1 || fail {i}; age").unwrap();
                writeln!(d, "{line}").unwrap();
            }
        }
    }
    // The binary under test: Debian's packaged postmulti for the reference,
    // the candidate (never Debian's, unless opted in) for ours.
    writeln!(
        d,
        "debian=$(awk '$2 == \"usr/sbin/postmulti\" {{ print $1 }}' /var/lib/dpkg/info/postfix.md5sums)"
    )
    .unwrap();
    writeln!(d, "[ -n \"$debian\" ] || fail 'no md5sum of usr/sbin/postmulti in /var/lib/dpkg/info/postfix.md5sums'").unwrap();
    writeln!(d, "md5() {{ md5sum < \"$1\" | cut -c1-32; }}").unwrap();
    match ours {
        Some(o) => {
            let o = sh_quote_str(&o.to_string_lossy());
            writeln!(d, "want=$(md5 {o}) || fail 'cannot read our binary {o}'").unwrap();
            if !ours_may_be_the_reference() {
                writeln!(d, "[ \"$want\" != \"$debian\" ] || fail 'our binary {o} is Debian'\\''s postmulti (set {OURS_IS_REFERENCE}=1 to compare the reference with itself)'").unwrap();
            }
        }
        None => writeln!(d, "want=$debian").unwrap(),
    }
    // Handshake: the harness snapshots the upper dirs, then says go.
    writeln!(d, "echo READY").unwrap();
    writeln!(d, "read -r _ <&6; exec 6<&-").unwrap();
    writeln!(
        d,
        "hfail() {{ echo \"$1\" > \"$W/harness-failed\"; exit 0; }}"
    )
    .unwrap();
    if let Some(o) = ours {
        let o = sh_quote_str(&o.to_string_lossy());
        writeln!(
            d,
            "mount --bind {o} /usr/sbin/postmulti || hfail 'cannot bind-mount our binary over /usr/sbin/postmulti'"
        )
        .unwrap();
    }
    // Proof that the intended binary is the one a command finds.
    writeln!(d, "[ \"$(command -v postmulti)\" = /usr/sbin/postmulti ] || hfail \"postmulti resolves to $(command -v postmulti), not /usr/sbin/postmulti\"").unwrap();
    writeln!(d, "[ \"$(md5 /usr/sbin/postmulti)\" = \"$want\" ] || hfail '/usr/sbin/postmulti is not the binary under test'").unwrap();
    let mut d = d.into_bytes();
    d.extend_from_slice(b"env");
    // `env -u NAME` must precede the NAME=VALUE operands.
    for (k, _) in sc.env.iter().filter(|(_, v)| v.is_none()) {
        d.extend_from_slice(b" -u ");
        d.extend_from_slice(&sh_quote(k.as_bytes()));
    }
    for (k, v) in &sc.env {
        if let Some(v) = v {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            d.push(b' ');
            d.extend_from_slice(&sh_quote(&kv));
        }
    }
    let mut tail = String::new();
    match cmd {
        Cmd::Args(_) => writeln!(tail, " \"$@\"").unwrap(),
        Cmd::Shell(script) => {
            write_file(&work.join("cmd.sh"), script.as_bytes());
            writeln!(tail, " bash \"$W/cmd.sh\"").unwrap();
        }
    }
    writeln!(tail, "echo $? > \"$W/status\"").unwrap();
    for (i, check) in sc.checks.iter().enumerate() {
        write_file(&work.join(format!("check-{i}.sh")), check.as_bytes());
        writeln!(tail, "bash \"$W/check-{i}.sh\" >>\"$W/checks.log\" 2>&1; echo \"[check {i}: exit $?]\" >>\"$W/checks.log\"").unwrap();
    }
    writeln!(tail, "exit 0").unwrap();
    d.extend_from_slice(tail.as_bytes());
    d
}

/// A pty whose slave is in raw mode (no \r added); both ends close-on-exec so
/// that concurrent sandboxes never inherit each other's terminals.
fn raw_pty() -> (nix::pty::PtyMaster, OwnedFd) {
    use nix::fcntl::OFlag;
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .expect("posix_openpt");
    nix::pty::grantpt(&master).expect("grantpt");
    nix::pty::unlockpt(&master).expect("unlockpt");
    let name = nix::pty::ptsname_r(&master).expect("ptsname_r");
    let slave: OwnedFd = nix::fcntl::open(
        name.as_str(),
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map(|fd| unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) })
    .expect("open pty slave");
    let mut t = nix::sys::termios::tcgetattr(slave.as_fd()).expect("tcgetattr");
    nix::sys::termios::cfmakeraw(&mut t);
    nix::sys::termios::tcsetattr(slave.as_fd(), nix::sys::termios::SetArg::TCSANOW, &t)
        .expect("tcsetattr");
    (master, slave)
}

fn read_pty(mut m: nix::pty::PtyMaster) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match m.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // EIO: every slave descriptor is closed.
            Err(_) => break,
        }
    }
    out
}

fn run_in_sandbox(
    sc: &Scenario,
    start: usize,
    cmd: &Cmd,
    ours: Option<&Path>,
    work: &Path,
) -> Outcome {
    let driver = build_driver(sc, start, cmd, ours, work);
    write_file(&work.join("driver.sh"), &driver);

    // syslog: enter.sh points the sandbox's /dev/log at this socket.
    let syslog = std::os::unix::net::UnixDatagram::bind(work.join("syslog.sock"))
        .expect("bind syslog socket");
    let (master, slave) = raw_pty();
    let (out_r, out_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("pipe");
    let out_r = std::fs::File::from(out_r);
    let mut c = Command::new("bash");
    c.arg(enter_sh())
        .arg(work)
        .arg("bash")
        .arg(work.join("driver.sh"));
    if let Cmd::Args(a) = cmd {
        c.args(a);
    }
    c.env_clear();
    for (k, v) in BASE_ENV {
        c.env(k, v);
    }
    c.stdin(Stdio::piped())
        .stdout(Stdio::from(out_w))
        .stderr(Stdio::from(slave));
    let mut child = c
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", enter_sh().display()));
    drop(c); // close our copies of the pipe's write end and of the pty slave
    let mut go = child.stdin.take().unwrap();

    let err_reader = std::thread::spawn(move || read_pty(master));
    let mut out = BufReader::new(out_r);
    let deadline = Instant::now() + sc.timeout;
    let watchdog = Watchdog::start(child.id(), sc.timeout);

    // Phase 1: setup, until the driver says READY (or SETUP-FAILED).
    let mut line = Vec::new();
    out.read_until(b'\n', &mut line)
        .expect("read sandbox stdout");
    let setup_log = std::fs::read(work.join("setup.log")).unwrap_or_default();
    if line != b"READY\n" {
        drop(go);
        let _ = child.wait();
        watchdog.stop();
        let stderr = err_reader.join().unwrap();
        let mut rest = Vec::new();
        let _ = out.read_to_end(&mut rest);
        panic!(
            "sandbox setup failed ({}) in {}\n--- driver said: {}\n--- setup.log:\n{}\n--- sandbox stdout:\n{}\n--- sandbox stderr:\n{}",
            if ours.is_some() { "ours" } else { "reference" },
            work.display(),
            String::from_utf8_lossy(&line).trim_end(),
            String::from_utf8_lossy(&std::fs::read(work.join("setup.log")).unwrap_or_default()),
            String::from_utf8_lossy(&rest),
            String::from_utf8_lossy(&stderr),
        );
    }
    let before = Manifest::read(&work.join("upper"));
    // Everything logged so far was logged by setup steps: drop it.
    drain(&syslog);
    let stop_syslog = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let syslog_reader = {
        let stop = stop_syslog.clone();
        std::thread::spawn(move || {
            let mut recs = Vec::new();
            syslog
                .set_read_timeout(Some(Duration::from_millis(50)))
                .unwrap();
            let mut buf = vec![0u8; 65536];
            loop {
                match syslog.recv(&mut buf) {
                    Ok(n) => recs.push(buf[..n].to_vec()),
                    Err(_) if stop.load(std::sync::atomic::Ordering::SeqCst) => break,
                    Err(_) => {}
                }
            }
            recs.extend(drain(&syslog));
            recs
        })
    };

    // Phase 2: the command and the checks.
    go.write_all(b"go\n").expect("tell the sandbox to go");
    drop(go);
    let mut stdout = Vec::new();
    out.read_to_end(&mut stdout).expect("read sandbox stdout");
    let wait = child.wait().expect("wait for sandbox");
    let timed_out = watchdog.stop() || Instant::now() > deadline;
    let stderr = err_reader.join().unwrap();
    if let Ok(why) = std::fs::read_to_string(work.join("harness-failed")) {
        panic!(
            "sandbox ({}) in {}: {}",
            if ours.is_some() { "ours" } else { "reference" },
            work.display(),
            why.trim_end()
        );
    }
    let status_file = std::fs::read_to_string(work.join("status")).ok();
    let status = match status_file.as_deref().map(str::trim).map(str::parse::<i32>) {
        Some(Ok(s)) if !timed_out => s,
        _ => panic!(
            "sandbox did not complete ({}; {}; {wait}) in {}\n--- stdout:\n{}\n--- stderr:\n{}\n--- setup.log:\n{}",
            if ours.is_some() { "ours" } else { "reference" },
            if timed_out { "timed out" } else { "no status" },
            work.display(),
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr),
            String::from_utf8_lossy(&setup_log),
        ),
    };
    stop_syslog.store(true, std::sync::atomic::Ordering::SeqCst);
    let syslog = syslog_reader.join().unwrap();
    let after = Manifest::read(&work.join("upper"));
    let files = after.changes_since(&before);
    Outcome {
        which: if ours.is_some() { "ours" } else { "reference" },
        status,
        stdout,
        stderr,
        checks: std::fs::read(work.join("checks.log")).unwrap_or_default(),
        files,
        after,
        setup_log: String::from_utf8_lossy(
            &std::fs::read(work.join("setup.log")).unwrap_or_default(),
        )
        .into_owned(),
        syslog,
        pinned: std::cell::Cell::new(false),
    }
}

/// Non-blocking read of every queued datagram.
fn drain(s: &std::os::unix::net::UnixDatagram) -> Vec<Vec<u8>> {
    s.set_nonblocking(true).unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65536];
    while let Ok(n) = s.recv(&mut buf) {
        out.push(buf[..n].to_vec());
    }
    s.set_nonblocking(false).unwrap();
    out
}

/// A syslog record with its timestamp and pid masked:
/// `<18>Nov 25 13:09:29 postmulti[23975]: fatal: x` -> `<18>TIME postmulti[PID]: fatal: x`.
/// Returns (tag, normalized record).
pub fn normalize_syslog(r: &[u8]) -> (String, String) {
    let s = String::from_utf8_lossy(r).into_owned();
    let s = s.trim_end_matches('\n').to_string();
    let Some(gt) = s.find('>') else {
        return (String::new(), s);
    };
    let (pri, rest) = s.split_at(gt + 1);
    // "Mmm dd hh:mm:ss " is 16 bytes.
    let rest = if rest.len() > 16 && rest.as_bytes()[15] == b' ' {
        &rest[16..]
    } else {
        rest
    };
    let Some(colon) = rest.find(": ") else {
        return (String::new(), format!("{pri}TIME {rest}"));
    };
    let (head, text) = rest.split_at(colon);
    let tag = match head.find('[') {
        Some(b)
            if head.ends_with(']')
                && head[b + 1..head.len() - 1]
                    .bytes()
                    .all(|c| c.is_ascii_digit()) =>
        {
            &head[..b]
        }
        _ => head,
    };
    (tag.to_string(), format!("{pri}TIME {tag}[PID]{text}"))
}

/// Kills the sandbox (the unshare process we started; its --kill-child takes
/// the namespace down) when it outlives its timeout.
struct Watchdog {
    tx: std::sync::mpsc::Sender<()>,
    h: std::thread::JoinHandle<bool>,
}

impl Watchdog {
    fn start(pid: u32, t: Duration) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let h = std::thread::spawn(move || match rx.recv_timeout(t) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
                true
            }
            _ => false,
        });
        Watchdog { tx, h }
    }
    /// Returns true when it fired.
    fn stop(self) -> bool {
        let _ = self.tx.send(());
        self.h.join().unwrap_or(true)
    }
}

// ---------------------------------------------------------------------------
// Outcomes
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub struct Outcome {
    pub which: &'static str,
    /// The command's exit status as bash reports it (128+N when killed by signal N).
    pub status: i32,
    pub stdout: Vec<u8>,
    /// Everything written to the pty that was the command's stderr.
    pub stderr: Vec<u8>,
    /// Output of the `.check()` scripts, each followed by `[check N: exit S]`.
    pub checks: Vec<u8>,
    /// Entries of the overlay upper dirs added/changed (Some) or dropped (None)
    /// by the command and checks, keyed by absolute path inside the sandbox.
    pub files: BTreeMap<String, Option<Entry>>,
    /// The whole upper-dir manifest after the command.
    pub after: Manifest,
    pub setup_log: String,
    /// Raw syslog records (`<PRI>Mmm dd hh:mm:ss TAG[PID]: text`) sent to
    /// /dev/log by the command and the checks, in arrival order.
    pub syslog: Vec<Vec<u8>>,
    /// Set by every assertion on this outcome's status or output.
    pinned: std::cell::Cell<bool>,
}

impl Outcome {
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    /// Normalized syslog records of postmulti itself (tag `postmulti`, as
    /// logged by postmulti and by its children before they exec).
    pub fn postmulti_syslog(&self) -> Vec<String> {
        self.syslog
            .iter()
            .map(|r| normalize_syslog(r))
            .filter(|(t, _)| t == "postmulti")
            .map(|(_, r)| r)
            .collect()
    }
    /// All normalized syslog records, whatever the tag.
    pub fn all_syslog(&self) -> Vec<String> {
        self.syslog.iter().map(|r| normalize_syslog(r).1).collect()
    }
    pub fn checks_str(&self) -> String {
        String::from_utf8_lossy(&self.checks).into_owned()
    }
    /// Content of a regular file as it is after the command (None when it
    /// was not written in the sandbox, or is not a regular file).
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        match self.after.0.get(path) {
            Some(Entry::File { content, .. }) => Some(content),
            _ => None,
        }
    }
    #[track_caller]
    /// Like [`Outcome::file`], for a test that asserts on the content: it
    /// counts as pinning this outcome.
    pub fn pin_file(&self, path: &str) -> Option<&[u8]> {
        self.pinned.set(true);
        self.file(path)
    }
    #[track_caller]
    pub fn assert_status(&self, s: i32) -> &Self {
        self.pinned.set(true);
        assert_eq!(
            self.status,
            s,
            "exit status of {}\n{}",
            self.which,
            self.describe()
        );
        self
    }
    #[track_caller]
    pub fn assert_stdout(&self, s: impl AsRef<[u8]>) -> &Self {
        self.pinned.set(true);
        let s = s.as_ref();
        assert!(
            self.stdout == s,
            "stdout of {}\n--- expected:\n{}\n--- got:\n{}\n{}",
            self.which,
            String::from_utf8_lossy(s),
            self.stdout_str(),
            self.describe()
        );
        self
    }
    #[track_caller]
    pub fn assert_stderr(&self, s: impl AsRef<[u8]>) -> &Self {
        self.pinned.set(true);
        let s = s.as_ref();
        assert!(
            self.stderr == s,
            "stderr of {}\n--- expected:\n{}\n--- got:\n{}\n{}",
            self.which,
            String::from_utf8_lossy(s),
            self.stderr_str(),
            self.describe()
        );
        self
    }
    /// Assert the command wrote no file (setup writes do not count).
    pub fn assert_no_files_written(&self) -> &Self {
        let f = normalize_files(&self.files);
        assert!(
            f.is_empty(),
            "{} wrote files: {:?}",
            self.which,
            f.keys().collect::<Vec<_>>()
        );
        self
    }
    pub fn describe(&self) -> String {
        format!(
            "=== {}: exit {}\n--- stdout:\n{}--- stderr:\n{}--- checks:\n{}--- syslog: {:#?}\n--- files written: {:?}\n--- setup.log:\n{}",
            self.which,
            self.status,
            self.stdout_str(),
            self.stderr_str(),
            self.checks_str(),
            self.all_syslog(),
            self.files.keys().collect::<Vec<_>>(),
            self.setup_log
        )
    }
}

pub struct Compared {
    pub reference: Outcome,
    pub ours: Outcome,
    normalizers: Vec<Normalizer>,
    /// assert_same was called: then something of the reference must be
    /// pinned too, or both sides failing alike for an unrelated reason
    /// would pass (checked when the value is dropped).
    compared: std::cell::Cell<bool>,
}

impl Drop for Compared {
    fn drop(&mut self) {
        if self.compared.get() && !self.reference.pinned.get() && !std::thread::panicking() {
            panic!(
                "this side-by-side test pins nothing of the reference: add .assert_status(..) or a key line (.assert_stdout_line / .assert_stderr_line)\n{}",
                self.reference.describe()
            );
        }
    }
}

impl Compared {
    pub fn reference(&self) -> &Outcome {
        &self.reference
    }
    pub fn ours(&self) -> &Outcome {
        &self.ours
    }

    fn norm(&self, b: &[u8]) -> Vec<u8> {
        let mut v = b.to_vec();
        for f in &self.normalizers {
            v = f(&v);
        }
        v
    }

    /// Same exit status, stdout, stderr, checks output and files written.
    #[track_caller]
    pub fn assert_same(&self) -> &Self {
        self.compared.set(true);
        let r = &self.reference;
        let o = &self.ours;
        let mut report = String::new();
        if r.status != o.status {
            writeln!(
                report,
                "exit status: reference {} / ours {}",
                r.status, o.status
            )
            .unwrap();
        }
        for (what, a, b) in [
            ("stdout", &r.stdout, &o.stdout),
            ("stderr", &r.stderr, &o.stderr),
            ("checks", &r.checks, &o.checks),
        ] {
            let (a, b) = (self.norm(a), self.norm(b));
            if a != b {
                writeln!(report, "{what} differs:\n{}", line_diff(&a, &b)).unwrap();
            }
        }
        let (sr, so) = (r.postmulti_syslog(), o.postmulti_syslog());
        if sr != so {
            writeln!(
                report,
                "syslog records of postmulti differ:\n  reference: {sr:#?}\n  ours:      {so:#?}"
            )
            .unwrap();
        }
        let (fr, fo) = (normalize_files(&r.files), normalize_files(&o.files));
        if fr != fo {
            writeln!(report, "files written differ:").unwrap();
            let keys: std::collections::BTreeSet<&String> = fr.keys().chain(fo.keys()).collect();
            for k in keys {
                let (a, b) = (fr.get(k), fo.get(k));
                if a != b {
                    writeln!(
                        report,
                        "  {k}:\n    reference: {}\n    ours:      {}",
                        show_norm(a),
                        show_norm(b)
                    )
                    .unwrap();
                    if let (
                        Some(Some(NormEntry::File { content: ca, .. })),
                        Some(Some(NormEntry::File { content: cb, .. })),
                    ) = (a, b)
                    {
                        writeln!(report, "{}", indent(&line_diff(ca, cb), "    ")).unwrap();
                    }
                }
            }
        }
        if !report.is_empty() {
            panic!(
                "reference and ours differ:\n{report}\n{}\n{}",
                self.reference.describe(),
                self.ours.describe()
            );
        }
        self
    }

    /// Also assert the (shared) result is this: handy to pin the
    /// reference's behaviour in the test itself, so a change of the host's
    /// postfix shows up as a failure.
    #[track_caller]
    pub fn assert_status(&self, s: i32) -> &Self {
        self.reference.assert_status(s);
        self
    }
    /// Compared after the `.normalize()` functions.
    #[track_caller]
    pub fn assert_stdout(&self, s: impl AsRef<[u8]>) -> &Self {
        self.pin("stdout", &self.reference.stdout, s.as_ref())
    }
    #[track_caller]
    pub fn assert_stderr(&self, s: impl AsRef<[u8]>) -> &Self {
        self.pin("stderr", &self.reference.stderr, s.as_ref())
    }
    /// The reference's stdout (normalized) has this whole line.
    #[track_caller]
    pub fn assert_stdout_line(&self, line: &str) -> &Self {
        self.pin_line("stdout", &self.reference.stdout, line)
    }
    /// The reference's stderr (normalized) has this whole line.
    #[track_caller]
    pub fn assert_stderr_line(&self, line: &str) -> &Self {
        self.pin_line("stderr", &self.reference.stderr, line)
    }
    /// The reference's checks output (normalized) has this whole line.
    #[track_caller]
    pub fn assert_checks_line(&self, line: &str) -> &Self {
        self.pin_line("checks", &self.reference.checks, line)
    }
    /// The reference's postmulti syslog records, normalized (see [`normalize_syslog`]).
    #[track_caller]
    pub fn assert_syslog(&self, want: &[&str]) -> &Self {
        self.reference.pinned.set(true);
        let got = self.reference.postmulti_syslog();
        assert_eq!(
            got,
            want,
            "syslog of the reference\n{}",
            self.reference.describe()
        );
        self
    }
    #[track_caller]
    pub fn assert_checks(&self, s: impl AsRef<[u8]>) -> &Self {
        self.pin("checks", &self.reference.checks, s.as_ref())
    }
    #[track_caller]
    fn pin_line(&self, what: &str, got: &[u8], line: &str) -> &Self {
        self.reference.pinned.set(true);
        let got = self.norm(got);
        assert!(
            got.split(|&c| c == b'\n').any(|l| l == line.as_bytes()),
            "{what} of the reference has no line {line:?}\n--- got:\n{}\n{}",
            String::from_utf8_lossy(&got),
            self.reference.describe()
        );
        self
    }
    #[track_caller]
    fn pin(&self, what: &str, got: &[u8], want: &[u8]) -> &Self {
        self.reference.pinned.set(true);
        let got = self.norm(got);
        assert!(
            got == want,
            "{what} of the reference\n--- expected:\n{}\n--- got:\n{}\n{}",
            String::from_utf8_lossy(want),
            String::from_utf8_lossy(&got),
            self.reference.describe()
        );
        self
    }
}

fn indent(s: &str, p: &str) -> String {
    s.lines().map(|l| format!("{p}{l}\n")).collect()
}

/// Minimal line diff: common prefix/suffix, then the differing middle.
pub fn line_diff(a: &[u8], b: &[u8]) -> String {
    let la: Vec<&[u8]> = a.split_inclusive(|&c| c == b'\n').collect();
    let lb: Vec<&[u8]> = b.split_inclusive(|&c| c == b'\n').collect();
    let mut p = 0;
    while p < la.len() && p < lb.len() && la[p] == lb[p] {
        p += 1;
    }
    let mut s = 0;
    while s < la.len() - p && s < lb.len() - p && la[la.len() - 1 - s] == lb[lb.len() - 1 - s] {
        s += 1;
    }
    let mut out = String::new();
    for l in &la[p.saturating_sub(2)..p] {
        writeln!(out, "   {}", show_line(l)).unwrap();
    }
    for l in &la[p..la.len() - s] {
        writeln!(out, "  -{}", show_line(l)).unwrap();
    }
    for l in &lb[p..lb.len() - s] {
        writeln!(out, "  +{}", show_line(l)).unwrap();
    }
    for l in la[la.len() - s..].iter().take(2) {
        writeln!(out, "   {}", show_line(l)).unwrap();
    }
    out.push_str("  (- reference, + ours)");
    out
}

fn show_line(l: &[u8]) -> String {
    let s = String::from_utf8_lossy(l);
    match s.strip_suffix('\n') {
        Some(t) => t.escape_debug().to_string(),
        None => format!("{}  [no newline at end]", s.escape_debug()),
    }
}

/// Sort lines: for output whose order is hash order, e.g. postconf's
/// "unused parameter" warnings (Postfix randomizes its hash tables, so the
/// order changes from run to run even for the reference).
pub fn sort_lines(b: &[u8]) -> Vec<u8> {
    let mut l: Vec<&[u8]> = b.split_inclusive(|&c| c == b'\n').collect();
    l.sort();
    l.concat()
}

/// Drop postfix-script's "waiting for the Postfix mail system to terminate"
/// lines: `postfix stop` prints one only when master has not exited by the
/// time it looks, which is timing.
pub fn drop_waiting_lines(b: &[u8]) -> Vec<u8> {
    b.split_inclusive(|&c| c == b'\n')
        .filter(|l| !l.ends_with(b"waiting for the Postfix mail system to terminate\n"))
        .flat_map(|l| l.iter().copied())
        .collect()
}

/// Replace the digits after "PID: " (postfix status/start messages) and in
/// "[NNN]" syslog-style tags with "<pid>".
pub fn mask_pids(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"PID: ") {
            out.extend_from_slice(b"PID: ");
            i += 5;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i > start {
                out.extend_from_slice(b"<pid>");
            }
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

// ---------------------------------------------------------------------------
// Manifests of the overlay upper directories
// ---------------------------------------------------------------------------

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
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest(pub BTreeMap<String, Entry>);

impl Manifest {
    pub fn read(upper: &Path) -> Manifest {
        let mut m = BTreeMap::new();
        for top in OVERLAID {
            let root = upper.join(top);
            if root.exists() {
                walk(&root, &format!("/{top}"), &mut m);
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

fn walk(dir: &Path, name: &str, m: &mut BTreeMap<String, Entry>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let path = e.path();
        let mut key = name.to_string();
        key.push('/');
        key.push_str(&e.file_name().to_string_lossy());
        let Ok(md) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let ft = md.file_type();
        let (mode, uid, gid) = (md.mode() & 0o7777, md.uid(), md.gid());
        let entry = if ft.is_dir() {
            let entry = Entry::Dir {
                mode,
                uid,
                gid,
                opaque: is_opaque(&path),
            };
            m.insert(key.clone(), entry);
            walk(&path, &key, m);
            continue;
        } else if ft.is_file() {
            Entry::File {
                mode,
                uid,
                gid,
                content: std::fs::read(&path).unwrap_or_default(),
            }
        } else if ft.is_symlink() {
            Entry::Symlink {
                uid,
                gid,
                target: std::fs::read_link(&path)
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
        };
        m.insert(key, entry);
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

/// An entry as compared between reference and ours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NormEntry {
    Dir {
        mode: u32,
        uid: u32,
        gid: u32,
        opaque: bool,
    },
    /// main.cf files: content as the sorted multiset of its lines.
    File {
        mode: u32,
        uid: u32,
        gid: u32,
        content: Vec<u8>,
    },
    /// Volatile files: presence only.
    Present,
    Symlink {
        uid: u32,
        gid: u32,
        target: Vec<u8>,
    },
    Deleted,
    Special {
        kind: &'static str,
        mode: u32,
        uid: u32,
        gid: u32,
        rdev: u64,
    },
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

pub fn normalize_files(f: &BTreeMap<String, Option<Entry>>) -> BTreeMap<String, Option<NormEntry>> {
    let mut out = BTreeMap::new();
    for (k, v) in f {
        if IGNORED.iter().any(|p| glob(p, k)) {
            continue;
        }
        let volatile = VOLATILE_CONTENT.iter().any(|p| glob(p, k));
        let n = v.as_ref().map(|e| match e {
            _ if volatile => NormEntry::Present,
            Entry::Dir {
                mode,
                uid,
                gid,
                opaque,
            } => NormEntry::Dir {
                mode: *mode,
                uid: *uid,
                gid: *gid,
                opaque: *opaque,
            },
            Entry::File {
                mode,
                uid,
                gid,
                content,
            } => {
                let content = if k.ends_with("/main.cf") {
                    sorted_lines(content)
                } else {
                    content.clone()
                };
                NormEntry::File {
                    mode: *mode,
                    uid: *uid,
                    gid: *gid,
                    content,
                }
            }
            Entry::Symlink { uid, gid, target } => NormEntry::Symlink {
                uid: *uid,
                gid: *gid,
                target: target.clone(),
            },
            Entry::Deleted => NormEntry::Deleted,
            Entry::Special {
                kind,
                mode,
                uid,
                gid,
                rdev,
            } => NormEntry::Special {
                kind,
                mode: *mode,
                uid: *uid,
                gid: *gid,
                rdev: *rdev,
            },
        });
        out.insert(k.clone(), n);
    }
    out
}

/// main.cf as a multiset of lines: `postconf -e` appends new parameters in
/// hash-table order.
pub fn sorted_lines(b: &[u8]) -> Vec<u8> {
    let mut l: Vec<&[u8]> = b.split(|&c| c == b'\n').filter(|l| !l.is_empty()).collect();
    l.sort();
    let mut out = Vec::new();
    for x in l {
        out.extend_from_slice(x);
        out.push(b'\n');
    }
    out
}

fn show_norm(e: Option<&Option<NormEntry>>) -> String {
    match e {
        None => "(not written)".into(),
        Some(None) => "(removed from the upper dir)".into(),
        Some(Some(NormEntry::File {
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

// ---------------------------------------------------------------------------
// Helpers for scenarios
// ---------------------------------------------------------------------------

/// Setup steps: `postmulti -e init`, then secondaries postfix-a (group g1)
/// and postfix-b, both created disabled by the real postmulti. (One step
/// each: files are backdated between steps, see `age` in the driver.)
pub const TWO_SECONDARIES: &[&str] = &[
    "postmulti -e init",
    "postmulti -I postfix-a -G g1 -e create",
    "postmulti -I postfix-b -e create",
];

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

/// A fake `postfix` that records how it was called: bind-mounted over
/// /usr/sbin/postfix; appends `MAIL_CONFIG args` and the sorted names of the
/// interesting environment variables to /var/log/postfix-calls.log (a file
/// written, so the manifest compares it).
pub const RECORDING_POSTFIX: &str = r#"#!/bin/sh
{
  printf 'MAIL_CONFIG=%s argv=%s\n' "${MAIL_CONFIG-<unset>}" "$*"
  env | sed -n 's/^\(MAIL_[A-Z_]*\|[a-z_]*_directory\|multi_instance_[a-z]*\)=.*/  env \1/p' | sort
} >> /var/log/postfix-calls.log
case "$*" in
  *fail*) exit 3;;
esac
exit 0
"#;

/// Setup step that installs [`RECORDING_POSTFIX`] over /usr/sbin/postfix
/// (a bind mount, private to the sandbox).
pub fn recording_postfix_setup() -> String {
    format!(
        "cat > /var/tmp/fake-postfix <<'__PM_EOF__'\n{RECORDING_POSTFIX}__PM_EOF__\nchmod 755 /var/tmp/fake-postfix\nmount --bind /var/tmp/fake-postfix /usr/sbin/postfix\n"
    )
}

/// Filter for `env` output: the variables postmulti sets or passes.
pub const ENV_FILTER: &str = "grep -E '^(MAIL_CONFIG|MAIL_LOGTAG|MAIL_VERBOSE|PATH|daemon_directory|command_directory|config_directory|queue_directory|data_directory|multi_instance_name|multi_instance_group|multi_instance_enable)='";
