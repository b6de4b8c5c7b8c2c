//! Running one sandbox (tests/sandbox/enter.sh): the driver's pty and pipes,
//! the syslog socket, the watchdog, the snapshots of the upper dirs around the
//! command; and the per-binary cache of the upper dirs of cache points.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::driver::{build_driver, write_file};
use super::manifest::Manifest;
use super::outcome::Outcome;
use super::reference::sandbox_root_env;
use super::scenario::{Cmd, Scenario};

/// Environment every sandbox (and so every command) starts with; nothing of
/// the caller's environment leaks in.
const BASE_ENV: &[(&str, &str)] = &[
    (
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ),
    ("HOME", "/root"),
];

fn enter_sh() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sandbox/enter.sh")
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

pub(super) fn run_in_sandbox(
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
    c.envs(sandbox_root_env(&ours.into_iter().collect::<Vec<_>>()));
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
        before,
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

impl Scenario {
    /// The longest cache point, with its upper dirs (computed now if needed).
    pub(super) fn cached_prefix(&self) -> (usize, Option<PathBuf>) {
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
pub(super) fn copy_tree(src: &Path, dst: &Path) {
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
