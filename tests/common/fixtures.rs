//! Fixed inputs of the scenarios: the usage fatal, the primary main.cf every
//! sandbox starts from, the two-secondaries setup, the recording fake `postfix`.

/// The usage fatal of postmulti, as the reference prints it (note: no space
/// after "Usage:").
pub const USAGE: &str = "postmulti: fatal: Usage:postmulti -l [-v] [-a] [-g group] [-i instance] | postmulti -p [-v] [-a] [-g group] [-i instance] command... | postmulti -x [-v] [-a] [-i name] [-g group] command... | postmulti -e action [-v] [-a] [-i name] [-g group] [-I name] [-G group] [param=value ...]\n";

/// What postfix(1) of the reference says first, on stderr, when it runs a
/// command (`postfix status`) with BASELINE_MAIN_CF's compatibility_level
/// (3.6): nothing before 3.11; from 3.11 on, that it uses
/// backwards-compatible defaults.
pub fn postfix_compatibility_warning() -> String {
    if !super::reference::reference_at_least(3, 11) {
        return String::new();
    }
    let (major, minor, _) = super::reference::reference_version();
    format!(
        "postfix: Postfix is using backwards-compatible default settings\n\
         postfix: See https://www.postfix.org/COMPATIBILITY_README.html for details\n\
         postfix: To disable backwards compatibility use \"postconf compatibility_level={major}.{minor}\" and \"postfix reload\"\n"
    )
}

/// The fixed primary main.cf every sandbox starts from: Debian 12's default
/// with every host-dependent value pinned (myhostname, mydestination) and a
/// loopback-only, IPv4-only network so that `postfix start` binds nothing
/// outside the sandbox's lo.
pub const BASELINE_MAIN_CF: &str = "\
# postmulti test sandbox: fixed primary main.cf (Debian 12 default, host-independent)
smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
biff = no
append_dot_mydomain = no
readme_directory = no
compatibility_level = 3.6
smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem
smtpd_tls_key_file=/etc/ssl/private/ssl-cert-snakeoil.key
smtpd_tls_security_level=may
smtp_tls_CApath=/etc/ssl/certs
smtp_tls_security_level=may
smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination
myhostname = sandbox.example
alias_maps = hash:/etc/aliases
alias_database = hash:/etc/aliases
mydestination = $myhostname, localhost.localdomain, localhost
relayhost =
mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128
mailbox_size_limit = 0
recipient_delimiter = +
inet_interfaces = loopback-only
inet_protocols = ipv4
";

/// Setup steps: `postmulti -e init`, then secondaries postfix-a (group g1)
/// and postfix-b, both created disabled by the real postmulti. (One step
/// each: files are backdated between steps, see `age` in the driver.)
pub const TWO_SECONDARIES: &[&str] = &[
    "postmulti -e init",
    "postmulti -I postfix-a -G g1 -e create",
    "postmulti -I postfix-b -e create",
];

/// A fake `postfix` that records how it was called: bind-mounted over
/// /usr/sbin/postfix; appends `MAIL_CONFIG=... argv=...` and then its whole
/// environment as it received it (`/proc/$$/environ`: names, values and
/// order), each variable on a line `  env NAME=value`, to
/// /var/log/postfix-calls.log (a file written, so the manifest compares it).
pub const RECORDING_POSTFIX: &str = r#"#!/bin/sh
{
  printf 'MAIL_CONFIG=%s argv=%s\n' "${MAIL_CONFIG-<unset>}" "$*"
  tr '\0' '\n' < /proc/$$/environ | sed 's/^/  env /'
} >> /var/log/postfix-calls.log
case "$*" in
  *fail*) exit 3;;
esac
exit 0
"#;

/// Setup step that installs [`RECORDING_POSTFIX`] over /usr/sbin/postfix
/// (a bind mount, private to the sandbox).
pub fn recording_postfix_setup() -> String {
    format!(
        "cat > /var/tmp/fake-postfix <<'__PM_EOF__'\n{RECORDING_POSTFIX}__PM_EOF__\nchmod 755 /var/tmp/fake-postfix\nmount --bind /var/tmp/fake-postfix /usr/sbin/postfix\n"
    )
}

/// A shell command that prints its own whole environment as it received it
/// (the envp of the execve that started the shell: names, values and
/// order), one `NAME=value` a line, then `--`.  For `sh -c`: the shell's
/// own `env` would print its variable table in its own order.
pub const ENV_DUMP: &str = "tr '\\0' '\\n' < /proc/$$/environ; echo --";

/// Installs a postconf that logs its command lines to /dev/shm/postconf.calls
/// (the sandbox's own /dev/shm) and then is the real one.
pub const COUNTING_POSTCONF: &str = "cp -p /usr/sbin/postconf /var/tmp/postconf.real\n\
     printf '#!/bin/bash\\necho \"$*\" >> /dev/shm/postconf.calls\\nexec -a \"$0\" /var/tmp/postconf.real \"$@\"\\n' \
     > /var/tmp/postconf.wrapper\n\
     chmod 755 /var/tmp/postconf.wrapper\n\
     mount --bind /var/tmp/postconf.wrapper /usr/sbin/postconf\n";

/// `postmulti -l`, then the instances postconf was asked about.
pub const LIST_AND_COUNT: &str = ": > /dev/shm/postconf.calls\n\
     postmulti -l; echo \"exit $?\"\n\
     sed -n 's|^-xc \\([^ ]*\\) .*|postconf -xc \\1|p' /dev/shm/postconf.calls\n";
