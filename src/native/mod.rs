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
//!//! # Where each rule is
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
//! - `dbms.rs`: database client tables (postconf_dbms.c).
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

use crate::bytes::is_white_space;
use crate::defaults::{default_of, is_builtin};
use crate::expand::{expand, referenced_names};
use crate::hostname::host_names;
use crate::instance::REQUESTED;
use crate::maincf::{just_changed, main_cf_path, read_file, InstanceResolver, MainCf};

use lookup::{expansion_is_quiet, PostconfView};
use main_cf::{free_of_reference_cycles, quiet_setting};
use master_cf::{master_cf_is_quiet, MasterMemo};

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
    fn white_space_is_normalized_like_postconf_prints_it() {
        assert_eq!(normalize_white_space(b"a =  x \t y  "), b"a = x y".to_vec());
        assert_eq!(normalize_white_space(b"a = "), b"a =".to_vec());
    }
}
