//! Environment hygiene of the life-cycle helper: what the caller puts in
//! the environment never reaches postmulti-script, except what
//! import_environment lets through (names kept when set, NAME=value entries
//! set), and what postmulti itself exports.
//!
//! A recording wrapper is bind-mounted over postmulti-script: it writes its
//! exact environment (from /proc/$$/environ, so nothing a shell adds or
//! drops) sorted to /run/pms-env, then execs a copy of the real script,
//! which does its real work (`-e enable` runs postconf -e). Each test
//! compares with Debian's postmulti (files written include /run/pms-env)
//! and pins the variable set.
//!
//! The wrapper is bash, which would source $BASH_ENV: /var/tmp/evil.sh
//! records that it ran in /run/evil.log, a file that must never appear.
//! LD_PRELOAD names a real, harmless library (libm), so that the dynamic
//! loader has nothing to complain about in any process. IFS and PATH are
//! set on the postmulti command only (`env ... postmulti`), never in the
//! test's shell.
mod common;
use common::*;

const WRAPPER: &str = r#"#!/bin/bash
/usr/bin/tr '\0' '\n' < /proc/$$/environ | LC_ALL=C /usr/bin/sort > /run/pms-env
exec /var/tmp/postmulti-script.real "$@"
"#;

const EVIL: &str = r#"echo "sourced by $0" >> /run/evil.log
"#;

fn setup() -> String {
    format!(
        "cp /usr/lib/postfix/sbin/postmulti-script /var/tmp/postmulti-script.real\n\
         cat > /var/tmp/pms-wrapper <<'__PM_EOF__'\n{WRAPPER}__PM_EOF__\n\
         cat > /var/tmp/evil.sh <<'__PM_EOF__'\n{EVIL}__PM_EOF__\n\
         chmod 755 /var/tmp/pms-wrapper /var/tmp/postmulti-script.real\n\
         mkdir -p /var/tmp/evil-bin /var/tmp/evil-lib\n\
         mount --bind /var/tmp/pms-wrapper /usr/lib/postfix/sbin/postmulti-script\n"
    )
}

/// What the helper saw, and proof that nothing sourced BASH_ENV or ENV.
const SHOW: &str = "cat /run/pms-env; if [ -e /run/evil.log ]; then cat /run/evil.log; else echo 'no evil.log'; fi";

fn scenario() -> Scenario {
    Scenario::two_secondaries().setup(&setup()).check(SHOW)
}

/// The variables postmulti exports for `-i postfix-a -e enable`.
/// The directories exported to postmulti-script for postfix-a
/// (meta_directory is the release's built-in default).
fn exported() -> String {
    format!(
        "command_directory=/usr/sbin
config_directory=/etc/postfix-a
daemon_directory=/usr/lib/postfix/sbin
data_directory=/var/lib/postfix-a
meta_directory={}
queue_directory=/var/spool/postfix-a
shlib_directory=/usr/lib/postfix
",
        reference_default("meta_directory")
    )
}

fn shown(env_upper: &str) -> String {
    format!("{env_upper}{}no evil.log\n[check 0: exit 0]\n", exported())
}

/// The caller's worst: every variable that changes how programs load, how
/// shells start, how words split, where commands are found, and how
/// verbose Postfix is, plus -v, plus a variable nobody asked for.
#[test]
fn hostile_caller_environment_never_reaches_the_helper() {
    let c = scenario().run_shell(
        "libm=$(ldconfig -p | awk '$1 == \"libm.so.6\" { print $NF; exit }')\n\
         test -e \"$libm\" || { echo \"no libm.so.6 ($libm)\"; exit 1; }\n\
         vars=(LD_PRELOAD=\"$libm\" LD_LIBRARY_PATH=/var/tmp/evil-lib \
             BASH_ENV=/var/tmp/evil.sh ENV=/var/tmp/evil.sh IFS=: \
             PATH=/var/tmp/evil-bin:/usr/bin:/bin MAIL_VERBOSE=1 SECRET=leaked \
             TZ=Europe/Paris MAIL_DEBUG=1 LANG=fr_FR.UTF-8 MAIL_LOGTAG=caller)\n\
         # control: these really are in the environment env gives its command\n\
         env \"${vars[@]}\" /usr/bin/printenv LD_PRELOAD LD_LIBRARY_PATH BASH_ENV ENV IFS PATH MAIL_VERBOSE | wc -l\n\
         env \"${vars[@]}\" /usr/sbin/postmulti -v -i postfix-a -e enable\n\
         echo \"exit $?\"\n",
    );
    c.assert_checks(shown(
        "LANG=C\n\
         MAIL_CONFIG=/etc/postfix\n\
         MAIL_DEBUG=1\n\
         MAIL_LOGTAG=postfix\n\
         PATH=/usr/sbin:/bin:/usr/bin:/sbin:/usr/sbin\n\
         TZ=Europe/Paris\n",
    ))
    .assert_stdout("7\nexit 0\n")
    .assert_same();
}

/// Without -v and with nothing set by the caller: only the defaults of
/// import_environment that have values (LANG=C) and MAIL_LOGTAG, which
/// postmulti sets for every child and import_environment keeps.
#[test]
fn plain_caller_environment() {
    scenario()
        .env_remove("PATH")
        .run(&["-i", "postfix-a", "-e", "enable"])
        .assert_checks(shown(
            "LANG=C\n\
             MAIL_CONFIG=/etc/postfix\n\
             MAIL_LOGTAG=postfix\n\
             PATH=/usr/sbin:/bin:/usr/bin:/sbin:/usr/sbin\n",
        ))
        .assert_status(0)
        .assert_same();
}

/// MAIL_VERBOSE from -v alone (postmulti exports it to the children of
/// iterator mode) is not passed to the helper either.
#[test]
fn verbose_flag_does_not_reach_the_helper() {
    scenario()
        .run(&["-v", "-v", "-i", "postfix-a", "-e", "enable"])
        .assert_checks(shown(
            "LANG=C\n\
             MAIL_CONFIG=/etc/postfix\n\
             MAIL_LOGTAG=postfix\n\
             PATH=/usr/sbin:/bin:/usr/bin:/sbin:/usr/sbin\n",
        ))
        .assert_same();
}

/// A custom import_environment replaces the default list: TZ is kept,
/// FOO=bar is set; LANG, MAIL_DEBUG, MAIL_LOGTAG, XAUTHORITY and DISPLAY
/// (default entries) are gone.
#[test]
fn custom_import_environment() {
    scenario()
        .main_cf_append("/etc/postfix/main.cf", "import_environment = TZ FOO=bar")
        .env("TZ", "UTC")
        .env("LANG", "fr_FR.UTF-8")
        .env("MAIL_DEBUG", "1")
        .env("XAUTHORITY", "/root/.Xauthority")
        .env("DISPLAY", ":0")
        .env("FOO", "from-the-caller")
        .run(&["-i", "postfix-a", "-e", "enable"])
        .assert_checks(shown(
            "FOO=bar\n\
             MAIL_CONFIG=/etc/postfix\n\
             PATH=/usr/sbin:/bin:/usr/bin:/sbin:/usr/sbin\n\
             TZ=UTC\n",
        ))
        .assert_status(0)
        .assert_same();
}

/// PATH in import_environment keeps the caller's PATH, after
/// command_directory; a `{ NAME = value }` entry is split as clean_env
/// splits it (split_nameval: white space around the name and value goes).
#[test]
fn import_environment_with_path_and_a_braced_entry() {
    scenario()
        .main_cf_append(
            "/etc/postfix/main.cf",
            "import_environment = PATH, { BAZ = x  y }, LANG=C, IFS",
        )
        .env("PATH", "/var/tmp/evil-bin:/usr/bin:/bin")
        .env("IFS", ":")
        .run(&["-i", "postfix-a", "-e", "enable"])
        .assert_checks(shown(
            "BAZ=x  y\n\
             IFS=:\n\
             LANG=C\n\
             MAIL_CONFIG=/etc/postfix\n\
             PATH=/usr/sbin:/var/tmp/evil-bin:/usr/bin:/bin\n",
        ))
        .assert_same();
}

/// The last of repeated entries wins, and a NAME=value entry beats the
/// caller's value of NAME.
#[test]
fn repeated_import_environment_entries() {
    scenario()
        .main_cf_append(
            "/etc/postfix/main.cf",
            "import_environment = TZ=one TZ TZ=two LANG LANG=C",
        )
        .env("TZ", "caller")
        .env("LANG", "fr_FR.UTF-8")
        .run(&["-i", "postfix-a", "-e", "enable"])
        .assert_same()
        .assert_status(0)
        .assert_checks_line("TZ=two")
        .assert_checks_line("LANG=C");
}

/// Iterator mode is the opposite: `-x` children inherit the caller's
/// environment as it is (upstream does not clean it), with the instance's
/// variables and MAIL_LOGTAG set. Pinned here so that a change in one mode
/// is not mistaken for the other.
#[test]
fn iterator_children_inherit_the_caller_environment() {
    Scenario::two_secondaries()
        .run_shell(
            "env SECRET=kept MAIL_VERBOSE=1 TZ=UTC /usr/sbin/postmulti -i postfix-a -x \
             sh -c 'echo \"$SECRET $MAIL_VERBOSE $TZ $MAIL_LOGTAG\"'",
        )
        .assert_stdout("kept 1 UTC postfix\n")
        .assert_same();
}
