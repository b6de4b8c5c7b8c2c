//! The network parameters of the primary's main.cf, side by side:
//! mail_params_init()'s inet_proto_init(), mynetworks() (computed only when
//! main.cf leaves mynetworks unset) and own_inet_addr_list(), and Debian's
//! MYORIGIN_FROM_FILE (the rules: src/interfaces.rs and
//! src/primary/mail_params.rs).  The interfaces are the sandbox's own (its
//! network namespace): lo carries what each test adds; a kernel without
//! IPv6 is emulated by tests/sandbox/no-ipv6.py (a seccomp filter that
//! fails socket(AF_INET6) with EAFNOSUPPORT, as inet_proto_init() probes).
//!
//! At the end, a generator: interface sets (addresses of both families,
//! classes D and E, up or down, on lo and on a bridge), inet_protocols,
//! inet_interfaces (addresses, names from /etc/hosts, `all`,
//! `loopback-only`), mynetworks_style (case and several words included),
//! with or without mynetworks, in the primary's main.cf and in a
//! secondary's (the native reader's side), each case in a network
//! namespace of its own.  Short in `.ci/run`; by hand:
//!
//!     POSTMULTI_NET_SEED=7 POSTMULTI_NET_CASES=3000 cargo test --test network generated
mod common;
use common::*;

const P: &str = "-               -               y         /etc/postfix\n";

/// The emulation of a kernel without IPv6, at its path in the repository
/// (which every sandbox shares).
fn no_ipv6() -> String {
    format!(
        "python3 {}/tests/sandbox/no-ipv6.py",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The primary main.cf: the baseline without the settings of the names in
/// DROP and of those LINES sets, then LINES.
fn primary(drop: &[&str], lines: &str) -> Scenario {
    let name = |line: &str| line.split('=').next().unwrap_or("").trim().to_string();
    let set: Vec<String> = lines.lines().map(name).collect();
    let mut main_cf: String = BASELINE_MAIN_CF
        .lines()
        .filter(|l| !set.contains(&name(l)) && !drop.contains(&name(l).as_str()))
        .map(|l| format!("{l}\n"))
        .collect();
    main_cf.push_str(lines);
    main_cf.push('\n');
    Scenario::new().file("/etc/postfix/main.cf", main_cf)
}

/// As [`primary`], with mynetworks unset (its default is then computed).
fn unset_mynetworks(lines: &str) -> Scenario {
    primary(&["mynetworks"], lines)
}

/// `postmulti ARGS` dies on both sides with this fatal error (after these
/// warnings) and writes nothing.
fn dies(sc: Scenario, args: &[&str], warnings: &[&str], why: &str) {
    let mut stderr: String = warnings
        .iter()
        .map(|w| format!("postmulti: warning: {w}\n"))
        .collect();
    stderr.push_str(&format!("postmulti: fatal: {why}\n"));
    let c = sc.run(args);
    c.assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr(stderr);
    c.ours().assert_no_files_written();
}

/// `postmulti -l` lists the primary alone, quietly, on both sides.
fn lists(sc: Scenario) {
    sc.run(&["-l"])
        .assert_same()
        .assert_status(0)
        .assert_stdout(P)
        .assert_stderr("");
}

#[test]
fn an_unknown_mynetworks_style_is_fatal() {
    let why = r#"unknown mynetworks mask style value "Subnet" in "Subnet""#;
    dies(
        unset_mynetworks("mynetworks_style = Subnet"),
        &["-l"],
        &[],
        why,
    );
}

#[test]
fn mynetworks_style_names_exactly_one_style() {
    let why = "bad mynetworks_style value: host subnet; specify exactly one value";
    let sc = unset_mynetworks("mynetworks_style = host subnet");
    dies(sc, &["-l"], &[], why);
    let why = "bad mynetworks_style value: ,; specify exactly one value";
    dies(unset_mynetworks("mynetworks_style = ,"), &["-l"], &[], why);
    // One style named twice is one style.
    lists(unset_mynetworks("mynetworks_style = host,host"));
}

#[test]
fn mynetworks_style_is_not_looked_at_when_mynetworks_is_set() {
    lists(primary(&[], "mynetworks_style = Subnet"));
}

#[test]
fn class_style_and_a_class_e_address() {
    let sc = unset_mynetworks("mynetworks_style = class\ninet_interfaces = all")
        .setup("ip addr add 240.0.0.7/24 dev lo");
    let why = "mynetworks_core: unknown address class: 240.0.0.7";
    dies(sc, &["-l"], &[], why);
    // Class D is a class.
    let sc = unset_mynetworks("mynetworks_style = class\ninet_interfaces = all")
        .setup("ip addr add 224.1.2.3/32 dev lo");
    lists(sc);
}

/// A bad style is reported before a bad inet_interfaces: mynetworks()
/// checks it before it asks own_inet_addr_list().
#[test]
fn the_style_before_the_interfaces() {
    let sc = unset_mynetworks("mynetworks_style = Subnet\ninet_interfaces = 192.0.2.99");
    let why = r#"unknown mynetworks mask style value "Subnet" in "Subnet""#;
    dies(sc, &["-l"], &[], why);
}

/// `-e init` with a typo in the style writes no main.cf.
#[test]
fn init_with_a_bad_style_writes_nothing() {
    let why = r#"unknown mynetworks mask style value "hosts" in "hosts""#;
    dies(
        unset_mynetworks("mynetworks_style = hosts"),
        &["-e", "init"],
        &[],
        why,
    );
}

/// `-p start` with a typo in the style starts no instance: no master
/// runs afterwards.
#[test]
fn start_with_a_bad_style_starts_nothing() {
    let sc = Scenario::two_secondaries_a_enabled()
        .setup("sed -i '/^mynetworks =/d' /etc/postfix/main.cf; postconf -e mynetworks_style=hosts")
        .check("pgrep -x master || echo no master");
    let c = sc.run(&["-p", "start"]);
    let why = r#"unknown mynetworks mask style value "hosts" in "hosts""#;
    c.assert_same()
        .assert_status(1)
        .assert_stdout("")
        .assert_stderr(format!("postmulti: fatal: {why}\n"))
        .assert_checks("no master\n[check 0: exit 0]\n");
}

#[test]
fn no_active_interface_at_all() {
    let why = "could not find any active network interfaces";
    for interfaces in ["all", "loopback-only", "127.0.0.1"] {
        let sc =
            primary(&[], &format!("inet_interfaces = {interfaces}")).setup("ip link set lo down");
        dies(sc, &["-l"], &[], why);
    }
    // IPv6 only, with IPv6 off on lo: no address of an enabled family.
    let sc = primary(&[], "inet_protocols = ipv6\ninet_interfaces = all")
        .setup("sysctl -qw net.ipv6.conf.lo.disable_ipv6=1");
    dies(sc, &["-l"], &[], why);
}

/// Every element is resolved before any address is looked for.
#[test]
fn every_name_is_resolved_first() {
    let sc = primary(&[], "inet_interfaces = 192.0.2.99, nosuchhost.invalid");
    let why = "config variable inet_interfaces: host not found: nosuchhost.invalid";
    dies(sc, &["-l"], &[], why);
    let sc = primary(&[], "inet_interfaces = 192.0.2.99, localhost");
    let why = "parameter inet_interfaces: no local interface found for 192.0.2.99";
    dies(sc, &["-l"], &[], why);
}

/// An empty inet_protocols enables no family: inet_interfaces and
/// mynetworks_style are not looked at.
#[test]
fn no_protocol_no_interface_check() {
    lists(primary(
        &[],
        "inet_protocols =\ninet_interfaces = localhost",
    ));
    lists(unset_mynetworks(
        "inet_protocols =\nmynetworks_style = Subnet\ninet_interfaces = nosuch.invalid",
    ));
}

const NO_IPV6: &str = "inet_protocols: disabling IPv6 name/address support: \
                       Address family not supported by protocol";

/// `postmulti ARGS` on a kernel without IPv6, its stderr on a pty
/// (`script`): the pty's lines, then the shell's.
fn without_ipv6(sc: &Scenario, args: &str) -> Compared {
    sc.run_shell(&format!(
        "script -qec '{} postmulti {args}' /dev/null; echo \"exit $?\"",
        no_ipv6()
    ))
}

/// The warning, then the primary alone listed, as the pty shows them.
fn warned_and_listed() -> String {
    format!(
        "postmulti: warning: {NO_IPV6}\r\n{}exit 0\n",
        P.replace('\n', "\r\n")
    )
}

/// A kernel without IPv6 (`ipv6.disable=1`), inet_protocols = all: one
/// warning per run, on every command.
#[test]
fn a_kernel_without_ipv6_warns() {
    let sc = primary(&[], "inet_protocols = all");
    let c = without_ipv6(&sc, "-l");
    c.assert_same().assert_stdout(warned_and_listed());
    let c = without_ipv6(&sc, "-e init");
    c.assert_same()
        .assert_stdout(format!("postmulti: warning: {NO_IPV6}\r\nexit 0\n"));
}

/// The same with IPv6 alone: no family is left, nothing is checked.
#[test]
fn a_kernel_without_ipv6_and_ipv6_alone() {
    let sc = unset_mynetworks("inet_protocols = ipv6\nmynetworks_style = Subnet");
    without_ipv6(&sc, "-l")
        .assert_same()
        .assert_stdout(warned_and_listed());
    let sc = primary(&[], "inet_protocols = all\ninet_interfaces = [::1]");
    without_ipv6(&sc, "-l").assert_same().assert_stdout(format!(
        "postmulti: warning: {NO_IPV6}\r\n\
         postmulti: fatal: config variable inet_interfaces: host not found: [::1]\r\nexit 1\n"
    ));
}

/// Debian builds Postfix with MYORIGIN_FROM_FILE: `myorigin = /PATH` is
/// the first line of that file, trimmed (read_param_from_file()).
#[test]
fn myorigin_from_a_file() {
    let with =
        |file: &str, content: &str| primary(&[], &format!("myorigin = {file}")).file(file, content);
    lists(with("/etc/mailname", "sandbox.example\n"));
    lists(with(
        "/etc/mailname",
        " \t origin.example \r\nsecond line\n",
    ));
    let why = "myorigin file /etc/mailname is empty";
    dies(with("/etc/mailname", ""), &["-l"], &[], why);
    dies(with("/etc/mailname", "  \n"), &["-l"], &[], why);
    let why = "myorigin parameter setting must not contain multiple values: a b";
    dies(with("/etc/mailname", "  a b \nc\n"), &["-l"], &[], why);
    let why = "myorigin parameter setting must not contain multiple values: a,b";
    dies(with("/etc/mailname", "a,b"), &["-l"], &[], why);
    // Expanded first: $config_directory/mailname is a file too.
    lists(with("/etc/postfix/mailname", "x.example\n"));
}

/// Debian 13's and unstable's stock main.cf sets `myorigin = /etc/mailname`:
/// without the file, every command is refused, `-e init` included.
#[test]
fn myorigin_file_that_safe_open_refuses() {
    let missing = primary(&[], "myorigin = /etc/mailname").setup("rm -f /etc/mailname");
    let why = "/etc/mailname: cannot open file: No such file or directory";
    dies(missing.clone(), &["-l"], &[], why);
    dies(missing, &["-e", "init"], &[], why);
    let dir = primary(&[], "myorigin = /etc/postfix");
    dies(dir, &["-l"], &[], "/etc/postfix: file is a directory");
    let sc = primary(&[], "myorigin = /etc/mailname")
        .setup("echo sandbox.example > /etc/mailname; ln -f /etc/mailname /etc/mailname.2");
    dies(sc, &["-l"], &[], "/etc/mailname: file has 2 hard links");
    // A link is followed only when it is root's, in a directory only root
    // may write.
    let sc = primary(&[], "myorigin = /etc/mailname.link")
        .setup("echo sandbox.example > /etc/mailname; ln -sf /etc/mailname /etc/mailname.link");
    lists(sc);
    let sc = primary(&[], "myorigin = /var/tmp/mailname")
        .setup("echo sandbox.example > /etc/mailname; ln -sf /etc/mailname /var/tmp/mailname");
    dies(
        sc,
        &["-l"],
        &[],
        "/var/tmp/mailname: file is a symbolic link",
    );
}

/// The primary's checks cost no process: with mynetworks unset, a name in
/// inet_interfaces and myorigin in a file, `postmulti -l` asks postconf
/// nothing (a wrapper bind-mounted over it logs its command lines; ours
/// then reads the parameter table with `postconf -d -c /dev/null`, as it
/// does whenever the installed postconf is not the one it was built
/// against: not counted).
#[test]
fn the_checks_run_no_postconf() {
    let sc = unset_mynetworks(
        "mynetworks_style = subnet\ninet_interfaces = localhost, 127.0.0.1\n\
         inet_protocols = all\nmyorigin = /etc/mailname",
    )
    .setup(
        "echo sandbox.example > /etc/mailname\n\
         cp -p /usr/sbin/postconf /var/tmp/postconf.real\n\
         printf '#!/bin/sh\\necho \"$*\" >> /dev/shm/postconf.runs\\nexec /var/tmp/postconf.real \"$@\"\\n' > /var/tmp/postconf.wrapper\n\
         chmod 755 /var/tmp/postconf.wrapper",
    );
    let c = sc.run_shell(
        "mount --bind /var/tmp/postconf.wrapper /usr/sbin/postconf\n\
         postmulti -l; echo \"exit $?\"\n\
         touch /dev/shm/postconf.runs; grep -vx -- '-d -c /dev/null' /dev/shm/postconf.runs || echo 'no postconf'",
    );
    c.assert_same()
        .assert_status(0)
        .assert_stdout(format!("{P}exit 0\nno postconf\n"));
}

/// A small deterministic generator (xorshift64*): the same seed, the same
/// cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Addresses an interface may carry (with their prefix lengths).
const ADDRESSES: &[&str] = &[
    "192.0.2.5/24",
    "198.51.100.7/32",
    "10.1.2.3/8",
    "172.16.5.5/12",
    "224.1.2.3/32",
    "240.0.0.7/24",
    "2001:db8::5/64",
    "fd00::1/128",
];

/// Elements of inet_interfaces.
const ELEMENTS: &[&str] = &[
    "127.0.0.1",
    "[127.0.0.1]",
    "::1",
    "[::1]",
    "localhost",
    "192.0.2.5",
    "[192.0.2.5]",
    "192.0.2.99",
    "198.51.100.7",
    "240.0.0.7",
    "224.1.2.3",
    "2001:db8::5",
    "[2001:db8::5]",
    "2001:db8::99",
    "fd00::1",
    "mail-a.test",
    "mail-b.test",
    "mail-6.test",
    "nosuch.invalid",
    "all",
    "ALL",
    "127.1",
    "0x7f.0.0.1",
    "localhost.",
    "[localhost]",
    "::ffff:127.0.0.1",
    "fe80::1",
    "fe80::1%lo",
    "[192.0.2.5",
];

const PROTOCOLS: &[&str] = &[
    "all",
    "all",
    "ipv4",
    "ipv6",
    "ipv4, ipv6",
    "",
    "IPv4",
    "all ipv4",
];

const STYLES: &[&str] = &[
    "host",
    "subnet",
    "class",
    "class",
    "Subnet",
    "HOST",
    "host subnet",
    "host,host",
    ",",
    "class host",
    "hosts",
];

/// One generated case: shell lines that set up its interfaces, the main.cf
/// lines, and whether they go to the secondary postfix-a (the native
/// reader's side) rather than the primary, and whether the kernel has IPv6.
struct Case {
    interfaces: String,
    lines: String,
    drop_mynetworks: bool,
    secondary: bool,
    ipv6: bool,
}

/// A random case.
fn case(rng: &mut Rng) -> Case {
    let mut interfaces = String::new();
    if rng.chance(85) {
        interfaces.push_str("ip link set lo up\n");
    }
    if rng.chance(50) {
        interfaces.push_str("ip link add b0 type bridge\n");
        if rng.chance(70) {
            interfaces.push_str("ip link set b0 up\n");
        }
    }
    for _ in 0..rng.below(4) {
        let addr = rng.pick(ADDRESSES);
        let dev = if interfaces.contains("b0") && rng.chance(50) {
            "b0"
        } else {
            "lo"
        };
        interfaces.push_str(&format!("ip addr add {addr} dev {dev} nodad 2>/dev/null\n"));
    }
    if rng.chance(10) {
        interfaces.push_str("sysctl -qw net.ipv6.conf.lo.disable_ipv6=1\n");
    }
    let mut lines = String::new();
    if rng.chance(80) {
        lines.push_str(&format!("inet_protocols = {}\n", rng.pick(PROTOCOLS)));
    }
    let value = match rng.below(10) {
        0 => "all".to_string(),
        1 => "loopback-only".to_string(),
        n => {
            let count = 1 + n % 3;
            let picked: Vec<&str> = (0..count).map(|_| rng.pick(ELEMENTS)).collect();
            picked.join(if rng.chance(50) { ", " } else { " " })
        }
    };
    lines.push_str(&format!("inet_interfaces = {value}\n"));
    if rng.chance(70) {
        lines.push_str(&format!("mynetworks_style = {}\n", rng.pick(STYLES)));
    }
    Case {
        interfaces,
        lines,
        drop_mynetworks: rng.chance(75),
        secondary: rng.chance(35),
        ipv6: !rng.chance(10),
    }
}

/// The generated cases, each in a network namespace of its own, many at
/// once: stdout has `== N`, the case, then what `postmulti -l` printed
/// (stderr on a pty) and its exit status.
#[test]
fn generated() {
    let seed: u64 = std::env::var("POSTMULTI_NET_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(24);
    let count: usize = std::env::var("POSTMULTI_NET_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(160);
    eprintln!("network generator: POSTMULTI_NET_SEED={seed} POSTMULTI_NET_CASES={count}");
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut script = String::from(
        "mkdir /tmp/case /tmp/out\n\
         printf '192.0.2.5 mail-a.test\\n2001:db8::5 mail-a.test\\n198.51.100.99 mail-b.test\\n\
         2001:db8::5 mail-6.test\\n' >> /etc/hosts\n",
    );
    for i in 0..count {
        let c = case(&mut rng);
        let target = if c.secondary {
            "/etc/postfix-a"
        } else {
            "/etc/postfix"
        };
        let drop = if c.drop_mynetworks {
            "^mynetworks ="
        } else {
            "^$^"
        };
        script.push_str(&format!(
            "mkdir /tmp/case/{i}\n\
             cat > /tmp/case/{i}/net <<'__PM_EOF__'\n{}__PM_EOF__\n\
             {{ grep -v '{drop}' {target}/main.cf; cat <<'__PM_EOF__'\n{}__PM_EOF__\n}} > /tmp/case/{i}/main.cf\n\
             touch -d '-1 min' /tmp/case/{i}/main.cf\n\
             echo {target} > /tmp/case/{i}/target\n\
             echo '{}' > /tmp/case/{i}/wrap\n",
            c.interfaces,
            c.lines,
            if c.ipv6 { String::new() } else { no_ipv6() },
        ));
    }
    script.push_str(&format!(
        r#"one() {{
  d=/tmp/case/$1
  unshare -mn sh -c ". $d/net; mount --bind /dev/null /dev/log 2>/dev/null; mount --bind $d/main.cf $(cat $d/target)/main.cf && exec script -qec '$(cat $d/wrap) postmulti -l' /dev/null" > /tmp/out/$1 2>&1
  echo "exit $?" >> /tmp/out/$1
}}
export -f one
seq 0 {last} | xargs -P 32 -I{{}} bash -c 'one {{}}'
for i in $(seq 0 {last}); do
  echo "== $i $(cat /tmp/case/$i/target) $(cat /tmp/case/$i/wrap)"
  cat /tmp/case/$i/net
  tail -n 4 /tmp/case/$i/main.cf
  echo "--"
  tr -d '\r' < /tmp/out/$i
done
"#,
        last = count - 1
    ));
    let c = Scenario::two_secondaries()
        .timeout(std::time::Duration::from_secs(1800))
        .run_shell(&script);
    c.assert_same().assert_status(0);
    // The generator reaches what it is about: fatal errors of each kind,
    // warnings, and quiet listings, on both sides.
    let out = c.ours().stdout_str();
    for text in [
        "unknown mynetworks mask style value",
        "specify exactly one value",
        "no local interface found for",
        "host not found",
        "unknown inet_protocols value",
        "postfix-a",
    ] {
        assert!(out.contains(text), "no case reached {text:?}:\n{out}");
    }
}
