//! postconf's checks of inet_interfaces, inet_protocols and mynetworks_style,
//! for the native reader ([`crate::native`]).
//!
//! postconf looks at inet_interfaces only while it computes the default of
//! mynetworks (pcf_mynetworks() calls mynetworks(), which calls
//! own_inet_addr_list()), and it computes that default only when the
//! instance's main.cf leaves mynetworks unset: every built-in parameter
//! left at its default is expanded once (scan_default_parameter_values).
//! That is why an instance made by `postmulti -e create` (Debian's main.cf
//! sets mynetworks) lists quietly with any inet_interfaces, while a main.cf
//! with `inet_interfaces = 192.0.2.5` alone makes postconf die.  The same
//! holds for inet_protocols and mynetworks_style, which pcf_mynetworks()
//! reads then and only then.  proxy_interfaces is never looked at.
//!
//! own_inet_addr_init() then takes inet_interfaces as it is written:
//! - `all` (the whole value, lower case): every address of every interface
//!   that is up, of the families in inet_protocols (inet_addr_local(), with
//!   getifaddrs(3) on Linux); none at all is fatal ("could not find any
//!   active network interfaces");
//! - `loopback-only` (the whole value, lower case): the loopback ones of those;
//! - otherwise a list split at commas and white space, each element a host
//!   name or an address, `[...]` around it stripped (inet_addr_host()):
//!   what does not resolve is fatal ("config variable inet_interfaces: host
//!   not found: NAME"), and so is an address that no interface has
//!   ("parameter inet_interfaces: no local interface found for ADDR").
//!
//! mynetworks() with mynetworks_style = class dies on an IPv4 address
//! outside classes A to D ("unknown address class").
//!
//! Here a value is shown quiet only when every element is a numeric address
//! in its plainest form, of an enabled family, that an interface which is up
//! has: then postconf finds each one and says nothing.  Host names (whose
//! resolution goes through nsswitch, /etc/hosts and DNS) and every value
//! that would fail are left to postconf, which prints its own words.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use nix::libc;

use crate::maincf::MainCf;

/// Whether postconf would compute and accept the default of mynetworks for
/// this main.cf without a word: it is set (nothing is computed, and
/// postconf reads none of inet_interfaces, inet_protocols and
/// mynetworks_style), or those three are literal values it accepts that
/// name addresses this host has (`own_inet_addr_list`).
pub fn mynetworks_default_is_quiet(cf: &MainCf) -> bool {
    if cf.get(b"mynetworks").is_some() {
        return true;
    }
    // As written, or the built-in default of the installed postconf.
    let literal = |name: &[u8]| match cf.get(name) {
        Some(v) if v.contains(&b'$') => None,
        Some(v) => Some(v),
        None => crate::defaults::builtin_default(name)
            .map(str::as_bytes)
            .filter(|v| !v.contains(&b'$')),
    };
    let (Some(interfaces), Some(protocols)) =
        (literal(b"inet_interfaces"), literal(b"inet_protocols"))
    else {
        return false;
    };
    let Some(families) = inet_proto_families(protocols) else {
        return false;
    };
    // The built-in default (host or subnet, by compatibility_level) is fine.
    let style = cf.get(b"mynetworks_style");
    if !matches!(style, None | Some(b"host" | b"subnet" | b"class")) {
        return false;
    }
    let Some(own) = own_inet_addr_list(interfaces, families, local_addresses()) else {
        return false;
    };
    // Only "class" can fail on an address.
    style != Some(b"class") || own.iter().all(in_class_a_to_d)
}

/// The address families an inet_protocols value enables, as (IPv4, IPv6),
/// as inet_proto_init() reads it: `all`, `ipv4`, `ipv6` (lower case),
/// separated by commas or white space.  None for anything else
/// (inet_proto_init() dies: "unknown inet_protocols value"), and for a
/// family the host has not (it warns "disabling IPv6 name/address
/// support"): left to postconf.
fn inet_proto_families(value: &[u8]) -> Option<(bool, bool)> {
    let (mut v4, mut v6) = (false, false);
    for word in value
        .split(|&b| matches!(b, b',' | b' ' | b'\t' | b'\r' | b'\n'))
        .filter(|w| !w.is_empty())
    {
        match word {
            b"all" => (v4, v6) = (true, true),
            b"ipv4" => v4 = true,
            b"ipv6" => v6 = true,
            _ => return None,
        }
    }
    let supported = |family| {
        static PROBES: OnceLock<(bool, bool)> = OnceLock::new();
        let (four, six) = *PROBES.get_or_init(|| (probe(libc::AF_INET), probe(libc::AF_INET6)));
        if family == libc::AF_INET {
            four
        } else {
            six
        }
    };
    ((v4 || v6) && (!v4 || supported(libc::AF_INET)) && (!v6 || supported(libc::AF_INET6)))
        .then_some((v4, v6))
}

/// Whether a stream socket of this family can be made, as inet_proto_init()
/// tries before it enables the family.
fn probe(family: libc::c_int) -> bool {
    // SAFETY: socket(2) and close(2) on a descriptor made here.
    unsafe {
        let fd = libc::socket(family, libc::SOCK_STREAM, 0);
        if fd < 0 {
            return false;
        }
        libc::close(fd);
    }
    true
}

/// IPv4 addresses of classes A to D (below 240.0.0.0), which mynetworks()
/// knows a natural mask for; IPv6 addresses are masked as subnets.
fn in_class_a_to_d(addr: &IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => v4.octets()[0] < 240,
        IpAddr::V6(_) => true,
    }
}

/// own_inet_addr_init(): the addresses this instance listens on, or None
/// where postconf would not find them all quietly (or where this cannot be
/// sure that it would).  `local` is what inet_addr_local() reports, before
/// the choice of families.
fn own_inet_addr_list(
    interfaces: &[u8],
    (v4, v6): (bool, bool),
    local: &[IpAddr],
) -> Option<Vec<IpAddr>> {
    let enabled = |a: &IpAddr| if a.is_ipv4() { v4 } else { v6 };
    let local: Vec<IpAddr> = local.iter().copied().filter(enabled).collect();
    // Every branch asks inet_addr_local(), and finding nothing is fatal.
    if local.is_empty() {
        return None;
    }
    if interfaces == b"all" {
        return Some(local);
    }
    if interfaces == b"loopback-only" {
        return Some(local.into_iter().filter(IpAddr::is_loopback).collect());
    }
    let mut own = Vec::new();
    for host in interfaces
        .split(|&b| matches!(b, b',' | b' ' | b'\t' | b'\r' | b'\n'))
        .filter(|h| !h.is_empty())
    {
        let addr = numeric_address(host)?;
        if !enabled(&addr) || !local.contains(&addr) {
            return None;
        }
        own.push(addr);
    }
    Some(own)
}

/// A host or address with its `[...]` taken off, if it has them.
pub(crate) fn unbracketed(host: &[u8]) -> &[u8] {
    match host {
        [b'[', inner @ .., b']'] => inner,
        _ => host,
    }
}

/// An element of inet_interfaces as inet_addr_host() reads a numeric one:
/// `[...]` stripped, then an IPv4 address in dotted-quad form without
/// leading zeros, or an IPv6 address that is neither link-local (its scope
/// matters) nor IPv4-mapped.  None for anything else, host names included:
/// those are resolved by postconf itself.
pub(crate) fn numeric_address(host: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(unbracketed(host)).ok()?;
    if let Ok(v4) = text.parse::<Ipv4Addr>() {
        // Rust's parser takes exactly the four decimal parts without
        // leading zeros, a subset of what getaddrinfo(3) takes.
        return Some(IpAddr::V4(v4));
    }
    let v6: Ipv6Addr = text.parse().ok()?;
    let link_local = v6.segments()[0] & 0xffc0 == 0xfe80;
    (!link_local && v6.to_ipv4_mapped().is_none()).then_some(IpAddr::V6(v6))
}

/// The addresses of the interfaces that are up, as inet_addr_local() finds
/// them with getifaddrs(3): IPv4 and IPv6, the unspecified ones left out.
/// Read once per run (postconf reads them once per process).
pub(crate) fn local_addresses() -> &'static [IpAddr] {
    static LOCAL: OnceLock<Vec<IpAddr>> = OnceLock::new();
    LOCAL.get_or_init(getifaddrs_up)
}

/// getifaddrs(3), the addresses of interfaces with IFF_UP; empty when the
/// call fails (postconf would die: nothing is then shown quiet).
fn getifaddrs_up() -> Vec<IpAddr> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list that freeifaddrs frees;
    // the list is only read in between.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is an element of the list getifaddrs returned.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_flags & libc::IFF_UP as libc::c_uint == 0 || ifa.ifa_addr.is_null() {
            continue;
        }
        // SAFETY: ifa_addr is non-null and its family says which sockaddr
        // it is; each is read with the size of that type.
        let addr = unsafe {
            match i32::from((*ifa.ifa_addr).sa_family) {
                libc::AF_INET => {
                    let sin = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                    IpAddr::V4(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)))
                }
                libc::AF_INET6 => {
                    let sin6 = &*(ifa.ifa_addr as *const libc::sockaddr_in6);
                    IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr))
                }
                _ => continue,
            }
        };
        if !addr.is_unspecified() {
            out.push(addr);
        }
    }
    // SAFETY: `head` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn numeric_addresses_in_their_plainest_forms_only() {
        assert_eq!(numeric_address(b"192.0.2.5"), Some(ip("192.0.2.5")));
        assert_eq!(numeric_address(b"[192.0.2.5]"), Some(ip("192.0.2.5")));
        assert_eq!(numeric_address(b"[2001:db8::5]"), Some(ip("2001:db8::5")));
        assert_eq!(numeric_address(b"2001:db8::5"), Some(ip("2001:db8::5")));
        let others =
            "192.0.2.05 127.1 0x7f.0.0.1 fe80::1 fe80::1%lo ::ffff:127.0.0.1 [192.0.2.5 localhost";
        for other in others.split(' ').chain([""]) {
            assert_eq!(numeric_address(other.as_bytes()), None, "{other:?}");
        }
    }

    #[test]
    fn own_addresses_as_own_inet_addr_init_finds_them() {
        let local = [ip("127.0.0.1"), ip("::1"), ip("192.0.2.5")];
        let both = (true, true);
        let all = own_inet_addr_list(b"all", both, &local).unwrap();
        assert_eq!(all, local.to_vec());
        let lo = own_inet_addr_list(b"loopback-only", (true, false), &local).unwrap();
        assert_eq!(lo, vec![ip("127.0.0.1")]);
        let list = own_inet_addr_list(b"192.0.2.5, [::1]\t127.0.0.1", both, &local).unwrap();
        assert_eq!(list, vec![ip("192.0.2.5"), ip("::1"), ip("127.0.0.1")]);
        assert_eq!(own_inet_addr_list(b"", both, &local), Some(vec![]));
        // Not on the host, a disabled family, "all" as a list element, no
        // interface at all: postconf's business.
        assert_eq!(own_inet_addr_list(b"192.0.2.6", both, &local), None);
        assert_eq!(own_inet_addr_list(b"::1", (true, false), &local), None);
        assert_eq!(own_inet_addr_list(b"all, 127.0.0.1", both, &local), None);
        assert_eq!(own_inet_addr_list(b"ALL", both, &local), None);
        assert_eq!(own_inet_addr_list(b"Loopback-Only", both, &local), None);
        assert_eq!(own_inet_addr_list(b"all", both, &[]), None);
    }
}
