//! How the primary main.cf is read: syntax, macro expansion, parameters that
//! postmulti validates at start-up, and the shared-directory checks.
mod common;
use common::*;

const P: &str = "-               -               y         /etc/postfix\n";

/// Append LINES to the primary main.cf, run `postmulti -l`, compare.
fn with_primary(lines: &str) -> Compared {
    Scenario::new()
        .main_cf_append("/etc/postfix/main.cf", lines)
        .run(&["-l"])
}

fn fatal(msg: &str) -> String {
    format!("postmulti: fatal: {msg}\n")
}

#[test]
fn line_without_equals_is_fatal_with_file_and_line() {
    with_primary("bogus line")
        .assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr(fatal(
            "/etc/postfix/main.cf, line 24: missing '=' after attribute name: \"bogus line\"",
        ));
}

#[test]
fn comments_blank_lines_and_spaces_around_equals() {
    with_primary("# comment\n\n   \nmulti_instance_group   =    g   \n")
        .assert_same()
        .assert_status(0)
        .assert_stdout("-               g               y         /etc/postfix\n");
}

#[test]
fn indented_line_continues_the_previous_parameter() {
    // The baseline ends with `inet_protocols = ipv4`: the continuation joins
    // it, and mail_params_init() rejects inet_protocols (src/primary/mail_params.rs).
    Scenario::new()
        .main_cf_append("/etc/postfix/main.cf", "  leading = space")
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr(fatal(
            "unknown inet_protocols value \"leading\" in \"ipv4  leading = space\"",
        ));
}

#[test]
fn undefined_reference_in_a_parameter_upstream_validates() {
    // mail_params_init(): myorigin must not be empty (src/primary/mail_params.rs).
    Scenario::new()
        .main_cf_append(
            "/etc/postfix/main.cf",
            "x = $undefined_thing\nmyorigin = $nonexist",
        )
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr(fatal("bad string length 0 < 1: myorigin = "));
}

#[test]
fn undefined_reference_in_an_unused_parameter_is_fine() {
    with_primary("x = $undefined_thing")
        .assert_same()
        .assert_status(0)
        .assert_stdout(P)
        .assert_stderr("");
}

#[test]
fn unknown_name_in_multi_instance_directories_expands_to_nothing() {
    with_primary("multi_instance_directories = $nonexist")
        .assert_same()
        .assert_status(0)
        .assert_stdout(P);
}

#[test]
fn truncated_macro() {
    with_primary("multi_instance_directories = ${a").assert_same().assert_status(1).assert_stderr(
        "postmulti: warning: truncated macro reference: \"${a\"\npostmulti: fatal: dictionary mail_dict: macro processing error\n",
    );
}

#[test]
fn unbalanced_parenthesis_macro() {
    with_primary("multi_instance_directories = $(a")
        .assert_same()
        .assert_status(1)
        .assert_stderr_line("postmulti: fatal: dictionary mail_dict: macro processing error")
        .assert_stderr_line("postmulti: warning: truncated macro reference: \"$(a\"");
}

#[test]
fn macro_with_bad_character() {
    with_primary("multi_instance_directories = ${a b}")
        .assert_same()
        .assert_status(1)
        .assert_stderr_line("postmulti: fatal: dictionary mail_dict: macro processing error")
        .assert_stderr_line("postmulti: warning: attribute name syntax error at: \"...a>>> b\"");
}

#[test]
fn conditional_macros() {
    with_primary("x = yes\ny = ${x?/etc/postfix-x} ${nonexist?bad} ${x:bad} ${nonexist:/etc/postfix-y}\nmulti_instance_group = $y")
        .assert_same()
        .assert_status(0)
        .assert_stdout_line("-               /etc/postfix-x   /etc/postfix-y y         /etc/postfix");
}

#[test]
fn recursive_macro() {
    with_primary("a = $b\nb = $a\nmulti_instance_directories = $a")
        .assert_same()
        .assert_status(1)
        .assert_stderr_line("postmulti: fatal: dictionary mail_dict: macro processing error")
        .assert_stderr_line("postmulti: warning: unreasonable macro call nesting: \"b\"");
}

#[test]
fn last_assignment_wins() {
    with_primary("multi_instance_enable = maybe\nmulti_instance_enable = yes")
        .assert_same()
        .assert_status(0);
}

#[test]
fn bad_multi_instance_enable_in_primary() {
    with_primary("multi_instance_enable = maybe")
        .assert_same()
        .assert_status(1)
        .assert_stderr(fatal(
            "bad boolean configuration: multi_instance_enable = maybe",
        ));
}

#[test]
fn uppercase_multi_instance_enable_in_primary() {
    with_primary("multi_instance_enable = YES")
        .assert_same()
        .assert_status(0)
        .assert_stdout(P);
}

#[test]
fn empty_multi_instance_enable_in_primary() {
    with_primary("multi_instance_enable =")
        .assert_same()
        .assert_status(1)
        .assert_stderr_line(
            "postmulti: fatal: bad boolean configuration: multi_instance_enable = ",
        );
}

#[test]
fn command_directory_missing() {
    with_primary("command_directory = /nonexist")
        .assert_same()
        .assert_status(1)
        .assert_stderr(fatal(
            "command_directory = '/nonexist': directory not found: No such file or directory",
        ));
}

#[test]
fn command_directory_not_a_directory() {
    with_primary("command_directory = /etc/postfix/main.cf")
        .assert_same()
        .assert_status(1)
        .assert_stderr(fatal(
            "command_directory = '/etc/postfix/main.cf' is not a directory",
        ));
}

#[test]
fn relative_shared_directory_is_not_checked() {
    with_primary("command_directory = relative/dir")
        .assert_same()
        .assert_status(0)
        .assert_stdout(P);
}

#[test]
fn daemon_directory_missing() {
    with_primary("daemon_directory = /nonexist")
        .assert_same()
        .assert_status(1)
        .assert_stderr(fatal(
            "daemon_directory = '/nonexist': directory not found: No such file or directory",
        ));
}

#[test]
fn meta_directory_missing() {
    with_primary("meta_directory = /nonexist")
        .assert_same()
        .assert_status(1)
        .assert_stderr(fatal(
            "meta_directory = '/nonexist': directory not found: No such file or directory",
        ));
}

#[test]
fn shlib_directory_missing() {
    with_primary("shlib_directory = /nonexist")
        .assert_same()
        .assert_status(1)
        .assert_stderr(fatal(
            "shlib_directory = '/nonexist': directory not found: No such file or directory",
        ));
}

#[test]
fn shared_directory_is_a_symlink_to_a_directory() {
    Scenario::new()
        .setup("ln -s /usr/sbin /var/tmp/sbin-link")
        .main_cf_append(
            "/etc/postfix/main.cf",
            "command_directory = /var/tmp/sbin-link",
        )
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout_line("-               -               y         /etc/postfix");
}

#[test]
fn shlib_directory_conflicts_with_config_directory() {
    with_primary("shlib_directory = /etc/postfix").assert_same().assert_status(1).assert_stderr(fatal(
        "instance /etc/postfix, config_directory=/etc/postfix conflicts with instance /etc/postfix, shlib_directory=/etc/postfix",
    ));
}

#[test]
fn command_directory_conflicts_with_config_directory() {
    with_primary("command_directory = /etc/postfix").assert_same().assert_status(1).assert_stderr(fatal(
        "instance /etc/postfix, config_directory=/etc/postfix conflicts with instance /etc/postfix, command_directory=/etc/postfix",
    ));
}

#[test]
fn daemon_directory_conflicts_with_config_directory() {
    with_primary("daemon_directory = /etc/postfix")
        .assert_same()
        .assert_status(1);
}

#[test]
fn meta_directory_is_not_claimed() {
    with_primary("meta_directory = /usr/sbin")
        .assert_same()
        .assert_status(0)
        .assert_stdout(P);
}

#[test]
fn queue_directory_is_the_config_directory() {
    with_primary("queue_directory = /etc/postfix").assert_same().assert_status(1).assert_stderr(fatal(
        "instance /etc/postfix, queue_directory=/etc/postfix conflicts with instance /etc/postfix, config_directory=/etc/postfix",
    ));
}

#[test]
fn data_directory_is_the_command_directory() {
    with_primary("data_directory = /usr/sbin").assert_same().assert_status(1).assert_stderr(fatal(
        "instance /etc/postfix, data_directory=/usr/sbin conflicts with instance /etc/postfix, command_directory=/usr/sbin",
    ));
}

#[test]
fn secondary_queue_directory_is_the_shared_daemon_directory() {
    Scenario::two_secondaries()
        .main_cf_append(
            "/etc/postfix-b/main.cf",
            "queue_directory = /usr/lib/postfix/sbin",
        )
        .run(&["-l"])
        .assert_same()
        .assert_status(1);
}

#[test]
fn config_directory_set_in_main_cf_is_ignored() {
    with_primary("config_directory = /somewhere/else").assert_same()
        .assert_status(0)
        .assert_stderr_line("postmulti: warning: /etc/postfix/main.cf, line 24: overriding earlier entry: config_directory=/etc/postfix");
}

#[test]
fn syslog_name_with_macro() {
    Scenario::new()
        .main_cf_append(
            "/etc/postfix/main.cf",
            "syslog_name = ${multi_instance_name?{$multi_instance_name}:postfix}-x",
        )
        .run(&["-x", "sh", "-c", "echo $MAIL_LOGTAG"])
        .assert_same()
        .assert_status(0)
        .assert_stdout_line("postfix-x");
}

#[test]
fn main_cf_missing() {
    Scenario::new()
        .setup("rm /etc/postfix/main.cf")
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stderr(fatal(
            "open /etc/postfix/main.cf: No such file or directory",
        ));
}

#[test]
fn main_cf_unreadable_directory() {
    Scenario::new()
        .setup("rm /etc/postfix/main.cf; mkdir /etc/postfix/main.cf")
        .run(&["-l"])
        .assert_same()
        .assert_status(1);
}

#[test]
fn main_cf_with_nul_free_binary_bytes() {
    Scenario::new()
        .main_cf_append("/etc/postfix/main.cf", "multi_instance_group = caf\u{e9}")
        .setup("printf 'multi_instance_name = \\377\\376\\n' >> /etc/postfix/main.cf")
        .run(&["-l"])
        .assert_same()
        .assert_status(0);
}

#[test]
fn crlf_line_endings() {
    Scenario::new()
        .setup("printf 'multi_instance_group = g\\r\\n' >> /etc/postfix/main.cf")
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout_line("-               g               y         /etc/postfix");
}

#[test]
fn postmulti_start_commands_are_read_at_startup() {
    with_primary("postmulti_start_commands = ${undefined_x}")
        .assert_same()
        .assert_status(0)
        .assert_stdout_line("-               -               y         /etc/postfix");
}

#[test]
fn config_directory_set_to_itself_is_no_override() {
    // dict_load_fp() warns only when a value changes.
    with_primary("config_directory = /etc/postfix\nbiff = no\nbiff = no")
        .assert_same()
        .assert_status(0)
        .assert_stderr("");
}

#[test]
fn the_same_setting_twice_in_a_secondary_is_quiet() {
    Scenario::two_secondaries()
        .main_cf_append("/etc/postfix-b/main.cf", "biff = no\nbiff = no\n")
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stderr("")
        .assert_stdout_line("postfix-b       -               n         /etc/postfix-b");
}
