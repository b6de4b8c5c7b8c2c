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
//!    warnings repeat (register_user_parameters).  Mirrored:
//!    `repeated_service_entries_share_one_namespace`.
//! 7. Settings of names that are not built in and not validated by a
//!    reference are "unused parameter"; service_name, process_name,
//!    process_id, mail_version and mail_release_date are read-only
//!    ("read-only parameter assignment").  Left to postconf.
//!

use std::collections::HashMap;

use crate::defaults::is_builtin;
use crate::expand::referenced_names;
use crate::hostname::HostNames;
use crate::maincf::{read_file, MainCf};
use crate::mastercf::{master_cf_path, parse_master, MasterEntry};

use super::lookup::{expansion_is_quiet, PostconfView};
use super::main_cf::{quiet_setting, reaches, VALIDATED};

/// True when DIR/master.cf is present and postconf would find nothing in it
/// to warn about ([`parse_master`]), and nothing in its entries' `-o`
/// settings ([`settings_are_quiet`]).  Command arguments (pipe's `argv=...
/// ${recipient}`) are not checked by postconf, so they are not checked here
/// either.
pub(super) fn master_cf_is_quiet(
    dir: &[u8],
    cf: &MainCf,
    hosts: &HostNames,
    memo: &mut MasterMemo,
) -> bool {
    let path = master_cf_path(dir);
    let Ok(data) = read_file(&path) else {
        return false;
    };
    let Some(checks) = memo.checks(&path, data) else {
        return false;
    };
    checks.iter().all(|entry| {
        let read_only = entry.read_only.each_ref().map(|(n, v)| (*n, &v[..]));
        let local: Settings = entry
            .settings
            .iter()
            .map(|(n, v)| (&n[..], &v[..]))
            .collect();
        let view = PostconfView {
            read_only: &read_only,
            local: &local,
            ..PostconfView::global(cf, dir, hosts)
        };
        settings_are_quiet(&view)
    })
}

/// One master.cf entry whose name space has `-o` settings, as postconf
/// checks it: its read-only parameters and all of its name space's
/// settings (owned, so that it outlives the text it was read from).
struct EntryCheck {
    read_only: [(&'static [u8], Vec<u8>); 2],
    settings: Vec<(Vec<u8>, Vec<u8>)>,
}

/// What a master.cf text decides by itself: None when postconf would warn
/// about the text, else the entries that need a look at main.cf.  Entries
/// whose name space has no settings have nothing to check.
fn entry_checks(path: &[u8], data: &[u8]) -> Option<Vec<EntryCheck>> {
    let entries = parse_master(path, data)?;
    let spaces = name_spaces(&entries);
    let owned = |pairs: &[(&[u8], &[u8])]| {
        pairs
            .iter()
            .map(|(n, v)| (n.to_vec(), v.to_vec()))
            .collect::<Vec<_>>()
    };
    let checks = entries.iter().filter_map(|entry| {
        let local = &spaces[&entry.name_space()];
        (!local.is_empty()).then(|| EntryCheck {
            read_only: entry.read_only().map(|(n, v)| (n, v.to_vec())),
            settings: owned(local),
        })
    });
    Some(checks.collect())
}

/// The master.cf texts one reader has seen (a thread of [`super::read_ahead`]),
/// each with its [`entry_checks`].  Instances made by `postmulti -e create`
/// start with the same master.cf and most keep it, so most instances need
/// their master.cf compared, not parsed.
#[derive(Default)]
pub(super) struct MasterMemo {
    seen: Vec<(Vec<u8>, Option<Vec<EntryCheck>>)>,
}

/// How many master.cf texts a [`MasterMemo`] keeps, and how many bytes of
/// them, the one just read aside: the oldest go first.
const MEMO_TEXTS: usize = 8;
const MEMO_BYTES: usize = 1 << 20;

impl MasterMemo {
    /// The entry checks of master.cf text DATA, read from PATH.
    fn checks(&mut self, path: &[u8], data: Vec<u8>) -> Option<&[EntryCheck]> {
        let at = match self.seen.iter().position(|(text, _)| *text == data) {
            Some(at) => at,
            None => {
                let mut kept: usize = self.seen.iter().map(|(text, _)| text.len()).sum();
                while self.seen.len() == MEMO_TEXTS
                    || (!self.seen.is_empty() && kept + data.len() > MEMO_BYTES)
                {
                    kept -= self.seen.remove(0).0.len();
                }
                let checks = entry_checks(path, &data);
                self.seen.push((data, checks));
                self.seen.len() - 1
            }
        };
        self.seen[at].1.as_deref()
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

/// Whether postconf is quiet about the `-o` settings in a master.cf entry's
/// view: built-in parameters only, set to values postconf accepts (not a
/// validated one), referring only to defined names and not back to
/// themselves, and expanding quietly.
fn settings_are_quiet(view: &PostconfView) -> bool {
    let cf = view.main_cf;
    let defined = |n: &[u8]| cf.get(n).is_some() || is_builtin(n);
    view.local.iter().all(|&(name, value)| {
        is_builtin(name)
            && quiet_setting(name, value)
            && !VALIDATED.contains(&name)
            && referenced_names(value).is_ok_and(|names| names.iter().all(|n| defined(n)))
            && !reaches(cf, value, name)
            && expansion_is_quiet(value, view)
    })
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
