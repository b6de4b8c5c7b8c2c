//! The process boundary: postmulti leaves the caller's SIGPIPE disposition
//! and signal mask as they are, for itself and for everything it runs
//! (`-x` commands, `postfix` under `-p`, postmulti-script under `-e`), as
//! the C program does (it never touches them).  systemd starts units with
//! SIGPIPE ignored; a shell leaves it at its default.  Side by side with
//! the reference, on every release.
mod common;
use common::*;

/// Runs ARGV with SIGPIPE ignored and SIGUSR1 blocked, as a caller such as
/// systemd (or a program that blocks signals) leaves them, through exec.
fn ignoring_sigpipe(argv: &str) -> String {
    format!(
        "python3 -c 'import os, signal, sys\n\
         signal.signal(signal.SIGPIPE, signal.SIG_IGN)\n\
         signal.pthread_sigmask(signal.SIG_BLOCK, {{signal.SIGUSR1}})\n\
         os.execvp(sys.argv[1], sys.argv[1:])' {argv}"
    )
}

/// Setup: /var/tmp/signals.sh prints what the shell running it sees of
/// SIGPIPE and SIGUSR1 (other bits, such as the harness's own, vary with
/// the caller of both sides alike).  Wrappers source it: dash clears the
/// signal mask of the commands it forks.
const SIGNALS_SH: &str = "cat > /var/tmp/signals.sh <<'__PM_EOF__'\n\
while read -r k v; do\n\
  case $k in\n\
  SigBlk:) echo \"SIGUSR1 blocked: $(( 0x$v >> 9 & 1 ))\" ;;\n\
  SigIgn:) echo \"SIGPIPE ignored: $(( 0x$v >> 12 & 1 ))\" ;;\n\
  esac\n\
done < /proc/self/status\n\
__PM_EOF__\n";

/// What signals.sh prints for a caller that ignored SIGPIPE and blocked SIGUSR1.
const CALLERS: &str = "SIGUSR1 blocked: 1\nSIGPIPE ignored: 1\n";

/// What it prints for a caller that left both at their defaults.
const DEFAULTS: &str = "SIGUSR1 blocked: 0\nSIGPIPE ignored: 0\n";

/// The command that runs signals.sh.
const SIGNAL_LINES: &str = "sh /var/tmp/signals.sh";

#[test]
fn a_command_sees_sigpipe_ignored_when_the_caller_ignored_it() {
    Scenario::new()
        .setup(SIGNALS_SH)
        .run_shell(&ignoring_sigpipe(&format!(
            "postmulti -i - -x {SIGNAL_LINES}"
        )))
        .assert_same()
        .assert_status(0)
        .assert_stdout(CALLERS)
        .assert_stderr("");
}

#[test]
fn a_command_sees_sigpipe_at_its_default_otherwise() {
    Scenario::new()
        .setup(SIGNALS_SH)
        .run_shell(&format!("postmulti -i - -x {SIGNAL_LINES}"))
        .assert_same()
        .assert_status(0)
        .assert_stdout(DEFAULTS)
        .assert_stderr("");
}

/// `yes | head -1` in a `-x` command: with SIGPIPE ignored, yes(1) sees
/// EPIPE and says so; with the default, the signal ends it in silence.
#[test]
fn a_pipeline_in_a_command_breaks_as_the_caller_set_it() {
    let command = "postmulti -i - -x sh -c 'yes | head -1'";
    Scenario::new()
        .run_shell(&ignoring_sigpipe(command))
        .assert_same()
        .assert_status(0)
        .assert_stdout("y\n")
        .assert_stderr("yes: standard output: Broken pipe\n");
    Scenario::new()
        .run_shell(command)
        .assert_same()
        .assert_status(0)
        .assert_stdout("y\n")
        .assert_stderr("");
}

/// `postmulti -l` into a pipe already closed: SIGPIPE ignored, the write
/// fails and list_instances() says so (exit 1); default, the signal ends
/// postmulti (bash reports 141).
#[test]
fn listing_into_a_closed_pipe() {
    let list = |launch: &str| format!("({launch}) | true; echo \"status ${{PIPESTATUS[0]}}\"");
    Scenario::new()
        .run_shell(&list(&format!(
            "sleep 0.5; exec {}",
            ignoring_sigpipe("postmulti -l")
        )))
        .assert_same()
        .assert_status(0)
        .assert_stdout("status 1\n")
        .assert_stderr("postmulti: fatal: error writing output: Broken pipe\n");
    Scenario::new()
        .run_shell(&list("sleep 0.5; exec postmulti -l"))
        .assert_same()
        .assert_status(0)
        .assert_stdout("status 141\n")
        .assert_stderr("");
}

/// postfix(1) under `-p`, and postfix-script after it, get the caller's
/// SIGPIPE and signal mask (the recording postfix writes them to a file the
/// harness compares).
#[test]
fn postfix_under_p_sees_the_callers_signals() {
    let record =
        "cat > /var/tmp/fake-postfix <<'__PM_EOF__'\n#!/bin/sh\n. /var/tmp/signals.sh >> /var/log/postfix-signals.log\n__PM_EOF__\n\
         chmod 755 /var/tmp/fake-postfix\nmount --bind /var/tmp/fake-postfix /usr/sbin/postfix\n";
    for (launch, lines) in [
        (ignoring_sigpipe("postmulti -p status"), CALLERS),
        ("postmulti -p status".to_string(), DEFAULTS),
    ] {
        Scenario::new()
            .setup(SIGNALS_SH)
            .setup(record)
            .check("cat /var/log/postfix-signals.log")
            .run_shell(&launch)
            .assert_same()
            .assert_status(0)
            .assert_checks(format!("{lines}[check 0: exit 0]\n"));
    }
}

/// postmulti-script under `-e create` gets the caller's SIGPIPE and signal
/// mask (a wrapper records them, then runs the real script).
#[test]
fn postmulti_script_sees_the_callers_signals() {
    let wrap =
        "postmulti -e init\n\
         script=$(postconf -h daemon_directory)/postmulti-script\n\
         cp \"$script\" /var/tmp/postmulti-script.real\n\
         cat > /var/tmp/wrapper <<'__PM_EOF__'\n#!/bin/sh\n. /var/tmp/signals.sh >> /var/log/script-signals.log\n\
         exec /var/tmp/postmulti-script.real \"$@\"\n__PM_EOF__\n\
         chmod 755 /var/tmp/wrapper\nmount --bind /var/tmp/wrapper \"$script\"\n";
    for (launch, lines) in [
        (
            ignoring_sigpipe("postmulti -I postfix-a -e create"),
            CALLERS,
        ),
        ("postmulti -I postfix-a -e create".to_string(), DEFAULTS),
    ] {
        Scenario::new()
            .setup(SIGNALS_SH)
            .setup(wrap)
            .check("cat /var/log/script-signals.log; postmulti -l")
            .run_shell(&launch)
            .assert_same()
            .assert_status(0)
            .assert_stderr("")
            .assert_checks(format!(
                "{lines}-               -               y         /etc/postfix\n\
                 postfix-a       -               n         /etc/postfix-a\n[check 0: exit 0]\n"
            ));
    }
}
