//! Logging through postlog: with maillog_file set in the primary main.cf,
//! postmulti's records go to postlogd's socket, or (postlogd not running)
//! are appended to maillog_file, and POSTLOG_SERVICE / POSTLOG_HOSTNAME are
//! exported to children; without it they are removed from the environment.
mod common;
use common::*;

/// Masks the time stamp and pid of a msg_logger record.
const MASK: &str = r"sed -E 's/^[A-Z][a-z]{2} [0-9]{2} [0-9:]{8} /TIME /; s/\[[0-9]+\]/[PID]/'";

fn with_maillog_file(file: &str) -> Scenario {
    Scenario::new().main_cf_append("/etc/postfix/main.cf", &format!("maillog_file = {file}"))
}

#[test]
fn fatal_errors_are_appended_to_maillog_file_when_postlogd_is_not_running() {
    // The log file itself holds a pid and a time: print it masked, then
    // remove it.  Its mode is Postfix 3.11's 0600 (3.7: 0644), pinned in
    // tests/library.rs (fallback_log_file_is_0600_and_not_followed).
    with_maillog_file("/var/log/postmulti-test.log")
        .run_shell(&format!(
            "postmulti -l foo; echo \"exit $?\"; {MASK} /var/log/postmulti-test.log; \
             rm /var/log/postmulti-test.log"
        ))
        .assert_same()
        .assert_stdout(
            "exit 1\nTIME sandbox postmulti[PID]: fatal: Command not allowed with '-l'\n",
        );
}

#[test]
fn maillog_file_can_be_standard_output() {
    with_maillog_file("/dev/stdout")
        .run_shell(&format!("postmulti -l foo | {MASK}"))
        .assert_same()
        .assert_stdout("TIME sandbox postmulti[PID]: fatal: Command not allowed with '-l'\n");
}

/// With postlogd not answering, Postfix 3.10 and later open (create, mode
/// 0600, empty) maillog_file when they set up logging, even when nothing
/// is logged; 3.7 opens it only to log.  Ours does as the reference's
/// release.
#[test]
fn postlog_settings_are_exported_to_commands() {
    let c = with_maillog_file("/var/log/postmulti-test.log")
        .check("stat -c '%a %s' /var/log/postmulti-test.log 2>&1")
        .run_shell("postmulti -x env | grep ^POSTLOG_ | sort");
    let exported =
        "POSTLOG_HOSTNAME=sandbox.example\nPOSTLOG_SERVICE=/var/spool/postfix/public/postlog\n";
    c.assert_same()
        .assert_status(0)
        .assert_stdout(exported)
        .assert_stderr("")
        .assert_checks(if reference_at_least(3, 10) {
            "600 0\n[check 0: exit 0]\n"
        } else {
            "stat: cannot statx '/var/log/postmulti-test.log': No such file or directory\n\
             [check 0: exit 1]\n"
        });
}

/// postlogd answering: the file is not opened at start-up (3.10 and later
/// connect first), and nothing is logged.  The socket is the test's own: a
/// postlog socket the host's Postfix left in /var/spool (seen through the
/// copy-on-write root) is removed first, and the setup waits until the
/// new one is bound (a fixed second was not always enough under load).
#[test]
fn maillog_file_is_not_opened_when_postlogd_answers() {
    with_maillog_file("/var/log/postmulti-test.log")
        .setup(
            "mkdir -p /var/spool/postfix/public\n\
             rm -f /var/spool/postfix/public/postlog\n\
             python3 -c 'import socket,time,os\n\
             s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
             s.bind(\"/var/spool/postfix/public/postlog\")\n\
             if os.fork(): os._exit(0)\n\
             time.sleep(30)' &\n\
             for i in $(seq 300); do [ -S /var/spool/postfix/public/postlog ] && break; sleep 0.1; done\n",
        )
        .check("ls /var/log/postmulti-test.log 2>&1")
        .run(&["-x", "true"])
        .assert_same()
        .assert_status(0)
        .assert_checks(
            "ls: cannot access '/var/log/postmulti-test.log': No such file or directory\n\
             [check 0: exit 2]\n",
        );
}

#[test]
fn without_maillog_file_inherited_postlog_settings_are_removed() {
    Scenario::new()
        .run_shell("POSTLOG_SERVICE=/x POSTLOG_HOSTNAME=h postmulti -x env | grep -c ^POSTLOG_")
        .assert_same()
        .assert_stdout("0\n");
}

/// maillog_file_permissions (Postfix 3.9 and later) sets the mode of a new
/// maillog_file: 644, 640 or 600, leading zeros ignored, the value
/// expanded; anything else warns (even without maillog_file) and keeps
/// 0600.  3.7 has no such parameter (no warning) and opens the file only to
/// log: it creates nothing here.
#[test]
fn maillog_file_permissions_sets_the_mode_of_a_new_file() {
    let knows = reference_at_least(3, 10);
    for (setting, mode, warning) in [
        ("maillog_file_permissions = $x\nx = 00640", "640", ""),
        ("maillog_file_permissions = 644", "644", ""),
        (
            "maillog_file_permissions = 0755",
            "600",
            "postmulti: warning: ignoring bad permissions: maillog_file_permissions = 0755\n",
        ),
    ] {
        let (checks, stderr) = if knows {
            (format!("{mode}\n[check 0: exit 0]\n"), warning)
        } else {
            let none =
                "stat: cannot statx '/var/log/postmulti-test.log': No such file or directory";
            (format!("{none}\n[check 0: exit 1]\n"), "")
        };
        with_maillog_file("/var/log/postmulti-test.log")
            .main_cf_append("/etc/postfix/main.cf", setting)
            .check("stat -c %a /var/log/postmulti-test.log 2>&1")
            .run(&["-e", "init"])
            .assert_same()
            .assert_status(0)
            .assert_stdout("")
            .assert_stderr(stderr)
            .assert_checks(&checks);
    }
}
