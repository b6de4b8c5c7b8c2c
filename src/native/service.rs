//! Per-service parameters: names made of a master.cf service name and a
//! suffix (postconf_service.c, pcf_register_service_parameters).
//!
//! 14. For every master.cf entry whose command field (the eighth word, as
//!     written: `smtp`, not `/usr/lib/postfix/sbin/smtp`) is a delivery
//!     agent (`local`, `error`, `virtual`, `smtp`, `lmtp`, `pipe`), postconf
//!     adds the parameters SERVICE + each suffix of [`DELIVERY`] to its
//!     global name space, each with the default `$` + its parameter
//!     (`relay_destination_concurrency_limit` =
//!     `$default_destination_concurrency_limit`); `pipe` and `spawn` also
//!     get SERVICE`_time_limit` = `$command_time_limit`.  A name that is
//!     already built in (`local_destination_concurrency_limit`) keeps its
//!     own default.  The same list on 3.7, 3.10 and 3.11 (`postconf -c
//!     DIR` with `zz unix - - n - - smtp` in master.cf prints them).
//!     Mirrored: such names may be set in main.cf and in `-o`, and `$name`
//!     refers to them: `service_parameter_from_master_cf_is_known`,
//!     `service_parameter_default_follows_its_global_default`,
//!     `service_parameter_of_a_service_with_a_path_is_unknown`.

use std::collections::HashMap;

use crate::defaults::is_builtin;
use crate::mastercf::MasterEntry;

/// The suffixes a delivery agent's service name gets, each with the
/// parameter its default refers to.
pub(super) const DELIVERY: [(&str, &str); 16] = [
    ("_delivery_slot_cost", "default_delivery_slot_cost"),
    ("_delivery_slot_discount", "default_delivery_slot_discount"),
    ("_delivery_slot_loan", "default_delivery_slot_loan"),
    (
        "_destination_concurrency_failed_cohort_limit",
        "default_destination_concurrency_failed_cohort_limit",
    ),
    (
        "_destination_concurrency_limit",
        "default_destination_concurrency_limit",
    ),
    (
        "_destination_concurrency_negative_feedback",
        "default_destination_concurrency_negative_feedback",
    ),
    (
        "_destination_concurrency_positive_feedback",
        "default_destination_concurrency_positive_feedback",
    ),
    ("_destination_rate_delay", "default_destination_rate_delay"),
    (
        "_destination_recipient_limit",
        "default_destination_recipient_limit",
    ),
    ("_extra_recipient_limit", "default_extra_recipient_limit"),
    (
        "_initial_destination_concurrency",
        "initial_destination_concurrency",
    ),
    ("_minimum_delivery_slots", "default_minimum_delivery_slots"),
    ("_recipient_limit", "default_recipient_limit"),
    ("_recipient_refill_delay", "default_recipient_refill_delay"),
    ("_recipient_refill_limit", "default_recipient_refill_limit"),
    ("_transport_rate_delay", "default_transport_rate_delay"),
];

/// The suffix `pipe` and `spawn` services get, and its parameter.
const TIME_LIMIT: (&str, &str) = ("_time_limit", "command_time_limit");

/// Service parameter name -> the built-in parameter its default refers to.
pub(super) type ServiceParams = HashMap<Vec<u8>, &'static str>;

/// The service parameters master.cf's entries add to postconf's global
/// name space, built-in names left out.
pub(super) fn service_parameters(entries: &[MasterEntry]) -> ServiceParams {
    let mut params = ServiceParams::new();
    for entry in entries {
        let suffixes: &[(&str, &str)] = match &entry.argv[7][..] {
            b"local" | b"error" | b"virtual" | b"smtp" | b"lmtp" => &DELIVERY,
            b"pipe" => &[TIME_LIMIT],
            b"spawn" => &[TIME_LIMIT],
            _ => continue,
        };
        let pipe = entry.argv[7] == b"pipe";
        let all = suffixes
            .iter()
            .chain(if pipe { &DELIVERY[..] } else { &[] });
        for (suffix, param) in all {
            let mut name = entry.argv[0].clone();
            name.extend_from_slice(suffix.as_bytes());
            if !is_builtin(&name) {
                params.insert(name, param);
            }
        }
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An entry with service SERVICE and command COMMAND.
    fn entry(service: &str, command: &str) -> MasterEntry {
        let words = [service, "unix", "-", "-", "n", "-", "-", command];
        MasterEntry {
            argv: words.iter().map(|w| w.as_bytes().to_vec()).collect(),
        }
    }

    #[test]
    fn delivery_agents_pipe_and_spawn_get_their_suffixes() {
        let params = service_parameters(&[
            entry("zzrelay", "smtp"),
            entry("zzpipe", "pipe"),
            entry("zzspawn", "spawn"),
            entry("zzpath", "/usr/lib/postfix/sbin/smtp"),
            entry("zzcleanup", "cleanup"),
        ]);
        let count = |prefix: &str| {
            params
                .keys()
                .filter(|k| k.starts_with(prefix.as_bytes()))
                .count()
        };
        assert_eq!(count("zzrelay_"), 16);
        assert_eq!(count("zzpipe_"), 17);
        assert_eq!(count("zzspawn_"), 1);
        assert_eq!(count("zzpath_"), 0);
        assert_eq!(count("zzcleanup_"), 0);
        assert_eq!(
            params.get(&b"zzrelay_destination_concurrency_limit"[..]),
            Some(&"default_destination_concurrency_limit")
        );
        assert_eq!(
            params.get(&b"zzspawn_time_limit"[..]),
            Some(&"command_time_limit")
        );
    }
}
