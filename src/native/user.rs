//! User-defined parameters and restriction classes (postconf_user.c:
//! pcf_register_user_parameters, pcf_scan_user_parameter_namespace,
//! pcf_flag_user_parameter; postconf_unused.c).
//!
//! 18. A name that is neither built in nor a service parameter
//!     ([`super::service`]) is "unused parameter" unless it is used.
//!     Scans mark names used: every `$name` in any branch (MAC_EXP_FLAG_SCAN,
//!     untaken branches too) of (a) the default of every built-in parameter
//!     main.cf leaves unset, (b) every main.cf value, (c) every `-o` value,
//!     except for the raw parameters ([`super::dbms::RAW`]); the names in
//!     smtpd_restriction_classes, in main.cf or in an `-o`; and the legacy
//!     database names of rule 17.  A name that a scan in main.cf (a, b, the
//!     classes of main.cf, rule 17 there) marks is used in main.cf and in
//!     every master.cf name space; one that a scan in a name space marks is
//!     used there when that name space sets it, else in main.cf.  A
//!     restriction class of main.cf is also used in every name space.  An
//!     `-o` name is known when it is built in, a service parameter, set in
//!     main.cf and used there, or used in its name space.  Mirrored, with
//!     these rules left to postconf: a smtpd_restriction_classes value
//!     with a `$` (postconf expands it in its own name space only), and the
//!     rule 17 names of the value of a user-defined parameter (postconf
//!     does not scan those for databases):
//!     `user_parameter_used_in_main_cf_is_quiet`,
//!     `user_parameter_used_in_master_cf_is_quiet`,
//!     `user_parameter_unused_warns`, `restriction_class_is_used`,
//!     `restriction_class_of_main_cf_is_used_in_master_cf`.
//!     A used name's "undefined parameter" warning (a `$name` that nothing
//!     sets) is rule 19, left to postconf as before: every `$name` must be
//!     set in main.cf, in the entry's name space, or be built in or a
//!     service parameter.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use crate::defaults::{is_builtin, table};
use crate::expand::referenced_names;
use crate::maincf::MainCf;

use super::dbms::RAW;

/// The names one scope's scans mark (rule 18).
#[derive(Default)]
pub(super) struct Marked {
    pub names: HashSet<Vec<u8>>,
}

impl Marked {
    /// Marks every `$name` of VALUE, in any branch; false when the value
    /// cannot be scanned (postconf would say so).
    pub(super) fn scan(&mut self, value: &[u8]) -> bool {
        match referenced_names(value) {
            Ok(names) => {
                self.names.extend(names);
                true
            }
            Err(_) => false,
        }
    }

    /// Marks the names of a smtpd_restriction_classes value; false when it
    /// holds a `$` (left to postconf).
    pub(super) fn classes(&mut self, value: &[u8]) -> bool {
        if value.contains(&b'$') {
            return false;
        }
        let words = value.split(|&b| matches!(b, b',' | b' ' | b'\t' | b'\r' | b'\n'));
        self.names
            .extend(words.filter(|w| !w.is_empty()).map(<[u8]>::to_vec));
        true
    }
}

/// Whether a parameter's value is scanned at all (not a raw one).
pub(super) fn scanned(name: &[u8]) -> bool {
    !RAW.contains(&name)
}

/// Name -> the built-in parameters whose default refers to it.
type References = HashMap<Vec<u8>, Vec<&'static str>>;

/// For each name that is not built in, the built-in parameters whose
/// default refers to it (scan (a) of rule 18), for the table in use.
fn default_references() -> &'static References {
    static MAP: OnceLock<(usize, References)> = OnceLock::new();
    let t = table();
    let made = MAP.get_or_init(|| (t.names.as_ptr() as usize, references_of(&t)));
    if made.0 == t.names.as_ptr() as usize {
        &made.1
    } else {
        // Another table than the first one seen (tests that swap it):
        // made again, once per call; never the case in a postmulti run.
        Box::leak(Box::new(references_of(&t)))
    }
}

/// [`default_references`] of table T.
fn references_of(t: &crate::defaults::Table) -> References {
    let mut map = References::new();
    for (name, default) in t.names.iter().zip(t.defaults) {
        let Some(default) = default else { continue };
        if !scanned(name.as_bytes()) {
            continue;
        }
        for used in referenced_names(default.as_bytes()).unwrap_or_default() {
            if !is_builtin(&used) {
                map.entry(used).or_default().push(name);
            }
        }
    }
    map
}

/// One master.cf name space as rule 18 sees it: its settings and what
/// its scans marked.
pub(super) struct LocalScope<'a> {
    pub settings: Vec<(&'a [u8], &'a [u8])>,
    pub marked: Marked,
}

/// Whether every main.cf name and every `-o` name is known to postconf
/// (rule 18): otherwise it warns "unused parameter".  KNOWN tells built-in
/// and service parameters; GLOBAL is what main.cf's scans marked.
pub(super) fn all_names_used(
    cf: &MainCf,
    known: &dyn Fn(&[u8]) -> bool,
    global: &Marked,
    locals: &[LocalScope],
) -> bool {
    let in_defaults = |name: &[u8]| {
        default_references()
            .get(name)
            .is_some_and(|params| params.iter().any(|p| cf.get(p.as_bytes()).is_none()))
    };
    let used_in_main = |name: &[u8]| {
        global.names.contains(name)
            || in_defaults(name)
            || locals.iter().any(|scope| {
                scope.marked.names.contains(name) && !scope.settings.iter().any(|(n, _)| *n == name)
            })
    };
    let main_ok = cf
        .params
        .keys()
        .all(|name| known(name) || used_in_main(name));
    main_ok
        && locals.iter().all(|scope| {
            scope.settings.iter().all(|&(name, _)| {
                known(name)
                    || (cf.get(name).is_some() && used_in_main(name))
                    || scope.marked.names.contains(name)
                    || global.names.contains(name)
                    || in_defaults(name)
            })
        })
}
