//! Start-up and the flow from argv to the action, in upstream's order.

use std::ffi::OsString;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::libc;

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

/// The primary configuration directory: MAIL_CONFIG or the default (plain
/// getenv(), as mail_conf_suck(), whatever the credentials).
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

/// Whether the caller left SIGPIPE ignored, as [`record_caller_sigpipe`]
/// found it before the Rust runtime set it to ignored.
static CALLER_IGNORED_SIGPIPE: AtomicBool = AtomicBool::new(false);

/// Records the SIGPIPE disposition postmulti was started with.  Run from
/// `.init_array` (src/main.rs), before the Rust runtime ignores SIGPIPE
/// for itself: an exec() keeps only "ignored" or "default", and the C
/// program, which never touches SIGPIPE, runs with the caller's choice.
pub extern "C" fn record_caller_sigpipe() {
    // SAFETY: sigaction() with a null new action only reads the disposition.
    let ignored = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    };
    CALLER_IGNORED_SIGPIPE.store(ignored, Ordering::Relaxed);
}

/// Gives SIGPIPE back the caller's disposition, which every child inherits
/// (postfix, postmulti-script, `-x` commands): default, so a closed pipe
/// ends postmulti as it ends the C program, or ignored, so a write to one
/// fails with EPIPE (`fatal: error writing output: Broken pipe` for `-l`).
fn restore_caller_sigpipe() {
    if !CALLER_IGNORED_SIGPIPE.load(Ordering::Relaxed) {
        // SAFETY: setting a disposition before anything else runs.
        unsafe {
            let _ = signal(Signal::SIGPIPE, SigHandler::SigDfl);
        }
    }
}

/// Entry point: sets up diagnostics, runs, and exits.
pub fn main() -> ! {
    restore_caller_sigpipe();
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
