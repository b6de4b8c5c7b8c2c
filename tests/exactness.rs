//! Exactness of the native secondary-instance reader at scale.
//!
//! A seeded generator writes a corpus of instance directories (main.cf and
//! usually master.cf) full of what real and broken configurations contain:
//! continuation lines, comments between them, white space in odd places,
//! nested and conditional expansions, unknown and undefined names, built-in
//! defaults, yes/no in any case, missing and repeated parameters, CR, tabs,
//! vertical tabs, bytes that are not UTF-8, self-references, syntax errors,
//! parameters that postconf validates, database client configurations, odd
//! master.cf entries, and postconf's name space (`NAME_SPACE`): service,
//! user-defined, legacy and deprecated parameters, restriction classes,
//! braces, database client files (valid, unknown names, missing) and
//! legacy `type:prefix` names.  For every directory it runs what upstream postmulti
//! runs,
//!
//!     postconf -xc DIR queue_directory data_directory multi_instance_name \
//!         multi_instance_group multi_instance_enable
//!
//! and asks `postmulti::native::native_answer(DIR)`.  Whenever it answers,
//! postconf must have printed exactly its stdout, on stderr exactly its
//! warnings (none, or those the reader mirrors: a value set twice, an
//! unused parameter), and exited 0; otherwise postmulti would behave
//! differently from upstream.
//! (When native() declines, postmulti runs that very postconf command, so
//! there is nothing to compare.)  A good share of the corpus must be answered
//! natively, or the test would prove nothing.
//!
//! No sandbox is needed: `postconf -c DIR` reads DIR and nothing it writes.
//! Everything is written under one TempDir.  Needs Debian's postfix
//! (`/usr/sbin/postconf`), as the rest of the suite does.  With
//! POSTMULTI_REFERENCE=RELEASE, postconf, the stock master.cf and the
//! native reader's table of parameters are that release's
//! (`reference_postconf`: its postconf chrooted in its root), so `.ci/run`
//! runs this file against 3.7, 3.10 and 3.11.
//!
//! The corpus is a function of the seed and of the reference's Postfix (its
//! master.cf and built-in parameter names).  EXACTNESS_SEED=n picks another
//! corpus, EXACTNESS_CASES=n its size; EXACTNESS_KEEP=1 keeps the corpus
//! directory (its path is printed; each case's ingredients are in its
//! case.txt); EXACTNESS_STATS=1 prints, per ingredient, how often it was
//! drawn, answered natively and answered wrongly; EXACTNESS_DECLINED=clean
//! (or single, messy) lists the directories of that class native() declined;
//! and `EXACTNESS_DIR=/some/dir cargo test --test exactness one_directory --
//! --ignored --nocapture` compares a single directory.  Run with
//! `-- --nocapture` to see the counts.

mod builtins;
use builtins::braced_builtins;

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

mod addresses;
mod common;
mod reference_postconf;
use reference_postconf::{
    postconf as postconf_command, use_reference_table, warnings_of, POSTCONF,
};
mod splitmix;
use splitmix::env_number;

const REQUESTED: [&str; 5] = [
    "queue_directory",
    "data_directory",
    "multi_instance_name",
    "multi_instance_group",
    "multi_instance_enable",
];
const DEFAULT_SEED: u64 = 0x5eed_2024_0d1f_f00d;
const DEFAULT_CASES: usize = 800;
/// At least this share of the corpus must be answered natively, or the test
/// proves too little.  The corpus is hostile on purpose: about half of it
/// makes postconf warn or fail, and the reader (rightly) hands that half and
/// a margin of doubtful files ($$, braces in a value or its expansion,
/// validated parameters...) to postconf.  Seen: 21% of all files, 41% of
/// those on which postconf is quiet and successful.  Instances made by `postmulti -e create` are all
/// read natively (tests/bench/scale.sh checks that no postconf runs).
const MIN_NATIVE_PERCENT: usize = 20;

// ---------------------------------------------------------------------------
// Deterministic randomness (xorshift64*): no crates, same corpus everywhere.
// ---------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True with probability pct/100.
    fn chance(&mut self, pct: usize) -> bool {
        self.below(100) < pct
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------
// The pieces configurations are made of.
// ---------------------------------------------------------------------------

/// `{i}` in a template becomes the case number.
fn fill(template: &[u8], i: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.windows(3).position(|w| w == b"{i}") {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(i.to_string().as_bytes());
        rest = &rest[at + 3..];
    }
    out.extend_from_slice(rest);
    out
}

/// Values of queue_directory / data_directory that need only what native()
/// knows (the file itself and the defaults recorded at build time).
const CLEAN_DIRS: &[&[u8]] = &[
    b"/var/spool/postfix-{i}",
    b"/var/spool/$multi_instance_name",
    b"/var/spool/${multi_instance_name}",
    b"/var/spool/$(multi_instance_name)",
    b"/var/spool/${multi_instance_name?{$multi_instance_name}:{postfix}}",
    b"/var/spool/${multi_instance_name?$multi_instance_name}",
    b"/var/spool/${multi_instance_group:nogroup}-{i}",
    b"/var/spool/${multi_instance_group?{g-$multi_instance_group}:{none}}",
    b"${{$multi_instance_enable} == {yes}?{/srv/on-{i}}:{/srv/off-{i}}}",
    b"${{$mail_name}!={Postfix}?{/a}:{/b}}/{i}",
    b"$config_directory/queue",
    b"${config_directory}/../spool-{i}",
    b"/q/$mail_name/$mail_owner/$setgid_group/{i}",
    b"/q/$$literal/{i}",
    b"/q/$$$mail_name/{i}",
    b"/q/${mail_name?${mail_owner?{$$x}}:no}/{i}",
    b"$sample_directory/q{i}",
    b"$html_directory/$readme_directory/{i}",
    b"/q/${syslog_facility}/${syslog_name}/{i}",
    b"/q/${data_directory}/nested/{i}",
    b"/q/$command_directory$daemon_directory$meta_directory$shlib_directory",
    b"/q/$postmulti_stop_commands",
    b"/q/$import_environment",
    b"/q/caf\xe9/\xff\xfe/{i}",
    b"/q/with  two\tspaces/{i}",
    b"/q/tab\t\there/{i}",
    b"/q/vt\x0bff\x0c/{i}",
    b"  /q/padded{i}  ",
    b"/q/x}y{z/{i}",
    b"/q/a?b:c/{i}",
    b"/q/${mail_name}}{i}",
    b"/q/${mail_name?\x0b{vt}}/{i}",
    b"/q/${mail_name?{a}\x0c:{b}}/{i}",
    b"/q/${mail_name?\r{cr}:\t{tab}}/{i}",
    b"/q/back\\slash/\"quoted\"/'single'/{i}",
    b"",
];

/// Values that need something only postconf knows, or is wrong.
const HARD_DIRS: &[&[u8]] = &[
    b"/var/spool/$myhostname",
    b"/var/spool/${mydomain}/{i}",
    b"/q/$process_name",
    b"/q/$process_id",
    b"/q/$mail_version",
    b"/q/${mail_release_date}",
    b"/q/$mynetworks",
    b"/q/$myorigin/{i}",
    b"/q/$inet_interfaces",
    b"/q/$undefined_thing/{i}",
    b"/q/${undefined_thing:fallback}/{i}",
    b"/q/${undefined_thing?set}/{i}",
    b"/q/$my_own/{i}",
    b"/q/$queue_directory",
    b"/q/${data_directory}",
    b"/q/${a",
    b"/q/$",
    b"/q/${}",
    b"/q/${a b}",
    b"/q/${mail_name?{x}:{y}z}",
    b"/q/${mail_name?{x}y}",
    b"/q/${{x} = {y}}",
    b"/q/${{1} < {2}?{lt}:{ge}}",
    b"/q/${{$mail_name} == {Postfix}}/{i}",
    b"/q/${{a}=={a}}{i}",
    b"/q/${{a}=={a}?x}",
    b"/q/$(mail_name",
    b"/q/$-x/{i}",
    b"/q/x$/{i}",
    b"/q/$1/{i}",
    b"/var/spool/${ multi_instance_group ? { g } : { none } }x{i}",
    b"/q/${ mail_name }/{i}",
];

const CLEAN_NAMES: &[&[u8]] = &[
    b"postfix-{i}",
    b"postfix-{i}",
    b"postfix-{i}",
    b"postfix-n{i}\xe9",
    b"postfix-$mail_owner-{i}",
    b"${mail_name}-{i}",
    b"postfix-${multi_instance_group:solo}-{i}",
    b"post$$fix-{i}",
    b"postfix- {i}",
    b"-",
    b"",
    b"x{i}",
];

const CLEAN_GROUPS: &[&[u8]] = &[
    b"mta",
    b"mta",
    b"msa",
    b"g{i}",
    b"",
    b"gr\xe9\xff",
    b"a,b",
    b"${multi_instance_name?{grp}:{none}}",
    b"$mail_name",
    b"  spaced \t group ",
];

const CLEAN_ENABLES: &[&[u8]] = &[
    b"yes",
    b"no",
    b"yes",
    b"no",
    b"YES",
    b"NO",
    b"Yes",
    b"No",
    b"yEs",
    b"nO",
    b"true",
    b"1",
    b"",
    b"yes no",
    b"y",
    b"${multi_instance_name?yes:no}",
    b"${multi_instance_name?{yes}:{no}}",
    b"${{$multi_instance_group} == {mta}?{YES}:{no}}",
    b"\x0byes",
    b"yes\x0c",
    b"ye\xffs",
];

const HARD_VALUES: &[&[u8]] = &[
    b"$myhostname",
    b"${process_name}",
    b"$undefined_thing",
    b"${undefined_thing:yes}",
    b"$my_own",
    b"$multi_instance_name",
    b"${",
    b"$multi_instance_enable",
    b"$biff",
];

/// Settings of other built-in parameters that native() may accept, as real
/// configurations have them.
const FILLER: &[(&[u8], &[u8])] = &[
    (b"smtpd_banner", b"$myhostname ESMTP $mail_name (Debian/GNU)"),
    (b"biff", b"no"),
    (b"append_dot_mydomain", b"no"),
    (b"readme_directory", b"no"),
    (b"compatibility_level", b"3.6"),
    (b"compatibility_level", b"3.7"),
    (b"compatibility_level", b"2"),
    (b"compatibility_level", b"3.1023.1023"),
    (b"compatibility_level", b"8796093022207"),
    (b"compatibility_level", b"0"),
    (b"compatibility_level", b"03.06"),
    (b"html_directory", b"/h/${myhostname?{$myhostname}:{none}}/$mydomain"),
    (b"html_directory", b"/h/${{$process_name} == {postconf}?{pc}:{other}}/$process_id"),
    (b"smtpd_tls_cert_file", b"/etc/ssl/certs/ssl-cert-snakeoil.pem"),
    (b"smtpd_tls_key_file", b"/etc/ssl/private/ssl-cert-snakeoil.key"),
    (b"smtpd_tls_security_level", b"may"),
    (b"smtp_tls_CApath", b"/etc/ssl/certs"),
    (b"smtp_tls_session_cache_database", b"btree:${data_directory}/smtp_scache"),
    (b"smtpd_relay_restrictions", b"permit_mynetworks permit_sasl_authenticated defer_unauth_destination"),
    (b"alias_maps", b"hash:/etc/aliases"),
    (b"alias_database", b"hash:/etc/aliases"),
    (b"mydestination", b"$myhostname, localhost.localdomain, localhost"),
    (b"relayhost", b""),
    (b"mynetworks", b"127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128"),
    (b"mailbox_size_limit", b"0"),
    (b"recipient_delimiter", b"+"),
    (b"inet_interfaces", b"loopback-only"),
    (b"inet_protocols", b"ipv4"),
    (b"inet_protocols", b"all"),
    (b"master_service_disable", b"inet"),
    (b"authorized_submit_users", b""),
    (b"unknown_local_recipient_reject_code", b"550"),
    (
        b"debugger_command",
        b"PATH=/bin:/usr/bin:/usr/local/bin:/usr/X11R6/bin ddd $daemon_directory/$process_name $process_id & sleep 5",
    ),
    (b"myhostname", b"host{i}.example"),
    (b"mydomain", b"example.org"),
    (b"myorigin", b"$mydomain"),
    (b"mail_owner", b"postfix"),
    (b"setgid_group", b"postdrop"),
    (b"syslog_name", b"postfix-{i}"),
    (b"syslog_name", b"${multi_instance_name?{$multi_instance_name}:{postfix}}"),
    (b"meta_directory", b"/etc/postfix"),
    (b"shlib_directory", b"/usr/lib/postfix"),
    (b"mail_version", b"9.9.{i}"),
    (b"mail_name", b"Mailer{i}"),
    (b"html_directory", b"/usr/share/doc/postfix/html"),
    (b"sample_directory", b"/etc/postfix/sample{i}"),
    (b"smtpd_banner", b"caf\xe9 \xff $myhostname"),
    (b"smtpd_banner", b"${{$mail_name} == {Postfix}?{ESMTP}:{SMTP}} $$ok"),
    (b"header_checks", b"regexp:/etc/postfix/header_checks"),
    (b"transport_maps", b"hash:/etc/postfix/transport"),
    (b"virtual_alias_maps", b"hash:/etc/postfix/virtual, regexp:/etc/postfix/virtual.re"),
    (b"message_size_limit", b"10240000"),
    (b"maximal_queue_lifetime", b"5d"),
    (b"smtputf8_enable", b"no"),
    (b"smtputf8_enable", b"yes"),
    (b"notify_classes", b"resource, software"),
    (b"default_transport", b"smtp"),
    (b"relayhost", b"[mail.example.com]:587"),
    (b"import_environment", b"MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C"),
    (b"command_directory", b"/usr/sbin"),
    (b"daemon_directory", b"/usr/lib/postfix/sbin"),
    (b"multi_instance_wrapper", b"${command_directory}/postmulti -p --"),
    (b"multi_instance_directories", b""),
    (b"postmulti_start_commands", b"start"),
];

/// Lines that are wrong, or that postconf has something to say about.
/// Raw main.cf text (one or more lines, each ending in \n).
const HAZARDS: &[&[u8]] = &[
    // names that are not built-in parameters
    b"foo_{i} = 1\n",
    b"my_own = /srv/{i}\n",
    b"my_own = /srv/{i}\nrelayhost = $my_own\n",
    b"smtpd_restriction_classes = cls{i}\ncls{i} = permit\n",
    b"virtual_alias_maps = ldap:ldapsrc\nldapsrc_server_host = ldap.example\n",
    b"caf\xe9 = 1\n",
    // undefined references
    b"relayhost = $undefined_{i}\n",
    b"relayhost = ${undefined_{i}:x}\n",
    b"smtpd_banner = ${undefined?{$x}:{y}}\n",
    // syntax errors
    b"garbage line {i}\n",
    b"= value\n",
    b"two words = 1\n",
    b"relayhost = ${a\n",
    b"relayhost = $\n",
    b"relayhost = ${a b}\n",
    b"relayhost = ${{x} = {y}}\n",
    b"relayhost = ${mail_name?{x}:{y} z}\n",
    b"relayhost = $(mail_name\n",
    b"relayhost = ${{1} < {2}?{lt}:{ge}}\n",
    // self and mutual references
    b"relayhost = $relayhost\n",
    b"relayhost = ${relayhost?x}\n",
    b"relayhost = $fallback_relay\nfallback_relay = $relayhost\n",
    b"smtpd_banner = $smtpd_banner x\n",
    // parameters postconf will not let a file set
    b"process_name = x{i}\n",
    b"process_id = {i}\n",
    b"config_directory = /elsewhere/{i}\n",
    // values postconf validates
    b"compatibility_level = bogus\n",
    b"compatibility_level = 3..6\n",
    b"compatibility_level = ${undefined:9}\n",
    b"compatibility_level = 3.6.x\n",
    b"compatibility_level = 3.1024\n",
    b"compatibility_level = 3.6.1024\n",
    b"compatibility_level = 99999999999999\n",
    b"compatibility_level = 8796093022208\n",
    b"compatibility_level = 3.\n",
    b"compatibility_level = +3\n",
    // computed values in conditionals
    b"html_directory = ${myhostname?{{a}b}:{c}}\n",
    b"html_directory = ${{$mydomain} == {localdomain}?{{a}b}:{c}}\n",
    b"html_directory = ${{$process_name} == {postconf}?{{a}b}:{c}}\n",
    b"html_directory = ${process_id?{{a}b}:{c}}\n",
    b"html_directory = ${{$process_id} > {0}?{{a}b}:{c}}\n",
    b"html_directory = ${mynetworks?{{a}b}:{c}}\n",
    b"html_directory = ${service_name?{{a}b}:{c}}\n",
    b"mydomain = $mail_name.org\nhtml_directory = ${{$myhostname}=={x}?{{a}b}}\n",
    b"default_privs = $default_privs\n",
    b"relayhost = ${relayhost?{x}}\n",
    b"inet_protocols = bogus\n",
    b"inet_protocols = ipv4, ipv7\n",
    b"mynetworks_style = weird\n",
    // database clients whose configuration postconf reads
    b"alias_maps = ldap:/nonexistent/ldap-{i}.cf\n",
    b"virtual_alias_maps = proxy:mysql:/nonexistent/mysql.cf\n",
    b"transport_maps = pgsql:/nonexistent/pgsql.cf\n",
    b"alias_maps = sqlite:/nonexistent/sqlite.cf\n",
    b"alias_maps = memcache:/nonexistent/memcache.cf\n",
    b"mail_name = ldap\nhtml_directory = $mail_name:/nonexistent/ldap-{i}.cf\n",
    // {} groups postconf parses in every expanded value, braces from a
    // built-in default or from a taken branch
    b"html_directory = ${milter_mail_macros}y\n",
    b"readme_directory = x${milter_connect_macros}\n",
    b"sample_directory = ${mail_name?{{x}y}}\n",
    b"html_directory = ${mail_name?{{x\n",
    // bytes postconf reads differently
    b"smtpd_banner = nul\0byte\n",
    // repeated built-in parameter
    b"biff = no\nbiff = yes\n",
    b"biff = no\nbiff = no\n",
];

/// master.cf entries appended to Debian's.
const MASTER_QUIET: &[&[u8]] = &[
    b"submission inet n       -       y       -       -       smtpd\n  -o syslog_name=postfix/submission\n  -o smtpd_tls_security_level=encrypt\n  -o smtpd_sasl_auth_enable=yes\n",
    b"relay{i}   unix  -       -       y       -       -       smtp\n        -o syslog_name=${multi_instance_name?{$multi_instance_name}:{postfix}}/relay\n",
    b"127.0.0.1:10025 inet n  -       n       -       10      smtpd\n  -o content_filter=\n  -o smtpd_client_restrictions=permit_mynetworks,reject\n",
    b"cleanup{i} unix n     -       y       -       0       cleanup\n",
    b"# a comment\n  # an indented comment\n\nfiltr  unix  -       n       n       -       2      pipe\n  flags=Rq user=nobody argv=/usr/bin/filter -f ${sender} -- ${recipient}\n",
    b"tick   unix  n       -       y       60?     1       pickup\n",
    b"sub{i} inet n - y - - smtpd -o queue_directory=/x{i} -o multi_instance_name=y{i}\n",
    // clustered and trailing options, --, odd blanks inside arguments
    b"sub{i} inet n - y - - smtpd -vo syslog_name=postfix/sub -v\n",
    b"sub{i} inet n - y - - smtpd -o syslog_name=x arg -o not_an_option=1 -v\n",
    b"sub{i} inet n - y - - smtpd -o syslog_name=x -- -o not_an_option=1\n",
    b"sub{i} inet n - y - - smtpd\x0b-o\x0bbogus=1 -v\n",
    b"sub{i} unix-dgram n - y ? 1 cmd\ntock unix n - y -? - pickup\n",
    // repeated service/type entries, one name space
    b"relay unix - - y - - smtp -o syslog_name=r1\nrelay unix - - y - - smtp -o syslog_name=r2\n",
    // computed values in conditionals, quiet ones
    b"sub{i} inet n - y - - smtpd -o smtpd_banner=${service_name?{$service_name}:{x}}\n",
    b"sub{i} inet n - y - - /a/b/smtpd -o smtpd_banner=${{$process_name}=={smtpd}?{yes}:{no}}\n",
    b"sub{i} inet n - y - - smtpd -o smtpd_banner=$myhostname/$mydomain/$process_name/$process_id\n",
];

/// master.cf entries that postconf may have something to say about.
const MASTER_ODD: &[&[u8]] = &[
    b"garbage\n",
    b"smtp unix - - y\n",
    b"smtp      inet  n       -       y       -       -       smtpd\n",
    b"sub inet n - y - - smtpd -o smtpd_client_restrictions=$mua_client_restrictions\n",
    b"sub inet n - y - - smtpd -o foo_unknown=1\n",
    b"sub inet n - y - - smtpd -o { smtpd_tls_security_level = encrypt }\n",
    b"sub inet n - y - - smtpd -osyslog_name=x\n",
    b"sub inet n - y - - smtpd -o\n",
    b"sub inet n - y - - smtpd -o syslog_name\n",
    b"sub inet n - y - - smtpd -o syslog_name=${a\n",
    b"sub inet n - y - - smtpd -o syslog_name=$undefined_x\n",
    b"sub inet n - y - - smtpd -o syslog_name=$syslog_name\n",
    b"sub bogus n - y - - smtpd\n",
    b"sub inet x - y - - smtpd\n",
    b"sub inet n - y abc - smtpd\n",
    b"sub inet n - y - -1 smtpd\n",
    b"  leading inet n - y - - smtpd\n",
    b"sub inet n - y - - smtpd\n  -o smtpd_tls_security_level=encrypt\n  -o smtpd_tls_security_level=may\n",
    b"sub inet n - y - - smtpd\0\n",
    b"sub{i} unix - - y - - smtp\n  -o sub{i}_destination_concurrency_limit=2\n",
    b"sub inet n - y - - smtpd -o process_name=x{i}\n",
    b"sub inet n - y - - smtpd\n  -o smtpd_recipient_restrictions=check_recipient_access,ldap:/nonexistent/{i}.cf\n",
    b"sub inet n - y - - smtpd -o relayhost=$relayhost\n",
    b"sub inet n - y - - smtpd -o config_directory=/x{i}\n",
    b"sub inet n - y - - smtpd -o inet_protocols=bogus\n",
    b"sub inet n - y - - smtpd -o html_directory=${milter_mail_macros}y\n",
    b"sub inet n - y - - smtpd -o mail_name=ldap -o html_directory=$mail_name:/nonexistent/{i}.cf\n",
    // \v and \f are no separators
    b"sub inet n - y -\x0b- smtpd\n",
    b"sub inet n - y - 1\x0csmtpd -v\n",
    b"sub\x0binet n - y - - smtpd\n",
    // braces group words
    b"}{ inet n - y - - smtpd\n",
    b"sub inet n - y - - smtpd -o smtpd_banner=${mail_name?}{) -o syslog_name=x\n",
    b"sub inet n - y - - smtpd}{ -o html_directory=${milter_mail_macros}y\n",
    b"sub inet n - y - - smtpd x {a}\n",
    // where options stop, clustering
    b"sub inet n - y - - smtpd -vo bogus_param=1\n",
    b"sub inet n - y - - smtpd -osyslog_name=x\n",
    b"sub inet n - y - - smtpd -ofoo=1\n",
    b"sub inet n - y - - smtpd - x\n",
    b"sub inet n - y - - smtpd -o html_directory=${{$mail_name}=={Postfix}?{{a}b}} x -o mail_name=x\n",
    b"sub inet n - y - - smtpd -o html_directory=${{$mail_name}=={Postfix}?{{a}b}} -- -o mail_name=x\n",
    // repeated service/type entries share one name space
    b"relay unix - - y - - smtp -o syslog_name=x\nrelay unix - - y - - smtp -o html_directory=${{$syslog_name}=={x}?{{a}b}}\n",
    // computed values in conditionals
    b"sub inet n - y - - smtpd -o html_directory=${service_name?{{a}b}:{c}}\n",
    b"sub inet n - y - - /a/smtpd -o html_directory=${{$process_name}=={smtpd}?{{a}b}:{c}}\n",
    b"sub inet n - y - - smtpd -o html_directory=${myhostname?{{a}b}:{c}}\n",
    b"sub inet n - y - - smtpd -o html_directory=${{$process_id}=={1}?{{a}b}:{c}}\n",
];

/// Ways of referring to such a parameter (N); some make postconf warn
/// ("syntax error after '}'"), some do not.
const BRACED_REFS: &[&[u8]] = &[
    b"$N",
    b"${N}",
    b"${N}y",
    b"x${N}",
    b"$N, x",
    b"{$N}",
    b"${N?{$N}:{none}}",
    b"${mail_name?{$N}}z",
    b"${{$N} == {x}?{a}:{b}}",
];

/// postconf's name space (issue 25): (main.cf lines, master.cf lines).
/// Per-service parameters of the instance's services, user-defined
/// parameters used or not in main.cf and master.cf, restriction classes,
/// braces, database client files (valid, with an unknown or repeated name,
/// missing, a directory: [`CLIENT_FILES`], `{dir}` being the instance's
/// directory), legacy `type:prefix` names, legacy and deprecated
/// parameters, checked parameters in `-o`, raw parameters.
const NAME_SPACE: &[(&[u8], &[u8])] = &[
    (b"relay_destination_concurrency_limit = 2\n", b""),
    (b"sub{i}_destination_recipient_limit = 1\n", b"sub{i} unix - - n - - smtp\n"),
    (b"sub{i}_time_limit = 60s\n", b"sub{i} unix - n n - - pipe user=nobody argv=/bin/true\n"),
    (b"sub{i}_destination_recipient_limit = 1\n", b"sub{i} unix - n n - - spawn user=nobody argv=/bin/true\n"),
    (b"sub{i}_destination_recipient_limit = 1\n", b"sub{i} unix - - n - - /usr/lib/postfix/sbin/smtp\n"),
    (b"html_directory = /x/$relay_transport_rate_delay\n", b""),
    (b"default_destination_concurrency_limit = $relay_destination_concurrency_limit\n", b""),
    (b"", b"sub{i} unix - - n - - lmtp -o sub{i}_destination_recipient_limit=3\n"),
    (b"u{i}_list = permit\nsmtpd_client_restrictions = $u{i}_list\n", b""),
    (b"u{i}_list = permit\n", b""),
    (b"u{i}_list = permit\n", b"sub{i} inet n - y - - smtpd -o smtpd_client_restrictions=$u{i}_list\n"),
    (b"", b"sub{i} inet n - y - - smtpd -o u{i}=permit -o smtpd_client_restrictions=$u{i}\n"),
    (b"", b"sub{i} inet n - y - - smtpd -o u{i}=permit\n"),
    (b"html_directory = $u{i}\n", b"sub{i} inet n - y - - smtpd -o u{i}=permit\n"),
    (b"html_directory = ${undefined_u{i}}\n", b""),
    (b"u{i} = 1\nhtml_directory = ${myhostname:$u{i}}\n", b""),
    (b"u{i} = $v{i}\nv{i} = 2\nhtml_directory = $u{i}\n", b""),
    (b"smtpd_restriction_classes = rc{i}, rc2\nrc{i} = permit\nrc2 = reject\n", b""),
    (b"smtpd_restriction_classes = rc{i}\nrc{i} = permit\n", b"sub{i} inet n - y - - smtpd -o rc{i}=reject\n"),
    (b"", b"sub{i} inet n - y - - smtpd -o smtpd_restriction_classes=rc{i} -o rc{i}=permit\n"),
    (b"smtpd_restriction_classes = $mail_name\nPostfix = x\n", b""),
    (b"milter_mail_macros = i {mail_addr} {client_addr}\n", b""),
    (b"virtual_alias_maps = inline:{ {a@x = b@x}, {c@x=d@x} }\n", b""),
    (b"html_directory = {a}b\n", b""),
    (b"html_directory = {a\n", b""),
    (b"html_directory = #x {y}\n", b""),
    (b"virtual_alias_maps = pcre:{{/x/ mysql:{dir}/valid-mysql.cf}}\n", b""),
    (b"virtual_alias_maps = pcre:{{/x/ mysql:{dir}/missing.cf}}\n", b""),
    (b"virtual_alias_maps = proxy:mysql:{dir}/valid-mysql.cf, sqlite:{dir}/valid-sqlite.cf\nrelay_recipient_maps = ldap:{dir}/valid-ldap.cf\n", b""),
    (b"virtual_mailbox_domains = pgsql:{dir}/valid-pgsql.cf\naddress_verify_map = memcache:{dir}/valid-memcache.cf\n", b""),
    (b"", b"sub{i} inet n - y - - smtpd -o smtpd_sender_login_maps=proxy:mysql:{dir}/valid-mysql.cf\n"),
    (b"", b"sub{i} inet n - y - - smtpd -o smtpd_sender_login_maps=proxy:mysql:{dir}/missing.cf\n"),
    (b"virtual_alias_maps = mysql:{dir}/unknown-mysql.cf\n", b""),
    (b"virtual_alias_maps = proxy:proxy:pgsql:{dir}/missing.cf\n", b""),
    (b"virtual_alias_maps = mysql:{dir}/dir.cf\n", b""),
    (b"virtual_alias_maps = mysql:{dir}/dup-mysql.cf\n", b""),
    (b"virtual_alias_maps = mysql:{dir}/charset-mysql.cf\n", b""),
    (b"virtual_alias_maps = mongodb:{dir}/valid-mongodb.cf\n", b""),
    (b"virtual_alias_maps = mongodb:{dir}/missing.cf\n", b""),
    (b"u{i} = {dir}/valid-mysql.cf\nvirtual_alias_maps = mysql:$u{i}\n", b""),
    (b"u{i} = mysql:{dir}/missing.cf\nhtml_directory = ${u{i}?x}\n", b""),
    (b"virtual_alias_maps = mysql:pfx{i}\npfx{i}_hosts = h\n", b""),
    (b"virtual_alias_maps = mysql:pfx{i}\npfx{i}_bogus = h\n", b""),
    (b"relay_recipient_maps = ldap:pfx{i}\npfx{i}_search_base = dc=x\n", b""),
    (b"virtual_alias_maps = mongodb:pfx{i}\npfx{i}_uri = x\n", b""),
    (b"u{i} = mysql:pfx{i}\nvirtual_alias_maps = $u{i}\npfx{i}_hosts = h\n", b""),
    (b"virtual_alias_maps = mysql:pfx{i}\n", b"sub{i} inet n - y - - smtpd -o pfx{i}_hosts=h\n"),
    (b"smtpd_use_tls = yes\n", b""),
    (b"fallback_relay = [relay.example]\n", b""),
    (b"virtual_maps = hash:/etc/postfix/virtual\n", b""),
    (b"authorized_verp_clients = $mynetworks\n", b""),
    (b"", b"sub{i} inet n - y - - smtpd -o mynetworks_style=host -o inet_protocols=bogus -o inet_interfaces=192.0.2.99\n"),
    (b"proxy_read_maps = $mynetworks $virtual_alias_maps\n", b""),
    (b"proxy_read_maps = ${mynetworks?$virtual_alias_maps}\n", b""),
    (b"smtpd_reject_footer = {a}b mysql:{dir}/missing.cf\n", b""),
];

/// The client files a [`NAME_SPACE`] case may name, written into its
/// directory when it does (a name ending in `/` is a directory).
const CLIENT_FILES: &[(&str, &[u8])] = &[
    ("valid-mysql.cf", b"hosts = 127.0.0.1\nuser = mail\npassword = secret\ndbname = mail\nquery = SELECT goto FROM alias WHERE address='%s'\n"),
    ("valid-pgsql.cf", b"hosts = localhost\nuser = mail\npassword = secret\ndbname = mail\nquery = SELECT 1 FROM domain WHERE domain='%s'\n"),
    ("valid-sqlite.cf", b"dbpath = /var/lib/mail.sqlite\nquery = SELECT 1 FROM users WHERE email='%s'\n"),
    ("valid-ldap.cf", b"server_host = ldap://127.0.0.1\nsearch_base = dc=example,dc=test\nquery_filter = (mail=%s)\nresult_attribute = mail\n"),
    ("valid-memcache.cf", b"memcache = inet:127.0.0.1:11211\nkey_format = %s\nttl = 60\n"),
    ("valid-mongodb.cf", b"uri = mongodb://127.0.0.1\ndbname = mail\ncollection = users\nquery_filter = {\"mail\":\"%s\"}\n"),
    ("unknown-mysql.cf", b"hosts = 127.0.0.1\nbogus = 1\n"),
    ("dup-mysql.cf", b"hosts = 127.0.0.1\nhosts = 127.0.0.2\n"),
    ("charset-mysql.cf", b"hosts = 127.0.0.1\ncharset = utf8mb4\n"),
    ("dir.cf/", b""),
];

// ---------------------------------------------------------------------------
// One generated instance directory.
// ---------------------------------------------------------------------------

#[derive(Clone)]
struct Case {
    label: String,
    /// None: no main.cf at all.
    main: Option<Vec<u8>>,
    /// None: no master.cf.
    master: Option<Vec<u8>>,
    /// Appended to the directory's path when it is handed over ("/", "//.").
    suffix: &'static str,
    /// Extra bytes in the directory's own name.
    dir_name_extra: &'static [u8],
}

struct Style {
    eol: &'static [u8],
    crlf: bool,
}

/// Renders `name = value` with odd white space, possibly folded into
/// continuation lines with comments and blank lines between them.
fn render(rng: &mut Rng, style: &Style, name: &[u8], value: &[u8], out: &mut Vec<u8>) {
    let eq: &[u8] = rng.pick(&[
        &b" = "[..],
        b" = ",
        b" = ",
        b"=",
        b" =",
        b"= ",
        b"\t=\t",
        b"  =   ",
        b" =\t ",
    ]);
    out.extend_from_slice(name);
    out.extend_from_slice(eq);
    let words: Vec<&[u8]> = value.split(|&b| b == b' ').collect();
    let fold = rng.chance(20);
    for (n, word) in words.iter().enumerate() {
        if n > 0 {
            if fold && rng.chance(60) {
                newline(style, out);
                if rng.chance(25) {
                    out.extend_from_slice(rng.pick(&[
                        &b"# a comment between continuation lines"[..],
                        b"   # an indented comment",
                        b"",
                        b" \t",
                        b"#",
                    ]));
                    newline(style, out);
                }
                out.extend_from_slice(rng.pick(&[&b" "[..], b"\t", b"  \t", b"\x0c"]));
            } else {
                out.push(b' ');
            }
        } else if fold && rng.chance(20) {
            // The whole value on the next line.
            newline(style, out);
            out.extend_from_slice(rng.pick(&[&b" "[..], b"\t"]));
        }
        out.extend_from_slice(word);
    }
    if rng.chance(10) {
        out.extend_from_slice(rng.pick(&[&b" "[..], b"\t", b" \t ", b"\r", b"\x0b"]));
    }
    newline(style, out);
}

fn newline(style: &Style, out: &mut Vec<u8>) {
    if style.crlf {
        out.push(b'\r');
    }
    out.extend_from_slice(style.eol);
}

/// What a case is made of: `clean` cases carry no hazard (though a value
/// may still need postconf), `single` ones exactly one (in main.cf or in
/// master.cf), `messy` ones several, hard values and odd master.cf entries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Clean,
    Single,
    Messy,
}

fn generate(rng: &mut Rng, i: usize, stock_master: &[u8], braced: &[&str]) -> Case {
    let class = match rng.below(100) {
        0..=59 => Class::Clean,
        60..=89 => Class::Single,
        _ => Class::Messy,
    };
    let mut label = String::from(match class {
        Class::Clean => "clean",
        Class::Single => "single",
        Class::Messy => "messy",
    });
    // A single hazard goes into main.cf or into master.cf.
    let main_hazards = match class {
        Class::Clean => 0,
        Class::Single => usize::from(rng.chance(75)),
        Class::Messy => 1 + rng.below(2),
    };
    let master_odd = match class {
        Class::Clean => false,
        Class::Single => main_hazards == 0,
        Class::Messy => rng.chance(40),
    };
    let style = Style {
        eol: if rng.chance(2) { b"\r" } else { b"\n" },
        crlf: rng.chance(8),
    };
    if style.eol == b"\r" {
        label.push_str(" cr-only");
    }
    // The five parameters: each present or missing, clean or hard.
    let hard = |rng: &mut Rng| {
        if class == Class::Messy {
            rng.chance(20)
        } else {
            rng.chance(3)
        }
    };
    let mut entries: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for param in REQUESTED {
        if rng.chance(12) {
            continue;
        }
        let value: Vec<u8> = if hard(rng) {
            label.push_str(&format!(" hard-{param}"));
            match param {
                "queue_directory" | "data_directory" => fill(rng.pick(HARD_DIRS), i),
                _ => fill(rng.pick(HARD_VALUES), i),
            }
        } else {
            let choices = match param {
                "queue_directory" | "data_directory" => CLEAN_DIRS,
                "multi_instance_name" => CLEAN_NAMES,
                "multi_instance_group" => CLEAN_GROUPS,
                _ => CLEAN_ENABLES,
            };
            let mut v = fill(rng.pick(choices), i);
            if param == "data_directory" && v.windows(15).any(|w| w == b"data_directory}") {
                v = fill(b"/var/lib/postfix-{i}", i);
            }
            v
        };
        entries.push((param.as_bytes().to_vec(), value));
    }
    // Expansion nested around Postfix's limit of 100 levels, through a
    // chain of parameters and then ${name?{...}} inside one value.
    if rng.chance(4) {
        let depth = 90 + rng.below(21);
        let maps: Vec<&str> = postmulti::defaults::table()
            .names
            .iter()
            .copied()
            .filter(|n| n.ends_with("_maps") && !entries.iter().any(|(e, _)| e == n.as_bytes()))
            .collect();
        let links = rng.below(maps.len().min(40) + 1).min(depth);
        label.push_str(&format!(" nest-{depth}-via-{links}"));
        let mut innermost = b"/nested".to_vec();
        for _ in links..depth {
            let mut v = b"${mail_name?{".to_vec();
            v.extend_from_slice(&innermost);
            v.extend_from_slice(b"}}");
            innermost = v;
        }
        let mut target = b"queue_directory".to_vec();
        entries.retain(|(n, _)| n != b"queue_directory");
        for name in maps.iter().take(links) {
            let mut v = b"$".to_vec();
            v.extend_from_slice(name.as_bytes());
            entries.push((target, v));
            target = name.as_bytes().to_vec();
        }
        entries.push((target, innermost));
    }
    // A reference to a built-in parameter whose default holds braces.
    if rng.chance(8) {
        let name = rng.pick(braced);
        let how = rng.below(BRACED_REFS.len());
        let target = rng.pick(&[
            &b"html_directory"[..],
            b"readme_directory",
            b"smtpd_banner",
            b"queue_directory",
            b"multi_instance_group",
        ]);
        label.push_str(&format!(" braced-{how} ref-{name}"));
        let mut v = Vec::new();
        for (k, part) in BRACED_REFS[how].split(|&b| b == b'N').enumerate() {
            if k > 0 {
                v.extend_from_slice(name.as_bytes());
            }
            v.extend_from_slice(part);
        }
        entries.retain(|(n, _)| n != target);
        entries.push((target.to_vec(), v));
    }
    // Other built-in parameters, each at most once.
    let fillers = rng.below(12);
    for _ in 0..fillers {
        let (name, value) = rng.pick(FILLER);
        if entries.iter().any(|(n, _)| n == name) {
            continue;
        }
        entries.push((name.to_vec(), fill(value, i)));
    }
    // postconf's name space: appended after the rest, as a hazard is.
    let name_space = rng.chance(25).then(|| {
        let k = rng.below(NAME_SPACE.len());
        label.push_str(&format!(" name-space-{k}"));
        let (main, master) = NAME_SPACE[k];
        (fill(main, i), fill(master, i))
    });
    // Interface settings: addresses on this host and elsewhere, names,
    // both families, with and without mynetworks (without it, postconf
    // checks inet_interfaces against the interfaces).
    if rng.chance(15) {
        let settings = addresses::interface_settings(&mut |n| rng.below(n));
        label.push_str(" interfaces");
        if !settings.iter().any(|(n, _)| *n == "mynetworks") {
            label.push_str("-no-mynetworks");
        }
        entries.retain(|(n, _)| n != b"mynetworks");
        for (name, value) in settings {
            entries.retain(|(n, _)| n != name.as_bytes());
            entries.push((name.as_bytes().to_vec(), value.into_bytes()));
        }
    }
    if rng.chance(5) {
        let long: Vec<u8> = (0..rng.below(6000) + 100)
            .map(|k| b"abc xyz$$"[k % 9])
            .collect();
        if !entries.iter().any(|(n, _)| n == b"smtpd_banner") {
            entries.push((b"smtpd_banner".to_vec(), long));
        }
    }
    // The hazards, chosen first so that the settings they make are not
    // also made elsewhere (a repeated name would hide them from native()).
    let kinds: Vec<usize> = (0..main_hazards)
        .map(|_| rng.below(HAZARDS.len() + 2))
        .collect();
    for &kind in &kinds {
        if let Some(text) = HAZARDS.get(kind) {
            for line in text.split(|&b| b == b'\n') {
                if let Some(eq) = line.iter().position(|&b| b == b'=') {
                    let name = &line[..eq];
                    let name = &name[..name.iter().rposition(|&b| b != b' ').map_or(0, |e| e + 1)];
                    entries.retain(|(n, _)| n != name);
                }
            }
        }
    }
    // Shuffle (Fisher-Yates).
    for k in (1..entries.len()).rev() {
        let j = rng.below(k + 1);
        entries.swap(k, j);
    }
    let mut main = Vec::new();
    if rng.chance(30) {
        main.extend_from_slice(
            b"# See /usr/share/postfix/main.cf.dist for a commented version\n\n",
        );
    }
    for (name, value) in &entries {
        if rng.chance(15) {
            main.extend_from_slice(rng.pick(&[
                &b"# comment\n"[..],
                b"\n",
                b"   \n",
                b"\t# indented comment\n",
                b"#queue_directory = /commented/out\n",
                b"\r\n",
                b"#\xff\xfe non-UTF-8 comment\n",
            ]));
        }
        render(rng, &style, name, value, &mut main);
    }
    for kind in kinds {
        if kind == HAZARDS.len() {
            label.push_str(" leading-space");
            let mut lead = rng.pick(&[&b" "[..], b"\t", b"  \t"]).to_vec();
            lead.extend_from_slice(b"biff = no\n");
            lead.extend_from_slice(&main);
            main = lead;
        } else if kind == HAZARDS.len() + 1 {
            label.push_str(" repeat");
            if let Some((name, value)) = entries.first() {
                let (name, value) = (name.clone(), value.clone());
                render(rng, &style, &name, &value, &mut main);
            }
        } else {
            label.push_str(&format!(" hazard-{kind}"));
            let text = fill(HAZARDS[kind], i);
            if rng.chance(50) || main.is_empty() {
                main.extend_from_slice(&text);
            } else {
                let mut t = text;
                t.extend_from_slice(&main);
                main = t;
            }
        }
    }
    if let Some((text, _)) = &name_space {
        main.extend_from_slice(text);
    }
    if rng.chance(4) && main.ends_with(b"\n") {
        label.push_str(" no-final-newline");
        main.pop();
        if main.ends_with(b"\r") {
            main.pop();
        }
    }
    if rng.chance(2) {
        label.push_str(" empty-main.cf");
        main.clear();
    }
    let main = if class == Class::Messy && rng.chance(5) {
        label.push_str(" no-main.cf");
        None
    } else {
        Some(main)
    };
    let mut master = if class == Class::Messy && rng.chance(20) {
        match rng.below(2) {
            0 => {
                label.push_str(" no-master.cf");
                None
            }
            _ => {
                label.push_str(" empty-master.cf");
                Some(Vec::new())
            }
        }
    } else {
        Some(stock_master.to_vec())
    };
    if let Some(m) = master.as_mut() {
        if !m.is_empty() && rng.chance(35) {
            let k = rng.below(MASTER_QUIET.len());
            label.push_str(&format!(" master-quiet-{k}"));
            m.extend_from_slice(&fill(MASTER_QUIET[k], i));
        }
        if master_odd && rng.chance(8) {
            label.push_str(" master-leading-space");
            m.splice(0..0, b"  ".iter().copied());
        } else if master_odd {
            let k = rng.below(MASTER_ODD.len());
            label.push_str(&format!(" master-odd-{k}"));
            m.extend_from_slice(&fill(MASTER_ODD[k], i));
        }
    }
    if let (Some(m), Some((_, text))) = (master.as_mut(), &name_space) {
        if !m.is_empty() {
            m.extend_from_slice(text);
        }
    }
    let suffix = rng.pick(&["", "", "", "", "", "", "/", "//", "/."]);
    let dir_name_extra: &[u8] = rng.pick(&[
        &b""[..],
        b"",
        b"",
        b"",
        b"",
        b"",
        b"",
        b" sp  ace",
        b"\xe9t\xe9",
        b"\t",
        b"\nnewline",
        b"$mail_name",
        b"${nosuch}",
        b"$$",
        b"${a",
        b" = x",
    ]);
    Case {
        label,
        main,
        master,
        suffix,
        dir_name_extra,
    }
}

/// Minimal reproducers of what the generator found, checked whatever the
/// seed: (label, main.cf, text appended to Debian's master.cf).  Each one
/// native() answered although postconf prints something else, warns or
/// fails; the last ones are their neighbours that must keep working.
fn known_cases() -> Vec<(&'static str, Vec<u8>, &'static [u8])> {
    // ${mail_name?{...}} nested `depth` deep around literal text.
    let nested = |depth: usize| {
        let mut v = b"queue_directory = ".to_vec();
        v.extend(b"${mail_name?{".repeat(depth));
        v.extend_from_slice(b"/x");
        v.extend(b"}}".repeat(depth));
        v.push(b'\n');
        v
    };
    vec![
        // postconf: warning: DIR/main.cf: read-only parameter assignment: process_id=1
        (
            "read-only parameter in main.cf",
            b"process_id = 1\n".to_vec(),
            b"",
        ),
        // postconf: warning: DIR/master.cf: read-only parameter assignment: process_name=x
        (
            "read-only parameter in master.cf",
            Vec::new(),
            b"sub inet n - y - - smtpd -o process_name=x\n",
        ),
        // postconf: warning: unreasonable macro call nesting: "relayhost"; fatal
        (
            "self-reference in an unrequested parameter",
            b"relayhost = $relayhost\n".to_vec(),
            b"",
        ),
        (
            "self-reference in master.cf",
            Vec::new(),
            b"sub inet n - y - - smtpd -o relayhost=$relayhost\n",
        ),
        // postconf: warning: malformed compatibility level syntax: "bogus"; fatal
        (
            "invalid compatibility_level",
            b"compatibility_level = bogus\n".to_vec(),
            b"",
        ),
        // postconf: fatal: unknown inet_protocols value "bogus" in "bogus"
        (
            "invalid inet_protocols",
            b"inet_protocols = bogus\n".to_vec(),
            b"",
        ),
        // postconf: fatal: unknown mynetworks mask style value "weird" in "weird"
        (
            "invalid mynetworks_style",
            b"mynetworks_style = weird\n".to_vec(),
            b"",
        ),
        // postconf: warning: open "ldap" configuration "/nonexistent/ldap.cf": No such file or directory
        (
            "database client configuration in main.cf",
            b"alias_maps = ldap:/nonexistent/ldap.cf\n".to_vec(),
            b"",
        ),
        (
            "database client configuration in master.cf",
            Vec::new(),
            b"sub inet n - y - - smtpd -o smtpd_recipient_restrictions=ldap:/nonexistent/ldap.cf\n",
        ),
        // postconf prints "queue_directory = /q/\v{a}" (only " \t\r\n" is white space there)
        (
            "vertical tab before {",
            b"queue_directory = /q/${mail_name?\x0b{a}}\n".to_vec(),
            b"",
        ),
        // postconf: warning: ":" expected at: "...a}>>>?:{b}"; fatal
        (
            "form feed before :",
            b"queue_directory = /q/${mail_name?{a}\x0c:{b}}\n".to_vec(),
            b"",
        ),
        // postconf: warning: unreasonable macro call nesting: "/x"; fatal
        // (literal text is a level of mac_expand_callback too)
        ("literal text 101 levels deep", nested(101), b""),
        // postconf: warning: main.cf: syntax error after '}' in "{mail_mailer}y"
        // (milter_mail_macros = i {auth_type} ... {mail_mailer})
        (
            "braces from a built-in default",
            b"html_directory = ${milter_mail_macros}y\n".to_vec(),
            b"",
        ),
        (
            "braces from a built-in default in master.cf",
            Vec::new(),
            b"sub inet n - y - - smtpd -o html_directory=${milter_mail_macros}y\n",
        ),
        // postconf: warning: main.cf: syntax error after '}' in "{x}y"
        (
            "braces from a taken branch",
            b"html_directory = ${mail_name?{{x}y}}\n".to_vec(),
            b"",
        ),
        // postconf: warning: open "ldap" configuration "/proc/0/x": No such file or directory
        (
            "database client made by expansion",
            b"mail_name = ldap\nhtml_directory = $mail_name:/proc/0/x\n".to_vec(),
            b"",
        ),
        // postconf: fatal: parameter inet_interfaces: no local interface found for 192.0.2.77
        // (mynetworks unset: postconf computes its default)
        (
            "inet_interfaces not on the host, mynetworks unset",
            b"inet_interfaces = 127.0.0.1, 192.0.2.77\n".to_vec(),
            b"",
        ),
        // postconf: fatal: config variable inet_interfaces: host not found: ALL
        (
            "inet_interfaces = ALL is a host name",
            b"inet_interfaces = ALL\n".to_vec(),
            b"",
        ),
        // postconf: fatal: unknown inet_protocols value "IPv4" in "IPv4"
        (
            "inet_protocols in capitals",
            b"inet_protocols = IPv4\n".to_vec(),
            b"",
        ),
        // Issue 18, findings 8-13 (tests/postconf_rules.rs has them side by
        // side): postconf: fatal: ... bad field count
        (
            "vertical tab between master.cf fields",
            Vec::new(),
            b"sub inet n - y -\x0b- smtpd\n",
        ),
        (
            "open brace in a service name",
            Vec::new(),
            b"}{ inet n - y - - smtpd\n",
        ),
        // postconf: warning: DIR/master.cf: unused parameter: bogus_param=1
        (
            "clustered -vo",
            Vec::new(),
            b"sub inet n - y - - smtpd -vo bogus_param=1\n",
        ),
        // postconf: warning: master.cf:sub/inet: syntax error after '}' in "{a}b"
        (
            "options stop at the first argument",
            Vec::new(),
            b"sub inet n - y - - smtpd -o html_directory=${{$mail_name}=={Postfix}?{{a}b}} x -o mail_name=x\n",
        ),
        (
            "repeated service entries share a name space",
            Vec::new(),
            b"relay unix - - y - - smtp -o syslog_name=x\nrelay unix - - y - - smtp -o html_directory=${{$syslog_name}=={x}?{{a}b}}\n",
        ),
        // postconf: warning: main.cf: syntax error after '}' in "{a}b"
        (
            "computed myhostname in a conditional",
            b"html_directory = ${myhostname?{{a}b}:{c}}\n".to_vec(),
            b"",
        ),
        // postconf: warning: malformed compatibility level syntax: "3.1024"; fatal
        (
            "compatibility_level out of range",
            b"compatibility_level = 3.1024\n".to_vec(),
            b"",
        ),
        // Neighbours that native() gets right or declines.
        (
            "inet_interfaces not on the host, mynetworks set",
            b"inet_interfaces = 192.0.2.77\nmynetworks = 127.0.0.0/8\n".to_vec(),
            b"",
        ),
        (
            "inet_interfaces on the host, mynetworks unset",
            b"inet_interfaces = [127.0.0.1], ::1\ninet_protocols = ipv4, ipv6\n".to_vec(),
            b"",
        ),
        (
            "inet_protocols and mynetworks_style unread with mynetworks set",
            b"mynetworks = 127.0.0.0/8\ninet_protocols = bogus\nmynetworks_style = weird\n"
                .to_vec(),
            b"",
        ),
        (
            "the same setting twice",
            b"biff = no\nbiff = no\n".to_vec(),
            b"",
        ),
        (
            "compatibility_level at its limits",
            b"compatibility_level = 8796093022207.1023.1023\n".to_vec(),
            b"",
        ),
        (
            "process_id outside comparisons",
            b"html_directory = /h/$process_id/${process_id?{x}}\n".to_vec(),
            b"",
        ),
        ("literal text 100 levels deep", nested(100), b""),
        (
            "config_directory in main.cf",
            b"config_directory = /elsewhere\n".to_vec(),
            b"",
        ),
        (
            "carriage return before {",
            b"queue_directory = /q/${mail_name?\r{a}}\n".to_vec(),
            b"",
        ),
        (
            "test-only self-reference",
            b"relayhost = ${relayhost?{x}}\n".to_vec(),
            b"",
        ),
        (
            "braces of a default's own ${..?{..}} syntax",
            b"html_directory = ${smtpd_timeout}/$syslog_name\n".to_vec(),
            b"",
        ),
        (
            "hash: maps are not read",
            b"alias_maps = hash:/nonexistent/aliases\n".to_vec(),
            b"",
        ),
    ]
}

// ---------------------------------------------------------------------------
// Running postconf and native() over the corpus.
// ---------------------------------------------------------------------------

struct Outcome {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    status: Option<i32>,
}

fn postconf(dir: &[u8]) -> Outcome {
    let out = postconf_command()
        .arg("-xc")
        .arg(OsStr::from_bytes(dir))
        .args(REQUESTED)
        .env_remove("MAIL_CONFIG")
        .env_remove("MAIL_VERBOSE")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {POSTCONF}: {e} (is Debian's postfix installed?)"));
    Outcome {
        stdout: out.stdout,
        stderr: out.stderr,
        status: out.status.code(),
    }
}

/// Bytes as readable text: ASCII as is, everything else escaped.
fn shown(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\n' => s.push_str("\\n\n    "),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s
}

/// Backdates a file: Postfix waits for a configuration file changed in the
/// last second or so to settle before it reads it (dict_load_file).
fn write_old(path: &Path, content: &[u8]) {
    std::fs::write(path, content).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_577_836_800))
        .unwrap();
}

/// TEXT with every FROM replaced by TO.
fn replace(text: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.windows(from.len()).position(|w| w == from) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// Writes CASE as directory `i{n}` under BASE (with its client files when
/// it names them); the path to hand over.
fn materialize(base: &Path, n: usize, case: &Case) -> Vec<u8> {
    let mut name = format!("i{n}").into_bytes();
    name.extend_from_slice(case.dir_name_extra);
    let dir: PathBuf = base.join(OsStr::from_bytes(&name));
    std::fs::create_dir(&dir).unwrap();
    let at_dir = |text: &[u8]| replace(text, b"{dir}", dir.as_os_str().as_bytes());
    let names_files = [&case.main, &case.master].iter().any(|t| {
        t.as_ref()
            .is_some_and(|t| t.windows(5).any(|w| w == b"{dir}"))
    });
    if names_files {
        for (name, content) in CLIENT_FILES {
            match name.strip_suffix('/') {
                Some(sub) => std::fs::create_dir(dir.join(sub)).unwrap(),
                None => write_old(&dir.join(name), content),
            }
        }
    }
    if let Some(main) = &case.main {
        write_old(&dir.join("main.cf"), &at_dir(main));
    }
    if let Some(master) = &case.master {
        write_old(&dir.join("master.cf"), &at_dir(master));
    }
    // What went into it, for EXACTNESS_KEEP=1 (postconf reads no other file).
    write_old(&dir.join("case.txt"), case.label.as_bytes());
    let mut handed = dir.as_os_str().as_bytes().to_vec();
    handed.extend_from_slice(case.suffix.as_bytes());
    handed
}

struct Verdict {
    /// native_answer(): stdout and the warnings it prints itself.
    native: Option<postmulti::native::Answer>,
    postconf: Outcome,
}

/// Runs postconf and native() over every directory.  Many threads, though
/// the machine may have two cores: a postconf that fails sleeps one second
/// before it exits (msg_fatal's throttle), and those seconds add up.
fn check_all(dirs: &[Vec<u8>]) -> Vec<Verdict> {
    let threads = 16;
    let chunk = dirs.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = dirs
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|d| Verdict {
                            native: postmulti::native::native_answer(d),
                            postconf: postconf(d),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

/// Why native()'s answer is wrong, if it is.
fn mismatch(v: &Verdict) -> Option<String> {
    let native = v.native.as_ref()?;
    let p = &v.postconf;
    let mut why = Vec::new();
    if p.stdout != native.stdout {
        why.push("stdout differs");
    }
    if p.stderr != warnings_of(native) {
        why.push("stderr differs from the warnings native_answer() prints");
    }
    if p.status != Some(0) {
        why.push("postconf failed");
    }
    (!why.is_empty()).then(|| why.join(", "))
}

fn describe(case: &Case, dir: &[u8], v: &Verdict, why: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "--- {} [{}]: {why}", shown(dir), case.label);
    match &case.main {
        Some(m) => {
            let _ = writeln!(s, "  main.cf:\n    {}", shown(m));
        }
        None => s.push_str("  main.cf: (none)\n"),
    }
    match &case.master {
        Some(m) if m.len() > 2000 => {
            let _ = writeln!(
                s,
                "  master.cf: ({} bytes, ends with)\n    {}",
                m.len(),
                shown(&m[m.len() - 400..])
            );
        }
        Some(m) => {
            let _ = writeln!(s, "  master.cf:\n    {}", shown(m));
        }
        None => s.push_str("  master.cf: (none)\n"),
    }
    let _ = writeln!(
        s,
        "  native():\n    {}",
        v.native.as_ref().map_or("(None)".to_string(), |a| format!(
            "{}\n    warnings: {}",
            shown(&a.stdout),
            shown(&warnings_of(a))
        ))
    );
    let _ = writeln!(
        s,
        "  postconf (exit {:?}):\n    {}\n  postconf stderr:\n    {}",
        v.postconf.status,
        shown(&v.postconf.stdout),
        shown(&v.postconf.stderr)
    );
    s
}

#[test]
fn native_reader_equals_postconf_on_a_generated_corpus() {
    assert!(
        reference_postconf::available(),
        "{POSTCONF} or {} of the reference missing: install Debian's postfix",
        reference_postconf::STOCK_MASTER_CF
    );
    use_reference_table();
    let seed = env_number("EXACTNESS_SEED", DEFAULT_SEED);
    let cases = env_number("EXACTNESS_CASES", DEFAULT_CASES as u64) as usize;
    let stock = reference_postconf::stock_master_cf();
    let mut rng = Rng::new(seed);
    let mut corpus: Vec<Case> = Vec::new();
    let known = known_cases();
    for (label, main, master_extra) in &known {
        let mut master = stock.clone();
        master.extend_from_slice(master_extra);
        corpus.push(Case {
            label: format!("known: {label}"),
            main: Some(main.clone()),
            master: Some(master),
            suffix: "",
            dir_name_extra: b"",
        });
    }
    let braced = braced_builtins();
    corpus.extend((0..cases).map(|i| generate(&mut rng, i, &stock, braced)));

    let tmp = tempfile::Builder::new()
        .prefix("pm-exactness.")
        .tempdir()
        .unwrap();
    let dirs: Vec<Vec<u8>> = corpus
        .iter()
        .enumerate()
        .map(|(n, c)| materialize(tmp.path(), n, c))
        .collect();
    let started = std::time::Instant::now();
    let verdicts = check_all(&dirs);
    // postmulti reads many instances through read_ahead(), whose threads
    // keep the master.cf texts they have seen (the corpus repeats some and
    // varies others): the same answers as native() one at a time.
    let ahead = postmulti::native::read_ahead_answers(&dirs);
    for ((dir, v), a) in dirs.iter().zip(&verdicts).zip(&ahead) {
        assert!(
            *a == v.native,
            "read_ahead_answers() and native_answer() differ on {}",
            shown(dir)
        );
    }

    let total = verdicts.len();
    let native = verdicts.iter().filter(|v| v.native.is_some()).count();
    let postconf_ok = verdicts
        .iter()
        .filter(|v| v.postconf.status == Some(0) && v.postconf.stderr.is_empty())
        .count();
    let mut report = String::new();
    let mut summary = String::new();
    let mut bad = 0;
    for ((case, dir), v) in corpus.iter().zip(&dirs).zip(&verdicts) {
        if let Some(why) = mismatch(v) {
            bad += 1;
            if bad <= 12 {
                report.push_str(&describe(case, dir, v, &why));
            }
            let first = v
                .postconf
                .stderr
                .split(|&b| b == b'\n')
                .next()
                .unwrap_or(b"");
            let _ = writeln!(
                summary,
                "  {} [{}]: {why}: {}",
                shown(dir).replace("\\n\n    ", "\\n"),
                case.label,
                shown(first)
            );
        }
    }
    eprintln!(
        "exactness: seed {seed:#x}: {total} directories ({} known cases), {native} answered natively \
         ({}%), {} handed to postconf; postconf quiet and successful on {postconf_ok}; \
         {bad} wrong native answers; {:.1} s",
        known.len(),
        native * 100 / total.max(1),
        total - native,
        started.elapsed().as_secs_f64()
    );
    if std::env::var_os("EXACTNESS_STATS").is_some() {
        // Per ingredient: how often it was drawn, answered natively, wrong.
        let mut stats: std::collections::BTreeMap<&str, [usize; 3]> = Default::default();
        for (case, v) in corpus.iter().zip(&verdicts) {
            for token in case.label.split(' ') {
                let e = stats.entry(token).or_default();
                e[0] += 1;
                e[1] += usize::from(v.native.is_some());
                e[2] += usize::from(mismatch(v).is_some());
            }
        }
        for (token, [n, nat, wrong]) in stats {
            eprintln!("exactness: {token:<28} {n:>4} drawn {nat:>4} native {wrong:>3} wrong");
        }
    }
    if let Some(which) = std::env::var_os("EXACTNESS_DECLINED") {
        // The directories of one class that native() declined.
        for ((case, dir), v) in corpus.iter().zip(&dirs).zip(&verdicts) {
            if v.native.is_none() && case.label.split(' ').next() == which.to_str() {
                eprintln!(
                    "exactness: declined: {} [{}] postconf exit {:?}",
                    shown(dir),
                    case.label,
                    v.postconf.status
                );
            }
        }
    }
    if std::env::var_os("EXACTNESS_KEEP").is_some() {
        eprintln!("exactness: corpus kept in {}", tmp.path().display());
        // Not dropped, so not removed (TempDir::keep is tempfile 3.20+;
        // Cargo.toml allows any 3.x).
        std::mem::forget(tmp);
    }
    assert!(
        bad == 0,
        "native() answered {bad} directories differently from postconf (first {} shown):\n{report}\
         all of them:\n{summary}",
        bad.min(12)
    );
    assert!(
        native * 100 >= total * MIN_NATIVE_PERCENT,
        "only {native} of {total} directories were answered natively (want >= {MIN_NATIVE_PERCENT}%): \
         the corpus proves too little"
    );
}

/// Compares one directory: EXACTNESS_DIR=/path (run with --ignored).
#[test]
#[ignore]
fn one_directory() {
    let dir = std::env::var_os("EXACTNESS_DIR").expect("set EXACTNESS_DIR=/some/instance/dir");
    let dir = dir.as_bytes().to_vec();
    use_reference_table();
    let v = Verdict {
        native: postmulti::native::native_answer(&dir),
        postconf: postconf(&dir),
    };
    let case = Case {
        label: "EXACTNESS_DIR".into(),
        main: std::fs::read(Path::new(OsStr::from_bytes(&dir)).join("main.cf")).ok(),
        master: std::fs::read(Path::new(OsStr::from_bytes(&dir)).join("master.cf")).ok(),
        suffix: "",
        dir_name_extra: b"",
    };
    let why = mismatch(&v);
    eprintln!(
        "{}",
        describe(&case, &dir, &v, why.as_deref().unwrap_or("same"))
    );
    assert!(why.is_none());
}
