//! The environment upstream builds for its children: PATH with
//! $command_directory first, and the import_environment filter; and what
//! upstream trusts of the caller's environment.
//!
//! Rules (mail_parm_split, mystrtokq, extpar, clean_env), each pinned by a
//! test in tests/hygiene.rs or below:
//! * import_environment is split on commas, space, tab, CR and LF only
//!   (`\v` and `\f` are part of an element); a `{` opens a group in which
//!   separators do not split, up to its matching `}`.
//! * An element that starts with `{` must be exactly one balanced group:
//!   unclosed is `fatal: import_environment: missing '}' in "ELEMENT"`,
//!   text after the closing brace (`{A=1}x`, `{A=1}{B=2}`) is `fatal:
//!   import_environment: syntax error after '}' in "ELEMENT"`; the braces
//!   are removed and the white space inside them stripped.
//! * clean_env keeps, in list order, each named variable that is set, and
//!   sets each `NAME=value` element (split as split_nameval does; a
//!   malformed one is `fatal: clean_env: WHY in: ELEMENT`).
//! * This happens just before postmulti-script is run (life-cycle
//!   commands); iterator commands keep the caller's environment.
//!
//! Unsafe credentials (unsafe(), safe_getenv(); tests/credentials.rs):
//! * Credentials are unsafe when the real and effective user IDs are not
//!   both 0, and the real and effective user IDs differ or the real and
//!   effective group IDs differ (a set-uid or set-gid program, `setpriv
//!   --ruid=65534 --euid=0`).  Real and effective root with different
//!   group IDs is safe.
//! * Then [`safe_getenv`] answers nothing, wherever upstream reads the
//!   environment with safe_getenv(): PATH when $command_directory is put
//!   first (ROOT_PATH follows it), the names import_environment keeps
//!   (only its `NAME=value` entries are set), POSTLOG_SERVICE and
//!   POSTLOG_HOSTNAME (logging starts on syslog, and when main.cf sets no
//!   maillog_file they are left in the environment, not removed), and
//!   MAIL_LOGTAG (which is set to syslog_name either way).
//! * TZ is removed at start-up (msg_syslog_init), so children never see it.
//! * MAIL_CONFIG is read as it is (getenv(): mail_conf_suck and
//!   postmulti's main()); a directory other than the default must then be
//!   listed in the default main.cf's alternate_config_directories or
//!   multi_instance_directories ([`check_config_dir`], mail_conf_checkdir).
//! * postconf, which ignores `-c` then, reads every secondary's
//!   parameters: the native reader does not stand in for it
//!   ([`crate::secondary`]).
//! * Variables upstream reads with plain getenv() (MAIL_CONFIG) or never
//!   reads in this process (MAIL_DEBUG, MAIL_VERBOSE) are not affected.

use std::ffi::OsString;
use std::sync::OnceLock;

use nix::unistd::{getegid, geteuid, getgid, getuid};

use crate::bytes::{from_os, is_white_space, mystrtokq, os, trim};
use crate::defaults::default_str;
use crate::maincf::{split_nameval, LineReader};
use crate::msg::{self, bfmt, io_error_text, Fatal};
use crate::primary::split_list;

/// Postfix's PATH for a process that has none (ROOT_PATH).
pub const ROOT_PATH: &[u8] = b"/bin:/usr/bin:/sbin:/usr/sbin";

/// Whether the caller's environment is not to be trusted (unsafe()): the
/// real and effective user IDs are not both root, and the user IDs or the
/// group IDs differ.  Computed once: postmulti never changes them.
pub fn unsafe_credentials() -> bool {
    static UNSAFE: OnceLock<bool> = OnceLock::new();
    *UNSAFE.get_or_init(|| {
        let (uid, euid) = (getuid(), geteuid());
        !(uid.is_root() && euid.is_root()) && (uid != euid || getgid() != getegid())
    })
}

/// A variable of the caller's environment, or none under unsafe
/// credentials (safe_getenv()).
pub fn safe_getenv(name: impl AsRef<std::ffi::OsStr>) -> Option<OsString> {
    if unsafe_credentials() {
        None
    } else {
        std::env::var_os(name)
    }
}

/// Removes TZ under unsafe credentials, before any time is formatted, as
/// the first msg_syslog_init() or msg_logger_init() call does.
pub fn drop_tz_when_unsafe() {
    if unsafe_credentials() && std::env::var_os("TZ").is_some() {
        std::env::remove_var("TZ");
        extern "C" {
            fn tzset();
        }
        // SAFETY: tzset() only rereads TZ; no other thread runs yet.
        unsafe { tzset() };
    }
}

/// A non-default configuration directory named by MAIL_CONFIG must, under
/// unsafe credentials, be listed in the default main.cf's
/// alternate_config_directories or multi_instance_directories, unexpanded
/// (mail_conf_checkdir(), called by mail_conf_suck()).
pub fn check_config_dir(config_dir: &[u8]) -> Result<(), Fatal> {
    let default_dir = default_str("config_directory").as_bytes();
    if config_dir == default_dir || !unsafe_credentials() {
        return Ok(());
    }
    let path = crate::bytes::join(default_dir, b"main.cf");
    let why = |e: std::io::Error| io_error_text(&e).into_bytes();
    let data = std::fs::File::open(os(&path))
        .map_err(|e| Fatal(bfmt("open file %s: %s", &[&path, &why(e)])))?;
    let data = {
        use std::io::Read;
        let mut buf = Vec::new();
        (&data)
            .read_to_end(&mut buf)
            .map_err(|e| Fatal(bfmt("read file %s: %s", &[&path, &why(e)])))?;
        buf
    };
    let mut reader = LineReader::new(&path, &data);
    let mut found = false;
    while !found {
        let mut warnings = Vec::new();
        let line = reader.next_line(&mut warnings);
        warnings.iter().for_each(|w| msg::warn(w));
        let Some(line) = line else { break };
        if let Ok((name, value)) = split_nameval(&line.text) {
            if name == b"alternate_config_directories" || name == b"multi_instance_directories" {
                found = split_list(value).iter().any(|dir| dir == config_dir);
            }
        }
    }
    if found {
        return Ok(());
    }
    msg::error(&bfmt(
        "unauthorized configuration directory name: %s",
        &[config_dir],
    ));
    Err(Fatal(bfmt(
        "specify \"alternate_config_directories = %s\" or \"multi_instance_directories = %s\" in %s",
        &[config_dir, config_dir, &path],
    )))
}

/// Sets PATH to "$command_directory:" + the old PATH, or ROOT_PATH when it
/// was empty, unset, or not to be trusted (prepend_command_path).
pub fn prepend_command_path(command_dir: &[u8]) {
    let old = safe_getenv("PATH").map(from_os).filter(|p| !p.is_empty());
    let mut path = command_dir.to_vec();
    path.push(b':');
    path.extend_from_slice(old.as_deref().unwrap_or(ROOT_PATH));
    std::env::set_var("PATH", os(&path));
}

/// Postfix's list separators (CHARS_COMMA_SP): comma, space, tab, CR, LF.
fn is_list_separator(b: u8) -> bool {
    b == b',' || is_white_space(b)
}

/// extpar(&arg, "{}", EXTPAR_FLAG_STRIP): the text inside a `{...}` token,
/// white space stripped, or the error Postfix reports ("missing '}' in
/// ..." when it never closes, "syntax error after '}' in ..." when text
/// follows the closing brace).
fn extpar(token: &[u8]) -> Result<&[u8], Vec<u8>> {
    let mut level = 0usize;
    let close = token.iter().enumerate().find_map(|(i, &b)| {
        match b {
            b'{' => level += 1,
            b'}' => {
                level -= 1;
                if level == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        None
    });
    match close {
        None => Err(bfmt("missing '}' in \"%s\"", &[token])),
        Some(i) if i + 1 != token.len() => Err(bfmt("syntax error after '}' in \"%s\"", &[token])),
        Some(i) => Ok(trim(&token[1..i])),
    }
}

/// mail_parm_split: a parameter's list split on commas and white space
/// (space, tab, CR, LF; not \v or \f), a `{ ... }` element kept whole
/// with its braces and the white space inside them stripped; a malformed
/// `{` element is the fatal `NAME: missing '}' in "..."` or `NAME: syntax
/// error after '}' in "..."`.
pub fn mail_parm_split(name: &str, value: &[u8]) -> Result<Vec<Vec<u8>>, Fatal> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(token) = mystrtokq(value, &mut at, is_list_separator) {
        if token.first() == Some(&b'{') {
            let inner = extpar(token).map_err(|e| Fatal(bfmt("%s: %s", &[name.as_bytes(), &e])))?;
            out.push(inner.to_vec());
        } else {
            out.push(token.to_vec());
        }
    }
    Ok(out)
}

/// The environment kept by import_environment: named variables that are set
/// (none under unsafe credentials: safe_getenv), and `NAME=value` entries
/// (split as split_nameval does), in list order (clean_env); a malformed
/// entry is upstream's fatal error.
pub fn cleaned(import: &[Vec<u8>]) -> Result<Vec<(OsString, OsString)>, Fatal> {
    let mut kept: Vec<(OsString, OsString)> = Vec::new();
    let mut put = |name: &[u8], value: OsString| {
        let name = os(name).to_os_string();
        match kept.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => kept.push((name, value)),
        }
    };
    for entry in import {
        if entry.contains(&b'=') {
            let (name, value) = split_nameval(entry)
                .map_err(|why| Fatal(bfmt("clean_env: %s in: %s", &[why.as_bytes(), entry])))?;
            put(name, os(value).to_os_string());
        } else if let Some(value) = safe_getenv(os(entry)) {
            put(entry, value);
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_value_entries_are_split_like_split_nameval() {
        let kept = cleaned(&[b"A = 1".to_vec(), b"B=2".to_vec()]).unwrap();
        assert_eq!(
            kept,
            vec![("A".into(), "1".into()), ("B".into(), "2".into())]
        );
        let err = cleaned(&[b"=x".to_vec()]).unwrap_err();
        assert_eq!(err.0, b"clean_env: missing attribute name in: =x".to_vec());
    }

    #[test]
    fn brace_groups_stay_whole() {
        assert_eq!(
            mail_parm_split("n", b"A, B=1 { C = x y } D").unwrap(),
            vec![
                b"A".to_vec(),
                b"B=1".to_vec(),
                b"C = x y".to_vec(),
                b"D".to_vec()
            ]
        );
        assert_eq!(
            mail_parm_split("n", b"A\x0bB x}y").unwrap(),
            vec![b"A\x0bB".to_vec(), b"x}y".to_vec()]
        );
    }

    #[test]
    fn malformed_brace_groups_are_fatal() {
        let err = |v: &[u8]| {
            String::from_utf8(mail_parm_split("import_environment", v).unwrap_err().0).unwrap()
        };
        assert_eq!(
            err(b"A {FOO=bar"),
            "import_environment: missing '}' in \"{FOO=bar\""
        );
        assert_eq!(
            err(b"{FOO=1}x"),
            "import_environment: syntax error after '}' in \"{FOO=1}x\""
        );
        assert_eq!(
            err(b"{FOO=1}{BAR=2}"),
            "import_environment: syntax error after '}' in \"{FOO=1}{BAR=2}\""
        );
    }
}
