//! The primary instance's main.cf: the parameters postmulti itself uses,
//! evaluated as mail_conf_read() and mail_params_init() evaluate them.

use std::process::{Command, Stdio};

use crate::bytes::{is_white_space, join, os, yes_no};
use crate::defaults::{self, default_str, Source};
use crate::expand::{expand, ExpandError};
use crate::maincf::{InstanceResolver, MainCf};
use crate::msg::{self, bfmt, Fatal, Result};

/// The primary's parameters postmulti needs, fully expanded.
#[derive(Debug, Clone)]
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
        let mut warnings = Vec::new();
        let read = MainCf::read(config_dir, &mut warnings);
        for w in &warnings {
            msg::warn(w);
        }
        let main_cf = read.map_err(Fatal)?;
        let mut p = Primary {
            main_cf,
            config_dir: config_dir.to_vec(),
            command_dir: Vec::new(),
            daemon_dir: Vec::new(),
            meta_dir: Vec::new(),
            shlib_dir: Vec::new(),
            queue_dir: Vec::new(),
            data_dir: Vec::new(),
            multi_dirs: Vec::new(),
            name: Vec::new(),
            group: Vec::new(),
            enable: false,
            import_environment: Vec::new(),
            syslog_name: Vec::new(),
            start_cmds: Vec::new(),
            stop_cmds: Vec::new(),
            control_cmds: Vec::new(),
            smtputf8: true,
        };
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
        p.smtputf8 = p.utf8_enabled();
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

    /// Selects syslog or postlog logging from maillog_file (maillog_client_init).
    fn configure_logging(&self) -> Result<()> {
        let maillog_file = self.param("maillog_file")?;
        if maillog_file.is_empty() {
            msg::configure_logging(b"", b"", b"", b"");
            return Ok(());
        }
        let myhostname = match self.main_cf.get(b"myhostname") {
            Some(_) => self.param("myhostname")?,
            None => nix::unistd::gethostname()
                .map(crate::bytes::from_os)
                .unwrap_or_default(),
        };
        let queue_dir = self.param("queue_directory")?;
        let service = self.param("postlog_service_name")?;
        msg::configure_logging(&maillog_file, &myhostname, &queue_dir, &service);
        Ok(())
    }

    /// A yes/no parameter, as get_mail_conf_bool() accepts it.
    fn boolean(&self, name: &str) -> Result<bool> {
        let v = self.param(name)?;
        yes_no(&v).ok_or_else(|| {
            Fatal(bfmt(
                "bad boolean configuration: %s = %s",
                &[name.as_bytes(), &v],
            ))
        })
    }

    /// Whether Postfix would let UTF-8 through its messages (smtputf8_enable).
    fn utf8_enabled(&self) -> bool {
        match self.main_cf.get(b"smtputf8_enable") {
            Some(v) => yes_no(v) == Some(true),
            None => match self.main_cf.get(b"compatibility_level") {
                Some(level) => level != b"0",
                None => false,
            },
        }
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
        None => default_str(name).as_bytes().to_vec(),
    };
    let mut resolver = InstanceResolver {
        main_cf,
        config_dir,
    };
    expand(&raw, &mut resolver)
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
