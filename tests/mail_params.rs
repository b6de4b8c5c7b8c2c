//! mail_params_init()'s checks of the primary's main.cf, side by side with
//! the reference: a global parameter set to a value Postfix cannot use
//! makes every command die before it does anything.  The rules are written
//! down in src/primary/mail_params.rs.
mod common;
use common::*;

const P: &str = "-               -               y         /etc/postfix\n";

fn fatal(msg: &str) -> String {
    format!("postmulti: fatal: {msg}\n")
}

/// The primary main.cf with LINES in place of the baseline's settings of
/// the same names (so that no `overriding earlier entry` is warned).
fn primary(lines: &str) -> Scenario {
    let name = |line: &str| line.split('=').next().unwrap_or("").trim().to_string();
    let set: Vec<String> = lines.lines().map(name).collect();
    let mut main_cf: String = BASELINE_MAIN_CF
        .lines()
        .filter(|l| !set.contains(&name(l)))
        .map(|l| format!("{l}\n"))
        .collect();
    main_cf.push_str(lines);
    main_cf.push('\n');
    Scenario::new().file("/etc/postfix/main.cf", main_cf)
}

/// `postmulti -l` with LINES appended to the primary main.cf: the same on
/// both sides, status 1, and this fatal error alone on stderr (after the
/// warnings in WARNINGS).
fn dies(lines: &str, warnings: &[&str], why: &str) {
    let mut stderr: String = warnings
        .iter()
        .map(|w| format!("postmulti: warning: {w}\n"))
        .collect();
    stderr.push_str(&fatal(why));
    primary(lines)
        .run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr(stderr);
}

/// `postmulti -l` with LINES appended lists the primary quietly on both sides.
fn lists(lines: &str) {
    primary(lines)
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout(P)
        .assert_stderr("");
}

/// Every parameter the reference's `postconf -d` knows (about a thousand,
/// so that a check upstream has and ours lacks shows up) set to `@bogus@`
/// and to the empty value (what trips a number's, a time's, a boolean's or
/// a string's check), and the parameters of mail_params_init()'s tables
/// (and some it does not check) to four values more (beyond a long,
/// negative, zero, a time beyond a maximum), `postmulti -l` run for each
/// in one sandbox: what each side prints, status included, is the same.
/// (stderr on a pty: Postfix before 3.11 prints there only on a terminal.)
/// Every parameter with all six values is the long run below.
#[test]
fn every_parameter_with_bad_values() {
    let names = "compatibility_level mail_version syslog_facility maillog_file_prefixes \
        maillog_file_compressor maillog_file_rotate_suffix postlog_service_name \
        daemon_table_open_error_is_fatal dns_ncache_ttl_fix_enable \
        smtputf8_enable enable_idna2003_compatibility respectful_logging inet_protocols \
        myhostname mydomain mail_name syslog_name mail_owner setgid_group myorigin \
        daemon_directory data_directory command_directory meta_directory queue_directory \
        shlib_directory process_id_directory double_bounce_sender default_privs \
        mail_release_date default_database_type hash_queue_names mynetworks_style \
        default_verp_delimiters verp_delimiter_filter bounce_service_name \
        cleanup_service_name defer_service_name pickup_service_name queue_service_name \
        rewrite_service_name showq_service_name error_service_name flush_service_name \
        address_verify_service_name trace_service_name proxymap_service_name \
        proxywrite_service_name smtputf8_autodetect_classes info_log_address_format \
        default_process_limit max_use dont_remove line_length_limit hash_queue_depth \
        fork_attempts deliver_lock_attempts debug_peer_level fault_injection_code \
        berkeley_db_create_buffer_size berkeley_db_read_buffer_size header_size_limit \
        header_address_token_limit mime_nesting_limit mime_boundary_length_limit \
        delay_logging_resolution_limit tcp_windowsize socketmap_max_reply_size \
        message_size_limit lmdb_map_size disable_dns_lookups soft_bounce \
        owner_request_special strict_8bitmime strict_7bit_headers strict_8bitmime_body \
        strict_mime_encoding_domain disable_mime_input_processing \
        disable_mime_output_conversion address_verify_negative_cache \
        backwards_bounce_logfile_compatibility helpful_warnings send_cyrus_sasl_authzid \
        multi_instance_enable enable_long_queue_ids strict_smtputf8 \
        enable_original_recipient tls_required_enable application_event_drain_time \
        max_idle ipc_timeout ipc_idle ipc_ttl trigger_timeout fork_delay deliver_lock_delay \
        stale_lock_time daemon_timeout in_flow_delay inet_interfaces relayhost \
        proxy_interfaces biff smtpd_recipient_limit bounce_queue_lifetime nosuch_parameter \
        default_cache_db_type non_bdb_migration_level non_bdb_migration_log_redirect \
        requiretls_enable known_tcp_ports";
    // Parameters of later releases (maillog_file_permissions, 3.9;
    // tls_required_enable, non_bdb_migration_level, ...) are no one's
    // business in an older release: both sides are quiet.
    let names = format!("{names} maillog_file_permissions");
    let c = sweep(&[
        (ALL_NAMES, "@bogus@ ''"),
        (&names, "99999999999999999999 -1 0 7d"),
    ]);
    c.assert_same().assert_status(0);
    let out = c.ours().stdout_str();
    // Every parameter of postconf -d was there (nearly a thousand on every
    // release), each with its two values.
    let cases = out.lines().filter(|l| l.starts_with("== ")).count();
    assert!(cases > 2 * 900, "only {cases} cases:\n{out}");
    // A few of the answers, pinned (the same on every reference).
    for line in [
        "postmulti: fatal: bad numerical configuration: line_length_limit = @bogus@",
        "postmulti: fatal: bad string length 0 < 1: syslog_name = ",
        "postmulti: fatal: bad string length 7 > 2: default_verp_delimiters = @bogus@",
        "postmulti: fatal: bad boolean configuration: soft_bounce = 0",
        "postmulti: fatal: parameter ipc_timeout: bad time value or unit: -1",
        "postmulti: fatal: invalid ipc_timeout: 0 (min 1)",
        "postmulti: fatal: invalid in_flow_delay: 604800 (max 10)",
        "postmulti: fatal: invalid line_length_limit parameter value -1 < 512",
        "postmulti: fatal: malformed compatibility level syntax: \"-1\"",
        "postmulti: fatal: unknown inet_protocols value \"@bogus@\" in \"@bogus@\"",
        "postmulti: fatal: file /etc/postfix/main.cf: parameter mail_owner: unknown user name value: @bogus@",
    ] {
        assert!(out.lines().any(|l| l == line), "missing {line:?} in:\n{out}");
    }
}

/// Every parameter the reference's `postconf -d` knows, in the sandbox (a
/// shell word for [`sweep`]).
const ALL_NAMES: &str = "$(postconf -d | sed 's/ =.*//')";

/// Every parameter the reference's `postconf -d` knows set to all six
/// values: about 6,000 runs a side, some minutes (by hand only: the CI
/// sweep above gives most of them two values).
#[test]
#[ignore = "long run: cargo test --test mail_params -- --ignored"]
fn every_parameter_of_postconf_d_with_all_bad_values() {
    sweep(&[(ALL_NAMES, "@bogus@ '' 99999999999999999999 -1 0 7d")])
        .assert_same()
        .assert_status(0);
}

/// `postmulti -l` with each of NAMES (shell words) set to each of VALUES
/// (shell words) in turn, for every (NAMES, VALUES) of GROUPS, in one
/// sandbox; stdout has `== NAME = VALUE`, then what postmulti printed on
/// stderr and its exit status, case by case.
///
/// 48 workers run the cases at once (a fatal error costs the reference a
/// second's sleep), each in a mount namespace of its own where a file of
/// its own is bound over the primary's main.cf: a case is copied there
/// (and back-dated) before its run.  A pty for stderr (one `script` per
/// worker: Postfix before 3.11 prints there only on a terminal), and no
/// syslog (/dev/null over /dev/log: the records of parallel runs would come
/// in any order).
fn sweep(groups: &[(&str, &str)]) -> Compared {
    let cases: String = groups
        .iter()
        .map(|(names, values)| {
            format!(
                r#"for name in {names}; do
  for value in {values}; do
    i=$((i + 1))
    {{ cat /etc/postfix/main.cf; printf '%s = %s\n' "$name" "$value"; }} > /tmp/case/$i
    touch -d '-1 min' /tmp/case/$i
    echo "$i $name = $value" >> /tmp/index
  done
done
"#
            )
        })
        .collect();
    let script = format!(
        r#"mkdir /tmp/case /tmp/out
i=0
{cases}cat > /tmp/loop <<'EOF'
for n in $(cat /tmp/todo.$1); do
  cat /tmp/case/$n > /tmp/cf.$1
  touch -d '-1 min' /tmp/cf.$1
  echo "@@ $n"
  postmulti -l >/dev/null
  echo "exit $?"
done
EOF
seq $i | awk '{{ print > ("/tmp/todo." ($1 % 48)) }}'
one() {{
  cp /etc/postfix/main.cf /tmp/cf.$1
  unshare -m sh -c "mount --bind /dev/null /dev/log 2>/dev/null; mount --bind /tmp/cf.$1 /etc/postfix/main.cf && exec script -qec 'sh /tmp/loop $1' /dev/null" > /tmp/out.$1 2>&1
}}
export -f one
ls /tmp/todo.* | sed 's/.*\.//' | xargs -P 48 -I{{}} bash -c 'one {{}}'
cat /tmp/out.* | tr -d '\r' | awk '/^@@ / {{ if (f) close(f); f = "/tmp/out/" $2; next }} {{ print > f }}'
while read -r n case; do
  echo "== $case"
  tr -d '\r' < /tmp/out/$n
done < /tmp/index
"#
    );
    primary("")
        .timeout(std::time::Duration::from_secs(1800))
        .run_shell(&script)
}

#[test]
fn myhostname_and_relayhost_must_differ_in_more_than_case() {
    dies(
        "relayhost = SANDBOX.example",
        &[],
        "myhostname and relayhost parameter settings must not be identical: sandbox.example",
    );
}

#[test]
fn myorigin_takes_one_value() {
    dies(
        "myorigin = a.example, b.example",
        &[],
        "myorigin parameter setting must not contain multiple values: a.example, b.example",
    );
}

#[test]
fn a_bad_myhostname_is_named_after_valid_hostname_warns() {
    dies(
        "myhostname = bad..name",
        &["valid_hostname: misplaced delimiter: bad..name"],
        "file /etc/postfix/main.cf: parameter myhostname: bad parameter value: bad..name",
    );
}

#[test]
fn a_mydomain_computed_from_myhostname_is_checked_too() {
    dies(
        "myhostname = host.-x",
        &["valid_hostname: misplaced hyphen: host.-x"],
        "file /etc/postfix/main.cf: parameter myhostname: bad parameter value: host.-x",
    );
}

#[test]
fn a_kernel_host_name_postfix_cannot_use() {
    primary("")
        .file(
            "/etc/postfix/main.cf",
            BASELINE_MAIN_CF.replace("myhostname = sandbox.example\n", ""),
        )
        .run_shell("hostname 1234 && postmulti -l")
        .assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr(
            "postmulti: warning: valid_hostname: numeric hostname: 1234\n\
             postmulti: fatal: unable to use my own hostname\n",
        );
}

#[test]
fn verp_delimiters_must_be_in_the_filter() {
    dies(
        "default_verp_delimiters = +x",
        &[],
        "file /etc/postfix/main.cf: parameters default_verp_delimiters and verp_delimiter_filter: bad second VERP delimiter character",
    );
}

#[test]
fn default_privs_and_mail_owner_must_differ() {
    dies(
        "default_privs = postfix",
        &[],
        "file /etc/postfix/main.cf: parameters default_privs and mail_owner specify the same user postfix",
    );
}

#[test]
fn mail_owner_may_not_be_root() {
    dies(
        "mail_owner = root",
        &[],
        "file /etc/postfix/main.cf: parameter mail_owner: user root has privileged user ID",
    );
}

#[test]
fn setgid_group_may_not_be_mail_owners_group() {
    let c = primary("setgid_group = postfix").run(&["-l"]);
    c.assert_same().assert_status(1).assert_stdout("");
    let err = c.ours().stderr_str();
    assert!(
        err.starts_with(
            "postmulti: fatal: file /etc/postfix/main.cf: parameters mail_owner and setgid_group: \
             user postfix and group postfix have the same group ID: "
        ),
        "{err}"
    );
}

#[test]
fn a_user_sharing_mail_owners_user_id() {
    let c = primary("")
        .setup("useradd -M -o -u \"$(id -u postfix)\" -g nogroup pftwin")
        .run_shell(
            "uid=$(id -u postfix); echo 'mail_owner = pftwin' >> /etc/postfix/main.cf; \
             touch -d '-1 min' /etc/postfix/main.cf; script -qec 'postmulti -l' /dev/null | tr -d '\\r' | sed \"s/ $uid / UID /\"",
        );
    twin_words(
        &c,
        "postmulti: fatal: file /etc/postfix/main.cf: parameter mail_owner: user pftwin has the same user ID UID as user postfix\n",
    );
}

/// Postfix 3.10 and later name the shared ID; 3.7 says `has same user ID
/// as` (or group).  Ours says what the reference's release says.
fn twin_words(c: &Compared, words: &str) {
    let words = if reference_at_least(3, 10) {
        words.to_string()
    } else {
        words
            .replace(
                " has the same user ID UID as user ",
                " has same user ID as ",
            )
            .replace(
                " has the same group ID GID as group ",
                " has same group ID as ",
            )
    };
    c.assert_same().assert_status(0).assert_stdout(words);
}

#[test]
fn a_group_sharing_setgid_groups_group_id() {
    let c = primary("")
        .setup("groupadd -o -g \"$(getent group postdrop | cut -d: -f3)\" pdtwin")
        .run_shell(
            "gid=$(getent group postdrop | cut -d: -f3); echo 'setgid_group = pdtwin' >> /etc/postfix/main.cf; \
             touch -d '-1 min' /etc/postfix/main.cf; script -qec 'postmulti -l' /dev/null | tr -d '\\r' | sed \"s/ $gid / GID /\"",
        );
    twin_words(
        &c,
        "postmulti: fatal: file /etc/postfix/main.cf: parameter setgid_group: group pdtwin has the same group ID GID as group postdrop\n",
    );
}

#[test]
fn an_unknown_setgid_group() {
    dies(
        "setgid_group = nosuchgroup",
        &[],
        "file /etc/postfix/main.cf: parameter setgid_group: unknown group name: nosuchgroup",
    );
}

#[test]
fn inet_interfaces_not_on_this_host() {
    dies(
        "inet_interfaces = 127.0.0.1, 192.0.2.5",
        &[],
        "parameter inet_interfaces: no local interface found for 192.0.2.5",
    );
}

#[test]
fn inet_interfaces_that_do_not_resolve() {
    dies(
        "inet_interfaces = nosuch.invalid",
        &[],
        "config variable inet_interfaces: host not found: nosuch.invalid",
    );
}

#[test]
fn inet_interfaces_on_this_host_are_quiet() {
    lists("inet_interfaces = 127.0.0.1, [127.0.0.1], localhost");
}

#[test]
fn good_values_of_every_kind_are_quiet() {
    lists(
        "line_length_limit = 2048\nipc_timeout = 1h\nin_flow_delay = 10s\nsoft_bounce = Yes\n\
         message_size_limit = -1\nmail_owner = postfix\nsetgid_group = postdrop\n\
         myorigin = $myhostname\ndefault_verp_delimiters = -=\ncompatibility_level = 3.6.1",
    );
}

/// The first check to fail is the first in mail_params_init()'s order: the
/// host names before the numbers, the numbers before the users.
#[test]
fn the_first_failing_check_in_upstream_order_wins() {
    dies(
        "mail_owner = nosuchuser\nline_length_limit = 1\nmyhostname = 1234",
        &["valid_hostname: numeric hostname: 1234"],
        "file /etc/postfix/main.cf: parameter myhostname: bad parameter value: 1234",
    );
    dies(
        "mail_owner = nosuchuser\nline_length_limit = 1",
        &[],
        "invalid line_length_limit parameter value 1 < 512",
    );
}

/// known_tcp_ports: a warning for each malformed association, after the
/// comma (kept) and before the equals signs (split at each); no port range.
#[test]
fn known_tcp_ports_warns_about_each_malformed_association() {
    let warn = |text: &str| format!("postmulti: warning: known_tcp_ports: in {text}\n");
    let expected: String = [
        r#"" =3": missing service name before "=""#,
        r#"" 4=": missing port value after "=""#,
        r#"" d=x": non-numerical service port"#,
        r#"" a=5": duplicate service name"#,
        r#"" g h=6": whitespace in service name"#,
        r#"" i=7 8": whitespace in port number"#,
        r#"" " is not in "name = value" form"#,
        r#"" j=": missing port value after "=""#,
        r#"" ==": missing port value after "=""#,
        r#"" k==9": missing service name before "=""#,
        r#"" 1=l=2": numerical service name"#,
        r#"" m = n = 3 4": whitespace in port number"#,
    ]
    .map(warn)
    .concat();
    primary(
        "known_tcp_ports = a=1, b = c = 2 , =3, 4=, d=x, e=99999, f=65536, a=5, g h=6, \
         i=7 8, ,, j=, ==, k==9, 1=l=2, m = n = 3 4",
    )
    .run(&["-l"])
    .assert_same()
    .assert_status(0)
    .assert_stdout(P)
    .assert_stderr(expected);
}

/// The warning once on a life-cycle command (which reads main.cf twice).
#[test]
fn known_tcp_ports_warns_once_on_life_cycle_commands() {
    primary("known_tcp_ports = smtp")
        .run(&["-e", "enable", "-i", "nosuch"])
        .assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr(
            "postmulti: warning: known_tcp_ports: in \"smtp\" is not in \"name = value\" form\n\
             postmulti: fatal: No instance named nosuch\n",
        );
}

/// Postfix 3.11's non_bdb_migration_level: one of three levels, in any case.
#[test]
fn non_bdb_migration_level_is_a_known_level() {
    let c = primary("non_bdb_migration_level = ENABLE-REDIRECT\nx = bad")
        .run_shell("postmulti -l; sed -i 's/^non_bdb_migration_level = .*/non_bdb_migration_level = $x/' /etc/postfix/main.cf; touch -d '-1 min' /etc/postfix/main.cf; postmulti -l");
    c.assert_same();
    if reference_at_least(3, 11) {
        c.assert_status(1)
            .assert_stdout(P)
            .assert_stderr(fatal("invalid non-Berkeley-DB migration level: 'bad'"));
    } else {
        c.assert_status(0)
            .assert_stdout(format!("{P}{P}"))
            .assert_stderr("");
    }
}

/// mail_params_init() comes before the maillog_file prefix check.
#[test]
fn parameter_checks_come_before_the_maillog_file_check() {
    dies(
        "maillog_file = /etc/evil.log\nipc_timeout = 3x",
        &[],
        "parameter ipc_timeout: bad time value or unit: 3x",
    );
}

/// The same checks on every command, a life-cycle command included.
#[test]
fn life_cycle_commands_die_the_same_way() {
    let c = primary("hash_queue_depth = 0").run(&["-e", "init"]);
    c.assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr(fatal("invalid hash_queue_depth parameter value 0 < 1"));
    c.ours().assert_no_files_written();
}
