//! Hostile input, faults and odd environments, side by side with Debian's
//! postmulti wherever it has a behaviour (assert_same); where it has none
//! (it crashes) ours must end with a clear `postmulti: fatal: ...` and
//! exit 1, writing nothing half-way.
//!
//! Sections: non-UTF-8 bytes; huge values and instance tables; recursive and
//! deeply nested expansion; main.cf and configuration directories that are
//! not what they should be; stdout that cannot be written; closed standard
//! descriptors; missing or unusable helper programs (postmulti-script,
//! postfix, postconf); SIGINT and SIGTERM during `-p`.
mod common;
use common::*;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

/// An argument from raw bytes.
fn b(bytes: &[u8]) -> OsString {
    OsString::from_vec(bytes.to_vec())
}

fn s(text: &str) -> OsString {
    OsString::from(text)
}

const P: &str = "-               -               y         /etc/postfix\n";
const A: &str = "postfix-a       g1              n         /etc/postfix-a\n";
const B: &str = "postfix-b       -               n         /etc/postfix-b\n";

/// One `-l` line: upstream's `"%-15s %-15s %-9s %s\n"`, for bytes.
fn row(name: &[u8], group: &[u8], enabled: &str, dir: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (field, width) in [(name, 15), (group, 15), (enabled.as_bytes(), 9)] {
        out.extend_from_slice(field);
        out.resize(out.len() + width - field.len().min(width), b' ');
        out.push(b' ');
    }
    out.extend_from_slice(dir);
    out.push(b'\n');
    out
}

/// A setting that makes ours leave postfix-a to postconf: a database
/// client file that does not exist (the native reader cannot vouch for
/// postconf's answer: src/native/dbms.rs), where a fake postconf stands in
/// or postconf cannot run.
const NEEDS_POSTCONF: &str = "virtual_alias_maps = mysql:/etc/postfix-a/missing.cf";

/// A setup step that sets parameters in a main.cf without leaving an
/// earlier assignment behind (an overriding entry makes postconf warn, and
/// ours then hands the instance to postconf): each `name = value` line of
/// `lines` replaces the file's own assignments of that name.
fn set_params(sc: Scenario, path: &str, lines: &str) -> Scenario {
    let mut script = String::new();
    for line in lines.lines() {
        if let Some((name, _)) = line.split_once('=') {
            script.push_str(&format!(
                "sed -i '/^{}[[:space:]]*=/d' {path}\n",
                name.trim()
            ));
        }
    }
    sc.setup(&script).main_cf_append(path, lines)
}

/// A setup step appending raw bytes (printf escapes) to a file.
fn append_bytes(path: &str, printf_format: &str) -> String {
    format!("printf '{printf_format}' >> {path}\n")
}

// ---------------------------------------------------------------------------
// Non-UTF-8 bytes in arguments and in main.cf values
// ---------------------------------------------------------------------------

#[test]
fn non_utf8_selections_select_nothing() {
    // -i NAME, -g GROUP, -i /CONFIG_DIR with bytes that are not UTF-8.
    Scenario::two_secondaries()
        .run_shell(
            "postmulti -l -i $'\\xff\\xfe'; echo \"exit $?\"\n\
             postmulti -l -g $'g1\\xff'; echo \"exit $?\"\n\
             postmulti -l -i $'/etc/postfix-\\xe9'; echo \"exit $?\"\n",
        )
        .assert_stdout("exit 0\nexit 0\nexit 0\n")
        .assert_stderr("")
        .assert_same();
}

#[test]
fn non_utf8_new_name_and_group_are_unsafe() {
    Scenario::two_secondaries()
        .run_shell(
            "postmulti -I $'postfix-\\xff' -e create; echo \"exit $?\"\n\
             postmulti -I postfix-c -G $'g\\xff' -e create; echo \"exit $?\"\n",
        )
        .assert_stdout("exit 1\nexit 1\n")
        .assert_stderr(
            "postmulti: fatal: Unsafe characters in new instance name: 'postfix-?'\n\
             postmulti: fatal: Unsafe characters in '-G g?'\n",
        )
        .assert_same();
}

#[test]
fn non_utf8_instance_in_a_life_cycle_command() {
    // Valid UTF-8 passes through messages (smtputf8), other bytes become '?'.
    Scenario::two_secondaries()
        .run_shell(
            "postmulti -i $'\\xc3\\xa9' -e enable; echo \"exit $?\"\n\
             postmulti -i $'\\xff' -e enable; echo \"exit $?\"\n",
        )
        .assert_stdout("exit 1\nexit 1\n")
        .assert_stderr(
            "postmulti: fatal: No instance named \u{e9}\npostmulti: fatal: No instance named ?\n",
        )
        .assert_same();
}

#[test]
fn non_utf8_directories_for_create() {
    Scenario::two_secondaries()
        .run(&[
            s("-I"),
            s("postfix-c"),
            s("-e"),
            s("create"),
            b(b"config_directory=/etc/postfix-\xe9"),
            b(b"queue_directory=/var/spool/postfix-\xe9"),
            b(b"data_directory=/var/lib/postfix-\xe9"),
        ])
        .assert_status(0)
        .assert_same();
}

#[test]
fn non_utf8_values_in_a_secondary_main_cf() {
    Scenario::two_secondaries()
        .setup(&append_bytes(
            "/etc/postfix-a/main.cf",
            "multi_instance_name = postfix-\\351\\nmulti_instance_group = g\\377\\nqueue_directory = /var/spool/postfix-\\351\\n",
        ))
        .run_shell(
            "postmulti -l\n\
             postmulti -l -g $'g\\xff'\n\
             postmulti -l -i $'\\xe9'\n\
             postmulti -i $'postfix-\\xe9' -x sh -c 'printf \"%s|%s|%s\\n\" \"$multi_instance_name\" \"$multi_instance_group\" \"$queue_directory\"'\n",
        )
        .assert_status(0)
        .assert_stdout(
            [
                P.as_bytes().to_vec(),
                row(b"postfix-\xe9", b"g\xff", "n", b"/etc/postfix-a"),
                B.as_bytes().to_vec(),
                row(b"postfix-\xe9", b"g\xff", "n", b"/etc/postfix-a"),
                row(b"postfix-\xe9", b"g\xff", "n", b"/etc/postfix-a"),
                b"postfix-\xe9|g\xff|/var/spool/postfix-\xe9\n".to_vec(),
            ]
            .concat(),
        )
        .assert_same();
}

#[test]
fn non_utf8_secondary_configuration_directory() {
    Scenario::two_secondaries()
        .setup("postmulti -I postfix-u -e create config_directory=$'/etc/postfix-\\xe9'")
        .run_shell(
            "postmulti -l && postmulti -i u -e enable && postmulti -l -i $'/etc/postfix-\\xe9' \
             && postmulti -i u -e disable && postmulti -i u -e destroy && postmulti -l",
        )
        .assert_status(0)
        .assert_same();
}

#[test]
fn non_utf8_primary_name_reaches_children_as_mail_logtag() {
    Scenario::new()
        .setup(&append_bytes(
            "/etc/postfix/main.cf",
            "multi_instance_name = postfix-\\351\\nmulti_instance_group = \\377\\376\\n",
        ))
        .run_shell("postmulti -l; postmulti -x sh -c 'printf \"%s\\n\" \"$MAIL_LOGTAG\"'")
        .assert_status(0)
        .assert_stdout(
            [
                row(b"postfix-\xe9", b"\xff\xfe", "y", b"/etc/postfix"),
                b"postfix-\xe9\n".to_vec(),
            ]
            .concat(),
        )
        .assert_same();
}

/// The warning of Postfix 3.10 and later (readllines) for a logical line
/// of the primary main.cf read with a NUL byte: LINES is `N` or `N-M`.
fn nul_warning(lines: &str) -> String {
    format!("/etc/postfix/main.cf, line {lines}: text after null byte may be ignored")
}

/// What a run prints and logs: WARNINGS and then FATAL (whole texts after
/// `warning: ` and `fatal: `), to stderr and to syslog; KEEP picks the
/// warnings shown.
fn diagnostics(
    warnings: &[String],
    fatal: Option<&str>,
    keep: impl Fn(&str) -> bool,
) -> (String, Vec<String>) {
    let warnings: Vec<&String> = warnings.iter().filter(|w| keep(w)).collect();
    let mut stderr: String = warnings
        .iter()
        .map(|w| format!("postmulti: warning: {w}\n"))
        .collect();
    let mut records: Vec<String> = warnings
        .iter()
        .map(|w| format!("<20>TIME postmulti[PID]: warning: {w}"))
        .collect();
    if let Some(f) = fatal {
        stderr.push_str(&format!("postmulti: fatal: {f}\n"));
        records.push(format!("<18>TIME postmulti[PID]: fatal: {f}"));
    }
    (stderr, records)
}

/// NUL bytes in the primary main.cf, as the reference's release reports
/// them: from 3.10 on each read warns (WARNINGS, on stderr and to syslog),
/// 3.7 does not (WARNINGS without the NUL ones); then FATAL, if any.  Both
/// sides the same, and pinned: status, stdout, stderr and records.
fn assert_nul_warnings(
    c: &Compared,
    status: i32,
    stdout: &str,
    warnings: &[String],
    fatal: Option<&str>,
) {
    let warns = reference_at_least(3, 10);
    let (stderr, records) = diagnostics(warnings, fatal, |w| {
        warns || !w.ends_with("text after null byte may be ignored")
    });
    c.assert_same()
        .assert_status(status)
        .assert_stdout(stdout)
        .assert_stderr(&stderr);
    assert_eq!(c.ours.postmulti_syslog(), records);
}

#[test]
fn nul_bytes_in_the_primary_main_cf_end_lines() {
    // Postfix reads lines as C strings: a NUL ends the line.  3.10 and
    // later also warn, once for each logical line, on every read.
    let c = Scenario::new()
        .setup(&append_bytes(
            "/etc/postfix/main.cf",
            "multi_instance_group = g\\0x\\n  continued\\nsyslog_name = post\\0fix\\nimport_environment = A=b\\0c\\n",
        ))
        .run_shell("postmulti -l; postmulti -x sh -c 'echo \"$MAIL_LOGTAG\"'");
    let warnings = ["24-25", "26", "27", "24-25", "26", "27"].map(nul_warning);
    assert_nul_warnings(
        &c,
        0,
        "-               g               y         /etc/postfix\npost\n",
        &warnings,
        None,
    );
}

#[test]
fn nul_byte_starting_a_line_is_a_missing_name() {
    let c = Scenario::new()
        .setup(&append_bytes("/etc/postfix/main.cf", "\\0abc = x\\n"))
        .run(&["-l"]);
    let fatal = "/etc/postfix/main.cf, line 24: missing attribute name: \"\"";
    assert_nul_warnings(&c, 1, "", &[nul_warning("24")], Some(fatal));
}

#[test]
fn nul_byte_warnings_name_the_lines_read_with_them() {
    // readllines() reads ahead: blank and comment lines after a logical
    // line are read with it (a NUL in them counts for that line, and the
    // range ends at the last one: the comment after the baseline's last
    // line 24 makes "24-25").  Text that starts with white space warns about its
    // NUL first; `%.30s` shows it up to the NUL.  The NUL warning of a
    // line comes before the overriding-entry warning of the same line.
    let c = Scenario::new()
        .setup(
            "mv /etc/postfix/main.cf /etc/postfix/m\n\
             { printf ' lead\\0ing\\n'; cat /etc/postfix/m; } > /etc/postfix/main.cf\n\
             rm /etc/postfix/m\n",
        )
        .setup(&append_bytes(
            "/etc/postfix/main.cf",
            "#c\\0omment\\nmail_owner = postfix\\0x\\n\\n   # indented\\nsyslog_name = a\\nsyslog_name = b\\0\\n#end\\0",
        ))
        .run(&["-x", "sh", "-c", "echo \"$MAIL_LOGTAG\""]);
    let warnings = [
        nul_warning("1-2"),
        "/etc/postfix/main.cf: logical line must not start with whitespace: \" lead\"".into(),
        nul_warning("24-25"),
        nul_warning("26-28"),
        nul_warning("30-31"),
        "/etc/postfix/main.cf, line 30: overriding earlier entry: syslog_name=a".into(),
    ];
    assert_nul_warnings(&c, 0, "b\n", &warnings, None);
}

/// A secondary main.cf with a NUL byte is read by postconf itself (the
/// native reader leaves such a file to it): its warning from 3.10 on, or
/// its silence before, is passed through as upstream does.
#[test]
fn nul_byte_in_a_secondary_main_cf_is_postconfs_to_report() {
    let c = Scenario::two_secondaries()
        .setup(&append_bytes(
            "/etc/postfix-a/main.cf",
            "mail_owner = postfix\\0x\\n",
        ))
        .run(&["-l", "-i", "postfix-a"]);
    c.assert_same().assert_status(0).assert_stdout(A);
    if reference_at_least(3, 10) {
        // The line with the NUL is the last of that main.cf (the release's
        // main.cf.proto, as the reference's postmulti-script made it, has
        // its own length).
        let main_cf = c
            .reference
            .file("/etc/postfix-a/main.cf")
            .unwrap_or_default();
        let line = main_cf.iter().filter(|&&b| b == b'\n').count();
        c.assert_stderr(format!(
            "/usr/sbin/postconf: warning: /etc/postfix-a/main.cf, line {line}: text after null byte may be ignored\n"
        ));
    } else {
        c.assert_stderr("");
    }
}

#[test]
fn long_fatal_message_is_cut_at_2000_bytes_in_syslog() {
    // msg_syslog_print() logs "%.*s" with MSG_SYSLOG_RECLEN = 2000; stderr
    // gets the whole text.
    let c = Scenario::new().run(&["-e", &"x".repeat(3000)]);
    c.assert_status(1).assert_same();
    assert_eq!(
        c.reference.postmulti_syslog(),
        [format!(
            "<18>TIME postmulti[PID]: fatal: Invalid '-e' edit action '{}",
            "x".repeat(1974)
        )]
    );
    c.assert_stderr(format!(
        "postmulti: fatal: Invalid '-e' edit action '{}'. Specify 'create', 'destroy', 'import', 'deport', 'enable', 'disable', 'assign' or 'init'\n",
        "x".repeat(3000)
    ));
}

#[test]
fn malformed_import_environment_entry() {
    Scenario::two_secondaries()
        .main_cf_append("/etc/postfix/main.cf", "import_environment = =x")
        .run(&["-i", "postfix-a", "-e", "enable"])
        .assert_status(1)
        .assert_stderr("postmulti: fatal: clean_env: missing attribute name in: =x\n")
        .assert_same();
}

// ---------------------------------------------------------------------------
// Size: a 10 MB value, thousands of instances
// ---------------------------------------------------------------------------

fn ten_megabytes() -> String {
    "g".repeat(10 << 20)
}

#[test]
fn ten_megabyte_group_in_the_primary() {
    let c = primary(&format!("multi_instance_group = {}", ten_megabytes())).run(&["-l"]);
    c.assert_status(0).assert_same();
    let want = [
        row(b"-", ten_megabytes().as_bytes(), "y", b"/etc/postfix"),
        A.as_bytes().to_vec(),
        B.as_bytes().to_vec(),
    ]
    .concat();
    assert!(
        c.ours.stdout == want,
        "stdout of ours is not the 10 MB listing"
    );
}

#[test]
fn ten_megabyte_group_in_a_secondary() {
    secondary(&format!("multi_instance_group = {}", ten_megabytes()))
        .run(&["-l"])
        .assert_status(0)
        .assert_same();
}

/// `multi_instance_directories` naming /etc/postfix-a `n` times (upstream
/// accepts a directory listed twice: the claims are the same instance's).
fn repeated_secondary(n: usize) -> Scenario {
    primary(&format!(
        "multi_instance_directories ={}",
        " /etc/postfix-a".repeat(n)
    ))
}

#[test]
fn two_hundred_listings_of_one_secondary() {
    repeated_secondary(200)
        .run(&["-l"])
        .assert_status(0)
        .assert_stdout(format!("{P}{}", A.repeat(200)))
        .assert_same();
}

/// Debian's postmulti runs postconf 10,000 times here (~5 ms each, so a
/// minute or more on a busy machine): the timeout leaves it room.
#[test]
fn ten_thousand_secondaries() {
    repeated_secondary(10_000)
        .timeout(std::time::Duration::from_secs(900))
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout(format!("{P}{}", A.repeat(10_000)))
        .assert_stderr("");
}

// ---------------------------------------------------------------------------
// Expansion: self reference, long chains, deep nesting
// ---------------------------------------------------------------------------

/// `a1 = $a2`, ..., `a{n} = deep`.
fn chain(n: usize) -> String {
    let mut s = String::new();
    for i in 1..n {
        s.push_str(&format!("a{i} = $a{}\n", i + 1));
    }
    s.push_str(&format!("a{n} = deep\n"));
    s
}

/// `${multi_instance_name:` n times, `deep`, `}` n times: built-in names only.
fn textual(n: usize) -> String {
    format!(
        "{}deep{}",
        "${multi_instance_name:".repeat(n),
        "}".repeat(n)
    )
}

fn primary(lines: &str) -> Scenario {
    set_params(Scenario::two_secondaries(), "/etc/postfix/main.cf", lines)
}

fn secondary(lines: &str) -> Scenario {
    set_params(Scenario::two_secondaries(), "/etc/postfix-a/main.cf", lines)
}

const MACRO_FATAL: &str = "postmulti: fatal: dictionary mail_dict: macro processing error\n";

#[test]
fn primary_self_reference() {
    primary("multi_instance_group = $multi_instance_group")
        .run(&["-l"])
        .assert_status(1)
        .assert_stderr(format!(
            "postmulti: warning: unreasonable macro call nesting: \"multi_instance_group\"\n{MACRO_FATAL}"
        ))
        .assert_same();
}

#[test]
fn primary_mutual_reference() {
    primary("multi_instance_group = $a\na = ${b}\nb = $(a)")
        .run(&["-l"])
        .assert_status(1)
        .assert_same();
}

#[test]
fn primary_self_reference_after_literal_text() {
    // Upstream warns about the literal "x" first: literal text counts as a
    // nesting level in mac_expand (see fuzz.rs, regression_literal_text_...).
    primary("multi_instance_group = $a\na = x$a")
        .run(&["-l"])
        .assert_status(1)
        .assert_stderr(format!(
            "postmulti: warning: unreasonable macro call nesting: \"x\"\n\
             postmulti: warning: unreasonable macro call nesting: \"a\"\n{MACRO_FATAL}"
        ))
        .assert_same();
}

#[test]
fn primary_chain_100_deep() {
    primary(&format!("{}multi_instance_group = $a1", chain(100)))
        .run(&["-l"])
        .assert_status(0)
        .assert_stdout(format!(
            "-               deep            y         /etc/postfix\n{A}{B}"
        ))
        .assert_same();
}

#[test]
fn primary_chain_101_deep() {
    // The literal at the end of 101 `$name`s is one level too deep upstream.
    primary(&format!("{}multi_instance_group = $a1", chain(101)))
        .run(&["-l"])
        .assert_status(1)
        .assert_stderr(format!(
            "postmulti: warning: unreasonable macro call nesting: \"deep\"\n{MACRO_FATAL}"
        ))
        .assert_same();
}

#[test]
fn primary_chain_1000_deep() {
    primary(&format!("{}multi_instance_group = $a1", chain(1000)))
        .run(&["-l"])
        .assert_status(1)
        .assert_stderr(format!(
            "postmulti: warning: unreasonable macro call nesting: \"a102\"\n{MACRO_FATAL}"
        ))
        .assert_same();
}

#[test]
fn primary_textual_nesting_1000_deep() {
    primary(&format!("multi_instance_group = {}", textual(1000)))
        .run(&["-l"])
        .assert_status(1)
        .assert_same();
}

#[test]
fn primary_recursion_through_a_logical_operand() {
    // Upstream expands {operands} with a fresh nesting count, so this
    // recursion has no bound there: Debian's postmulti dies of a stack
    // overflow (SIGSEGV). Ours must stop with a fatal error.
    let c = primary("multi_instance_group = $a\na = ${{$a} == {}}").run(&["-l"]);
    assert_eq!(c.reference.status, 128 + 11, "{}", c.reference.describe());
    let o = &c.ours;
    o.assert_status(1).assert_stdout("").assert_stderr(format!(
        "postmulti: warning: unreasonable macro call nesting: \"$a\"\n{MACRO_FATAL}"
    ));
    assert_eq!(
        o.postmulti_syslog(),
        [
            "<20>TIME postmulti[PID]: warning: unreasonable macro call nesting: \"$a\"",
            "<18>TIME postmulti[PID]: fatal: dictionary mail_dict: macro processing error",
        ]
    );
    o.assert_no_files_written();
}

#[test]
fn secondary_self_reference() {
    secondary("multi_instance_group = $multi_instance_group")
        .run(&["-l"])
        .assert_status(1)
        .assert_same();
}

#[test]
fn secondary_self_reference_after_literal_text() {
    secondary("multi_instance_group = $a\na = x$a")
        .run(&["-l"])
        .assert_status(1)
        .assert_same();
}

#[test]
fn secondary_chain_1000_deep() {
    secondary(&format!("{}multi_instance_group = $a1", chain(1000)))
        .run(&["-l"])
        .assert_status(1)
        .assert_same();
}

#[test]
fn secondary_textual_nesting_101_and_1000_deep() {
    // Built-in names only, which ours may read without postconf.
    for n in [101, 1000] {
        secondary(&format!("multi_instance_group = {}", textual(n)))
            .run(&["-l"])
            .assert_same()
            .assert_status(0)
            .assert_stdout_line("postfix-b       -               n         /etc/postfix-b");
    }
}

#[test]
fn secondary_self_reference_in_a_parameter_postmulti_does_not_ask_for() {
    // postconf fails on any value that does not expand; ours must not list
    // the instance as if all were well (see fuzz.rs, regression_native_...).
    secondary("html_directory = $html_directory")
        .run(&["-l"])
        .assert_status(1)
        .assert_same();
}

#[test]
fn secondary_undefined_name_inside_logical_operand() {
    // postconf warns "undefined parameter: nosuch" and Debian's postmulti
    // passes the warning on (see fuzz.rs, regression_referenced_names_...).
    secondary("multi_instance_group = ${{$nosuch} == {}?{g}:{h}}")
        .run(&["-l"])
        .assert_status(0)
        .assert_same();
}

#[test]
fn secondary_invalid_inet_protocols() {
    // postconf checks inet_protocols when it computes the default of
    // mynetworks, so only without an explicit mynetworks (fuzz.rs,
    // regression_native_reader_defers_to_postconf).
    secondary("inet_protocols = bogus")
        .setup("sed -i '/^mynetworks[[:space:]]*=/d' /etc/postfix-a/main.cf")
        .run(&["-l"])
        .assert_status(1)
        .assert_same();
}

#[test]
fn secondary_recursion_through_a_logical_operand() {
    // postconf itself dies here (see primary_recursion_...); postmulti
    // reports the instance it could not read.
    secondary("multi_instance_group = $a\na = ${{$a} == {}}")
        .run(&["-l"])
        .assert_status(1)
        .assert_same();
}

// ---------------------------------------------------------------------------
// main.cf and configuration directories that are not what they should be
// ---------------------------------------------------------------------------

/// Each case replaces main.cf, runs `postmulti -l`, and puts it back
/// (backdated: Postfix waits for a file modified in the last second).
fn main_cf_cases(path: &str) -> String {
    let mut script = format!("cp {path} /var/tmp/main.cf.saved\n");
    for (case, how) in [
        ("directory", format!("rm {path} && mkdir {path}")),
        ("missing", format!("rm {path}")),
        (
            "dangling symlink",
            format!("rm {path} && ln -s nowhere {path}"),
        ),
        ("symlink loop", format!("rm {path} && ln -s main.cf {path}")),
    ] {
        script.push_str(&format!(
            "echo '# main.cf: {case}'; {how}\n\
             postmulti -l; echo \"exit $?\"\n\
             rm -rf {path}; cp /var/tmp/main.cf.saved {path}; touch -d @1577836800 {path}\n"
        ));
    }
    script
}

#[test]
fn primary_main_cf_that_is_not_a_file() {
    // The texts are the C library's strerror(3), as %m prints them.
    Scenario::two_secondaries()
        .run_shell(&main_cf_cases("/etc/postfix/main.cf"))
        .assert_stdout("# main.cf: directory\nexit 1\n# main.cf: missing\nexit 1\n# main.cf: dangling symlink\nexit 1\n# main.cf: symlink loop\nexit 1\n")
        .assert_stderr(
            "postmulti: fatal: read /etc/postfix/main.cf: Is a directory\n\
             postmulti: fatal: open /etc/postfix/main.cf: No such file or directory\n\
             postmulti: fatal: open /etc/postfix/main.cf: No such file or directory\n\
             postmulti: fatal: open /etc/postfix/main.cf: Too many levels of symbolic links\n",
        )
        .assert_same();
}

#[test]
fn secondary_main_cf_that_is_not_a_file() {
    Scenario::two_secondaries()
        .run_shell(&main_cf_cases("/etc/postfix-a/main.cf"))
        .assert_stdout(
            "# main.cf: directory\nexit 1\n# main.cf: missing\nexit 1\n# main.cf: dangling symlink\nexit 1\n# main.cf: symlink loop\nexit 1\n",
        )
        .assert_same();
}

#[test]
fn secondary_directory_is_a_symlink_loop() {
    Scenario::two_secondaries()
        .setup(
            "ln -s /etc/postfix-loop /etc/postfix-loop\n\
             postconf -e 'multi_instance_directories = /etc/postfix-a /etc/postfix-loop /etc/postfix-b'",
        )
        .run(&["-l"])
        .assert_status(1)
        .assert_same();
}

#[test]
fn mail_config_is_a_symlink_loop() {
    Scenario::two_secondaries()
        .setup("ln -s /etc/postfix-loop /etc/postfix-loop")
        .env("MAIL_CONFIG", "/etc/postfix-loop")
        .run(&["-l"])
        .assert_status(1)
        .assert_stderr(
            "postmulti: fatal: open /etc/postfix-loop/main.cf: Too many levels of symbolic links\n",
        )
        .assert_same();
}

// ---------------------------------------------------------------------------
// stdout that cannot be written
// ---------------------------------------------------------------------------

#[test]
fn stdout_closed() {
    Scenario::two_secondaries()
        .run_shell("postmulti -l >&-; echo \"exit $?\"")
        .assert_stdout("exit 0\n")
        .assert_same();
}

#[test]
fn stdout_is_dev_full() {
    // postmulti's own output, then that of -x commands.
    Scenario::two_secondaries()
        .run_shell(
            "postmulti -l > /dev/full; echo \"exit $?\"\n\
             postmulti -x echo hello > /dev/full; echo \"exit $?\"\n",
        )
        .assert_same()
        .assert_stdout("exit 1\nexit 1\n")
        .assert_stderr_line("postmulti: fatal: error writing output: No space left on device");
}

#[test]
fn stdout_pipe_closed_early() {
    // 200 instances with 1 KB groups: far more than a pipe holds, so the
    // writer meets the closed pipe whatever the timing.
    let lines = format!(
        "multi_instance_directories ={}",
        " /etc/postfix-a".repeat(200)
    );
    set_params(repeated_secondary(0), "/etc/postfix/main.cf", &lines)
        .setup(&format!(
            "sed -i '/^multi_instance_group[[:space:]]*=/d' /etc/postfix-a/main.cf\n\
             echo 'multi_instance_group = {}' >> /etc/postfix-a/main.cf",
            "g".repeat(1024)
        ))
        .run_shell("postmulti -l | head -1; echo \"exit ${PIPESTATUS[*]}\"")
        .assert_stdout(format!("{P}exit 141 0\n"))
        .assert_same();
}

// ---------------------------------------------------------------------------
// Started with descriptors 0, 1 and 2 closed: what it opens must not become
// its stdin, stdout or stderr.
// ---------------------------------------------------------------------------

/// Keeps copies of every main.cf, to compare after the command.
const SAVE_MAIN_CF: &str =
    "for d in postfix postfix-a postfix-b; do cp /etc/$d/main.cf /var/tmp/$d.main.cf; done";
const MAIN_CF_UNCHANGED: &str = "for d in postfix postfix-a postfix-b; do cmp /etc/$d/main.cf /var/tmp/$d.main.cf && echo \"$d unchanged\"; done";

#[test]
fn closed_descriptors_list() {
    Scenario::two_secondaries()
        .setup(SAVE_MAIN_CF)
        .check(MAIN_CF_UNCHANGED)
        .run_shell("postmulti -l <&- >&- 2>&-; echo \"exit $?\"")
        .assert_same()
        .assert_stdout("exit 0\n")
        .assert_checks(
            "postfix unchanged\npostfix-a unchanged\npostfix-b unchanged\n[check 0: exit 0]\n",
        )
        .ours
        .assert_no_files_written();
}

#[test]
fn closed_descriptors_with_warnings_and_a_fatal_error() {
    // The overriding-entry warning and the usage fatal go nowhere (and to
    // syslog), not into main.cf.
    Scenario::two_secondaries()
        .main_cf_append("/etc/postfix/main.cf", "biff = yes\nbiff = no")
        .main_cf_append("/etc/postfix-a/main.cf", NEEDS_POSTCONF)
        .setup(SAVE_MAIN_CF)
        .check(MAIN_CF_UNCHANGED)
        .run_shell(
            "postmulti -l <&- >&- 2>&-; echo \"exit $?\"\n\
             postmulti -l -z <&- >&- 2>&-; echo \"exit $?\"\n",
        )
        .assert_same()
        .assert_stdout("exit 0\nexit 1\n")
        .ours
        .assert_no_files_written();
}

#[test]
fn closed_descriptors_commands_get_dev_null() {
    // Each -x command records where its fds 0-2 lead, read before anything
    // is redirected ($$ in the command substitution is the shell itself).
    Scenario::two_secondaries()
        .setup(SAVE_MAIN_CF)
        .check(MAIN_CF_UNCHANGED)
        .check("head -3 /var/log/fds.primary")
        .run_shell(
            "postmulti -x sh -c 'fds=$(for fd in 0 1 2; do readlink /proc/$$/fd/$fd; done); \
             echo out; echo err >&2; \
             echo \"$fds\" > /var/log/fds.${multi_instance_name:-primary}' <&- >&- 2>&-; echo \"exit $?\"",
        )
        .assert_stdout("exit 0\n")
        .assert_checks(
            "postfix unchanged\npostfix-a unchanged\npostfix-b unchanged\n[check 0: exit 0]\n\
             /dev/null\n/dev/null\n/dev/null\n[check 1: exit 0]\n",
        )
        .assert_same();
}

#[test]
fn closed_descriptors_life_cycle() {
    Scenario::two_secondaries()
        .run_shell(
            "postmulti -I postfix-c -G gc -e create <&- >&- 2>&-; echo \"exit $?\"; postmulti -l",
        )
        .assert_stdout(format!(
            "exit 0\n{P}{A}{B}postfix-c       gc              n         /etc/postfix-c\n"
        ))
        .assert_same();
}

// ---------------------------------------------------------------------------
// Helper programs missing or unusable
// ---------------------------------------------------------------------------

const SCRIPT: &str = "/usr/lib/postfix/sbin/postmulti-script";

/// Bind-mounts a file with this content and mode over `target`.
fn replace_file(target: &str, content: &str, mode: &str) -> String {
    format!(
        "cat > /var/tmp/replacement <<'__PM_EOF__'\n{content}__PM_EOF__\n\
         chmod {mode} /var/tmp/replacement\nmount --bind /var/tmp/replacement {target}\n"
    )
}

#[test]
fn postmulti_script_unusable() {
    // Not executable, a missing interpreter, not a program at all, and
    // missing (an empty directory over the daemon directory): bind mounts
    // over the real script, one at a time.
    let mut script = String::new();
    for (case, content, mode) in [
        ("not executable", "#!/bin/sh\nexit 0\n", "644"),
        ("missing interpreter", "#!/nonexistent/sh\nexit 0\n", "755"),
        ("not a program", "", "755"),
    ] {
        script.push_str(&format!(
            "echo '# {case}'; printf '{content}' > /var/tmp/pms; chmod {mode} /var/tmp/pms\n\
             mount --bind /var/tmp/pms {SCRIPT}\n\
             postmulti -i postfix-a -e enable; echo \"exit $?\"\n\
             umount {SCRIPT}\n"
        ));
    }
    script.push_str(
        "echo '# missing'; mkdir -p /var/tmp/empty && mount --bind /var/tmp/empty /usr/lib/postfix/sbin\n\
         postmulti -e init; echo \"exit $?\"\n",
    );
    Scenario::two_secondaries()
        .run_shell(&script)
        .assert_stdout(
            "# not executable\nexit 1\n# missing interpreter\nexit 1\n# not a program\nexit 1\n# missing\nexit 1\n",
        )
        .assert_stderr(format!(
            "postmulti: fatal: {SCRIPT}: Permission denied\n\
             postmulti: fatal: {SCRIPT}: No such file or directory\n\
             postmulti: fatal: {SCRIPT}: Exec format error\n\
             postmulti: fatal: {SCRIPT}: No such file or directory\n"
        ))
        .assert_same();
}

#[test]
fn postfix_missing_or_not_executable_for_p() {
    // Each failed exec is the child's fatal error; the loop goes on.
    Scenario::two_secondaries()
        .setup("mkdir -p /var/tmp/cmd && ln -s /usr/sbin/postconf /var/tmp/cmd/postconf")
        .run_shell(
            "printf '#!/bin/sh\\nexit 0\\n' > /var/tmp/pf; chmod 644 /var/tmp/pf\n\
             mount --bind /var/tmp/pf /usr/sbin/postfix\n\
             postmulti -p status; echo \"exit $?\"\n\
             umount /usr/sbin/postfix\n\
             sed -i '$a command_directory = /var/tmp/cmd' /etc/postfix/main.cf; touch -d @1577836800 /etc/postfix/main.cf\n\
             postmulti -i postfix-b -p status; echo \"exit $?\"\n",
        )
        .assert_stdout("exit 1\nexit 1\n")
        .assert_stderr(format!(
            "{}postmulti: fatal: execvp /var/tmp/cmd/postfix: No such file or directory\n",
            "postmulti: fatal: execvp /usr/sbin/postfix: Permission denied\n".repeat(3)
        ))
        .assert_same();
}

#[test]
fn postconf_missing_or_not_executable_for_a_secondary_that_needs_it() {
    // postfix-a has a parameter only postconf can vouch for.
    Scenario::two_secondaries()
        .main_cf_append("/etc/postfix-a/main.cf", NEEDS_POSTCONF)
        .setup("mkdir -p /var/tmp/cmd")
        .run_shell(
            "printf '#!/bin/sh\\nexit 0\\n' > /var/tmp/pc; chmod 644 /var/tmp/pc\n\
             mount --bind /var/tmp/pc /usr/sbin/postconf\n\
             postmulti -l; echo \"exit $?\"\n\
             umount /usr/sbin/postconf\n\
             sed -i '$a command_directory = /var/tmp/cmd' /etc/postfix/main.cf; touch -d @1577836800 /etc/postfix/main.cf\n\
             postmulti -l; echo \"exit $?\"\n",
        )
        .assert_stdout("exit 1\nexit 1\n")
        .assert_stderr(
            "postmulti: fatal: vstream_popen: execvp /usr/sbin/postconf: Permission denied\n\
             postmulti: fatal: Failed to obtain all required /etc/postfix-a/main.cf parameters\n\
             postmulti: fatal: vstream_popen: execvp /var/tmp/cmd/postconf: No such file or directory\n\
             postmulti: fatal: Failed to obtain all required /etc/postfix-a/main.cf parameters\n",
        )
        .assert_same();
}

#[test]
fn postconf_missing_for_secondaries_ours_reads_itself() {
    // Debian's postmulti cannot list instances without postconf; ours reads
    // these two itself. Upstream's behaviour is the contract.
    Scenario::two_secondaries()
        .setup("mkdir -p /var/tmp/cmd")
        .main_cf_append("/etc/postfix/main.cf", "command_directory = /var/tmp/cmd")
        .run(&["-l"])
        .assert_status(1)
        .assert_same();
}

#[test]
fn postconf_that_prints_garbage() {
    Scenario::two_secondaries()
        .main_cf_append("/etc/postfix-a/main.cf", NEEDS_POSTCONF)
        .setup(&replace_file(
            "/usr/sbin/postconf",
            "#!/bin/sh\nprintf 'queue_directory\\n\\377 = \\0\\n'\nexit 0\n",
            "755",
        ))
        .run(&["-l"])
        .assert_status(1)
        .assert_same();
}

// ---------------------------------------------------------------------------
// Signals during -p: a fake postfix that waits, and records what it saw
// ---------------------------------------------------------------------------

/// A fake `postfix` over /usr/sbin/postfix: logs `begin`, waits until
/// /dev/shm/go exists (at most 10 s), logs `end`; logs the signals it gets.
/// Its pid goes to /dev/shm (not compared); the log is a compared file.
const WAITING_POSTFIX: &str = r#"#!/bin/bash
# bash reports "Terminated" on stderr when the group's SIGTERM catches its
# foreground sleep, and not when it falls between two sleeps: a race that
# has nothing to do with postmulti, so this fake says nothing on stderr.
exec 2>/dev/null
log=/var/log/postfix-calls.log
echo "begin $MAIL_CONFIG $*" >> $log
echo $$ > /dev/shm/child.pid
trap 'echo "SIGINT $MAIL_CONFIG" >> $log; exit 130' INT
trap 'echo "SIGTERM $MAIL_CONFIG" >> $log; exit 143' TERM
for i in $(seq 200); do
    [ -e /dev/shm/go ] && break
    sleep 0.05
done
echo "end $MAIL_CONFIG" >> $log
"#;

/// Starts postmulti -p status in its own process group with default
/// signal dispositions (as a terminal's foreground job has them), waits for
/// the first fake postfix, sends `signal` to `who` ("pid" or "group"), and
/// reports postmulti's exit status, then lets the child finish and waits for
/// it, and shows the log.
fn signal_script(signal: &str, who: &str) -> String {
    let target = if who == "group" { "-$pm" } else { "$pm" };
    format!(
        r#"perl -e '$SIG{{INT}} = $SIG{{TERM}} = "DEFAULT"; setpgrp(0, 0); exec @ARGV' postmulti -p status &
pm=$!
for i in $(seq 200); do [ -s /dev/shm/child.pid ] && break; sleep 0.05; done
sleep 0.2
kill -{signal} -- {target}
wait $pm
echo "postmulti exit $?"
touch /dev/shm/go
child=$(cat /dev/shm/child.pid)
for i in $(seq 200); do kill -0 $child 2>/dev/null || break; sleep 0.05; done
sleep 0.3
cat /var/log/postfix-calls.log
"#
    )
}

fn signal_scenario() -> Scenario {
    Scenario::two_secondaries_a_enabled().setup(&replace_file(
        "/usr/sbin/postfix",
        WAITING_POSTFIX,
        "755",
    ))
}

#[test]
fn sigint_to_postmulti_during_p() {
    // postmulti dies at once; the running child is left to finish; no
    // further instance is started.
    signal_scenario()
        .run_shell(&signal_script("INT", "pid"))
        .assert_stdout("postmulti exit 130\nbegin /etc/postfix -- status\nend /etc/postfix\n")
        .assert_same();
}

#[test]
fn sigint_to_the_process_group_during_p() {
    // Ctrl-C at a terminal: postmulti and the child both get it.
    signal_scenario()
        .run_shell(&signal_script("INT", "group"))
        .assert_stdout("postmulti exit 130\nbegin /etc/postfix -- status\nSIGINT /etc/postfix\n")
        .assert_same();
}

#[test]
fn sigterm_to_postmulti_during_p() {
    signal_scenario()
        .run_shell(&signal_script("TERM", "pid"))
        .assert_stdout("postmulti exit 143\nbegin /etc/postfix -- status\nend /etc/postfix\n")
        .assert_same();
}

#[test]
fn sigterm_to_the_process_group_during_p() {
    signal_scenario()
        .run_shell(&signal_script("TERM", "group"))
        .assert_stdout("postmulti exit 143\nbegin /etc/postfix -- status\nSIGTERM /etc/postfix\n")
        .assert_same();
}

// ---------------------------------------------------------------------------
// The environment and postconf's output as hostile input
// ---------------------------------------------------------------------------

#[test]
fn environment_entry_whose_name_holds_an_equals_sign() {
    // execve(2) takes any "x=y" strings; "=foo=bar" is one. Upstream's
    // clean_env() drops it with everything else; ours must not panic
    // removing it.
    Scenario::two_secondaries()
        .run_shell(
            "perl -e '$ENV{\"=foo\"} = \"bar\"; exec \"/usr/sbin/postmulti\", \"-i\", \"postfix-a\", \"-e\", \"enable\"'\n\
             echo \"exit $?\"; postmulti -l -i postfix-a",
        )
        .assert_stdout("exit 0\npostfix-a       g1              y         /etc/postfix-a\n")
        .assert_same();
}

#[test]
fn postconf_output_with_a_nul_byte() {
    // What postmulti reads from postconf is C strings upstream: the NUL
    // ends the value. A postconf that prints one must not make ours panic
    // (setting the environment of -x children or of postmulti-script).
    let fake = "#!/bin/sh\n\
        case \"$2\" in\n\
        /etc/postfix-a) printf 'queue_directory = /var/spool/postfix-a\\000junk\\ndata_directory = /var/lib/postfix-a\\nmulti_instance_name = postfix-a\\nmulti_instance_group = g\\000x\\nmulti_instance_enable = no\\n' ;;\n\
        *) exec /var/tmp/postconf.real \"$@\" ;;\n\
        esac\n";
    Scenario::two_secondaries()
        .main_cf_append("/etc/postfix-a/main.cf", NEEDS_POSTCONF)
        .setup("cp /usr/sbin/postconf /var/tmp/postconf.real")
        .setup(&replace_file("/usr/sbin/postconf", fake, "755"))
        .run_shell(
            "postmulti -l; echo \"exit $?\"\n\
             postmulti -i postfix-a -x sh -c 'echo \"[$queue_directory] [$multi_instance_group]\"'; echo \"exit $?\"\n",
        )
        .assert_same()
        .assert_stdout(
            "-               -               y         /etc/postfix\n\
             postfix-a       g               n         /etc/postfix-a\n\
             postfix-b       -               n         /etc/postfix-b\n\
             exit 0\n\
             [/var/spool/postfix-a] [g]\n\
             exit 0\n",
        );
}

#[test]
fn completions_usage_error_with_stderr_full_ours_only() {
    // An extension of ours (no reference): its usage error, written to a
    // full stderr, must still end with its exit status, not a panic.
    let o = Scenario::new()
        .run_shell_ours("postmulti --completions tcsh 2>/dev/full; echo \"exit $?\"");
    o.assert_stdout("exit 2\n")
        .assert_stderr("")
        .assert_no_files_written();
    assert_eq!(o.all_syslog(), Vec::<String>::new());
}

#[test]
fn postconf_output_with_a_nul_byte_for_the_primary_ours_only() {
    // Ours asks `postconf -xh NAME` for a primary value that needs a default
    // only Postfix knows (here mydomain, for syslog_name); Debian's C binary
    // computes it in-process, so there is no reference behaviour for a
    // postconf that prints a NUL byte. Ours must not panic on it (it becomes
    // MAIL_LOGTAG, set in the environment of every child).
    let o = Scenario::new()
        .main_cf_append("/etc/postfix/main.cf", "syslog_name = $mydomain")
        .setup(&replace_file(
            "/usr/sbin/postconf",
            "#!/bin/sh\nprintf 'a\\000b\\n'\n",
            "755",
        ))
        .run_shell_ours(
            "postmulti -l; echo \"exit $?\"; postmulti -x sh -c 'echo \"[$MAIL_LOGTAG]\"'",
        );
    // The value ends at the NUL, as upstream's C strings would end it.
    o.assert_status(0)
        .assert_stdout("-               -               y         /etc/postfix\nexit 0\n[a]\n")
        .assert_stderr("")
        .assert_no_files_written();
    assert_eq!(o.all_syslog(), Vec::<String>::new());
}
