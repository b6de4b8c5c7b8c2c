//! Start-up and the flow from argv to the action, in upstream's order.

use std::ffi::OsString;

use nix::fcntl::{open, OFlag};
use nix::sys::signal::{signal, SigHandler, Signal};
use nix::sys::stat::{fstat, umask, Mode};

use crate::bytes::{from_os, os};
use crate::command::{self, Command, Invocation};
use crate::defaults::default_str;
use crate::msg::{self, bfmt, Fatal, Result};
use crate::primary::Primary;
use crate::table::{check_shared_directories, InstanceTable};
use crate::{iterate, lock, manage};

/// Makes sure descriptors 0, 1 and 2 are open before anything else is.
fn open_standard_descriptors() -> Result<()> {
    for fd in 0..3 {
        if fstat(fd).is_err() {
            match open("/dev/null", OFlag::O_RDWR, Mode::empty()) {
                Ok(got) if got == fd => {}
                _ => return Err(Fatal::new("open /dev/null: No such file or directory")),
            }
        }
    }
    Ok(())
}

/// The primary configuration directory: MAIL_CONFIG or the default.
fn config_dir_from_environment() -> Vec<u8> {
    std::env::var_os("MAIL_CONFIG")
        .map(from_os)
        .unwrap_or_else(|| default_str("config_directory").as_bytes().to_vec())
}

/// Reads the primary main.cf and exports what every child sees (MAIL_LOGTAG).
fn load_primary(config_dir: &[u8]) -> Result<Primary> {
    let primary = Primary::load(config_dir)?;
    msg::set_utf8(primary.smtputf8);
    std::env::set_var("MAIL_LOGTAG", os(&primary.syslog_name));
    Ok(primary)
}

/// The whole program; returns the exit status or a fatal error.
fn run(args: Vec<Vec<u8>>) -> Result<i32> {
    umask(Mode::from_bits_truncate(0o022));
    open_standard_descriptors()?;
    let config_dir = config_dir_from_environment();
    let mut primary = load_primary(&config_dir)?;
    if let Some(env_dir) = std::env::var_os("MAIL_CONFIG").map(from_os) {
        if env_dir != default_str("config_directory").as_bytes() {
            return Err(Fatal(bfmt(
                "Non-default configuration directory: MAIL_CONFIG=%s",
                &[&env_dir],
            )));
        }
    }
    let Invocation { command, verbose } = command::parse(args.get(1..).unwrap_or_default())
        .map_err(|e| command::into_fatal(e, msg::progname()))?;
    if verbose > 0 {
        // Upstream exports it at each -v; children see it either way.
        std::env::set_var("MAIL_VERBOSE", "");
    }
    // Life-cycle commands hold the lock from here on when they can have it (src/lock.rs),
    // and read everything anew.
    let _lock = match command {
        Command::Iterate { .. } => None,
        _ => {
            let held = lock::acquire();
            primary = load_primary(&config_dir)?;
            held
        }
    };
    let claims = check_shared_directories(&primary)?;
    match command {
        Command::Iterate {
            iteration,
            selection,
            reverse,
        } => {
            let table = InstanceTable::load(&primary, claims)?;
            iterate::run(&iteration, selection, reverse, &table, &primary)
        }
        Command::Init => manage::run(Some(manage::plan_init(&primary)), &primary),
        Command::Manage {
            action,
            selection,
            assignment,
            params,
        } => {
            let table = InstanceTable::load(&primary, claims)?;
            let plan = manage::plan(action, &selection, &assignment, &params, &primary, table)?;
            manage::run(plan, &primary)
        }
    }
}

/// Entry point: sets up diagnostics, runs, and exits.
pub fn main() -> ! {
    // A closed pipe ends postmulti the way it ends the C program.
    // SAFETY: restoring the default disposition before anything else runs.
    unsafe {
        let _ = signal(Signal::SIGPIPE, SigHandler::SigDfl);
    }
    let args: Vec<Vec<u8>> = std::env::args_os().map(|a: OsString| from_os(a)).collect();
    msg::init(args.first().map(|a| a.as_slice()).unwrap_or(b"postmulti"));
    if let Some(status) = crate::additions::handle(&args) {
        std::process::exit(status);
    }
    match run(args) {
        Ok(status) => std::process::exit(status),
        Err(Fatal(text)) => msg::fatal(&text),
    }
}
