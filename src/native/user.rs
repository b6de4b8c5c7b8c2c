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
//!     with a `$` (postconf expands it in its own name space only), a class
//!     that nothing sets ("undefined parameter", as for a `$name`), and the
//!     rule 17 names of the value of a user-defined or legacy parameter (postconf
//!     does not scan those for databases):
//!     `user_parameter_used_in_main_cf_is_quiet`,
//!     `user_parameter_used_in_master_cf_is_quiet`,
//!     `user_parameter_unused_warns`, `restriction_class_is_used`,
//!     `restriction_class_of_main_cf_is_used_in_master_cf`.
//!     The legacy parameters ([`LEGACY`], pcf_legacy_str_table) are known
//!     like built-in ones, though `postconf -d` does not list them.
//! 19. From 3.9 on, postconf warns about every name set in main.cf or an
//!     `-o` that is in its list of deprecated parameters ("support for
//!     parameter ... will be removed", or "has been removed" when unused):
//!     the TLS switches of old (smtpd_use_tls, ...) from 3.9, and from 3.11
//!     on also names such as fallback_relay and virtual_maps (set, and used
//!     by a default).  Such a name is left to postconf ([`deprecated`]; the
//!     lists were read off 3.10's and 3.11's postconf with every name of
//!     their binaries set): `deprecated_parameter_warns`.
//!     A used name's "undefined parameter" warning (a `$name` that nothing
//!     sets) is left to postconf as before: every `$name` must be
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
    /// holds a `$` (left to postconf) or a name that DEFINED denies
    /// ("undefined parameter").
    pub(super) fn classes(&mut self, value: &[u8], defined: &dyn Fn(&[u8]) -> bool) -> bool {
        if value.contains(&b'$') {
            return false;
        }
        let words = value.split(|&b| matches!(b, b',' | b' ' | b'\t' | b'\r' | b'\n'));
        for word in words.filter(|w| !w.is_empty()) {
            if !defined(word) {
                return false;
            }
            self.names.insert(word.to_vec());
        }
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

/// The legacy parameters postconf knows without listing them
/// (pcf_legacy_str_table): the same 13 on 3.7, 3.10 and 3.11 (every name a
/// main.cf sets that draws no "unused parameter" warning, built-in ones
/// aside, read off each release's postconf).
const LEGACY: &[&str] = &[
    "authorized_verp_clients",
    "fallback_relay",
    "lmtp_per_record_deadline",
    "postscreen_blacklist_action",
    "postscreen_dnsbl_ttl",
    "postscreen_dnsbl_whitelist_threshold",
    "postscreen_whitelist_interfaces",
    "smtp_per_record_deadline",
    "smtpd_client_connection_limit_exceptions",
    "smtpd_per_record_deadline",
    "tlsproxy_client_level",
    "tlsproxy_client_policy",
    "virtual_maps",
];

/// Whether NAME is a legacy parameter ([`LEGACY`]).
pub(super) fn legacy(name: &[u8]) -> bool {
    LEGACY.iter().any(|l| l.as_bytes() == name)
}

/// Deprecated parameters of 3.10 (and 3.9, whose list is taken to be
/// the same), pcf_depr_param_info.
const DEPRECATED_3_10: &[&str] = &[
    "disable_dns_lookups",
    "lmtp_enforce_tls",
    "lmtp_tls_per_site",
    "lmtp_use_tls",
    "postscreen_enforce_tls",
    "postscreen_use_tls",
    "smtp_enforce_tls",
    "smtp_tls_per_site",
    "smtp_use_tls",
    "smtpd_enforce_tls",
    "smtpd_tls_dh1024_param_file",
    "smtpd_tls_eecdh_grade",
    "smtpd_use_tls",
    "tlsproxy_client_enforce_tls",
    "tlsproxy_client_per_site",
    "tlsproxy_client_use_tls",
    "tlsproxy_enforce_tls",
    "tlsproxy_use_tls",
];

/// The parameters 3.11 added to [`DEPRECATED_3_10`].
const DEPRECATED_3_11: &[&str] = &[
    "authorized_verp_clients",
    "fallback_relay",
    "lmtp_cname_overrides_servername",
    "lmtp_per_record_deadline",
    "lmtp_tls_enforce_peername",
    "postscreen_blacklist_action",
    "postscreen_dnsbl_ttl",
    "postscreen_dnsbl_whitelist_threshold",
    "postscreen_whitelist_interfaces",
    "smtp_cname_overrides_servername",
    "smtp_per_record_deadline",
    "smtp_tls_enforce_peername",
    "smtpd_client_connection_limit_exceptions",
    "smtpd_per_record_deadline",
    "tlsproxy_client_level",
    "tlsproxy_client_policy",
    "virtual_maps",
];

/// Whether postconf of the installed release warns about NAME set in
/// main.cf or an `-o` (rule 19): none before 3.9; 3.10's list on 3.10;
/// both lists on 3.9 (not read off, so the longer) and from 3.11 on.
pub(super) fn deprecated(name: &[u8]) -> bool {
    let r = crate::defaults::release();
    let listed = |list: &[&str]| list.iter().any(|d| d.as_bytes() == name);
    if !r.at_least(3, 9) {
        return false;
    }
    listed(DEPRECATED_3_10)
        || (r
            != (crate::defaults::Release {
                major: 3,
                minor: 10,
            })
            && listed(DEPRECATED_3_11))
}

/// An unused name postconf warns about: its file, name and value.
pub(super) type Unused = (&'static [u8], Vec<u8>, Vec<u8>);

/// The unused names postconf warns about (rule 18), as (file, name,
/// value) in the order it prints them: main.cf's, then each master.cf
/// entry's.  None when it would warn otherwise (a deprecated name, rule
/// 19) or in an order its hash tables make (two unused names in main.cf,
/// or in one entry).  KNOWN tells built-in, service and legacy parameters;
/// GLOBAL is what main.cf's scans marked.
pub(super) fn unused_names(
    cf: &MainCf,
    known: &dyn Fn(&[u8]) -> bool,
    global: &Marked,
    locals: &[LocalScope],
) -> Option<Vec<Unused>> {
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
    let mut unused = Vec::new();
    let mut main_unused = 0;
    for (name, value) in &cf.params {
        if deprecated(name) {
            return None;
        }
        if !known(name) && !used_in_main(name) {
            main_unused += 1;
            unused.push((&b"main.cf"[..], name.clone(), value.clone()));
        }
    }
    if main_unused > 1 {
        return None;
    }
    for scope in locals {
        let mut here = 0;
        for &(name, value) in &scope.settings {
            if deprecated(name) {
                return None;
            }
            let used = known(name)
                || (cf.get(name).is_some() && used_in_main(name))
                || scope.marked.names.contains(name)
                || global.names.contains(name)
                || in_defaults(name);
            if !used {
                here += 1;
                unused.push((&b"master.cf"[..], name.to_vec(), value.to_vec()));
            }
        }
        if here > 1 {
            return None;
        }
    }
    Some(unused)
}
