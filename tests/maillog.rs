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

#[test]
fn postlog_settings_are_exported_to_commands() {
    with_maillog_file("/var/log/postmulti-test.log")
        .run_shell("postmulti -x env | grep ^POSTLOG_ | sort")
        .assert_same()
        .assert_stdout(
            "POSTLOG_HOSTNAME=sandbox.example\nPOSTLOG_SERVICE=/var/spool/postfix/public/postlog\n",
        );
}

#[test]
fn without_maillog_file_inherited_postlog_settings_are_removed() {
    Scenario::new()
        .run_shell("POSTLOG_SERVICE=/x POSTLOG_HOSTNAME=h postmulti -x env | grep -c ^POSTLOG_")
        .assert_same()
        .assert_stdout("0\n");
}
