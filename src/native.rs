//! The native reader of a secondary instance's main.cf and master.cf: it
//! answers as `postconf -xc DIR` (the parameters of
//! [`crate::instance::REQUESTED`]) would print, but only when it can show
//! that postconf would print exactly that answer and nothing on stderr;
//! otherwise None, and [`crate::secondary`] runs postconf itself.
//!
//! postconf is slow (a process per instance) and also prints warnings about
//! things it sees anywhere in DIR/main.cf and DIR/master.cf.
//!
//! The reader answers only when all of this holds: every name in main.cf is
//! a built-in parameter, assigned once; every `$name` anywhere is defined;
//! every default the five values need is known (recorded, not computed on
//! the running host: see [`crate::defaults`]); master.cf has well-formed
//! entries whose `-o` settings are built-in parameters with defined values;
//! and no value, once expanded as postconf expands it, holds a brace or a
//! database client type.  postconf parses every expanded value for `{...}`
//! groups and opens the configuration files of database clients, and the
//! braces may come from a built-in default (`${milter_mail_macros}y`), from
//! a branch taken (`${mail_name?{{x}y}}`), and a client type may be made by
//! expansion (`mail_name = ldap` with `html_directory = $mail_name:/x`).
//! Any other instance (a warning postconf would print, a `$mynetworks` only
//! Postfix can compute, `$process_id` inside a comparison, a missing file)
//! is read through that very postconf command, its stderr passed through as
//! upstream does.
//! `tests/exactness.rs` and `tests/fuzz.rs` compare the two.
//!
//! # postconf's rules: master.cf and the values it computes
//!
//! What Debian's postconf 3.7 (postconf_master.c, postconf_user.c,
//! postconf_builtin.c, postconf_lookup.c, postconf_dbms.c, mystrtok.c,
//! valid_hostname.c, compat_level.c) does with an instance directory, as
//! far as it shows on stderr and in its exit status.  "Mirrored" rules are
//! followed here exactly; for the others the reader hands the instance to
//! postconf, which is always right.  Side-by-side tests with Debian's
//! postmulti are in tests/postconf_rules.rs (named below), the reader is
//! compared with postconf by tests/exactness.rs and tests/fuzz.rs.
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
//! Expansion (pcf_lookup_parameter_value, pcf_register_dbms_parameters):
//! 8. postconf expands every main.cf value and every `-o` value, except
//!    those of raw parameters (default_rbl_reply, smtpd_expansion_filter,
//!    ...), which this reader does not single out, and parses the result
//!    for `{...}` groups and `type:name` databases.  A name is looked up in
//!    the entry's read-only parameters, its name space, main.cf, then the
//!    built-in defaults.  Mirrored; braces and database types in the result
//!    are left to postconf.
//! 9. In a master.cf entry, service_name is its service field and
//!    process_name what follows the last `/` of its command.  Mirrored:
//!    `master_cf_service_name_in_a_conditional`,
//!    `master_cf_process_name_in_a_conditional`.
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

use std::collections::HashMap;

use crate::bytes::is_white_space;
use crate::defaults::{default_of, is_builtin};
use crate::expand::{expand, referenced_names, Lookup};
use crate::hostname::{host_names, HostNames};
use crate::instance::REQUESTED;
use crate::maincf::{just_changed, main_cf_path, read_file, InstanceResolver, MainCf};
use crate::mastercf::{master_cf_path, parse_master, MasterEntry};

/// The native reader's answers for many instances, computed on every CPU,
/// each thread with its own memo of the master.cf texts it has read.  It has no side effects (no
/// output, no writes), so reading ahead changes nothing that can be seen;
/// postconf still runs in order, one at a time.
pub fn read_ahead(dirs: &[Vec<u8>]) -> Vec<Option<Vec<u8>>> {
    let read = |part: &[Vec<u8>]| {
        let mut memo = MasterMemo::default();
        part.iter()
            .map(|d| native_with(d, &mut memo))
            .collect::<Vec<_>>()
    };
    // Few instances are read faster than threads start (and than the
    // number of CPUs is found out: /proc/self/cgroup and /sys/fs/cgroup).
    if dirs.len() < 32 {
        return read(dirs);
    }
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if workers < 2 {
        return read(dirs);
    }
    let chunk = dirs.len().div_ceil(workers);
    let parallel: Option<Vec<Option<Vec<u8>>>> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for part in dirs.chunks(chunk) {
            // A thread that cannot be created means: read them here instead.
            let handle = std::thread::Builder::new()
                .spawn_scoped(scope, move || read(part))
                .ok()?;
            handles.push(handle);
        }
        let mut answers = Vec::with_capacity(dirs.len());
        for handle in handles {
            answers.extend(handle.join().ok()?);
        }
        Some(answers)
    });
    parallel.unwrap_or_else(|| read(dirs))
}

/// postconf's output for DIR, when it provably has no other answer and no
/// warning to print; None hands the instance to postconf.
pub fn native(dir: &[u8]) -> Option<Vec<u8>> {
    native_with(dir, &mut MasterMemo::default())
}

/// [`native`], with the master.cf texts seen so far by this reader.
fn native_with(dir: &[u8], memo: &mut MasterMemo) -> Option<Vec<u8>> {
    let main_path = main_cf_path(dir);
    let data = read_file(&main_path).ok()?;
    if data.contains(&0) || just_changed(&main_path) {
        return None;
    }
    let mut warnings = Vec::new();
    let cf = MainCf::parse(
        &main_path,
        &data,
        &[(b"config_directory", dir)],
        &mut warnings,
    )
    .ok()?;
    if !warnings.is_empty() || !cf.params.keys().all(|n| is_builtin(n)) {
        return None;
    }
    let defined = |n: &[u8]| cf.get(n).is_some() || is_builtin(n);
    for (name, value) in &cf.params {
        if !referenced_names(value).ok()?.iter().all(|n| defined(n)) || !quiet_setting(name, value)
        {
            return None;
        }
    }
    if !free_of_reference_cycles(&cf) || !crate::interfaces::mynetworks_default_is_quiet(&cf) {
        return None;
    }
    // postconf computes myhostname's default whenever main.cf leaves it
    // out, and dies when the kernel's host name will not do.
    let hosts = host_names(&cf)?;
    let view = PostconfView::global(&cf, dir, &hosts);
    if !cf.params.values().all(|v| expansion_is_quiet(v, &view)) {
        return None;
    }
    if !master_cf_is_quiet(dir, &cf, &hosts, memo) {
        return None;
    }
    let mut resolver = InstanceResolver {
        main_cf: &cf,
        config_dir: dir,
    };
    let mut out = Vec::new();
    for name in REQUESTED {
        let raw = match cf.get(name.as_bytes()) {
            Some(v) => v.to_vec(),
            None => default_of(name.as_bytes())?.as_bytes().to_vec(),
        };
        let value = expand(&raw, &mut resolver).ok()?;
        let mut line = name.as_bytes().to_vec();
        line.extend_from_slice(b" = ");
        line.extend_from_slice(&value);
        out.extend_from_slice(&normalize_white_space(&line));
        out.push(b'\n');
    }
    Some(out)
}

/// Parameters postconf refuses to let a file set (it warns "read-only").
const READ_ONLY: &[&[u8]] = &[
    b"process_id",
    b"process_name",
    b"service_name",
    b"mail_version",
    b"mail_release_date",
];

/// Parameters whose values postconf checks when it starts, with the values
/// that are known to pass everywhere; any other value goes to postconf.
/// inet_interfaces, inet_protocols and mynetworks_style are checked only
/// with mynetworks unset: see [`crate::interfaces`].  None of them is left
/// to a master.cf `-o`.
const VALIDATED: &[&[u8]] = &[
    b"compatibility_level",
    b"inet_protocols",
    b"mynetworks_style",
    b"inet_interfaces",
];

/// Map types whose client configuration files postconf opens and checks.
const DATABASE_CLIENTS: &[&[u8]] = &[
    b"ldap:",
    b"mysql:",
    b"pgsql:",
    b"sqlite:",
    b"memcache:",
    b"mongodb:",
];

/// Whether postconf would accept `name = value` without a word: not a
/// read-only parameter, a checked value in a form known to pass, and no
/// database client configuration to open.
fn quiet_setting(name: &[u8], value: &[u8]) -> bool {
    // Read-only; a list of parameter names postconf checks; "$$", which some
    // values go through twice; braces postconf parses as a {...} group.
    if READ_ONLY.contains(&name)
        || (name == b"smtpd_restriction_classes" && !value.is_empty())
        || value.windows(2).any(|w| w == b"$$")
        || has_literal_braces(value)
    {
        return false;
    }
    let fine = match name {
        b"compatibility_level" => compat_level_is_valid(value),
        _ => true,
    };
    fine && !DATABASE_CLIENTS
        .iter()
        .any(|db| value.windows(db.len()).any(|w| w.eq_ignore_ascii_case(db)))
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

/// Names as postconf resolves them when it expands a value
/// (pcf_lookup_parameter_value): in a master.cf entry, its read-only
/// service_name and process_name, then its name space's `-o` settings;
/// then main.cf, config_directory, the values postconf computes on the
/// running host, and the built-in defaults.
struct PostconfView<'a> {
    read_only: &'a [(&'a [u8], &'a [u8])],
    local: &'a [(&'a [u8], &'a [u8])],
    main_cf: &'a MainCf,
    config_dir: &'a [u8],
    hosts: &'a HostNames,
}

impl<'a> PostconfView<'a> {
    /// The view of a main.cf value: no master.cf entry.
    fn global(main_cf: &'a MainCf, config_dir: &'a [u8], hosts: &'a HostNames) -> Self {
        PostconfView {
            read_only: &[],
            local: &[],
            main_cf,
            config_dir,
            hosts,
        }
    }

    /// A value postconf computes: process_name is its own name (postmulti
    /// runs `$command_directory/postconf`), myhostname and mydomain come
    /// from the host name ([`crate::hostname`]), process_id is its process
    /// id: some digits, which [`PROCESS_ID`] stands for (see
    /// [`feeds_a_comparison`]); mynetworks is not known here.
    fn computed(&self, name: &[u8]) -> Option<Lookup> {
        let known = |v: &Option<Vec<u8>>| v.clone().map_or(Lookup::Unknown, Lookup::Value);
        Some(match name {
            b"process_name" => Lookup::Value(b"postconf".to_vec()),
            b"myhostname" => known(&self.hosts.myhostname),
            b"mydomain" => known(&self.hosts.mydomain),
            b"process_id" => Lookup::Value(PROCESS_ID.to_vec()),
            b"mynetworks" => Lookup::Unknown,
            _ => return None,
        })
    }
}

impl crate::expand::Resolver for PostconfView<'_> {
    fn lookup(&mut self, name: &[u8]) -> Lookup {
        let found = |list: &[(&[u8], &[u8])]| {
            list.iter()
                .rev()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_vec())
        };
        if let Some(v) = found(self.read_only).or_else(|| found(self.local)) {
            Lookup::Value(v)
        } else if let Some(v) = self.main_cf.get(name) {
            Lookup::Value(v.to_vec())
        } else if name == b"config_directory" {
            Lookup::Value(self.config_dir.to_vec())
        } else if let Some(computed) = self.computed(name) {
            computed
        } else if let Some(v) = default_of(name).or_else(|| crate::defaults::builtin_default(name))
        {
            Lookup::Value(v.as_bytes().to_vec())
        } else {
            Lookup::Undefined
        }
    }
}

/// Whether postconf would be quiet about the expansion of one main.cf value
/// (or master.cf `-o` value, in the view of that entry).
/// postconf expands every such value, the taken branches only, and parses
/// the result for `{...}` groups, which must each be a whole word
/// ("syntax error after '}'", "missing '}'"), and for database clients
/// whose configuration file it opens (pcf_register_dbms_parameters).  The
/// braces may come from elsewhere: a built-in default such as
/// milter_mail_macros = "i {auth_type} ...", or the `{..}` text inside a
/// `${name?{...}}` branch.  So: no brace at all in the expansion, no client
/// type, and an expansion that can be computed; anything else goes to
/// postconf.
fn expansion_is_quiet(value: &[u8], view: &PostconfView) -> bool {
    if !value.contains(&b'$') {
        return true; // literal: quiet_setting has looked at it already
    }
    let mut view = PostconfView { ..*view };
    if feeds_a_comparison(value, &mut view, b"process_id") {
        return false;
    }
    match expand(value, &mut view) {
        Ok(text) => {
            !text.iter().any(|&b| b == b'{' || b == b'}')
                && !DATABASE_CLIENTS
                    .iter()
                    .any(|db| text.windows(db.len()).any(|w| w.eq_ignore_ascii_case(db)))
        }
        Err(_) => false,
    }
}

/// What process_id stands for in an expansion.  Any digits give the same
/// text as far as quietness goes (no brace, no database type, no syntax),
/// and the same answer to `${process_id?...}` (not empty); only a
/// comparison can tell them apart, and [`feeds_a_comparison`] leaves those
/// to postconf.
const PROCESS_ID: &[u8] = b"1";

/// Whether expanding `value` in `view` may bring `target`'s value into a
/// relational operator (`==`, `!=`, `<`, `>`, and the operators made of
/// these): some value on the way to `target`, `value` included, holds one
/// of their characters.  Errs on the side of "yes": every name a comparing
/// value refers to, in any branch, counts as compared.
fn feeds_a_comparison(value: &[u8], view: &mut PostconfView, target: &[u8]) -> bool {
    use crate::expand::Resolver;
    let compares = |v: &[u8]| {
        v.contains(&b'<') || v.contains(&b'>') || v.windows(2).any(|w| w == b"==" || w == b"!=")
    };
    let mut seen = std::collections::HashSet::new();
    let mut todo = vec![(value.to_vec(), compares(value))];
    while let Some((text, compared)) = todo.pop() {
        let Ok(names) = referenced_names(&text) else {
            return true;
        };
        for name in names {
            if compared && name == target {
                return true;
            }
            if seen.len() > 1000 {
                return true;
            }
            if let Lookup::Value(next) = view.lookup(&name) {
                let compared = compared || compares(&next);
                if seen.insert((name, compared)) {
                    todo.push((next, compared));
                }
            }
        }
    }
    false
}

/// How long a chain of references may be before it is left to postconf.
const MAX_CHAIN: usize = 40;

/// True when no value refers, through main.cf and built-in defaults, back to
/// itself or down a chain long enough to reach Postfix's nesting limit:
/// postconf expands every value and fails on those.
fn free_of_reference_cycles(cf: &MainCf) -> bool {
    use std::collections::HashMap;
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done(usize),
    }
    fn value_of<'a>(cf: &'a MainCf, name: &[u8]) -> Option<std::borrow::Cow<'a, [u8]>> {
        cf.get(name).map(std::borrow::Cow::Borrowed).or_else(|| {
            crate::defaults::builtin_default(name)
                .map(|v| std::borrow::Cow::Owned(v.as_bytes().to_vec()))
        })
    }
    // Depth of the longest chain below `name`, or None on a cycle.
    fn depth(
        cf: &MainCf,
        name: &[u8],
        marks: &mut HashMap<Vec<u8>, Mark>,
        stack: usize,
    ) -> Option<usize> {
        match marks.get(name) {
            Some(Mark::Visiting) => return None,
            Some(Mark::Done(d)) => return Some(*d),
            None => {}
        }
        if stack > MAX_CHAIN {
            return None;
        }
        let Some(value) = value_of(cf, name) else {
            return Some(0);
        };
        marks.insert(name.to_vec(), Mark::Visiting);
        let mut deepest = 0;
        for next in referenced_names(&value).ok()? {
            deepest = deepest.max(depth(cf, &next, marks, stack + 1)? + 1);
        }
        marks.insert(name.to_vec(), Mark::Done(deepest));
        (deepest <= MAX_CHAIN).then_some(deepest)
    }
    let mut marks = HashMap::new();
    cf.params
        .keys()
        .all(|name| depth(cf, name, &mut marks, 0).is_some())
}

/// Whether expanding `value` can come to `target` through main.cf and the
/// built-in defaults (a service's `-o name=...$name` refers to itself).
fn reaches(cf: &MainCf, value: &[u8], target: &[u8]) -> bool {
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
        let next = cf
            .get(&name)
            .map(|v| v.to_vec())
            .or_else(|| crate::defaults::builtin_default(&name).map(|v| v.as_bytes().to_vec()));
        if let Some(v) = next {
            match referenced_names(&v) {
                Ok(names) => todo.extend(names),
                Err(_) => return true,
            }
        }
    }
    false
}

/// Words joined by single spaces, as pcf_print_line() prints a line.
pub fn normalize_white_space(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    for word in line.split(|&b| is_white_space(b)).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(word);
    }
    out
}

/// True when DIR/master.cf is present and postconf would find nothing in it
/// to warn about ([`parse_master`]), and nothing in its entries' `-o`
/// settings ([`settings_are_quiet`]).  Command arguments (pipe's `argv=...
/// ${recipient}`) are not checked by postconf, so they are not checked here
/// either.
fn master_cf_is_quiet(dir: &[u8], cf: &MainCf, hosts: &HostNames, memo: &mut MasterMemo) -> bool {
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

/// The master.cf texts one reader has seen (a thread of [`read_ahead`]),
/// each with its [`entry_checks`].  Instances made by `postmulti -e create`
/// start with the same master.cf and most keep it, so most instances need
/// their master.cf compared, not parsed.
#[derive(Default)]
struct MasterMemo {
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

    #[test]
    fn white_space_is_normalized_like_postconf_prints_it() {
        assert_eq!(normalize_white_space(b"a =  x \t y  "), b"a = x y".to_vec());
        assert_eq!(normalize_white_space(b"a = "), b"a =".to_vec());
    }
}
