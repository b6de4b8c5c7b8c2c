//! `postmulti -p`: the postfix-wrapper(5) interface, with a recording fake
//! bind-mounted over /usr/sbin/postfix (see RECORDING_POSTFIX in common):
//! each call appends `MAIL_CONFIG=... argv=...` and the whole environment it
//! received (names, values, order) to /var/log/postfix-calls.log, a file
//! written and so compared between reference and ours.
mod common;
use common::*;

const LOG: &str = "/var/log/postfix-calls.log";

/// primary (enabled), postfix-a (enabled, group g1), postfix-b (disabled), fake postfix.
fn three() -> Scenario {
    Scenario::two_secondaries_a_enabled().setup(&recording_postfix_setup())
}

fn calls(c: &Compared) -> String {
    String::from_utf8_lossy(c.reference.pin_file(LOG).unwrap_or(b"(no calls)\n")).into_owned()
}

fn argv_lines(c: &Compared) -> String {
    calls(c)
        .lines()
        .filter(|l| l.starts_with("MAIL_CONFIG"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn start_runs_check_on_disabled_instances() {
    let c = three().run(&["-p", "start"]);
    c.assert_same()
        .assert_status(0)
        .assert_stdout("")
        .assert_stderr("");
    assert_eq!(
        argv_lines(&c),
        "MAIL_CONFIG=/etc/postfix argv=-- start\nMAIL_CONFIG=/etc/postfix-a argv=-- start\nMAIL_CONFIG=/etc/postfix-b argv=-- check\n"
    );
}

#[test]
fn start_keeps_extra_arguments_after_check() {
    let c = three().run(&["-p", "start", "extra"]);
    c.assert_same().assert_status(0);
    assert_eq!(
        argv_lines(&c),
        "MAIL_CONFIG=/etc/postfix argv=-- start extra\nMAIL_CONFIG=/etc/postfix-a argv=-- start extra\nMAIL_CONFIG=/etc/postfix-b argv=-- check extra\n"
    );
}

#[test]
fn stop_is_reversed_and_skips_disabled() {
    let c = three().run(&["-p", "stop"]);
    c.assert_same().assert_status(0);
    assert_eq!(
        argv_lines(&c),
        "MAIL_CONFIG=/etc/postfix-a argv=-- stop\nMAIL_CONFIG=/etc/postfix argv=-- stop\n"
    );
}

#[test]
fn abort_drain_quick_stop_are_stop_commands() {
    for cmd in ["abort", "drain", "quick-stop"] {
        let c = three().run(&["-p", cmd]);
        c.assert_same();
        assert_eq!(argv_lines(&c), format!("MAIL_CONFIG=/etc/postfix-a argv=-- {cmd}\nMAIL_CONFIG=/etc/postfix argv=-- {cmd}\n"));
    }
}

#[test]
fn reload_skips_disabled() {
    let c = three().run(&["-p", "reload"]);
    c.assert_same().assert_status(0);
    assert_eq!(
        argv_lines(&c),
        "MAIL_CONFIG=/etc/postfix argv=-- reload\nMAIL_CONFIG=/etc/postfix-a argv=-- reload\n"
    );
}

#[test]
fn flush_skips_disabled() {
    let c = three().run(&["-p", "flush"]);
    c.assert_same();
    assert_eq!(
        argv_lines(&c),
        "MAIL_CONFIG=/etc/postfix argv=-- flush\nMAIL_CONFIG=/etc/postfix-a argv=-- flush\n"
    );
}

#[test]
fn status_runs_on_all() {
    let c = three().run(&["-p", "status"]);
    c.assert_same().assert_status(0);
    assert_eq!(
        argv_lines(&c),
        "MAIL_CONFIG=/etc/postfix argv=-- status\nMAIL_CONFIG=/etc/postfix-a argv=-- status\nMAIL_CONFIG=/etc/postfix-b argv=-- status\n"
    );
}

/// The whole environment each `postfix` received, in order: the caller's
/// (the sandbox driver's bash), with MAIL_LOGTAG and MAIL_CONFIG added
/// (MAIL_VERBOSE too with `-v`), nothing of the instance's directories.
fn postfix_env(config: &str, verbose: bool) -> String {
    format!(
        "  env PWD=/\n  env HOME=/root\n  env SHLVL=1\n\
         \x20 env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n\
         \x20 env OLDPWD=/\n  env _=/usr/bin/env\n  env MAIL_LOGTAG=postfix\n{}  env MAIL_CONFIG={config}\n",
        if verbose { "  env MAIL_VERBOSE=\n" } else { "" }
    )
}

#[test]
fn postfix_sees_only_mail_config_and_mail_logtag() {
    let c = three().run(&["-p", "status"]);
    c.assert_same().assert_status(0);
    let want: String = ["/etc/postfix", "/etc/postfix-a", "/etc/postfix-b"]
        .iter()
        .map(|d| format!("MAIL_CONFIG={d} argv=-- status\n{}", postfix_env(d, false)))
        .collect();
    assert_eq!(calls(&c), want);
}

#[test]
fn verbose_passes_mail_verbose_to_postfix() {
    let c = three().run(&["-v", "-p", "status"]);
    c.assert_same().assert_status(0);
    let want: String = ["/etc/postfix", "/etc/postfix-a", "/etc/postfix-b"]
        .iter()
        .map(|d| format!("MAIL_CONFIG={d} argv=-- status\n{}", postfix_env(d, true)))
        .collect();
    assert_eq!(calls(&c), want);
}

#[test]
fn unknown_command_runs_on_all() {
    let c = three().run(&["-p", "set-permissions"]);
    c.assert_same().assert_status(0);
    assert_eq!(
        argv_lines(&c),
        "MAIL_CONFIG=/etc/postfix argv=-- set-permissions\n\
         MAIL_CONFIG=/etc/postfix-a argv=-- set-permissions\n\
         MAIL_CONFIG=/etc/postfix-b argv=-- set-permissions\n"
    );
}

#[test]
fn wrapper_form_with_double_dash() {
    // postfix(1) runs `$multi_instance_wrapper start` = `postmulti -p -- start`.
    let c = three().run(&["-p", "--", "start"]);
    c.assert_same().assert_status(0);
    assert_eq!(
        argv_lines(&c),
        "MAIL_CONFIG=/etc/postfix argv=-- start\nMAIL_CONFIG=/etc/postfix-a argv=-- start\nMAIL_CONFIG=/etc/postfix-b argv=-- check\n"
    );
}

#[test]
fn failing_postfix_makes_exit_1_and_the_loop_goes_on() {
    let c = three().run(&["-p", "status", "fail"]);
    c.assert_same().assert_status(1).assert_stderr("");
    assert_eq!(
        argv_lines(&c),
        "MAIL_CONFIG=/etc/postfix argv=-- status fail\nMAIL_CONFIG=/etc/postfix-a argv=-- status fail\nMAIL_CONFIG=/etc/postfix-b argv=-- status fail\n"
    );
}

#[test]
fn custom_start_commands() {
    let c = three()
        .setup("postconf -e 'postmulti_start_commands = start, warmup'")
        .run(&["-p", "warmup"]);
    c.assert_same().assert_status(0);
    assert_eq!(
        argv_lines(&c),
        "MAIL_CONFIG=/etc/postfix argv=-- warmup\nMAIL_CONFIG=/etc/postfix-a argv=-- warmup\nMAIL_CONFIG=/etc/postfix-b argv=-- check\n"
    );
}

#[test]
fn custom_stop_commands() {
    let c = three()
        .setup("postconf -e 'postmulti_stop_commands = halt'")
        .run(&["-p", "halt"]);
    c.assert_same().assert_status(0);
    assert_eq!(
        argv_lines(&c),
        "MAIL_CONFIG=/etc/postfix-a argv=-- halt\nMAIL_CONFIG=/etc/postfix argv=-- halt\n"
    );
}

#[test]
fn custom_control_commands_replace_the_defaults() {
    // reload is no longer a control command: it runs everywhere.
    let c = three()
        .setup("postconf -e 'postmulti_control_commands = poke'")
        .run(&["-p", "reload"]);
    c.assert_same().assert_status(0);
    assert_eq!(
        argv_lines(&c),
        "MAIL_CONFIG=/etc/postfix argv=-- reload\nMAIL_CONFIG=/etc/postfix-a argv=-- reload\nMAIL_CONFIG=/etc/postfix-b argv=-- reload\n"
    );
}

#[test]
fn start_commands_are_looked_up_in_the_primary_main_cf_only() {
    let c = three()
        .main_cf_append(
            "/etc/postfix-a/main.cf",
            "postmulti_start_commands = warmup",
        )
        .run(&["-p", "warmup"]);
    c.assert_same().assert_status(0);
    // Not a start command: it runs as is on all three, disabled one included.
    assert_eq!(
        argv_lines(&c),
        "MAIL_CONFIG=/etc/postfix argv=-- warmup\nMAIL_CONFIG=/etc/postfix-a argv=-- warmup\nMAIL_CONFIG=/etc/postfix-b argv=-- warmup\n"
    );
}

#[test]
fn start_of_a_disabled_instance_by_name_runs_check() {
    let c = three().run(&["-i", "postfix-b", "-p", "start"]);
    c.assert_same().assert_status(0);
    assert_eq!(argv_lines(&c), "MAIL_CONFIG=/etc/postfix-b argv=-- check\n");
}

#[test]
fn stop_of_a_disabled_instance_by_name_matches_nothing() {
    three()
        .run(&["-i", "postfix-b", "-p", "stop"])
        .assert_same()
        .assert_status(1)
        .assert_stderr("postmulti: fatal: No matching instances\n");
}

#[test]
fn debian_systemd_unit_starts_the_primary() {
    // postfix@.service: postmulti -i %i -p start, %i = "-" for the primary.
    let c = three().run(&["-i", "-", "-p", "start"]);
    c.assert_same().assert_status(0);
    assert_eq!(argv_lines(&c), "MAIL_CONFIG=/etc/postfix argv=-- start\n");
}

#[test]
fn debian_systemd_unit_reloads_a_secondary() {
    three()
        .run(&["-i", "postfix-a", "-p", "reload"])
        .assert_same()
        .assert_status(0);
}

#[test]
fn by_group() {
    let c = three().run(&["-g", "g1", "-p", "stop"]);
    c.assert_same();
    assert_eq!(argv_lines(&c), "MAIL_CONFIG=/etc/postfix-a argv=-- stop\n");
}

#[test]
fn command_directory_postfix_is_used() {
    Scenario::new()
        .setup("mkdir -p /var/tmp/cmds; printf '#!/bin/sh\\necho \"cmddir postfix $*\"\\n' > /var/tmp/cmds/postfix; chmod 755 /var/tmp/cmds/postfix")
        .main_cf_append("/etc/postfix/main.cf", "command_directory = /var/tmp/cmds")
        .run(&["-p", "status"])
        .assert_same()
        .assert_stdout("cmddir postfix -- status\n");
}

#[test]
fn missing_postfix_binary() {
    Scenario::new()
        .setup("mkdir -p /var/tmp/empty")
        .main_cf_append("/etc/postfix/main.cf", "command_directory = /var/tmp/empty")
        .run(&["-p", "status"])
        .assert_same()
        .assert_status(1)
        .assert_stderr(
            "postmulti: fatal: execvp /var/tmp/empty/postfix: No such file or directory\n",
        );
}

#[test]
fn real_postfix_status_single_instance() {
    Scenario::new()
        .run(&["-p", "status"])
        .assert_same()
        .assert_status(1)
        .assert_stderr(format!(
            "{}postfix/postfix-script: the Postfix mail system is not running\n",
            postfix_compatibility_warning()
        ));
}

#[test]
fn real_postfix_check_all_instances() {
    Scenario::two_secondaries()
        .run(&["-p", "check"])
        .assert_same()
        .assert_status(0);
}
