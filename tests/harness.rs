//! Self-tests of the sandbox harness (tests/common): the sandbox is private,
//! the manifest sees writes and deletions, the pty and the pipe are wired.
mod common;
use common::*;

#[test]
fn sandbox_writes_land_in_the_upper_dir_only() {
    let o = Scenario::new()
        .setup("echo before > /etc/harness-setup")
        .run_shell_reference("echo hello > /etc/harness-probe; rm /etc/postfix/master.cf; hostname; echo err >&2; exit 3");
    o.assert_status(3)
        .assert_stdout("sandbox.example\n")
        .assert_stderr("err\n");
    assert_eq!(o.file("/etc/harness-probe"), Some(&b"hello\n"[..]));
    assert_eq!(
        o.files.get("/etc/postfix/master.cf"),
        Some(&Some(Entry::Deleted))
    );
    assert!(
        !o.files.contains_key("/etc/harness-setup"),
        "setup writes are not the command's"
    );
    assert!(
        !std::path::Path::new("/etc/harness-probe").exists(),
        "leaked to the host"
    );
    assert!(
        std::path::Path::new("/etc/postfix/master.cf").exists(),
        "host file deleted"
    );
}

#[test]
fn stderr_is_a_terminal_and_stdout_a_pipe() {
    Scenario::new()
        .run_shell("test -t 2 && echo tty; test -t 1 || echo pipe; test -t 0 || echo notty0; readlink /proc/self/fd/0")
        .assert_same()
        .assert_stdout("tty\npipe\nnotty0\n/dev/null\n");
}

#[test]
fn pty_adds_no_carriage_returns() {
    Scenario::new()
        .run_shell("printf 'a\\nb\\n' >&2")
        .assert_same()
        .assert_stderr("a\nb\n");
}

#[test]
fn baseline_main_cf_is_fixed() {
    Scenario::new()
        .run_shell("postconf -h myhostname; cat /etc/postfix/main.cf | md5sum; echo \"$PATH\"; hostname")
        .assert_same()
        .assert_stdout(format!(
            "sandbox.example\n{}  -\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nsandbox.example\n",
            md5(BASELINE_MAIN_CF)
        ));
}

fn md5(s: &str) -> String {
    let out = std::process::Command::new("md5sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(s.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn ours_is_bind_mounted_after_setup_only() {
    let c = Scenario::new()
        .setup("findmnt -n /usr/sbin/postmulti && exit 1; postmulti -l > /var/tmp/setup-list")
        .run_shell("findmnt -n -o TARGET /usr/sbin/postmulti || echo not-mounted");
    c.reference.assert_stdout("not-mounted\n");
    c.ours.assert_stdout("/usr/sbin/postmulti\n");
}

#[test]
fn setup_failure_panics_with_the_log() {
    let r = std::panic::catch_unwind(|| {
        Scenario::new()
            .setup("echo trying; false")
            .run_shell_reference("true");
    });
    let msg = r.expect_err("a failing setup must panic");
    let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("sandbox setup failed") && msg.contains("trying"),
        "{msg}"
    );
}

#[test]
fn daemons_die_with_the_namespace() {
    let o = Scenario::new().run_shell_reference("sleep 1000 & echo started");
    o.assert_stdout("started\n");
}

#[test]
fn env_is_passed_and_removed() {
    Scenario::new()
        .env("FOO", "b a'r")
        .env_remove("HOME")
        .run_shell("echo \"$FOO\"; echo \"${HOME-unset}\"")
        .assert_same()
        .assert_stdout("b a'r\nunset\n");
}

#[test]
fn main_cf_compared_as_sets_of_lines() {
    let a = b"b = 2\na = 1\n";
    let b = b"a = 1\nb = 2\n";
    assert_eq!(sorted_lines(a), sorted_lines(b));
    assert!(glob(
        "/var/spool/*/pid/master.pid",
        "/var/spool/postfix-a/pid/master.pid"
    ));
    assert!(!glob(
        "/var/spool/*/pid/master.pid",
        "/var/spool/x/y/pid/master.pid"
    ));
}

#[test]
fn syslog_reaches_the_harness_and_not_the_host() {
    let o = Scenario::new().run_shell_reference(
        "logger -i -t probe hello; test -L /dev/log && basename \"$(readlink /dev/log)\"; findmnt -n -o FSTYPE /dev",
    );
    assert_eq!(o.all_syslog().len(), 1, "{:?}", o.all_syslog());
    assert!(
        o.all_syslog()[0].ends_with("probe[PID]: hello"),
        "{:?}",
        o.all_syslog()
    );
    // /dev/log is a link to the harness's socket on the sandbox's own /dev.
    o.assert_stdout("syslog.sock\ntmpfs\n");
}

/// Whatever a test writes, anywhere, stays in its sandbox: the root is
/// copy-on-write, not only /etc, /var and /run.
#[test]
fn writes_anywhere_leave_nothing_on_the_host() {
    let probe = format!("/pm-harness-probe.{}", std::process::id());
    let paths = [
        format!("{probe}/file"),
        format!("/usr/local/sbin/pm-harness-probe.{}", std::process::id()),
        format!("/root/pm-harness-probe.{}", std::process::id()),
        format!("/tmp/pm-harness-probe.{}", std::process::id()),
        format!("{}/pm-harness-probe", env!("CARGO_MANIFEST_DIR")),
    ];
    let script = format!(
        "mkdir {probe} && for p in {}; do echo x > \"$p\" && cat \"$p\"; done",
        paths.join(" ")
    );
    let o = Scenario::new().run_shell_ours(&script);
    o.assert_status(0).assert_stdout("x\n".repeat(paths.len()));
    assert!(
        !std::path::Path::new(&probe).exists(),
        "{probe} reached the host"
    );
    for p in &paths {
        assert!(!std::path::Path::new(p).exists(), "{p} reached the host");
    }
}

/// Each side runs the binary it claims to: the reference is Debian's packaged
/// postmulti, ours is the candidate, and both are what `postmulti` resolves to.
#[test]
fn each_side_runs_the_binary_it_claims() {
    let sums = "command -v postmulti; md5sum < /usr/sbin/postmulti | cut -c1-32; awk '$2 == \"usr/sbin/postmulti\" { print $1 }' /var/lib/dpkg/info/postfix.md5sums";
    let c = Scenario::new().run_shell(sums);
    let r = c.reference.stdout_str();
    let o = c.ours.stdout_str();
    let r: Vec<&str> = r.lines().collect();
    let o: Vec<&str> = o.lines().collect();
    assert_eq!(r[0], "/usr/sbin/postmulti");
    assert_eq!(o[0], "/usr/sbin/postmulti");
    assert_eq!(r[1], r[2], "the reference is Debian's packaged binary");
    assert_ne!(o[1], o[2], "ours is not Debian's binary");
    let ours = std::fs::read(ours_binary()).unwrap();
    let want = std::process::Command::new("md5sum")
        .arg(ours_binary())
        .output()
        .unwrap();
    assert!(!ours.is_empty());
    assert_eq!(o[1], &String::from_utf8_lossy(&want.stdout)[..32]);
}

/// Naming Debian's binary as ours, without the opt-in, is refused.
#[test]
fn debian_binary_as_ours_is_refused() {
    if std::env::var_os(OURS_IS_REFERENCE).is_some() {
        return; // the opt-in is the whole point of that run
    }
    let r = std::panic::catch_unwind(|| {
        Scenario::new()
            .with_ours(reference_binary())
            .run_shell_ours("true");
    });
    let msg = r.expect_err("Debian's binary as ours must be refused");
    let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("is Debian's postmulti"), "{msg}");
}

#[test]
fn timeout_kills_the_sandbox() {
    let r = std::panic::catch_unwind(|| {
        Scenario::new()
            .timeout(std::time::Duration::from_secs(2))
            .run_shell_reference("sleep 60");
    });
    let msg = r.expect_err("a hung sandbox must panic");
    let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("timed out"), "{msg}");
}
