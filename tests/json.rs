//! `postmulti -l -j` (Postfix 3.11+, absent from Debian's 3.7): ours only,
//! against exact expected lines. One deliberate difference from upstream:
//! upstream prints only the first character of the group; we print it whole.
mod common;
use common::*;

fn line(name: &str, group: &str, enabled: &str, dir: &str) -> String {
    format!("{{\"name\": \"{name}\",\"group\": \"{group}\",\"enabled\": \"{enabled}\",\"config_directory\": \"{dir}\"}}\n")
}

#[test]
fn single_instance() {
    Scenario::new()
        .run_ours(&["-l", "-j"])
        .assert_status(0)
        .assert_stderr("")
        .assert_stdout(line("-", "-", "y", "/etc/postfix"));
}

#[test]
fn clustered_lj() {
    Scenario::new()
        .run_ours(&["-lj"])
        .assert_status(0)
        .assert_stdout(line("-", "-", "y", "/etc/postfix"));
}

#[test]
fn primary_and_secondaries_with_whole_group_names() {
    Scenario::two_secondaries_a_enabled()
        .setup("postmulti -i postfix-b -G second-group -e assign")
        .run_ours(&["-l", "-j"])
        .assert_status(0)
        .assert_stderr("")
        .assert_stdout(format!(
            "{}{}{}",
            line("-", "-", "y", "/etc/postfix"),
            line("postfix-a", "g1", "y", "/etc/postfix-a"),
            line("postfix-b", "second-group", "n", "/etc/postfix-b"),
        ));
}

#[test]
fn json_with_selection_and_reverse() {
    Scenario::two_secondaries()
        .run_ours(&["-l", "-j", "-R", "-g", "g1"])
        .assert_status(0)
        .assert_stdout(line("postfix-a", "g1", "n", "/etc/postfix-a"));
}

#[test]
fn json_no_match_prints_nothing() {
    Scenario::two_secondaries()
        .run_ours(&["-l", "-j", "-i", "nosuch"])
        .assert_status(0)
        .assert_stdout("")
        .assert_stderr("");
}

#[test]
fn json_twice_is_fine() {
    Scenario::new()
        .run_ours(&["-l", "-j", "-j"])
        .assert_status(0)
        .assert_stdout(line("-", "-", "y", "/etc/postfix"));
}

/// postfix-b's group and name get a quote, a backslash, \x01, a tab, DEL,
/// \x1f, \b, \r (inside the value) and a non-ASCII byte. Secondary values
/// come through `postconf -x`, which turns each run of space/tab/CR into one
/// space (\f, \v and other controls stay): the reference lists the group as
/// `q"b\s<01>t z<7f><1f><08> e<e9>`.
fn odd_values() -> Scenario {
    Scenario::two_secondaries().setup(
        r#"printf 'multi_instance_group = q"b\\s\001t\tz\177\037\010\015e\351\n' >> /etc/postfix-b/main.cf
printf 'multi_instance_name = postfix-"b\\\n' >> /etc/postfix-b/main.cf"#,
    )
}

#[test]
fn odd_values_are_read_like_the_reference() {
    // Differential sanity check of the values themselves (plain -l).
    odd_values().run(&["-l"]).assert_same().assert_status(0);
}

#[test]
fn json_quoting() {
    let mut want = line("-", "-", "y", "/etc/postfix").into_bytes();
    want.extend_from_slice(line("postfix-a", "g1", "n", "/etc/postfix-a").as_bytes());
    want.extend_from_slice(b"{\"name\": \"postfix-\\\"b\\\\\",\"group\": \"q\\\"b\\\\s\\u0001t z\\u007F\\u001F\\b e\xe9\",\"enabled\": \"n\",\"config_directory\": \"/etc/postfix-b\"}\n");
    odd_values()
        .run_ours(&["-l", "-j"])
        .assert_status(0)
        .assert_stdout(want);
}

#[test]
fn json_quoting_of_primary_whitespace_controls() {
    // The primary's own values are read by postmulti itself: tab, CR and FF survive.
    Scenario::new()
        .setup(r#"printf 'multi_instance_group = a \t b\rc\fd\001\n' >> /etc/postfix/main.cf"#)
        .run_ours(&["-l", "-j"])
        .assert_status(0)
        .assert_stdout("{\"name\": \"-\",\"group\": \"a \\t b\\rc\\fd\\u0001\",\"enabled\": \"y\",\"config_directory\": \"/etc/postfix\"}\n");
}

#[test]
fn primary_whitespace_controls_like_the_reference() {
    Scenario::new()
        .setup(r#"printf 'multi_instance_group = a \t b\rc\fd\001\n' >> /etc/postfix/main.cf"#)
        .run(&["-l"])
        .assert_same()
        .assert_stdout("-               a \t b\rc\x0cd\x01      y         /etc/postfix\n");
}

#[test]
fn json_non_utf8_directory_bytes_pass_through() {
    let mut want = line("-", "-", "y", "/etc/postfix").into_bytes();
    want.extend_from_slice(b"{\"name\": \"postfix-e\",\"group\": \"-\",\"enabled\": \"n\",\"config_directory\": \"/etc/postfix-\xe9\"}\n");
    Scenario::new()
        .setup("postmulti -e init")
        .setup("postmulti -I postfix-e -e create config_directory=$'/etc/postfix-\\xe9' queue_directory=$'/var/spool/postfix-\\xe9' data_directory=$'/var/lib/postfix-\\xe9'")
        .run_ours(&["-l", "-j"])
        .assert_status(0)
        .assert_stdout(want);
}

#[test]
fn json_only_with_l() {
    for args in [
        &["-j", "-x", "true"][..],
        &["-j", "-p", "status"][..],
        &["-j", "-e", "init"][..],
    ] {
        Scenario::new()
            .run_ours(args)
            .assert_status(1)
            .assert_stdout("")
            .assert_stderr("postmulti: fatal: JSON output available only with '-l'\n");
    }
}

#[test]
fn json_mode_check_comes_after_the_other_checks() {
    Scenario::new()
        .run_ours(&["-j", "-l", "foo"])
        .assert_status(1)
        .assert_stderr("postmulti: fatal: Command not allowed with '-l'\n");
}
