//! Self-tests of the sandbox harness (tests/common): the sandbox is private,
//! the manifest sees writes and deletions, the pty and the pipe are wired;
//! `assert_same` rejects every kind of difference (a planted candidate:
//! Debian's postmulti behind a wrapper that changes one thing), and every
//! harness refuses Debian's own postmulti as "ours".
mod common;
use common::*;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

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

/// Only the order of what `postconf -e` appended at the end may differ;
/// every other line keeps its place, blank and continuation lines and a
/// missing final newline count.
#[test]
fn main_cf_only_appended_parameters_may_come_in_another_order() {
    let same = |x: &[u8], y: &[u8]| same_but_appended_order(x, y);
    // Appended in another order (by the command or by a setup step).
    assert!(same(
        b"# c\na = 1\nb = 2\nz = 9\ny = 8\n",
        b"# c\na = 1\nb = 2\ny = 8\nz = 9\n"
    ));
    assert!(same(
        b"# c\na=1\nz = 9\ny = 8\nx = 7\n",
        b"# c\na=1\ny = 8\nz = 9\nx = 7\n"
    ));
    // Lines swapped above that block, or not of its form.
    assert!(!same(b"# c\na=1\nb=2\n", b"# c\nb=2\na=1\n"));
    assert!(!same(b"# c\n# d\nz = 9\n", b"# d\n# c\nz = 9\n"));
    // A blank line, a continuation line, a missing final newline.
    assert!(!same(b"a=1\nz = 9\n", b"a=1\n\nz = 9\n"));
    assert!(!same(b"a=1\nz = 9\n", b"a=1\nz =\n 9\n"));
    assert!(!same(b"a=1\nz = 9\ny = 8\n", b"a=1\ny = 8\nz = 9"));
    // A name the file assigns twice: an edit, not an append.
    assert!(!same(b"a = 1\nb = 2\na = 3\n", b"a = 1\na = 3\nb = 2\n"));
    // Not the same lines.
    assert!(!same(b"a=1\nz = 9\n", b"a=1\nz = 8\n"));
    // Globs of the volatile and ignored lists stay within a component.
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
    if std::env::var_os(OURS_IS_REFERENCE).is_some() {
        return; // ours is Debian's binary on purpose
    }
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

/// The probes of `every_harness_refuses_debians_binary_as_ours`: what a
/// scenario and a sandboxed script (syslog_records.rs, completion.rs, ...)
/// take as ours.  Run normally, they only check that ours is the candidate.
#[test]
fn probe_sandboxed_ours() {
    assert_eq!(std::path::Path::new(&**OURS), ours_binary());
}

#[test]
fn probe_scenario_ours() {
    Scenario::new()
        .run_shell_ours("echo ok")
        .assert_stdout("ok\n");
}

/// This test binary run again with POSTMULTI_OURS naming the reference:
/// both probes must fail, saying why; with POSTMULTI_OURS_IS_REFERENCE=1
/// (the explicit opt-in) both pass.
#[test]
fn every_harness_refuses_debians_binary_as_ours() {
    let me = std::env::current_exe().unwrap();
    for probe in ["probe_sandboxed_ours", "probe_scenario_ours"] {
        let run = |opt_in: bool| {
            let mut c = std::process::Command::new(&me);
            c.args(["--exact", probe, "--test-threads=1"])
                .env("POSTMULTI_OURS", reference_binary())
                .env_remove(OURS_IS_REFERENCE);
            if opt_in {
                c.env(OURS_IS_REFERENCE, "1");
            }
            let out = c.output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (out.status.success(), text)
        };
        let (ok, text) = run(false);
        assert!(!ok, "{probe} accepted Debian's binary as ours:\n{text}");
        let want = format!(
            "our binary {} is Debian's postmulti",
            reference_binary().display()
        );
        assert!(text.contains(&want), "{probe}: no {want:?} in:\n{text}");
        let (ok, text) = run(true);
        assert!(ok, "{probe} refused the explicit opt-in:\n{text}");
        assert!(text.contains("1 passed"), "{probe}:\n{text}");
    }
}

/// A candidate that is Debian's postmulti with one planted difference: a
/// bash wrapper (`run "$@"` runs the reference's binary, a copy, under the
/// name it was called by) followed by BODY.  It lives in /tmp, which every
/// sandbox sees, and is removed when dropped.
struct Planted {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn planted(body: &str) -> Planted {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix("pm-planted.")
        .tempdir_in("/tmp")
        .unwrap();
    let real = dir.path().join("debian-postmulti");
    std::fs::copy(reference_binary(), &real).unwrap();
    let path = dir.path().join("postmulti");
    std::fs::write(
        &path,
        format!(
            "#!/bin/bash\n# Debian's postmulti with one planted difference\nrun() {{ ( exec -a \"$0\" {} \"$@\" ); }}\n{body}\n",
            sh_quote_str(&real.to_string_lossy())
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    Planted { _dir: dir, path }
}

/// `assert_same` must reject C (whose reference exited STATUS), with a
/// report that has each of WANT.
#[track_caller]
fn must_differ(c: Compared, status: i32, want: &[&str]) {
    c.assert_status(status);
    let r = catch_unwind(AssertUnwindSafe(|| {
        c.assert_same();
    }));
    let msg = r.expect_err("assert_same accepted a planted difference");
    let msg = msg
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_else(|| "(no message)".into());
    for w in want {
        assert!(msg.contains(w), "no {w:?} in the report:\n{msg}");
    }
}

/// The planted wrapper runs like the reference: assert_same passes.
#[test]
fn planted_without_a_difference_is_the_same() {
    let p = planted("run \"$@\"");
    Scenario::new()
        .with_ours(&p.path)
        .run(&["-l"])
        .assert_same()
        .assert_status(0);
}

#[test]
fn a_different_exit_status_fails() {
    let p = planted("run \"$@\"; exit $(( $? + 1 ))");
    must_differ(
        Scenario::new().with_ours(&p.path).run(&["-l"]),
        0,
        &["exit status: reference 0 / ours 1"],
    );
}

#[test]
fn a_different_stdout_fails() {
    let p = planted("run \"$@\"; s=$?; echo planted; exit $s");
    must_differ(
        Scenario::new().with_ours(&p.path).run(&["-l"]),
        0,
        &["stdout differs", "+planted"],
    );
}

#[test]
fn a_different_stderr_fails() {
    let p = planted("run \"$@\"; s=$?; echo planted >&2; exit $s");
    must_differ(
        Scenario::new().with_ours(&p.path).run(&["-l"]),
        0,
        &["stderr differs", "+planted"],
    );
}

#[test]
fn a_different_file_content_fails() {
    let p = planted("run \"$@\"; s=$?; echo '# planted' >> /etc/postfix/main.cf; exit $s");
    must_differ(
        Scenario::new().with_ours(&p.path).run(&["-e", "init"]),
        0,
        &["files written differ", "/etc/postfix/main.cf", "+# planted"],
    );
}

#[test]
fn a_different_file_mode_fails() {
    let p = planted("run \"$@\"; s=$?; chmod 600 /etc/postfix/main.cf; exit $s");
    must_differ(
        Scenario::new().with_ours(&p.path).run(&["-e", "init"]),
        0,
        &["files written differ", "/etc/postfix/main.cf", "file 0600"],
    );
}

#[test]
fn a_different_file_name_fails() {
    let p =
        planted("run \"$@\"; s=$?; mv /etc/postfix/main.cf /etc/postfix/main.cf.planted; exit $s");
    must_differ(
        Scenario::new().with_ours(&p.path).run(&["-e", "init"]),
        0,
        &["files written differ", "/etc/postfix/main.cf.planted"],
    );
}

#[test]
fn a_different_syslog_record_fails() {
    let p = planted("run \"$@\"; s=$?; logger --id=$$ -t postmulti -p mail.crit planted; exit $s");
    must_differ(
        Scenario::new().with_ours(&p.path).run(&["-l"]),
        0,
        &["syslog records", "postmulti[PID]: planted"],
    );
}

#[test]
fn a_different_environment_variable_fails() {
    // A -x child gets one variable more (the experiment of issue 26:
    // shlib_directory) than the reference gives it.
    let p = planted("export shlib_directory=/usr/lib/postfix; run \"$@\"");
    must_differ(
        Scenario::new()
            .with_ours(&p.path)
            .run(&["-x", "sh", "-c", ENV_DUMP]),
        0,
        &["stdout differs", "+shlib_directory=/usr/lib/postfix"],
    );
}

/// File names are compared as bytes: two names that differ only in bytes
/// that are not UTF-8 are two entries.
#[test]
fn file_names_are_compared_as_bytes() {
    use std::os::unix::ffi::OsStrExt;
    assert_eq!(name_key(b"a\xff"), "a\\xff");
    assert_ne!(name_key(b"a\xff"), name_key(b"a\xfe"));
    assert_ne!(name_key(b"a\\xff"), name_key(b"a\xff"));
    assert_eq!(name_key("é/b".as_bytes()), "é/b");
    let manifest = |name: &[u8]| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path()
                .join("etc")
                .join(std::ffi::OsStr::from_bytes(name)),
            "x",
        )
        .unwrap();
        Manifest::read(dir.path())
    };
    let (a, b) = (manifest(b"f\xff"), manifest(b"f\xfe"));
    assert_ne!(a, b);
    assert!(a.0.contains_key("/etc/f\\xff"), "{a:?}");
}

#[test]
fn a_different_line_order_in_main_cf_fails() {
    // Lines 2 and 3 of the baseline swapped: the same set of lines.
    let p = planted("run \"$@\"; s=$?; sed -i '2{h;d};3G' /etc/postfix/main.cf; exit $s");
    must_differ(
        Scenario::new().with_ours(&p.path).run(&["-e", "init"]),
        0,
        &["files written differ", "/etc/postfix/main.cf", "-biff = no"],
    );
}

/// Records of any tag are compared, not only postmulti's.
#[test]
fn a_different_syslog_record_of_another_tag_fails() {
    let p = planted(
        "run \"$@\"; s=$?; logger --id=$$ -t postfix-a/postfix-script -p mail.info planted; exit $s",
    );
    must_differ(
        Scenario::new().with_ours(&p.path).run(&["-l"]),
        0,
        &[
            "syslog records differ",
            "+<22>TIME postfix-a/postfix-script[PID]: planted",
        ],
    );
}
