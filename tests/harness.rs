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
        "logger -t probe hello; test -S /dev/log || test -L /dev/log && echo private-dev-log",
    );
    assert_eq!(o.all_syslog().len(), 1, "{:?}", o.all_syslog());
    assert!(
        o.all_syslog()[0].ends_with("probe[PID]: hello") || o.all_syslog()[0].contains("probe"),
        "{:?}",
        o.all_syslog()
    );
    o.assert_stdout("private-dev-log\n");
    assert!(
        !std::path::Path::new("/dev/log").exists(),
        "the sandbox must not create /dev/log on the host"
    );
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
