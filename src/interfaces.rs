//! The network parameters as Postfix's library reads them: inet_protocols
//! (inet_proto_init()), inet_interfaces (own_inet_addr_list()) and
//! mynetworks_style (mynetworks_core()).  The primary's checks
//! (src/primary/mail_params.rs) run them as mail_params_init() does; the
//! native reader ([`crate::native`]) asks [`mynetworks_default_is_quiet`]
//! whether postconf would compute mynetworks' default without a word.
//!
//! inet_proto_init(): inet_protocols is a list of `all`, `ipv4` and
//! `ipv6` (lower case, split at commas and white space, name_mask()); any
//! other word is fatal (`unknown inet_protocols value "WORD" in "VALUE"`).
//! Each family it enables is probed with socket(2), IPv6 first: a kernel
//! without the family (EAFNOSUPPORT, EPROTONOSUPPORT) is a warning
//! (`inet_protocols: disabling IPv6 name/address support: REASON`) and the
//! family is dropped; any other error is fatal (`socket: REASON`).
//!
//! mynetworks_core(): with no family left, nothing is looked at (not even
//! mynetworks_style).  Else mynetworks_style is a name_mask() of `class`,
//! `subnet` and `host` (lower case): `unknown mynetworks mask style value
//! "WORD" in "VALUE"`; it must name exactly one (`bad mynetworks_style
//! value: VALUE; specify exactly one value`; a word twice is one).  Then
//! own_inet_addr_list(), and with `class` every IPv4 address must be of
//! class A to D (`mynetworks_core: unknown address class: ADDR`).
//!
//! own_inet_addr_list() (own_inet_addr_init()), with no family left,
//! finds nothing and says nothing.  Else it takes inet_interfaces as it is
//! written:
//! - `all` (the whole value, lower case): every address of every interface
//!   that is up, of the enabled families (inet_addr_local(), with
//!   getifaddrs(3) on Linux); none at all is fatal (`could not find any
//!   active network interfaces`);
//! - `loopback-only` (the whole value, lower case): the same, then the
//!   loopback ones of those;
//! - otherwise a list split at commas, spaces and tabs, each element a host
//!   name or an address, `[...]` around it stripped (inet_addr_host()),
//!   resolved in the enabled families: every element is resolved first, and
//!   one that gives no address is fatal (`config variable inet_interfaces:
//!   host not found: NAME`); the addresses are sorted and duplicates
//!   dropped (inet_addr_list_uniq(): IPv4 first, in an order of its own);
//!   then no interface at all is fatal as above, and so is the first
//!   address, in that order, that no interface has (`parameter
//!   inet_interfaces: no local interface found for ADDR`).
//!
//! postconf looks at these only while it computes the default of mynetworks
//! (pcf_mynetworks() calls mynetworks()), and it computes that default only
//! when the instance's main.cf leaves mynetworks unset: every built-in
//! parameter left at its default is expanded once
//! (scan_default_parameter_values).  That is why an instance made by
//! `postmulti -e create` (Debian's main.cf sets mynetworks) lists quietly
//! with any inet_interfaces, while a main.cf with `inet_interfaces =
//! 192.0.2.5` alone makes postconf die.  proxy_interfaces is never looked
//! at.  The native reader shows a value quiet only when it is literal and
//! every element of inet_interfaces is a numeric address in its plainest
//! form: host names (whose resolution goes through nsswitch, /etc/hosts and
//! DNS) and every value that would warn or fail are left to postconf,
//! which prints its own words.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use nix::libc;

use crate::maincf::MainCf;
use crate::msg::{bfmt, Fatal, Result};

/// The address families inet_protocols leaves enabled: (IPv4, IPv6).
pub type Families = (bool, bool);

/// Whether postconf would compute and accept the default of mynetworks for
/// this main.cf without a word: it is set (nothing is computed, and
/// postconf reads none of inet_interfaces, inet_protocols and
/// mynetworks_style), or those three are literal values it accepts that
/// name addresses this host has, found without a warning.
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
    // The built-in default (host or subnet, by compatibility_level) passes
    // every check that host does.
    let style = match cf.get(b"mynetworks_style") {
        Some(v) if v.contains(&b'$') => return false,
        Some(v) => v,
        None => b"host",
    };
    let mut warned = false;
    let Ok(families) = inet_proto_init(protocols, &mut |_| warned = true) else {
        return false;
    };
    let own = || own_inet_addr_list(interfaces, families, local_addresses(), &mut numeric_only);
    !warned && mynetworks_core(style, families, own).is_ok()
}

/// name_mask()'s words of a list: split at commas and white space.
fn mask_words(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| matches!(b, b',' | b' ' | b'\t' | b'\r' | b'\n'))
        .filter(|w| !w.is_empty())
}

/// inet_proto_init(): the families inet_protocols enables that the kernel
/// has; each one it has not is a warning, handed to `warn`.
pub fn inet_proto_init(value: &[u8], warn: &mut dyn FnMut(Vec<u8>)) -> Result<Families> {
    let (mut v4, mut v6) = (false, false);
    for word in mask_words(value) {
        match word {
            b"all" => (v4, v6) = (true, true),
            b"ipv4" => v4 = true,
            b"ipv6" => v6 = true,
            _ => {
                return Err(Fatal(bfmt(
                    "unknown inet_protocols value \"%s\" in \"%s\"",
                    &[word, value],
                )))
            }
        }
    }
    if v6 {
        v6 = supported(libc::AF_INET6, "IPv6", warn)?;
    }
    if v4 {
        v4 = supported(libc::AF_INET, "IPv4", warn)?;
    }
    Ok((v4, v6))
}

/// Whether the kernel has this family, as inet_proto_init() finds out with
/// socket(2) (probed once per run: the answer does not change).
fn supported(family: libc::c_int, name: &str, warn: &mut dyn FnMut(Vec<u8>)) -> Result<bool> {
    static PROBES: OnceLock<(Option<i32>, Option<i32>)> = OnceLock::new();
    let (four, six) = *PROBES.get_or_init(|| (probe(libc::AF_INET), probe(libc::AF_INET6)));
    let error = if family == libc::AF_INET { four } else { six };
    match error {
        None => Ok(true),
        Some(e) if e == libc::EAFNOSUPPORT || e == libc::EPROTONOSUPPORT => {
            let why = std::io::Error::from_raw_os_error(e);
            let why = crate::msg::io_error_text(&why);
            warn(
                format!("inet_protocols: disabling {name} name/address support: {why}")
                    .into_bytes(),
            );
            Ok(false)
        }
        Some(e) => {
            let why = crate::msg::io_error_text(&std::io::Error::from_raw_os_error(e));
            Err(Fatal::new(format!("socket: {why}")))
        }
    }
}

/// socket(2) of a stream socket of this family: None when it can be made,
/// else its errno.
fn probe(family: libc::c_int) -> Option<i32> {
    // SAFETY: socket(2) and close(2) on a descriptor made here.
    unsafe {
        let fd = libc::socket(family, libc::SOCK_STREAM, 0);
        if fd < 0 {
            return Some(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
        }
        libc::close(fd);
    }
    None
}

/// mynetworks_core(STYLE): the checks mynetworks() makes while it computes
/// the default of mynetworks; `own` is own_inet_addr_list().
pub fn mynetworks_core(
    style: &[u8],
    (v4, v6): Families,
    own: impl FnOnce() -> Result<Vec<IpAddr>>,
) -> Result<()> {
    if !v4 && !v6 {
        return Ok(());
    }
    let (mut class, mut subnet, mut host) = (false, false, false);
    for word in mask_words(style) {
        match word {
            b"class" => class = true,
            b"subnet" => subnet = true,
            b"host" => host = true,
            _ => {
                return Err(Fatal(bfmt(
                    "unknown mynetworks mask style value \"%s\" in \"%s\"",
                    &[word, style],
                )))
            }
        }
    }
    if usize::from(class) + usize::from(subnet) + usize::from(host) != 1 {
        return Err(Fatal(bfmt(
            "bad mynetworks_style value: %s; specify exactly one value",
            &[style],
        )));
    }
    let own = own()?;
    match own.iter().find(|a| class && !in_class_a_to_d(a)) {
        Some(a) => Err(Fatal::new(format!(
            "mynetworks_core: unknown address class: {a}"
        ))),
        None => Ok(()),
    }
}

/// IPv4 addresses of classes A to D (below 240.0.0.0), which mynetworks()
/// knows a natural mask for; IPv6 addresses are masked as subnets.
fn in_class_a_to_d(addr: &IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => v4.octets()[0] < 240,
        IpAddr::V6(_) => true,
    }
}

/// own_inet_addr_init(): the addresses this instance listens on.  `local`
/// is what inet_addr_local() reports, before the choice of families;
/// `resolve` is inet_addr_host() of one element (`[...]` already taken
/// off) in the enabled families: every address it finds.
pub fn own_inet_addr_list(
    interfaces: &[u8],
    (v4, v6): Families,
    local: &[IpAddr],
    resolve: &mut dyn FnMut(&[u8], Families) -> Vec<IpAddr>,
) -> Result<Vec<IpAddr>> {
    if !v4 && !v6 {
        return Ok(Vec::new());
    }
    let enabled = |a: &IpAddr| if a.is_ipv4() { v4 } else { v6 };
    let none_active = || Fatal::new("could not find any active network interfaces");
    let local: Vec<IpAddr> = local.iter().copied().filter(enabled).collect();
    if interfaces == b"all" || interfaces == b"loopback-only" {
        if local.is_empty() {
            return Err(none_active());
        }
        let all = interfaces == b"all";
        return Ok(local
            .into_iter()
            .filter(|a| all || a.is_loopback())
            .collect());
    }
    let mut own: Vec<IpAddr> = Vec::new();
    for host in interfaces
        .split(|&b| matches!(b, b',' | b' ' | b'\t'))
        .filter(|h| !h.is_empty())
    {
        let found: Vec<IpAddr> = resolve(unbracketed(host), (v4, v6))
            .into_iter()
            .filter(enabled)
            .collect();
        if found.is_empty() {
            return Err(Fatal(bfmt(
                "config variable inet_interfaces: host not found: %s",
                &[host],
            )));
        }
        own.extend(found);
    }
    inet_addr_list_uniq(&mut own);
    if local.is_empty() {
        return Err(none_active());
    }
    match own.iter().find(|a| !local.contains(a)) {
        Some(a) => Err(Fatal::new(format!(
            "parameter inet_interfaces: no local interface found for {a}"
        ))),
        None => Ok(own),
    }
}

/// inet_addr_list_uniq(): the addresses sorted with glibc's qsort() and
/// sock_addr_cmp_addr(), then each run of equal ones made one.  The order
/// decides which missing address is reported first.
fn inet_addr_list_uniq(list: &mut Vec<IpAddr>) {
    msort(list);
    list.dedup_by(|b, a| sock_addr_cmp_addr(a, b) == 0);
}

/// sock_addr_cmp_addr(): IPv4 before IPv6 (the families' difference);
/// IPv6 addresses as memcmp() of their bytes, and IPv4 addresses the same
/// way since the fix of the "non-transitive comparison of IPv4 addresses"
/// (Postfix 3.10.13, 3.11.6; the patch levels of 3.8 and 3.9 with it are
/// not known here, taken as later than any).  Before, as the difference of
/// their s_addr, unsigned (the bytes in network order read as a native
/// integer), turned into an int: not an order (it wraps), and what glibc's
/// merge sort makes of it counts (Postfix 3.7).
fn sock_addr_cmp_addr(a: &IpAddr, b: &IpAddr) -> i32 {
    let as_bytes = crate::defaults::release().has_fix(&[(3, 10, 13), (3, 11, 6)], (3, 12));
    match (a, b) {
        (IpAddr::V4(x), IpAddr::V4(y)) if as_bytes => x.octets().cmp(&y.octets()) as i32,
        (IpAddr::V4(x), IpAddr::V4(y)) => {
            let (x, y) = (
                u32::from_ne_bytes(x.octets()),
                u32::from_ne_bytes(y.octets()),
            );
            x.wrapping_sub(y) as i32
        }
        (IpAddr::V6(x), IpAddr::V6(y)) => x.octets().cmp(&y.octets()) as i32,
        (IpAddr::V4(_), IpAddr::V6(_)) => libc::AF_INET - libc::AF_INET6,
        (IpAddr::V6(_), IpAddr::V4(_)) => libc::AF_INET6 - libc::AF_INET,
    }
}

/// glibc's qsort() (msort_with_tmp(), in every release Debian ships): a
/// top-down merge sort, the first half the smaller one, which takes from
/// the first half while the comparison is not positive.
fn msort(list: &mut [IpAddr]) {
    if list.len() <= 1 {
        return;
    }
    let n1 = list.len() / 2;
    msort(&mut list[..n1]);
    msort(&mut list[n1..]);
    let (first, second) = (list[..n1].to_vec(), list[n1..].to_vec());
    let (mut i, mut j) = (0, 0);
    for slot in list.iter_mut() {
        let take_first = j == second.len()
            || (i < first.len() && sock_addr_cmp_addr(&first[i], &second[j]) <= 0);
        if take_first {
            *slot = first[i];
            i += 1;
        } else {
            *slot = second[j];
            j += 1;
        }
    }
}

/// inet_addr_host() as the native reader may answer it: a numeric address
/// in its plainest form, else nothing (postconf is then asked).
fn numeric_only(host: &[u8], _: Families) -> Vec<IpAddr> {
    numeric_address(host).into_iter().collect()
}

/// inet_addr_host() of an element of inet_interfaces (`[...]` taken off):
/// getaddrinfo(3) with the family the enabled ones allow (both: either;
/// hostname_to_sockaddr()), a stream socket and no flags; every address
/// found.  (glibc then gives `::ffff:127.0.0.1` as 127.0.0.1 when only
/// IPv4 is enabled.)
pub(crate) fn resolve(host: &[u8], (v4, v6): Families) -> Vec<IpAddr> {
    let Ok(name) = std::ffi::CString::new(host) else {
        return Vec::new();
    };
    // SAFETY: an all-zero addrinfo is a valid "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = match (v4, v6) {
        (true, false) => libc::AF_INET,
        (false, true) => libc::AF_INET6,
        _ => libc::AF_UNSPEC,
    };
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut head: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: NAME is a C string, HINTS a valid addrinfo; on success HEAD
    // is a list that freeaddrinfo frees, read only in between.
    if unsafe { libc::getaddrinfo(name.as_ptr(), std::ptr::null(), &hints, &mut head) } != 0 {
        return Vec::new();
    }
    let mut found = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: CUR is an element of the list getaddrinfo returned.
        let ai = unsafe { &*cur };
        cur = ai.ai_next;
        if !ai.ai_addr.is_null() {
            // SAFETY: ai_addr is non-null, of the family it says.
            found.extend(unsafe { sockaddr_ip(ai.ai_addr) });
        }
    }
    // SAFETY: HEAD came from getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(head) };
    found
}

/// The address of a sockaddr of the IPv4 or IPv6 family; None for others.
///
/// # Safety
/// SA points to a sockaddr whose family says which sockaddr it is.
unsafe fn sockaddr_ip(sa: *const libc::sockaddr) -> Option<IpAddr> {
    match i32::from((*sa).sa_family) {
        libc::AF_INET => {
            let sin = &*(sa as *const libc::sockaddr_in);
            Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                sin.sin_addr.s_addr,
            ))))
        }
        libc::AF_INET6 => {
            let sin6 = &*(sa as *const libc::sockaddr_in6);
            Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
        }
        _ => None,
    }
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
        // it is.
        let Some(addr) = (unsafe { sockaddr_ip(ifa.ifa_addr) }) else {
            continue;
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

    /// own_inet_addr_list() with only numeric addresses resolved.
    fn own(interfaces: &[u8], families: Families, local: &[IpAddr]) -> Result<Vec<IpAddr>> {
        own_inet_addr_list(interfaces, families, local, &mut numeric_only)
    }

    /// The text of a fatal error.
    fn why<T: std::fmt::Debug>(r: Result<T>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn own_addresses_as_own_inet_addr_init_finds_them() {
        let local = [ip("127.0.0.1"), ip("::1"), ip("192.0.2.5")];
        let both = (true, true);
        assert_eq!(own(b"all", both, &local).unwrap(), local.to_vec());
        let lo = own(b"loopback-only", (true, false), &local).unwrap();
        assert_eq!(lo, vec![ip("127.0.0.1")]);
        let list = own(b"192.0.2.5, [::1]\t127.0.0.1,192.0.2.5", both, &local).unwrap();
        assert_eq!(list, vec![ip("127.0.0.1"), ip("192.0.2.5"), ip("::1")]);
        // Postfix 3.7 reports 224.1.2.3 first here: s_addr compares its
        // last byte first.
        crate::defaults::assume_release(3, 7);
        let local = [ip("127.0.0.1")];
        let why3 = why(own(b"192.0.2.5 224.1.2.3 198.51.100.99", both, &local));
        assert_eq!(
            why3,
            "parameter inet_interfaces: no local interface found for 224.1.2.3"
        );
        crate::defaults::assume_release(3, 12);
        let why3 = why(own(b"192.0.2.5 224.1.2.3 198.51.100.99", both, &local));
        assert_eq!(
            why3,
            "parameter inet_interfaces: no local interface found for 192.0.2.5"
        );
        assert!(own(b"", both, &local).unwrap().is_empty());
        assert!(own(b"nosuch", (false, false), &[]).unwrap().is_empty());
        let missing = "parameter inet_interfaces: no local interface found for 192.0.2.6";
        assert_eq!(why(own(b"192.0.2.6", both, &local)), missing);
        // Every element is resolved before any address is looked for.
        let not_found = "config variable inet_interfaces: host not found: nosuch";
        assert_eq!(why(own(b"192.0.2.6 nosuch", both, &local)), not_found);
        let disabled = "config variable inet_interfaces: host not found: [::1]";
        assert_eq!(why(own(b"[::1]", (true, false), &local)), disabled);
        let all_in_a_list = "config variable inet_interfaces: host not found: all";
        assert_eq!(why(own(b"all, 127.0.0.1", both, &local)), all_in_a_list);
        assert!(own(b"ALL", both, &local).is_err());
        assert!(own(b"Loopback-Only", both, &local).is_err());
        let none = "could not find any active network interfaces";
        assert_eq!(why(own(b"all", both, &[])), none);
        assert_eq!(why(own(b"loopback-only", (false, true), &local[..1])), none);
        assert_eq!(why(own(b"127.0.0.1", both, &[])), none);
    }

    #[test]
    fn mynetworks_style_is_exactly_one_known_word() {
        let local = vec![ip("127.0.0.1"), ip("240.0.0.7")];
        let v4 = (true, false);
        let ok = || Ok(vec![ip("127.0.0.1")]);
        for style in ["host", "subnet", "class", "host,host", " subnet "] {
            assert!(mynetworks_core(style.as_bytes(), v4, ok).is_ok(), "{style}");
        }
        let unknown = r#"unknown mynetworks mask style value "Subnet" in "Subnet""#;
        assert_eq!(why(mynetworks_core(b"Subnet", v4, ok)), unknown);
        let two = "bad mynetworks_style value: host subnet; specify exactly one value";
        assert_eq!(why(mynetworks_core(b"host subnet", v4, ok)), two);
        let none = "bad mynetworks_style value: ,; specify exactly one value";
        assert_eq!(why(mynetworks_core(b",", v4, ok)), none);
        let class_e = "mynetworks_core: unknown address class: 240.0.0.7";
        let own = || Ok(local.clone());
        assert_eq!(why(mynetworks_core(b"class", v4, own)), class_e);
        assert!(mynetworks_core(b"subnet", v4, || Ok(local.clone())).is_ok());
        // No family left: nothing is looked at.
        assert!(mynetworks_core(b"Subnet", (false, false), ok).is_ok());
    }

    #[test]
    fn inet_protocols_words() {
        let mut warnings = Vec::new();
        let mut warn = |w: Vec<u8>| warnings.push(w);
        assert_eq!(inet_proto_init(b"ipv4", &mut warn).unwrap(), (true, false));
        assert_eq!(inet_proto_init(b"", &mut warn).unwrap(), (false, false));
        let unknown = r#"unknown inet_protocols value "IPv4" in "all, IPv4""#;
        assert_eq!(why(inet_proto_init(b"all, IPv4", &mut warn)), unknown);
    }
}
