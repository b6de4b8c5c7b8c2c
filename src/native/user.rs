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
//!     parameter "NAME" will be removed; instead, ..."; "has been removed"
//!     when it is not known): the TLS switches of old (smtpd_use_tls, ...)
//!     from 3.9, and from 3.11 on also names such as fallback_relay and
//!     virtual_maps, after which 3.11 adds `See
//!     https://www.postfix.org/DEPRECATION_README.html for details`.  The
//!     lists and their words ([`deprecated`]) were read off 3.10's and
//!     3.11's postconf with every name of their binaries set.  Mirrored as
//!     rule 22 says; "has been removed" is left to postconf:
//!     `deprecated_parameter_warns`.
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
/// the same), pcf_depr_param_info, each with what its warning says
/// instead (lmtp_enforce_tls's without "specify", as postconf has it).
const DEPRECATED_3_10: &[(&str, &str)] = &[
    ("disable_dns_lookups", "specify \"smtp_dns_support_level\""),
    ("lmtp_enforce_tls", "lmtp_tls_security_level"),
    ("lmtp_tls_per_site", "specify \"lmtp_tls_policy_maps\""),
    ("lmtp_use_tls", "specify \"lmtp_tls_security_level\""),
    (
        "postscreen_enforce_tls",
        "specify \"postscreen_tls_security_level\"",
    ),
    (
        "postscreen_use_tls",
        "specify \"postscreen_tls_security_level\"",
    ),
    ("smtp_enforce_tls", "specify \"smtp_tls_security_level\""),
    ("smtp_tls_per_site", "specify \"smtp_tls_policy_maps\""),
    ("smtp_use_tls", "specify \"smtp_tls_security_level\""),
    ("smtpd_enforce_tls", "specify \"smtpd_tls_security_level\""),
    (
        "smtpd_tls_dh1024_param_file",
        "do not specify (leave at default)",
    ),
    ("smtpd_tls_eecdh_grade", "do not specify (leave at default)"),
    ("smtpd_use_tls", "specify \"smtpd_tls_security_level\""),
    (
        "tlsproxy_client_enforce_tls",
        "specify \"tlsproxy_client_security_level\"",
    ),
    (
        "tlsproxy_client_per_site",
        "specify \"tlsproxy_client_policy_maps\"",
    ),
    (
        "tlsproxy_client_use_tls",
        "specify \"tlsproxy_client_security_level\"",
    ),
    (
        "tlsproxy_enforce_tls",
        "specify \"tlsproxy_tls_security_level\"",
    ),
    (
        "tlsproxy_use_tls",
        "specify \"tlsproxy_tls_security_level\"",
    ),
];

/// The parameters 3.11 added to [`DEPRECATED_3_10`].
const DEPRECATED_3_11: &[(&str, &str)] = &[
    (
        "authorized_verp_clients",
        "specify \"smtpd_authorized_verp_clients\"",
    ),
    ("fallback_relay", "specify \"smtp_fallback_relay\""),
    ("lmtp_cname_overrides_servername", "do not specify"),
    (
        "lmtp_per_record_deadline",
        "specify \"lmtp_per_request_deadline\"",
    ),
    (
        "lmtp_tls_enforce_peername",
        "specify \"lmtp_tls_security_level\"",
    ),
    (
        "postscreen_blacklist_action",
        "specify \"postscreen_denylist_action\"",
    ),
    (
        "postscreen_dnsbl_ttl",
        "specify \"postscreen_dnsbl_max_ttl\"",
    ),
    (
        "postscreen_dnsbl_whitelist_threshold",
        "specify \"postscreen_dnsbl_allowlist_threshold\"",
    ),
    (
        "postscreen_whitelist_interfaces",
        "specify \"postscreen_allowlist_interfaces\"",
    ),
    ("smtp_cname_overrides_servername", "do not specify"),
    (
        "smtp_per_record_deadline",
        "specify \"smtp_per_request_deadline\"",
    ),
    (
        "smtp_tls_enforce_peername",
        "specify \"smtp_tls_security_level\"",
    ),
    (
        "smtpd_client_connection_limit_exceptions",
        "specify \"smtpd_client_event_limit_exceptions\"",
    ),
    (
        "smtpd_per_record_deadline",
        "specify \"smtpd_per_request_deadline\"",
    ),
    (
        "tlsproxy_client_level",
        "specify \"tlsproxy_client_security_level\"",
    ),
    (
        "tlsproxy_client_policy",
        "specify \"tlsproxy_client_policy_maps\"",
    ),
    ("virtual_maps", "specify \"virtual_alias_maps\""),
];

/// What postconf of the installed release says instead of NAME set in
/// main.cf or an `-o` (rule 19), if it is deprecated: none before 3.9;
/// 3.10's list on 3.10; both lists on 3.9 (not read off, so the longer)
/// and from 3.11 on.
pub(super) fn deprecated(name: &[u8]) -> Option<&'static str> {
    let r = crate::defaults::release();
    let find = |list: &[(&'static str, &'static str)]| {
        list.iter()
            .find(|(d, _)| d.as_bytes() == name)
            .map(|(_, instead)| *instead)
    };
    if !r.at_least(3, 9) {
        return None;
    }
    let only_3_10 = r.at_least(3, 10) && !r.at_least(3, 11);
    find(DEPRECATED_3_10).or_else(|| {
        if only_3_10 {
            None
        } else {
            find(DEPRECATED_3_11)
        }
    })
}

/// A warning of pcf_flag_unused_parameters: the file it names and its text.
pub(super) type Unused = (&'static [u8], Vec<u8>);

/// The warnings postconf prints about the names of main.cf and master.cf
/// (rules 18, 19), in an order it prints them: main.cf's, then each
/// master.cf entry's.  Within one file or entry postconf's order is that
/// of its hash table: from 3.10 on it varies from run to run, so any order
/// is one postconf prints; before 3.10 it does not, and two warnings there
/// are left to postconf (None).  KNOWN tells built-in, service and legacy
/// parameters; GLOBAL is what main.cf's scans marked.
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
    let any_order = crate::defaults::release().at_least(3, 10);
    // One name's warning: unused, or deprecated (a deprecated name that
    // is not known would be "has been removed": left to postconf).
    let warning = |name: &[u8], value: &[u8], used: bool| -> Option<Option<Vec<u8>>> {
        match (deprecated(name), used) {
            (Some(_), false) => None,
            (Some(instead), true) => Some(Some(
                [
                    &b"support for parameter \""[..],
                    name,
                    b"\" will be removed; instead, ",
                    instead.as_bytes(),
                ]
                .concat(),
            )),
            (None, true) => Some(None),
            (None, false) => Some(Some(
                [&b"unused parameter: "[..], name, b"=", value].concat(),
            )),
        }
    };
    let mut warnings = Vec::new();
    let mut main = Vec::new();
    for (name, value) in &cf.params {
        let used = known(name) || used_in_main(name);
        if let Some(w) = warning(name, value, used)? {
            main.push((&b"main.cf"[..], w));
        }
    }
    if main.len() > 1 && !any_order {
        return None;
    }
    // Sorted, as main.cf's table is a hash here too: one order (any is
    // postconf's on 3.10 and later, and before there is at most one).
    main.sort();
    warnings.extend(main);
    for scope in locals {
        let mut here = Vec::new();
        for &(name, value) in &scope.settings {
            let used = known(name)
                || (cf.get(name).is_some() && used_in_main(name))
                || scope.marked.names.contains(name)
                || global.names.contains(name)
                || in_defaults(name);
            if let Some(w) = warning(name, value, used)? {
                here.push((&b"master.cf"[..], w));
            }
        }
        if here.len() > 1 && !any_order {
            return None;
        }
        warnings.extend(here);
    }
    Some(warnings)
}
