//! Records, at build time, the compiled-in defaults of the Postfix that this
//! postmulti is built to replace, the table of its built-in parameters, and
//! which postconf binary that table came from.
//!
//! Source, in order: `POSTMULTI_DEFAULT_<NAME>` environment variables (for
//! packagers), then `postconf -d` of the installed Postfix (`POSTMULTI_POSTCONF`
//! names another postconf), then upstream's defaults.  With no postconf at
//! build time no table is recorded, and postmulti reads the installed
//! Postfix's at run time (one `postconf -d` per run).
//!
//! Only what is the same on every host with the same Postfix package is
//! recorded: the defaults postconf computes on the host it runs on (see
//! COMPUTED) are recorded by name only, so that two builds of the same commit
//! with the same Postfix are identical whatever the build host is called or
//! where it is connected.

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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

/// Built-in parameters whose `postconf -d` value postconf computes when it
/// runs, on the host it runs on, instead of taking it from its tables:
/// upstream's postconf_builtin.c registers myhostname, mydomain (both from
/// the host name) and mynetworks (the interface addresses) with functions,
/// and process_name (argv[0]) and process_id (getpid()) ad hoc; comparing
/// `postconf -d` under other host names and network namespaces finds exactly
/// these (tests/reproducible.rs checks that, on the machine it runs on).
/// Keep in step with src/defaults.rs.
const COMPUTED: &[&str] = &[
    "mydomain",
    "myhostname",
    "mynetworks",
    "process_id",
    "process_name",
];

/// The postconf to ask, if any: POSTMULTI_POSTCONF, else the usual places.
fn postconf_path() -> Option<PathBuf> {
    match env::var_os("POSTMULTI_POSTCONF") {
        Some(p) => Some(PathBuf::from(p)),
        None => ["/usr/sbin/postconf", "/usr/local/sbin/postconf"]
            .iter()
            .map(Path::new)
            .find(|p| p.exists())
            .map(Path::to_path_buf),
    }
}

/// What `postconf -d` printed, with the identity of the postconf binary.
struct Installed {
    path: PathBuf,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
    table: BTreeMap<String, String>,
}

/// Runs `postconf -d` against an empty configuration: built-in parameters only.
fn installed_defaults(postconf: &Path) -> Option<Installed> {
    let meta = fs::metadata(postconf).ok()?;
    let empty = PathBuf::from(env::var("OUT_DIR").ok()?).join("empty-config");
    fs::create_dir_all(&empty).ok()?;
    fs::write(empty.join("main.cf"), "").ok()?;
    fs::write(empty.join("master.cf"), "").ok()?;
    let out = Command::new(postconf)
        .arg("-d")
        .arg("-c")
        .arg(&empty)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let mut table = BTreeMap::new();
    for line in text.lines() {
        // Every line is `name = value` (or `name =`); anything else is not
        // postconf -d output, and nothing is recorded.
        let (name, value) = line.split_once('=')?;
        table.insert(name.trim().to_string(), value.trim().to_string());
    }
    (!table.is_empty()).then_some(Installed {
        path: postconf.to_path_buf(),
        size: meta.size(),
        mtime: meta.mtime(),
        mtime_nsec: meta.mtime_nsec(),
        table,
    })
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

/// The postconf to ask, watched by cargo so that a rebuilt or replaced
/// Postfix re-runs this script.
fn watched_postconf() -> Option<PathBuf> {
    println!("cargo:rerun-if-env-changed=POSTMULTI_POSTCONF");
    let postconf = postconf_path();
    // A path that does not exist would make cargo run this script on every
    // build; the run-time check in src/defaults.rs covers what this misses
    // (a Postfix installed or upgraded later: dpkg keeps the package's
    // mtimes, which are older than the last build).
    if let Some(p) = postconf.as_ref().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    postconf
}

/// `DEFAULTS`: each of UPSTREAM_DEFAULTS from the packager's
/// `POSTMULTI_DEFAULT_<NAME>`, else `postconf -d`, else upstream's value.
fn write_defaults(out: &mut String, table: Option<&BTreeMap<String, String>>) {
    out.push_str("/// Compiled-in defaults: (name, value, where the value came from).\n");
    out.push_str("pub const DEFAULTS: &[(&str, &str, &str)] = &[\n");
    for (name, upstream) in UPSTREAM_DEFAULTS {
        let var = format!("POSTMULTI_DEFAULT_{}", name.to_uppercase());
        println!("cargo:rerun-if-env-changed={var}");
        let (value, origin) = if let Ok(v) = env::var(&var) {
            (v, "environment")
        } else if let Some(v) = table.and_then(|m| m.get(*name)) {
            (v.clone(), "postconf -d at build time")
        } else {
            (upstream.to_string(), "upstream")
        };
        assert!(
            !COMPUTED.contains(name),
            "{name} is computed on the running host"
        );
        writeln!(out, "    ({name:?}, {value:?}, {origin:?}),").unwrap();
    }
    out.push_str("];\n\n");
}

/// `BUILTIN_NAMES`, `BUILTIN_DEFAULTS` and `COMPUTED`: the table of built-in
/// parameters, without the values computed on the build host.
fn write_builtin_table(out: &mut String, table: Option<&BTreeMap<String, String>>) {
    out.push_str(
        "/// Names of the built-in parameters of the Postfix seen at build time, sorted.\n",
    );
    out.push_str("pub const BUILTIN_NAMES: &[&str] = &[\n");
    for name in table.into_iter().flat_map(|m| m.keys()) {
        writeln!(out, "    {name:?},").unwrap();
    }
    out.push_str("];\n\n");
    out.push_str(
        "/// Their raw default values, as `postconf -d` prints them, in the same\n\
         /// order; None for those computed on the running host (COMPUTED).\n",
    );
    out.push_str("pub const BUILTIN_DEFAULTS: &[Option<&str>] = &[\n");
    for (name, value) in table.into_iter().flatten() {
        if COMPUTED.contains(&name.as_str()) {
            out.push_str("    None,\n");
        } else {
            writeln!(out, "    Some({value:?}),").unwrap();
        }
    }
    out.push_str("];\n\n");

    out.push_str(
        "/// Built-in parameters whose default postconf computes on the host it runs on.\n",
    );
    writeln!(out, "pub const COMPUTED: &[&str] = &{COMPUTED:?};\n").unwrap();
}

/// `BUILT_AGAINST` and `RECORDED_FROM`: which Postfix, and which postconf
/// binary, the table came from.
fn write_identity(out: &mut String, installed: Option<&Installed>) {
    let version = installed
        .and_then(|i| i.table.get("mail_version").cloned())
        .unwrap_or_default();
    writeln!(
        out,
        "/// mail_version of the Postfix seen at build time (empty if none).\n\
         pub const BUILT_AGAINST: &str = {version:?};\n"
    )
    .unwrap();
    out.push_str(
        "/// The postconf binary the table was recorded from (None: no table).\n\
         pub const RECORDED_FROM: Option<Identity> = ",
    );
    match installed {
        Some(i) => writeln!(
            out,
            "Some(Identity {{ path: {:?}, size: {}, mtime: {}, mtime_nsec: {} }});",
            i.path.to_string_lossy(),
            i.size,
            i.mtime,
            i.mtime_nsec
        )
        .unwrap(),
        None => out.push_str("None;\n"),
    }
}

fn main() {
    println!("cargo:rerun-if-changed=src/build.rs");
    check_lock_file();
    let installed = watched_postconf().as_deref().and_then(installed_defaults);
    let table = installed.as_ref().map(|i| &i.table);
    let mut out = String::new();
    write_defaults(&mut out, table);
    write_builtin_table(&mut out, table);
    write_identity(&mut out, installed.as_ref());
    let dest = PathBuf::from(env::var("OUT_DIR").unwrap()).join("defaults.rs");
    fs::write(dest, out).unwrap();
}
