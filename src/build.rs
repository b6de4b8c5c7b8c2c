//! Records, at build time, the compiled-in defaults of the Postfix that this
//! postmulti is built to replace, and the names of its built-in parameters.
//!
//! Source, in order: `POSTMULTI_DEFAULT_<NAME>` environment variables (for
//! packagers), then `postconf -d` of the installed Postfix (`POSTMULTI_POSTCONF`
//! names another postconf), then upstream's defaults.  With no postconf at
//! build time the list of built-in names is empty, which only means that every
//! secondary instance is read through postconf at run time.

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

/// Parameters whose defaults postmulti evaluates itself, with upstream's values.
const UPSTREAM_DEFAULTS: &[(&str, &str)] = &[
    ("config_directory", "/etc/postfix"),
    ("command_directory", "/usr/sbin"),
    ("daemon_directory", "/usr/libexec/postfix"),
    ("meta_directory", "/etc/postfix"),
    ("shlib_directory", "/usr/lib/postfix"),
    ("queue_directory", "/var/spool/postfix"),
    ("data_directory", "/var/lib/postfix"),
    (
        "import_environment",
        "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ XAUTHORITY DISPLAY LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME",
    ),
    ("syslog_name", "${multi_instance_name?{$multi_instance_name}:{postfix}}"),
    ("syslog_facility", "mail"),
    ("postmulti_start_commands", "start"),
    ("postmulti_stop_commands", "stop abort drain quick-stop"),
    ("postmulti_control_commands", "reload flush"),
    ("multi_instance_directories", ""),
    ("multi_instance_name", ""),
    ("multi_instance_group", ""),
    ("multi_instance_enable", "no"),
    ("multi_instance_wrapper", ""),
    ("mail_name", "Postfix"),
    ("mail_owner", "postfix"),
    ("setgid_group", "postdrop"),
    ("html_directory", "no"),
    ("manpage_directory", "/usr/local/man"),
    ("readme_directory", "no"),
    ("sample_directory", "/etc/postfix"),
    ("sendmail_path", "/usr/sbin/sendmail"),
    ("newaliases_path", "/usr/bin/newaliases"),
    ("mailq_path", "/usr/bin/mailq"),
    ("maillog_file", ""),
    ("postlog_service_name", "postlog"),
];

/// Runs `postconf -d` against an empty configuration: built-in parameters only.
fn installed_defaults() -> Option<BTreeMap<String, String>> {
    let postconf = env::var("POSTMULTI_POSTCONF").ok().or_else(|| {
        ["/usr/sbin/postconf", "/usr/local/sbin/postconf"]
            .iter()
            .find(|p| std::path::Path::new(p).exists())
            .map(|p| p.to_string())
    })?;
    let empty = PathBuf::from(env::var("OUT_DIR").ok()?).join("empty-config");
    fs::create_dir_all(&empty).ok()?;
    fs::write(empty.join("main.cf"), "").ok()?;
    fs::write(empty.join("master.cf"), "").ok()?;
    let out = Command::new(&postconf)
        .arg("-d")
        .arg("-c")
        .arg(&empty)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut map = BTreeMap::new();
    for line in text.lines() {
        if let Some((name, value)) = line.split_once('=') {
            map.insert(name.trim().to_string(), value.trim().to_string());
        }
    }
    (!map.is_empty()).then_some(map)
}

/// A packager's POSTMULTI_LOCK_FILE (read by src/lock.rs) must be an absolute file name.
fn check_lock_file() {
    println!("cargo:rerun-if-env-changed=POSTMULTI_LOCK_FILE");
    if let Ok(path) = env::var("POSTMULTI_LOCK_FILE") {
        if !path.starts_with('/') || path.ends_with('/') {
            panic!("POSTMULTI_LOCK_FILE={path}: the life-cycle lock must be an absolute file name, such as /run/postmulti.lock");
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=POSTMULTI_POSTCONF");
    check_lock_file();
    let installed = installed_defaults();
    let mut out = String::new();
    out.push_str("/// Compiled-in defaults: (name, value, where the value came from).\n");
    out.push_str("pub const DEFAULTS: &[(&str, &str, &str)] = &[\n");
    for (name, upstream) in UPSTREAM_DEFAULTS {
        let var = format!("POSTMULTI_DEFAULT_{}", name.to_uppercase());
        println!("cargo:rerun-if-env-changed={var}");
        let (value, origin) = if let Ok(v) = env::var(&var) {
            (v, "environment")
        } else if let Some(v) = installed.as_ref().and_then(|m| m.get(*name)) {
            (v.clone(), "postconf -d")
        } else {
            (upstream.to_string(), "upstream")
        };
        writeln!(out, "    ({name:?}, {value:?}, {origin:?}),").unwrap();
    }
    out.push_str("];\n\n");
    out.push_str(
        "/// Names of the built-in parameters of the Postfix seen at build time, sorted.\n",
    );
    out.push_str("pub const BUILTIN_NAMES: &[&str] = &[\n");
    if let Some(m) = &installed {
        for name in m.keys() {
            writeln!(out, "    {name:?},").unwrap();
        }
    }
    out.push_str("];\n\n");
    out.push_str(
        "/// Their raw default values, as `postconf -d` prints them, in the same order.\n",
    );
    out.push_str("pub const BUILTIN_DEFAULTS: &[&str] = &[\n");
    if let Some(m) = &installed {
        for value in m.values() {
            writeln!(out, "    {value:?},").unwrap();
        }
    }
    out.push_str("];\n\n");
    let version = installed
        .as_ref()
        .and_then(|m| m.get("mail_version").cloned())
        .unwrap_or_default();
    writeln!(
        out,
        "/// mail_version of the Postfix seen at build time (empty if none).\npub const BUILT_AGAINST: &str = {version:?};"
    )
    .unwrap();
    let dest = PathBuf::from(env::var("OUT_DIR").unwrap()).join("defaults.rs");
    fs::write(dest, out).unwrap();
}
