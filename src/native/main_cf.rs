//! main.cf as postconf reads it, and the values it computes on the
//! running host (postconf_main.c, postconf_builtin.c; the rules are
//! numbered as they were in one list, before the reader became a folder).
//!
//! Computed values (postconf_builtin.c):
//! 10. process_name is "postconf"; process_id its process id.  Mirrored,
//!     process_id only where no comparison can see its digits:
//!     `computed_process_name_in_main_cf`,
//!     `computed_process_id_in_a_conditional`.
//! 11. Whenever main.cf does not set myhostname, postconf takes the
//!     kernel's host name, and dies ("unable to use my own hostname", after
//!     valid_hostname's warning) when it is empty, numeric, has a misplaced
//!     dot or hyphen, another byte than letters, digits, `-`, `_` and `.`,
//!     a label over 63 bytes.  A name without a dot gets `.` and main.cf's
//!     mydomain (evaluated), else "localdomain".  mydomain's default is what
//!     follows the first dot of myhostname, else "localdomain".  Mirrored
//!     ([`crate::hostname`]); a mydomain or myhostname with a `$` in it is
//!     left to postconf: `numeric_host_name_is_refused`,
//!     `host_name_with_adjacent_dots_is_refused`,
//!     `numeric_host_name_is_not_read_when_myhostname_is_set`,
//!     `computed_myhostname_in_a_conditional`, `computed_mydomain_compared`.
//! 12. Whenever main.cf does not set mynetworks, postconf computes it from
//!     the host's interfaces, and in doing so compares compatibility_level
//!     (compat_level_from_string): `major[.minor[.patch]]`, the major
//!     number at most 2^43 - 1, the others at most 1023; anything else is
//!     "malformed compatibility level syntax" and fatal "macro processing
//!     error".  The range is mirrored (other forms are left to postconf);
//!     a value that needs mynetworks' computed default is left to postconf:
//!     `compatibility_level_minor_above_1023`,
//!     `compatibility_level_major_too_large`,
//!     `compatibility_level_limits_are_accepted`,
//!     `computed_mynetworks_in_a_conditional`.  Then, and only then, it
//!     also reads inet_protocols, mynetworks_style and inet_interfaces,
//!     whose addresses must be the host's ([`crate::interfaces`]: numeric
//!     addresses on interfaces that are up are mirrored, host names and
//!     failures are left to postconf): tests/interfaces.rs.
//! 13. A main.cf changed within the last second is read again until it
//!     is older (dict_load_file_xt), with each release's own rules for
//!     the passes (src/maincf.rs): left to postconf.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::expand::referenced_names;
use crate::maincf::MainCf;

use super::dbms::DATABASE_CLIENTS;
use super::service::ServiceParams;

/// Parameters postconf refuses to let a file set (it warns "read-only").
const READ_ONLY: &[&[u8]] = &[
    b"process_id",
    b"process_name",
    b"service_name",
    b"mail_version",
    b"mail_release_date",
];

/// Whether postconf would accept `name = value` without a word: not a
/// read-only parameter, and a checked value in a form known to pass.
/// Braces and databases are the expansion's business (rule 15).
pub(super) fn quiet_setting(name: &[u8], value: &[u8]) -> bool {
    // Read-only; "$$", which some values go through twice.
    if READ_ONLY.contains(&name) || value.windows(2).any(|w| w == b"$$") {
        return false;
    }
    match name {
        b"compatibility_level" => compat_level_is_valid(value),
        _ => true,
    }
}

/// Whether a raw parameter's value (rule 15: postconf neither expands nor
/// scans it) is also quiet when read as any other: no brace and no
/// database client type, in the value or its expansion.  Such values are
/// left to postconf rather than told apart.
pub(super) fn raw_value_is_plain(value: &[u8], expanded: &[u8]) -> bool {
    let has_client = |text: &[u8]| {
        DATABASE_CLIENTS
            .iter()
            .any(|db| text.windows(db.len()).any(|w| w.eq_ignore_ascii_case(db)))
    };
    !has_literal_braces(value)
        && !has_client(value)
        && !expanded.iter().any(|&b| b == b'{' || b == b'}')
        && !has_client(expanded)
}

/// compat_level_from_string() accepts the value: `major[.minor[.patch]]`,
/// decimal numbers, the major one at most 2^43 - 1 (LONG_MAX >> 20), the
/// others at most 1023.  postconf compares compatibility_level whenever it
/// computes mynetworks' default, and dies on any other form ("malformed
/// compatibility level syntax").  Signs and white space, which strtol()
/// also takes, are left to postconf.
fn compat_level_is_valid(value: &[u8]) -> bool {
    const MAJOR_MAX: u64 = (i64::MAX >> 20) as u64;
    let number = |p: &[u8], max: u64| {
        !p.is_empty()
            && p.iter().all(u8::is_ascii_digit)
            && p.iter()
                .try_fold(0u64, |n, &d| {
                    n.checked_mul(10)?
                        .checked_add(u64::from(d - b'0'))
                        .filter(|&n| n <= max)
                })
                .is_some()
    };
    let parts: Vec<&[u8]> = value.split(|&b| b == b'.').collect();
    parts.len() <= 3 && number(parts[0], MAJOR_MAX) && parts[1..].iter().all(|p| number(p, 1023))
}

/// Whether `{` or `}` stand in the value outside `${...}` and `$(...)`.
fn has_literal_braces(value: &[u8]) -> bool {
    let mut i = 0;
    while i < value.len() {
        match value[i] {
            b'$' if matches!(value.get(i + 1), Some(b'{') | Some(b'(')) => {
                let (open, close) = if value[i + 1] == b'{' {
                    (b'{', b'}')
                } else {
                    (b'(', b')')
                };
                let mut level = 1;
                i += 2;
                while i < value.len() && level > 0 {
                    if value[i] == open {
                        level += 1;
                    } else if value[i] == close {
                        level -= 1;
                    }
                    i += 1;
                }
            }
            b'{' | b'}' => return true,
            _ => i += 1,
        }
    }
    false
}

/// How long a chain of references may be before it is left to postconf.
const MAX_CHAIN: usize = 40;

/// The unexpanded value postconf finds for NAME: main.cf's, a service
/// parameter's `$default` (rule 14), or the built-in default.
fn raw_value<'a>(cf: &'a MainCf, services: &ServiceParams, name: &[u8]) -> Option<Cow<'a, [u8]>> {
    if let Some(v) = cf.get(name) {
        return Some(Cow::Borrowed(v));
    }
    if let Some(param) = services.get(name) {
        return Some(Cow::Owned(format!("${param}").into_bytes()));
    }
    crate::defaults::builtin_default(name).map(|v| Cow::Owned(v.as_bytes().to_vec()))
}

/// True when no value refers, through main.cf, service parameters and
/// built-in defaults, back to itself or down a chain long enough to reach
/// Postfix's nesting limit: postconf expands every value and fails on those.
pub(super) fn free_of_reference_cycles(cf: &MainCf, services: &ServiceParams) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done(usize),
    }
    /// Where the walk is: main.cf, the service parameters, the marks.
    struct Walk<'a> {
        cf: &'a MainCf,
        services: &'a ServiceParams,
        marks: HashMap<Vec<u8>, Mark>,
    }
    // Depth of the longest chain below `name`, or None on a cycle.
    fn depth(walk: &mut Walk, name: &[u8], stack: usize) -> Option<usize> {
        match walk.marks.get(name) {
            Some(Mark::Visiting) => return None,
            Some(Mark::Done(d)) => return Some(*d),
            None => {}
        }
        if stack > MAX_CHAIN {
            return None;
        }
        let Some(value) = raw_value(walk.cf, walk.services, name) else {
            return Some(0);
        };
        walk.marks.insert(name.to_vec(), Mark::Visiting);
        let mut deepest = 0;
        for next in referenced_names(&value).ok()? {
            deepest = deepest.max(depth(walk, &next, stack + 1)? + 1);
        }
        walk.marks.insert(name.to_vec(), Mark::Done(deepest));
        (deepest <= MAX_CHAIN).then_some(deepest)
    }
    let mut walk = Walk {
        cf,
        services,
        marks: HashMap::new(),
    };
    cf.params
        .keys()
        .all(|name| depth(&mut walk, name, 0).is_some())
}

/// Whether expanding `value` can come to `target` through main.cf, service
/// parameters and the built-in defaults (a service's `-o name=...$name`
/// refers to itself).
pub(super) fn reaches(cf: &MainCf, services: &ServiceParams, value: &[u8], target: &[u8]) -> bool {
    let mut seen = std::collections::HashSet::new();
    let mut todo: Vec<Vec<u8>> = match referenced_names(value) {
        Ok(names) => names,
        Err(_) => return true,
    };
    while let Some(name) = todo.pop() {
        if name == target {
            return true;
        }
        if !seen.insert(name.clone()) || seen.len() > 1000 {
            continue;
        }
        if let Some(v) = raw_value(cf, services, &name) {
            match referenced_names(&v) {
                Ok(names) => todo.extend(names),
                Err(_) => return true,
            }
        }
    }
    false
}
