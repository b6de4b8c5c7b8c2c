//! What postmulti sends to syslog. The sandbox's /dev/log is a socket the
//! harness reads; records are compared with timestamp and pid masked
//! (`<PRI>TIME TAG[PID]: text`). assert_same() compares every record, of
//! any tag, in every test; these tests pin the records tagged `postmulti`
//! (`assert_syslog`).
mod common;
use common::*;

/// The usage fatal as logged: `<PRI>TIME postmulti[PID]: fatal: Usage:...`.
fn usage_record(pri: u8) -> String {
    format!(
        "<{pri}>TIME postmulti[PID]: {}",
        USAGE.trim_start_matches("postmulti: ").trim_end()
    )
}

#[test]
fn usage_fatal_is_logged_at_mail_crit() {
    Scenario::new()
        .run(&["-z"])
        .assert_same()
        .assert_syslog(&[&usage_record(18)]);
}

#[test]
fn validation_fatal_is_logged() {
    Scenario::new()
        .run(&["-l", "-x"])
        .assert_same()
        .assert_syslog(&[
            "<18>TIME postmulti[PID]: fatal: Specify exactly one of '-e', '-l', '-p', '-x'",
        ]);
}

#[test]
fn successful_listing_logs_nothing() {
    Scenario::two_secondaries()
        .run(&["-l"])
        .assert_same()
        .assert_syslog(&[]);
}

#[test]
fn verbose_listing_logs_like_the_reference() {
    Scenario::two_secondaries()
        .run(&["-v", "-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout_line("postfix-a       g1              n         /etc/postfix-a")
        .assert_syslog(&[]);
}

#[test]
fn fatal_also_logged_when_stderr_is_not_a_terminal() {
    Scenario::new()
        .run_shell("postmulti -l -x 2>/dev/null")
        .assert_same()
        .assert_syslog(&[
            "<18>TIME postmulti[PID]: fatal: Specify exactly one of '-e', '-l', '-p', '-x'",
        ]);
}

#[test]
fn execvp_failure_is_logged_by_each_child() {
    Scenario::two_secondaries()
        .run(&["-x", "/nonexist"])
        .assert_same()
        .assert_syslog(
            &["<18>TIME postmulti[PID]: fatal: execvp /nonexist: No such file or directory"; 3],
        );
}

#[test]
fn syslog_name_of_the_primary() {
    Scenario::new()
        .main_cf_append("/etc/postfix/main.cf", "syslog_name = custom")
        .run(&["-z"])
        .assert_same()
        .assert_status(1)
        .assert_syslog(&[&usage_record(18)]);
}

#[test]
fn syslog_facility_of_the_primary() {
    Scenario::new()
        .main_cf_append("/etc/postfix/main.cf", "syslog_facility = local3")
        .run(&["-z"])
        .assert_same()
        .assert_status(1)
        .assert_syslog(&[&usage_record(154)]);
}

#[test]
fn secondary_conflict_is_logged() {
    Scenario::two_secondaries()
        .main_cf_append("/etc/postfix-a/main.cf", "queue_directory = /var/spool/postfix-b")
        .run(&["-l"])
        .assert_same()
        .assert_syslog(&["<18>TIME postmulti[PID]: fatal: instance /etc/postfix-b, queue_directory=/var/spool/postfix-b conflicts with instance /etc/postfix-a, queue_directory=/var/spool/postfix-b"]);
}

#[test]
fn life_cycle_refusal_is_logged() {
    Scenario::two_secondaries()
        .run(&["-i", "-", "-e", "destroy"])
        .assert_same()
        .assert_syslog(&["<18>TIME postmulti[PID]: fatal: Cannot remove the primary instance"]);
}

#[test]
fn normalize_syslog_masks_time_and_pid() {
    assert_eq!(
        normalize_syslog(b"<18>Nov 25 13:09:29 postmulti[23975]: fatal: x y"),
        (
            "postmulti".to_string(),
            "<18>TIME postmulti[PID]: fatal: x y".to_string()
        )
    );
    assert_eq!(
        normalize_syslog(b"<22>Nov  5 03:09:29 postfix/postconf[7]: warning: z"),
        (
            "postfix/postconf".to_string(),
            "<22>TIME postfix/postconf[PID]: warning: z".to_string()
        )
    );
    // Without LOG_PID the tag has no `[pid]`: it must stay different from
    // a record that has one.
    assert_eq!(
        normalize_syslog(b"<18>Nov 25 13:09:29 postmulti: fatal: x y"),
        (
            "postmulti".to_string(),
            "<18>TIME postmulti: fatal: x y".to_string()
        )
    );
    assert_eq!(
        normalize_syslog(b"<18>Nov 25 13:09:29 postmulti[]: fatal: x y").1,
        "<18>TIME postmulti[]: fatal: x y"
    );
}
