//! mail_params_init()'s checks of the primary's main.cf: every upstream
//! command, postmulti included, dies on a main.cf that sets one of Postfix's
//! global parameters to a value it cannot use, before it does anything.
//!
//! The parameters and their limits are those of mail_params_init()'s tables,
//! found by setting every parameter `postconf -d` knows to bad values in
//! Postfix 3.7, 3.10 and 3.11 (tests/mail_params.rs pins them side by
//! side); a parameter the installed Postfix does not know is not checked,
//! so 3.10's and 3.11's additions are checked only where they exist.
//!
//! The checks run in upstream's order, each on the expanded value, all
//! before the maillog_file prefix check (src/primary.rs); a parameter
//! main.cf leaves unset takes a built-in default, which passes them (the
//! users and groups and the host names are looked up whether set or not):
//!
//! * compatibility_level: `malformed compatibility level syntax: "VALUE"`.
//! * Strings with a minimum length (`TABLE`'s `Str`, some before
//!   syslog_facility is checked, the rest after the host names): `bad
//!   string length N < MIN: NAME = VALUE` (or `> MAX`).
//! * Booleans (`Bool`): yes or no in any case, else `bad boolean
//!   configuration: NAME = VALUE`.
//! * inet_protocols, words of `all`, `ipv4` and `ipv6` (inet_proto_init):
//!   `unknown inet_protocols value "WORD" in "VALUE"`.
//! * myhostname and mydomain (main.cf's, else computed from the kernel's
//!   host name), valid_hostname(): its warning, then `file DIR/main.cf:
//!   parameter NAME: bad parameter value: VALUE`.
//! * Integers (`Int`, `Long`), strtol() of the whole value: `bad
//!   numerical configuration: NAME = VALUE`, then `invalid NAME parameter
//!   value N < MIN`.
//! * Times (`Time`), conv_time() with the unit `s` by default: `parameter
//!   NAME: bad time value or unit: VALUE`, then `invalid NAME: N (min
//!   MIN)` or `(max MAX)`.
//! * default_privs, mail_owner and setgid_group (check_default_privs,
//!   check_mail_owner, check_sgid_group, check_overlap): unknown, root,
//!   sharing an ID, in the installed release's words (3.10 and later:
//!   `user U has the same user ID N as user V`, 3.7: `user U has same user
//!   ID as V`).
//! * myorigin, on a Postfix built with MYORIGIN_FROM_FILE (Debian's: the
//!   only option of its build, debian/rules' CCARGS, that changes what
//!   postmulti does; its patches touch no code on postmulti's path), right
//!   after the strings: a value starting with `/` is a file whose first
//!   line, trimmed, is myorigin (read_param_from_file()): `FILE: WHY` where
//!   safe_open() refuses it, `myorigin file FILE is empty`.
//! * mynetworks, only when main.cf leaves it unset (mynetworks(), after
//!   the users and groups), then inet_interfaces (own_inet_addr_list()):
//!   the rules of src/interfaces.rs, `unknown mynetworks mask style value
//!   ...`, `bad mynetworks_style value: ...`, `mynetworks_core: unknown
//!   address class: ...`, `could not find any active network interfaces`,
//!   `config variable inet_interfaces: host not found: NAME`, `parameter
//!   inet_interfaces: no local interface found for ADDR`; an IPv6 (or IPv4)
//!   the kernel has not is one warning per run, when inet_protocols is read
//!   (`inet_protocols: disabling IPv6 name/address support: REASON`).
//! * myhostname and relayhost not the same (case ignored); myorigin one
//!   value; default_verp_delimiters both in verp_delimiter_filter;
//!   non_bdb_migration_level a level 3.11 knows.
//! * known_tcp_ports (config_known_tcp_ports()): a malformed association
//!   is a warning, `known_tcp_ports: in "ELEMENT": WHY` (Postfix 3.7 to
//!   3.11 check no port range).

use super::Primary;
use crate::bytes::{is_white_space, yes_no};
use crate::defaults::{builtin_default, default_of, is_builtin};
use crate::expand::{compat_level_from_string, strtol};
use crate::hostname::valid_hostname;
use crate::interfaces::{
    self, local_addresses, mynetworks_core, own_inet_addr_list, resolve, Families,
};
use crate::msg::{self, bfmt, Fatal, Result};

/// How mail_params_init() converts and checks a parameter of its tables:
/// a string with a minimum and maximum length, a boolean, an int with a
/// minimum and maximum, a long with a minimum, a time in seconds with a
/// minimum and maximum (0: no limit).
#[derive(Clone, Copy)]
enum Kind {
    Str(usize, usize),
    Bool,
    Int(i64, i64),
    Long(i64),
    Time(i64, i64),
}

/// When mail_params_init() reads a table: before syslog_facility is
/// checked (first_str_defaults), right after it (first_bool_defaults,
/// first_nbool_defaults), after the host names (other_str_defaults), or
/// after myorigin's file is read (the other tables).
#[derive(Clone, Copy, PartialEq)]
enum Stage {
    Early,
    AfterFacility,
    OtherStr,
    Later,
}

use Kind::{Bool, Int, Long, Str, Time};
use Stage::{AfterFacility, Early, Later, OtherStr};

/// mail_params_init()'s tables, in the order it reads them: runs of
/// parameters read at the same stage and checked the same way.
const TABLE: &[(Stage, Kind, &[&str])] = &[
    (
        Early,
        Str(1, 0),
        &[
            "mail_version",
            "syslog_facility",
            "maillog_file_prefixes",
            "maillog_file_compressor",
            "maillog_file_rotate_suffix",
            "maillog_file_permissions",
            "postlog_service_name",
        ],
    ),
    (
        AfterFacility,
        Bool,
        &[
            "daemon_table_open_error_is_fatal",
            "dns_ncache_ttl_fix_enable",
            "smtputf8_enable",
            "enable_idna2003_compatibility",
            "respectful_logging",
            "tls_required_enable",
            "requiretls_enable",
            "non_bdb_migration_log_redirect",
        ],
    ),
    (
        OtherStr,
        Str(1, 0),
        &[
            "mail_name",
            "syslog_name",
            "mail_owner",
            "setgid_group",
            "myorigin",
            "daemon_directory",
            "data_directory",
            "command_directory",
            "meta_directory",
            "queue_directory",
            "shlib_directory",
            "process_id_directory",
            "double_bounce_sender",
            "default_privs",
            "mail_release_date",
            "default_database_type",
            "default_cache_db_type",
            "hash_queue_names",
            "mynetworks_style",
        ],
    ),
    (OtherStr, Str(2, 2), &["default_verp_delimiters"]),
    (
        OtherStr,
        Str(1, 0),
        &[
            "verp_delimiter_filter",
            "bounce_service_name",
            "cleanup_service_name",
            "defer_service_name",
            "pickup_service_name",
            "queue_service_name",
            "rewrite_service_name",
            "showq_service_name",
            "error_service_name",
            "flush_service_name",
            "address_verify_service_name",
            "trace_service_name",
            "proxymap_service_name",
            "proxywrite_service_name",
            "smtputf8_autodetect_classes",
            "info_log_address_format",
            "non_bdb_migration_level",
        ],
    ),
    (Later, Int(1, 0), &["default_process_limit", "max_use"]),
    (Later, Int(0, 0), &["dont_remove"]),
    (Later, Int(512, 0), &["line_length_limit"]),
    (
        Later,
        Int(1, 0),
        &[
            "hash_queue_depth",
            "fork_attempts",
            "deliver_lock_attempts",
            "debug_peer_level",
        ],
    ),
    (Later, Int(0, 0), &["fault_injection_code"]),
    (
        Later,
        Int(1, 0),
        &[
            "berkeley_db_create_buffer_size",
            "berkeley_db_read_buffer_size",
            "header_size_limit",
            "header_address_token_limit",
            "mime_nesting_limit",
            "mime_boundary_length_limit",
        ],
    ),
    (Later, Int(0, 6), &["delay_logging_resolution_limit"]),
    (Later, Int(0, 0), &["tcp_windowsize"]),
    (Later, Int(1, 0), &["socketmap_max_reply_size"]),
    (Later, Long(0), &["message_size_limit"]),
    (Later, Long(1), &["lmdb_map_size"]),
    (
        Later,
        Bool,
        &[
            "disable_dns_lookups",
            "soft_bounce",
            "owner_request_special",
            "strict_8bitmime",
            "strict_7bit_headers",
            "strict_8bitmime_body",
            "strict_mime_encoding_domain",
            "disable_mime_input_processing",
            "disable_mime_output_conversion",
            "address_verify_negative_cache",
            "backwards_bounce_logfile_compatibility",
            "helpful_warnings",
            "send_cyrus_sasl_authzid",
            "multi_instance_enable",
            "enable_long_queue_ids",
            "strict_smtputf8",
            "enable_original_recipient",
        ],
    ),
    (
        Later,
        Time(1, 0),
        &[
            "application_event_drain_time",
            "max_idle",
            "ipc_timeout",
            "ipc_idle",
            "ipc_ttl",
            "trigger_timeout",
            "fork_delay",
            "deliver_lock_delay",
            "stale_lock_time",
            "daemon_timeout",
        ],
    ),
    (Later, Time(0, 10), &["in_flow_delay"]),
];

/// The checks mail_params_init() makes before it checks syslog_facility.
pub fn check_first(p: &Primary) -> Result<()> {
    if let Some(level) = set(p, "compatibility_level")? {
        compat_level_from_string(&level).map_err(Fatal)?;
    }
    check_table(p, Early)
}

/// The checks mail_params_init() makes after syslog_facility, in its order.
pub fn check_rest(p: &Primary) -> Result<()> {
    check_table(p, AfterFacility)?;
    known_tcp_ports(p)?;
    let families = inet_proto_init(p)?;
    if p.main_cf.get(b"myhostname").is_none() {
        check_kernel_host_name()?;
    }
    let myhostname = host_name(p, "myhostname", p.myhostname()?)?;
    let mydomain = match p.main_cf.get(b"mydomain") {
        Some(_) => p.param("mydomain")?,
        None => match myhostname.iter().position(|&b| b == b'.') {
            Some(dot) => myhostname[dot + 1..].to_vec(),
            None => b"localdomain".to_vec(),
        },
    };
    host_name(p, "mydomain", mydomain)?;
    check_table(p, OtherStr)?;
    let myorigin = myorigin_from_file(p)?;
    check_table(p, Later)?;
    users_and_groups(p)?;
    // function_str_defaults_2: mynetworks' default, computed only when
    // main.cf leaves it unset; then own_inet_addr_list() (whose answer
    // mynetworks() may have found already: the same).
    let interfaces = p.param("inet_interfaces")?;
    let own = || {
        let local = local_addresses();
        own_inet_addr_list(&interfaces, families, local, &mut resolve)
    };
    if p.main_cf.get(b"mynetworks").is_none() {
        mynetworks_core(&p.param("mynetworks_style")?, families, own)?;
    }
    own()?;
    let relayhost = value(p, "relayhost")?.unwrap_or_default();
    if myhostname.eq_ignore_ascii_case(&relayhost) {
        return Err(Fatal(bfmt(
            "myhostname and relayhost parameter settings must not be identical: %s",
            &[&myhostname],
        )));
    }
    if let Some(myorigin) = myorigin {
        if myorigin.iter().any(|&b| b == b',' || is_white_space(b)) {
            return Err(Fatal(bfmt(
                "myorigin parameter setting must not contain multiple values: %s",
                &[&myorigin],
            )));
        }
    }
    verp_delims_verify(p)?;
    non_bdb_migration_level(p)
}

/// myorigin as mail_params_init() has it once other_str_defaults is read:
/// main.cf's value (None when unset: its default is one name), or, with a
/// Postfix built with MYORIGIN_FROM_FILE (Debian's) and a value that starts
/// with `/`, the first line of that file, trimmed (read_param_from_file()):
/// a file safe_open() refuses is `FILE: WHY`, an empty line `myorigin
/// file FILE is empty`.
fn myorigin_from_file(p: &Primary) -> Result<Option<Vec<u8>>> {
    let Some(myorigin) = set(p, "myorigin")? else {
        return Ok(None);
    };
    if !myorigin.starts_with(b"/") || !built_with_myorigin_from_file() {
        return Ok(Some(myorigin));
    }
    let mut line = Vec::new();
    let read = msg::safe_open_read(&myorigin).and_then(|f| {
        use std::io::BufRead;
        let mut reader = std::io::BufReader::new(f);
        reader
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("read error: {}", msg::io_error_text(&e)))
    });
    if let Err(why) = read {
        return Err(cat(&[&myorigin, b": ", why.as_bytes()]));
    }
    let line = c_text(line.strip_suffix(b"\n").unwrap_or(&line));
    let origin = line.trim_ascii();
    if origin.is_empty() {
        return Err(cat(&[b"myorigin file ", &myorigin, b" is empty"]));
    }
    Ok(Some(origin.to_vec()))
}

/// Whether the installed Postfix reads myorigin from a file: its global
/// library (libpostfix-global.so in the built-in shlib_directory) holds
/// read_param_from_file()'s words.  A Postfix without that library (a
/// static build) is taken to be upstream's default build, without it.
fn built_with_myorigin_from_file() -> bool {
    let dir = crate::defaults::default_str("shlib_directory");
    let library = format!("{dir}/libpostfix-global.so");
    let needle = b"%s file %s is empty";
    std::fs::read(library).is_ok_and(|l| l.windows(needle.len()).any(|w| w == needle))
}

/// non_bdb_migration_level (Postfix 3.11): `disable`, `enable-redirect` or
/// `enable-reindex`, in any case.
fn non_bdb_migration_level(p: &Primary) -> Result<()> {
    let Some(level) = set(p, "non_bdb_migration_level")? else {
        return Ok(());
    };
    let known = [&b"disable"[..], b"enable-redirect", b"enable-reindex"];
    if known.iter().any(|k| level.eq_ignore_ascii_case(k)) {
        return Ok(());
    }
    Err(cat(&[
        b"invalid non-Berkeley-DB migration level: '",
        &level,
        b"'",
    ]))
}

/// config_known_tcp_ports(): known_tcp_ports, split at commas (empty
/// elements dropped), each element `NAME = ... = PORT` split at every `=`
/// (empty pieces kept); a malformed element is a warning, printed once per
/// run (life-cycle commands load main.cf twice; upstream reads it once).
fn known_tcp_ports(p: &Primary) -> Result<()> {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let Some(value) = set(p, "known_tcp_ports")? else {
        return Ok(());
    };
    if WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        return Ok(());
    }
    let mut known: Vec<Vec<u8>> = Vec::new();
    for element in value.split(|&b| b == b',').filter(|e| !e.is_empty()) {
        let padded = [b" ", element, b" "].concat();
        let pieces: Vec<&[u8]> = padded.split(|&b| b == b'=').collect();
        let why = match pieces.split_last() {
            Some((port, names)) if !names.is_empty() => association(names, port, &mut known),
            _ => Some("is not in \"name = value\" form"),
        };
        if let Some(why) = why {
            let after: &[u8] = if why.starts_with("is not") {
                b"\" "
            } else {
                b"\": "
            };
            let head = b"known_tcp_ports: in \"";
            msg::warn(&[&head[..], element, after, why.as_bytes()].concat());
        }
    }
    Ok(())
}

/// One `NAME = ... = PORT` association of known_tcp_ports: the first
/// problem, if any (every name is still registered), as add_known_tcp_port()
/// and its caller word it.
fn association(names: &[&[u8]], port: &[u8], known: &mut Vec<Vec<u8>>) -> Option<&'static str> {
    let alldig = |w: &[u8]| !w.is_empty() && w.iter().all(u8::is_ascii_digit);
    let port = match words(port).as_slice() {
        [] => return Some("missing port value after \"=\""),
        [port] => port.to_vec(),
        _ => return Some("whitespace in port number"),
    };
    let mut first = None;
    for &piece in names {
        let why = match words(piece).as_slice() {
            [] => Some("missing service name before \"=\""),
            [name] if alldig(name) => Some("numerical service name"),
            [_] if !alldig(&port) => Some("non-numerical service port"),
            [name] if known.iter().any(|k| k == name) => Some("duplicate service name"),
            [name] => {
                known.push(name.to_vec());
                None
            }
            _ => Some("whitespace in service name"),
        };
        first = first.or(why);
    }
    first
}

/// The words of a piece of text, split at white space (mystrtok(CHARS_SPACE)).
fn words(piece: &[u8]) -> Vec<&[u8]> {
    piece
        .split(|&b| is_white_space(b))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The expanded value of a parameter main.cf sets; None when it is unset
/// or not one of the installed Postfix's (socketmap_max_reply_size and
/// tls_required_enable are 3.10's; default_cache_db_type,
/// non_bdb_migration_level, non_bdb_migration_log_redirect and
/// requiretls_enable 3.11's, maillog_file_permissions 3.9's: checked
/// before the installed Postfix's table may be in use, so asked of the
/// release).
fn set(p: &Primary, name: &str) -> Result<Option<Vec<u8>>> {
    let known = || match name {
        "maillog_file_permissions" => crate::defaults::release().at_least(3, 9),
        _ => is_builtin(name.as_bytes()),
    };
    match p.main_cf.get(name.as_bytes()) {
        Some(_) if known() => p.param(name).map(Some),
        _ => Ok(None),
    }
}

/// The value of a parameter: main.cf's, expanded, else its built-in
/// default when that is literal text; None when it is neither.
fn value(p: &Primary, name: &str) -> Result<Option<Vec<u8>>> {
    if p.main_cf.get(name.as_bytes()).is_some() {
        return p.param(name).map(Some);
    }
    let default = builtin_default(name.as_bytes()).or_else(|| default_of(name.as_bytes()));
    Ok(default
        .filter(|d| !d.contains('$'))
        .map(|d| d.as_bytes().to_vec()))
}

/// get_mail_conf_str()'s length limits (0: none).
fn string_length(p: &Primary, name: &str, min: usize, max: usize) -> Result<()> {
    let Some(value) = set(p, name)? else {
        return Ok(());
    };
    let len = value.len() as i64;
    let Some((below, limit)) = beyond(len, min as i64, max as i64) else {
        return Ok(());
    };
    let op = if below { "<" } else { ">" };
    let head = format!("bad string length {len} {op} {limit}: {name} = ");
    Err(cat(&[head.as_bytes(), &value]))
}

/// The parameters of TABLE read at this stage, each as its kind says.
fn check_table(p: &Primary, stage: Stage) -> Result<()> {
    let int = i64::from(i32::MIN)..=i64::from(i32::MAX);
    let names = TABLE.iter().filter(|(s, _, _)| *s == stage);
    for (name, kind) in names.flat_map(|(_, kind, names)| names.iter().map(move |n| (*n, *kind))) {
        match kind {
            Str(min, max) => string_length(p, name, min, max)?,
            Bool => boolean(p, name)?,
            Int(min, max) => integer(p, name, min, max, int.clone())?,
            Long(min) => integer(p, name, min, 0, i64::MIN..=i64::MAX)?,
            Time(min, max) => time(p, name, min, max)?,
        }
    }
    Ok(())
}

/// The limit a value breaks, if any: (true, the minimum) below it, else
/// (false, the maximum) above it; 0 is no limit.
fn beyond(value: i64, min: i64, max: i64) -> Option<(bool, i64)> {
    if min != 0 && value < min {
        Some((true, min))
    } else if max != 0 && value > max {
        Some((false, max))
    } else {
        None
    }
}

/// get_mail_conf_bool() and get_mail_conf_nbool(): yes or no.
fn boolean(p: &Primary, name: &str) -> Result<()> {
    match set(p, name)? {
        Some(value) if yes_no(&value).is_none() => Err(Fatal(bfmt(
            "bad boolean configuration: %s = %s",
            &[name.as_bytes(), &value],
        ))),
        _ => Ok(()),
    }
}

/// get_mail_conf_int() and get_mail_conf_long(): strtol() of the whole
/// value within the C type's `range`, then the limits (0: none).
fn integer(
    p: &Primary,
    name: &str,
    min: i64,
    max: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<()> {
    let Some(value) = set(p, name)? else {
        return Ok(());
    };
    let (number, end) = strtol(&value);
    let number = number.filter(|n| !value.is_empty() && end == value.len() && range.contains(n));
    let Some(n) = number else {
        return Err(Fatal(bfmt(
            "bad numerical configuration: %s = %s",
            &[name.as_bytes(), &value],
        )));
    };
    match beyond(n, min, max) {
        Some((below, limit)) => {
            let op = if below { "<" } else { ">" };
            Err(Fatal::new(format!(
                "invalid {name} parameter value {n} {op} {limit}"
            )))
        }
        None => Ok(()),
    }
}

/// get_mail_conf_time() with conv_time(): a number and at most one unit
/// letter (w, d, h, m, s; seconds by default), then the limits (0: none).
fn time(p: &Primary, name: &str, min: i64, max: i64) -> Result<()> {
    let Some(value) = set(p, name)? else {
        return Ok(());
    };
    let Some(seconds) = conv_time(&value) else {
        let head = format!("parameter {name}: bad time value or unit: ");
        return Err(cat(&[head.as_bytes(), &value]));
    };
    let Some((below, limit)) = beyond(seconds, min, max) else {
        return Ok(());
    };
    let which = if below { "min" } else { "max" };
    Err(Fatal::new(format!(
        "invalid {name}: {seconds} ({which} {limit})"
    )))
}

/// conv_time(value, &seconds, 's'): None where Postfix refuses the value.
fn conv_time(value: &[u8]) -> Option<i64> {
    let (number, end) = strtol(value);
    let n = number.filter(|n| !value.is_empty() && (0..=i64::from(i32::MAX)).contains(n))?;
    let unit = match &value[end..] {
        [] => b's',
        [unit] => *unit,
        _ => return None,
    };
    let scale: i64 = match unit {
        b'w' => 7 * 24 * 3600,
        b'd' => 24 * 3600,
        b'h' => 3600,
        b'm' => 60,
        b's' => return Some(n),
        _ => return None,
    };
    (n < i64::from(i32::MAX) / scale).then_some(n * scale)
}

/// inet_proto_init() of inet_protocols: the families it leaves enabled.
/// A family the kernel has not is a warning, printed once per run
/// (life-cycle commands load main.cf twice; upstream reads it once).
fn inet_proto_init(p: &Primary) -> Result<Families> {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let Some(value) = value(p, "inet_protocols")? else {
        return Ok((true, true));
    };
    let mut warnings = Vec::new();
    let families = interfaces::inet_proto_init(&value, &mut |w| warnings.push(w))?;
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        for w in &warnings {
            msg::warn(w);
        }
    }
    Ok(families)
}

/// The minimum length and valid_hostname() of myhostname or mydomain.
fn host_name(p: &Primary, name: &str, value: Vec<u8>) -> Result<Vec<u8>> {
    string_length(p, name, 1, 0)?;
    if let Err(why) = valid_hostname(&value) {
        msg::warn(format!("valid_hostname: {why}").as_bytes());
        let what = format!("/main.cf: parameter {name}: bad parameter value: ");
        return Err(cat(&[b"file ", &p.config_dir, what.as_bytes(), &value]));
    }
    Ok(value)
}

/// get_hostname(): the kernel's host name must be one Postfix can use.
fn check_kernel_host_name() -> Result<()> {
    match valid_hostname(&crate::hostname::kernel_host_name()) {
        Ok(()) => Ok(()),
        Err(why) => {
            msg::warn(format!("valid_hostname: {why}").as_bytes());
            Err(Fatal::new("unable to use my own hostname"))
        }
    }
}

/// A user's or group's IDs, as getpwnam() finds them.
struct Ids {
    uid: u32,
    gid: u32,
}

/// A fatal error whose text is these pieces, one after the other.
fn cat(parts: &[&[u8]]) -> Fatal {
    Fatal(parts.concat())
}

/// check_default_privs(), check_mail_owner(), check_sgid_group() and
/// check_overlap().
fn users_and_groups(p: &Primary) -> Result<()> {
    let (Some(privs_name), Some(owner_name), Some(group_name)) = (
        value(p, "default_privs")?,
        value(p, "mail_owner")?,
        value(p, "setgid_group")?,
    ) else {
        return Ok(());
    };
    let file: &[u8] = &[b"file ", p.config_dir.as_slice(), b"/main.cf: "].concat();
    let privs = user(file, "default_privs", &privs_name)?;
    let owner = user(file, "mail_owner", &owner_name)?;
    if let Ok(Some(first)) = nix::unistd::User::from_uid(owner.uid.into()) {
        if first.name.as_bytes() != c_text(&owner_name) {
            let twin = same_id(b"user", owner.uid, first.name.as_bytes());
            return Err(cat(&[
                file,
                b"parameter mail_owner: user ",
                &owner_name,
                &twin,
            ]));
        }
    }
    let sgid = sgid_group(file, &group_name)?;
    check_overlap(
        file,
        (&privs_name, &privs),
        (&owner_name, &owner),
        (&group_name, sgid),
    )
}

/// How the installed release says that a user or group (KIND) shares
/// its ID N with FIRST, the first of that ID: Postfix 3.10 and later
/// ` has the same user ID N as user FIRST`, before ` has same user ID as
/// FIRST`.
fn same_id(kind: &[u8], n: u32, first: &[u8]) -> Vec<u8> {
    if crate::defaults::release().at_least(3, 10) {
        [
            b" has the same ",
            kind,
            b" ID ",
            &id(n),
            b" as ",
            kind,
            b" ",
            first,
        ]
        .concat()
    } else {
        [b" has same ", kind, b" ID as ", first].concat()
    }
}

/// A user or group ID as Postfix prints it (%ld).
fn id(n: u32) -> Vec<u8> {
    n.to_string().into_bytes()
}

/// check_sgid_group(): the group exists, is not root's, and is the first
/// with its ID; its ID.
fn sgid_group(file: &[u8], name: &[u8]) -> Result<u32> {
    let about: &[u8] = &[file, b"parameter setgid_group: "].concat();
    let Some(group) = group_by_name(name) else {
        return Err(cat(&[about, b"unknown group name: ", name]));
    };
    let sgid = group.gid.as_raw();
    if sgid == 0 {
        return Err(cat(&[about, b"group ", name, b" has privileged group ID"]));
    }
    if let Ok(Some(first)) = nix::unistd::Group::from_gid(group.gid) {
        if first.name.as_bytes() != c_text(name) {
            let twin = same_id(b"group", sgid, first.name.as_bytes());
            return Err(cat(&[about, b"group ", name, &twin]));
        }
    }
    Ok(sgid)
}

/// check_overlap(): default_privs, mail_owner and setgid_group share no
/// user or group.
fn check_overlap(
    file: &[u8],
    (privs_name, privs): (&[u8], &Ids),
    (owner_name, owner): (&[u8], &Ids),
    (group_name, sgid): (&[u8], u32),
) -> Result<()> {
    let users = |which: &[u8], n: u32| {
        let head = b"parameters default_privs and mail_owner: users ";
        let names: &[&[u8]] = &[head, privs_name, b" and ", owner_name];
        [
            names.concat(),
            [b" have the same ", which, b" ID: "].concat(),
            id(n),
        ]
        .concat()
    };
    let user_and_group = |param: &[u8], user: &[u8]| {
        let head: &[&[u8]] = &[b"parameters ", param, b" and setgid_group: user ", user];
        let tail: &[&[u8]] = &[b" and group ", group_name, b" have the same group ID: "];
        [head.concat(), tail.concat(), id(sgid)].concat()
    };
    let why = if privs_name == owner_name {
        let same = b"parameters default_privs and mail_owner specify the same user ";
        [&same[..], privs_name].concat()
    } else if privs.uid == owner.uid {
        users(b"user", owner.uid)
    } else if privs.gid == owner.gid {
        users(b"group", owner.gid)
    } else if privs.gid == sgid {
        user_and_group(b"default_privs", privs_name)
    } else if owner.gid == sgid {
        user_and_group(b"mail_owner", owner_name)
    } else {
        return Ok(());
    };
    Err(cat(&[file, &why]))
}

/// getpwnam() of a user that must exist and not have root's user or group
/// ID (the `param` it is the value of names it in the error).
fn user(file: &[u8], param: &str, name: &[u8]) -> Result<Ids> {
    let about: &[u8] = &[file, b"parameter ", param.as_bytes(), b": "].concat();
    let found = std::str::from_utf8(c_text(name))
        .ok()
        .and_then(|n| nix::unistd::User::from_name(n).ok().flatten());
    let Some(u) = found else {
        return Err(cat(&[about, b"unknown user name value: ", name]));
    };
    let ids = Ids {
        uid: u.uid.as_raw(),
        gid: u.gid.as_raw(),
    };
    if ids.uid == 0 {
        return Err(cat(&[about, b"user ", name, b" has privileged user ID"]));
    }
    if ids.gid == 0 {
        return Err(cat(&[about, b"user ", name, b" has privileged group ID"]));
    }
    Ok(ids)
}

/// getgrnam() of a group name.
fn group_by_name(name: &[u8]) -> Option<nix::unistd::Group> {
    let name = std::str::from_utf8(c_text(name)).ok()?;
    nix::unistd::Group::from_name(name).ok().flatten()
}

/// A value as the C string the library functions see (up to a NUL byte).
fn c_text(value: &[u8]) -> &[u8] {
    crate::bytes::up_to_nul(value)
}

/// verp_delims_verify(): both default_verp_delimiters characters are in
/// verp_delimiter_filter.
fn verp_delims_verify(p: &Primary) -> Result<()> {
    let (Some(delims), Some(filter)) = (
        value(p, "default_verp_delimiters")?,
        value(p, "verp_delimiter_filter")?,
    ) else {
        return Ok(());
    };
    let why = match delims.as_slice() {
        [first, _] if !filter.contains(first) => "bad first VERP delimiter character",
        [_, second] if !filter.contains(second) => "bad second VERP delimiter character",
        [_, _] => return Ok(()),
        _ => "bad VERP delimiter character count",
    };
    Err(cat(&[
        b"file ",
        &p.config_dir,
        b"/main.cf: parameters default_verp_delimiters and verp_delimiter_filter: ",
        why.as_bytes(),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_time_takes_one_unit_letter() {
        let cases: &[(&[u8], Option<i64>)] = &[
            (b"5", Some(5)),
            (b"5s", Some(5)),
            (b"2m", Some(120)),
            (b"1h", Some(3600)),
            (b"1d", Some(86400)),
            (b"1w", Some(604800)),
            (b"s", Some(0)),
            (b"+3", Some(3)),
            (b"", None),
            (b"-1", None),
            (b"5x", None),
            (b"5ss", None),
            (b"5S", None),
            (b"99999999999999999999", None),
            (b"4000w", None),
        ];
        for (value, seconds) in cases {
            assert_eq!(
                conv_time(value),
                *seconds,
                "{}",
                String::from_utf8_lossy(value)
            );
        }
    }
}
