//! Database client tables and `{...}` groups in expanded values
//! (postconf_dbms.c: pcf_register_dbms_parameters, pcf_register_dbms_helper,
//! pcf_check_dbms_client).
//!
//! 15. postconf expands the value of every built-in or service parameter
//!     set in main.cf or with `-o` (not the raw ones: [`RAW`]) and splits
//!     the result into words at `,`, space, tab, CR and LF, a `{` opening a
//!     group up to its matching `}` (mystrtokq).  A word that starts with
//!     `{` must end with its matching `}` ("syntax error after '}'",
//!     "missing '}'"), and its inside is split again.  Other words are
//!     `type:name`, after any number of `proxy:` (a word without `:` is
//!     skipped).  A name that starts with `{` is split again the same way
//!     (3.10 and later: not its `{...}` words for `regexp:` and `pcre:`;
//!     3.7 splits those too).  Mirrored, as 3.7 does it (see [`scan`]), and a
//!     word that starts with `#` is left to postconf (3.10 and later warn
//!     about it): `braces_in_a_value_are_quiet_when_whole_words`,
//!     `inline_table_in_main_cf_is_quiet`, `brace_with_text_after_it_warns`.
//! 16. A name that starts with `/`, with a client type (`ldap`, `mysql`,
//!     `pgsql`, `sqlite`, `memcache`, and `mongodb` from 3.9 on), is the
//!     client's configuration file: postconf opens it once (warning when
//!     it cannot, but not for EACCES; or when it is not a regular file),
//!     reads it as main.cf is read (duplicates warn), and warns about
//!     every name in it that is not one of the release's [`suffixes`] for
//!     that type.  The reader answers only when the file is a regular
//!     file it can read, every line is a setting, no name is set twice and
//!     every name is one of the release's suffixes; anything else (a
//!     missing file among them) goes to postconf:
//!     `database_client_file_valid_is_quiet`,
//!     `database_client_file_missing_warns`,
//!     `database_client_file_unknown_name_warns`.
//! 17. A name that starts with neither `/` nor `.`, with a client type
//!     (`mongodb` counted from 3.10 on only), makes the legacy names
//!     NAME`_`SUFFIX used parameters ([`super::user`]), for every suffix of
//!     its type: `legacy_database_prefix_parameters_are_used`.
//!
//! The suffixes of each type and release were read off the installed
//! postconf of Debian 12 (3.7), 13 (3.10) and unstable (3.11): a client
//! file that sets every name found in the binaries and the manual pages,
//! and the names postconf did not call unused.  A release between those
//! gets the older list, so a name it added is left to postconf.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;

use crate::bytes::mystrtokq;
use crate::defaults::release;
use crate::maincf::MainCf;

/// Parameters postconf neither expands nor scans (PCF_PARAM_FLAG_RAW):
/// the same nine on 3.7, 3.10 and 3.11 (those whose `$undefined` value
/// draws no "undefined parameter" warning).
pub(super) const RAW: &[&[u8]] = &[
    b"command_execution_directory",
    b"default_rbl_reply",
    b"forward_path",
    b"luser_relay",
    b"mailbox_command",
    b"postscreen_expansion_filter",
    b"postscreen_reject_footer",
    b"smtpd_expansion_filter",
    b"smtpd_reject_footer",
];

/// Map types whose client configuration files postconf may open and check.
pub(super) const DATABASE_CLIENTS: &[&[u8]] = &[
    b"ldap:",
    b"mysql:",
    b"pgsql:",
    b"sqlite:",
    b"memcache:",
    b"mongodb:",
];

/// Names a later release added to a type's list: from MAJOR.MINOR on.
type Additions = &'static [(u32, u32, &'static [&'static str])];

/// The names a client configuration file of TYPE may set in the release
/// installed (pcf_*_suffixes.h, made from the manual pages); None for a
/// type that is not a client (whose names postconf does not check).
pub(super) fn suffixes(db_type: &[u8]) -> Option<Vec<&'static str>> {
    let at_least = |major, minor| release().at_least(major, minor);
    let (base, newer): (&[&str], Additions) = match db_type {
        b"ldap" => (LDAP, &[]),
        b"mysql" => (
            MYSQL,
            &[(3, 10, &["charset", "idle_interval", "retry_interval"])],
        ),
        b"pgsql" => (
            PGSQL,
            &[(3, 10, &["encoding", "idle_interval", "retry_interval"])],
        ),
        b"sqlite" => (SQLITE, &[]),
        b"memcache" => (MEMCACHE, &[(3, 11, &["key_digest"])]),
        b"mongodb" => (&[], &[(3, 10, MONGODB)]),
        _ => return None,
    };
    let mut all = base.to_vec();
    for (major, minor, names) in newer {
        if at_least(*major, *minor) {
            all.extend_from_slice(names);
        }
    }
    Some(all)
}

/// ldap_table(5): the same on 3.7, 3.10 and 3.11.
const LDAP: &[&str] = &[
    "bind",
    "bind_dn",
    "bind_pw",
    "cache",
    "cache_expiry",
    "cache_size",
    "chase_referrals",
    "debuglevel",
    "dereference",
    "domain",
    "expansion_limit",
    "leaf_result_attribute",
    "query_filter",
    "recursion_limit",
    "result_attribute",
    "result_filter",
    "result_format",
    "sasl_authz_id",
    "sasl_mechs",
    "sasl_minssf",
    "sasl_realm",
    "scope",
    "search_base",
    "server_host",
    "server_port",
    "size_limit",
    "special_result_attribute",
    "start_tls",
    "terminal_result_attribute",
    "timeout",
    "tls_ca_cert_dir",
    "tls_ca_cert_file",
    "tls_cert",
    "tls_cipher_suite",
    "tls_key",
    "tls_random_file",
    "tls_require_cert",
    "version",
];

/// mysql_table(5) of 3.7 (3.10 adds charset, idle_interval, retry_interval).
const MYSQL: &[&str] = &[
    "additional_conditions",
    "dbname",
    "domain",
    "expansion_limit",
    "hosts",
    "option_file",
    "option_group",
    "password",
    "query",
    "require_result_set",
    "result_format",
    "select_field",
    "table",
    "tls_CAfile",
    "tls_CApath",
    "tls_cert_file",
    "tls_ciphers",
    "tls_key_file",
    "tls_verify_cert",
    "user",
    "where_field",
];

/// pgsql_table(5) of 3.7 (3.10 adds encoding, idle_interval, retry_interval).
const PGSQL: &[&str] = &[
    "additional_conditions",
    "dbname",
    "domain",
    "expansion_limit",
    "hosts",
    "password",
    "query",
    "result_format",
    "select_field",
    "select_function",
    "table",
    "user",
    "where_field",
];

/// sqlite_table(5): the same on 3.7, 3.10 and 3.11.
const SQLITE: &[&str] = &[
    "additional_conditions",
    "dbpath",
    "domain",
    "expansion_limit",
    "query",
    "result_format",
    "select_field",
    "table",
    "where_field",
];

/// memcache_table(5) of 3.7 (3.11 adds key_digest).
const MEMCACHE: &[&str] = &[
    "backup",
    "data_size_limit",
    "domain",
    "flags",
    "key_format",
    "line_size_limit",
    "max_try",
    "memcache",
    "retry_pause",
    "timeout",
    "ttl",
];

/// mongodb_table(5) of 3.10 and 3.11 (3.7 has no mongodb client).
const MONGODB: &[&str] = &[
    "collection",
    "dbname",
    "domain",
    "expansion_limit",
    "projection",
    "query_filter",
    "result_attribute",
    "result_format",
    "uri",
];

/// What the words of expanded values name: client configuration files
/// (type, path) and the legacy parameter names of `type:prefix` tables.
#[derive(Default)]
pub(super) struct Found {
    pub files: Vec<(Vec<u8>, Vec<u8>)>,
    pub legacy_names: Vec<Vec<u8>>,
}

/// CHARS_COMMA_SP: what separates the words of a value.
fn is_comma_space(b: u8) -> bool {
    matches!(b, b',' | b' ' | b'\t' | b'\r' | b'\n')
}

/// extpar(&text, "{}", EXTPAR_FLAG_NONE) on a word that starts with `{`:
/// the text inside its matching `}`, or None when postconf would warn (no
/// matching `}`, or text after it).
fn inside_braces(word: &[u8]) -> Option<&[u8]> {
    let mut level = 0usize;
    for (at, &b) in word.iter().enumerate() {
        match b {
            b'{' => level += 1,
            b'}' => {
                level -= 1;
                if level == 0 {
                    return (at + 1 == word.len()).then(|| &word[1..at]);
                }
            }
            _ => {}
        }
    }
    None
}

/// pcf_register_dbms_helper on an expanded value: false when postconf
/// would warn about its words, else what they name added to FOUND.
/// `{...}` words are always split again: 3.7 does so inside `regexp:{...}`
/// and `pcre:{...}` too, later releases do not, so there a client file
/// found inside is checked although postconf would not (a missing one
/// goes to postconf for nothing) and legacy names found inside
/// (COUNT_LEGACY false) are not counted on any release.
pub(super) fn scan(text: &[u8], count_legacy: bool, found: &mut Found) -> bool {
    let mut at = 0;
    while let Some(word) = mystrtokq(text, &mut at, is_comma_space) {
        if word[0] == b'#' {
            return false;
        }
        if word[0] == b'{' {
            match inside_braces(word) {
                Some(inside) if scan(inside, count_legacy, found) => continue,
                _ => return false,
            }
        }
        let mut db_type = word;
        let name = loop {
            let Some(colon) = db_type.iter().position(|&b| b == b':') else {
                break None;
            };
            let (head, tail) = (&db_type[..colon], &db_type[colon + 1..]);
            if head == b"proxy" {
                db_type = tail;
            } else {
                db_type = head;
                break Some(tail);
            }
        };
        let Some(name) = name else { continue };
        match name.first() {
            Some(b'/') => {
                if suffixes(db_type).is_some() {
                    found.files.push((db_type.to_vec(), name.to_vec()));
                }
            }
            Some(b'.') => {}
            Some(b'{') => {
                let count = count_legacy && db_type != b"regexp" && db_type != b"pcre";
                match inside_braces(name) {
                    Some(inside) if scan(inside, count, found) => {}
                    _ => return false,
                }
            }
            _ => {
                let counted = count_legacy && (db_type != b"mongodb" || release().at_least(3, 10));
                if let Some(list) = suffixes(db_type).filter(|_| counted) {
                    for suffix in list {
                        let mut legacy = name.to_vec();
                        legacy.push(b'_');
                        legacy.extend_from_slice(suffix.as_bytes());
                        found.legacy_names.push(legacy);
                    }
                }
            }
        }
    }
    true
}

/// The identity of a file as stat(2) tells it: device, inode, size and
/// modification and change times.
type FileIdentity = (u64, u64, u64, i64, i64, i64, i64);

/// The client files one reader has checked, with the identity each had
/// then: instances made alike name the same files, which are then only
/// stat()ed again.
#[derive(Default)]
pub(super) struct ClientMemo {
    seen: HashMap<(Vec<u8>, Vec<u8>), (FileIdentity, bool)>,
}

impl ClientMemo {
    /// pcf_check_dbms_client: whether postconf would be quiet about the
    /// client configuration file PATH of type DB_TYPE (rule 16).
    pub(super) fn quiet(&mut self, db_type: &[u8], path: &[u8]) -> bool {
        use std::os::unix::ffi::OsStrExt;
        let os = std::ffi::OsStr::from_bytes(path);
        let Ok(meta) = std::fs::metadata(os) else {
            return false;
        };
        let identity = (
            meta.dev(),
            meta.ino(),
            meta.size(),
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ctime(),
            meta.ctime_nsec(),
        );
        let key = (db_type.to_vec(), path.to_vec());
        if let Some((seen, verdict)) = self.seen.get(&key) {
            if *seen == identity {
                return *verdict;
            }
        }
        let verdict = meta.is_file() && client_file_is_quiet(db_type, path);
        self.seen.insert(key, (identity, verdict));
        verdict
    }
}

/// Reads a client configuration file as dict_load_fp() does and checks
/// its names against the release's suffixes for DB_TYPE.
fn client_file_is_quiet(db_type: &[u8], path: &[u8]) -> bool {
    let Some(known) = suffixes(db_type) else {
        return true;
    };
    let Ok(data) = crate::maincf::read_file(path) else {
        return false;
    };
    if data.contains(&0) {
        return false;
    }
    let mut warnings = Vec::new();
    let Ok(cf) = MainCf::parse(path, &data, &[], &mut warnings) else {
        return false;
    };
    warnings.is_empty()
        && cf
            .params
            .keys()
            .all(|name| known.iter().any(|k| k.as_bytes() == &name[..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// scan() on TEXT: None when postconf warns, else the files and names.
    fn scanned(text: &str) -> Option<(Vec<String>, usize)> {
        let mut found = Found::default();
        scan(text.as_bytes(), true, &mut found).then(|| {
            let files = found
                .files
                .iter()
                .map(|(t, p)| {
                    format!(
                        "{}:{}",
                        String::from_utf8_lossy(t),
                        String::from_utf8_lossy(p)
                    )
                })
                .collect();
            (files, found.legacy_names.len())
        })
    }

    #[test]
    fn words_braces_and_types_are_read_as_postconf_reads_them() {
        assert_eq!(
            scanned("proxy:mysql:/etc/a.cf, hash:/etc/b"),
            Some((vec!["mysql:/etc/a.cf".into()], 0))
        );
        assert_eq!(scanned("i {auth_type} {client_name}"), Some((vec![], 0)));
        assert_eq!(
            scanned("inline:{ {a=b}, {c=pgsql:/y.cf}, {pgsql:/x.cf} }"),
            Some((vec!["pgsql:/x.cf".into()], 0))
        );
        assert_eq!(scanned("{a}b"), None);
        assert_eq!(scanned("{a"), None);
        assert_eq!(
            scanned("pcre:{{/x/ mysql:/m.cf ldap:x}}"),
            Some((vec!["mysql:/m.cf".into()], 0))
        );
        assert_eq!(scanned("ldap:ldapsource"), Some((vec![], LDAP.len())));
        assert_eq!(scanned("proxy:nothing"), Some((vec![], 0)));
        assert_eq!(scanned("a #b"), None);
        assert_eq!(scanned("hash:.relative mysql:./x"), Some((vec![], 0)));
    }
}
