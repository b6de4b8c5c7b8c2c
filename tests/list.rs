//! `postmulti -l`: listing instances, selection, and how instances are read
//! from the primary's multi_instance_directories and each secondary main.cf.
mod common;
use common::*;

const P: &str = "-               -               y         /etc/postfix\n";
const A: &str = "postfix-a       g1              n         /etc/postfix-a\n";
const A_ON: &str = "postfix-a       g1              y         /etc/postfix-a\n";
const B: &str = "postfix-b       -               n         /etc/postfix-b\n";

/// The number that line K of what a test appends to FILE (a secondary's
/// main.cf as `Scenario::two_secondaries` makes it) has: the reference
/// release's postmulti-script makes that file (697 lines for postfix-b on
/// Debian 12, 78 on 13), so postconf's "line N" depends on the release.
fn appended_line(file: &str, k: usize) -> usize {
    static LINES: std::sync::Mutex<Vec<(String, usize)>> = std::sync::Mutex::new(Vec::new());
    let known = LINES
        .lock()
        .unwrap()
        .iter()
        .find(|(f, _)| f == file)
        .map(|e| e.1);
    let lines = known.unwrap_or_else(|| {
        let o = Scenario::two_secondaries().run_shell_reference(&format!("wc -l < {file}"));
        o.assert_status(0);
        let n = o.stdout_str().trim().parse().expect("wc -l");
        LINES.lock().unwrap().push((file.to_string(), n));
        n
    });
    lines + k
}

/// postconf's "overriding earlier entry" warning for line K of what a test
/// appends to FILE.
fn overriding(file: &str, k: usize, entry: &str) -> String {
    format!(
        "/usr/sbin/postconf: warning: {file}, line {}: overriding earlier entry: {entry}",
        appended_line(file, k)
    )
}

fn lists(sc: Scenario, args: &[&str], stdout: &str, stderr: &str) {
    sc.run(args)
        .assert_same()
        .assert_status(0)
        .assert_stdout(stdout)
        .assert_stderr(stderr);
}

#[test]
fn single_instance_lists_the_primary_enabled() {
    lists(Scenario::new(), &["-l"], P, "");
}

#[test]
fn single_instance_with_enable_no_is_still_enabled() {
    lists(
        Scenario::new().main_cf_append("/etc/postfix/main.cf", "multi_instance_enable = no"),
        &["-l"],
        P,
        "",
    );
}

#[test]
fn primary_and_two_secondaries() {
    lists(
        Scenario::two_secondaries(),
        &["-l"],
        &format!("{P}{A}{B}"),
        "",
    );
}

#[test]
fn enabled_secondary() {
    lists(
        Scenario::two_secondaries_a_enabled(),
        &["-l"],
        &format!("{P}{A_ON}{B}"),
        "",
    );
}

#[test]
fn all_explicitly() {
    lists(
        Scenario::two_secondaries(),
        &["-l", "-a"],
        &format!("{P}{A}{B}"),
        "",
    );
}

#[test]
fn reversed() {
    lists(
        Scenario::two_secondaries(),
        &["-l", "-R"],
        &format!("{B}{A}{P}"),
        "",
    );
}

#[test]
fn reversed_twice_is_forward() {
    lists(
        Scenario::two_secondaries(),
        &["-l", "-R", "-R"],
        &format!("{P}{A}{B}"),
        "",
    );
}

#[test]
fn primary_disabled_in_multi_instance_mode() {
    lists(
        Scenario::two_secondaries().setup("postconf -e multi_instance_enable=no"),
        &["-l"],
        &format!("-               -               n         /etc/postfix\n{A}{B}"),
        "",
    );
}

#[test]
fn by_group() {
    lists(Scenario::two_secondaries(), &["-l", "-g", "g1"], A, "");
}

#[test]
fn by_group_no_match() {
    lists(Scenario::two_secondaries(), &["-l", "-g", "nosuch"], "", "");
}

#[test]
fn by_full_name() {
    lists(
        Scenario::two_secondaries(),
        &["-l", "-i", "postfix-b"],
        B,
        "",
    );
}

#[test]
fn by_suffix_without_postfix_prefix() {
    lists(Scenario::two_secondaries(), &["-l", "-i", "a"], A, "");
}

#[test]
fn by_config_directory() {
    lists(
        Scenario::two_secondaries(),
        &["-l", "-i", "/etc/postfix-b"],
        B,
        "",
    );
}

#[test]
fn config_directory_with_trailing_slash_does_not_match() {
    lists(
        Scenario::two_secondaries(),
        &["-l", "-i", "/etc/postfix-b/"],
        "",
        "",
    );
}

#[test]
fn primary_by_dash() {
    lists(Scenario::two_secondaries(), &["-l", "-i", "-"], P, "");
}

#[test]
fn primary_by_config_directory() {
    lists(
        Scenario::two_secondaries(),
        &["-l", "-i", "/etc/postfix"],
        P,
        "",
    );
}

#[test]
fn bare_postfix_matches_nothing() {
    lists(
        Scenario::two_secondaries(),
        &["-l", "-i", "postfix"],
        "",
        "",
    );
}

#[test]
fn empty_name_matches_nothing() {
    lists(Scenario::two_secondaries(), &["-l", "-i", ""], "", "");
}

#[test]
fn no_match_prints_nothing_and_exits_0() {
    lists(
        Scenario::two_secondaries(),
        &["-l", "-i", "postfix-zzz"],
        "",
        "",
    );
}

#[test]
fn nameless_secondary_selected_by_path() {
    lists(
        Scenario::two_secondaries().setup("postmulti -i postfix-b -I - -e assign"),
        &["-l", "-i", "/etc/postfix-b"],
        "-               -               n         /etc/postfix-b\n",
        "",
    );
}

#[test]
fn nameless_secondary_not_selected_by_basename() {
    lists(
        Scenario::two_secondaries().setup("postmulti -i postfix-b -I - -e assign"),
        &["-l", "-i", "postfix-b"],
        "",
        "",
    );
}

#[test]
fn name_without_postfix_prefix_matches_itself() {
    lists(
        Scenario::two_secondaries()
            .main_cf_append("/etc/postfix-b/main.cf", "multi_instance_name = mta"),
        &["-l", "-i", "mta"],
        "mta             -               n         /etc/postfix-b\n",
        &format!(
            "{}\n",
            overriding("/etc/postfix-b/main.cf", 1, "multi_instance_name=postfix-b")
        ),
    );
}

#[test]
fn long_names_and_groups_overflow_their_columns() {
    lists(
        Scenario::two_secondaries().setup(
            "postmulti -i postfix-a -I postfix-a-very-long-name-here -G group-name-longer-than-15 -e assign",
        ),
        &["-l"],
        &format!("{P}postfix-a-very-long-name-here group-name-longer-than-15 n         /etc/postfix-a\n{B}"),
        "",
    );
}

#[test]
fn name_with_a_space() {
    Scenario::two_secondaries()
        .main_cf_append("/etc/postfix-a/main.cf", "multi_instance_name = x y")
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stderr_line(&overriding(
            "/etc/postfix-a/main.cf",
            1,
            "multi_instance_name=postfix-a",
        ));
}

#[test]
fn secondary_enable_uppercase_yes() {
    Scenario::two_secondaries()
        .main_cf_append("/etc/postfix-a/main.cf", "multi_instance_enable = YES")
        .run(&["-l"])
        .assert_same()
        .assert_stdout(format!("{P}{A_ON}{B}"));
}

#[test]
fn secondary_enable_mixed_case_no() {
    Scenario::two_secondaries_a_enabled()
        .main_cf_append("/etc/postfix-a/main.cf", "multi_instance_enable = No")
        .run(&["-l"])
        .assert_same()
        .assert_stdout(format!("{P}{A}{B}"));
}

#[test]
fn secondary_enable_maybe_is_fatal() {
    Scenario::two_secondaries()
        .main_cf_append("/etc/postfix-a/main.cf", "multi_instance_enable = maybe")
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr(
            "postmulti: fatal: Unexpected /etc/postfix-a/main.cf entry: multi_instance_enable = maybe\n",
        );
}

#[test]
fn secondary_enable_from_a_macro() {
    Scenario::two_secondaries()
        .setup("sed -i '/^multi_instance_enable/d' /etc/postfix-a/main.cf")
        .main_cf_append(
            "/etc/postfix-a/main.cf",
            "on = yes\nmulti_instance_enable = $on",
        )
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout_line("postfix-b       -               n         /etc/postfix-b");
}

#[test]
fn secondary_directory_missing() {
    Scenario::two_secondaries()
        .setup("postconf -e multi_instance_directories=/etc/postfix-a,/etc/postfix-missing")
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr(
            "/usr/sbin/postconf: fatal: open /etc/postfix-missing/main.cf: No such file or directory\n\
             postmulti: fatal: Failed to obtain all required /etc/postfix-missing/main.cf parameters\n",
        );
}

#[test]
fn secondary_main_cf_unused_and_undefined_parameters_warn() {
    // Several "unused parameter" warnings come in hash order, which Postfix
    // randomizes per run: those lines are compared sorted, nothing else.
    Scenario::two_secondaries()
        .main_cf_append("/etc/postfix-a/main.cf", "foo_bar = 1\nbaz = $undefined")
        .normalize(sort_unused_parameter_warnings)
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout(format!("{P}{A}{B}"))
        .assert_stderr(
            "/usr/sbin/postconf: warning: /etc/postfix-a/main.cf: undefined parameter: undefined\n\
             /usr/sbin/postconf: warning: /etc/postfix-a/main.cf: unused parameter: baz=$undefined\n\
             /usr/sbin/postconf: warning: /etc/postfix-a/main.cf: unused parameter: foo_bar=1\n",
        );
}

#[test]
fn secondary_main_cf_undefined_then_unused_warning_order() {
    // With a single unused parameter the order is deterministic: undefined first.
    Scenario::two_secondaries()
        .main_cf_append("/etc/postfix-a/main.cf", "baz = $undefined")
        .run(&["-l"])
        .assert_same()
        .assert_stderr(
            "/usr/sbin/postconf: warning: /etc/postfix-a/main.cf: undefined parameter: undefined\n\
             /usr/sbin/postconf: warning: /etc/postfix-a/main.cf: unused parameter: baz=$undefined\n",
        );
}

/// postconf expands every main.cf value and parses the result for `{...}`
/// groups; here the braces come from milter_mail_macros' built-in default
/// ("i {auth_type} ... {mail_mailer}"), not from main.cf, and the last
/// group has a "y" stuck to it. The native reader must hand this instance
/// to postconf, whose warning postmulti passes on.
#[test]
fn secondary_value_with_braces_from_a_builtin_default_warns() {
    Scenario::two_secondaries()
        .main_cf_append(
            "/etc/postfix-a/main.cf",
            "html_directory = ${milter_mail_macros}y",
        )
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout(format!("{P}{A}{B}"))
        .assert_stderr(format!(
            "/usr/sbin/postconf: warning: {}: syntax error after '}}' in \"{{mail_mailer}}y\"\n",
            cf_name("/etc/postfix-a/main.cf")
        ));
}

/// The same through a master.cf `-o` setting.
#[test]
fn secondary_master_cf_option_with_braces_from_a_builtin_default_warns() {
    Scenario::two_secondaries()
        .setup(
            "echo 'sub inet n - y - - smtpd -o html_directory=${milter_mail_macros}y' \
             >> /etc/postfix-a/master.cf",
        )
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout(format!("{P}{A}{B}"))
        .assert_stderr(format!(
            "/usr/sbin/postconf: warning: {}:sub/inet: syntax error after '}}' in \"{{mail_mailer}}y\"\n",
            cf_name("/etc/postfix-a/master.cf")
        ));
}

#[test]
fn secondary_master_cf_missing_warns() {
    Scenario::two_secondaries()
        .setup("rm /etc/postfix-a/master.cf")
        .run(&["-l"])
        .assert_same()
        .assert_stderr("/usr/sbin/postconf: warning: open /etc/postfix-a/master.cf: No such file or directory\n");
}

#[test]
fn secondary_main_cf_syntax_error() {
    Scenario::two_secondaries()
        .main_cf_append("/etc/postfix-b/main.cf", "bogus line")
        .run(&["-l"])
        .assert_same()
        .assert_status(1);
}

#[test]
fn secondary_queue_directory_from_macro() {
    Scenario::two_secondaries()
        .main_cf_append(
            "/etc/postfix-b/main.cf",
            "qbase = /var/spool\nqueue_directory = ${qbase}/postfix-b",
        )
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stderr_line(&overriding(
            "/etc/postfix-b/main.cf",
            2,
            "queue_directory=/var/spool/postfix-b",
        ));
}

#[test]
fn two_instances_claiming_the_same_queue_directory() {
    Scenario::two_secondaries()
        .main_cf_append("/etc/postfix-a/main.cf", "queue_directory = /var/spool/postfix-b")
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stderr(format!(
            "{}\n\
             postmulti: fatal: instance /etc/postfix-b, queue_directory=/var/spool/postfix-b conflicts with instance /etc/postfix-a, queue_directory=/var/spool/postfix-b\n",
            overriding("/etc/postfix-a/main.cf", 1, "queue_directory=/var/spool/postfix-a")
        ));
}

#[test]
fn secondary_claiming_the_primary_queue_directory() {
    Scenario::two_secondaries()
        .main_cf_append(
            "/etc/postfix-a/main.cf",
            "queue_directory = /var/spool/postfix",
        )
        .run(&["-l"])
        .assert_same()
        .assert_status(1);
}

#[test]
fn secondary_data_directory_is_its_queue_directory() {
    Scenario::two_secondaries()
        .main_cf_append(
            "/etc/postfix-a/main.cf",
            "data_directory = /var/spool/postfix-a",
        )
        .run(&["-l"])
        .assert_same()
        .assert_status(1);
}

#[test]
fn two_secondaries_with_the_same_name() {
    Scenario::two_secondaries()
        .main_cf_append("/etc/postfix-a/main.cf", "multi_instance_name = postfix-b")
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stderr(format!(
            "{}\n\
             postmulti: fatal: instance /etc/postfix-b, multi_instance_name=postfix-b conflicts with instance /etc/postfix-a, multi_instance_name=postfix-b\n",
            overriding("/etc/postfix-a/main.cf", 1, "multi_instance_name=postfix-a")
        ));
}

#[test]
fn two_nameless_secondaries_do_not_conflict() {
    Scenario::two_secondaries()
        .setup("postmulti -i postfix-a -I - -e assign")
        .setup("postmulti -i postfix-b -I - -e assign")
        .run(&["-l"])
        .assert_same()
        .assert_status(0);
}

#[test]
fn secondary_config_directory_is_the_primary_one() {
    // Surprising but true: no conflict, the primary is listed twice.
    lists(
        Scenario::two_secondaries()
            .setup("postconf -e multi_instance_directories=/etc/postfix-a,/etc/postfix"),
        &["-l"],
        &format!("{P}{A}{P}"),
        "",
    );
}

#[test]
fn duplicate_directory_is_listed_twice() {
    // Surprising but true: the reference does not see a conflict.
    lists(
        Scenario::two_secondaries()
            .setup("postconf -e 'multi_instance_directories=/etc/postfix-a /etc/postfix-a'"),
        &["-l"],
        &format!("{P}{A}{A}"),
        "",
    );
}

#[test]
fn commas_and_extra_spaces_in_multi_instance_directories() {
    lists(
        Scenario::two_secondaries().setup(
            "postconf -e 'multi_instance_directories=  /etc/postfix-b,,  /etc/postfix-a , '",
        ),
        &["-l"],
        &format!("{P}{B}{A}"),
        "",
    );
}

#[test]
fn multi_instance_directories_continued_on_the_next_line() {
    lists(
        Scenario::two_secondaries()
            .setup("sed -i '/^multi_instance_directories/d' /etc/postfix/main.cf")
            .main_cf_append(
                "/etc/postfix/main.cf",
                "multi_instance_directories = /etc/postfix-b\n\t/etc/postfix-a",
            ),
        &["-l"],
        &format!("{P}{B}{A}"),
        "",
    );
}

#[test]
fn multi_instance_directories_from_macros() {
    Scenario::two_secondaries()
        .setup("sed -i '/^multi_instance_directories/d' /etc/postfix/main.cf")
        .main_cf_append(
            "/etc/postfix/main.cf",
            "base = /etc\nmulti_instance_directories = ${base}/postfix-a $(base)/postfix-b ${undefined?/nowhere} ${base:/etc/postfix-b}",
        )
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout_line("postfix-b       -               n         /etc/postfix-b");
}

#[test]
fn relative_directory_in_multi_instance_directories() {
    Scenario::two_secondaries()
        .setup("postconf -e 'multi_instance_directories=etc/postfix-a'")
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout_line("postfix-a       g1              n         etc/postfix-a");
}

#[test]
fn debian_init_script_parses_l_a() {
    // /etc/init.d/postfix: postmulti -l -a | awk '($3=="y") { print $4 }'
    Scenario::two_secondaries_a_enabled()
        .run_shell("postmulti -l -a | awk '($3==\"y\") { print $4 }'")
        .assert_same()
        .assert_stdout("/etc/postfix\n/etc/postfix-a\n");
}

#[test]
fn stdout_closed_early_by_head() {
    Scenario::two_secondaries()
        .run_shell("postmulti -l | head -1; echo \"${PIPESTATUS[@]}\"")
        .assert_same()
        .assert_stdout("-               -               y         /etc/postfix\n0 0\n");
}

#[test]
fn stdout_write_error() {
    Scenario::new()
        .run_shell("postmulti -l > /dev/full; echo $?")
        .assert_same()
        .assert_status(0)
        .assert_stderr_line("postmulti: fatal: error writing output: No space left on device");
}

#[test]
fn verbose_listing() {
    Scenario::two_secondaries()
        .run(&["-l", "-v"])
        .assert_same()
        .assert_status(0)
        .assert_stdout_line("postfix-b       -               n         /etc/postfix-b");
}

#[test]
fn non_utf8_instance_directory() {
    Scenario::two_secondaries()
        .setup("postmulti -I postfix-e -e create config_directory=$'/etc/postfix-\\xe9' queue_directory=$'/var/spool/postfix-\\xe9' data_directory=$'/var/lib/postfix-\\xe9'")
        .run(&["-l"])
        .assert_same()
        .assert_stdout(b"-               -               y         /etc/postfix\npostfix-a       g1              n         /etc/postfix-a\npostfix-b       -               n         /etc/postfix-b\npostfix-e       -               n         /etc/postfix-\xe9\n");
}
