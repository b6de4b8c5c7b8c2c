//! Unsafe credentials: run as a set-uid or set-gid program would be (real
//! and effective user or group IDs differ, `setpriv --ruid=65534
//! --euid=0`), upstream does not trust the caller's environment where it
//! reads it with safe_getenv(), removes TZ, checks a non-default
//! MAIL_CONFIG against the default main.cf (mail_conf_checkdir), and its
//! postconf ignores `-c`.
//! Each test runs the same command under Debian's postmulti and ours
//! (src/environ.rs lists the rules).
//!
//! Variables are set with `env` on the command only; `setpriv` changes
//! the credentials just before /usr/sbin/postmulti runs.  The children
//! that print what they see are `/bin/bash -p` scripts (bash and dash
//! otherwise drop the effective IDs, and sh -c would then run as nobody).
mod common;
use common::*;

/// The command prefix that makes credentials unsafe: real user nobody,
/// effective user root.
const UNSAFE_UID: &str = "setpriv --ruid=65534 --euid=0";

/// Real and effective root, real group nogroup: upstream trusts root.
const ROOT_OTHER_GID: &str = "setpriv --rgid=65534 --keep-groups";

/// Real and effective user nobody, real group nogroup, effective group
/// root: unsafe through the group IDs alone.
const UNSAFE_GID: &str = "setpriv --reuid=65534 --rgid=65534 --egid=0 --clear-groups";

/// The variables the caller sets on the postmulti command.
const CALLER: &str = "PATH=/var/tmp/evil:/usr/bin:/bin TZ=Europe/Paris MAIL_DEBUG=1 \
     MAIL_LOGTAG=caller MAIL_VERBOSE=x POSTLOG_SERVICE=/var/tmp/postlog.sock \
     POSTLOG_HOSTNAME=caller.example SOMETHING_ELSE=kept";

/// A child that prints the variables of interest, one a line, `-` when unset.
const SHOW_ENV: &str = r#"#!/bin/bash -p
for v in PATH TZ MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG MAIL_VERBOSE POSTLOG_SERVICE POSTLOG_HOSTNAME SOMETHING_ELSE LANG; do
    if [ "${!v+set}" ]; then echo "$v=${!v}"; else echo "$v -"; fi
done
echo "ids $(id -ru) $(id -u) $(id -rg) $(id -g)"
"#;

fn setup_show_env() -> String {
    format!(
        "mkdir -p /var/tmp/evil\n\
         cat > /var/tmp/show-env <<'__PM_EOF__'\n{SHOW_ENV}__PM_EOF__\n\
         chmod 755 /var/tmp/show-env\n"
    )
}

/// `-x` in the primary only, with the caller's variables and the given prefix.
fn exec_env(prefix: &str) -> Compared {
    Scenario::new().setup(&setup_show_env()).run_shell(&format!(
        "env {CALLER} {prefix} /usr/sbin/postmulti -i - -x /var/tmp/show-env\necho \"exit $?\"\n"
    ))
}

/// What a `-x` child sees in the primary instance of a sandbox.
fn child_sees(path: &str, tz: &str, postlog: bool, lang: &str, ids: &str) -> String {
    let (service, host) = if postlog {
        (
            "POSTLOG_SERVICE=/var/tmp/postlog.sock",
            "POSTLOG_HOSTNAME=caller.example",
        )
    } else {
        ("POSTLOG_SERVICE -", "POSTLOG_HOSTNAME -")
    };
    format!(
        "PATH={path}\n{tz}\nMAIL_CONFIG=/etc/postfix\nMAIL_DEBUG=1\nMAIL_LOGTAG=postfix\n\
         MAIL_VERBOSE=x\n{service}\n{host}\nSOMETHING_ELSE=kept\n{lang}\nids {ids}\nexit 0\n"
    )
}

/// Safe credentials (the control): the caller's PATH follows
/// $command_directory, TZ is kept, POSTLOG_* are removed (main.cf sets no
/// maillog_file).
#[test]
fn x_child_environment_with_safe_credentials() {
    exec_env("")
        .assert_stdout(child_sees(
            "/usr/sbin:/var/tmp/evil:/usr/bin:/bin",
            "TZ=Europe/Paris",
            false,
            "LANG -",
            "0 0 0 0",
        ))
        .assert_same();
}

/// Real user nobody, effective root: PATH is $command_directory and
/// ROOT_PATH, TZ is gone, and POSTLOG_SERVICE and POSTLOG_HOSTNAME, which
/// upstream never looked at, stay as the caller set them; MAIL_DEBUG and
/// MAIL_VERBOSE pass as they are, MAIL_LOGTAG is syslog_name.
#[test]
fn x_child_environment_with_unsafe_user_ids() {
    exec_env(UNSAFE_UID)
        .assert_stdout(child_sees(
            "/usr/sbin:/bin:/usr/bin:/sbin:/usr/sbin",
            "TZ -",
            true,
            "LANG -",
            "65534 0 0 0",
        ))
        .assert_same();
}

/// Real and effective root with another real group is trusted.
#[test]
fn x_child_environment_as_root_with_another_real_group() {
    exec_env(ROOT_OTHER_GID)
        .assert_stdout(child_sees(
            "/usr/sbin:/var/tmp/evil:/usr/bin:/bin",
            "TZ=Europe/Paris",
            false,
            "LANG -",
            "0 0 65534 0",
        ))
        .assert_same();
}

/// Group IDs alone that differ make credentials unsafe for any other user.
#[test]
fn x_child_environment_with_unsafe_group_ids() {
    exec_env(UNSAFE_GID)
        .assert_stdout(child_sees(
            "/usr/sbin:/bin:/usr/bin:/sbin:/usr/sbin",
            "TZ -",
            true,
            "LANG -",
            "65534 65534 65534 0",
        ))
        .assert_same();
}

/// `-p`: the postfix command (here the printing child, bind-mounted over
/// /usr/sbin/postfix) gets no PATH of postmulti's making, so it sees the
/// caller's; TZ is gone all the same.
#[test]
fn p_child_environment_with_unsafe_user_ids() {
    Scenario::new()
        .setup(&format!(
            "{}mount --bind /var/tmp/show-env /usr/sbin/postfix\n",
            setup_show_env()
        ))
        .run_shell(&format!(
            "env {CALLER} {UNSAFE_UID} /usr/sbin/postmulti -p status\necho \"exit $?\"\n"
        ))
        .assert_stdout(child_sees(
            "/var/tmp/evil:/usr/bin:/bin",
            "TZ -",
            true,
            "LANG -",
            "65534 0 0 0",
        ))
        .assert_same();
}

/// The life-cycle helper (here the printing child, bind-mounted over
/// postmulti-script) of `-e init`: import_environment keeps no name of
/// the caller's (MAIL_DEBUG, TZ, SOMETHING_ELSE, not even MAIL_LOGTAG,
/// which postmulti set itself), only its `NAME=value` entries; PATH is
/// $command_directory and ROOT_PATH.
#[test]
fn helper_environment_with_unsafe_user_ids() {
    helper_environment(UNSAFE_UID).assert_same().assert_stdout(
        "PATH=/usr/sbin:/bin:/usr/bin:/sbin:/usr/sbin\nTZ -\nMAIL_CONFIG=/etc/postfix\n\
         MAIL_DEBUG -\nMAIL_LOGTAG -\nMAIL_VERBOSE=y\nPOSTLOG_SERVICE -\n\
         POSTLOG_HOSTNAME -\nSOMETHING_ELSE -\nLANG=C\nids 65534 0 0 0\nexit 0\n",
    );
}

/// The same helper with safe credentials (the control): the names are kept.
#[test]
fn helper_environment_with_safe_credentials() {
    helper_environment("").assert_same().assert_stdout(
        "PATH=/usr/sbin:/var/tmp/evil:/usr/bin:/bin\nTZ=Europe/Paris\nMAIL_CONFIG=/etc/postfix\n\
         MAIL_DEBUG=1\nMAIL_LOGTAG=postfix\nMAIL_VERBOSE=y\nPOSTLOG_SERVICE -\n\
         POSTLOG_HOSTNAME -\nSOMETHING_ELSE=kept\nLANG=C\nids 0 0 0 0\nexit 0\n",
    );
}

/// `-e init` run by the caller's environment under CREDENTIALS (a setpriv
/// prefix, or none), with the printing child as postmulti-script and an
/// import_environment that names every variable of interest.
fn helper_environment(credentials: &str) -> Compared {
    Scenario::new()
        .setup(&format!(
            "{}mount --bind /var/tmp/show-env /usr/lib/postfix/sbin/postmulti-script\n",
            setup_show_env()
        ))
        .main_cf_append(
            "/etc/postfix/main.cf",
            "import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ SOMETHING_ELSE \
             POSTLOG_SERVICE POSTLOG_HOSTNAME PATH LANG=C {MAIL_VERBOSE = y}",
        )
        .run_shell(&format!(
            "env {CALLER} {credentials} /usr/sbin/postmulti -e init\necho \"exit $?\"\n"
        ))
}

/// With maillog_file set, POSTLOG_SERVICE and POSTLOG_HOSTNAME are
/// postmulti's own (myhostname), whatever the caller set.  (The file
/// exists: Postfix 3.7 does not make it at start, 3.10 and later do.)
#[test]
fn x_child_postlog_variables_with_maillog_file_and_unsafe_user_ids() {
    Scenario::new()
        .setup(&format!(
            "{}install -m 600 /dev/null /var/log/postmulti.log\n",
            setup_show_env()
        ))
        .main_cf_append("/etc/postfix/main.cf", "maillog_file = /var/log/postmulti.log")
        .run_shell(&format!(
            "env {CALLER} {UNSAFE_UID} /usr/sbin/postmulti -i - -x /var/tmp/show-env | grep POSTLOG\n"
        ))
        .assert_stdout(
            "POSTLOG_SERVICE=/var/spool/postfix/public/postlog\n\
             POSTLOG_HOSTNAME=sandbox.example\n",
        )
        .assert_same();
}

/// A MAIL_CONFIG directory that the default main.cf does not list is
/// refused before anything else is read: an error, then the fatal that
/// says what to add, on stderr and to syslog (not to the caller's
/// POSTLOG_SERVICE).
#[test]
fn unlisted_mail_config_with_unsafe_user_ids() {
    Scenario::new()
        .setup("cp -a /etc/postfix /etc/postfix-x")
        .run_shell(&format!(
            "env {CALLER} MAIL_CONFIG=/etc/postfix-x {UNSAFE_UID} /usr/sbin/postmulti -l"
        ))
        .assert_status(1)
        .assert_stderr(
            "postmulti: error: unauthorized configuration directory name: /etc/postfix-x\n\
             postmulti: fatal: specify \"alternate_config_directories = /etc/postfix-x\" or \"multi_instance_directories = /etc/postfix-x\" in /etc/postfix/main.cf\n",
        )
        .assert_syslog(&[
            "<19>TIME postmulti[PID]: error: unauthorized configuration directory name: /etc/postfix-x",
            "<18>TIME postmulti[PID]: fatal: specify \"alternate_config_directories = /etc/postfix-x\" or \"multi_instance_directories = /etc/postfix-x\" in /etc/postfix/main.cf",
        ])
        .assert_same();
}

/// A listed one (alternate_config_directories or
/// multi_instance_directories, as written, unexpanded) passes that check,
/// and postmulti then refuses it as it does any non-default directory.
#[test]
fn listed_mail_config_with_unsafe_user_ids() {
    for listed in [
        "alternate_config_directories = /etc/postfix-y, /etc/postfix-x",
        "multi_instance_directories = /etc/postfix-x",
    ] {
        Scenario::new()
            .setup("cp -a /etc/postfix /etc/postfix-x")
            .main_cf_append("/etc/postfix/main.cf", listed)
            .run_shell(&format!(
                "env MAIL_CONFIG=/etc/postfix-x {UNSAFE_UID} /usr/sbin/postmulti -l"
            ))
            .assert_status(1)
            .assert_stderr(
                "postmulti: fatal: Non-default configuration directory: MAIL_CONFIG=/etc/postfix-x\n",
            )
            .assert_same();
    }
    // Listed only through a parameter: the check reads words, not values.
    Scenario::new()
        .setup("cp -a /etc/postfix /etc/postfix-x")
        .main_cf_append(
            "/etc/postfix/main.cf",
            "x = /etc/postfix-x\nalternate_config_directories = $x",
        )
        .run_shell(&format!(
            "env MAIL_CONFIG=/etc/postfix-x {UNSAFE_UID} /usr/sbin/postmulti -l"
        ))
        .assert_status(1)
        .assert_stderr_line(
            "postmulti: error: unauthorized configuration directory name: /etc/postfix-x",
        )
        .assert_same();
}

/// The default directory named by MAIL_CONFIG needs no listing.
#[test]
fn default_mail_config_with_unsafe_user_ids() {
    Scenario::new()
        .run_shell(&format!(
            "env MAIL_CONFIG=/etc/postfix {UNSAFE_UID} /usr/sbin/postmulti -l"
        ))
        .assert_status(0)
        .assert_stdout("-               -               y         /etc/postfix\n")
        .assert_same();
}

/// With secondary instances, postconf (which ignores `-c` under unsafe
/// credentials) answers with the primary's directories, and the first
/// secondary's claim conflicts: exit 1 with upstream's words.
#[test]
fn list_with_secondaries_and_unsafe_user_ids() {
    Scenario::two_secondaries()
        .run_shell(&format!("{UNSAFE_UID} /usr/sbin/postmulti -l"))
        .assert_status(1)
        .assert_stderr(
            "postmulti: fatal: instance /etc/postfix-a, queue_directory=/var/spool/postfix \
             conflicts with instance /etc/postfix, queue_directory=/var/spool/postfix\n",
        )
        .assert_same();
}

/// The same list with safe credentials (the control).
#[test]
fn list_with_secondaries_as_root_with_another_real_group() {
    Scenario::two_secondaries()
        .run_shell(&format!("{ROOT_OTHER_GID} /usr/sbin/postmulti -l"))
        .assert_status(0)
        .assert_stdout_line("postfix-a       g1              n         /etc/postfix-a")
        .assert_same();
}

/// Without the default main.cf, the check cannot read it: upstream's
/// fatal error names it.
#[test]
fn mail_config_check_without_the_default_main_cf() {
    Scenario::new()
        .setup("mkdir /etc/postfix-x\nmv /etc/postfix/main.cf /etc/postfix-x/main.cf")
        .run_shell(&format!(
            "env MAIL_CONFIG=/etc/postfix-x {UNSAFE_UID} /usr/sbin/postmulti -l"
        ))
        .assert_status(1)
        .assert_stderr(
            "postmulti: fatal: open file /etc/postfix/main.cf: No such file or directory\n",
        )
        .assert_same();
}

/// postmulti's own records are stamped without the caller's TZ under
/// unsafe credentials, and with it otherwise (here a maillog_file record;
/// TZ=XYZ-14 is fourteen hours east, so the hour differs from the local
/// one).  The check compares the hour and removes the file.
#[test]
fn record_time_stamps_ignore_tz_with_unsafe_user_ids() {
    const HOUR: &str = "h=$(cut -c8-9 /var/log/pm.log)\n\
         if [ \"$h\" = \"$(date +%H)\" ]; then echo local-hour\n\
         elif [ \"$h\" = \"$(TZ=XYZ-14 date +%H)\" ]; then echo caller-hour\n\
         else echo \"hour $h\"; fi\nrm -f /var/log/pm.log";
    for (prefix, hour) in [(UNSAFE_UID, "local-hour"), ("", "caller-hour")] {
        Scenario::new()
            .main_cf_append("/etc/postfix/main.cf", "maillog_file = /var/log/pm.log")
            .check(HOUR)
            .run_shell(&format!(
                "env TZ=XYZ-14 {prefix} /usr/sbin/postmulti -i nosuch -x true"
            ))
            .assert_status(1)
            .assert_stderr("postmulti: fatal: No matching instances\n")
            .assert_checks(format!("{hour}\n[check 0: exit 0]\n"))
            .assert_same();
    }
}
