//! inet_interfaces, proxy_interfaces and inet_protocols in secondary
//! instances, side by side, in a network namespace whose addresses the test
//! sets up: lo carries 127.0.0.1, ::1, 192.0.2.5, 2001:db8::5 and 240.1.2.3.
//!
//! postconf (`postconf -xc DIR ...`, as postmulti runs it) checks
//! inet_interfaces only while it computes the default of mynetworks, that
//! is when DIR/main.cf leaves mynetworks unset (src/interfaces.rs).  An
//! instance made by `postmulti -e create` sets mynetworks (Debian's stock
//! main.cf), so it lists quietly whatever its inet_interfaces says; the same
//! setting alone in a main.cf, or with mynetworks removed, makes postconf
//! die.  Each scenario here pins the reference's output and exit status;
//! the counting ones also pin which instances ours hands to postconf (a
//! wrapper bind-mounted over /usr/sbin/postconf logs its command lines).
mod common;
use common::*;

/// The sandbox's addresses, on lo.
const ADDRESSES: &str = "ip addr add 192.0.2.5/24 dev lo\n\
                         ip -6 addr add 2001:db8::5/64 dev lo\n\
                         ip addr add 240.1.2.3/32 dev lo\n";

/// The first lines of a main.cf written from scratch for /etc/postfix-NAME.
fn lone_main_cf(name: &str, settings: &str) -> String {
    format!(
        "queue_directory = /var/spool/postfix-{name}\n\
         data_directory = /var/lib/postfix-{name}\n\
         multi_instance_name = postfix-{name}\n{settings}"
    )
}

/// A secondary /etc/postfix-NAME: a copy of the created postfix-b with
/// `settings` appended, or (`lone`) with a main.cf of only its private
/// parameters and `settings`; listed in multi_instance_directories.
fn instance(name: &str, settings: &str, lone: bool) -> String {
    let main_cf = if lone {
        format!(
            "cat > /etc/postfix-{name}/main.cf <<'__PM_EOF__'\n{}__PM_EOF__\n",
            lone_main_cf(name, settings)
        )
    } else {
        format!(
            "sed -i -e 's|^multi_instance_name = .*|multi_instance_name = postfix-{name}|' \
                 -e 's|^queue_directory = .*|queue_directory = /var/spool/postfix-{name}|' \
                 -e 's|^data_directory = .*|data_directory = /var/lib/postfix-{name}|' \
                 /etc/postfix-{name}/main.cf\n\
             cat >> /etc/postfix-{name}/main.cf <<'__PM_EOF__'\n{settings}__PM_EOF__\n"
        )
    };
    format!(
        "cp -a /etc/postfix-b /etc/postfix-{name}\n\
         cp -a /var/spool/postfix-b /var/spool/postfix-{name}\n\
         cp -a /var/lib/postfix-b /var/lib/postfix-{name}\n\
         {main_cf}\
         postconf -e \"multi_instance_directories = $(postconf -h multi_instance_directories) /etc/postfix-{name}\"\n"
    )
}

/// Instances on which postconf is quiet: (name, settings, lone main.cf).
const QUIET: &[(&str, &str, bool)] = &[
    // Created instances (mynetworks set): never checked.
    ("c1", "inet_interfaces = 192.0.2.5\n", false),
    ("c2", "inet_interfaces = [192.0.2.5], 127.0.0.1\n", false),
    ("c3", "inet_interfaces = 2001:db8::5 [::1]\n", false),
    ("c4", "inet_interfaces = 192.0.2.99\n", false),
    ("c5", "inet_interfaces = nosuch.invalid\n", false),
    ("c6", "inet_interfaces = 2001:db8::99\n", false),
    (
        "c7",
        "proxy_interfaces = 198.51.100.1, nosuch.invalid\n",
        false,
    ),
    // Nor are inet_protocols and mynetworks_style, with mynetworks set.
    (
        "m1",
        "mynetworks = 127.0.0.0/8\ninet_protocols = IPv4\nmynetworks_style = weird\ninet_interfaces = 192.0.2.99\n",
        true,
    ),
    // Lone settings (mynetworks unset): addresses the host has.
    ("l1", "inet_interfaces = 192.0.2.5\n", true),
    ("l2", "inet_interfaces = [2001:db8::5],127.0.0.1\n", true),
    (
        "l3",
        "inet_interfaces = 192.0.2.5\ninet_protocols = ipv4\n",
        true,
    ),
    (
        "l4",
        "inet_interfaces = [2001:db8::5]\ninet_protocols = ipv6\n",
        true,
    ),
    (
        "l5",
        "inet_interfaces = 192.0.2.5\ninet_protocols = ipv4, ipv6\n",
        true,
    ),
    ("l6", "inet_interfaces =\n", true),
    (
        "l7",
        "inet_interfaces = loopback-only\nmynetworks_style = class\n",
        true,
    ),
    (
        "l8",
        "inet_interfaces = 240.1.2.3\nmynetworks_style = subnet\n",
        true,
    ),
    ("l9", "proxy_interfaces = 198.51.100.1\n", true),
    // A host name: postconf resolves it, ours asks postconf.
    ("n1", "inet_interfaces = localhost\n", true),
];

fn quiet_scenario() -> Scenario {
    QUIET.iter().fold(
        Scenario::two_secondaries().setup(ADDRESSES),
        |sc, (name, settings, lone)| sc.setup(&instance(name, settings, *lone)),
    )
}

fn quiet_listing() -> String {
    let mut s = String::from(
        "-               -               y         /etc/postfix\n\
         postfix-a       g1              n         /etc/postfix-a\n\
         postfix-b       -               n         /etc/postfix-b\n",
    );
    for (name, _, _) in QUIET {
        s.push_str(&format!(
            "{:<15} -               n         /etc/postfix-{name}\n",
            format!("postfix-{name}")
        ));
    }
    s
}

#[test]
fn addresses_of_the_host_list_quietly() {
    quiet_scenario()
        .run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout(quiet_listing())
        .assert_stderr("");
}

#[test]
fn addresses_of_the_host_are_answered_natively_names_by_postconf() {
    let out = quiet_scenario()
        .setup(COUNTING_POSTCONF)
        .run_shell_ours(LIST_AND_COUNT);
    out.assert_status(0);
    out.assert_stdout(format!(
        "{}exit 0\npostconf -xc /etc/postfix-n1\n",
        quiet_listing()
    ));
}

/// postfix-b's main.cf replaced by a lone `settings`, or (`created`) the
/// created one with `settings` appended and mynetworks removed.
fn failing(settings: &str, created: bool) -> Scenario {
    let edit = if created {
        format!(
            "postconf -c /etc/postfix-b -X mynetworks\n\
             cat >> /etc/postfix-b/main.cf <<'__PM_EOF__'\n{settings}__PM_EOF__\n"
        )
    } else {
        format!(
            "cat > /etc/postfix-b/main.cf <<'__PM_EOF__'\n{}__PM_EOF__\n",
            lone_main_cf("b", settings)
        )
    };
    Scenario::two_secondaries().setup(ADDRESSES).setup(&edit)
}

/// The reference's words when postconf dies on postfix-b, and ours.
#[track_caller]
fn dies_with(sc: Scenario, postconf_says: &str) {
    sc.run(&["-l"])
        .assert_same()
        .assert_status(1)
        .assert_stderr_line(&format!("/usr/sbin/postconf: fatal: {postconf_says}"))
        .assert_stderr_line(
            "postmulti: fatal: Failed to obtain all required /etc/postfix-b/main.cf parameters",
        );
}

#[test]
fn created_instance_without_mynetworks_and_an_address_not_on_the_host() {
    dies_with(
        failing("inet_interfaces = 192.0.2.99\n", true),
        "parameter inet_interfaces: no local interface found for 192.0.2.99",
    );
}

#[test]
fn lone_address_not_on_the_host() {
    dies_with(
        failing("inet_interfaces = 192.0.2.5, [2001:db8::99]\n", false),
        "parameter inet_interfaces: no local interface found for 2001:db8::99",
    );
}

#[test]
fn lone_name_that_resolves_nowhere() {
    dies_with(
        failing("inet_interfaces = nosuch.invalid\n", false),
        "config variable inet_interfaces: host not found: nosuch.invalid",
    );
}

#[test]
fn lone_address_of_a_disabled_family() {
    dies_with(
        failing(
            "inet_interfaces = 2001:db8::5\ninet_protocols = ipv4\n",
            false,
        ),
        "config variable inet_interfaces: host not found: 2001:db8::5",
    );
}

#[test]
fn lone_all_in_capitals_is_a_host_name() {
    dies_with(
        failing("inet_interfaces = ALL\n", false),
        "config variable inet_interfaces: host not found: ALL",
    );
}

#[test]
fn lone_all_in_a_list_is_a_host_name() {
    dies_with(
        failing("inet_interfaces = all, 127.0.0.1\n", false),
        "config variable inet_interfaces: host not found: all",
    );
}

#[test]
fn lone_inet_protocols_in_capitals() {
    dies_with(
        failing("inet_protocols = IPv4\n", false),
        "unknown inet_protocols value \"IPv4\" in \"IPv4\"",
    );
}

#[test]
fn lone_class_e_address_with_mynetworks_style_class() {
    dies_with(
        failing(
            "inet_interfaces = 240.1.2.3\nmynetworks_style = class\n",
            false,
        ),
        "mynetworks_core: unknown address class: 240.1.2.3",
    );
}
