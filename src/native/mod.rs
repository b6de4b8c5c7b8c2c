//! The native reader of a secondary instance's main.cf and master.cf: it
//! answers as `postconf -xc DIR` (the parameters of
//! [`crate::instance::REQUESTED`]) would print, but only when it can show
//! that postconf would print exactly that answer, and on stderr nothing
//! or the warnings it mirrors (rule 22);
//! otherwise None, and [`crate::secondary`] runs postconf itself.
//!
//! postconf is slow (a process per instance) and also prints warnings about
//! things it sees anywhere in DIR/main.cf and DIR/master.cf.
//!
//! The reader answers only when all of this holds: every name in main.cf
//! and in master.cf's `-o` settings is in postconf's name space (built in,
//! a service parameter of master.cf, or a user-defined parameter that is
//! used), assigned once (or the warnings postconf prints otherwise are
//! ones it mirrors, rule 22); every `$name` anywhere is defined; every default
//! the five values need is known (recorded, not computed on the running
//! host: see [`crate::defaults`]); master.cf has well-formed entries; and
//! every value, once expanded as postconf expands it, has well-formed
//! `{...}` words and names only database client files that postconf reads
//! without a word.  postconf parses every expanded value for `{...}`
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
//! # Where each rule is
//!
//! What Debian's postconf 3.7 (and 3.10, 3.11, where they differ) does
//! with an instance directory, as far as it shows on stderr and in its
//! exit status, is written down in the module of this folder that mirrors
//! postconf's own module:
//!
//! - `main_cf.rs`: main.cf's settings and the values postconf computes
//!   (postconf_main.c, postconf_builtin.c);
//! - `master_cf.rs`: master.cf's entries and `-o` settings
//!   (postconf_master.c);
//! - `lookup.rs`: how a value is expanded (postconf_lookup.c);
//! - `dbms.rs`: database client tables and `{...}` groups
//!   (postconf_dbms.c);
//! - `service.rs`: per-service parameters (postconf_service.c);
//! - `user.rs`: user-defined parameters and restriction classes
//!   (postconf_user.c, postconf_unused.c).
//!
//! 22. The warnings of rules 18 ("unused parameter"), 19 (deprecated
//!     names) and of main.cf's reading ("overriding earlier entry", a
//!     value set twice: Debian unstable's main.cf.dist sets inet_protocols
//!     twice) are printed by the native reader itself ([`Answer`];
//!     [`crate::secondary`] names them after `$command_directory/postconf`,
//!     as postconf names itself), in an order postconf prints them: the
//!     repeated values as main.cf is read, after the answer main.cf's
//!     names, then master.cf's, entry by entry, then 3.11's pointer to
//!     DEPRECATION_README.  Within main.cf, or one entry, postconf's order
//!     is its hash table's: from 3.10 on it changes from run to run, so
//!     any order is postconf's (tests compare such lines as a multiset);
//!     on 3.7 two such warnings in one file or entry are left to postconf.
//!     So is a warning with a byte that is not printable ASCII (postconf
//!     prints `?`), any warning when DIR ends with `/` or `/.`, and a
//!     deprecated name in master.cf only:
//!     `unused_parameter_warnings_are_postconfs`,
//!     `repeated_parameter_warning_is_postconfs`,
//!     `deprecated_parameter_warns`.
//!
//! "Mirrored" rules are followed here exactly; for the others the reader
//! hands the instance to postconf, which is always right.  Side-by-side
//! tests with Debian's postmulti are in tests/postconf_rules.rs (named in
//! the rules), the reader is compared with postconf by tests/exactness.rs
//! and tests/fuzz.rs.

mod dbms;
mod lookup;
mod main_cf;
mod master_cf;
mod service;
mod user;

use crate::bytes::is_white_space;
use crate::defaults::{default_of, is_builtin};
use crate::expand::{expand, referenced_names};
use crate::hostname::host_names;
use crate::instance::REQUESTED;
use crate::maincf::{just_changed, main_cf_path, read_file, InstanceResolver, MainCf};

use dbms::{scan, ClientMemo, Found};
use lookup::{expanded, PostconfView};
use main_cf::{free_of_reference_cycles, quiet_setting, raw_value_is_plain};
use master_cf::{read_master, settings_are_quiet, MasterMemo};
use user::{legacy, scanned, unused_names, LocalScope, Marked};

/// The native reader's answers for many instances, computed on every CPU,
/// each thread with its own memo of the master.cf texts it has read.  It has no side effects (no
/// output, no writes), so reading ahead changes nothing that can be seen;
/// postconf still runs in order, one at a time.
pub fn read_ahead_answers(dirs: &[Vec<u8>]) -> Vec<Option<Answer>> {
    let read = |part: &[Vec<u8>]| {
        let mut memo = Memo::default();
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
    let parallel: Option<Vec<Option<Answer>>> = std::thread::scope(|scope| {
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

/// [`read_ahead_answers`], the answers without warnings only.
pub fn read_ahead(dirs: &[Vec<u8>]) -> Vec<Option<Vec<u8>>> {
    read_ahead_answers(dirs)
        .into_iter()
        .map(|a| a.and_then(Answer::quiet))
        .collect()
}

/// What postconf prints for DIR: its stdout, and the warnings it prints on
/// stderr, in its order, each without postconf's `NAME: warning: ` (the
/// caller knows how postconf was named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub stdout: Vec<u8>,
    pub warnings: Vec<Vec<u8>>,
}

impl Answer {
    /// The stdout of an answer without warnings.
    fn quiet(self) -> Option<Vec<u8>> {
        self.warnings.is_empty().then_some(self.stdout)
    }
}

/// postconf's output for DIR, when it provably has no other answer and no
/// warning to print; None hands the instance to postconf.
pub fn native(dir: &[u8]) -> Option<Vec<u8>> {
    native_answer(dir).and_then(Answer::quiet)
}

/// postconf's output and warnings for DIR, when it provably has no other
/// answer; None hands the instance to postconf.
pub fn native_answer(dir: &[u8]) -> Option<Answer> {
    native_with(dir, &mut Memo::default())
}

/// The words of dict_update's warning about a value set twice.
const OVERRIDING: &[u8] = b": overriding earlier entry: ";

/// Whether a warning of main.cf's reading is dict_update's about a value
/// set twice: `PATH, line N: overriding earlier entry: NAME=VALUE`.
fn is_overriding(warning: &[u8], path: &[u8]) -> bool {
    let Some(rest) = warning
        .strip_prefix(path)
        .and_then(|r| r.strip_prefix(&b", line "[..]))
    else {
        return false;
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && rest[digits..].starts_with(OVERRIDING)
}

/// What one reader (a thread of [`read_ahead`]) keeps from instance to
/// instance: the master.cf texts and the database client files it has seen.
#[derive(Default)]
struct Memo {
    master: MasterMemo,
    clients: ClientMemo,
}

/// [`native`], with what this reader has seen so far.
fn native_with(dir: &[u8], memo: &mut Memo) -> Option<Answer> {
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
    // A value set twice (dict_update: "overriding earlier entry") is the
    // one warning of main.cf's reading that is mirrored (rule 22).
    if !warnings.iter().all(|w| is_overriding(w, &main_path)) {
        return None;
    }
    let Memo { master, clients } = memo;
    let master = read_master(dir, master)?;
    let services = &master.services;
    let known = |n: &[u8]| is_builtin(n) || services.contains_key(n) || legacy(n);
    let defined = |n: &[u8]| cf.get(n).is_some() || is_builtin(n) || services.contains_key(n);
    for (name, value) in &cf.params {
        if !referenced_names(value).ok()?.iter().all(|n| defined(n)) || !quiet_setting(name, value)
        {
            return None;
        }
    }
    if !free_of_reference_cycles(&cf, services)
        || !crate::interfaces::mynetworks_default_is_quiet(&cf)
    {
        return None;
    }
    // postconf computes myhostname's default whenever main.cf leaves it
    // out, and dies when the kernel's host name will not do.
    let hosts = host_names(&cf)?;
    let view = PostconfView::global(&cf, dir, &hosts, services);
    let mut global = Marked::default();
    let mut found = Found::default();
    for (name, value) in &cf.params {
        let text = expanded(value, &view)?;
        if !scanned(name) {
            if !raw_value_is_plain(value, &text) {
                return None;
            }
            continue;
        }
        let mut here = Found::default();
        if !scan(&text, true, &mut here) || !global.scan(value) {
            return None;
        }
        found.files.append(&mut here.files);
        if is_builtin(name) || services.contains_key(name) {
            global.names.extend(here.legacy_names);
        }
        if name == b"smtpd_restriction_classes" && !global.classes(value, &defined) {
            return None;
        }
    }
    let mut locals = Vec::with_capacity(master.checks.len());
    for entry in &master.checks {
        let read_only = entry.read_only.each_ref().map(|(n, v)| (*n, &v[..]));
        let settings: Vec<(&[u8], &[u8])> = entry
            .settings
            .iter()
            .map(|(n, v)| (&n[..], &v[..]))
            .collect();
        let entry_view = PostconfView {
            read_only: &read_only,
            local: &settings,
            ..PostconfView::global(&cf, dir, &hosts, services)
        };
        let mut marked = Marked::default();
        if !settings_are_quiet(&entry_view, &mut marked, &mut found) {
            return None;
        }
        locals.push(LocalScope { settings, marked });
    }
    let unused = unused_names(&cf, &known, &global, &locals)?;
    if !unused.is_empty() && (dir.ends_with(b"/") || dir.ends_with(b"/.")) {
        // postconf names the files after DIR as given: left to it.
        return None;
    }
    found.files.sort();
    found.files.dedup();
    if !found
        .files
        .iter()
        .all(|(db_type, path)| clients.quiet(db_type, path))
    {
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
        // The resolver knows main.cf and the built-in defaults; a value
        // that reaches a service parameter (or differs in any other way
        // from postconf's view) is left to postconf.
        if expanded(&raw, &view).as_ref() != Some(&value) {
            return None;
        }
        let mut line = name.as_bytes().to_vec();
        line.extend_from_slice(b" = ");
        line.extend_from_slice(&value);
        out.extend_from_slice(&normalize_white_space(&line));
        out.push(b'\n');
    }
    let deprecations = |file: &[u8]| {
        unused
            .iter()
            .any(|(f, w)| *f == file && w.starts_with(b"support for parameter"))
    };
    let see_readme = crate::defaults::release().at_least(3, 11) && deprecations(b"main.cf");
    if deprecations(b"master.cf") && !deprecations(b"main.cf") {
        // When 3.11 points to DEPRECATION_README then is not known here.
        return None;
    }
    for (file, text) in unused {
        warnings.push([dir, b"/", file, b": ", &text].concat());
    }
    if see_readme {
        warnings.push(b"See https://www.postfix.org/DEPRECATION_README.html for details".to_vec());
    }
    // postconf's messages print other bytes than ASCII's printable ones
    // as `?` (and perhaps UTF-8 as such): such warnings are left to it.
    if warnings
        .iter()
        .flatten()
        .any(|&b| !(b' '..=b'~').contains(&b))
    {
        return None;
    }
    Some(Answer {
        stdout: out,
        warnings,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dict_updates_warning_counts_as_a_value_set_twice() {
        let p = b"/etc/postfix-a/main.cf";
        assert!(is_overriding(
            b"/etc/postfix-a/main.cf, line 12: overriding earlier entry: a=1",
            p
        ));
        assert!(!is_overriding(
            b"/etc/postfix-a/main.cf, line 3: text: overriding earlier entry: a=1",
            p
        ));
        assert!(!is_overriding(
            b"/etc/postfix-b/main.cf, line 12: overriding earlier entry: a=1",
            p
        ));
    }

    #[test]
    fn white_space_is_normalized_like_postconf_prints_it() {
        assert_eq!(normalize_white_space(b"a =  x \t y  "), b"a = x y".to_vec());
        assert_eq!(normalize_white_space(b"a = "), b"a =".to_vec());
    }
}
