//! Diagnostics: `NAME: fatal: text`, `NAME: error: text` and `NAME:
//! warning: text` on stderr and the same text to syslog (tag NAME with the
//! pid, facility mail), the way Postfix's msg(3) reports them.  Rules (msg_output, printable,
//! maillog_client, msg_logger, logwriter):
//! * stderr gets them as the installed release's postmulti writes them:
//!   always from Postfix 3.11 on; before, only when stderr is a terminal
//!   (the log still gets every record).  getopt's complaints always go
//!   to stderr.
//! * Every text goes through printable(): bytes other than printable ASCII
//!   and space become `?`; well-formed UTF-8 passes only once main.cf has
//!   been processed with smtputf8_enable = yes (before that, `open
//!   /tmp/é/main.cf` shows `??`).
//! * Without maillog_file, records go to syslog.  With it (or, before
//!   main.cf is read, with POSTLOG_SERVICE in the environment and safe
//!   credentials: [`crate::environ::safe_getenv`]) they go to
//!   postlogd's socket as `MON DD HH:MM:SS HOST NAME[PID]: LEVEL: TEXT`
//!   (HOST: myhostname's first label), not to syslog; when postlogd does
//!   not answer, they are appended to maillog_file (safe_open's rules: a
//!   new file is created mode 0600, or maillog_file_permissions' 0640 or
//!   0644 where the release has that parameter (3.9 and later); 0600 on
//!   3.7 too, which made it 0644: the one older behaviour not followed;
//!   never through a symbolic link other than root's, as /dev/stdout is;
//!   never to a file with more than one hard link).  Where the installed
//!   release is Postfix 3.10 or later, the file is opened (created, empty)
//!   as soon as logging is set up from main.cf and postlogd does not
//!   answer, even when nothing is logged, and kept open; when it cannot
//!   be, `fatal: open logfile 'FILE': REASON` (safe_open's reason) ends
//!   the program at once, on stderr and to syslog, and when a later record
//!   cannot be written, it is lost and, unless the program is already
//!   dying of a fatal error, the same fatal error ends it.  Before 3.10
//!   the file is opened only to log a record, and a record that cannot be
//!   written is left out in silence.

use std::ffi::CString;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

use nix::libc;

use crate::bytes::{c_string, from_os, os};

/// The program name: the last component of argv[0].
static PROGNAME: OnceLock<Vec<u8>> = OnceLock::new();

/// The syslog ident; openlog keeps a pointer to it.
static IDENT: OnceLock<CString> = OnceLock::new();

/// Whether valid UTF-8 passes through messages unchanged (smtputf8_enable):
/// unset, as in Postfix until main.cf has been processed, it does not.
static UTF8: OnceLock<bool> = OnceLock::new();

/// Where records go besides stderr (maillog_client's two modes).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Logger {
    /// syslog(3), the default.
    Syslog,
    /// postlogd's datagram socket, else appended to maillog_file.
    Postlog {
        service: Vec<u8>,
        hostname: Vec<u8>,
        file: Vec<u8>,
    },
}

static LOGGER: Mutex<Logger> = Mutex::new(Logger::Syslog);

/// A non-empty environment variable, as bytes; none under unsafe
/// credentials (maillog_client_init() reads them with safe_getenv()).
fn env_bytes(name: &str) -> Option<Vec<u8>> {
    crate::environ::safe_getenv(name)
        .map(from_os)
        .filter(|v| !v.is_empty())
}

/// Chooses the logger from main.cf as maillog_client_init() does after the
/// configuration is read: maillog_file set means postlog logging, and
/// POSTLOG_SERVICE / POSTLOG_HOSTNAME are exported for children; otherwise
/// syslog, and those two variables are removed (unless credentials are
/// unsafe: then they were never read, and stay).  With maillog_file set and
/// postlogd not answering, the file is opened (created) now and kept for
/// the records to come; the error is the fatal text when it cannot be.
pub fn configure_logging(
    maillog_file: &[u8],
    myhostname: &[u8],
    queue_dir: &[u8],
    service_name: &[u8],
    mode: u32,
) -> std::result::Result<(), Vec<u8>> {
    LOGFILE_MODE.store(mode, std::sync::atomic::Ordering::Relaxed);
    let logger = if maillog_file.is_empty() {
        if env_bytes("POSTLOG_SERVICE").is_some() {
            std::env::remove_var("POSTLOG_SERVICE");
        }
        if env_bytes("POSTLOG_HOSTNAME").is_some() {
            std::env::remove_var("POSTLOG_HOSTNAME");
        }
        Logger::Syslog
    } else {
        let hostname = if !myhostname.is_empty() {
            myhostname.to_vec()
        } else {
            env_bytes("POSTLOG_HOSTNAME").unwrap_or_else(|| b"amnesiac".to_vec())
        };
        let service = bfmt("%s/public/%s", &[queue_dir, service_name]);
        // msg_logger_init() connects at once; when postlogd does not
        // answer, Postfix 3.10 and later open the fallback file now (before
        // dropping privileges, for postsuper), and die when they cannot;
        // earlier releases open it only to log a record.
        if opens_logfile_at_start() && !postlogd_answers(&service) {
            let f = safe_open_append(maillog_file)
                .map_err(|why| open_logfile_error(maillog_file, &why))?;
            *LOGFILE.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
        }
        std::env::set_var("POSTLOG_SERVICE", os(&service));
        std::env::set_var("POSTLOG_HOSTNAME", os(&hostname));
        Logger::Postlog {
            service,
            hostname,
            file: maillog_file.to_vec(),
        }
    };
    if let Ok(mut l) = LOGGER.lock() {
        *l = logger;
    }
    Ok(())
}

/// Before main.cf is read, POSTLOG_SERVICE in the environment selects
/// postlog logging (not under unsafe credentials).
fn logging_from_environment() {
    if let Some(service) = env_bytes("POSTLOG_SERVICE") {
        let hostname = env_bytes("POSTLOG_HOSTNAME").unwrap_or_else(|| b"amnesiac".to_vec());
        if let Ok(mut l) = LOGGER.lock() {
            *l = Logger::Postlog {
                service,
                hostname,
                file: Vec::new(),
            };
        }
    }
}

/// The local time as msg_logger stamps records: "%b %d %H:%M:%S ".
fn timestamp() -> Vec<u8> {
    let mut buf = [0u8; 64];
    // SAFETY: time, localtime_r and strftime on buffers we own.
    let len = unsafe {
        let now = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&now, &mut tm).is_null() {
            return Vec::new();
        }
        libc::strftime(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"%b %d %H:%M:%S ".as_ptr(),
            &tm,
        )
    };
    buf[..len].to_vec()
}

/// Sends one record to postlogd, or appends it to maillog_file
/// (msg_logger_print); `prefix` is "LEVEL: ", or empty for info.
fn postlog(service: &[u8], hostname: &[u8], file: &[u8], prefix: &str, text: &[u8]) {
    let first_label = hostname.split(|&b| b == b'.').next().unwrap_or_default();
    let mut record = timestamp();
    record.extend_from_slice(first_label);
    record.push(b' ');
    record.extend_from_slice(progname());
    record.extend_from_slice(format!("[{}]: {}", std::process::id(), prefix).as_bytes());
    record.extend_from_slice(&text[..text.len().min(2000)]);
    let sock = std::os::unix::net::UnixDatagram::unbound();
    if let Ok(sock) = sock {
        if sock.connect(os(service)).is_ok() {
            let _ = sock.send(&record);
            return;
        }
    }
    if file.is_empty() {
        return;
    }
    record.push(b'\n');
    if let Err(why) = append_to_logfile(file, &record) {
        logfile_unavailable(file, &why, prefix == "fatal: ");
    }
}

/// The maillog_file opened when logging was configured and postlogd did
/// not answer (Postfix 3.10 and later open it then, and keep it open).
static LOGFILE: Mutex<Option<std::fs::File>> = Mutex::new(None);

/// The mode of a new maillog_file (maillog_file_permissions).
static LOGFILE_MODE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0o600);

/// Whether postlogd's socket takes a connection now (msg_logger_connect).
fn postlogd_answers(service: &[u8]) -> bool {
    std::os::unix::net::UnixDatagram::unbound().is_ok_and(|s| s.connect(os(service)).is_ok())
}

/// Appends one record to maillog_file: the one opened when logging was
/// configured, else opened now (logwriter_one_shot).  The error is the
/// reason for `open logfile 'FILE': REASON`.
fn append_to_logfile(file: &[u8], record: &[u8]) -> std::result::Result<(), Vec<u8>> {
    let mut kept = LOGFILE.lock().unwrap_or_else(|e| e.into_inner());
    let written = match kept.as_mut() {
        Some(f) => f.write_all(record),
        None => safe_open_append(file)?.write_all(record),
    };
    written.map_err(|e| io_error_text(&e).into_bytes())
}

/// safe_open(FILE, O_CREAT | O_WRONLY | O_APPEND, 0600) as logwriter
/// calls it: an existing file is opened (it must have one link, and be no
/// symbolic link other than root's in a directory only root may write, as
/// /dev/stdout is); a missing one is
/// created mode 0600 (O_EXCL: never through a link), then opened again if
/// it appeared meanwhile.  The error is safe_open's reason.
fn safe_open_append(file: &[u8]) -> std::result::Result<std::fs::File, Vec<u8>> {
    let append = std::fs::OpenOptions::new().append(true).clone();
    match safe_open_exist(file, &append) {
        Err((_, Some(libc::ENOENT))) => match safe_open_create(file) {
            Err((_, Some(libc::EEXIST))) => safe_open_exist(file, &append),
            created => created,
        },
        opened => opened,
    }
    .map_err(|(why, _)| why.into_bytes())
}

/// safe_open(FILE, O_RDONLY) as read_param_from_file() calls it: an
/// existing file, checked as [`safe_open_exist`] checks it; the error is
/// safe_open's reason.
pub(crate) fn safe_open_read(file: &[u8]) -> std::result::Result<std::fs::File, String> {
    safe_open_exist(file, std::fs::OpenOptions::new().read(true)).map_err(|(why, _)| why)
}

/// A reason of safe_open and the errno it leaves, when there is one.
type SafeOpenError = (String, Option<i32>);

/// safe_open_exist(): opens an existing file (with OPTIONS: reading or
/// appending) and checks it.
fn safe_open_exist(
    file: &[u8],
    options: &std::fs::OpenOptions,
) -> std::result::Result<std::fs::File, SafeOpenError> {
    use std::os::unix::fs::MetadataExt;
    let path = os(file);
    let f = options.open(path).map_err(|e| {
        (
            format!("cannot open file: {}", io_error_text(&e)),
            e.raw_os_error(),
        )
    })?;
    let opened = f
        .metadata()
        .map_err(|e| (format!("bad open file status: {}", io_error_text(&e)), None))?;
    if opened.nlink() != 1 {
        return Err((format!("file has {} hard links", opened.nlink()), None));
    }
    if opened.is_dir() {
        return Err(("file is a directory".into(), None));
    }
    let changed = || ("file status changed unexpectedly".to_string(), None);
    match std::fs::symlink_metadata(path) {
        Err(e) => Err((format!("{}: {}", changed().0, io_error_text(&e)), None)),
        Ok(link) if link.file_type().is_symlink() => match link.uid() {
            0 if trusted_parent(path) => Ok(f),
            _ => Err(("file is a symbolic link".into(), None)),
        },
        Ok(link)
            if (link.dev(), link.ino(), link.nlink(), link.mode())
                != (opened.dev(), opened.ino(), opened.nlink(), opened.mode()) =>
        {
            Err(changed())
        }
        Ok(_) => Ok(f),
    }
}

/// Whether the directory of a root-owned symbolic link is root's and
/// writable by no one else (stat(2), not lstat: safe_open_exist()'s test of
/// sane_dirname()), so that the link is trusted as /dev/stdout is.
fn trusted_parent(path: &std::ffi::OsStr) -> bool {
    use std::os::unix::fs::MetadataExt;
    let parent = match std::path::Path::new(path).parent() {
        Some(p) if p.as_os_str().is_empty() => std::path::Path::new("."),
        Some(p) => p,
        None => std::path::Path::new("/"),
    };
    std::fs::metadata(parent).is_ok_and(|m| m.uid() == 0 && m.mode() & 0o022 == 0)
}

/// safe_open_create(): creates a new file with maillog_file_permissions
/// (0600 by default, set again with fchmod, as Postfix 3.9 and later do;
/// 0600 where the release lacks the parameter: 3.7 used 0644).
fn safe_open_create(file: &[u8]) -> std::result::Result<std::fs::File, SafeOpenError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mode = LOGFILE_MODE.load(std::sync::atomic::Ordering::Relaxed);
    let f = std::fs::OpenOptions::new()
        .append(true)
        .create_new(true)
        .mode(mode)
        .open(os(file))
        .map_err(|e| {
            let why = format!("cannot create file exclusively: {}", io_error_text(&e));
            (why, e.raw_os_error())
        })?;
    let _ = f.set_permissions(std::fs::Permissions::from_mode(mode));
    Ok(f)
}

/// Whether maillog_file is opened as soon as logging is set up (Postfix
/// 3.10 and later, MAILLOG_CLIENT_FLAG_LOGWRITER_FALLBACK), not only when a
/// record is logged.
fn opens_logfile_at_start() -> bool {
    crate::defaults::release().at_least(3, 10)
}

/// The logfile cannot be written: Postfix 3.10 and later's logwriter dies
/// with `fatal: open logfile 'FILE': WHY`, which is not printed when the
/// program is already dying of a fatal error (msg_fatal's own guard);
/// earlier releases leave the record out in silence.
fn logfile_unavailable(file: &[u8], why: &[u8], dying: bool) {
    static GUARD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !opens_logfile_at_start() || dying || GUARD.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    report("fatal", libc::LOG_CRIT, &open_logfile_error(file, why));
    exit_fatally()
}

/// logwriter_open_or_die()'s fatal text.
fn open_logfile_error(file: &[u8], why: &[u8]) -> Vec<u8> {
    bfmt("open logfile '%s': %s", &[file, why])
}

/// A fatal error: the text after `fatal: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", String::from_utf8_lossy(.0))]
pub struct Fatal(pub Vec<u8>);

impl Fatal {
    /// A fatal error from a message built with [`bfmt`].
    pub fn new(text: impl Into<Vec<u8>>) -> Fatal {
        Fatal(text.into())
    }
}

/// Shorthand for results that end the program with a fatal error.
pub type Result<T> = std::result::Result<T, Fatal>;

/// Builds a byte message as Postfix's msg_fatal("...%s...") does with
/// strings only: each `%s` in `fmt` takes the next argument as is, `%%` is
/// one percent sign.  So each message reads as upstream's source writes it.
/// The arguments must be as many as the `%s` ([`placeholders`]): checked
/// here in debug builds, and at every call site by a unit test.
pub fn bfmt(fmt: &str, args: &[&[u8]]) -> Vec<u8> {
    debug_assert_eq!(placeholders(fmt), args.len(), "arguments for {fmt:?}");
    let fmt = fmt.as_bytes();
    let mut out = Vec::with_capacity(fmt.len() + args.iter().map(|a| a.len()).sum::<usize>());
    let mut args = args.iter();
    let mut i = 0;
    while i < fmt.len() {
        match (fmt[i], fmt.get(i + 1)) {
            (b'%', Some(b's')) => {
                out.extend_from_slice(args.next().copied().unwrap_or_default());
                i += 2;
            }
            (b'%', Some(b'%')) => {
                out.push(b'%');
                i += 2;
            }
            (b, _) => {
                debug_assert!(b != b'%', "a lone % in {:?}", String::from_utf8_lossy(fmt));
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// How many `%s` a [`bfmt`] format holds (`%%` is none).
pub const fn placeholders(fmt: &str) -> usize {
    let fmt = fmt.as_bytes();
    let (mut i, mut count) = (0, 0);
    while i + 1 < fmt.len() {
        if fmt[i] == b'%' {
            if fmt[i + 1] == b's' {
                count += 1;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    count
}

/// The C library's text for an errno value, as `%m` prints it.
pub fn strerror(errno: i32) -> String {
    let mut buf = [0 as libc::c_char; 256];
    // SAFETY: the XSI strerror_r writes a NUL-terminated string into buf.
    let rc = unsafe { libc::strerror_r(errno, buf.as_mut_ptr(), buf.len()) };
    if rc != 0 {
        return format!("Unknown error {errno}");
    }
    // SAFETY: strerror_r succeeded, so buf holds a NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// The C library's text for a nix error.
pub fn errno_text(e: nix::errno::Errno) -> String {
    strerror(e as i32)
}

/// The text of an I/O error, as `%m` prints it.
pub fn io_error_text(err: &std::io::Error) -> String {
    match err.raw_os_error() {
        Some(errno) => strerror(errno),
        None => err.to_string(),
    }
}

/// Sets the program name from `argv[0]`, drops TZ under unsafe
/// credentials, and opens syslog with the name.
pub fn init(argv0: &[u8]) {
    let name = match argv0.iter().rposition(|&b| b == b'/') {
        Some(at) if at + 1 < argv0.len() => &argv0[at + 1..],
        _ => argv0,
    };
    let name = PROGNAME.get_or_init(|| name.to_vec());
    crate::environ::drop_tz_when_unsafe();
    logging_from_environment();
    let ident = IDENT.get_or_init(|| c_string(name));
    // SAFETY: ident is a valid NUL-terminated string that lives as long as the process.
    unsafe { libc::openlog(ident.as_ptr(), libc::LOG_PID, libc::LOG_MAIL) };
}

/// Sends syslog records to the named facility (syslog_facility); false
/// when Postfix would not know the name.
pub fn set_facility(name: &[u8]) -> bool {
    let facility = match name {
        b"auth" => libc::LOG_AUTH,
        b"authpriv" => libc::LOG_AUTHPRIV,
        b"cron" => libc::LOG_CRON,
        b"daemon" => libc::LOG_DAEMON,
        b"ftp" => libc::LOG_FTP,
        b"kern" => libc::LOG_KERN,
        b"lpr" => libc::LOG_LPR,
        b"mail" => libc::LOG_MAIL,
        b"news" => libc::LOG_NEWS,
        b"syslog" => libc::LOG_SYSLOG,
        b"user" => libc::LOG_USER,
        b"uucp" => libc::LOG_UUCP,
        b"local0" => libc::LOG_LOCAL0,
        b"local1" => libc::LOG_LOCAL1,
        b"local2" => libc::LOG_LOCAL2,
        b"local3" => libc::LOG_LOCAL3,
        b"local4" => libc::LOG_LOCAL4,
        b"local5" => libc::LOG_LOCAL5,
        b"local6" => libc::LOG_LOCAL6,
        b"local7" => libc::LOG_LOCAL7,
        _ => return false,
    };
    // SAFETY: setlogmask-free change of the default facility for later records.
    unsafe {
        libc::openlog(
            IDENT.get().map_or(std::ptr::null(), |i| i.as_ptr()),
            libc::LOG_PID,
            facility,
        )
    };
    true
}

/// Decides whether UTF-8 sequences pass through messages unchanged.
pub fn set_utf8(enable: bool) {
    let _ = UTF8.set(enable);
}

/// The program name for diagnostics.
pub fn progname() -> &'static [u8] {
    PROGNAME.get().map(|v| v.as_slice()).unwrap_or(b"postmulti")
}

/// Replaces what a terminal or log should not see with '?', as printable(3).
pub fn printable(text: &[u8]) -> Vec<u8> {
    printable_with(text, UTF8.get().copied().unwrap_or(false))
}

/// printable() with UTF-8 allowed or not.
fn printable_with(text: &[u8], utf8: bool) -> Vec<u8> {
    let mut out = text.to_vec();
    let mut i = 0;
    while i < out.len() {
        let ch = out[i];
        let next_is_cont = |j: usize| out.get(j).is_some_and(|&c| (128..192).contains(&c));
        if ch.is_ascii() && (ch.is_ascii_graphic() || ch == b' ') {
        } else if utf8 && (194..=254).contains(&ch) && next_is_cont(i + 1) {
            while next_is_cont(i + 1) {
                i += 1;
            }
        } else {
            out[i] = b'?';
        }
        i += 1;
    }
    out
}

/// Whether diagnostics go to stderr besides the log: always in Postfix
/// 3.11 and later; before, only when stderr is a terminal (main() calls
/// msg_vstream_init() only `if (isatty(STDERR_FILENO))`), so scripts, cron
/// jobs and units see them in the log alone.  Decided once, at the first
/// diagnostic (the release is asked only when stderr is no terminal).
fn to_stderr() -> bool {
    static WANTED: OnceLock<bool> = OnceLock::new();
    *WANTED.get_or_init(|| {
        nix::unistd::isatty(2).unwrap_or(false) || crate::defaults::release().at_least(3, 11)
    })
}

/// Writes one diagnostic line to stderr (see [`to_stderr`]) and syslog; level "info" has no
/// level word in either, as msg_info() prints it.
fn report(level: &str, priority: libc::c_int, text: &[u8]) {
    let text = printable(text);
    let prefix = if level == "info" {
        String::new()
    } else {
        format!("{level}: ")
    };
    let mut line = Vec::with_capacity(text.len() + 32);
    line.extend_from_slice(progname());
    line.extend_from_slice(b": ");
    line.extend_from_slice(prefix.as_bytes());
    line.extend_from_slice(&text);
    line.push(b'\n');
    if to_stderr() {
        let _ = std::io::stderr().lock().write_all(&line);
    }
    let logger = LOGGER.lock().map(|l| l.clone()).unwrap_or(Logger::Syslog);
    match logger {
        Logger::Postlog {
            service,
            hostname,
            file,
        } => postlog(&service, &hostname, &file, &prefix, &text),
        Logger::Syslog => {
            let mut record = Vec::with_capacity(text.len() + 16);
            record.extend_from_slice(prefix.as_bytes());
            record.extend_from_slice(&text[..text.len().min(2000)]);
            if let Ok(record) = CString::new(record) {
                // SAFETY: both strings are valid and NUL-terminated.
                unsafe { libc::syslog(priority, c"%s".as_ptr(), record.as_ptr()) };
            }
        }
    }
}

/// Reports what the program is doing, as msg_info() does, and goes on.
pub fn info(text: &[u8]) {
    report("info", libc::LOG_INFO, text);
}

/// Reports a warning and goes on.
pub fn warn(text: &[u8]) {
    report("warning", libc::LOG_WARNING, text);
}

/// Reports an error and goes on, as msg_error() does (a fatal follows).
pub fn error(text: &[u8]) {
    report("error", libc::LOG_ERR, text);
}

/// How long msg_fatal() waits before it exits (a throttle for daemons that
/// a master would restart at once; every Postfix program has it).
const FATAL_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

/// Reports a fatal error the way a child process of upstream's would have
/// just before exiting, and waits as that child would have; this process
/// goes on.
pub fn child_fatal(text: &[u8]) {
    report("fatal", libc::LOG_CRIT, text);
    std::thread::sleep(FATAL_PAUSE);
}

/// Reports a fatal error and exits with status 1, a second later, as
/// msg_fatal() does.
pub fn fatal(text: &[u8]) -> ! {
    report("fatal", libc::LOG_CRIT, text);
    exit_fatally()
}

/// msg_fatal()'s end: sleep(1), then exit with status 1.
fn exit_fatally() -> ! {
    std::thread::sleep(FATAL_PAUSE);
    std::process::exit(1)
}

/// Writes getopt's own complaint, which goes to stderr only.
pub fn getopt_complaint(text: &[u8]) {
    let mut line = progname().to_vec();
    line.extend_from_slice(b": ");
    line.extend_from_slice(text);
    line.push(b'\n');
    let _ = std::io::stderr().lock().write_all(&line);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bfmt_substitutes_bytes_in_order() {
        assert_eq!(
            bfmt("instance %s, %s=%s", &[b"/a", b"x", b"\xff"]),
            b"instance /a, x=\xff".to_vec()
        );
        assert_eq!(bfmt("no args", &[]), b"no args".to_vec());
        assert_eq!(bfmt("100%% %s", &[b"{}"]), b"100% {}".to_vec());
        assert_eq!(placeholders("%s%%s%s"), 2);
    }

    /// The text of the Rust string literal that starts `text`, and the rest.
    fn literal(text: &str) -> Option<(&str, &str)> {
        let body = text.strip_prefix('"')?;
        let mut escaped = false;
        for (at, c) in body.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => return Some((&body[..at], &body[at + 1..])),
                _ => {}
            }
        }
        None
    }

    /// How many elements the array expression `&[...]` that starts `text` has.
    fn array_len(text: &str) -> Option<usize> {
        let body = text.strip_prefix("&[")?;
        let (mut depth, mut count, mut element) = (0usize, 0, false);
        let mut rest = body;
        while let Some(c) = rest.chars().next() {
            if c == '"' {
                rest = literal(rest)?.1;
                element = true;
                continue;
            }
            rest = &rest[c.len_utf8()..];
            match c {
                '(' | '[' | '{' => depth += 1,
                ']' if depth == 0 => return Some(count + usize::from(element)),
                ')' | ']' | '}' => depth -= 1,
                ',' if depth == 0 => {
                    count += 1;
                    element = false;
                    continue;
                }
                _ => {}
            }
            if !c.is_whitespace() {
                element = true;
            }
        }
        None
    }

    #[test]
    fn every_bfmt_call_has_as_many_arguments_as_placeholders() {
        let call = ["bf", "mt("].concat();
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut checked = 0;
        let mut uncounted = Vec::new();
        for entry in std::fs::read_dir(src).unwrap() {
            let path = entry.unwrap().path();
            if path.extension() != Some("rs".as_ref()) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (at, _) in text.match_indices(&call) {
                if text[..at].ends_with("fn ") {
                    continue;
                }
                let args = text[at + call.len()..].trim_start();
                let (fmt, rest) = literal(args).expect("a literal format");
                let rest = rest.trim_start().strip_prefix(',').unwrap().trim_start();
                match array_len(rest) {
                    Some(n) => assert_eq!(placeholders(fmt), n, "{}: {fmt:?}", path.display()),
                    None => uncounted.push(fmt.to_string()),
                }
                checked += 1;
            }
        }
        assert!(checked > 50, "{checked} calls found");
        // The one call whose arguments are built at run time: the word and
        // the eight actions upstream lists (Action::LISTED).
        assert_eq!(uncounted.len(), 1, "{uncounted:?}");
        assert_eq!(
            placeholders(&uncounted[0]),
            1 + crate::command::Action::LISTED.len()
        );
    }

    #[test]
    fn printable_replaces_controls_and_broken_utf8() {
        assert_eq!(printable_with(b"a\tb\x01c", true), b"a?b?c".to_vec());
        assert_eq!(
            printable_with("é".as_bytes(), true),
            "é".as_bytes().to_vec()
        );
        assert_eq!(printable_with("é".as_bytes(), false), b"??".to_vec());
        assert_eq!(printable_with(b"\xff\xc3", true), b"??".to_vec());
    }
}
