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

// --- Issue 25: postconf's whole name space ----------------------------------
//
// The quiet cases are also answered without postconf: a wrapper over
// /usr/sbin/postconf logs its command lines, and no `-xc` for postfix-a
// (or postfix-b) may be among them.

/// postconf is quiet about postfix-a, the listing is the same, and ours
/// answered it (and postfix-b) without running postconf.
#[track_caller]
fn quiet_and_native(sc: Scenario) {
    warns(sc.clone(), "");
    let out = sc.setup(COUNTING_POSTCONF).run_shell_ours(LIST_AND_COUNT);
    out.assert_status(0);
    out.assert_stdout(format!("{P}{A}{B}exit 0\n"));
}

/// postfix-a's main.cf with `lines` appended (and master.cf [`TWO_LINES`]
/// and `master`).
fn with_lines(master: &[u8], lines: &str) -> Scenario {
    with_master_cf(master).main_cf_append("/etc/postfix-a/main.cf", lines)
}

/// Per-service parameters (rule 14): the services of master.cf whose
/// command is a delivery agent, pipe or spawn name parameters of their own.
#[test]
fn service_parameter_from_master_cf_is_known() {
    quiet_and_native(with_lines(
        b"relay unix - - n - - smtp\n\
          smtp-amavis unix - - n - 2 smtp -o smtp_data_done_timeout=1200\n\
          dovecot unix - n n - - pipe flags=DRhu user=vmail argv=/bin/true ${recipient}\n\
          mlmmj unix - n n - - pipe flags=ORhu user=mlmmj argv=/bin/true\n\
          spawner unix - n n - - spawn user=nobody argv=/bin/true\n",
        "relay_destination_concurrency_limit = 5\n\
         smtp-amavis_destination_recipient_limit = 1\n\
         dovecot_destination_recipient_limit = 1\n\
         mlmmj_time_limit = 3600s\n\
         spawner_time_limit = 60s\n\
         html_directory = /usr/share/doc/$relay_transport_rate_delay\n",
    ));
}

/// A service parameter's default is `$` and its global parameter: set that
/// to the service parameter, and postconf goes round in circles.
#[test]
fn service_parameter_default_follows_its_global_default() {
    with_lines(
        b"relay unix - - n - - smtp\n",
        "default_destination_concurrency_limit = $relay_destination_concurrency_limit\n",
    )
    .run(&["-l"])
    .assert_same()
    .assert_status(1)
    .assert_stderr(
        "/usr/sbin/postconf: warning: unreasonable macro call nesting: \"default_destination_concurrency_limit\"\n\
         /usr/sbin/postconf: fatal: macro processing error\n\
         postmulti: fatal: Failed to obtain all required /etc/postfix-a/main.cf parameters\n",
    );
}

/// The command field is compared as written: a path is no delivery agent,
/// and pipe's own suffix is not smtp's.
#[test]
fn service_parameter_of_a_service_with_a_path_is_unknown() {
    warns(
        with_lines(
            b"relay2 unix - - n - - /usr/lib/postfix/sbin/smtp\n\
              spawner unix - n n - - spawn user=nobody argv=/bin/true\n",
            "relay2_destination_concurrency_limit = 5\n",
        ),
        &main_cf_unused("relay2_destination_concurrency_limit=5"),
    );
    warns(
        with_lines(
            b"spawner unix - n n - - spawn user=nobody argv=/bin/true\n",
            "spawner_destination_recipient_limit = 1\n",
        ),
        &main_cf_unused("spawner_destination_recipient_limit=1"),
    );
}

/// postconf's "unused parameter" warning about postfix-a's main.cf (named
/// by its path on every release).
fn main_cf_unused(setting: &str) -> String {
    format!("/usr/sbin/postconf: warning: /etc/postfix-a/main.cf: unused parameter: {setting}\n")
}

/// User-defined parameters (rule 18): `$name` in a main.cf value, in an
/// untaken branch, in a value itself user-defined makes `name` used; a
/// legacy parameter (virtual_maps) is known (3.11 calls that one
/// deprecated, rule 19).
#[test]
fn user_parameter_used_in_main_cf_is_quiet() {
    let lines = "dms_smtpd_sender_restrictions = $dms_base, reject_unknown_sender_domain\n\
                 dms_base = permit_sasl_authenticated\n\
                 smtpd_sender_restrictions = $dms_smtpd_sender_restrictions\n\
                 only_if_empty = x\n\
                 html_directory = ${myhostname:$only_if_empty}\n";
    quiet_and_native(with_lines(b"", lines));
    let legacy = "virtual_maps = hash:/etc/postfix-a/virtual\n";
    if reference_at_least(3, 11) {
        warns(
            with_lines(b"", legacy),
            "/usr/sbin/postconf: warning: /etc/postfix-a/main.cf: support for parameter \"virtual_maps\" will be removed; instead, specify \"virtual_alias_maps\"\n\
             /usr/sbin/postconf: warning: See https://www.postfix.org/DEPRECATION_README.html for details\n",
        );
    } else {
        quiet_and_native(with_lines(b"", legacy));
    }
}

/// `$name` in an `-o` value makes the name used in that entry when the
/// entry sets it, else in main.cf; a `$name` in main.cf makes an `-o`
/// setting used.
#[test]
fn user_parameter_used_in_master_cf_is_quiet() {
    quiet_and_native(with_lines(
        b"submission inet n - y - - smtpd\n  \
          -o smtpd_recipient_restrictions=$submission_recipient_restrictions\n  \
          -o mua_helo=permit -o smtpd_helo_restrictions=$mua_helo\n  \
          -o smtpd_client_restrictions=$from_main\n",
        "submission_recipient_restrictions = permit_sasl_authenticated, reject\n\
         mua_helo = reject\n\
         smtpd_data_restrictions = $mua_helo\n\
         from_main = permit\n",
    ));
}

/// A user-defined name nothing refers to is unused, in main.cf and in an
/// `-o`; a name that only master.cf refers to in another entry, too.
#[test]
fn user_parameter_unused_warns() {
    warns(
        with_lines(b"", "zz_nobody_uses_this = 1\n"),
        &main_cf_unused("zz_nobody_uses_this=1"),
    );
    warns(
        with_master_cf(
            b"a1 inet n - y - - smtpd -o mine=1\n\
              a2 inet n - y - - smtpd -o smtpd_banner=$mine -o mine=2\n",
        ),
        "/usr/sbin/postconf: warning: /etc/postfix-a/master.cf: unused parameter: mine=1\n",
    );
}

/// smtpd_restriction_classes makes its names used (rule 18).
#[test]
fn restriction_class_is_used() {
    quiet_and_native(with_lines(
        b"",
        "smtpd_restriction_classes = from_local, strict\n\
         from_local = check_sender_access hash:/etc/postfix-a/local_senders, reject\n\
         strict = reject_unknown_sender_domain\n",
    ));
}

/// A class that nothing sets is an undefined parameter.
#[test]
fn restriction_class_without_a_value_warns() {
    warns(
        with_lines(b"", "smtpd_restriction_classes = nosuchclass\n"),
        "/usr/sbin/postconf: warning: /etc/postfix-a/main.cf: undefined parameter: nosuchclass\n",
    );
}

/// ... in every master.cf entry too, and an `-o` list of classes makes
/// the entry's settings used.
#[test]
fn restriction_class_of_main_cf_is_used_in_master_cf() {
    quiet_and_native(with_lines(
        b"s1 inet n - y - - smtpd -o strict=permit\n\
          s2 inet n - y - - smtpd -o smtpd_restriction_classes=loose -o loose=permit\n",
        "smtpd_restriction_classes = strict\nstrict = reject\n",
    ));
}

/// `{...}` words (rule 15): whole words are quiet, in a value and in an
/// inline table, in main.cf and in `-o`.
#[test]
fn braces_in_a_value_are_quiet_when_whole_words() {
    quiet_and_native(with_lines(
        b"sub inet n - y - - smtpd -o milter_connect_macros={client_addr},{client_name}\n",
        "milter_mail_macros = i {mail_addr} {client_addr} {client_name} {auth_authen}\n\
         smtpd_milters = inet:127.0.0.1:11332\n",
    ));
}

/// An inline table, with its entries in braces.
#[test]
fn inline_table_in_main_cf_is_quiet() {
    quiet_and_native(with_lines(
        b"",
        "virtual_alias_maps = inline:{ {postmaster@example.test = root}, {abuse@example.test=root} }\n\
         smtpd_sender_restrictions = check_sender_access inline:{{a@example.test = OK}}\n",
    ));
}

/// A word with text after its `}`.
#[test]
fn brace_with_text_after_it_warns() {
    warns(
        with_lines(b"", "html_directory = {a}b\n"),
        &main_cf_warning("syntax error after '}' in \"{a}b\""),
    );
}

/// Database client files (rule 16), as the projects that use them write
/// them: mysql, pgsql, sqlite, ldap, memcache, all quiet.
const CLIENT_FILES: &str = "mkdir -p /etc/postfix-a/sql\n\
     printf 'hosts = 127.0.0.1\\nuser = mail\\npassword = secret\\ndbname = mail\\nquery = SELECT goto FROM alias WHERE address=%%s\\n' > /etc/postfix-a/sql/mysql.cf\n\
     printf 'hosts = localhost\\nuser = mail\\npassword = secret\\ndbname = mail\\nquery = SELECT 1 FROM domains WHERE name=%%s\\n' > /etc/postfix-a/sql/pgsql.cf\n\
     printf 'dbpath = /var/lib/mail.sqlite\\nquery = SELECT 1 FROM users WHERE email=%%s\\n' > /etc/postfix-a/sql/sqlite.cf\n\
     printf 'server_host = ldap://127.0.0.1\\nsearch_base = dc=example,dc=test\\nquery_filter = (mail=%%s)\\nresult_attribute = mail\\nbind = no\\n' > /etc/postfix-a/sql/ldap.cf\n\
     printf 'memcache = inet:127.0.0.1:11211\\nkey_format = %%s\\nttl = 60\\n' > /etc/postfix-a/sql/memcache.cf\n";

/// Every client type, through proxy: and in an `-o`.
#[test]
fn database_client_file_valid_is_quiet() {
    quiet_and_native(
        with_lines(
            b"sub inet n - y - - smtpd -o smtpd_sender_login_maps=proxy:pgsql:/etc/postfix-a/sql/pgsql.cf\n",
            "virtual_alias_maps = proxy:mysql:/etc/postfix-a/sql/mysql.cf, sqlite:/etc/postfix-a/sql/sqlite.cf\n\
             virtual_mailbox_domains = proxy:pgsql:/etc/postfix-a/sql/pgsql.cf\n\
             relay_recipient_maps = ldap:/etc/postfix-a/sql/ldap.cf\n\
             address_verify_map = memcache:/etc/postfix-a/sql/memcache.cf\n\
             proxy_read_maps = $virtual_alias_maps $virtual_mailbox_domains\n",
        )
        .setup(CLIENT_FILES),
    );
}

/// A missing client file: one warning however often it is named.
#[test]
fn database_client_file_missing_warns() {
    warns(
        with_lines(
            b"",
            "virtual_alias_maps = proxy:mysql:/etc/postfix-a/none.cf\n\
             proxy_read_maps = $virtual_alias_maps\n",
        ),
        "/usr/sbin/postconf: warning: open \"mysql\" configuration \"/etc/postfix-a/none.cf\": No such file or directory\n",
    );
}

/// A name the client does not know.
#[test]
fn database_client_file_unknown_name_warns() {
    warns(
        with_lines(
            b"",
            "virtual_alias_maps = sqlite:/etc/postfix-a/sql/sqlite.cf\n",
        )
        .setup(CLIENT_FILES)
        .setup("echo 'bogus = 1' >> /etc/postfix-a/sql/sqlite.cf"),
        "/usr/sbin/postconf: warning: sqlite:/etc/postfix-a/sql/sqlite.cf: unused parameter: bogus=1\n",
    );
}

/// A name added in a later release: mysql's charset is known from 3.10 on.
#[test]
fn database_client_names_are_the_releases() {
    let warning = if reference_at_least(3, 10) {
        String::new()
    } else {
        "/usr/sbin/postconf: warning: mysql:/etc/postfix-a/sql/mysql.cf: unused parameter: charset=utf8mb4\n"
            .to_string()
    };
    let sc = with_lines(
        b"",
        "virtual_alias_maps = mysql:/etc/postfix-a/sql/mysql.cf\n",
    )
    .setup(CLIENT_FILES)
    .setup("echo 'charset = utf8mb4' >> /etc/postfix-a/sql/mysql.cf");
    if warning.is_empty() {
        quiet_and_native(sc);
    } else {
        warns(sc, &warning);
    }
}

/// The legacy form `type:prefix` makes `prefix_suffix` used (rule 17),
/// with the release's suffixes.
#[test]
fn legacy_database_prefix_parameters_are_used() {
    quiet_and_native(with_lines(
        b"",
        "relay_recipient_maps = ldap:ldapsource\n\
         ldapsource_server_host = ldap.example.test\n\
         ldapsource_search_base = dc=example,dc=test\n",
    ));
    let sc = with_lines(
        b"",
        "virtual_alias_maps = mysql:legacy\nlegacy_charset = utf8\n",
    );
    if reference_at_least(3, 10) {
        quiet_and_native(sc);
    } else {
        warns(sc, &main_cf_unused("legacy_charset=utf8"));
    }
}

/// What postconf checks in main.cf is not checked in an `-o` (rule 20).
#[test]
fn checked_parameters_in_master_cf_are_not_checked() {
    quiet_and_native(with_master_cf(
        b"sub inet n - y - - smtpd -o mynetworks_style=host -o mynetworks=127.0.0.0/8\n  \
          -o inet_protocols=ipv4 -o inet_interfaces=192.0.2.99 -o smtpd_client_restrictions=permit_mynetworks,reject\n",
    ));
}

/// mynetworks computed by postconf, in a plain list (rule 21).
#[test]
fn computed_mynetworks_in_a_plain_list() {
    quiet_and_native(
        with_lines(
            b"",
            "proxy_read_maps = $local_recipient_maps $mynetworks $virtual_alias_maps\n",
        )
        .setup("sed -i '/^mynetworks/d' /etc/postfix-a/main.cf"),
    );
}

/// Deprecated parameters (rule 19): none on 3.7; the old TLS switches from
/// 3.9 on; more from 3.11 on, which also points to DEPRECATION_README.
#[test]
fn deprecated_parameter_warns() {
    let deprecated = |setting: &str, name: &str, instead: &str, from_3_11: bool| {
        let sc = with_lines(b"", setting);
        let warned = reference_at_least(3, 11) || (reference_at_least(3, 10) && !from_3_11);
        if !warned {
            return quiet_and_native(sc);
        }
        let mut warning = format!(
            "/usr/sbin/postconf: warning: /etc/postfix-a/main.cf: support for parameter \"{name}\" will be removed; instead, specify \"{instead}\"\n"
        );
        if reference_at_least(3, 11) {
            warning.push_str(
                "/usr/sbin/postconf: warning: See https://www.postfix.org/DEPRECATION_README.html for details\n",
            );
        }
        warns_natively(sc, &warning);
    };
    deprecated(
        "smtpd_use_tls = yes\n",
        "smtpd_use_tls",
        "smtpd_tls_security_level",
        false,
    );
    deprecated(
        "fallback_relay = [relay.example.test]\n",
        "fallback_relay",
        "smtp_fallback_relay",
        true,
    );
    // Several, with an unused name: in postconf's hash order, which from
    // 3.10 on changes from run to run (compared as a multiset).
    let sc = with_lines(
        b"",
        "smtpd_use_tls = yes\nsmtpd_tls_eecdh_grade = strong\nzz_unused = 1\n",
    )
    .normalize(sort_postconf_warning_runs);
    if reference_at_least(3, 10) {
        let mut lines = vec![
            "/usr/sbin/postconf: warning: /etc/postfix-a/main.cf: support for parameter \"smtpd_use_tls\" will be removed; instead, specify \"smtpd_tls_security_level\"\n",
            "/usr/sbin/postconf: warning: /etc/postfix-a/main.cf: support for parameter \"smtpd_tls_eecdh_grade\" will be removed; instead, do not specify (leave at default)\n",
            "/usr/sbin/postconf: warning: /etc/postfix-a/main.cf: unused parameter: zz_unused=1\n",
        ];
        if reference_at_least(3, 11) {
            lines.push("/usr/sbin/postconf: warning: See https://www.postfix.org/DEPRECATION_README.html for details\n");
        }
        lines.sort();
        warns_natively(sc, &lines.concat());
    } else {
        warns(sc, &main_cf_unused("zz_unused=1"));
    }
}

/// postconf warns (`warnings`, exactly) about postfix-a, and ours prints the
/// same without running postconf for it (rule 22).
#[track_caller]
fn warns_natively(sc: Scenario, warnings: &str) {
    warns(sc.clone(), warnings);
    let out = sc.setup(COUNTING_POSTCONF).run_shell_ours(LIST_AND_COUNT);
    out.assert_status(0);
    out.assert_stdout(format!("{P}{A}{B}exit 0\n"));
}

/// One unused name in main.cf and one in a master.cf entry (GrapheneOS's
/// configuration on 3.7): main.cf's first, then master.cf's.
#[test]
fn unused_parameter_warnings_are_postconfs() {
    warns_natively(
        with_lines(
            b"sub inet n - y - - smtpd -o zz_hide_session=yes\n",
            "zz_prefix_length = 64\n",
        ),
        "/usr/sbin/postconf: warning: /etc/postfix-a/main.cf: unused parameter: zz_prefix_length=64\n\
         /usr/sbin/postconf: warning: /etc/postfix-a/master.cf: unused parameter: zz_hide_session=yes\n",
    );
    // Two entries of one name space: the warning once per entry.
    warns_natively(
        with_master_cf(b"relay unix - - y - - smtp -o zz_one=1\nrelay unix - - y - - smtp\n"),
        &"/usr/sbin/postconf: warning: /etc/postfix-a/master.cf: unused parameter: zz_one=1\n"
            .repeat(2),
    );
    // ... but only from the first entry with a setting on (fuzz.rs).
    warns_natively(
        with_master_cf(b"relay unix - - y - - smtp\nrelay unix - - y - - smtp -o zz_one=1\n"),
        "/usr/sbin/postconf: warning: /etc/postfix-a/master.cf: unused parameter: zz_one=1\n",
    );
    // Two in main.cf: in postconf's hash order (from 3.10 on it varies from
    // run to run), so postconf prints them; compared as a multiset.
    with_lines(b"", "zz_a = 1\nzz_b = 2\n")
        .normalize(sort_postconf_warning_runs)
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stderr_line(
            "/usr/sbin/postconf: warning: /etc/postfix-a/main.cf: unused parameter: zz_a=1",
        )
        .assert_stderr_line(
            "/usr/sbin/postconf: warning: /etc/postfix-a/main.cf: unused parameter: zz_b=2",
        );
}

/// A value set twice, with another value (Debian unstable's main.cf.dist
/// sets inet_protocols at lines 97 and 703).
#[test]
fn repeated_parameter_warning_is_postconfs() {
    let lines = "smtpd_helo_required = no\nsmtpd_helo_required = yes\n";
    let sc = with_lines(b"", lines);
    let out = sc.clone().run(&["-l"]);
    let warning = out.reference.stderr.clone();
    let text = String::from_utf8_lossy(&warning).into_owned();
    out.assert_same()
        .assert_status(0)
        .assert_stdout(format!("{P}{A}{B}"));
    assert!(
        text.starts_with("/usr/sbin/postconf: warning: /etc/postfix-a/main.cf, line ")
            && text.ends_with(": overriding earlier entry: smtpd_helo_required=no\n")
            && text.lines().count() == 1,
        "the reference's warning: {text:?}"
    );
    warns_natively(sc, &text);
}

// --- The real-world configurations of ../shared/realworld -------------------

/// What a database client file of each type holds in the real-world run, as
/// the projects that use them write it.
fn client_file(db_type: &str) -> &'static str {
    match db_type {
        "mysql" | "pgsql" => "hosts = 127.0.0.1\nuser = mail\npassword = secret\ndbname = mail\nquery = SELECT goto FROM alias WHERE address='%s'\n",
        "sqlite" => "dbpath = /home/user-data/mail/users.sqlite\nquery = SELECT 1 FROM users WHERE email='%s'\n",
        "ldap" => "server_host = ldap://127.0.0.1\nsearch_base = dc=example,dc=test\nquery_filter = (mail=%s)\nresult_attribute = mail\n",
        _ => "memcache = inet:127.0.0.1:11211\n",
    }
}

/// The client files TEXT names: (type, absolute path).
fn client_files_named(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || ",={}".contains(c)) {
        let mut rest = word;
        while let Some(r) = rest.strip_prefix("proxy:") {
            rest = r;
        }
        for db in ["mysql", "pgsql", "sqlite", "ldap", "memcache"] {
            if let Some(path) = rest.strip_prefix(db).and_then(|r| r.strip_prefix(':')) {
                if path.starts_with('/') {
                    found.push((db.to_string(), path.to_string()));
                }
            }
        }
    }
    found
}

/// Each configuration of REALWORLD_DIR (default: `shared/realworld` beside
/// the repository; read, never copied into it) as postfix-a, with its
/// database client files: the same `-l`, stdout and stderr, as Debian's
/// postmulti, and (`native`) answered without postconf.  Opt-in, as the
/// corpus is not part of the repository:
///
///     REALWORLD_DIR=/path cargo test --test postconf_rules realworld -- --ignored
#[test]
#[ignore]
fn realworld_configurations_side_by_side() {
    let dir = std::env::var("REALWORLD_DIR")
        .unwrap_or_else(|_| format!("{}/../shared/realworld", env!("CARGO_MANIFEST_DIR")));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e} (set REALWORLD_DIR)"))
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("main.cf").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "{dir}: no configurations");
    let private = [
        "queue_directory",
        "data_directory",
        "multi_instance_name",
        "multi_instance_group",
        "multi_instance_enable",
    ];
    for name in names {
        let read = |f: &str| std::fs::read_to_string(format!("{dir}/{name}/{f}")).unwrap();
        let (main, master) = (read("main.cf"), read("master.cf"));
        // Without its own private settings (and their continuation lines).
        let mut kept = String::new();
        let mut skipping = false;
        for line in main.lines() {
            let continued = line.starts_with([' ', '\t']);
            if continued && skipping {
                continue;
            }
            let key = line.split('=').next().unwrap_or("").trim();
            skipping = !continued && line.contains('=') && private.contains(&key);
            if !skipping {
                kept.push_str(line);
                kept.push('\n');
            }
        }
        kept.push_str(
            "queue_directory = /var/spool/postfix-a\ndata_directory = /var/lib/postfix-a\n\
             multi_instance_name = postfix-a\nmulti_instance_group = g1\n\
             multi_instance_enable = no\n",
        );
        let mut sc = Scenario::two_secondaries()
            .file("/etc/postfix-a/main.cf", kept)
            .file("/etc/postfix-a/master.cf", master.clone());
        for (db, path) in client_files_named(&format!("{main}\n{master}")) {
            sc = sc.file(&path, client_file(&db));
        }
        eprintln!("realworld: {name}");
        // postconf's warnings in its hash order: a multiset.
        let sc = sc.normalize(sort_postconf_warning_runs);
        let compared = sc.clone().run(&["-l"]);
        let warnings = String::from_utf8_lossy(&compared.reference.stderr).into_owned();
        compared
            .assert_same()
            .assert_status(0)
            .assert_stdout(format!("{P}{A}{B}"));
        let out = sc.setup(COUNTING_POSTCONF).run_shell_ours(LIST_AND_COUNT);
        out.assert_status(0);
        let calls = String::from_utf8_lossy(&out.stdout).into_owned();
        eprintln!(
            "realworld: {name}: {} ({})",
            if calls.contains("postconf -xc /etc/postfix-a") {
                "postconf"
            } else {
                "native"
            },
            if warnings.is_empty() {
                "quiet"
            } else {
                "warnings"
            }
        );
    }
}
