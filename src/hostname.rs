//! The machine's host name as Postfix takes it (get_hostname(3),
//! valid_hostname(3)), and the myhostname and mydomain defaults postconf
//! computes from it (pcf_check_myhostname, pcf_check_mydomainname).

use crate::maincf::MainCf;

/// VALID_HOSTNAME_LEN and VALID_LABEL_LEN.
const MAX_NAME: usize = 255;
const MAX_LABEL: usize = 63;

/// DEF_MYDOMAIN: the domain of a host name without a dot.
const DEFAULT_DOMAIN: &[u8] = b"localdomain";

/// valid_hostname(name, DO_GRIPE): Ok, or the warning Postfix prints
/// (without its "valid_hostname: " prefix).  Labels of letters, digits,
/// `_` and inner hyphens, at most 63 bytes each, separated by single dots,
/// not all digits, at most 255 bytes in all.
pub fn valid_hostname(name: &[u8]) -> Result<(), String> {
    let shown = || String::from_utf8_lossy(&name[..name.len().min(100)]).into_owned();
    if name.is_empty() {
        return Err("empty hostname".into());
    }
    let (mut label, mut non_numeric) = (0usize, false);
    for (i, &ch) in name.iter().enumerate() {
        let next = name.get(i + 1).copied();
        if ch.is_ascii_alphanumeric() || ch == b'_' {
            label += 1;
            if label > MAX_LABEL {
                return Err(format!("hostname label too long: {}", shown()));
            }
            non_numeric |= !ch.is_ascii_digit();
        } else if ch == b'.' {
            if label == 0 || next.is_none() {
                return Err(format!("misplaced delimiter: {}", shown()));
            }
            label = 0;
        } else if ch == b'-' {
            label += 1;
            if label == 1 || matches!(next, None | Some(b'.')) {
                return Err(format!("misplaced hyphen: {}", shown()));
            }
        } else {
            return Err(format!("invalid character {ch}(decimal): {}", shown()));
        }
    }
    if !non_numeric {
        return Err(format!("numeric hostname: {}", shown()));
    }
    if name.len() > MAX_NAME {
        return Err(format!("bad length {} for {}...", name.len(), shown()));
    }
    Ok(())
}

/// The kernel's host name (gethostname()), empty when it cannot be read.
/// Read each time, as each Postfix process reads it when it starts.
pub fn kernel_host_name() -> Vec<u8> {
    nix::unistd::gethostname()
        .map(crate::bytes::from_os)
        .unwrap_or_default()
}

/// get_hostname(): the kernel's host name, when Postfix can use it (it
/// dies "unable to use my own hostname" otherwise).
pub fn get_hostname() -> Option<Vec<u8>> {
    let name = kernel_host_name();
    valid_hostname(&name).is_ok().then_some(name)
}

/// What postconf computes for myhostname and mydomain when main.cf does not
/// set them.  None for a value that depends on main.cf text postconf
/// evaluates in ways this module does not follow (a `$` in it).
pub struct HostNames {
    pub myhostname: Option<Vec<u8>>,
    pub mydomain: Option<Vec<u8>>,
}

/// The host names postconf computes for an instance with this main.cf, or
/// None when it would die for want of a usable host name: myhostname is
/// not set and the kernel's host name is refused.  Only then does postconf
/// read the kernel's host name at all.
pub fn host_names(cf: &MainCf) -> Option<HostNames> {
    // mail_conf_lookup_eval(): a main.cf value, expanded in main.cf alone.
    let literal = |name: &[u8]| {
        cf.get(name)
            .map(|v| (!v.contains(&b'$')).then(|| v.to_vec()))
    };
    let computed = match cf.get(b"myhostname") {
        Some(_) => None,
        None => Some(check_myhostname(&get_hostname()?, literal(b"mydomain"))),
    };
    // pcf_check_mydomainname(): what follows the first dot of myhostname.
    let myhostname = literal(b"myhostname").unwrap_or_else(|| computed.clone().flatten());
    let mydomain = myhostname
        .as_ref()
        .map(|name| match name.iter().position(|&b| b == b'.') {
            Some(dot) => name[dot + 1..].to_vec(),
            None => DEFAULT_DOMAIN.to_vec(),
        });
    Some(HostNames {
        myhostname: computed.flatten(),
        mydomain,
    })
}

/// pcf_check_myhostname(): the host name, with `.$mydomain` (main.cf's,
/// else "localdomain") appended when it has no dot.  `mydomain` is None
/// when unset, Some(None) when set to something this module cannot
/// evaluate.
fn check_myhostname(host: &[u8], mydomain: Option<Option<Vec<u8>>>) -> Option<Vec<u8>> {
    if host.contains(&b'.') {
        return Some(host.to_vec());
    }
    let domain = mydomain.unwrap_or_else(|| Some(DEFAULT_DOMAIN.to_vec()))?;
    let mut name = host.to_vec();
    name.push(b'.');
    name.extend_from_slice(&domain);
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_postfix_accepts() {
        for ok in ["a", "sandbox.example", "a-b.c_d.9z", "x1", &"a".repeat(63)] {
            assert_eq!(valid_hostname(ok.as_bytes()), Ok(()), "{ok}");
        }
    }

    #[test]
    fn host_names_postfix_refuses_with_its_words() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "empty hostname"),
            (b"123", "numeric hostname: 123"),
            (b"1.2.3.4", "numeric hostname: 1.2.3.4"),
            (b"bad..host", "misplaced delimiter: bad..host"),
            (b".a", "misplaced delimiter: .a"),
            (b"a.", "misplaced delimiter: a."),
            (b"-a", "misplaced hyphen: -a"),
            (b"a-", "misplaced hyphen: a-"),
            (b"a-.b", "misplaced hyphen: a-.b"),
            (b"a b", "invalid character 32(decimal): a b"),
        ];
        for (name, why) in cases {
            assert_eq!(valid_hostname(name), Err(why.to_string()));
        }
        let long = "a".repeat(64);
        assert_eq!(
            valid_hostname(long.as_bytes()),
            Err(format!("hostname label too long: {long}"))
        );
    }

    #[test]
    fn myhostname_gets_a_domain_when_the_host_name_has_no_dot() {
        let with =
            |d: Option<Option<&[u8]>>| check_myhostname(b"vm", d.map(|v| v.map(|s| s.to_vec())));
        assert_eq!(with(None), Some(b"vm.localdomain".to_vec()));
        assert_eq!(with(Some(Some(b"example"))), Some(b"vm.example".to_vec()));
        assert_eq!(with(Some(None)), None);
        assert_eq!(check_myhostname(b"a.b", Some(None)), Some(b"a.b".to_vec()));
    }
}
