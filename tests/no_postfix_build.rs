//! A postmulti built where there is no Postfix (a build chroot without it in
//! Build-Depends) records no parameter table and takes upstream's defaults;
//! on a Postfix host it must still behave as that host's postmulti, reading
//! the installed Postfix's table and defaults at run time (one `postconf -d`
//! per run).  This file builds it once, with `POSTMULTI_POSTCONF=/nonexistent`
//! into its own target directory (`$CARGO_TARGET_TMPDIR/no-postfix-build`,
//! release profile, kept between runs), and runs list, exec and life-cycle
//! scenarios with it side by side with Debian's postmulti (through
//! POSTMULTI_OURS, see tests/common).  `.ci/run` also runs the whole of
//! tests/list.rs and tests/exec.rs with it.
mod common;
use common::*;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Builds the binary (once per test process) and makes it "ours".
fn no_postfix_binary() -> &'static PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-postfix-build");
        let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        c.args(["build", "--release", "--locked", "--offline", "--quiet"])
            .arg("--target-dir")
            .arg(&target)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("POSTMULTI_") {
                c.env_remove(&name);
            }
        }
        let out = c
            .env("POSTMULTI_POSTCONF", "/nonexistent")
            .output()
            .expect("run cargo");
        assert!(
            out.status.success(),
            "POSTMULTI_POSTCONF=/nonexistent cargo build --release failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let binary = target.join("release/postmulti");
        // Every test of this file builds this binary first, so no scenario
        // has read POSTMULTI_OURS before it is set here.
        std::env::set_var("POSTMULTI_OURS", &binary);
        binary
    })
}

const P: &str = "-               -               y         /etc/postfix\n";
const A: &str = "postfix-a       g1              n         /etc/postfix-a\n";
const B: &str = "postfix-b       -               n         /etc/postfix-b\n";

#[test]
fn version_says_no_table_was_recorded_and_which_is_used() {
    no_postfix_binary();
    let o = Scenario::new().run_shell_ours(
        "postmulti --version; echo \"exit $?\"; echo \"daemon_directory = $(postconf -dh daemon_directory)\"",
    );
    let out = o.stdout_str();
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].ends_with("built against Postfix (none found)")
            && lines[1] == "# recorded at build time: no parameter table (no postconf at build time)"
            && lines[2].starts_with("# installed: /usr/sbin/postconf (")
            && lines[3]
                == "# in use: the installed Postfix's table, from postconf -d at run time (none was recorded at build time)",
        "{}",
        o.describe()
    );
    // The installed Postfix's daemon_directory (Debian's), not upstream's.
    let (installed, listed) = (lines[lines.len() - 1], &lines[..lines.len() - 2]);
    assert_eq!(lines[lines.len() - 2], "exit 0");
    let at = listed
        .iter()
        .position(|l| l.starts_with("daemon_directory = "))
        .unwrap_or_else(|| panic!("{}", o.describe()));
    assert_eq!(listed[at], installed);
    assert!(
        listed[..at]
            .iter()
            .rev()
            .find(|l| l.starts_with("# defaults from "))
            == Some(&"# defaults from postconf -d at run time:"),
        "{}",
        o.describe()
    );
}

#[test]
fn lists_as_upstream() {
    no_postfix_binary();
    Scenario::two_secondaries()
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout(format!("{P}{A}{B}"))
        .assert_stderr("");
}

#[test]
fn lists_with_one_postconf_for_all_secondaries() {
    no_postfix_binary();
    let sc = Scenario::two_secondaries().setup(
        "cp -p /usr/sbin/postconf /var/tmp/postconf.real\n\
         printf '#!/bin/bash\\necho \"$*\" >> /dev/shm/postconf.calls\\nexec -a \"$0\" /var/tmp/postconf.real \"$@\"\\n' > /var/tmp/postconf.wrapper\n\
         chmod 755 /var/tmp/postconf.wrapper\n\
         mount --bind /var/tmp/postconf.wrapper /usr/sbin/postconf\n",
    );
    let count =
        ": > /dev/shm/postconf.calls; postmulti -l; echo \"exit $?\"; cat /dev/shm/postconf.calls";
    let call = |dir: &str| {
        format!("-xc {dir} queue_directory data_directory multi_instance_name multi_instance_group multi_instance_enable\n")
    };
    sc.run_shell_reference(count).assert_stdout(format!(
        "{P}{A}{B}exit 0\n{}{}",
        call("/etc/postfix-a"),
        call("/etc/postfix-b")
    ));
    sc.run_shell_ours(count)
        .assert_stdout(format!("{P}{A}{B}exit 0\n-d -c /dev/null\n"));
}

#[test]
fn exec_environment_as_upstream() {
    no_postfix_binary();
    Scenario::two_secondaries()
        .run(&[
            "-x",
            "sh",
            "-c",
            "echo \"$MAIL_CONFIG $daemon_directory $command_directory $queue_directory $data_directory [$multi_instance_name] $multi_instance_enable\"",
        ])
        .assert_same()
        .assert_status(0)
        .assert_stdout(
            "/etc/postfix /usr/lib/postfix/sbin /usr/sbin /var/spool/postfix /var/lib/postfix [] yes\n\
             /etc/postfix-a /usr/lib/postfix/sbin /usr/sbin /var/spool/postfix-a /var/lib/postfix-a [postfix-a] no\n\
             /etc/postfix-b /usr/lib/postfix/sbin /usr/sbin /var/spool/postfix-b /var/lib/postfix-b [postfix-b] no\n",
        );
}

#[test]
fn exec_with_a_command_directory_that_has_no_postconf() {
    // The defaults then come from the postconf in the compiled-in
    // command_directory: daemon_directory must still be Debian's, or the
    // shared-directory check fails.
    no_postfix_binary();
    Scenario::new()
        .setup("mkdir -p /var/tmp/cmds; printf '#!/bin/sh\\necho \"from-command-directory $daemon_directory\"\\n' > /var/tmp/cmds/hello; chmod 755 /var/tmp/cmds/hello")
        .main_cf_append("/etc/postfix/main.cf", "command_directory = /var/tmp/cmds")
        .run(&["-x", "hello"])
        .assert_same()
        .assert_status(0)
        .assert_stdout("from-command-directory /usr/lib/postfix/sbin\n");
}

#[test]
fn creates_an_instance_as_upstream() {
    // postmulti-script is found in (and gets) Debian's daemon_directory.
    no_postfix_binary();
    Scenario::two_secondaries()
        .check("postmulti -l")
        .run(&["-I", "postfix-c", "-G", "g2", "-e", "create"])
        .assert_same()
        .assert_status(0)
        .assert_checks(format!(
            "{P}{A}{B}postfix-c       g2              n         /etc/postfix-c\n[check 0: exit 0]\n"
        ));
}
