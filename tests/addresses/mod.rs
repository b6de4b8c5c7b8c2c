//! Settings of inet_interfaces, proxy_interfaces, inet_protocols,
//! mynetworks_style and mynetworks for the generators of exactness.rs and
//! fuzz.rs (`mod addresses;`).
//!
//! postconf checks inet_interfaces against the host's interfaces when
//! mynetworks is unset (src/interfaces.rs), so the values mix addresses
//! the host has (read with `ip -o addr show up` when the test starts; ::1
//! and 127.0.0.1 at least) with addresses it has not, in both families,
//! bare and bracketed, in lists; names in /etc/hosts and names that resolve
//! nowhere; and the words postconf treats specially, in and out of place.

use std::sync::OnceLock;

/// The addresses of the host's interfaces that are up, as `ip` prints them.
pub fn host_addresses() -> &'static [String] {
    static ADDRESSES: OnceLock<Vec<String>> = OnceLock::new();
    ADDRESSES.get_or_init(|| {
        let mut found = vec!["127.0.0.1".to_string(), "::1".to_string()];
        if let Ok(out) = std::process::Command::new("ip")
            .args(["-o", "addr", "show", "up"])
            .output()
        {
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let words: Vec<&str> = line.split_whitespace().collect();
                for pair in words.windows(2) {
                    if pair[0] == "inet" || pair[0] == "inet6" {
                        let addr = pair[1].split('/').next().unwrap_or("").to_string();
                        if !addr.is_empty() && !found.contains(&addr) {
                            found.push(addr);
                        }
                    }
                }
            }
        }
        found
    })
}

/// Elements that are no address of this host (or not in the form that
/// names one), or that postconf resolves as host names.
const ELSEWHERE: &[&str] = &[
    "192.0.2.77",
    "198.51.100.3",
    "[203.0.113.9]",
    "2001:db8::dead",
    "[2001:db8::beef]",
    "127.0.0.2",
    "0.0.0.0",
    "::",
    "240.1.2.3",
    "fe80::1",
    "::ffff:127.0.0.1",
    "127.1",
    "127.000.0.1",
    "[127.0.0.1",
    "localhost",
    "ip6-localhost",
    "nosuch.invalid",
    "all",
    "loopback-only",
    "ALL",
];

/// One element of an inet_interfaces list.
fn element(below: &mut dyn FnMut(usize) -> usize) -> String {
    let local = host_addresses();
    if below(2) == 0 {
        let addr = &local[below(local.len())];
        if below(2) == 0 {
            format!("[{addr}]")
        } else {
            addr.clone()
        }
    } else {
        ELSEWHERE[below(ELSEWHERE.len())].to_string()
    }
}

/// A value of inet_interfaces (or proxy_interfaces).
pub fn interfaces_value(below: &mut dyn FnMut(usize) -> usize) -> String {
    match below(10) {
        0 => "all".to_string(),
        1 => "loopback-only".to_string(),
        2 => String::new(),
        _ => {
            let seps = [", ", " ", ",", "\t", " , "];
            let n = 1 + below(3);
            let mut v = element(below);
            for _ in 1..n {
                v.push_str(seps[below(seps.len())]);
                v.push_str(&element(below));
            }
            v
        }
    }
}

/// Settings of these parameters, each at most once: inet_interfaces
/// always; the others sometimes; mynetworks set in a third of them.
pub fn interface_settings(below: &mut dyn FnMut(usize) -> usize) -> Vec<(&'static str, String)> {
    let mut out = vec![("inet_interfaces", interfaces_value(below))];
    if below(4) == 0 {
        out.push(("proxy_interfaces", interfaces_value(below)));
    }
    if below(2) == 0 {
        let protocols = [
            "all",
            "ipv4",
            "ipv6",
            "ipv4, ipv6",
            "ipv6 ipv4",
            "IPv4",
            "all ipv4",
            "",
        ];
        out.push((
            "inet_protocols",
            protocols[below(protocols.len())].to_string(),
        ));
    }
    if below(4) == 0 {
        let styles = ["host", "subnet", "class"];
        out.push(("mynetworks_style", styles[below(styles.len())].to_string()));
    }
    if below(3) == 0 {
        out.push(("mynetworks", "127.0.0.0/8 [::1]/128".to_string()));
    }
    out
}
