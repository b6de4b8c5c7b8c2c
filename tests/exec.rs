//! `postmulti -x`: running a command per instance, its environment and exit status.
mod common;
use common::*;

/// Per instance: the whole environment the child received, in its order
/// (`/proc/$$/environ` of the shell postmulti ran: the envp of its execve),
/// one `NAME=value` a line, then a separator.
fn env_script() -> String {
    ENV_DUMP.to_string()
}

#[test]
fn environment_per_instance() {
    Scenario::two_secondaries_a_enabled()
        .run(&["-x", "sh", "-c", &env_script()])
        .assert_same()
        .assert_status(0)
        .assert_stderr("");
}

#[test]
fn environment_single_instance() {
    // The caller's environment (the sandbox driver's bash: PWD, HOME,
    // SHLVL, PATH, OLDPWD, `_`) in its order, PATH changed in place, then
    // what postmulti adds, in the order it adds it.
    Scenario::new()
        .run(&["-x", "sh", "-c", &env_script()])
        .assert_same()
        .assert_status(0)
        .assert_stdout(
            "PWD=/\nHOME=/root\nSHLVL=1\n\
             PATH=/usr/sbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n\
             OLDPWD=/\n_=/usr/bin/env\nMAIL_LOGTAG=postfix\nMAIL_CONFIG=/etc/postfix\n\
             daemon_directory=/usr/lib/postfix/sbin\ncommand_directory=/usr/sbin\n\
             config_directory=/etc/postfix\nqueue_directory=/var/spool/postfix\n\
             data_directory=/var/lib/postfix\nmulti_instance_name=\nmulti_instance_group=\n\
             multi_instance_enable=yes\n--\n",
        );
}

#[test]
fn environment_of_a_nameless_instance() {
    Scenario::two_secondaries()
        .setup("postmulti -i postfix-b -I - -e assign")
        .run(&["-i", "/etc/postfix-b", "-x", "sh", "-c", &env_script()])
        .assert_same()
        .assert_status(0)
        .assert_stdout_line("--");
}

#[test]
fn inherited_environment_is_kept_but_mail_logtag_is_overridden() {
    Scenario::new()
        .env("MAIL_LOGTAG", "foo")
        .env("MAIL_VERBOSE", "x")
        .env("SOMETHING_ELSE", "kept")
        .env("config_directory", "/overridden")
        .run(&[
            "-x",
            "sh",
            "-c",
            "echo $MAIL_LOGTAG $MAIL_VERBOSE $SOMETHING_ELSE $config_directory",
        ])
        .assert_same()
        .assert_stdout("postfix x kept /etc/postfix\n");
}

#[test]
fn mail_logtag_is_the_primary_syslog_name() {
    Scenario::two_secondaries()
        .main_cf_append("/etc/postfix/main.cf", "syslog_name = primary-tag")
        .run(&["-x", "sh", "-c", "echo $MAIL_CONFIG $MAIL_LOGTAG"])
        .assert_same()
        .assert_status(0)
        .assert_stdout_line("/etc/postfix-b primary-tag");
}

#[test]
fn verbose_exports_mail_verbose() {
    Scenario::new()
        .run(&["-v", "-x", "sh", "-c", "echo \"[${MAIL_VERBOSE-unset}]\""])
        .assert_same()
        .assert_stdout("[]\n");
}

#[test]
fn without_verbose_mail_verbose_is_not_set() {
    Scenario::new()
        .run(&["-x", "sh", "-c", "echo \"[${MAIL_VERBOSE-unset}]\""])
        .assert_same()
        .assert_stdout("[unset]\n");
}

#[test]
fn path_unset() {
    Scenario::new()
        .env_remove("PATH")
        .run(&["-x", "/bin/sh", "-c", "echo \"$PATH\""])
        .assert_same()
        .assert_status(0)
        .assert_stdout_line("/usr/sbin:/bin:/usr/bin:/sbin:/usr/sbin");
}

#[test]
fn path_empty() {
    Scenario::new()
        .env("PATH", "")
        .run(&["-x", "/bin/sh", "-c", "echo \"$PATH\""])
        .assert_same()
        .assert_status(0)
        .assert_stdout_line("/usr/sbin:/bin:/usr/bin:/sbin:/usr/sbin");
}

#[test]
fn command_directory_is_searched_first() {
    Scenario::new()
        .setup("mkdir -p /var/tmp/cmds; printf '#!/bin/sh\\necho from-command-directory\\n' > /var/tmp/cmds/hello; chmod 755 /var/tmp/cmds/hello")
        .main_cf_append("/etc/postfix/main.cf", "command_directory = /var/tmp/cmds")
        .run(&["-x", "hello"])
        .assert_same()
        .assert_stdout("from-command-directory\n");
}

#[test]
fn exit_1_when_a_child_fails() {
    Scenario::two_secondaries()
        .run(&["-x", "false"])
        .assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr("");
}

#[test]
fn exit_status_is_1_whatever_the_child_status() {
    Scenario::new()
        .run(&["-x", "sh", "-c", "exit 7"])
        .assert_same()
        .assert_status(1);
}

#[test]
fn failing_child_does_not_stop_the_loop() {
    Scenario::two_secondaries()
        .run(&[
            "-x",
            "sh",
            "-c",
            "echo $MAIL_CONFIG; test $MAIL_CONFIG != /etc/postfix-a",
        ])
        .assert_same()
        .assert_status(1)
        .assert_stdout("/etc/postfix\n/etc/postfix-a\n/etc/postfix-b\n");
}

#[test]
fn killed_child() {
    Scenario::two_secondaries()
        .run(&["-i", "postfix-a", "-x", "sh", "-c", "kill -TERM $$"])
        .assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr("");
}

#[test]
fn execvp_failure_for_each_instance() {
    let msg = "postmulti: fatal: execvp /nonexistent-cmd: No such file or directory\n";
    Scenario::two_secondaries()
        .run(&["-x", "/nonexistent-cmd", "arg"])
        .assert_same()
        .assert_status(1)
        .assert_stderr(msg.repeat(3));
}

#[test]
fn execvp_failure_path_search() {
    Scenario::new()
        .run(&["-x", "nonexistent-cmd"])
        .assert_same()
        .assert_status(1)
        .assert_stderr("postmulti: fatal: execvp nonexistent-cmd: No such file or directory\n");
}

#[test]
fn execvp_permission_denied() {
    Scenario::new()
        .file_mode("/var/tmp/not-executable", "#!/bin/sh\necho no\n", 0o644)
        .run(&["-x", "/var/tmp/not-executable"])
        .assert_same()
        .assert_status(1)
        .assert_stderr("postmulti: fatal: execvp /var/tmp/not-executable: Permission denied\n");
}

#[test]
fn no_matching_instances() {
    Scenario::two_secondaries()
        .run(&["-g", "nosuch", "-x", "true"])
        .assert_same()
        .assert_status(1)
        .assert_stderr("postmulti: fatal: No matching instances\n");
}

#[test]
fn reversed_order() {
    Scenario::two_secondaries()
        .run(&["-R", "-x", "sh", "-c", "echo $MAIL_CONFIG"])
        .assert_same()
        .assert_stdout("/etc/postfix-b\n/etc/postfix-a\n/etc/postfix\n");
}

#[test]
fn disabled_instances_are_included() {
    Scenario::two_secondaries()
        .run(&["-x", "sh", "-c", "echo $MAIL_CONFIG $multi_instance_enable"])
        .assert_same()
        .assert_stdout("/etc/postfix yes\n/etc/postfix-a no\n/etc/postfix-b no\n");
}

#[test]
fn by_group() {
    Scenario::two_secondaries()
        .run(&["-g", "g1", "-x", "sh", "-c", "echo $MAIL_CONFIG"])
        .assert_same()
        .assert_stdout("/etc/postfix-a\n");
}

#[test]
fn by_name() {
    Scenario::two_secondaries()
        .run(&["-i", "b", "-x", "sh", "-c", "echo $MAIL_CONFIG"])
        .assert_same()
        .assert_stdout("/etc/postfix-b\n");
}

#[test]
fn arguments_pass_through_unchanged() {
    Scenario::new()
        .run(&["-x", "printf", "[%s]\\n", "-l", "--", "a b", "", "*"])
        .assert_same()
        .assert_stdout("[-l]\n[--]\n[a b]\n[]\n[*]\n");
}

#[test]
fn double_dash_before_the_command() {
    Scenario::new()
        .run(&["-x", "--", "echo", "-n", "x"])
        .assert_same()
        .assert_stdout("x");
}

#[test]
fn options_after_the_command_belong_to_it() {
    Scenario::new()
        .run(&["-x", "echo", "-i", "foo"])
        .assert_same()
        .assert_stdout("-i foo\n");
}

#[test]
fn children_see_stdin_and_stdout_of_postmulti() {
    Scenario::new()
        .run_shell("echo input | postmulti -x sh -c 'cat; test -t 2 && echo tty'")
        .assert_same()
        .assert_stdout("input\ntty\n");
}

#[test]
fn postconf_through_x_in_each_instance() {
    // Debian's configure-instance.sh runs `postmulti -i NAME -x postconf ...`.
    Scenario::two_secondaries()
        .run(&[
            "-x",
            "postconf",
            "-h",
            "queue_directory",
            "multi_instance_name",
        ])
        .assert_same()
        .assert_status(0);
}

#[test]
fn postconf_e_through_x_writes_each_instance() {
    Scenario::two_secondaries()
        .run(&["-x", "postconf", "-e", "smtpd_banner = changed"])
        .assert_same()
        .assert_status(0);
}

#[test]
fn verbose_twice() {
    Scenario::new()
        .run(&["-vv", "-x", "true"])
        .assert_same()
        .assert_status(0);
}

#[test]
fn umask_is_022_in_children() {
    Scenario::new()
        .run_shell("umask 077; postmulti -x sh -c umask")
        .assert_same()
        .assert_stdout("0022\n");
}

#[test]
fn closed_stdin_is_reopened() {
    Scenario::new()
        .run_shell("postmulti -x sh -c 'readlink /proc/self/fd/0' <&-")
        .assert_same()
        .assert_stdout("/dev/null\n");
}
