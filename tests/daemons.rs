//! Real Postfix daemons, driven through `postfix start|status|stop` and the
//! multi_instance_wrapper (`${command_directory}/postmulti -p --`) set by the
//! real `postmulti -e init`, so through OUR binary bind-mounted over
//! /usr/sbin/postmulti. The daemons die with the sandbox's pid namespace and
//! listen on its loopback only.
//!
//! Excluded from the comparison: pid numbers in "PID: N" messages
//! (mask_pids), postfix-script's timing-dependent "waiting for the Postfix
//! mail system to terminate" lines (drop_waiting_lines), and the content of
//! master.pid / master.lock (VOLATILE_CONTENT in common).  The syslog
//! records of postfix-script and master (the sandbox's /dev/log is the
//! harness's socket) are compared too, through the same normalizers, time
//! and pid masked.
mod common;
use common::*;

/// Which instances have a running master, per config directory.
const MASTERS: &str = r#"
for d in /etc/postfix /etc/postfix-a /etc/postfix-b; do
    if postfix -c $d status >/dev/null 2>&1; then echo "$d running"; else echo "$d stopped"; fi
done
pids=$(pgrep -x master | wc -l); echo "masters: $pids"
"#;

/// Wait (bounded) until no master process is left, then report.
const WAIT_NO_MASTER: &str = r#"
for i in $(seq 100); do pgrep -x master >/dev/null || break; sleep 0.1; done
echo "masters left: $(pgrep -x master | wc -l)"
"#;

fn instances() -> Scenario {
    Scenario::two_secondaries_a_enabled()
        .normalize(mask_pids)
        .normalize(drop_waiting_lines)
}

/// What postfix(1) says first (3.11 on: [`postfix_compatibility_warning`])
/// when `postfix COMMAND` goes through the wrapper: once for itself, and
/// once for the primary's own `postfix` that postmulti runs, both with the
/// primary's compatibility_level (3.6) and before any instance's output.
/// The secondaries' `postfix` (main.cf made by the reference's
/// postmulti-script) says nothing, as seen on Debian unstable.
fn primary_warnings() -> String {
    postfix_compatibility_warning().repeat(2)
}

#[test]
fn postfix_start_starts_the_enabled_instances() {
    let c = instances().check(MASTERS).run_shell("postfix start");
    c.assert_same().assert_status(0).assert_stdout("").assert_stderr(
        primary_warnings()
            + "postfix/postfix-script: starting the Postfix mail system\npostfix-a/postfix-script: starting the Postfix mail system\n",
    );
    c.assert_checks("/etc/postfix running\n/etc/postfix-a running\n/etc/postfix-b stopped\nmasters: 2\n[check 0: exit 0]\n");
    // The pid files of the two started instances were written.
    for f in [
        "/var/spool/postfix/pid/master.pid",
        "/var/spool/postfix-a/pid/master.pid",
    ] {
        assert!(c.ours.file(f).is_some(), "{f} not written by ours");
    }
    assert!(c.ours.file("/var/spool/postfix-b/pid/master.pid").is_none());
}

#[test]
fn postfix_status_reports_every_instance() {
    instances()
        .setup("postfix start")
        .run_shell("postfix status")
        .assert_same()
        .assert_status(1) // postfix-b is not running
        .assert_stderr(
            primary_warnings()
                + "postfix/postfix-script: the Postfix mail system is running: PID: <pid>\n\
                   postfix-a/postfix-script: the Postfix mail system is running: PID: <pid>\n\
                   postfix-b/postfix-script: the Postfix mail system is not running\n",
        );
}

#[test]
fn postfix_stop_stops_in_reverse_order() {
    let c = instances()
        .setup("postfix start")
        .check(WAIT_NO_MASTER)
        .check(MASTERS)
        .run_shell("postfix stop");
    let warning = postfix_compatibility_warning();
    c.assert_same().assert_status(0).assert_stderr(format!(
        "{warning}postfix-a/postfix-script: stopping the Postfix mail system\n\
         {warning}postfix/postfix-script: stopping the Postfix mail system\n",
    ));
    c.assert_checks(
        "masters left: 0\n[check 0: exit 0]\n/etc/postfix stopped\n/etc/postfix-a stopped\n/etc/postfix-b stopped\nmasters: 0\n[check 1: exit 0]\n",
    );
}

#[test]
fn postfix_reload_reaches_the_enabled_instances() {
    // Each master logs its "reload" record when it handles the SIGHUP,
    // after `postfix reload` has returned: a second for that before the
    // namespace (and its masters) die, so that both sides' records are
    // compared whole.
    instances()
        .setup("postfix start")
        .check("sleep 1")
        .check(MASTERS)
        .run_shell("postfix reload")
        .assert_same()
        .assert_status(0);
}

#[test]
fn postfix_start_twice_fails_for_running_instances() {
    instances()
        .setup("postfix start")
        .run_shell("postfix start")
        .assert_same()
        .assert_status(1)
        .assert_stderr_line(
            "postfix-a/postfix-script: fatal: the Postfix mail system is already running",
        );
}

#[test]
fn postmulti_p_start_by_group() {
    instances()
        .check(MASTERS)
        .run(&["-g", "g1", "-p", "start"])
        .assert_same()
        .assert_status(0);
}

#[test]
fn start_stop_start_cycle() {
    instances()
        .check(MASTERS)
        // Wait for the masters to be gone before starting again: otherwise
        // postfix-script may print "waiting for the Postfix mail system to
        // terminate", depending on timing.
        .run_shell(&format!("postfix start && postfix stop && {{ {WAIT_NO_MASTER} }} >/dev/null && postfix start; echo \"exit $?\""))
        .assert_same()
        .assert_stdout("exit 0\n");
}

/// The manual's workflow, end to end with real daemons, every step through
/// the binary under test: what it prints and what it leaves on disk must be
/// what Debian's postmulti leaves.
#[test]
fn the_manuals_workflow_leaves_what_upstream_leaves() {
    let c = Scenario::new()
        .normalize(mask_pids)
        .normalize(drop_waiting_lines)
        .timeout(std::time::Duration::from_secs(300))
        .run_shell(
            r##"
step() { echo "# $*"; "$@"; echo "exit $?"; }
step postmulti -e init
step postmulti -I postfix-out -G mta -e create
step postmulti -i postfix-out -e enable
step postmulti -l
step postfix start
step postmulti -p status
echo "masters: $(pgrep -x master | wc -l)"
step postfix stop
for i in $(seq 100); do pgrep -x master >/dev/null || break; sleep 0.1; done
echo "masters: $(pgrep -x master | wc -l)"
step postmulti -i postfix-out -e disable
step postmulti -i postfix-out -e destroy
step postmulti -l
"##,
        );
    c.assert_same().assert_status(0).assert_stdout(
        "# postmulti -e init\nexit 0\n\
         # postmulti -I postfix-out -G mta -e create\nexit 0\n\
         # postmulti -i postfix-out -e enable\nexit 0\n\
         # postmulti -l\n\
         -               -               y         /etc/postfix\n\
         postfix-out     mta             y         /etc/postfix-out\nexit 0\n\
         # postfix start\nexit 0\n\
         # postmulti -p status\nexit 0\n\
         masters: 2\n\
         # postfix stop\nexit 0\n\
         masters: 0\n\
         # postmulti -i postfix-out -e disable\nexit 0\n\
         # postmulti -i postfix-out -e destroy\nexit 0\n\
         # postmulti -l\n\
         -               -               y         /etc/postfix\nexit 0\n",
    );
}
