//! The native reader of a secondary instance's main.cf and master.cf: it
//! answers as `postconf -xc DIR` (the parameters of
//! [`crate::instance::REQUESTED`]) would print, but only when it can show
//! that postconf would print exactly that answer and nothing on stderr;
//! otherwise None, and [`crate::secondary`] runs postconf itself.
//!
//! postconf is slow (a process per instance) and also prints warnings about
//! things it sees anywhere in DIR/main.cf and DIR/master.cf.

use crate::bytes::{is_space, is_white_space, join};
use crate::defaults::{default_of, is_builtin};
use crate::expand::{expand, referenced_names};
use crate::instance::REQUESTED;
use crate::maincf::{logical_lines, main_cf_path, read_file, InstanceResolver, MainCf};

/// The native reader's answers for many instances, computed on every CPU.
/// It has no side effects (no output, no writes), so reading ahead changes
/// nothing that can be seen; postconf still runs in order, one at a time.
pub fn read_ahead(dirs: &[Vec<u8>]) -> Vec<Option<Vec<u8>>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if workers < 2 || dirs.len() < 32 {
        return dirs.iter().map(|d| native(d)).collect();
    }
    let chunk = dirs.len().div_ceil(workers);
    let parallel: Option<Vec<Option<Vec<u8>>>> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for part in dirs.chunks(chunk) {
            // A thread that cannot be created means: read them here instead.
            let handle = std::thread::Builder::new()
                .spawn_scoped(scope, move || {
                    part.iter().map(|d| native(d)).collect::<Vec<_>>()
                })
                .ok()?;
            handles.push(handle);
        }
        let mut answers = Vec::with_capacity(dirs.len());
        for handle in handles {
            answers.extend(handle.join().ok()?);
        }
        Some(answers)
    });
    parallel.unwrap_or_else(|| dirs.iter().map(|d| native(d)).collect())
}

/// postconf's output for DIR, when it provably has no other answer and no
/// warning to print; None hands the instance to postconf.
pub fn native(dir: &[u8]) -> Option<Vec<u8>> {
    let main_path = main_cf_path(dir);
    let data = read_file(&main_path).ok()?;
    if data.contains(&0) {
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
    if !cf
        .params
        .values()
        .all(|v| expansion_is_quiet(v, &cf, dir, &[]))
    {
        return None;
    }
    if !master_cf_is_quiet(dir, &cf) {
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
        b"compatibility_level" => {
            let number = |p: &[u8]| {
                !p.is_empty() && p.iter().all(u8::is_ascii_digit) && (p == b"0" || p[0] != b'0')
            };
            let mut parts = value.split(|&b| b == b'.');
            let major = parts.next().is_some_and(number);
            let rest: Vec<&[u8]> = parts.collect();
            major && rest.len() <= 1 && rest.iter().all(|p| number(p))
        }
        _ => true,
    };
    fine && !DATABASE_CLIENTS
        .iter()
        .any(|db| value.windows(db.len()).any(|w| w.eq_ignore_ascii_case(db)))
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

/// Names as postconf resolves them when it looks into an expanded value: a
/// master.cf service's own `-o` settings (the last one wins), main.cf,
/// config_directory, then the built-in defaults.  A computed default (such as
/// myhostname) is the one of the host that built postmulti: only its
/// emptiness and the absence of braces and of `type:` prefixes are used,
/// which hold on every host.
struct PostconfView<'a> {
    local: &'a [(&'a [u8], &'a [u8])],
    main_cf: &'a MainCf,
    config_dir: &'a [u8],
}

impl crate::expand::Resolver for PostconfView<'_> {
    fn lookup(&mut self, name: &[u8]) -> crate::expand::Lookup {
        use crate::expand::Lookup;
        if let Some((_, v)) = self.local.iter().rev().find(|(n, _)| *n == name) {
            return Lookup::Value(v.to_vec());
        }
        if let Some(v) = self.main_cf.get(name) {
            Lookup::Value(v.to_vec())
        } else if name == b"config_directory" {
            Lookup::Value(self.config_dir.to_vec())
        } else if let Some(v) = default_of(name).or_else(|| crate::defaults::builtin_default(name))
        {
            Lookup::Value(v.as_bytes().to_vec())
        } else {
            Lookup::Undefined
        }
    }
}

/// Whether postconf would be quiet about the expansion of one main.cf value
/// (or master.cf `-o` value, with that service's settings in `local`).
/// postconf expands every such value, the taken branches only, and parses
/// the result for `{...}` groups, which must each be a whole word
/// ("syntax error after '}'", "missing '}'"), and for database clients
/// whose configuration file it opens (pcf_register_dbms_parameters).  The
/// braces may come from elsewhere: a built-in default such as
/// milter_mail_macros = "i {auth_type} ...", or the `{..}` text inside a
/// `${name?{...}}` branch.  So: no brace at all in the expansion, no client
/// type, and an expansion that can be computed; anything else goes to
/// postconf.
fn expansion_is_quiet(value: &[u8], cf: &MainCf, dir: &[u8], local: &[(&[u8], &[u8])]) -> bool {
    if !value.contains(&b'$') {
        return true; // literal: quiet_setting has looked at it already
    }
    let mut view = PostconfView {
        local,
        main_cf: cf,
        config_dir: dir,
    };
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
/// to warn about: entries with all eight fields in their usual forms, and
/// `-o name=value` options that set built-in parameters to defined values.
/// Command arguments (pipe's `argv=... ${recipient}`) are not checked by
/// postconf, so they are not checked here either.
fn master_cf_is_quiet(dir: &[u8], cf: &MainCf) -> bool {
    let defined = |n: &[u8]| cf.get(n).is_some() || is_builtin(n);
    let path = join(dir, b"master.cf");
    let Ok(data) = read_file(&path) else {
        return false;
    };
    if data.contains(&0) {
        return false;
    }
    let mut warnings = Vec::new();
    let lines = logical_lines(&path, &data, &mut warnings);
    if !warnings.is_empty() {
        return false;
    }
    let flag = |f: &[u8]| matches!(f, b"y" | b"n" | b"-");
    let number = |f: &[u8], query: bool| {
        let digits = if query {
            f.strip_suffix(b"?").unwrap_or(f)
        } else {
            f
        };
        f == b"-" || (!digits.is_empty() && digits.iter().all(u8::is_ascii_digit))
    };
    for line in lines {
        let mut settings: Vec<(&[u8], &[u8])> = Vec::new();
        let fields: Vec<&[u8]> = line
            .text
            .split(|&b| is_space(b))
            .filter(|f| !f.is_empty())
            .collect();
        if fields.len() < 8
            || !matches!(
                fields[1],
                b"inet" | b"unix" | b"unix-dgram" | b"fifo" | b"pass"
            )
            || !fields[2..5].iter().all(|f| flag(f))
            || !number(fields[5], true)
            || !number(fields[6], false)
        {
            return false;
        }
        let mut args = fields[7..].iter();
        while let Some(arg) = args.next() {
            // `{ ... }` groups arguments (Postfix 3.0); leave those to postconf.
            let opens = arg.iter().filter(|&&b| b == b'{').count();
            let closes = arg.iter().filter(|&&b| b == b'}').count();
            if arg.starts_with(b"{") || opens != closes {
                return false;
            }
            if arg.starts_with(b"-o") {
                if arg.len() > 2 {
                    return false;
                }
                let Some(setting) = args.next() else {
                    return false;
                };
                if setting.starts_with(b"{") {
                    return false;
                }
                let Some(eq) = setting.iter().position(|&b| b == b'=') else {
                    return false;
                };
                let (name, value) = (&setting[..eq], &setting[eq + 1..]);
                if !is_builtin(name) || !quiet_setting(name, value) || VALIDATED.contains(&name) {
                    return false;
                }
                match referenced_names(value) {
                    Ok(names) if names.iter().all(|n| defined(n)) => {}
                    _ => return false,
                }
                if reaches(cf, value, name) {
                    return false;
                }
                settings.push((name, value));
            }
        }
        if !settings
            .iter()
            .all(|(_, v)| expansion_is_quiet(v, cf, dir, &settings))
        {
            return false;
        }
    }
    true
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
