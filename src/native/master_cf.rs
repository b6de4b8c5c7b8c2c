//! master.cf as postconf reads it (postconf_master.c, and
//! register_user_parameters for the `-o` name spaces).
//!
//! master.cf ([`crate::mastercf`]):
//! 1. Logical lines as readllines() makes them: blank and `#` lines
//!    skipped, a line that starts with white space (isspace(), \v and \f
//!    too) continues the previous one; text that starts a logical line
//!    with white space is a warning.  No master.cf is a warning.  Left to
//!    postconf.  A NUL byte in main.cf or master.cf (postconf 3.10 and
//!    later warn "text after null byte may be ignored", 3.7 does not) is
//!    left to postconf too: `nul_byte_in_a_secondary_main_cf_is_postconfs_to_report`.
//! 2. Words are split on " \t\r\n" only (argv_splitq): \v and \f belong
//!    to the words.  Mirrored: `vertical_tab_between_master_cf_fields_is_no_separator`,
//!    `form_feed_inside_a_master_cf_field_makes_it_invalid`,
//!    `vertical_tab_inside_a_command_argument_is_quiet`.
//! 3. A `{` anywhere in a word opens a group, blanks included, up to its
//!    matching `}` or the end of the line (mystrtokq); a `}` outside a group
//!    is an ordinary byte.  Mirrored; a word with blanks is left to
//!    postconf: `open_brace_in_the_service_name_swallows_the_line`,
//!    `open_brace_in_an_option_value_swallows_the_next_option`.
//! 4. Fewer than eight words: fatal "bad field count".  The type must be
//!    inet, unix, unix-dgram, fifo or pass; private, unpriv and chroot one
//!    of `y`, `n`, `-`; the wakeup time `-` or digits, either with an
//!    optional `?` (so `?` alone passes); the process limit `-` or digits;
//!    otherwise fatal "invalid ... field" (pcf_check_master_entry).
//!    Mirrored (as tests above, and mastercf's unit tests).
//! 5. Daemon options run from the ninth word up to the first word that does
//!    not start with `-`, or `--`.  In an option, an `o` after its first
//!    letter starts an `-o` of its own (`-vo x=1` is `-v -o x=1`, and
//!    `-osyslog_name=x` is `-o sysl -o g_name=x`); `-ozz` is `-o zz`; `-o`
//!    takes the next word as its value (pcf_normalize_daemon_args).
//!    Mirrored: `clustered_option_sets_a_parameter`,
//!    `options_stop_at_the_first_non_option`, `options_stop_at_double_dash`.
//!    An option value or argument that starts with `{` is extracted (with
//!    warnings when malformed), and a lone `-` is read past its end: left
//!    to postconf.
//! 6. Each `-o` value that split_nameval() accepts is a setting of the
//!    entry's name space "service/type"; one it refuses is skipped in
//!    silence, as is a last `-o` with no value.  Entries with the same
//!    service and type share one name space (a later setting replaces an
//!    earlier one) and each of them is checked against all of it, so
//!    warnings repeat (register_user_parameters); an entry before the
//!    first one with a setting is not checked (the name space does not
//!    exist yet when postconf comes to it).  Mirrored:
//!    `repeated_service_entries_share_one_namespace`.
//! 7. Settings of names that are not built in, not service parameters
//!    (rule 14) and not used (rule 18) are "unused parameter": the
//!    warnings are mirrored as rule 22 says.  service_name, process_name,
//!    process_id, mail_version and mail_release_date are read-only
//!    ("read-only parameter assignment").  Left to postconf.
//! 20. The values postconf checks in main.cf (inet_interfaces,
//!     inet_protocols, mynetworks_style, compatibility_level) are not
//!     checked in an `-o`: postconf computes mynetworks from main.cf's
//!     alone, in every name space (3.7, 3.10 and 3.11 alike).  Mirrored,
//!     except that an `-o compatibility_level` must still have a form
//!     main.cf could have: `checked_parameters_in_master_cf_are_not_checked`.
//!

use std::collections::HashMap;

use crate::defaults::is_builtin;
use crate::expand::referenced_names;
use crate::maincf::read_file;
use crate::mastercf::{master_cf_path, parse_master, MasterEntry};

use super::dbms::{scan, Found};
use super::lookup::{expanded, PostconfView};
use super::main_cf::{quiet_setting, raw_value_is_plain, reaches};
use super::service::{service_parameters, ServiceParams};
use super::user::{scanned, Marked};

/// What postconf makes of one master.cf text by itself: the entries that
/// have `-o` settings, and the service parameters of its entries (rule 14).
pub(super) struct MasterText {
    pub checks: Vec<EntryCheck>,
    pub services: ServiceParams,
}

/// DIR/master.cf as postconf reads it: None when it is missing or
/// postconf would warn about its text ([`parse_master`]).
pub(super) fn read_master<'m>(dir: &[u8], memo: &'m mut MasterMemo) -> Option<&'m MasterText> {
    let path = master_cf_path(dir);
    let data = read_file(&path).ok()?;
    memo.text(&path, data)
}

/// Whether postconf is quiet about the `-o` settings one entry sees
/// (`view.local`): set to values postconf accepts,
/// referring only to names that are set or known and not back to
/// themselves, expanding quietly with well-formed braces and quiet
/// database client files (rules 8, 15, 16).  What its scans mark (rule 18)
/// goes to MARKED, the client files to FOUND; whether the names themselves
/// are known is [`super::user::all_names_used`]'s question.  Command
/// arguments (pipe's `argv=... ${recipient}`) are not checked by postconf,
/// so they are not checked here either.
pub(super) fn settings_are_quiet(
    view: &PostconfView,
    marked: &mut Marked,
    found: &mut Found,
) -> bool {
    let cf = view.main_cf;
    let services = view.services;
    let local = view.local;
    let defined = |n: &[u8]| {
        local.iter().any(|(l, _)| *l == n)
            || cf.get(n).is_some()
            || is_builtin(n)
            || services.contains_key(n)
    };
    local.iter().all(|&(name, value)| {
        // Legacy database names count from built-in and service
        // parameters' values only (rule 18).
        let counts = is_builtin(name) || services.contains_key(name);
        quiet_setting(name, value)
            && referenced_names(value).is_ok_and(|names| names.iter().all(|n| defined(n)))
            && !reaches(cf, services, value, name)
            && expanded(value, view).is_some_and(|text| {
                if !scanned(name) {
                    return raw_value_is_plain(value, &text);
                }
                let mut here = Found::default();
                let quiet = scan(&text, true, &mut here);
                found.files.append(&mut here.files);
                if counts {
                    marked.names.extend(here.legacy_names);
                }
                quiet
            })
            && (!scanned(name) || marked.scan(value))
            && (name != b"smtpd_restriction_classes" || marked.classes(value, &defined))
    })
}

/// One master.cf entry whose name space has `-o` settings, as postconf
/// checks it: its read-only parameters and all of its name space's
/// settings (owned, so that it outlives the text it was read from).
pub(super) struct EntryCheck {
    pub read_only: [(&'static [u8], Vec<u8>); 2],
    pub settings: Vec<(Vec<u8>, Vec<u8>)>,
}

/// What a master.cf text decides by itself: None when postconf would warn
/// about the text, else the entries that need a look at main.cf (entries
/// whose name space has no settings have nothing to check) and the
/// service parameters.
fn master_text(path: &[u8], data: &[u8]) -> Option<MasterText> {
    let entries = parse_master(path, data)?;
    let spaces = name_spaces(&entries);
    let owned = |pairs: &[(&[u8], &[u8])]| {
        pairs
            .iter()
            .map(|(n, v)| (n.to_vec(), v.to_vec()))
            .collect::<Vec<_>>()
    };
    // An entry is checked once its name space has a setting: one of its
    // own or of an entry before it (register_user_parameters gives an
    // entry the name space only if it exists by then).
    let mut started = std::collections::HashSet::new();
    let checks = entries.iter().filter_map(|entry| {
        let space = entry.name_space();
        if !entry.settings().is_empty() {
            started.insert(space.clone());
        }
        let local = &spaces[&space];
        (!local.is_empty() && started.contains(&space)).then(|| EntryCheck {
            read_only: entry.read_only().map(|(n, v)| (n, v.to_vec())),
            settings: owned(local),
        })
    });
    Some(MasterText {
        checks: checks.collect(),
        services: service_parameters(&entries),
    })
}

/// The master.cf texts one reader has seen (a thread of [`super::read_ahead`]),
/// each with its [`master_text`].  Instances made by `postmulti -e create`
/// start with the same master.cf and most keep it, so most instances need
/// their master.cf compared, not parsed.
#[derive(Default)]
pub(super) struct MasterMemo {
    seen: Vec<(Vec<u8>, Option<MasterText>)>,
}

/// How many master.cf texts a [`MasterMemo`] keeps, and how many bytes of
/// them, the one just read aside: the oldest go first.
const MEMO_TEXTS: usize = 8;
const MEMO_BYTES: usize = 1 << 20;

impl MasterMemo {
    /// What postconf makes of master.cf text DATA, read from PATH.
    fn text(&mut self, path: &[u8], data: Vec<u8>) -> Option<&MasterText> {
        let at = match self.seen.iter().position(|(text, _)| *text == data) {
            Some(at) => at,
            None => {
                let mut kept: usize = self.seen.iter().map(|(text, _)| text.len()).sum();
                while self.seen.len() == MEMO_TEXTS
                    || (!self.seen.is_empty() && kept + data.len() > MEMO_BYTES)
                {
                    kept -= self.seen.remove(0).0.len();
                }
                let text = master_text(path, &data);
                self.seen.push((data, text));
                self.seen.len() - 1
            }
        };
        self.seen[at].1.as_ref()
    }

    /// The entry checks of master.cf text DATA, read from PATH.
    #[cfg(test)]
    fn checks(&mut self, path: &[u8], data: Vec<u8>) -> Option<&[EntryCheck]> {
        self.text(path, data).map(|t| &t.checks[..])
    }
}

/// `name = value` settings, in order.
type Settings<'a> = Vec<(&'a [u8], &'a [u8])>;

/// register_user_parameters(): the `-o` settings of each name space.
/// Entries with the same service and type share one: a later setting
/// replaces an earlier one, and every entry's conditionals see them all.
fn name_spaces(entries: &[MasterEntry]) -> HashMap<Vec<u8>, Settings<'_>> {
    let mut spaces: HashMap<Vec<u8>, Settings> = HashMap::new();
    for entry in entries {
        let space = spaces.entry(entry.name_space()).or_default();
        for (name, value) in entry.settings() {
            match space.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = value,
                None => space.push((name, value)),
            }
        }
    }
    spaces
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A master.cf whose one entry has the setting `-o smtp_helo_name=N`.
    fn master_with(n: usize) -> Vec<u8> {
        format!("smtp unix - - y - - smtp -o smtp_helo_name={n}\n").into_bytes()
    }

    #[test]
    fn master_memo_answers_each_text_with_its_own_checks() {
        let mut memo = MasterMemo::default();
        let helo = |memo: &mut MasterMemo, data: Vec<u8>| {
            let checks = memo.checks(b"master.cf", data).expect("well-formed");
            checks[0].settings[0].1.clone()
        };
        assert_eq!(helo(&mut memo, master_with(1)), b"1");
        assert_eq!(helo(&mut memo, master_with(2)), b"2");
        assert_eq!(helo(&mut memo, master_with(1)), b"1");
        assert_eq!(memo.seen.len(), 2);
        assert!(memo
            .checks(b"master.cf", b"smtp unix - -\n".to_vec())
            .is_none());
        let no_settings = b"smtp unix - - y - - smtp\n".to_vec();
        assert_eq!(
            memo.checks(b"master.cf", no_settings).map(<[_]>::len),
            Some(0)
        );
    }

    #[test]
    fn master_memo_keeps_eight_texts_and_a_mebibyte() {
        let mut memo = MasterMemo::default();
        for n in 0..20 {
            memo.checks(b"master.cf", master_with(n));
        }
        assert_eq!(memo.seen.len(), MEMO_TEXTS);
        assert_eq!(memo.seen[0].0, master_with(12));
        let mut big = master_with(100);
        big.resize(MEMO_BYTES + 1, b'#');
        big.push(b'\n');
        memo.checks(b"master.cf", big.clone());
        assert_eq!(memo.seen.len(), 1, "a text over the limit is kept alone");
        memo.checks(b"master.cf", master_with(1));
        assert_eq!(memo.seen.len(), 1);
        assert_eq!(memo.seen[0].0, master_with(1));
    }
}
