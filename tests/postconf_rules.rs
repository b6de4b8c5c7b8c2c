//! `postmulti -l` side by side on the rules of postconf that the native
//! reader of secondary instances (src/native/) stands in for: how
//! postconf splits and reads master.cf, which values it computes on the
//! running host, and which values it refuses.  Each case is one that the
//! native reader once answered quietly, where postconf (and so Debian's
//! postmulti) warns or dies (issue 18, findings 8-14).  The rules
//! themselves are written down in the module docs of src/native/.
//!
//! Every case starts from two secondaries whose postfix-a has a two-line
//! master.cf, plus the lines of the case.
mod common;
use common::*;

const P: &str = "-               -               y         /etc/postfix\n";
const A: &str = "postfix-a       g1              n         /etc/postfix-a\n";
const B: &str = "postfix-b       -               n         /etc/postfix-b\n";

/// The two-line master.cf of the findings.
const TWO_LINES: &[u8] = b"smtp inet n - y - - smtpd\npickup unix n - y 60 1 pickup\n";

/// Two secondaries; postfix-a's master.cf is [`TWO_LINES`] and `extra`.
fn with_master_cf(extra: &[u8]) -> Scenario {
    let mut master = TWO_LINES.to_vec();
    master.extend_from_slice(extra);
    Scenario::two_secondaries().file("/etc/postfix-a/master.cf", master)
}

/// postconf dies on postfix-a's master.cf: its fatal error, then postmulti's.
fn dies_on_master_cf(extra: &[u8], postconf_fatal: &str) {
    with_master_cf(extra)
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr(format!(
            "/usr/sbin/postconf: fatal: {postconf_fatal}\n\
             postmulti: fatal: Failed to obtain all required /etc/postfix-a/main.cf parameters\n"
        ));
}

/// postconf warns about postfix-a (`warnings`, in its order) and lists all.
fn warns(sc: Scenario, warnings: &str) {
    sc.run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout(format!("{P}{A}{B}"))
        .assert_stderr(warnings);
}

/// postconf's warning about a value in postfix-a's main.cf (named as the
/// reference release names it: [`cf_name`]).
fn main_cf_warning(warning: &str) -> String {
    let file = cf_name("/etc/postfix-a/main.cf");
    format!("/usr/sbin/postconf: warning: {file}: {warning}\n")
}

/// postconf's warning about a value of postfix-a's master.cf entry
/// `service/type`.
fn master_cf_warning(entry: &str, warning: &str) -> String {
    let file = cf_name("/etc/postfix-a/master.cf");
    format!("/usr/sbin/postconf: warning: {file}:{entry}: {warning}\n")
}

// --- Finding 8: master.cf fields are split on " \t\r\n" only ----------------

/// A vertical tab between two fields joins them: seven fields.
#[test]
fn vertical_tab_between_master_cf_fields_is_no_separator() {
    dies_on_master_cf(
        b"sub inet n - y -\x0b- smtpd\n",
        "file /etc/postfix-a/master.cf: line 3: bad field count",
    );
}

/// A form feed inside the process limit field: eight fields, one invalid
/// (postconf prints the form feed as '?').
#[test]
fn form_feed_inside_a_master_cf_field_makes_it_invalid() {
    dies_on_master_cf(
        b"sub inet n - y - 1\x0csmtpd -v\n",
        "invalid process_limit field \"1?smtpd\" in \"sub inet n - y - 1?smtpd -v\"",
    );
}

/// The same blanks are fine inside the command's arguments, which postconf
/// does not look into (the native reader leaves such lines to postconf).
#[test]
fn vertical_tab_inside_a_command_argument_is_quiet() {
    warns(with_master_cf(b"sub inet n - y - - smtpd\x0b-v\n"), "");
}

// --- Finding 9: braces group words across blanks (mystrtokq) ----------------

/// `{` anywhere in a word opens a group that runs to its `}` or to the end
/// of the line: here one field holds the whole rest of the line.
#[test]
fn open_brace_in_the_service_name_swallows_the_line() {
    dies_on_master_cf(
        b"}{ inet n - y - - smtpd\n",
        "file /etc/postfix-a/master.cf: line 3: bad field count",
    );
}

/// In an `-o` value, the group swallows the next option, which becomes part
/// of the value.
#[test]
fn open_brace_in_an_option_value_swallows_the_next_option() {
    warns(
        with_master_cf(
            b"sub inet n - y - - smtpd -o smtpd_banner=${mail_name?}{) -o syslog_name=x\n",
        ),
        &master_cf_warning("sub/inet", "missing '}' in \"{) -o syslog_name=x\""),
    );
}

// --- Finding 10: where master.cf's options stop, and clustering -------------

/// `-vo name=value` is `-v -o name=value`.
#[test]
fn clustered_option_sets_a_parameter() {
    warns(
        with_master_cf(b"sub inet n - y - - smtpd -vo bogus_param=1\n"),
        "/usr/sbin/postconf: warning: /etc/postfix-a/master.cf: unused parameter: bogus_param=1\n",
    );
}

/// Options stop at the first word that is not an option: the second `-o`
/// is an argument, so mail_name keeps its default and the conditional
/// takes the branch with the stray braces.
#[test]
fn options_stop_at_the_first_non_option() {
    warns(
        with_master_cf(
            b"sub inet n - y - - smtpd -o html_directory=${{$mail_name}=={Postfix}?{{a}b}} x -o mail_name=x\n",
        ),
        &master_cf_warning("sub/inet", "syntax error after '}' in \"{a}b\""),
    );
}

/// ... and at `--`.
#[test]
fn options_stop_at_double_dash() {
    warns(
        with_master_cf(
            b"sub inet n - y - - smtpd -o html_directory=${{$mail_name}=={Postfix}?{{a}b}} -- -o mail_name=x\n",
        ),
        &master_cf_warning("sub/inet", "syntax error after '}' in \"{a}b\""),
    );
}

// --- Finding 11: values postconf computes, inside conditionals --------------

/// myhostname (not set in the secondary) is the sandbox's host name.
#[test]
fn computed_myhostname_in_a_conditional() {
    warns(
        with_master_cf(b"").main_cf_append(
            "/etc/postfix-a/main.cf",
            "html_directory = ${myhostname?{{a}b}:{c}}",
        ),
        &main_cf_warning("syntax error after '}' in \"{a}b\""),
    );
}

/// mydomain is what follows the first dot of myhostname.
#[test]
fn computed_mydomain_compared() {
    warns(
        with_master_cf(b"").main_cf_append(
            "/etc/postfix-a/main.cf",
            "html_directory = ${{$mydomain} == {example}?{{a}b}:{c}}",
        ),
        &main_cf_warning("syntax error after '}' in \"{a}b\""),
    );
}

/// process_name is postconf's own name in main.cf ...
#[test]
fn computed_process_name_in_main_cf() {
    warns(
        with_master_cf(b"").main_cf_append(
            "/etc/postfix-a/main.cf",
            "html_directory = ${{$process_name} == {postconf}?{{a}b}:{c}}",
        ),
        &main_cf_warning("syntax error after '}' in \"{a}b\""),
    );
}

/// ... and process_id its process id.
#[test]
fn computed_process_id_in_a_conditional() {
    warns(
        with_master_cf(b"").main_cf_append(
            "/etc/postfix-a/main.cf",
            "html_directory = ${process_id?{{a}b}:{c}}",
        ),
        &main_cf_warning("syntax error after '}' in \"{a}b\""),
    );
}

/// mynetworks, when not set, is computed from the host's interfaces.
#[test]
fn computed_mynetworks_in_a_conditional() {
    warns(
        with_master_cf(b"")
            .setup("sed -i '/^mynetworks/d' /etc/postfix-a/main.cf")
            .main_cf_append(
                "/etc/postfix-a/main.cf",
                "html_directory = ${mynetworks?{{a}b}:{c}}",
            ),
        &main_cf_warning("syntax error after '}' in \"{a}b\""),
    );
}

/// In master.cf, service_name is the entry's service name ...
#[test]
fn master_cf_service_name_in_a_conditional() {
    warns(
        with_master_cf(
            b"sub inet n - y - - smtpd -o smtpd_banner=${{$service_name}=={sub}?{{a}b}:{c}}\n",
        ),
        &master_cf_warning("sub/inet", "syntax error after '}' in \"{a}b\""),
    );
}

/// ... and process_name the last part of its command.
#[test]
fn master_cf_process_name_in_a_conditional() {
    warns(
        with_master_cf(b"sub inet n - y - - /usr/lib/postfix/sbin/smtpd -o smtpd_banner=${{$process_name}=={smtpd}?{{a}b}:{c}}\n"),
        &master_cf_warning("sub/inet", "syntax error after '}' in \"{a}b\""),
    );
}

// --- Finding 12: repeated service/type entries share their settings ---------

/// Two `relay unix` entries: the second sees the first's syslog_name, and
/// postconf reads the shared settings once per entry (two warnings).
#[test]
fn repeated_service_entries_share_one_namespace() {
    warns(
        with_master_cf(
            b"relay unix - - y - - smtp -o syslog_name=x\n\
              relay unix - - y - - smtp -o html_directory=${{$syslog_name}=={x}?{{a}b}}\n",
        ),
        &master_cf_warning("relay/unix", "syntax error after '}' in \"{a}b\"").repeat(2),
    );
}

// --- Finding 13: compatibility_level's range --------------------------------

/// With mynetworks unset, postconf computes it, which compares
/// compatibility_level: minor and patch levels stop at 1023, the major
/// level at 2^43 - 1.
fn compatibility_level_refused(level: &str) {
    with_master_cf(b"")
        .setup("sed -i '/^mynetworks/d;/^compatibility_level/d' /etc/postfix-a/main.cf")
        .main_cf_append(
            "/etc/postfix-a/main.cf",
            &format!("compatibility_level = {level}"),
        )
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr(format!(
            "/usr/sbin/postconf: warning: malformed compatibility level syntax: \"{level}\"\n\
             /usr/sbin/postconf: fatal: macro processing error\n\
             postmulti: fatal: Failed to obtain all required /etc/postfix-a/main.cf parameters\n"
        ));
}

#[test]
fn compatibility_level_minor_above_1023() {
    compatibility_level_refused("3.1024");
}

#[test]
fn compatibility_level_major_too_large() {
    compatibility_level_refused("99999999999999");
}

/// Their neighbours within range are read quietly.
#[test]
fn compatibility_level_limits_are_accepted() {
    warns(
        with_master_cf(b"")
            .setup("sed -i '/^mynetworks/d;/^compatibility_level/d' /etc/postfix-[ab]/main.cf")
            .main_cf_append(
                "/etc/postfix-a/main.cf",
                "compatibility_level = 3.1023.1023",
            )
            .main_cf_append(
                "/etc/postfix-b/main.cf",
                "compatibility_level = 8796093022207",
            ),
        "",
    );
}

// --- Finding 14: a host name postconf will not use ---------------------------

/// The secondaries set no myhostname: postconf takes the kernel's host
/// name, and refuses a numeric one.
#[test]
fn numeric_host_name_is_refused() {
    with_master_cf(b"")
        .setup("hostname 123")
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr(
            "/usr/sbin/postconf: warning: valid_hostname: numeric hostname: 123\n\
             /usr/sbin/postconf: fatal: unable to use my own hostname\n\
             postmulti: fatal: Failed to obtain all required /etc/postfix-a/main.cf parameters\n",
        );
}

/// Two dots in a row (hostname(1) refuses to set that; the kernel does not).
#[test]
fn host_name_with_adjacent_dots_is_refused() {
    with_master_cf(b"")
        .setup("echo bad..host > /proc/sys/kernel/hostname")
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr(
            "/usr/sbin/postconf: warning: valid_hostname: misplaced delimiter: bad..host\n\
             /usr/sbin/postconf: fatal: unable to use my own hostname\n\
             postmulti: fatal: Failed to obtain all required /etc/postfix-a/main.cf parameters\n",
        );
}

/// A secondary that sets myhostname does not need the kernel's.
#[test]
fn numeric_host_name_is_not_read_when_myhostname_is_set() {
    warns(
        with_master_cf(b"")
            .setup("hostname 123")
            .main_cf_append("/etc/postfix-a/main.cf", "myhostname = a.example")
            .main_cf_append("/etc/postfix-b/main.cf", "myhostname = b.example"),
        "",
    );
}
