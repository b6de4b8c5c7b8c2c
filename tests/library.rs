//! Postfix's library rules that postmulti reaches, side by side with the
//! reference (issue 18): mac_expand's relational operators, the
//! maillog_file prefix check and fallback file, import_environment's
//! splitting, dict_update's duplicate warning, main.cf warnings once,
//! POSTLOG_HOSTNAME, process_name/process_id, printable() before main.cf,
//! smtputf8_enable.  The rules themselves are written down in the `//!` docs
//! of src/expand.rs, src/maincf.rs, src/primary.rs, src/environ.rs and
//! src/msg.rs.
mod common;
use common::*;

const P: &str = "-               -               y         /etc/postfix\n";

fn fatal(msg: &str) -> String {
    format!("postmulti: fatal: {msg}\n")
}

fn warning(msg: &str) -> String {
    format!("postmulti: warning: {msg}\n")
}

/// The primary main.cf with LINES appended.
fn primary(lines: &str) -> Scenario {
    Scenario::new().main_cf_append("/etc/postfix/main.cf", lines)
}

// --- 1. mac_expand: relational operators, numbers, <level ------------------

#[test]
fn numbers_compare_as_numbers_in_a_secondary() {
    Scenario::two_secondaries()
        .main_cf_append(
            "/etc/postfix-a/main.cf",
            "smtpd_recipient_limit = 1000\n\
             multi_instance_enable = ${{$smtpd_recipient_limit} == {01000} ? {yes} : {no}}",
        )
        .run(&["-l", "-i", "postfix-a"])
        .assert_same()
        .assert_status(0)
        .assert_stdout("postfix-a       g1              y         /etc/postfix-a\n")
        .assert_stderr("");
}

#[test]
fn less_than_in_the_primary_syslog_name() {
    primary("syslog_name = ${{1} < {2} ? {postfix} : {other}}")
        .run(&["-x", "printenv", "MAIL_LOGTAG"])
        .assert_same()
        .assert_status(0)
        .assert_stdout("postfix\n")
        .assert_stderr("");
}

#[test]
fn every_operator_and_the_level_suffix() {
    primary(
        "syslog_name = ${{10} > {9}?{a}:{b}}${{10} >= {9}?{a}:{b}}${{9} <= {10}?{a}:{b}}\
         ${{b} < {a}?{a}:{b}}${{3.6} <level {3.10}?{a}:{b}}${{2} >=level {3.0}?{a}:{b}}\
         ${ {x} != {y} }${{007} != {7}?{a}:{b}}${ mail_name }",
    )
    .run(&["-x", "printenv", "MAIL_LOGTAG"])
    .assert_same()
    .assert_status(0)
    .assert_stdout("aaababtruebPostfix\n")
    .assert_stderr("");
}

#[test]
fn a_number_beyond_a_long_is_fatal() {
    primary("syslog_name = ${{99999999999999999999} < {1}}")
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr(fatal("mac_exp_eval: bad conversion: 99999999999999999999"));
}

#[test]
fn a_bad_operator_suffix_and_a_bad_level() {
    primary("syslog_name = ${{x} <levelx {1}}")
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stderr(
            warning("bad operator suffix at: \"...<>>>levelx\"")
                + &fatal("dictionary mail_dict: macro processing error"),
        );
    primary("syslog_name = ${{3.1024} <level {3}}")
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stderr(
            warning("malformed compatibility level syntax: \"3.1024\"")
                + &fatal("dictionary mail_dict: macro processing error"),
        );
}

#[test]
fn an_unknown_operator_lists_all_six() {
    primary("syslog_name = ${{a} =< {b}}")
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stderr(
            warning(
                "\"==\" or \"!=\"\" or \"<\"\" or \"<=\"\" or \">=\"\" or \">\" expected at: \"...a}>>>=< {b}\"",
            ) + &fatal("dictionary mail_dict: macro processing error"),
        );
}

#[test]
fn after_an_error_the_next_braced_reference_ends_the_parse() {
    // mac_parse stops at `${mail_name}` without a word; `${x` still warns.
    primary("syslog_name = ${a b}${mail_name}${x")
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stderr(
            warning("attribute name syntax error at: \"...a>>> b\"")
                + &fatal("dictionary mail_dict: macro processing error"),
        );
}

// --- 2. maillog_file: the prefix check, the fallback file ------------------

#[test]
fn maillog_file_outside_the_prefixes_is_fatal() {
    primary("maillog_file = /etc/evil.log")
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr(fatal(
            "maillog_file value '/etc/evil.log' does not match any prefix in maillog_file_prefixes",
        ))
        .ours
        .assert_no_files_written();
}

#[test]
fn maillog_file_prefixes_is_a_list() {
    // The log file exists: Postfix 3.10 and later open it at start-up
    // (tests/maillog.rs), 3.7 does not.
    primary("maillog_file = /srv/log/pm.log\nmaillog_file_prefixes = /var, $x\nx = /srv/log/")
        .file("/srv/log/pm.log", "")
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout(P)
        .assert_stderr("");
}

/// The fallback log file: postlogd is not running, so the fatal record of
/// `-i nosuch` is appended to maillog_file.  Postfix 3.10 and 3.11 (as
/// seen: Debian 13 and unstable) create it mode 0600; 3.7 made it 0644,
/// the one older behaviour ours does not follow (a log others can read):
/// pinned here.  None writes through another user's symbolic link, a
/// dangling one, or to a file with two hard links: 3.7 just leaves the
/// record out, 3.10 and 3.11 open the file at start and die there with why.
#[test]
fn fallback_log_file_is_0600_and_not_followed() {
    let s = primary("maillog_file = /var/log/pm.log").check(
        "stat -c %a /var/log/pm.log; sed 's/^.* postmulti\\[[0-9]*\\]/RECORD/' /var/log/pm.log",
    );
    let ours_checks = "600\nRECORD: fatal: No matching instances\n[check 0: exit 0]\n";
    // The records name each side's own process id: compared through the
    // check, which masks it.
    for (side, checks) in [
        (s.run_ours(&["-x", "-i", "nosuch", "true"]), ours_checks),
        (
            s.run_reference(&["-x", "-i", "nosuch", "true"]),
            &*if reference_at_least(3, 10) {
                ours_checks.to_string()
            } else {
                ours_checks.replacen("600", "644", 1)
            },
        ),
    ] {
        side.assert_status(1)
            .assert_stderr(fatal("No matching instances"));
        assert_eq!(side.checks_str(), checks);
    }
    // A file that cannot be opened safely: Postfix 3.10 and later open it
    // at start-up, when postlogd does not answer, and die at once with
    // safe_open's reason (on stderr and to syslog); 3.7 opens it only to
    // log the fatal error, and drops the record in silence.
    for (setup, why) in [
        (
            "ln -s /etc/victim /var/log/pm.log",
            "cannot open file: No such file or directory",
        ),
        (
            "touch /etc/victim; ln -s /etc/victim /var/log/pm.log; chown -h nobody /var/log/pm.log",
            "file is a symbolic link",
        ),
        (
            "touch /var/log/pm.log; ln /var/log/pm.log /var/log/hard",
            "file has 2 hard links",
        ),
        ("mkdir /var/log/pm.log", "cannot open file: Is a directory"),
    ] {
        let c = primary("maillog_file = /var/log/pm.log")
            .setup(setup)
            .check("cat /etc/victim /var/log/pm.log 2>/dev/null | wc -c")
            .run(&["-x", "-i", "nosuch", "true"]);
        c.assert_same()
            .assert_status(1)
            .assert_checks("0\n[check 0: exit 0]\n");
        let text = if reference_at_least(3, 10) {
            format!("open logfile '/var/log/pm.log': {why}")
        } else {
            "No matching instances".to_string()
        };
        c.assert_stderr(fatal(&text));
        let records = if reference_at_least(3, 10) {
            vec![format!("<18>TIME postmulti[PID]: fatal: {text}")]
        } else {
            vec![]
        };
        assert_eq!(c.ours.postmulti_syslog(), records);
    }
}

// --- 3, 15. import_environment (mail_parm_split) ---------------------------

#[test]
fn import_environment_unclosed_brace_is_fatal() {
    primary("import_environment = MAIL_CONFIG {FOO=bar")
        .run(&["-e", "init"])
        .assert_same()
        .assert_status(1)
        .assert_stderr(fatal("import_environment: missing '}' in \"{FOO=bar\""));
}

#[test]
fn import_environment_text_after_a_group_is_fatal() {
    for (value, element) in [
        ("{FOO=1}x", "{FOO=1}x"),
        ("A {FOO=1}{BAR=2}", "{FOO=1}{BAR=2}"),
        // \v and \f do not separate elements (CHARS_COMMA_SP); printable() shows '?'.
        ("{FOO=1}\x0bB", "{FOO=1}?B"),
    ] {
        primary(&format!("import_environment = {value}"))
            .run(&["-e", "init"])
            .assert_same()
            .assert_status(1)
            .assert_stderr(fatal(&format!(
                "import_environment: syntax error after '}}' in \"{element}\""
            )));
    }
}

// --- 4, 5. dict_update and the second read under the lock ------------------

#[test]
fn the_same_value_twice_is_quiet() {
    primary("biff = no")
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout(P)
        .assert_stderr("");
}

#[test]
fn main_cf_warnings_once_on_life_cycle_commands() {
    primary("biff = yes")
        .run(&["-e", "enable", "-i", "nosuch"])
        .assert_same()
        .assert_status(1)
        .assert_stderr(
            warning("/etc/postfix/main.cf, line 24: overriding earlier entry: biff=no")
                + &fatal("No instance named nosuch"),
        );
}

// --- 6, 7. mail_params_init: myhostname, process_name, process_id ---------

/// POSTLOG_HOSTNAME for children on host `vm`, no myhostname in main.cf,
/// maillog_file set and EXTRA appended.
fn postlog_hostname(extra: &str) -> Compared {
    let main_cf = BASELINE_MAIN_CF.replace("myhostname = sandbox.example\n", "")
        + "maillog_file = /var/log/postfix.log\n"
        + extra;
    // The log file exists: Postfix 3.10 and later open it at start-up
    // (tests/maillog.rs), 3.7 does not.
    Scenario::new()
        .file("/etc/postfix/main.cf", main_cf)
        .file("/var/log/postfix.log", "")
        .run_shell("hostname vm && postmulti -x printenv POSTLOG_HOSTNAME")
}

#[test]
fn postlog_hostname_gets_localdomain() {
    postlog_hostname("")
        .assert_same()
        .assert_status(0)
        .assert_stdout("vm.localdomain\n");
}

#[test]
fn postlog_hostname_gets_mydomain() {
    postlog_hostname("mydomain = example.org\n")
        .assert_same()
        .assert_status(0)
        .assert_stdout("vm.example.org\n");
}

#[test]
fn process_name_and_id_are_empty() {
    primary("syslog_name = pf-$process_name-$process_id")
        .run(&["-x", "printenv", "MAIL_LOGTAG"])
        .assert_same()
        .assert_status(0)
        .assert_stdout("pf--\n");
}

// --- 16, 17. printable() before main.cf, smtputf8_enable -------------------

#[test]
fn utf8_is_off_before_main_cf() {
    primary("")
        .env("MAIL_CONFIG", "/tmp/\u{e9}")
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stderr(fatal("open /tmp/??/main.cf: No such file or directory"));
    primary("\u{e9}")
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stderr(fatal(
            "/etc/postfix/main.cf, line 24: missing '=' after attribute name: \"??\"",
        ));
    primary("syslog_facility = \u{e9}")
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stderr(fatal(
            "file /etc/postfix/main.cf: parameter syslog_facility: unrecognized value: ??",
        ));
}

#[test]
fn smtputf8_enable_is_a_boolean() {
    primary("smtputf8_enable = maybe")
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stderr(fatal("bad boolean configuration: smtputf8_enable = maybe"));
}

#[test]
fn smtputf8_enable_is_expanded() {
    // $x is "no": UTF-8 in a later message is shown as '?'; with the
    // default (compatibility_level 3.6: yes) it passes.
    for (lines, shown) in [("smtputf8_enable = $x\nx = no", "??"), ("x = 1", "\u{e9}")] {
        primary(lines)
            .run(&["-x", "/nonexistent/\u{e9}"])
            .assert_same()
            .assert_status(1)
            .assert_stderr(fatal(&format!(
                "execvp /nonexistent/{shown}: No such file or directory"
            )));
    }
}

// --- the man page's claims ------------------------------------------------

/// `-e init` accepts -a, -g and -i and ignores them (postmulti.c checks
/// only -I, -G and parameters for init); the man page says so.
#[test]
fn init_accepts_a_g_and_i_and_ignores_them() {
    for args in [
        &["-e", "init", "-a"][..],
        &["-e", "init", "-g", "nosuch"],
        &["-e", "init", "-i", "nosuch"],
    ] {
        Scenario::new()
            .check("postconf -h multi_instance_enable multi_instance_wrapper")
            .run(args)
            .assert_same()
            .assert_status(0)
            .assert_stderr("")
            .assert_checks_line("yes");
    }
}

/// dict_load_file_xt: a main.cf changed within the last second is read again
/// every 0.3 s until it is older, so a changed entry warns on each pass
/// (how many passes depends on the clock); one whose mtime is in the future
/// is read once.  Postfix 3.7 reads every pass into the same table, so from
/// the second pass on line 3 (biff = no) also overrides line 24's yes of
/// the pass before; 3.10 and 3.11 (as seen: Debian 13 and unstable) warn
/// only about line 24 on every pass, as if each pass started afresh.  Ours
/// does as the reference's release.
#[test]
fn a_main_cf_changed_just_now_is_read_again() {
    let line_24 = "<20>TIME postmulti[PID]: warning: /etc/postfix/main.cf, line 24: overriding earlier entry: biff=no";
    let line_3 = "<20>TIME postmulti[PID]: warning: /etc/postfix/main.cf, line 3: overriding earlier entry: biff=yes";
    let expected: &[&str] = if reference_at_least(3, 10) {
        &[line_24]
    } else {
        &[line_24, line_3]
    };
    let c = primary("biff = yes").run_shell("touch /etc/postfix/main.cf && postmulti -l");
    for (name, side) in [("reference", c.reference()), ("ours", c.ours())] {
        side.assert_status(0).assert_stdout(P);
        let records = side.postmulti_syslog();
        let mut distinct = records.clone();
        distinct.sort();
        distinct.dedup();
        assert!(records.len() >= 2, "{name}: {records:?}");
        assert_eq!(distinct, expected, "{name}");
    }
    primary("biff = yes")
        .run_shell("touch -d '+1 hour' /etc/postfix/main.cf && postmulti -l")
        .assert_same()
        .assert_status(0)
        .assert_stderr(warning(
            "/etc/postfix/main.cf, line 24: overriding earlier entry: biff=no",
        ));
}

/// Waits for the start of a second, then touches FILE, so that a re-read
/// loop that starts now makes the same passes on both sides.
fn touch_at_a_second_start(file: &str) -> String {
    format!("python3 -c 'import time; time.sleep(1 - time.time() % 1 + 0.05)'; touch {file}; ")
}

/// Postfix 3.8 and later read a just-changed main.cf again into an empty
/// table: config_directory, entered before the first pass, is gone, and
/// `$config_directory` is empty, so meta_directory is (a fatal error).
/// 3.7 reads again into the same table: nothing changes.
#[test]
fn a_re_read_pass_drops_config_directory_from_3_8_on() {
    let c = primary("meta_directory = $config_directory").run_shell(&format!(
        "{}postmulti -l",
        touch_at_a_second_start("/etc/postfix/main.cf")
    ));
    c.assert_same();
    if reference_at_least(3, 8) {
        c.assert_status(1)
            .assert_stdout("")
            .assert_stderr(fatal("bad string length 0 < 1: meta_directory = "));
    } else {
        c.assert_status(0).assert_stdout(P).assert_stderr("");
    }
}

/// config_directory set in main.cf overrides the value entered before the
/// read: one warning, on the first pass only (later passes of 3.8 and
/// later have no preset to override; 3.7's find the same value).
#[test]
fn config_directory_in_a_just_changed_main_cf_warns_once() {
    primary("config_directory = /etc/postfix/")
        .run_shell(&format!(
            "{}postmulti -l",
            touch_at_a_second_start("/etc/postfix/main.cf")
        ))
        .assert_same()
        .assert_status(0)
        .assert_stdout(P)
        .assert_stderr(warning(
            "/etc/postfix/main.cf, line 24: overriding earlier entry: config_directory=/etc/postfix",
        ));
}

/// A secondary's just-changed main.cf is postconf's to read (the native
/// reader leaves it): with 3.8 and later its re-read passes drop the
/// instance's config_directory, so `$config_directory` is postconf's
/// built-in one; with 3.7 the instance's.
#[test]
fn a_just_changed_secondary_main_cf_is_read_as_postconf_reads_it() {
    Scenario::two_secondaries()
        .main_cf_append(
            "/etc/postfix-a/main.cf",
            "data_directory = /var/lib/x$config_directory",
        )
        .run_shell(&format!(
            "{}postmulti -i postfix-a -x printenv data_directory",
            touch_at_a_second_start("/etc/postfix-a/main.cf")
        ))
        .assert_same()
        .assert_status(0)
        .assert_stdout(if reference_at_least(3, 8) {
            "/var/lib/x/etc/postfix\n"
        } else {
            "/var/lib/x/etc/postfix-a\n"
        });
}
