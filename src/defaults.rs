//! Compiled-in defaults, and the table of Postfix's built-in parameters that
//! the native reader (src/secondary.rs) stands on.
//!
//! build.rs records both from `postconf -d` of the Postfix seen at build
//! time (or takes POSTMULTI_DEFAULT_* variables, or upstream's values), and
//! records which postconf binary that was: its size and mtime, which are the
//! same on every host that installed the same package.  At run time,
//! [`activate`] compares that with `$command_directory/postconf`, one
//! `stat(2)`: when they are the same the recorded table is used; when they
//! differ (Postfix upgraded, or built without Postfix) postmulti asks the
//! installed postconf once, `postconf -d`, and uses its table and defaults
//! for the whole run.  Defaults postconf computes on the running host
//! (myhostname, mydomain, mynetworks, process_id, process_name) are never
//! recorded: a value that needs them is left to postconf.
//!
//! | parameter | computed from | in upstream's postconf |
//! |---|---|---|
//! | `myhostname` | `gethostname()` (+ `.localdomain` if it has no dot) | postconf_builtin.c `pcf_check_myhostname` |
//! | `mydomain` | myhostname minus its first label | `pcf_check_mydomainname` |
//! | `mynetworks` | the interfaces' addresses | `pcf_mynetworks` |
//! | `process_id` | `getpid()` | ad hoc (`pcf_adhoc_pid`) |
//! | `process_name` | basename of `argv[0]` | ad hoc (`pcf_adhoc_procname`) |
//!
//! `tests/reproducible.rs` compares `postconf -d` under other host names
//! (`unshare --uts`), other addresses (`unshare --net`) and a renamed copy,
//! and fails if anything else varies.
//!
//! The three cases at run time (`postmulti --version` says which one a host
//! is in):
//!
//! - the same postconf: the recorded table is used; no postconf runs for the
//!   secondaries the native reader can answer;
//! - another one (Postfix upgraded without rebuilding postmulti: a parameter
//!   removed upstream must then give postconf's "unused parameter" warning),
//!   or no table recorded (a build without Postfix): `postconf -d -c
//!   /dev/null` runs once, and its table and defaults are used for the whole
//!   run (all defaults but config_directory and command_directory, which say
//!   where main.cf and postconf are, and those set with
//!   `POSTMULTI_DEFAULT_*`): one process per run, never one per secondary;
//! - no postconf can be run: the native reader stays off and every secondary
//!   fails through postconf, as upstream.  (When only main.cf's
//!   command_directory lacks a postconf, the one in the compiled-in
//!   command_directory still gives the defaults.)
//!
//! `tests/installed_postfix.rs` swaps another postconf in and checks all of
//! this side by side with Debian's postmulti, counting postconf processes;
//! `tests/no_postfix_build.rs` does the same with a build without Postfix.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::bytes::{join, os};

/// A postconf binary as build.rs saw it: what identifies one Postfix package's
/// build without depending on the host it is installed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub path: &'static str,
    pub size: u64,
    pub mtime: i64,
    pub mtime_nsec: i64,
}

include!(concat!(env!("OUT_DIR"), "/defaults.rs"));

/// The built-in parameters of one Postfix: names sorted bytewise, and their
/// raw defaults (None: computed on the running host).
#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub names: &'static [&'static str],
    pub defaults: &'static [Option<&'static str>],
    pub mail_version: &'static str,
}

impl Table {
    /// The table build.rs recorded (empty when there was no Postfix).
    pub const RECORDED: Table = Table {
        names: BUILTIN_NAMES,
        defaults: BUILTIN_DEFAULTS,
        mail_version: BUILT_AGAINST,
    };

    /// No table at all: nothing is known to be built in.
    pub const EMPTY: Table = Table {
        names: &[],
        defaults: &[],
        mail_version: "",
    };

    /// Some(default) for a built-in parameter, None for any other name.
    fn get(&self, name: &[u8]) -> Option<Option<&'static str>> {
        self.names
            .binary_search_by(|probe| probe.as_bytes().cmp(name))
            .ok()
            .and_then(|at| self.defaults.get(at).copied())
    }

    /// Reads `postconf -d` output: every line `name = value`, mail_version
    /// among them, no name twice; anything else is not postconf's table.
    /// The table lives as long as the process (it is made once per run).
    pub fn parse(output: &[u8]) -> Option<Table> {
        let text: &'static str = Box::leak(String::from_utf8(output.to_vec()).ok()?.into());
        let mut entries = Vec::new();
        for line in text.lines() {
            let (name, value) = line.split_once('=')?;
            let name = name.trim();
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return None;
            }
            let value = (!COMPUTED.contains(&name)).then_some(value.trim());
            entries.push((name, value));
        }
        entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        if entries.windows(2).any(|w| w[0].0 == w[1].0) {
            return None;
        }
        let mail_version = entries
            .iter()
            .find(|(n, _)| *n == "mail_version")
            .and_then(|(_, v)| *v)?;
        let (names, defaults): (Vec<_>, Vec<_>) = entries.into_iter().unzip();
        Some(Table {
            names: Box::leak(names.into_boxed_slice()),
            defaults: Box::leak(defaults.into_boxed_slice()),
            mail_version,
        })
    }
}

/// Where the table in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Recorded at build time from the very postconf that is installed.
    Recorded,
    /// `postconf -d` of the installed Postfix, read once in this run,
    /// because no table was recorded at build time.
    RunTimeNoneRecorded,
    /// The same, because the installed postconf is not the one the recorded
    /// table came from (Postfix upgraded since the build, for example).
    RunTimeDiffers,
    /// No postconf could be run, or `postconf -d` failed: the native reader
    /// is off (every secondary goes through postconf, as upstream) and the
    /// compiled-in defaults apply.  The text says why.
    Unavailable(String),
}

/// The table and defaults in use for this run, and what they were chosen from.
#[derive(Debug)]
pub struct Active {
    pub source: Source,
    pub table: Table,
    /// The postconf whose identity was checked (and run, if it was).
    pub postconf: Vec<u8>,
    /// Its (size, mtime, mtime_nsec), if it could be stat()ed.
    pub installed: Option<(u64, i64, i64)>,
    defaults: Vec<(&'static str, &'static str, &'static str)>,
}

static ACTIVE: OnceLock<Active> = OnceLock::new();

/// Origin label of a default taken from the installed Postfix at run time.
pub const RUN_TIME_ORIGIN: &str = "postconf -d at run time";

/// Defaults that say where postmulti finds main.cf and postconf: only the
/// build sets them (they are used before any postconf can be asked).
const LOCATING: &[&str] = &["config_directory", "command_directory"];

/// Chooses the table and defaults for this run, once: `command_dir` is the
/// primary's command_directory.  Its postconf is the one the native reader
/// stands in for; when that cannot be run, the one in the compiled-in
/// command_directory still tells the installed Postfix's defaults.  Costs a
/// stat() when the recorded table is the installed Postfix's, else one
/// `postconf -d`.  Until this is called the recorded table and the
/// compiled-in defaults are in effect.
pub fn activate(command_dir: &[u8]) -> &'static Active {
    ACTIVE.get_or_init(|| choose(command_dir))
}

/// What [`activate`] chose, if it has been called.
pub fn active() -> Option<&'static Active> {
    ACTIVE.get()
}

fn postconf_in(dir: &[u8]) -> Vec<u8> {
    join(dir, b"postconf")
}

fn executable(path: &[u8]) -> bool {
    nix::unistd::access(os(path), nix::unistd::AccessFlags::X_OK).is_ok()
}

fn choose(command_dir: &[u8]) -> Active {
    let compiled = compiled_default("command_directory").unwrap_or("");
    let mut candidates = vec![postconf_in(command_dir)];
    if compiled.as_bytes() != command_dir && compiled.starts_with('/') {
        candidates.push(postconf_in(compiled.as_bytes()));
    }
    let Some(postconf) = candidates.into_iter().find(|p| executable(p)) else {
        return Active {
            source: Source::Unavailable("no postconf can be run".into()),
            table: Table::RECORDED,
            postconf: postconf_in(command_dir),
            installed: None,
            defaults: DEFAULTS.to_vec(),
        };
    };
    let installed = identity_of(&postconf);
    let recorded = RECORDED_FROM.filter(|_| !BUILTIN_NAMES.is_empty());
    if recorded_from(installed) {
        return Active {
            source: Source::Recorded,
            table: Table::RECORDED,
            postconf,
            installed,
            defaults: DEFAULTS.to_vec(),
        };
    }
    match run_postconf_d(&postconf) {
        Some(table) => Active {
            source: if recorded.is_some() {
                Source::RunTimeDiffers
            } else {
                Source::RunTimeNoneRecorded
            },
            defaults: DEFAULTS
                .iter()
                .map(|&(name, value, origin)| match table.get(name.as_bytes()) {
                    Some(Some(v)) if origin != "environment" && !LOCATING.contains(&name) => {
                        (name, v, RUN_TIME_ORIGIN)
                    }
                    _ => (name, value, origin),
                })
                .collect(),
            table,
            postconf,
            installed,
        },
        None => Active {
            source: Source::Unavailable("its postconf -d failed".into()),
            table: Table::EMPTY,
            postconf,
            installed,
            defaults: DEFAULTS.to_vec(),
        },
    }
}

/// `postconf -d` of the built-in parameters only: `-c /dev/null` gives it
/// no master.cf, so no service-defined names (it says so on stderr, which
/// is dropped; nothing goes to syslog).
fn run_postconf_d(postconf: &[u8]) -> Option<Table> {
    let mut child = Command::new(os(postconf))
        .arg0(os(postconf))
        .args(["-d", "-c", "/dev/null"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut output = Vec::new();
    let read = child.stdout.take()?.read_to_end(&mut output);
    let status = child.wait().ok()?;
    (read.is_ok() && status.success())
        .then(|| Table::parse(&output))
        .flatten()
}

/// The table in use: the active one, else the recorded one.
pub fn table() -> Table {
    ACTIVE.get().map_or(Table::RECORDED, |a| a.table)
}

/// Whether any table of built-in parameters is in use (none: a build
/// without Postfix whose postconf -d could not be read at run time).
pub fn have_table() -> bool {
    !table().names.is_empty()
}

/// The defaults in use: (name, value, where the value came from).
pub fn defaults() -> &'static [(&'static str, &'static str, &'static str)] {
    ACTIVE.get().map_or(DEFAULTS, |a| &a.defaults)
}

fn compiled_default(name: &str) -> Option<&'static str> {
    DEFAULTS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, v, _)| *v)
}

/// The default of a parameter postmulti evaluates itself.
pub fn default_of(name: &[u8]) -> Option<&'static str> {
    defaults()
        .iter()
        .find(|(n, _, _)| n.as_bytes() == name)
        .map(|(_, v, _)| *v)
}

/// The default, for parameters build.rs always records.
pub fn default_str(name: &str) -> &'static str {
    default_of(name.as_bytes()).unwrap_or("")
}

/// The raw default of a built-in parameter; None for other names and for
/// defaults computed on the running host (whose values hold no `$name`).
pub fn builtin_default(name: &[u8]) -> Option<&'static str> {
    table().get(name).flatten()
}

/// Whether a name is a built-in parameter of the Postfix in use.
pub fn is_builtin(name: &[u8]) -> bool {
    table().get(name).is_some()
}

/// Whether a built-in parameter's default is computed on the running host.
pub fn is_computed(name: &[u8]) -> bool {
    table().get(name) == Some(None)
}

/// A Postfix release, major, minor and patch level (3.7.11): what
/// decides the behaviour that differs between releases (stderr without a
/// terminal, main.cf's re-read passes, the null-byte warning, the words for
/// a shared user or group ID, the order of inet_interfaces' addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Release {
    pub major: u32,
    pub minor: u32,
    /// 0 for a snapshot (`3.11-20251130`) or a release candidate.
    pub patch: u32,
}

impl Release {
    /// The newest release whose behaviour this postmulti knows: assumed
    /// when no installed Postfix can tell its own.
    pub const NEWEST: Release = Release {
        major: 3,
        minor: 11,
        patch: 6,
    };

    /// Reads mail_version: `3.7.11`, `3.11-20251130`, `3.10.0-RC1`.
    pub fn parse(version: &str) -> Option<Release> {
        let mut parts = version.splitn(3, '.');
        let number = |part: Option<&str>| {
            let digits: String = part?.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().ok()
        };
        let major = number(parts.next())?;
        let minor = number(parts.next())?;
        let patch = number(parts.next()).unwrap_or(0);
        Some(Release {
            major,
            minor,
            patch,
        })
    }

    /// Whether this is MAJOR.MINOR or later.
    pub fn at_least(self, major: u32, minor: u32) -> bool {
        self >= Release {
            major,
            minor,
            patch: 0,
        }
    }

    /// Whether this is MAJOR.MINOR.PATCH or later within MAJOR.MINOR, or a
    /// later MAJOR.MINOR: a fix released on the stable branches at once.
    pub fn has_fix(self, fixed_in: &[(u32, u32, u32)], then_every: (u32, u32)) -> bool {
        let (major, minor) = then_every;
        self.at_least(major, minor)
            || fixed_in
                .iter()
                .any(|&(ma, mi, pa)| (self.major, self.minor) == (ma, mi) && self.patch >= pa)
    }
}

/// The release of the installed Postfix, whose postmulti this one stands
/// in for: the table in use once [`activate`] has chosen it; before that
/// (a warning or fatal error while main.cf is read), the recorded one
/// when the compiled-in command_directory holds the very postconf it came
/// from (one stat), else that postconf's `postconf -dh mail_version` (one
/// process, once a run, only on those paths).  Without any, the newest.
pub fn release() -> Release {
    #[cfg(test)]
    if let Some(r) = ASSUMED_RELEASE.with(|a| a.get()) {
        return r;
    }
    static EARLY: OnceLock<Release> = OnceLock::new();
    let from_table = |t: &Table| Release::parse(t.mail_version);
    if let Some(r) = active().and_then(|a| from_table(&a.table)) {
        return r;
    }
    *EARLY.get_or_init(|| {
        let dir = compiled_default("command_directory").unwrap_or("");
        let postconf = postconf_in(dir.as_bytes());
        let installed = identity_of(&postconf);
        if recorded_from(installed) {
            from_table(&Table::RECORDED)
        } else if installed.is_some() {
            run_postconf_mail_version(&postconf)
        } else {
            None
        }
        .unwrap_or(Release::NEWEST)
    })
}

/// A postconf binary's (size, mtime, mtime_nsec), if it can be stat()ed.
fn identity_of(postconf: &[u8]) -> Option<(u64, i64, i64)> {
    std::fs::metadata(os(postconf))
        .ok()
        .map(|m| (m.size(), m.mtime(), m.mtime_nsec()))
}

/// Whether a table was recorded at build time from the postconf whose
/// identity INSTALLED is.
fn recorded_from(installed: Option<(u64, i64, i64)>) -> bool {
    match (RECORDED_FROM, installed) {
        (Some(r), Some(i)) => !BUILTIN_NAMES.is_empty() && (r.size, r.mtime, r.mtime_nsec) == i,
        _ => false,
    }
}

#[cfg(test)]
thread_local! {
    /// The release a unit test stands for, in its own thread.
    static ASSUMED_RELEASE: std::cell::Cell<Option<Release>> = const { std::cell::Cell::new(None) };
}

/// Makes [`release`] answer RELEASE in this thread (unit tests of
/// behaviour that differs between releases).
#[cfg(test)]
pub(crate) fn assume_release(major: u32, minor: u32) {
    ASSUMED_RELEASE.with(|a| {
        a.set(Some(Release {
            major,
            minor,
            patch: 0,
        }))
    });
}

/// `postconf -dh mail_version` of the installed Postfix (stderr dropped).
fn run_postconf_mail_version(postconf: &[u8]) -> Option<Release> {
    let out = Command::new(os(postconf))
        .arg0(os(postconf))
        .args(["-dh", "-c", "/dev/null", "mail_version"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| Release::parse(std::str::from_utf8(&out.stdout).ok()?.trim()))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_are_read_from_mail_version() {
        let r = |v| Release::parse(v);
        let release = |major, minor, patch| {
            Some(Release {
                major,
                minor,
                patch,
            })
        };
        assert_eq!(r("3.7.11"), release(3, 7, 11));
        assert_eq!(r("3.11-20251130"), release(3, 11, 0));
        assert_eq!(r("3.10.0-RC1"), release(3, 10, 0));
        assert_eq!(r("3.10"), release(3, 10, 0));
        let fix = |v| r(v).unwrap().has_fix(&[(3, 10, 13), (3, 11, 6)], (3, 12));
        assert!(fix("3.10.13") && fix("3.11.6") && fix("3.12.0") && fix("4.0"));
        assert!(!fix("3.10.12") && !fix("3.11.5") && !fix("3.7.11") && !fix("3.9.9"));
        assert_eq!(r(""), None);
        assert_eq!(r("3"), None);
        assert!(r("3.10.13").unwrap().at_least(3, 8));
        assert!(!r("3.10.13").unwrap().at_least(3, 11));
        assert!(r("4.0").unwrap().at_least(3, 11));
    }

    #[test]
    fn every_parameter_postmulti_reads_has_a_default() {
        for name in [
            "config_directory",
            "command_directory",
            "daemon_directory",
            "meta_directory",
            "shlib_directory",
            "queue_directory",
            "data_directory",
            "postmulti_start_commands",
        ] {
            assert!(default_of(name.as_bytes()).is_some(), "{name}");
        }
        assert!(default_str("config_directory").starts_with('/'));
    }

    #[test]
    fn builtin_names_are_sorted_for_binary_search() {
        assert!(BUILTIN_NAMES
            .windows(2)
            .all(|w| w[0].as_bytes() < w[1].as_bytes()));
        assert_eq!(BUILTIN_NAMES.len(), BUILTIN_DEFAULTS.len());
    }

    #[test]
    fn nothing_computed_on_the_build_host_is_recorded() {
        for (name, value) in BUILTIN_NAMES.iter().zip(BUILTIN_DEFAULTS) {
            assert_eq!(
                COMPUTED.contains(name),
                value.is_none(),
                "{name} = {value:?}"
            );
        }
        for (name, _, _) in DEFAULTS {
            assert!(!COMPUTED.contains(name), "{name}");
        }
    }

    #[test]
    fn recorded_table_and_identity_go_together() {
        assert_eq!(BUILTIN_NAMES.is_empty(), RECORDED_FROM.is_none());
        assert_eq!(BUILTIN_NAMES.is_empty(), BUILT_AGAINST.is_empty());
    }

    #[test]
    fn postconf_d_output_is_parsed_strictly() {
        let t = Table::parse(
            b"mail_version = 3.9.1\nmyhostname = h.example\nqueue_directory = /q\nempty =\n",
        )
        .unwrap();
        assert_eq!(
            t.names,
            ["empty", "mail_version", "myhostname", "queue_directory"]
        );
        assert_eq!(t.mail_version, "3.9.1");
        assert_eq!(t.get(b"queue_directory"), Some(Some("/q")));
        assert_eq!(t.get(b"empty"), Some(Some("")));
        assert_eq!(t.get(b"myhostname"), Some(None));
        assert_eq!(t.get(b"nonesuch"), None);
        for bad in [
            &b"queue_directory\n\xff = \0\n"[..],
            b"a\0b\n",
            b"queue_directory = /q\n",
            b"mail_version = 1\nmail_version = 2\n",
            b"mail version = 1\n",
        ] {
            assert!(
                Table::parse(bad).is_none(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
