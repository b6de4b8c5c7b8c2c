//! The primary instance's main.cf: the parameters postmulti itself uses,
//! evaluated as mail_conf_read() and mail_params_init() evaluate them.
//!
//! Rules (mail_conf_read, mail_params_init, maillog_client_init), each with
//! the test that pins it (tests/library.rs unless said otherwise):
//! * main.cf is read once per run as far as anyone can see: the life-cycle
//!   commands read it again under the lock, but its warnings are printed
//!   only once (`main_cf_warnings_once`).
//! * The global parameters are checked as mail_params_init() checks them
//!   (src/primary/mail_params.rs; tests/mail_params.rs), before the maillog_file
//!   prefix check.
//! * Values are expanded recursively (src/expand.rs); `$process_name` and
//!   `$process_id` are empty, as upstream sets them only after main.cf is
//!   processed (`process_name_and_id_are_empty`).
//! * smtputf8_enable is a boolean evaluated like any other (its default
//!   compares compatibility_level with `<level`); a value other than
//!   yes/no (any case) is `fatal: bad boolean configuration: NAME =
//!   VALUE` (`smtputf8_enable_is_a_boolean`).  Until then messages show
//!   non-ASCII bytes as `?` (src/msg.rs).
//! * With maillog_file set, it must start with one of the
//!   maillog_file_prefixes (a list, expanded): else `fatal: maillog_file
//!   value 'FILE' does not match any prefix in maillog_file_prefixes`
//!   (`maillog_file_outside_the_prefixes_is_fatal`).  Logging then goes to
//!   postlogd (`$queue_directory/public/$postlog_service_name`), else to
//!   the file (src/msg.rs), and POSTLOG_SERVICE and POSTLOG_HOSTNAME are
//!   exported; the host name is myhostname: main.cf's value, else the
//!   kernel's host name, with `.$mydomain` (main.cf's) or `.localdomain`
//!   added when it has no dot (`postlog_hostname_gets_localdomain`).

pub mod mail_params;

use std::process::{Command, Stdio};

use crate::bytes::{is_white_space, join, os, yes_no};
use std::sync::Mutex;

use crate::defaults::{self, builtin_default, default_str, Source};
use crate::expand::{expand, ExpandError, Lookup, Resolver};
use crate::maincf::{InstanceResolver, MainCf};
use crate::msg::{self, bfmt, Fatal, Result};

/// The primary's parameters postmulti needs, fully expanded.
#[derive(Debug, Clone, Default)]
pub struct Primary {
    pub main_cf: MainCf,
    pub config_dir: Vec<u8>,
    pub command_dir: Vec<u8>,
    pub daemon_dir: Vec<u8>,
    pub meta_dir: Vec<u8>,
    pub shlib_dir: Vec<u8>,
    pub queue_dir: Vec<u8>,
    pub data_dir: Vec<u8>,
    pub multi_dirs: Vec<u8>,
    pub name: Vec<u8>,
    pub group: Vec<u8>,
    pub enable: bool,
    pub import_environment: Vec<u8>,
    pub syslog_name: Vec<u8>,
    pub start_cmds: Vec<u8>,
    pub stop_cmds: Vec<u8>,
    pub control_cmds: Vec<u8>,
    pub smtputf8: bool,
}

impl Primary {
    /// Reads CONFIG_DIR/main.cf and evaluates what postmulti needs.
    pub fn load(config_dir: &[u8]) -> Result<Primary> {
        crate::environ::check_config_dir(config_dir)?;
        let mut warnings = Vec::new();
        let read = MainCf::read(config_dir, &mut warnings);
        warn_once(warnings);
        let main_cf = read.map_err(Fatal)?;
        let mut p = Primary {
            main_cf,
            config_dir: config_dir.to_vec(),
            smtputf8: true,
            ..Primary::default()
        };
        mail_params::check_first(&p)?;
        p.set_facility()?;
        p.command_dir = p.param("command_directory")?;
        // The built-in parameter table and defaults of the installed Postfix
        // (src/defaults.rs); if they are read at run time, the defaults used
        // so far may have changed.
        let active = defaults::activate(&p.command_dir);
        if matches!(
            active.source,
            Source::RunTimeDiffers | Source::RunTimeNoneRecorded
        ) {
            p.set_facility()?;
        }
        mail_params::check_rest(&p)?;
        p.configure_logging()?;
        p.daemon_dir = p.param("daemon_directory")?;
        p.queue_dir = p.param("queue_directory")?;
        p.data_dir = p.param("data_directory")?;
        p.meta_dir = p.param("meta_directory")?;
        p.shlib_dir = p.param("shlib_directory")?;
        p.import_environment = p.param("import_environment")?;
        p.multi_dirs = p.param("multi_instance_directories")?;
        p.name = p.param("multi_instance_name")?;
        p.group = p.param("multi_instance_group")?;
        p.syslog_name = p.param("syslog_name")?;
        p.enable = p.boolean("multi_instance_enable")?;
        p.start_cmds = p.param("postmulti_start_commands")?;
        p.stop_cmds = p.param("postmulti_stop_commands")?;
        p.control_cmds = p.param("postmulti_control_commands")?;
        p.smtputf8 = p.boolean("smtputf8_enable")?;
        Ok(p)
    }

    /// Evaluates and sets syslog_facility, as mail_params_init() does first.
    fn set_facility(&self) -> Result<()> {
        let facility = self.param("syslog_facility")?;
        if !msg::set_facility(&facility) {
            return Err(Fatal(bfmt(
                "file %s/main.cf: parameter syslog_facility: unrecognized value: %s",
                &[&self.config_dir, &facility],
            )));
        }
        Ok(())
    }

    /// The expanded value of a parameter (main.cf, else the default).
    pub fn param(&self, name: &str) -> Result<Vec<u8>> {
        match evaluate(&self.main_cf, &self.config_dir, name) {
            Ok(v) => Ok(v),
            Err(ExpandError::Syntax(warnings)) => {
                for w in &warnings {
                    msg::warn(w);
                }
                Err(Fatal::new("dictionary mail_dict: macro processing error"))
            }
            Err(ExpandError::Fatal(warnings, text)) => {
                for w in &warnings {
                    msg::warn(w);
                }
                Err(Fatal(text))
            }
            Err(ExpandError::Unknown(_)) => self.ask_postconf(name),
        }
    }

    /// Selects syslog or postlog logging from maillog_file, after checking
    /// it against maillog_file_prefixes (mail_params_init,
    /// maillog_client_init).
    fn configure_logging(&self) -> Result<()> {
        let mode = self.logfile_permissions()?;
        let maillog_file = self.param("maillog_file")?;
        if maillog_file.is_empty() {
            return msg::configure_logging(b"", b"", b"", b"", mode).map_err(Fatal);
        }
        let prefixes = self.param("maillog_file_prefixes")?;
        if !split_list(&prefixes)
            .iter()
            .any(|p| maillog_file.starts_with(p))
        {
            return Err(Fatal(bfmt(
                "maillog_file value '%s' does not match any prefix in maillog_file_prefixes",
                &[&maillog_file],
            )));
        }
        let myhostname = self.myhostname()?;
        let queue_dir = self.param("queue_directory")?;
        let service = self.param("postlog_service_name")?;
        msg::configure_logging(&maillog_file, &myhostname, &queue_dir, &service, mode)
            .map_err(Fatal)
    }

    /// maillog_file_permissions (Postfix 3.9 and later; default 0600): the
    /// mode of a new maillog_file, `644`, `640` or `600`, leading zeros
    /// ignored (set_logwriter_create_perms); anything else is a warning
    /// (once: life-cycle commands load the primary again; upstream reads it
    /// once), and 0600.  A release without the parameter ignores it; a new
    /// file is then 0600 all the same, not 3.7's 0644 (the one behaviour
    /// kept from later releases whatever the installed one: a log file
    /// others can read).
    fn logfile_permissions(&self) -> Result<u32> {
        static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        let name = b"maillog_file_permissions";
        let value = match self.main_cf.get(name) {
            Some(_) if defaults::is_builtin(name) => self.param("maillog_file_permissions")?,
            _ => b"0600".to_vec(),
        };
        let digits = &value[value.iter().take_while(|&&b| b == b'0').count()..];
        Ok(match digits {
            b"644" => 0o644,
            b"640" => 0o640,
            b"600" => 0o600,
            _ => {
                if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    msg::warn(&bfmt(
                        "ignoring bad permissions: maillog_file_permissions = %s",
                        &[&value],
                    ));
                }
                0o600
            }
        })
    }

    /// myhostname: main.cf's, else the host name with `.$mydomain` (main.cf's
    /// mydomain) or `.localdomain` when it has no dot (check_myhostname).
    pub(crate) fn myhostname(&self) -> Result<Vec<u8>> {
        if self.main_cf.get(b"myhostname").is_some() {
            return self.param("myhostname");
        }
        let mut name = crate::hostname::kernel_host_name();
        if !name.contains(&b'.') {
            let domain = match self.main_cf.get(b"mydomain") {
                Some(_) => self.param("mydomain")?,
                None => b"localdomain".to_vec(),
            };
            name.push(b'.');
            name.extend_from_slice(&domain);
        }
        Ok(name)
    }

    /// A yes/no parameter, as get_mail_conf_bool() and get_mail_conf_nbool() accept it.
    fn boolean(&self, name: &str) -> Result<bool> {
        let v = self.param(name)?;
        yes_no(&v).ok_or_else(|| {
            Fatal(bfmt(
                "bad boolean configuration: %s = %s",
                &[name.as_bytes(), &v],
            ))
        })
    }

    /// Asks postconf for a value whose expansion needs a default only Postfix knows.
    fn ask_postconf(&self, name: &str) -> Result<Vec<u8>> {
        let postconf = join(default_str("command_directory").as_bytes(), b"postconf");
        let out = Command::new(os(&postconf))
            .arg("-xh")
            .arg(name)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                Fatal(bfmt(
                    "execvp %s: %s",
                    &[&postconf, msg::io_error_text(&e).as_bytes()],
                ))
            })?;
        // The first line, up to a NUL byte, as a C string reads it.
        let mut v = out.stdout;
        if let Some(end) = v.iter().position(|&b| b == b'\n' || b == 0) {
            v.truncate(end);
        }
        Ok(v)
    }

    /// The secondary instances' configuration directories, in order.
    pub fn secondary_dirs(&self) -> Vec<Vec<u8>> {
        split_list(&self.multi_dirs)
    }
}

/// The expansion of one parameter of the primary's main.cf, as
/// mail_conf_eval() computes it: main.cf's value, else the default, with
/// every reference expanded (src/expand.rs).  What only Postfix knows is
/// [`ExpandError::Unknown`]: [`Primary::param`] then asks postconf.
pub fn evaluate(
    main_cf: &MainCf,
    config_dir: &[u8],
    name: &str,
) -> std::result::Result<Vec<u8>, ExpandError> {
    let raw = match main_cf.get(name.as_bytes()) {
        Some(v) => v.to_vec(),
        None => default_of_primary(name.as_bytes()).unwrap_or_default(),
    };
    let mut resolver = PrimaryResolver(InstanceResolver {
        main_cf,
        config_dir,
    });
    expand(&raw, &mut resolver)
}

/// Parameters whose defaults the primary evaluates itself beyond those
/// build.rs records, with upstream's values for a build without Postfix.
const GLOBAL_DEFAULTS: &[(&str, &str)] = &[
    ("compatibility_level", "0"),
    ("inet_interfaces", "all"),
    ("maillog_file_prefixes", "/var, /dev/stdout"),
    (
        "mynetworks_style",
        "${{$compatibility_level} <level {2} ? {subnet} : {host}}",
    ),
    (
        "smtputf8_enable",
        "${{$compatibility_level} <level {1} ? {no} : {yes}}",
    ),
];

/// The default of a parameter the primary evaluates: recorded, else the
/// installed Postfix's, else upstream's ([`GLOBAL_DEFAULTS`]).
fn default_of_primary(name: &[u8]) -> Option<Vec<u8>> {
    let global = GLOBAL_DEFAULTS.iter().find(|(n, _)| n.as_bytes() == name);
    let value = match global {
        Some((n, upstream)) => builtin_default(n.as_bytes()).unwrap_or(upstream),
        None => defaults::default_of(name)?,
    };
    Some(value.as_bytes().to_vec())
}

/// Names as mail_params_init() sees them while it evaluates main.cf:
/// process_name and process_id are not set yet, nor config_directory when
/// a re-read pass dropped it; the global defaults of [`GLOBAL_DEFAULTS`]
/// are; the rest as for any instance.
struct PrimaryResolver<'a>(InstanceResolver<'a>);

impl Resolver for PrimaryResolver<'_> {
    fn lookup(&mut self, name: &[u8]) -> Lookup {
        if self.0.main_cf.get(name).is_some() {
            return self.0.lookup(name);
        }
        if name == b"process_name" || name == b"process_id" || name == b"config_directory" {
            return Lookup::Undefined;
        }
        if GLOBAL_DEFAULTS.iter().any(|(n, _)| n.as_bytes() == name) {
            return default_of_primary(name).map_or(Lookup::Undefined, Lookup::Value);
        }
        self.0.lookup(name)
    }
}

/// Prints the warnings of a main.cf read, unless the same warnings were
/// printed for the read before (the life-cycle commands read main.cf again
/// under the lock; upstream reads it once).
fn warn_once(warnings: Vec<Vec<u8>>) {
    static PRINTED: Mutex<Option<Vec<Vec<u8>>>> = Mutex::new(None);
    let mut printed = PRINTED.lock().unwrap_or_else(|e| e.into_inner());
    if printed.as_ref() != Some(&warnings) {
        for w in &warnings {
            msg::warn(w);
        }
        *printed = Some(warnings);
    }
}

/// Splits a list on commas and white space, dropping empty elements (CHARS_COMMA_SP).
pub fn split_list(value: &[u8]) -> Vec<Vec<u8>> {
    value
        .split(|&b| b == b',' || is_white_space(b))
        .filter(|s| !s.is_empty())
        .map(|s| s.to_vec())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_splits_on_commas_and_white_space() {
        assert_eq!(
            split_list(b" /a,,/b\t/c ,"),
            vec![b"/a".to_vec(), b"/b".to_vec(), b"/c".to_vec()]
        );
        assert!(split_list(b", ,").is_empty());
    }
}
