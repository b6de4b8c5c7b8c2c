//! When the installed Postfix is not the one postmulti was built against
//! (Postfix upgraded since the build), postmulti must notice it at run time
//! and take the built-in parameter table from the installed postconf: once
//! per run (`postconf -d`), never once per secondary instance, with output
//! identical to Debian's postmulti.
//!
//! The "upgraded" postconf is a bash wrapper bind-mounted over
//! /usr/sbin/postconf in the sandbox: another size and mtime than the binary
//! build.rs recorded, which is what a package upgrade changes.  It appends
//! each command line to /dev/shm/postconf.calls (the sandbox's private
//! /dev/shm: not a compared file) and execs a copy of the real postconf.
mod common;
use common::*;

/// Secondaries in every scenario here: postfix-a and postfix-b made by the
/// real `postmulti -e create`, and clones of postfix-b.
const CLONES: usize = 8;
const SECONDARIES: usize = 2 + CLONES;

/// Clones /etc/postfix-b as /etc/postfix-c1..N and lists them in
/// multi_instance_directories, as tests/bench/scale.sh does.
fn clone_setup() -> String {
    format!(
        r#"dirs=
for i in $(seq 1 {CLONES}); do
    cp -a /etc/postfix-b /etc/postfix-c$i
    sed -i -e "s|^multi_instance_name = .*|multi_instance_name = postfix-c$i|" \
        -e "s|^queue_directory = .*|queue_directory = /var/spool/postfix-c$i|" \
        -e "s|^data_directory = .*|data_directory = /var/lib/postfix-c$i|" /etc/postfix-c$i/main.cf
    dirs="$dirs /etc/postfix-c$i"
done
postconf -e "multi_instance_directories = $(postconf -h multi_instance_directories)$dirs"
"#
    )
}

/// Installs `script` over /usr/sbin/postconf; the real one is
/// /var/tmp/postconf.real.
fn postconf_wrapper_setup(script: &str) -> String {
    format!(
        "cp -p /usr/sbin/postconf /var/tmp/postconf.real\n\
         cat > /var/tmp/postconf.wrapper <<'__PM_EOF__'\n{script}__PM_EOF__\n\
         chmod 755 /var/tmp/postconf.wrapper\n\
         mount --bind /var/tmp/postconf.wrapper /usr/sbin/postconf\n"
    )
}

/// A postconf that counts its runs, then is the real one.
const COUNTING_POSTCONF: &str = r#"#!/bin/bash
echo "$*" >> /dev/shm/postconf.calls
exec -a "$0" /var/tmp/postconf.real "$@"
"#;

/// The same, as a Postfix that no longer has smtp_helo_name: `postconf -d`
/// does not list it, and `postconf -xc DIR` warns about it when DIR/main.cf
/// sets it, as postconf warns about any name it does not know.
const POSTCONF_WITHOUT_SMTP_HELO_NAME: &str = r#"#!/bin/bash
echo "$*" >> /dev/shm/postconf.calls
if [ "$1" = -d ]; then
    /var/tmp/postconf.real "$@" | grep -v '^smtp_helo_name ='
    exit "${PIPESTATUS[0]}"
fi
if [ "$1" = -xc ] && [ -f "$2/main.cf" ]; then
    sed -n "s|^smtp_helo_name = \(.*\)|$0: warning: $2/main.cf: unused parameter: smtp_helo_name=\1|p" "$2/main.cf" >&2
fi
exec -a "$0" /var/tmp/postconf.real "$@"
"#;

fn upgraded(wrapper: &str) -> Scenario {
    Scenario::two_secondaries()
        .setup(&clone_setup())
        .setup(&postconf_wrapper_setup(wrapper))
}

/// `postmulti -l` as both list these instances.
fn listing() -> String {
    let mut s = String::from("-               -               y         /etc/postfix\n");
    s.push_str("postfix-a       g1              n         /etc/postfix-a\n");
    s.push_str("postfix-b       -               n         /etc/postfix-b\n");
    for i in 1..=CLONES {
        s.push_str(&format!(
            "{:<15} -               n         /etc/postfix-c{i}\n",
            format!("postfix-c{i}")
        ));
    }
    s
}

/// The line postconf is run with for one secondary, by upstream's postmulti.
fn per_instance_call(dir: &str) -> String {
    format!(
        "-xc {dir} queue_directory data_directory multi_instance_name multi_instance_group multi_instance_enable\n"
    )
}

const COUNT: &str = ": > /dev/shm/postconf.calls\n\
                     postmulti -l >/dev/null; echo \"exit $?\"\n\
                     cat /dev/shm/postconf.calls\n";

#[test]
fn another_postconf_installed_lists_the_same() {
    upgraded(COUNTING_POSTCONF)
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout(listing())
        .assert_stderr("");
}

#[test]
fn another_postconf_installed_costs_one_postconf_per_run() {
    let sc = upgraded(COUNTING_POSTCONF);
    // Upstream: one postconf per secondary.
    let mut per_instance = String::from("exit 0\n");
    for dir in ["/etc/postfix-a", "/etc/postfix-b"] {
        per_instance.push_str(&per_instance_call(dir));
    }
    for i in 1..=CLONES {
        per_instance.push_str(&per_instance_call(&format!("/etc/postfix-c{i}")));
    }
    sc.run_shell_reference(COUNT).assert_stdout(&per_instance);
    assert_eq!(per_instance.lines().count(), SECONDARIES + 1);
    // Ours: postconf -d once, for all of them.
    sc.run_shell_ours(COUNT)
        .assert_stdout("exit 0\n-d -c /dev/null\n");
}

#[test]
fn version_reports_the_mismatch() {
    let o = upgraded(COUNTING_POSTCONF).run_shell_ours(
        "postmulti --version | sed -n '2,4p'; stat -c '%s' /usr/sbin/postconf /var/tmp/postconf.real",
    );
    o.assert_status(0);
    let out = o.stdout_str();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{}", o.describe());
    let (wrapper_size, real_size) = (lines[3], lines[4]);
    assert!(
        lines[0].starts_with(&format!(
            "# recorded at build time: the {} built-in parameters of Postfix ",
            postmulti::defaults::BUILTIN_NAMES.len()
        )) && lines[0].contains(&format!(
            " from /usr/sbin/postconf ({real_size} bytes, mtime "
        )),
        "{}",
        o.describe()
    );
    assert!(
        lines[1].starts_with(&format!(
            "# installed: /usr/sbin/postconf ({wrapper_size} bytes, mtime "
        )) && lines[1].ends_with(&format!(
            "), Postfix {}",
            postmulti::defaults::BUILT_AGAINST
        )),
        "{}",
        o.describe()
    );
    assert!(
        lines[2].starts_with(
            "# in use: the installed Postfix's table, from postconf -d at run time \
             (the installed postconf is not the one the recorded table came from"
        ),
        "{}",
        o.describe()
    );
}

#[test]
fn a_parameter_the_installed_postfix_no_longer_has() {
    // With the table recorded at build time, ours would take smtp_helo_name
    // for a built-in and read postfix-c3 itself, silently; the installed
    // Postfix warns about it, and so does ours, from the installed table
    // (the native reader prints an unused parameter's warning itself: rule
    // 22 of src/native/), without a postconf for postfix-c3.
    let sc = upgraded(POSTCONF_WITHOUT_SMTP_HELO_NAME)
        .main_cf_append("/etc/postfix-c3/main.cf", "smtp_helo_name = helo.example");
    sc.run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout(listing())
        .assert_stderr(
            "/usr/sbin/postconf: warning: /etc/postfix-c3/main.cf: unused parameter: smtp_helo_name=helo.example\n",
        );
    sc.run_shell_ours(COUNT)
        .assert_stdout("exit 0\n-d -c /dev/null\n");
}

#[test]
fn the_same_postconf_costs_no_postconf_at_all() {
    // Size and mtime are all that identifies the postconf build.rs ran: a
    // wrapper padded to the real one's size, with its mtime, passes for it.
    // Then the recorded table is used and no postconf runs.
    let sc = Scenario::two_secondaries()
        .setup(&clone_setup())
        .setup(&format!(
            "{}truncate -s \"$(stat -c %s /var/tmp/postconf.real)\" /var/tmp/postconf.wrapper\n\
         touch -r /var/tmp/postconf.real /var/tmp/postconf.wrapper\n",
            postconf_wrapper_setup(COUNTING_POSTCONF)
        ));
    let o = sc.run_shell_ours(&format!(
        "{COUNT}postmulti --version | sed -n 4p\n\
         postconf -h mail_version >/dev/null; cat /dev/shm/postconf.calls\n"
    ));
    o.assert_stdout(
        "exit 0\n\
         # in use: the table recorded at build time (the installed postconf is the one it came from)\n\
         -h mail_version\n",
    );
}
