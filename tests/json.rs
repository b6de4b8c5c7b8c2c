//! `postmulti -l -j` (Postfix 3.11+, absent from Debian 12's 3.7 and 13's
//! 3.10): ours against exact expected lines, and where the reference has
//! `-j` (POSTMULTI_REFERENCE=sid), the real binary too, through [`json`].
//! One deliberate difference from upstream, pinned there: upstream prints
//! only the first character of the group; we print it whole.
mod common;
use common::*;

/// Runs `postmulti ARGS` with ours and asserts its exact status, stdout and
/// stderr (None: postconf's warnings, whatever they are, the same on both
/// sides).  Where the reference is 3.11 or newer, runs it too and asserts
/// the same status and stderr, and the same stdout but for the deliberate
/// difference: each group cut to its first character (one byte, or one
/// JSON escape).  Older references have no `-j`: ours only.
#[track_caller]
fn json(sc: Scenario, args: &[&str], status: i32, stdout: impl AsRef<[u8]>, stderr: Option<&str>) {
    let stdout = stdout.as_ref();
    let ours = sc.run_ours(args);
    ours.assert_status(status).assert_stdout(stdout);
    if let Some(stderr) = stderr {
        ours.assert_stderr(stderr);
    }
    if reference_at_least(3, 11) {
        sc.run_reference(args)
            .assert_status(status)
            .assert_stdout(group_first_character(stdout))
            .assert_stderr(&ours.stderr);
    }
}

/// Upstream's `-j` lines from ours: every `"group": "VALUE"` cut to the
/// first character of VALUE (a byte, or a whole `\X` / `\uXXXX` escape).
fn group_first_character(lines: &[u8]) -> Vec<u8> {
    const KEY: &[u8] = b"\"group\": \"";
    let mut out = Vec::new();
    let mut rest = lines;
    while let Some(at) = rest.windows(KEY.len()).position(|w| w == KEY) {
        let value = &rest[at + KEY.len()..];
        // The length of the character (byte or escape) at i; 0 at the end.
        let len = |i: usize| match value[i] {
            b'"' => 0,
            b'\\' if value[i + 1] == b'u' => 6,
            b'\\' => 2,
            _ => 1,
        };
        let mut end = 0;
        while len(end) > 0 {
            end += len(end);
        }
        let first = len(0);
        out.extend_from_slice(&rest[..at + KEY.len()]);
        out.extend_from_slice(&value[..first]);
        rest = &value[end..];
    }
    out.extend_from_slice(rest);
    out
}

#[test]
fn group_first_character_cuts_groups_only() {
    assert_eq!(
        group_first_character(line("-", "second-group", "n", "/etc/g\\u0001").as_bytes()),
        line("-", "s", "n", "/etc/g\\u0001").into_bytes()
    );
    assert_eq!(
        group_first_character(line("-", "\\u0001a", "n", "/x").as_bytes()),
        line("-", "\\u0001", "n", "/x").into_bytes()
    );
    assert_eq!(
        group_first_character(line("-", "\\\"b", "n", "/x").as_bytes()),
        line("-", "\\\"", "n", "/x").into_bytes()
    );
}

fn line(name: &str, group: &str, enabled: &str, dir: &str) -> String {
    format!("{{\"name\": \"{name}\",\"group\": \"{group}\",\"enabled\": \"{enabled}\",\"config_directory\": \"{dir}\"}}\n")
}

#[test]
fn single_instance() {
    json(
        Scenario::new(),
        &["-l", "-j"],
        0,
        line("-", "-", "y", "/etc/postfix"),
        Some(""),
    );
}

#[test]
fn clustered_lj() {
    json(
        Scenario::new(),
        &["-lj"],
        0,
        line("-", "-", "y", "/etc/postfix"),
        Some(""),
    );
}

#[test]
fn primary_and_secondaries_with_whole_group_names() {
    json(
        Scenario::two_secondaries_a_enabled()
            .setup("postmulti -i postfix-b -G second-group -e assign"),
        &["-l", "-j"],
        0,
        format!(
            "{}{}{}",
            line("-", "-", "y", "/etc/postfix"),
            line("postfix-a", "g1", "y", "/etc/postfix-a"),
            line("postfix-b", "second-group", "n", "/etc/postfix-b"),
        ),
        Some(""),
    );
}

#[test]
fn json_with_selection_and_reverse() {
    json(
        Scenario::two_secondaries(),
        &["-l", "-j", "-R", "-g", "g1"],
        0,
        line("postfix-a", "g1", "n", "/etc/postfix-a"),
        Some(""),
    );
}

#[test]
fn json_no_match_prints_nothing() {
    json(
        Scenario::two_secondaries(),
        &["-l", "-j", "-i", "nosuch"],
        0,
        "",
        Some(""),
    );
}

#[test]
fn json_twice_is_fine() {
    json(
        Scenario::new(),
        &["-l", "-j", "-j"],
        0,
        line("-", "-", "y", "/etc/postfix"),
        Some(""),
    );
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
    json(odd_values(), &["-l", "-j"], 0, want, None);
}

#[test]
fn json_quoting_of_primary_whitespace_controls() {
    // The primary's own values are read by postmulti itself: tab, CR and FF survive.
    json(
        Scenario::new()
            .setup(r#"printf 'multi_instance_group = a \t b\rc\fd\001\n' >> /etc/postfix/main.cf"#),
        &["-l", "-j"],
        0,
        "{\"name\": \"-\",\"group\": \"a \\t b\\rc\\fd\\u0001\",\"enabled\": \"y\",\"config_directory\": \"/etc/postfix\"}\n",
        Some(""),
    );
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
    json(
        Scenario::new()
            .setup("postmulti -e init")
            .setup("postmulti -I postfix-e -e create config_directory=$'/etc/postfix-\\xe9' queue_directory=$'/var/spool/postfix-\\xe9' data_directory=$'/var/lib/postfix-\\xe9'"),
        &["-l", "-j"],
        0,
        want,
        Some(""),
    );
}

#[test]
fn json_only_with_l() {
    for args in [
        &["-j", "-x", "true"][..],
        &["-j", "-p", "status"][..],
        &["-j", "-e", "init"][..],
    ] {
        json(
            Scenario::new(),
            args,
            1,
            "",
            Some("postmulti: fatal: JSON output available only with '-l'\n"),
        );
    }
}

#[test]
fn json_mode_check_comes_after_the_other_checks() {
    json(
        Scenario::new(),
        &["-j", "-l", "foo"],
        1,
        "",
        Some("postmulti: fatal: Command not allowed with '-l'\n"),
    );
}
