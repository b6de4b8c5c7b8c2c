//! A self-contained random/mutation fuzzer for the code that reads untrusted
//! input: the main.cf reader (`MainCf::parse`), the expander (`expand`,
//! `referenced_names`), postconf's white-space normalization, the native
//! reader of secondary instances (`native::native`, checked against the
//! real postconf), and argv parsing (`command::parse`, checked against glibc's
//! getopt(3)).
//!
//! cargo-fuzz needs a nightly toolchain that cannot be installed here, so
//! this is coverage-free: grammar-biased generators (`$`, `${`, `$(`, `{`,
//! `}`, `?`, `:`, `==`, `!=`, continuation lines, comments, NUL and high
//! bytes, option clusters, `--`, long values), byte-level mutations, and a
//! corpus that keeps every input whose outcome has not been seen before (a
//! cheap stand-in for coverage feedback). Each target runs inside
//! `catch_unwind`, twice (determinism), under a watchdog (termination), and
//! has properties beyond "does not panic" (see `check`). A finding is
//! minimized before it is reported.
//!
//! * `fuzz_short`: a deterministic run of ~10 s (fixed seed) for CI.
//! * `fuzz_long` (ignored): runs for $FUZZ_SECONDS (default 60) from seed
//!   $FUZZ_SEED (default: the clock), printing executions and findings:
//!   `FUZZ_SECONDS=600 cargo test --release --test fuzz -- --ignored --nocapture`
//!
//! Every finding fails the run: a panic, nondeterminism, a hang, and every
//! disagreement with the oracles (postconf for the native reader, glibc's
//! getopt plus upstream's checks for argv), printed with its minimized
//! input. There is no list of tolerated kinds: a finding is fixed in the
//! product, and its exact minimized input becomes a regression row at the
//! end of this file (exact input, exact expected outcome), which the fuzz
//! runs also start from.
//!
//! The native-reader target writes a secondary instance: a main.cf (with
//! mynetworks_style set to good and bad values now and then, with and
//! without mynetworks), and Debian's master.cf, one of its entries removed
//! or a field of it changed now and then, with entries appended (odd blanks between fields,
//! braces, clustered `-vo` and trailing options, `--`, repeated
//! service/type entries, `-o` values with conditionals on the values
//! postconf computes: myhostname, mydomain, mynetworks, process_id,
//! process_name, service_name), compatibility levels on both sides of
//! their limits, postconf's name space (`NAME_SPACE`: service, user,
//! legacy and deprecated parameters, restriction classes, braces, database
//! client files valid, unknown, repeated or missing), and a host name (some that postconf refuses), set in a
//! uts namespace of the fuzz thread's own that the native reader and the
//! postconf it is compared with both see.  The files themselves vary too
//! ([`Files`]): main.cf or master.cf a symbolic link, master.cf missing, a
//! dangling link or a directory, main.cf's permission bits, either file
//! written just now rather than back-dated.
//!
//! `argv_against_the_c_binary` runs the argv generator's command lines (in
//! environments with MAIL_CONFIG and MAIL_VERBOSE; `-x` and `-p` with
//! commands that change nothing) with the reference's postmulti and ours,
//! side by side in a sandbox: ARGV_C_CASES (default 300) from ARGV_C_SEED,
//! both printed.  It needs Debian's postfix
//! (`/usr/sbin/postconf` and its master.cf) and root: without them the
//! fuzz runs fail rather than leave that target out.  With
//! POSTMULTI_REFERENCE=RELEASE the postconf, the master.cf and the native
//! reader's table of parameters are that release's (`reference_postconf`:
//! its postconf chrooted in its root), so `.ci/run` runs this file against
//! 3.7, 3.10 and 3.11.
//!
//! The fuzz threads run with 8 MiB of stack, the main thread's stack under
//! the default `ulimit -s`, which is what the postmulti binary has.

mod builtins;
use builtins::braced_builtins;
mod splitmix;
use splitmix::{env_number, Rng};

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use postmulti::command::{
    self, Action, Assignment, Command, Invocation, Iteration, ParseError, Selection,
};
use postmulti::expand::{expand, referenced_names, ExpandError, Lookup, Resolver};
use postmulti::instance::REQUESTED;
use postmulti::maincf::MainCf;
use postmulti::native;

mod addresses;

mod common;
use common::Scenario;
mod reference_postconf;
use reference_postconf::{postconf, stock_master_cf, use_reference_table, warnings_of, POSTCONF};

const STACK: usize = 8 << 20;

// ---------------------------------------------------------------------------
// Cases, findings
// ---------------------------------------------------------------------------

/// What a name resolves to in an expansion case.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Def {
    Value(Vec<u8>),
    Unknown,
}

/// One input for one target.
#[derive(Clone, Debug)]
enum Case {
    /// main.cf text for `MainCf::parse`.
    MainCf(Vec<u8>),
    /// Text expanded with a resolver over `defs` (names not listed are undefined).
    Expand {
        text: Vec<u8>,
        defs: Vec<(Vec<u8>, Def)>,
    },
    /// A line for postconf's white-space normalization.
    WhiteSpace(Vec<u8>),
    /// argv without argv[0].
    Argv(Vec<Vec<u8>>),
    /// A secondary instance, read natively and by postconf: its main.cf,
    /// the text appended to Debian's master.cf, and the kernel's host name
    /// both see.
    Secondary(Secondary),
}

/// The directory and host of a [`Case::Secondary`].
#[derive(Clone, Debug)]
struct Secondary {
    main: Vec<u8>,
    master: Vec<u8>,
    host: Vec<u8>,
    files: Files,
}

/// What a secondary case does to Debian's master.cf and to the files
/// beyond their text; the default changes nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Files {
    /// Debian's master.cf with one of its service entries (the Nth, modulo
    /// their number) removed (`None`) or with one field (0 to 7) set to
    /// `MASTER_FIELD_VALUES[value]`: (entry, Some((field, value))).
    master_edit: Option<(usize, Option<(usize, usize)>)>,
    /// How main.cf and master.cf are there.
    layout: Layout,
    /// The permission bits of main.cf (root reads it whatever they are).
    main_mode: Option<u32>,
    /// main.cf, or master.cf, written just now rather than back-dated
    /// (Postfix waits for a main.cf changed in the last second to settle).
    fresh_main: bool,
    fresh_master: bool,
}

/// How the files of a secondary case are there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Layout {
    #[default]
    Files,
    /// main.cf a symbolic link to main.cf.real beside it.
    MainLink,
    /// main.cf a symbolic link to the absolute path of main.cf.real.
    MainAbsoluteLink,
    /// master.cf a symbolic link to master.cf.real beside it.
    MasterLink,
    /// No master.cf.
    NoMaster,
    /// master.cf a symbolic link to nothing.
    MasterDangling,
    /// master.cf a directory.
    MasterDirectory,
}

const LAYOUTS: &[Layout] = &[
    Layout::Files,
    Layout::MainLink,
    Layout::MainAbsoluteLink,
    Layout::MasterLink,
    Layout::NoMaster,
    Layout::MasterDangling,
    Layout::MasterDirectory,
];

/// Values an edited field of a master.cf entry takes.
const MASTER_FIELD_VALUES: &[&[u8]] = &[
    b"-",
    b"y",
    b"n",
    b"0",
    b"100",
    b"unix",
    b"inet",
    b"fifo",
    b"pass",
    b"unix-dgram",
    b"x",
    b"1?",
    b"60?",
    b"smtpd",
    b"127.0.0.1:2525",
    b"[::1]:25",
    b"${a}",
];

/// Debian's master.cf with `edit` made (see [`Files::master_edit`]).
fn edited_master(stock: &[u8], edit: Option<(usize, Option<(usize, usize)>)>) -> Vec<u8> {
    let Some((entry, change)) = edit else {
        return stock.to_vec();
    };
    let lines: Vec<&[u8]> = stock.split_inclusive(|&b| b == b'\n').collect();
    let starts: Vec<usize> = (0..lines.len())
        .filter(|&i| !lines[i].is_empty() && !b"# \t\n".contains(&lines[i][0]))
        .collect();
    if starts.is_empty() {
        return stock.to_vec();
    }
    let at = starts[entry % starts.len()];
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if i != at {
            out.extend_from_slice(lines[i]);
            i += 1;
            continue;
        }
        match change {
            // The entry and its continuation lines go.
            None => {
                i += 1;
                while i < lines.len() && matches!(lines[i].first(), Some(b' ' | b'\t')) {
                    i += 1;
                }
            }
            Some((field, value)) => {
                let mut words: Vec<&[u8]> = lines[i]
                    .split(|&b| b == b' ' || b == b'\t' || b == b'\n')
                    .filter(|w| !w.is_empty())
                    .collect();
                if field < words.len() {
                    words[field] = MASTER_FIELD_VALUES[value % MASTER_FIELD_VALUES.len()];
                }
                out.extend(words.join(&b' '));
                out.push(b'\n');
                i += 1;
            }
        }
    }
    out
}

/// Files for a secondary case: the default in three cases of four (most
/// of the others make postconf complain, and the native reader rightly
/// declines them: not compared).
fn gen_files(rng: &mut Rng) -> Files {
    if !rng.one_in(4) {
        return Files::default();
    }
    Files {
        master_edit: rng.one_in(2).then(|| {
            let change =
                (!rng.one_in(3)).then(|| (rng.below(8), rng.below(MASTER_FIELD_VALUES.len())));
            (rng.below(64), change)
        }),
        layout: if rng.one_in(3) {
            *rng.pick(LAYOUTS)
        } else {
            Layout::Files
        },
        main_mode: rng
            .one_in(6)
            .then(|| *rng.pick(&[0o000, 0o200, 0o666, 0o4644])),
        fresh_main: rng.one_in(8),
        fresh_master: rng.one_in(8),
    }
}

/// The host name the secondary cases run under unless they pick another
/// (no dot: myhostname's default is "NAME.$mydomain").
const HOST: &[u8] = b"pm-fuzz-host";

/// A secondary case on [`HOST`] with Debian's master.cf as it is.
fn secondary(main: &[u8]) -> Case {
    Case::Secondary(Secondary {
        main: main.to_vec(),
        master: Vec::new(),
        host: HOST.to_vec(),
        files: Files::default(),
    })
}

impl Case {
    fn target(&self) -> &'static str {
        match self {
            Case::MainCf(_) => "maincf",
            Case::Expand { .. } => "expand",
            Case::WhiteSpace(_) => "whitespace",
            Case::Argv(_) => "argv",
            Case::Secondary(_) => "secondary",
        }
    }
}

/// Byte strings as Rust byte-string literals, for regression tests.
fn lit(b: &[u8]) -> String {
    let mut s = String::from("b\"");
    for &c in b {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            0 => s.push_str("\\0"),
            0x20..=0x7e => s.push(c as char),
            _ => write!(s, "\\x{c:02x}").unwrap(),
        }
    }
    s.push('"');
    s
}

fn show_case(c: &Case) -> String {
    match c {
        Case::MainCf(d) => format!("MainCf::parse(b\"/x/main.cf\", {}, ..)", lit(d)),
        Case::Expand { text, defs } => {
            let mut s = format!("expand({}) with", lit(text));
            if defs.is_empty() {
                s.push_str(" no definitions");
            }
            for (n, d) in defs {
                match d {
                    Def::Value(v) => write!(s, " [{} = {}]", lit(n), lit(v)).unwrap(),
                    Def::Unknown => write!(s, " [{} = <unknown>]", lit(n)).unwrap(),
                }
            }
            s
        }
        Case::WhiteSpace(l) => format!("normalize_white_space({})", lit(l)),
        Case::Argv(a) => format!(
            "command::parse(&[{}])",
            a.iter().map(|x| lit(x)).collect::<Vec<_>>().join(", ")
        ),
        Case::Secondary(d) => format!(
            "secondary main.cf {} + master.cf {} on host {}{}",
            lit(&d.main),
            lit(&d.master),
            lit(&d.host),
            if d.files == Files::default() {
                String::new()
            } else {
                format!(" with {:?}", d.files)
            }
        ),
    }
}

/// Something wrong: `kind` groups findings (one report per kind).
#[derive(Clone, Debug)]
struct Finding {
    kind: String,
    detail: String,
}

fn finding(kind: impl Into<String>, detail: impl Into<String>) -> Option<Finding> {
    Some(Finding {
        kind: kind.into(),
        detail: detail.into(),
    })
}

// ---------------------------------------------------------------------------
// Panics: caught per execution, message kept, default hook silenced only
// for the fuzz threads.
// ---------------------------------------------------------------------------

thread_local! {
    static IN_FUZZ: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static LAST_PANIC: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_FUZZ.with(|f| f.get()) {
                let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
                    s.to_string()
                } else if let Some(s) = info.payload().downcast_ref::<String>() {
                    s.clone()
                } else {
                    "(non-string panic payload)".into()
                };
                let at = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                LAST_PANIC.with(|p| *p.borrow_mut() = format!("{msg} at {at}"));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic into a finding.
fn guarded<T>(target: &str, f: impl FnOnce() -> T) -> Result<T, Finding> {
    IN_FUZZ.with(|x| x.set(true));
    let r = catch_unwind(AssertUnwindSafe(f));
    IN_FUZZ.with(|x| x.set(false));
    r.map_err(|_| {
        let msg = LAST_PANIC.with(|p| p.borrow().clone());
        // Group by where it panicked, not by the (input-dependent) message.
        let at = msg.rsplit(" at ").next().unwrap_or("").to_string();
        Finding {
            kind: format!("{target}: panic at {at}"),
            detail: msg,
        }
    })
}

// ---------------------------------------------------------------------------
// Targets and their properties
// ---------------------------------------------------------------------------

/// A resolver over a case's definitions that records every name it is asked for.
struct MapResolver<'a> {
    defs: &'a [(Vec<u8>, Def)],
    asked: Vec<Vec<u8>>,
}

impl Resolver for MapResolver<'_> {
    fn lookup(&mut self, name: &[u8]) -> Lookup {
        self.asked.push(name.to_vec());
        // The last definition of a name wins, as in main.cf.
        match self.defs.iter().rev().find(|(n, _)| n == name) {
            Some((_, Def::Value(v))) => Lookup::Value(v.clone()),
            Some((_, Def::Unknown)) => Lookup::Unknown,
            None => Lookup::Undefined,
        }
    }
}

struct Nothing;
impl Resolver for Nothing {
    fn lookup(&mut self, _: &[u8]) -> Lookup {
        Lookup::Undefined
    }
}

type Expanded = (Result<Vec<u8>, ExpandError>, Vec<Vec<u8>>);

fn run_expand(text: &[u8], defs: &[(Vec<u8>, Def)]) -> Expanded {
    let mut r = MapResolver {
        defs,
        asked: Vec::new(),
    };
    let out = expand(text, &mut r);
    (out, r.asked)
}

/// Counts executions, for the watchdog.
static HEARTBEAT: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set by a check that compared the case with its oracle (getopt, postconf).
    static COMPARED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn compared() {
    COMPARED.with(|c| c.set(true));
}

/// Checks one case; None when every property holds.
fn check(case: &Case) -> Option<Finding> {
    HEARTBEAT.fetch_add(1, Ordering::SeqCst);
    COMPARED.with(|c| c.set(false));
    let t = case.target();
    let r = guarded(t, || match case {
        Case::MainCf(data) => check_maincf(data),
        Case::Expand { text, defs } => check_expand(text, defs),
        Case::WhiteSpace(line) => check_white_space(line),
        Case::Argv(args) => check_argv(args),
        Case::Secondary(d) => check_secondary(d),
    });
    match r {
        Ok(f) => f,
        Err(f) => Some(f),
    }
}

fn check_maincf(data: &[u8]) -> Option<Finding> {
    let parse = || {
        let mut w = Vec::new();
        let r = MainCf::parse(b"/x/main.cf", data, &[(b"config_directory", b"/x")], &mut w);
        (r.map(|cf| cf.params), w)
    };
    let (a, wa) = parse();
    let (b, wb) = parse();
    if a != b || wa != wb {
        return finding("maincf: parse is not deterministic", "");
    }
    let ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r');
    if let Ok(params) = &a {
        for (n, v) in params {
            if n.is_empty() || n.iter().any(|&c| ws(c) || c == b'=' || c == 0) {
                return finding("maincf: bad parameter name", lit(n));
            }
            if v.iter().any(|&c| c == 0 || c == b'\n') {
                return finding("maincf: value holds NUL or newline", lit(v));
            }
            if v.first().is_some_and(|&c| ws(c)) || v.last().is_some_and(|&c| ws(c)) {
                return finding("maincf: value not trimmed", lit(v));
            }
        }
        if params.get(&b"config_directory"[..]).is_none() {
            return finding("maincf: preset entry lost", "");
        }
    }
    None
}

/// Whether the text may hold a comparison (`==`, `!=`, `<`, `>`, ...):
/// the scan does not evaluate it (an operand that is no compatibility
/// level, a number beyond a long, fail only when expanding).
fn has_logical(b: &[u8]) -> bool {
    b.windows(2).any(|w| w == b"==" || w == b"!=") || b.iter().any(|&c| c == b'<' || c == b'>')
}

fn check_expand(text: &[u8], defs: &[(Vec<u8>, Def)]) -> Option<Finding> {
    let (out, asked) = run_expand(text, defs);
    let (out2, asked2) = run_expand(text, defs);
    if out != out2 || asked != asked2 {
        return finding("expand: not deterministic", "");
    }
    let scan = referenced_names(text);
    if scan != referenced_names(text) {
        return finding("referenced_names: not deterministic", "");
    }
    // Text without '$' is literal.
    if !text.contains(&b'$') && out != Ok(text.to_vec()) {
        return finding("expand: text without $ changed", format!("{out:?}"));
    }
    // The scan visits every branch the expansion can take: if the scan
    // accepts the text, expanding it with nothing defined succeeds too.
    // Except after a logical expression: its value ("true") is parsed again
    // as text when expanding, not when scanning (upstream alike), and that
    // literal can be one nesting level too many.
    if scan.is_ok() && !has_logical(text) {
        let mut nothing = Nothing;
        if let Err(e) = expand(text, &mut nothing) {
            return finding(
                "expand: referenced_names accepts what expand rejects (nothing defined)",
                format!("{e:?}"),
            );
        }
    }
    // Every name the expansion looks up is one the scans of the text and of
    // the values report: the native secondary reader relies on this to
    // prove that postconf would see no undefined name.
    let mut listed: HashSet<Vec<u8>> = HashSet::new();
    let mut sources: Vec<&[u8]> = vec![text];
    sources.extend(defs.iter().filter_map(|(_, d)| match d {
        Def::Value(v) => Some(v.as_slice()),
        Def::Unknown => None,
    }));
    for s in &sources {
        match referenced_names(s) {
            Ok(names) => listed.extend(names),
            Err(_) => return None,
        }
    }
    if let Some(missed) = asked.iter().find(|n| !listed.contains(*n)) {
        return finding(
            "expand: looks up a name referenced_names does not list",
            format!("name {}", lit(missed)),
        );
    }
    None
}

fn check_white_space(line: &[u8]) -> Option<Finding> {
    let n = native::normalize_white_space(line);
    let sep = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    if native::normalize_white_space(&n) != n {
        return finding("whitespace: not idempotent", lit(&n));
    }
    if n.first().is_some_and(sep) || n.last().is_some_and(sep) {
        return finding("whitespace: separator at an end", lit(&n));
    }
    if n.windows(2).any(|w| w[0] == b' ' && w[1] == b' ') || n.iter().any(|c| sep(c) && *c != b' ')
    {
        return finding("whitespace: separators not single spaces", lit(&n));
    }
    let words = |b: &[u8]| -> Vec<Vec<u8>> {
        b.split(sep)
            .filter(|w| !w.is_empty())
            .map(|w| w.to_vec())
            .collect()
    };
    if words(line) != words(&n) {
        return finding("whitespace: words changed", lit(&n));
    }
    None
}

// --- argv against glibc getopt(3) ------------------------------------------

extern "C" {
    static mut optind: std::ffi::c_int;
    static mut opterr: std::ffi::c_int;
    static mut optopt: std::ffi::c_int;
    static mut optarg: *mut std::ffi::c_char;
}

/// getopt's answers: an option and its value, or `Err(c)` for a complaint.
type Getopt = Vec<Result<(u8, Option<Vec<u8>>), u8>>;

/// What glibc's getopt makes of argv: the options in order (`Err(c)` for
/// a complaint about option c) and the index of the first operand.
fn glibc_getopt(args: &[Vec<u8>]) -> (Getopt, usize) {
    static LOCK: Mutex<()> = Mutex::new(());
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut cstrs: Vec<std::ffi::CString> = vec![std::ffi::CString::new("postmulti").unwrap()];
    cstrs.extend(
        args.iter()
            .map(|a| std::ffi::CString::new(a.clone()).expect("no NUL in argv")),
    );
    let mut ptrs: Vec<*mut std::ffi::c_char> = cstrs.iter().map(|c| c.as_ptr() as *mut _).collect();
    ptrs.push(std::ptr::null_mut());
    let mut seq = Vec::new();
    // SAFETY: getopt's globals are only touched under LOCK; argv stays valid.
    unsafe {
        optind = 0; // glibc: full re-initialization
        opterr = 0;
        loop {
            let c = nix::libc::getopt(
                (ptrs.len() - 1) as std::ffi::c_int,
                ptrs.as_ptr(),
                c"+ae:g:i:jG:I:lpRvx".as_ptr(),
            );
            if c == -1 {
                break;
            }
            if c == b'?' as i32 || c == b':' as i32 {
                seq.push(Err(optopt as u8));
                continue;
            }
            let arg = if optarg.is_null() {
                None
            } else {
                Some(std::ffi::CStr::from_ptr(optarg).to_bytes().to_vec())
            };
            let arg = if b"egiGI".contains(&(c as u8)) {
                arg
            } else {
                None
            };
            seq.push(Ok((c as u8, arg)));
        }
        (seq, (optind as usize).saturating_sub(1))
    }
}

const ACTIONS: [&str; 8] = [
    "create", "destroy", "import", "deport", "enable", "disable", "assign", "init",
];

// upstream's cmd_mode codes and masks (postmulti.c).
const ITER_CMD_POSTFIX: u32 = 1 << 0;
const ITER_CMD_LIST: u32 = 1 << 1;
const ITER_CMD_GENERIC: u32 = 1 << 2;
const EDIT_CMD_CREATE: u32 = 1 << 4;
const EDIT_CMD_IMPORT: u32 = 1 << 5;
const EDIT_CMD_DESTROY: u32 = 1 << 6;
const EDIT_CMD_DEPORT: u32 = 1 << 7;
const EDIT_CMD_ENABLE: u32 = 1 << 8;
const EDIT_CMD_DISABLE: u32 = 1 << 9;
const EDIT_CMD_ASSIGN: u32 = 1 << 10;
const EDIT_CMD_INIT: u32 = 1 << 11;
const EDIT_CMD_MASK_ADD: u32 = EDIT_CMD_CREATE | EDIT_CMD_IMPORT;
const EDIT_CMD_MASK_ASSIGN: u32 = EDIT_CMD_MASK_ADD | EDIT_CMD_ASSIGN;
const EDIT_CMD_MASK_ALL: u32 = EDIT_CMD_MASK_ASSIGN
    | EDIT_CMD_DESTROY
    | EDIT_CMD_DEPORT
    | EDIT_CMD_ENABLE
    | EDIT_CMD_DISABLE
    | EDIT_CMD_INIT;

/// edit_command_table: word, code, and the Action it becomes here.
const EDIT_COMMANDS: [(&str, u32, Action); 8] = [
    ("create", EDIT_CMD_CREATE, Action::Create),
    ("import", EDIT_CMD_IMPORT, Action::Import),
    ("destroy", EDIT_CMD_DESTROY, Action::Destroy),
    ("deport", EDIT_CMD_DEPORT, Action::Deport),
    ("enable", EDIT_CMD_ENABLE, Action::Enable),
    ("disable", EDIT_CMD_DISABLE, Action::Disable),
    ("assign", EDIT_CMD_ASSIGN, Action::Assign),
    ("init", EDIT_CMD_INIT, Action::Init),
];

fn edit_word(code: u32) -> &'static str {
    EDIT_COMMANDS.iter().find(|e| e.1 == code).unwrap().0
}

fn model_fatal(text: impl AsRef<[u8]>) -> ParseError {
    ParseError::Fatal(postmulti::msg::Fatal(text.as_ref().to_vec()))
}

/// What upstream's main() makes of getopt's answers and the operands: its
/// option loop, then its checks in its order (postmulti.c, main(), written
/// here with its cmd_mode bit masks rather than like src/command.rs), as
/// the exact result `command::parse` must return.
fn upstream_model(seq: &Getopt, operands: &[Vec<u8>]) -> Result<Invocation, ParseError> {
    let mut cmd_mode = 0u32;
    let mut command_mode_count = 0;
    let mut instance_select_count = 0;
    let mut selection = Selection::Unspecified;
    let mut json = false;
    let (mut name, mut gname): (Option<Vec<u8>>, Option<Vec<u8>>) = (None, None);
    let mut reverse = false;
    let mut verbose = 0u32;
    let mut set_mode = |code: u32, cmd_mode: &mut u32| {
        if *cmd_mode != code {
            command_mode_count += 1;
        }
        *cmd_mode = code;
    };
    for item in seq {
        let (ch, arg) = match item {
            // getopt complains, then usage(argv[0]).
            Err(c) => {
                let text = if b"egiGI".contains(c) {
                    "option requires an argument"
                } else {
                    "invalid option"
                };
                let mut m = format!("{text} -- '").into_bytes();
                m.push(*c);
                m.push(b'\'');
                return Err(ParseError::Usage(Some(m)));
            }
            Ok((ch, arg)) => (*ch, arg.clone().unwrap_or_default()),
        };
        match ch {
            b'a' => {
                if selection != Selection::All {
                    instance_select_count += 1;
                }
                selection = Selection::All;
            }
            b'e' => {
                let Some(&(_, code, _)) = EDIT_COMMANDS.iter().find(|e| e.0.as_bytes() == arg)
                else {
                    let mut m = b"Invalid '-e' edit action '".to_vec();
                    m.extend_from_slice(&arg);
                    m.extend_from_slice(b"'. Specify ");
                    let words: Vec<String> = ACTIONS.iter().map(|a| format!("'{a}'")).collect();
                    m.extend_from_slice(words[..7].join(", ").as_bytes());
                    m.extend_from_slice(format!(" or {}", words[7]).as_bytes());
                    return Err(model_fatal(m));
                };
                set_mode(code, &mut cmd_mode);
            }
            b'g' => {
                instance_select_count += 1;
                selection = Selection::Group(arg);
            }
            b'i' => {
                instance_select_count += 1;
                selection = Selection::Name(arg);
            }
            b'j' => json = true,
            b'G' => {
                if gname.is_some() {
                    return Err(model_fatal("Specify at most one '-G' option"));
                }
                gname = Some(if arg == b"-" { Vec::new() } else { arg });
            }
            b'I' => {
                if name.is_some() {
                    return Err(model_fatal("Specify at most one '-I' option"));
                }
                name = Some(if arg == b"-" { Vec::new() } else { arg });
            }
            b'l' => set_mode(ITER_CMD_LIST, &mut cmd_mode),
            b'p' => set_mode(ITER_CMD_POSTFIX, &mut cmd_mode),
            b'R' => reverse = !reverse,
            b'v' => verbose += 1,
            b'x' => set_mode(ITER_CMD_GENERIC, &mut cmd_mode),
            other => unreachable!("getopt returned {other}"),
        }
    }
    let has_args = !operands.is_empty();
    if instance_select_count > 1 {
        return Err(model_fatal("Specity no more than one of '-a', '-g', '-i'"));
    }
    if command_mode_count != 1 {
        return Err(model_fatal("Specify exactly one of '-e', '-l', '-p', '-x'"));
    }
    if cmd_mode == ITER_CMD_LIST && has_args {
        return Err(model_fatal("Command not allowed with '-l'"));
    }
    if (cmd_mode == ITER_CMD_POSTFIX || cmd_mode == ITER_CMD_GENERIC) && !has_args {
        return Err(model_fatal("Command required with '-p' or '-x' option"));
    }
    if (cmd_mode == ITER_CMD_POSTFIX || cmd_mode & EDIT_CMD_MASK_ALL != 0) && reverse {
        return Err(model_fatal(
            "The '-p' and '-e' options preclude the use of '-R'",
        ));
    }
    if cmd_mode & EDIT_CMD_MASK_ASSIGN == 0 && (name.is_some() || gname.is_some()) {
        return Err(model_fatal(if cmd_mode & EDIT_CMD_MASK_ALL == 0 {
            "Cannot assign instance name or group without '-e assign'".to_string()
        } else {
            format!(
                "Cannot assign instance name or group with '-e {}'",
                edit_word(cmd_mode)
            )
        }));
    }
    if cmd_mode & EDIT_CMD_MASK_ALL != 0 {
        if cmd_mode == EDIT_CMD_ASSIGN && name.is_none() && gname.is_none() {
            return Err(model_fatal(format!(
                "Specify new instance name or group with '-e {}'",
                edit_word(cmd_mode)
            )));
        }
        if cmd_mode & !EDIT_CMD_MASK_ADD != 0 && has_args {
            return Err(model_fatal(format!(
                "Parameter overrides not valid with '-e {}'",
                edit_word(cmd_mode)
            )));
        }
    }
    if json && cmd_mode & ITER_CMD_LIST == 0 {
        return Err(model_fatal("JSON output available only with '-l'"));
    }
    let operands = operands.to_vec();
    let command = match cmd_mode {
        ITER_CMD_LIST => Command::Iterate {
            iteration: Iteration::List { json },
            selection,
            reverse,
        },
        ITER_CMD_POSTFIX => Command::Iterate {
            iteration: Iteration::Postfix(operands),
            selection,
            reverse,
        },
        ITER_CMD_GENERIC => Command::Iterate {
            iteration: Iteration::Exec(operands),
            selection,
            reverse,
        },
        EDIT_CMD_INIT => Command::Init,
        code => Command::Manage {
            action: EDIT_COMMANDS.iter().find(|e| e.1 == code).unwrap().2,
            selection,
            assignment: Assignment { name, group: gname },
            params: operands,
        },
    };
    Ok(Invocation { command, verbose })
}

/// A short name for an outcome, to group argv findings.
fn outcome_kind(r: &Result<Invocation, ParseError>) -> String {
    match r {
        Ok(i) => format!(
            "Ok({})",
            format!("{:?}", i.command)
                .split([' ', '{', '('])
                .next()
                .unwrap_or("")
        ),
        Err(ParseError::Usage(_)) => "usage".into(),
        Err(ParseError::Fatal(f)) => {
            let t = String::from_utf8_lossy(&f.0);
            format!("fatal \"{}\"", t.split('\'').next().unwrap_or(""))
        }
    }
}

/// An outcome with its messages as text.
fn show_outcome(r: &Result<Invocation, ParseError>) -> String {
    match r {
        Ok(i) => format!("{i:?}"),
        Err(ParseError::Usage(c)) => format!(
            "usage, after getopt's {:?}",
            c.as_ref().map(|c| String::from_utf8_lossy(c).into_owned())
        ),
        Err(ParseError::Fatal(f)) => format!("fatal: {}", String::from_utf8_lossy(&f.0)),
    }
}

fn check_argv(args: &[Vec<u8>]) -> Option<Finding> {
    let ours = command::parse(args);
    if command::parse(args) != ours {
        return finding("argv: parse is not deterministic", "");
    }
    if args.iter().any(|a| a.contains(&0)) {
        return None; // a real argv cannot hold NUL: no getopt to compare with
    }
    compared();
    let (seq, first_operand) = glibc_getopt(args);
    let expected = upstream_model(&seq, &args[first_operand.min(args.len())..]);
    if ours == expected {
        return None;
    }
    finding(
        format!(
            "argv: ours {} where upstream {}",
            outcome_kind(&ours),
            outcome_kind(&expected)
        ),
        format!(
            "ours:     {}\nupstream: {}\ngetopt {seq:?}, optind {first_operand}",
            show_outcome(&ours),
            show_outcome(&expected)
        ),
    )
}

// --- the native secondary reader against postconf --------------------------

/// A scratch configuration directory with Debian's stock master.cf.
fn scratch_dir() -> std::path::PathBuf {
    thread_local! {
        static DIR: std::path::PathBuf = {
            let d = std::env::temp_dir().join(format!(
                "pm-fuzz.{}.{:?}",
                std::process::id(),
                std::thread::current().id()
            ).replace(['(', ')'], ""));
            std::fs::create_dir_all(&d).unwrap();
            let master = stock_master_cf();
            std::fs::write(d.join("master.cf"), master).unwrap();
            backdate(&d.join("master.cf"));
            for (name, content) in CLIENT_FILES {
                std::fs::write(d.join(name), content).unwrap();
                backdate(&d.join(name));
            }
            d
        };
    }
    DIR.with(|d| d.clone())
}

/// Postfix waits before reading a file modified in the last second or so.
fn backdate(p: &std::path::Path) {
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(std::time::UNIX_EPOCH + Duration::from_secs(1_577_836_800))
        .unwrap();
}

/// Gives the calling thread a uts namespace of its own (once) and `host` as
/// its host name, which the native reader in this thread and the postconf
/// it starts both see.  Needs root, as the whole suite does.
fn use_host_name(host: &[u8]) {
    thread_local! {
        static OWN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if !OWN.with(|o| o.replace(true)) {
        // SAFETY: unshare(2) with CLONE_NEWUTS changes only this thread's
        // namespaces; no memory is involved.
        let rc = unsafe { nix::libc::unshare(nix::libc::CLONE_NEWUTS) };
        assert_eq!(rc, 0, "unshare(CLONE_NEWUTS): the fuzz tests need root");
    }
    use std::os::unix::ffi::OsStrExt;
    nix::unistd::sethostname(std::ffi::OsStr::from_bytes(host))
        .unwrap_or_else(|e| panic!("sethostname {}: {e}", lit(host)));
}

fn check_secondary(case: &Secondary) -> Option<Finding> {
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch_dir();
    let mut master = edited_master(&stock_master_cf(), case.files.master_edit);
    master.extend_from_slice(&case.master);
    // `@D@` stands for the directory, where the client files of
    // [`NAME_SPACE`] are.
    let at_dir = |text: &[u8]| {
        let d = dir.as_os_str().as_bytes();
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.windows(3).position(|w| w == b"@D@") {
            out.extend_from_slice(&rest[..at]);
            out.extend_from_slice(d);
            rest = &rest[at + 3..];
        }
        out.extend_from_slice(rest);
        out
    };
    write_secondary(&dir, &at_dir(&case.main), &at_dir(&master), &case.files);
    use_host_name(&case.host);
    let d = dir.as_os_str().as_bytes();
    let answer = native::native_answer(d);
    if answer != native::native_answer(d) {
        return finding("secondary: native reader not deterministic", "");
    }
    // Declining is always right: postmulti then runs postconf itself.
    let answer = answer?;
    let native = answer.stdout.clone();
    // The warnings the reader prints itself, as postmulti prints them.
    let warnings = warnings_of(&answer);
    compared();
    let out = postconf()
        .arg("-xc")
        .arg(&dir)
        .args(REQUESTED)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run postconf");
    if out.status.success() && out.stderr == warnings && out.stdout == native {
        return None;
    }
    // postconf names the directory it was given; the case is shown with DIR.
    let scrub = |b: &[u8]| String::from_utf8_lossy(b).replace(dir.to_str().unwrap(), "DIR");
    let detail = format!(
        "native:\n{}{}postconf (exit {:?}):\n{}{}",
        scrub(&native),
        scrub(&warnings),
        out.status.code(),
        scrub(&out.stdout),
        scrub(&out.stderr)
    );
    // Every kind fails the run; the kind only groups findings (one report
    // each) and tells the minimizer what to keep.
    let stderr = scrub(&out.stderr);
    let kind = if out.status.code().is_none() {
        "secondary: postconf dies of a signal where the native reader answers".to_string()
    } else if let Some(first) = stderr.lines().next() {
        // postconf's first complaint: its first three parts, without
        // quoted values, digits masked.
        let text = first.split('"').next().unwrap_or("");
        let parts: Vec<&str> = text.split(": ").skip(1).take(3).collect();
        let mut kind = String::from("secondary: native reader answers where postconf says: ");
        let mut digits = false;
        for c in parts.join(": ").trim_end().chars() {
            if c.is_ascii_digit() {
                if !digits {
                    kind.push('N');
                }
                digits = true;
            } else {
                kind.push(c);
                digits = false;
            }
        }
        kind
    } else if !out.status.success() {
        "secondary: native reader answers where postconf fails silently".to_string()
    } else {
        "secondary: native reader's values differ from postconf's".to_string()
    };
    finding(kind, detail)
}

/// Whether the reference's postconf and master.cf are there; if they are,
/// the native reader is set to the reference's table (the host's, or the
/// release's with POSTMULTI_REFERENCE).
/// Writes a secondary's main.cf and master.cf into `dir` as `files` says,
/// after removing what an earlier case left there.
fn write_secondary(dir: &std::path::Path, main: &[u8], master: &[u8], files: &Files) {
    use std::os::unix::fs::{symlink, PermissionsExt};
    for name in ["main.cf", "master.cf", "main.cf.real", "master.cf.real"] {
        let p = dir.join(name);
        if p.is_dir() && !p.is_symlink() {
            std::fs::remove_dir(&p).unwrap();
        } else {
            let _ = std::fs::remove_file(&p);
        }
    }
    let (main_at, master_at) = match files.layout {
        Layout::MainLink | Layout::MainAbsoluteLink => ("main.cf.real", "master.cf"),
        Layout::MasterLink => ("main.cf", "master.cf.real"),
        _ => ("main.cf", "master.cf"),
    };
    let write = |name: &str, data: &[u8], fresh: bool| {
        let p = dir.join(name);
        std::fs::write(&p, data).unwrap();
        if !fresh {
            backdate(&p);
        }
    };
    write(main_at, main, files.fresh_main);
    if let Some(mode) = files.main_mode {
        std::fs::set_permissions(dir.join(main_at), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    match files.layout {
        Layout::NoMaster => {}
        Layout::MasterDangling => symlink("nowhere", dir.join("master.cf")).unwrap(),
        Layout::MasterDirectory => std::fs::create_dir(dir.join("master.cf")).unwrap(),
        _ => write(master_at, master, files.fresh_master),
    }
    match files.layout {
        Layout::MainLink => symlink("main.cf.real", dir.join("main.cf")).unwrap(),
        Layout::MainAbsoluteLink => symlink(dir.join("main.cf.real"), dir.join("main.cf")).unwrap(),
        Layout::MasterLink => symlink("master.cf.real", dir.join("master.cf")).unwrap(),
        _ => {}
    }
}

fn postconf_available() -> bool {
    let there = reference_postconf::available();
    if there {
        use_reference_table();
    }
    there
}

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

const NAMES: &[&str] = &["a", "b", "c", "d", "x_1", "_", "A9"];
const BUILTINS: &[&str] = &[
    "config_directory",
    "queue_directory",
    "data_directory",
    "multi_instance_name",
    "multi_instance_group",
    "multi_instance_enable",
    "command_directory",
    "daemon_directory",
    "mail_name",
    "syslog_name",
    "html_directory",
    "meta_directory",
    "shlib_directory",
    "compatibility_level",
    "myhostname",
    "import_environment",
    "maillog_file",
    "inet_protocols",
    "inet_interfaces",
    "mail_owner",
    "mydomain",
    "default_database_type",
    "smtpd_recipient_limit",
    "syslog_name",
];
const TOKENS: &[&[u8]] = &[
    b"$",
    b"$$",
    b"${",
    b"$(",
    b"{",
    b"}",
    b"(",
    b")",
    b"?",
    b":",
    b"==",
    b"!=",
    b" ",
    b"\t",
    b"\n",
    b"\r",
    b"a",
    b"b",
    b"x",
    b"_",
    b"=",
    b",",
    b"#",
    b"<",
    b">",
    b"!",
    b"{{",
    b"}}",
    b"$a",
    b"${a}",
    b"$(b)",
    b"${a?x}",
    b"${b:y}",
    b"${a?{x}:{y}}",
    b"${{$a}=={x}?{t}:{f}}",
    b"${{a} != {b}}",
    b"\0",
    b"\xff",
    b"\xc3\xa9",
    b"\x80",
    b"${config_directory}",
    b"$multi_instance_name",
    b"${milter_mail_macros}",
    b"$milter_connect_macros",
    b"$process_id",
    b"${process_name}",
    b"$service_name",
    b"$(mynetworks)",
    b"${myhostname?{$mydomain}}",
    b"${{$process_name}=={postconf}?{a}:{b}}",
    b"{x}y",
    b"ldap",
    b":/x.cf",
    b"/var/spool/",
    b"yes",
    b"no",
];

fn gen_name(rng: &mut Rng, builtin_bias: bool) -> Vec<u8> {
    if rng.one_in(if builtin_bias { 6 } else { 30 }) {
        return rng.pick(braced_builtins()).as_bytes().to_vec();
    }
    if builtin_bias && !rng.one_in(4) {
        if rng.one_in(3) {
            return rng
                .pick(postmulti::defaults::table().names)
                .as_bytes()
                .to_vec();
        }
        return rng.pick(BUILTINS).as_bytes().to_vec();
    }
    match rng.below(12) {
        0 => rng.pick(BUILTINS).as_bytes().to_vec(),
        1 => {
            let n = 1 + rng.small(12);
            (0..n).map(|_| *rng.pick(b"abcxyz_019AZ")).collect()
        }
        _ => rng.pick(NAMES).as_bytes().to_vec(),
    }
}

fn gen_space(rng: &mut Rng) -> &'static [u8] {
    rng.bytes(&[b"", b"", b"", b" ", b"  ", b"\t", b" \t "])
}

/// Grammar-biased expansion text.
fn gen_expr(rng: &mut Rng, depth: usize, builtin_bias: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let parts = 1 + rng.small(4);
    for _ in 0..parts {
        let choice = if depth == 0 {
            rng.below(4)
        } else {
            rng.below(14)
        };
        match choice {
            0 => {
                let n = rng.small(8);
                for _ in 0..n {
                    out.push(*rng.pick(b"abc/xyz-._ 019"));
                }
            }
            1 => {
                out.push(b'$');
                out.extend(gen_name(rng, builtin_bias));
            }
            2 => out.extend_from_slice(rng.bytes(TOKENS)),
            3 => out.extend_from_slice(b"$$"),
            4 | 5 => {
                let (o, c) = if rng.one_in(3) {
                    (b'(', b')')
                } else {
                    (b'{', b'}')
                };
                out.push(b'$');
                out.push(o);
                out.extend(gen_name(rng, builtin_bias));
                out.push(c);
            }
            6 | 7 => {
                out.extend_from_slice(b"${");
                out.extend(gen_name(rng, builtin_bias));
                out.push(*rng.pick(b"?:"));
                out.extend(gen_expr(rng, depth - 1, builtin_bias));
                out.push(b'}');
            }
            8 | 9 => {
                out.extend_from_slice(b"${");
                out.extend(gen_name(rng, builtin_bias));
                out.extend_from_slice(gen_space(rng));
                out.extend_from_slice(b"?");
                out.extend_from_slice(gen_space(rng));
                out.push(b'{');
                out.extend(gen_expr(rng, depth - 1, builtin_bias));
                out.push(b'}');
                if !rng.one_in(3) {
                    out.extend_from_slice(gen_space(rng));
                    out.extend_from_slice(b":");
                    out.extend_from_slice(gen_space(rng));
                    out.push(b'{');
                    out.extend(gen_expr(rng, depth - 1, builtin_bias));
                    out.push(b'}');
                }
                out.extend_from_slice(gen_space(rng));
                out.push(b'}');
            }
            10 | 11 => {
                out.extend_from_slice(b"${");
                out.extend_from_slice(gen_space(rng));
                out.push(b'{');
                out.extend(gen_expr(rng, depth - 1, builtin_bias));
                out.push(b'}');
                out.extend_from_slice(gen_space(rng));
                out.extend_from_slice(rng.bytes(&[b"==", b"!=", b"==", b"!=", b"=", b"<>", b""]));
                out.extend_from_slice(gen_space(rng));
                out.push(b'{');
                out.extend(gen_expr(rng, depth - 1, builtin_bias));
                out.push(b'}');
                match rng.below(4) {
                    0 => {}
                    1 => {
                        out.extend_from_slice(b"?{");
                        out.extend(gen_expr(rng, depth - 1, builtin_bias));
                        out.push(b'}');
                    }
                    _ => {
                        out.extend_from_slice(b"?{");
                        out.extend(gen_expr(rng, depth - 1, builtin_bias));
                        out.extend_from_slice(b"}:{");
                        out.extend(gen_expr(rng, depth - 1, builtin_bias));
                        out.push(b'}');
                    }
                }
                out.push(b'}');
            }
            12 => {
                // Deep nesting of one shape.
                let n = rng.small(300);
                let (open, close): (&[u8], &[u8]) = *rng.pick(&[
                    (&b"${a:"[..], &b"}"[..]),
                    (b"${a?{", b"}}"),
                    (b"${{", b"}=={}}"),
                    (b"$(", b")"),
                    (b"{", b"}"),
                ]);
                for _ in 0..n {
                    out.extend_from_slice(open);
                }
                out.extend(gen_expr(rng, 0, builtin_bias));
                for _ in 0..n {
                    out.extend_from_slice(close);
                }
            }
            _ => {
                let n = 1 + rng.small(6);
                for _ in 0..n {
                    out.extend_from_slice(rng.bytes(TOKENS));
                }
            }
        }
    }
    out
}

fn gen_defs(rng: &mut Rng, builtin_bias: bool) -> Vec<(Vec<u8>, Def)> {
    let n = rng.small(7);
    let mut defs = Vec::new();
    for _ in 0..n {
        let name = gen_name(rng, builtin_bias);
        let def = if rng.one_in(10) {
            Def::Unknown
        } else if rng.one_in(8) {
            // A chain or a loop: name refers to another (or itself).
            let mut v = b"$".to_vec();
            v.extend(gen_name(rng, builtin_bias));
            Def::Value(v)
        } else {
            Def::Value(gen_expr(rng, 3, builtin_bias))
        };
        defs.push((name, def));
    }
    defs
}

fn gen_main_cf(rng: &mut Rng, builtin_bias: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let lines = rng.small(24);
    for _ in 0..lines {
        match rng.below(16) {
            0 => out.extend_from_slice(b"# a comment $with {stuff}"),
            1 => {}
            2 => out.extend_from_slice(gen_space(rng)),
            3 => {
                out.extend_from_slice(rng.bytes(&[b" ", b"\t", b"  "]));
                out.extend(gen_expr(rng, 2, builtin_bias));
            }
            4 => out.extend_from_slice(rng.bytes(&[
                b"=x",
                b"name",
                b"name value",
                b" = ",
                b"\0",
                b"n\0 = v",
                b"\xff = \xfe",
                b"  # indented comment",
            ])),
            5 if rng.one_in(8) => {
                // A long value.
                out.extend_from_slice(b"multi_instance_group = ");
                let n = 1000 + rng.small(64 * 1024);
                out.extend(std::iter::repeat_n(*rng.pick(b"g $"), n));
            }
            _ => {
                out.extend(gen_name(rng, builtin_bias));
                out.extend_from_slice(gen_space(rng));
                out.push(b'=');
                out.extend_from_slice(gen_space(rng));
                out.extend(gen_expr(rng, 3, builtin_bias));
                out.extend_from_slice(gen_space(rng));
            }
        }
        out.extend_from_slice(rng.bytes(&[b"\n", b"\n", b"\n", b"\r\n", b"\n\n"]));
    }
    if rng.one_in(4) {
        out.pop();
    }
    out
}

/// A secondary instance: main.cf, master.cf lines, host name.
fn gen_secondary(rng: &mut Rng) -> Secondary {
    let mut master = Vec::new();
    if rng.one_in(3) {
        for _ in 0..1 + rng.small(3) {
            master.extend(gen_master_entry(rng));
        }
    }
    if rng.one_in(6) {
        master.extend_from_slice(rng.bytes(NAME_SPACE_MASTER));
    }
    Secondary {
        main: gen_secondary_main(rng),
        master,
        host: if rng.one_in(8) {
            rng.pick(HOSTS).to_vec()
        } else {
            HOST.to_vec()
        },
        files: gen_files(rng),
    }
}

/// main.cf lines of postconf's name space (issue 25); `@D@` is the
/// instance's directory, which holds [`CLIENT_FILES`].
const NAME_SPACE: &[&[u8]] = &[
    b"relay_destination_concurrency_limit = 2\n",
    b"sub_destination_recipient_limit = 1\n",
    b"relay_transport_rate_delay = 1s\nhtml_directory = /x/$relay_transport_rate_delay\n",
    b"u1 = permit\nsmtpd_client_restrictions = $u1\n",
    b"u1 = permit\n",
    b"u1 = permit\nu2 = reject\n",
    b"u1 = 1\nhtml_directory = ${myhostname:$u1}\n",
    b"smtpd_restriction_classes = rc1, rc2\nrc1 = permit\nrc2 = reject\n",
    b"smtpd_restriction_classes = rc1\n",
    b"smtpd_restriction_classes = rc1\nrc1 = permit\n",
    b"milter_mail_macros = i {mail_addr} {client_addr}\n",
    b"virtual_alias_maps = inline:{ {a@x = b@x}, {c@x=d@x} }\n",
    b"virtual_alias_maps = pcre:{{/x/ mysql:@D@/valid-mysql.cf}}\n",
    b"virtual_alias_maps = proxy:mysql:@D@/valid-mysql.cf, sqlite:@D@/valid-sqlite.cf\n",
    b"virtual_alias_maps = proxy:pgsql:@D@/valid-pgsql.cf\nproxy_read_maps = $virtual_alias_maps\n",
    b"virtual_alias_maps = mysql:@D@/unknown-mysql.cf\n",
    b"virtual_alias_maps = mysql:@D@/dup-mysql.cf\n",
    b"virtual_alias_maps = mysql:@D@/missing.cf\n",
    b"virtual_alias_maps = mysql:@D@\n",
    b"virtual_alias_maps = ldap:@D@/valid-ldap.cf\n",
    b"u1 = @D@/valid-mysql.cf\nvirtual_alias_maps = mysql:$u1\n",
    b"virtual_alias_maps = mysql:pfx\npfx_hosts = h\n",
    b"virtual_alias_maps = mysql:pfx\npfx_bogus = h\n",
    b"virtual_alias_maps = mongodb:pfx\npfx_uri = x\n",
    b"smtpd_use_tls = yes\n",
    b"fallback_relay = [relay.example]\n",
    b"virtual_maps = hash:/etc/postfix/virtual\n",
    b"inet_protocols = all\ninet_protocols = ipv4\n",
    b"proxy_read_maps = $mynetworks $virtual_alias_maps\n",
];

/// master.cf entries of postconf's name space (issue 25).
const NAME_SPACE_MASTER: &[&[u8]] = &[
    b"sub unix - - n - - smtp\n",
    b"sub unix - n n - - pipe user=nobody argv=/bin/true\n",
    b"sub unix - - n - - smtp -o sub_destination_recipient_limit=3\n",
    b"sub inet n - y - - smtpd -o u1=permit -o smtpd_client_restrictions=$u1\n",
    b"sub inet n - y - - smtpd -o u1=permit\n",
    b"sub inet n - y - - smtpd -o smtpd_client_restrictions=$u1\n",
    b"sub inet n - y - - smtpd -o rc1=reject\n",
    b"sub inet n - y - - smtpd -o smtpd_restriction_classes=rc3 -o rc3=permit\n",
    b"sub inet n - y - - smtpd -o smtpd_sender_login_maps=proxy:mysql:@D@/valid-mysql.cf\n",
    b"sub inet n - y - - smtpd -o smtpd_sender_login_maps=mysql:@D@/missing.cf\n",
    b"sub inet n - y - - smtpd -o mynetworks_style=host -o inet_protocols=bogus\n",
];

/// Database client files in the fuzz directory: valid ones, one with a
/// name the client does not know, one that sets a name twice.
const CLIENT_FILES: &[(&str, &[u8])] = &[
    (
        "valid-mysql.cf",
        b"hosts = 127.0.0.1\nuser = mail\npassword = x\ndbname = mail\nquery = SELECT 1\n",
    ),
    (
        "valid-pgsql.cf",
        b"hosts = 127.0.0.1\nuser = mail\npassword = x\ndbname = mail\nquery = SELECT 1\n",
    ),
    ("valid-sqlite.cf", b"dbpath = /x.sqlite\nquery = SELECT 1\n"),
    (
        "valid-ldap.cf",
        b"server_host = ldap://127.0.0.1\nsearch_base = dc=x\n",
    ),
    ("unknown-mysql.cf", b"hosts = 127.0.0.1\nbogus = 1\n"),
    ("dup-mysql.cf", b"hosts = a\nhosts = b\n"),
];

/// Host names postconf takes, and some it refuses (numeric, misplaced dots
/// and hyphens, a label over 63 bytes, a byte it does not allow).
const HOSTS: &[&[u8]] = &[
    b"pm-fuzz-host",
    b"host.example",
    b"a.b.c.example",
    b"under_score",
    b"MiXeD.CaSe",
    b"x1",
    b"123",
    b"1.2.3.4",
    b"bad..host",
    b"-lead",
    b"trail-",
    b"dash-.dot",
    b".dot",
    b"a+b",
    b"l234567890123456789012345678901234567890123456789012345678901234",
];

/// compatibility_level values on both sides of compat_level_from_string's
/// limits.
const COMPAT_LEVELS: &[&[u8]] = &[
    b"0",
    b"2",
    b"3.6",
    b"3.1023",
    b"3.1024",
    b"3.6.1",
    b"3.6.1023",
    b"3.6.1024",
    b"8796093022207",
    b"8796093022208",
    b"99999999999999",
    b"03.06",
    b"+3",
    b"3.",
    b".3",
    b"3..6",
    b"-1",
    b"3.6.1.1",
];

/// Conditionals on the values postconf computes, in main.cf or in a
/// master.cf entry (service_name, process_name).
/// Each has the stray braces of a warning in one branch, both ways round:
/// the native reader must take the branch postconf takes.
const COMPUTED_CONDITIONALS: &[&[u8]] = &[
    b"${myhostname?{{a}b}:{c}}",
    b"${myhostname?{c}:{{a}b}}",
    b"${{$myhostname} == {pm-fuzz-host.localdomain}?{{a}b}:{c}}",
    b"${{$myhostname} != {pm-fuzz-host.localdomain}?{{a}b}:{c}}",
    b"${{$mydomain} == {example}?{{a}b}:{c}}",
    b"${{$mydomain} == {localdomain}?{c}:{{a}b}}",
    b"${mydomain:{{a}b}}",
    b"${mydomain?{c}}",
    b"${{$process_name} == {postconf}?{{a}b}:{c}}",
    b"${{$process_name} == {postconf}?{c}:{{a}b}}",
    b"${{$process_name} == {smtpd}?{{a}b}:{c}}",
    b"${{$process_name} == {smtp}?{c}:{{a}b}}",
    b"${process_id?{{a}b}:{c}}",
    b"${process_id?{c}:{{a}b}}",
    b"${{$process_id} > {1}?{{a}b}:{c}}",
    b"/x/$process_id/$process_name",
    b"${mynetworks?{{a}b}:{c}}",
    b"${mynetworks?{c}:{{a}b}}",
    b"${service_name?{{a}b}:{c}}",
    b"${service_name?{c}:{{a}b}}",
    b"${{$service_name} == {relay}?{{a}b}:{c}}",
    b"${{$service_name} == {sub}?{c}:{{a}b}}",
    b"${{$syslog_name} == {x}?{{a}b}:{c}}",
    b"${{$syslog_name} == {x}?{c}:{{a}b}}",
    b"${{$mail_name} == {Postfix}?{{a}b}:{c}}",
    b"${{$mail_name} == {Postfix}?{c}:{{a}b}}",
];

/// A master.cf entry: odd blanks between fields, braces, clustered and
/// trailing options, `--`, services that repeat, and `-o` values from the
/// expression generator and [`COMPUTED_CONDITIONALS`].
fn gen_master_entry(rng: &mut Rng) -> Vec<u8> {
    if !rng.one_in(4) {
        return gen_usual_master_entry(rng);
    }
    let mut fields: Vec<&[u8]> = vec![
        rng.bytes(&[
            b"sub",
            b"relay",
            b"relay",
            b"smtp",
            b"127.0.0.1:2525",
            b"}{",
            b"{a}",
            b"x{",
        ]),
        rng.bytes(&[
            b"inet",
            b"unix",
            b"unix",
            b"unix-dgram",
            b"fifo",
            b"pass",
            b"tcp",
        ]),
    ];
    for _ in 0..3 {
        fields.push(rng.bytes(&[b"n", b"-", b"y", b"-", b"yes"]));
    }
    fields.push(rng.bytes(&[b"-", b"60", b"60?", b"?", b"-?", b"x", b"--"]));
    fields.push(rng.bytes(&[b"-", b"1", b"0", b"-1", b"1?"]));
    fields.push(rng.bytes(&[
        b"smtpd",
        b"smtp",
        b"/usr/lib/postfix/sbin/smtpd",
        b"local",
        b"a/b/",
    ]));
    let mut out = Vec::new();
    let blank = |rng: &mut Rng| {
        rng.bytes(&[
            b" ", b" ", b" ", b"\t", b"  ", b"\x0b", b"\x0c", b"\r", b"\n ",
        ])
    };
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(blank(rng));
        }
        out.extend_from_slice(f);
    }
    for _ in 0..rng.small(5) {
        out.extend_from_slice(if rng.one_in(4) { b"\n  " } else { b" " });
        out.extend(gen_master_word(rng));
    }
    out.push(b'\n');
    out
}

/// A master.cf entry in the usual form, with `-o` settings of built-in
/// parameters (two entries often share a service and type).
fn gen_usual_master_entry(rng: &mut Rng) -> Vec<u8> {
    let mut out = rng
        .bytes(&[
            b"sub inet n - y - - smtpd",
            b"relay unix - - y - - smtp",
            b"relay unix - - n - - /usr/lib/postfix/sbin/smtp",
            b"tick unix n - y 60? 1 pickup",
        ])
        .to_vec();
    for _ in 0..rng.small(4) {
        out.extend_from_slice(rng.bytes(&[b" -o ", b"\n  -o ", b" -vo ", b" -o"]));
        out.extend_from_slice(rng.bytes(&[
            b"syslog_name",
            b"smtpd_tls_security_level",
            b"smtpd_sasl_auth_enable",
            b"content_filter",
            b"smtpd_client_restrictions",
            b"html_directory",
            b"mail_name",
            b"smtpd_banner",
        ]));
        out.push(b'=');
        match rng.below(3) {
            0 => out.extend_from_slice(rng.bytes(COMPUTED_CONDITIONALS)),
            1 => out.extend_from_slice(rng.bytes(&[
                b"postfix/sub",
                b"encrypt",
                b"yes",
                b"",
                b"permit_mynetworks,reject",
                b"${multi_instance_name?{$multi_instance_name}:{postfix}}/x",
                b"$myhostname-$mydomain",
            ])),
            _ => out.extend(gen_expr(rng, 2, true).into_iter().filter(|&b| !is_blank(b))),
        }
    }
    if rng.one_in(4) {
        out.extend_from_slice(rng.bytes(&[b" x -o syslog_name=x", b" -- -o mail_name=x", b" -v"]));
    }
    out.push(b'\n');
    out
}

/// A word (or two) after a master.cf entry's command.
fn gen_master_word(rng: &mut Rng) -> Vec<u8> {
    let setting = |rng: &mut Rng| {
        let mut s = gen_name(rng, true);
        s.push(b'=');
        match rng.below(4) {
            0 => s.extend_from_slice(rng.bytes(COMPUTED_CONDITIONALS)),
            1 => {
                s.extend_from_slice(rng.bytes(&[b"x", b"", b"yes", b"{a}", b"a}{)", b"$mail_name"]))
            }
            _ => s.extend(gen_expr(rng, 2, true).into_iter().filter(|&b| !is_blank(b))),
        }
        s
    };
    let mut w = Vec::new();
    match rng.below(12) {
        0..=4 => {
            w.extend_from_slice(rng.bytes(&[b"-o ", b"-o ", b"-o", b"-vo ", b"-Dvo"]));
            w.extend(setting(rng));
        }
        5 => w.extend_from_slice(rng.bytes(&[b"-v", b"-D", b"--", b"-", b"-o"])),
        6 => w.extend_from_slice(rng.bytes(&[b"x", b"argv=/bin/cat", b"${recipient}", b"{ a b }"])),
        7 => {
            w.extend_from_slice(b"-o { ");
            w.extend(setting(rng));
            w.extend_from_slice(b" }");
        }
        _ => {
            w.extend_from_slice(b"-o ");
            w.extend(setting(rng));
        }
    }
    w
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// A secondary main.cf biased toward what the native reader accepts.
fn gen_secondary_main(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    let lines = rng.small(8);
    for _ in 0..lines {
        if rng.one_in(12) {
            out.extend(gen_main_cf(rng, true));
            continue;
        }
        let name = gen_name(rng, true);
        out.extend_from_slice(&name);
        out.extend_from_slice(gen_space(rng));
        out.push(b'=');
        out.extend_from_slice(gen_space(rng));
        let value = match (name.as_slice(), rng.below(3)) {
            (b"compatibility_level", 0 | 1) => rng.pick(COMPAT_LEVELS).to_vec(),
            (_, 0) if rng.one_in(6) => rng.pick(COMPUTED_CONDITIONALS).to_vec(),
            (b"multi_instance_enable", 0) => rng
                .pick(&[&b"yes"[..], b"no", b"YES", b"No", b"maybe", b""])
                .to_vec(),
            (_, 0) => rng
                .bytes(&[
                    b"/var/spool/x",
                    b"/a b",
                    b"postfix-x",
                    b"g1, g2",
                    b"",
                    b"$config_directory/q",
                    b"yes",
                    b"no",
                    b"0",
                    b"100",
                    b"10s",
                    b"3.6",
                    b"2",
                    b"all",
                    b"ipv4",
                    b"loopback-only",
                    b"127.0.0.1",
                    b"[::1]",
                    b"192.0.2.77, [2001:db8::5]",
                    b"nosuch.invalid",
                    b"hash:/etc/aliases",
                    b"{ a b }",
                    b"{a}, {b}",
                    b"${a}{b}",
                    b"$myhostname",
                    b"localhost",
                    b"-1",
                    b"1d",
                    b"permit",
                    b"postfix",
                    b"root",
                    b"ldap",
                    b"mysql:/x.cf",
                    b"${mail_name}:/x.cf",
                    b"${milter_rcpt_macros}",
                    b"{$mail_name}",
                ])
                .to_vec(),
            _ => gen_expr(rng, 2, true),
        };
        out.extend(value);
        out.extend_from_slice(gen_space(rng));
        if rng.one_in(6) {
            out.extend_from_slice(b"\n ");
            out.extend(gen_expr(rng, 1, true));
        }
        out.push(b'\n');
    }
    // postconf's name space: service, user-defined, legacy and deprecated
    // parameters, restriction classes, braces, database client files.
    if rng.one_in(5) {
        out.extend_from_slice(rng.bytes(NAME_SPACE));
    }
    // mynetworks_style, valid and not, with and without mynetworks (the
    // style is checked only when mynetworks is unset).
    if rng.one_in(10) {
        let style = rng.bytes(&[
            b"host",
            b"subnet",
            b"class",
            b"HOST",
            b"Subnet",
            b"bogus",
            b"",
            b"host subnet",
            b"host,",
            b"${a}",
            b"$mynetworks",
            b"{host}",
        ]);
        out.extend_from_slice(b"mynetworks_style = ");
        out.extend_from_slice(style);
        out.push(b'\n');
        if rng.one_in(2) {
            out.extend_from_slice(b"mynetworks = 127.0.0.0/8\n");
        }
    }
    // Interface settings (tests/addresses/mod.rs): postconf checks
    // inet_interfaces against the host's interfaces when mynetworks is unset.
    // (One case in eight: most of them make postconf fail, and a case the
    // native reader declines is not compared.)
    if rng.one_in(8) {
        for (name, value) in addresses::interface_settings(&mut |n| rng.below(n)) {
            out.extend_from_slice(format!("{name} = {value}\n").as_bytes());
        }
    }
    out
}

fn gen_arg(rng: &mut Rng) -> Vec<u8> {
    match rng.below(10) {
        0..=4 => {
            let mut a = b"-".to_vec();
            let n = 1 + rng.small(4);
            for _ in 0..n {
                if rng.one_in(8) {
                    a.push(*rng.pick(b"z-:+?W;0\xff "));
                } else {
                    a.push(*rng.pick(b"aegiGIjlpRvx"));
                }
            }
            if rng.one_in(4) {
                a.extend(gen_value(rng));
            }
            a
        }
        5 => rng.pick(&[&b"--"[..], b"-", b"", b"---"]).to_vec(),
        _ => gen_value(rng),
    }
}

fn gen_value(rng: &mut Rng) -> Vec<u8> {
    match rng.below(8) {
        0..=2 => rng.pick(&ACTIONS).as_bytes().to_vec(),
        3 => rng
            .pick(&[
                &b"-"[..],
                b"postfix-a",
                b"a",
                b"/etc/postfix-a",
                b"g1",
                b"status",
                b"start",
                b"stop",
            ])
            .to_vec(),
        4 => rng
            .pick(&[
                &b"config_directory=/x"[..],
                b"queue_directory=/",
                b"a=b",
                b"=",
                b"x=",
            ])
            .to_vec(),
        5 => vec![*rng.pick(b"\xff\x80\x01 \t\0")],
        _ => {
            let n = rng.small(10);
            (0..n).map(|_| *rng.pick(b"abc-=/ 019\xe9")).collect()
        }
    }
}

fn gen_argv(rng: &mut Rng) -> Vec<Vec<u8>> {
    let n = rng.small(9);
    (0..n).map(|_| gen_arg(rng)).collect()
}

fn gen_case(rng: &mut Rng, target: usize) -> Case {
    match target {
        0 => Case::MainCf(gen_main_cf(rng, false)),
        1 => {
            let bias = rng.one_in(3);
            let text = gen_expr(rng, 4, bias);
            let bias = rng.one_in(3);
            Case::Expand {
                text,
                defs: gen_defs(rng, bias),
            }
        }
        2 => Case::WhiteSpace(gen_expr(rng, 2, false)),
        3 => Case::Argv(gen_argv(rng)),
        _ => Case::Secondary(gen_secondary(rng)),
    }
}

// ---------------------------------------------------------------------------
// Mutation
// ---------------------------------------------------------------------------

fn mutate_bytes(rng: &mut Rng, b: &mut Vec<u8>, donor: &[u8]) {
    let rounds = 1 + rng.small(6);
    for _ in 0..rounds {
        let len = b.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                b[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                b[i] = *rng.pick(b"${}()?:=! \t\n\r\0\xff#,ab");
            }
            2 => {
                let i = rng.below(len + 1);
                let t = rng.pick(TOKENS);
                b.splice(i..i, t.iter().copied());
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.small(len - i);
                b.drain(i..(i + n).min(len));
            }
            4 if len > 0 => {
                // Duplicate a slice (grows nesting and repetition).
                let i = rng.below(len);
                let n = 1 + rng.small((len - i).min(256));
                let piece: Vec<u8> = b[i..i + n.min(len - i)].to_vec();
                let most = if rng.one_in(10) { 200 } else { 4 };
                let times = 1 + rng.small(most);
                let at = rng.below(b.len() + 1);
                let rep: Vec<u8> = piece
                    .iter()
                    .copied()
                    .cycle()
                    .take(piece.len() * times)
                    .collect();
                b.splice(at..at, rep);
            }
            5 if !donor.is_empty() => {
                // Splice in part of another input.
                let i = rng.below(donor.len());
                let n = 1 + rng.small(donor.len() - i);
                let at = rng.below(len + 1);
                b.splice(at..at, donor[i..i + n].iter().copied());
            }
            6 if len > 0 => b.truncate(rng.below(len)),
            7 => {
                let i = rng.below(len + 1);
                b.insert(i, rng.next() as u8);
            }
            _ => {
                let i = rng.below(len + 1);
                b.splice(i..i, gen_expr(rng, 2, false));
            }
        }
        if b.len() > 128 * 1024 {
            b.truncate(128 * 1024);
        }
    }
}

fn mutate(rng: &mut Rng, c: &Case, donor: &Case) -> Case {
    let donor_bytes: Vec<u8> = match donor {
        Case::MainCf(d) | Case::WhiteSpace(d) => d.clone(),
        Case::Secondary(d) => [&d.main[..], &d.master[..]].concat(),
        Case::Expand { text, .. } => text.clone(),
        Case::Argv(a) => a.concat(),
    };
    match c {
        Case::MainCf(d) => {
            let mut d = d.clone();
            mutate_bytes(rng, &mut d, &donor_bytes);
            Case::MainCf(d)
        }
        Case::WhiteSpace(d) => {
            let mut d = d.clone();
            mutate_bytes(rng, &mut d, &donor_bytes);
            Case::WhiteSpace(d)
        }
        Case::Secondary(d) => {
            let mut d = d.clone();
            match rng.below(13) {
                0 => d.host = rng.pick(HOSTS).to_vec(),
                12 => d.files = gen_files(rng),
                1..=4 => {
                    mutate_bytes(rng, &mut d.master, &donor_bytes);
                    if rng.one_in(3) {
                        d.master.extend(gen_master_entry(rng));
                    }
                }
                _ => mutate_bytes(rng, &mut d.main, &donor_bytes),
            }
            Case::Secondary(d)
        }
        Case::Expand { text, defs } => {
            let (mut text, mut defs) = (text.clone(), defs.clone());
            match rng.below(4) {
                0 if !defs.is_empty() => {
                    let i = rng.below(defs.len());
                    if let Def::Value(v) = &mut defs[i].1 {
                        mutate_bytes(rng, v, &donor_bytes);
                    }
                }
                1 => defs.push((gen_name(rng, false), Def::Value(gen_expr(rng, 2, false)))),
                _ => mutate_bytes(rng, &mut text, &donor_bytes),
            }
            Case::Expand { text, defs }
        }
        Case::Argv(a) => {
            let mut a = a.clone();
            match rng.below(4) {
                0 => {
                    let i = rng.below(a.len() + 1);
                    a.insert(i, gen_arg(rng));
                }
                1 if !a.is_empty() => {
                    let i = rng.below(a.len());
                    a.remove(i);
                }
                _ if !a.is_empty() => {
                    let i = rng.below(a.len());
                    mutate_bytes(rng, &mut a[i], &donor_bytes);
                }
                _ => a.push(gen_arg(rng)),
            }
            Case::Argv(a)
        }
    }
}

// ---------------------------------------------------------------------------
// Minimization: drop parts and bytes while the same kind of finding stays.
// ---------------------------------------------------------------------------

fn minimize(case: &Case, kind: &str, budget: Duration) -> Case {
    let deadline = Instant::now() + budget;
    let same = |c: &Case| check(c).is_some_and(|f| f.kind == kind);
    let mut best = case.clone();
    let shrink_bytes = |b: &mut Vec<u8>, rebuild: &dyn Fn(&[u8]) -> Case| {
        // Whole lines first, then chunks of bytes.
        let mut i = 0;
        loop {
            let lines: Vec<&[u8]> = b.split_inclusive(|&c| c == b'\n').collect();
            if i >= lines.len() || Instant::now() >= deadline {
                break;
            }
            let t: Vec<u8> = lines
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .flat_map(|(_, l)| l.iter().copied())
                .collect();
            if same(&rebuild(&t)) {
                *b = t;
            } else {
                i += 1;
            }
        }
        let mut chunk = b.len().div_ceil(2).max(1);
        while chunk >= 1 && Instant::now() < deadline {
            let mut i = 0;
            let mut progress = false;
            while i < b.len() && Instant::now() < deadline {
                let mut t = b.clone();
                t.drain(i..(i + chunk).min(b.len()));
                if same(&rebuild(&t)) {
                    *b = t;
                    progress = true;
                } else {
                    i += chunk;
                }
            }
            if !progress {
                if chunk == 1 {
                    break;
                }
                chunk /= 2;
            }
        }
    };
    match &mut best {
        Case::MainCf(d) => shrink_bytes(d, &|t| Case::MainCf(t.to_vec())),
        Case::WhiteSpace(d) => shrink_bytes(d, &|t| Case::WhiteSpace(t.to_vec())),
        Case::Secondary(d) => {
            let base = d.clone();
            shrink_bytes(&mut d.main, &|t| {
                Case::Secondary(Secondary {
                    main: t.to_vec(),
                    ..base.clone()
                })
            });
            let base = d.clone();
            shrink_bytes(&mut d.master, &|t| {
                Case::Secondary(Secondary {
                    master: t.to_vec(),
                    ..base.clone()
                })
            });
            let plain = Secondary {
                host: HOST.to_vec(),
                ..d.clone()
            };
            if same(&Case::Secondary(plain.clone())) {
                *d = plain;
            }
            let plain = Secondary {
                files: Files::default(),
                ..d.clone()
            };
            if same(&Case::Secondary(plain.clone())) {
                *d = plain;
            }
        }
        Case::Argv(args) => {
            let mut i = 0;
            while i < args.len() {
                let mut t = args.clone();
                t.remove(i);
                if same(&Case::Argv(t.clone())) {
                    *args = t;
                } else {
                    i += 1;
                }
            }
            for i in 0..args.len() {
                let others = args.clone();
                let mut a = args[i].clone();
                shrink_bytes(&mut a, &|t| {
                    let mut v = others.clone();
                    v[i] = t.to_vec();
                    Case::Argv(v)
                });
                args[i] = a;
            }
        }
        Case::Expand { text, defs } => {
            let mut i = 0;
            while i < defs.len() {
                let mut t = defs.clone();
                t.remove(i);
                if same(&Case::Expand {
                    text: text.clone(),
                    defs: t.clone(),
                }) {
                    *defs = t;
                } else {
                    i += 1;
                }
            }
            let d = defs.clone();
            shrink_bytes(text, &|t| Case::Expand {
                text: t.to_vec(),
                defs: d.clone(),
            });
            for i in 0..defs.len() {
                if let Def::Value(v) = &defs[i].1 {
                    let mut v = v.clone();
                    let (tx, ds) = (text.clone(), defs.clone());
                    shrink_bytes(&mut v, &|t| {
                        let mut ds = ds.clone();
                        ds[i].1 = Def::Value(t.to_vec());
                        Case::Expand {
                            text: tx.clone(),
                            defs: ds,
                        }
                    });
                    defs[i].1 = Def::Value(v);
                }
            }
        }
    }
    best
}

// ---------------------------------------------------------------------------
// The driver
// ---------------------------------------------------------------------------

/// A cheap outcome signature: inputs with a new one join the corpus.
fn signature(case: &Case) -> Option<String> {
    let first_word = |b: &[u8]| -> String {
        let s = String::from_utf8_lossy(b);
        s.split([':', '"'])
            .next()
            .unwrap_or("")
            .chars()
            .take(40)
            .collect()
    };
    Some(match case {
        Case::MainCf(d) => {
            let mut w = Vec::new();
            match MainCf::parse(b"p", d, &[], &mut w) {
                Ok(cf) => format!("ok {} {}", cf.params.len().min(4), w.len().min(3)),
                Err(e) => {
                    // "/x/main.cf, line N: WHY: ..." -> WHY
                    let why = e.splitn(3, |&c| c == b':').nth(1).unwrap_or(b"");
                    format!("err {}", first_word(why))
                }
            }
        }
        Case::Expand { text, defs } => {
            let (r, asked) = run_expand(text, defs);
            let scan = referenced_names(text).map(|n| n.len().min(3));
            let r = match r {
                Ok(v) => format!("ok {}", v.len().min(3)),
                Err(ExpandError::Syntax(w)) => {
                    format!(
                        "syntax {} {}",
                        w.len().min(3),
                        w.first().map(|w| first_word(w)).unwrap_or_default()
                    )
                }
                Err(ExpandError::Unknown(_)) => "unknown".into(),
                Err(ExpandError::Fatal(w, _)) => format!("fatal {}", w.len().min(3)),
            };
            format!(
                "{r} asked {} scan {:?}",
                asked.len().min(4),
                scan.map_err(|_| ())
            )
        }
        Case::WhiteSpace(_) => return None,
        Case::Argv(a) => {
            let r = command::parse(a);
            match r {
                Ok(i) => format!("ok {:?}", std::mem::discriminant(&i.command)),
                Err(ParseError::Usage(u)) => {
                    format!("usage {}", first_word(&u.unwrap_or_default()))
                }
                Err(ParseError::Fatal(f)) => format!("fatal {}", first_word(&f.0)),
            }
        }
        Case::Secondary(_) => return None,
    })
}

fn seeds() -> Vec<Case> {
    let e = |t: &[u8]| Case::Expand {
        text: t.to_vec(),
        defs: vec![
            (b"a".to_vec(), Def::Value(b"1".to_vec())),
            (b"b".to_vec(), Def::Value(b"$a$a".to_vec())),
            (b"e".to_vec(), Def::Value(Vec::new())),
            (b"loop".to_vec(), Def::Value(b"x$loop".to_vec())),
            (b"myhostname".to_vec(), Def::Unknown),
        ],
    };
    let argv = |a: &[&str]| Case::Argv(a.iter().map(|s| s.as_bytes().to_vec()).collect());
    vec![
        Case::MainCf(b"a = x\n   b\n# c\n\n \t\n   d\nq=1\n".to_vec()),
        Case::MainCf(b"  leading = 1\ng = 2\na = 1\na = 2\n=x\n".to_vec()),
        Case::MainCf(b"n\xff = v\xfe\r\nx = \0y\n".to_vec()),
        e(b"x$a/${a}/$(a)/$b"),
        e(b"$$a ${nope}z ${a}}"),
        e(b"${a?yes} ${e?yes} ${e:no} ${a?x:y}"),
        e(b"${a?{ yes }:{no}} ${u?{yes}:{ no}}"),
        e(b"${{$a} == {1}?{eq}:{ne}} ${{$a} != {1}?{eq}:{ne}}"),
        e(b"${a == b ?{x}:{y}} x$ ${a"),
        e(b"$loop"),
        e(b"x$myhostname"),
        Case::WhiteSpace(b"a =  x \t y  ".to_vec()),
        argv(&["-lifoo"]),
        argv(&["-x", "ls", "-l"]),
        argv(&["-p", "--", "-v"]),
        argv(&["-e", "create", "-I", "postfix-a", "-G", "g", "-i", "b", "queue_directory=/q"]),
        argv(&["-I", "a", "-I", "b", "-z"]),
        argv(&["-e", "Init"]),
        argv(&["-lvvR", "-a", "-a"]),
        secondary(b"multi_instance_name = postfix-a\nmulti_instance_enable = yes\nqueue_directory = /var/spool/postfix-a\n"),
        secondary(b"multi_instance_group = ${multi_instance_name?{$multi_instance_name}:{none}}\ndata_directory = $config_directory/d\n"),
        // What `postmulti -e create` makes, with master.cf entries and host
        // names the native reader answers.
        secondary(b"queue_directory = /var/spool/postfix-a\ndata_directory = /var/lib/postfix-a\nmulti_instance_name = postfix-a\nmulti_instance_enable = yes\nsmtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)\ncompatibility_level = 3.7\nmynetworks = 127.0.0.0/8\ndebugger_command = PATH=/bin ddd $daemon_directory/$process_name $process_id & sleep 5\n"),
        Case::Secondary(Secondary {
            main: b"multi_instance_name = postfix-b\ncompatibility_level = 3.1023.1023\n".to_vec(),
            master: b"sub inet n - y - - smtpd -vo syslog_name=postfix/sub -o smtpd_banner=${{$service_name}=={sub}?{x}:{y}}\nrelay unix - - y - - smtp -o syslog_name=r\nrelay unix - - y - - smtp -o html_directory=${{$syslog_name}=={r}?{a}:{b}} -- -o x=1\n".to_vec(),
            host: HOST.to_vec(),
            files: Files::default(),
        }),
        Case::Secondary(Secondary {
            main: b"html_directory = ${{$mydomain}=={example}?{x}:{y}}\nmyorigin = $mydomain\n".to_vec(),
            master: b"sub inet n - y - - /usr/lib/postfix/sbin/smtpd -o smtpd_banner=${{$process_name}=={smtpd}?{a}:{{b}c}}\n".to_vec(),
            host: b"host.example".to_vec(),
            files: Files::default(),
        }),
    ]
    .into_iter()
    // The regression rows: their neighbourhood is where the next finding is.
    .chain(SECONDARY_ROWS.iter().map(|(main, master, _)| {
        Case::Secondary(Secondary {
            main: main.to_vec(),
            master: master.to_vec(),
            host: HOST.to_vec(),
            files: Files::default(),
        })
    }))
    .collect()
}

/// Shares of time per target: maincf, expand, whitespace, argv, secondary.
const SHARES: [f64; 5] = [0.15, 0.25, 0.05, 0.15, 0.40];

#[derive(Default)]
struct Report {
    execs: u64,
    per_target: [u64; 5],
    /// Executions compared with an oracle: argv with getopt and upstream's
    /// checks (argv without NUL), secondary with postconf (main.cf files
    /// the native reader answers; it declines the others, which is always
    /// right).
    compared: [u64; 5],
    corpus: usize,
    /// kind -> (minimized case, detail, count)
    findings: HashMap<String, (String, String, u64)>,
}

impl Report {
    fn print(&self, secs: f64) -> String {
        let mut s = format!(
            "fuzz: {} executions in {:.0} s ({:.0}/s; maincf {}, expand {}, whitespace {}, argv {} ({} compared with getopt), secondary {} ({} compared with postconf)), corpus {}\n",
            self.execs, secs, self.execs as f64 / secs.max(0.001),
            self.per_target[0], self.per_target[1], self.per_target[2], self.per_target[3],
            self.compared[3], self.per_target[4], self.compared[4],
            self.corpus
        );
        if self.findings.is_empty() {
            s.push_str("fuzz: no findings\n");
        } else {
            writeln!(s, "fuzz: {} kinds of findings", self.findings.len()).unwrap();
        }
        let mut kinds: Vec<_> = self.findings.iter().collect();
        kinds.sort_by(|a, b| a.0.cmp(b.0));
        for (kind, (case, detail, n)) in kinds {
            writeln!(
                s,
                "fuzz: FOUND {kind} ({n}x)\n  minimal input: {case}\n  {}",
                detail.replace('\n', "\n  ")
            )
            .unwrap();
        }
        s
    }
}

/// How long a run lasts.
#[derive(Clone, Copy)]
enum Budget {
    /// Wall-clock time, shared between targets by `SHARES` of time.
    Time(Duration),
    /// This many executions of each target, interleaved in a fixed order:
    /// the same inputs, in the same order, on every machine.
    Executions([u64; 5]),
}

/// Runs the fuzzer from `seed` within `budget`.
fn fuzz(seed: u64, budget: Budget) -> Report {
    let duration = match budget {
        Budget::Time(d) => d,
        Budget::Executions(_) => Duration::from_secs(3600),
    };
    install_panic_hook();
    assert!(
        postconf_available(),
        "{POSTCONF} and {} are needed (Debian's postfix of the reference): \
         the native reader is fuzzed against them",
        reference_postconf::STOCK_MASTER_CF
    );
    let report = Arc::new(Mutex::new(Report::default()));
    let current: Arc<Mutex<Option<Case>>> = Arc::new(Mutex::new(None));
    let done = Arc::new(AtomicBool::new(false));

    // Watchdog: one execution must not take more than 20 s.
    let watchdog = {
        let (current, done) = (current.clone(), done.clone());
        std::thread::spawn(move || {
            let mut last = (u64::MAX, Instant::now());
            while !done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(200));
                let h = HEARTBEAT.load(Ordering::SeqCst);
                if h != last.0 {
                    last = (h, Instant::now());
                } else if last.1.elapsed() > Duration::from_secs(20) {
                    let c = current.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    // Straight to the process's stderr: the test harness's
                    // capture of eprintln! dies with the abort.
                    use std::io::Write as _;
                    let _ = writeln!(
                        std::io::stderr(),
                        "fuzz: FOUND an execution that does not terminate (20 s):\n  {}",
                        c.as_ref().map(show_case).unwrap_or_default()
                    );
                    std::process::abort();
                }
            }
        })
    };

    let worker = {
        let (report, current) = (report.clone(), current.clone());
        std::thread::Builder::new()
            .name("fuzz".into())
            .stack_size(STACK)
            .spawn(move || {
                let mut rng = Rng::new(seed);
                let mut corpus: Vec<Vec<Case>> = vec![Vec::new(); 5];
                for s in seeds() {
                    let t = match s {
                        Case::MainCf(_) => 0,
                        Case::Expand { .. } => 1,
                        Case::WhiteSpace(_) => 2,
                        Case::Argv(_) => 3,
                        Case::Secondary(_) => 4,
                    };
                    corpus[t].push(s);
                }
                let mut seen: HashSet<String> = HashSet::new();
                let mut spent = [Duration::ZERO; 5];
                let start = Instant::now();
                let shares = SHARES;
                let mut done = [0u64; 5];
                while start.elapsed() < duration {
                    let t = match budget {
                        // The target furthest behind its share of time.
                        Budget::Time(_) => (0..5)
                            .filter(|&i| shares[i] > 0.0)
                            .min_by(|&a, &b| {
                                let ka = spent[a].as_secs_f64() / shares[a];
                                let kb = spent[b].as_secs_f64() / shares[b];
                                ka.partial_cmp(&kb).unwrap()
                            })
                            .unwrap(),
                        // The target furthest behind its count.
                        Budget::Executions(counts) => {
                            let left = (0..5).filter(|&i| done[i] < counts[i]).min_by(|&a, &b| {
                                let ka = done[a] as f64 / counts[a] as f64;
                                let kb = done[b] as f64 / counts[b] as f64;
                                ka.partial_cmp(&kb).unwrap()
                            });
                            match left {
                                Some(t) => t,
                                None => break,
                            }
                        }
                    };
                    let batch = if t == 4 { 1 } else { 64 };
                    done[t] += batch;
                    let t0 = Instant::now();
                    for _ in 0..batch {
                        let case = if corpus[t].is_empty() || rng.one_in(2) {
                            gen_case(&mut rng, t)
                        } else {
                            let base = corpus[t][rng.below(corpus[t].len())].clone();
                            let donor = corpus[t][rng.below(corpus[t].len())].clone();
                            mutate(&mut rng, &base, &donor)
                        };
                        *current.lock().unwrap_or_else(|e| e.into_inner()) = Some(case.clone());
                        let f = check(&case);
                        let mut rep = report.lock().unwrap_or_else(|e| e.into_inner());
                        rep.execs += 1;
                        rep.per_target[t] += 1;
                        rep.compared[t] += u64::from(COMPARED.with(|c| c.get()));
                        if let Some(f) = f {
                            if let Some(e) = rep.findings.get_mut(&f.kind) {
                                e.2 += 1;
                            } else {
                                drop(rep);
                                let small = minimize(
                                    &case,
                                    &f.kind,
                                    match budget {
                                        Budget::Time(d) => (d / 10).min(Duration::from_secs(30)),
                                        Budget::Executions(_) => Duration::from_secs(2),
                                    },
                                );
                                let detail = check(&small).map_or(f.detail.clone(), |g| g.detail);
                                let mut rep = report.lock().unwrap_or_else(|e| e.into_inner());
                                rep.findings
                                    .insert(f.kind.clone(), (show_case(&small), detail, 1));
                            }
                        } else if let Some(sig) =
                            guarded("signature", || signature(&case)).ok().flatten()
                        {
                            let key = format!("{t} {sig}");
                            if seen.insert(key) && corpus[t].len() < 5000 {
                                corpus[t].push(case);
                                rep.corpus += 1;
                            }
                        }
                    }
                    spent[t] += t0.elapsed();
                }
            })
            .unwrap()
    };
    let r = worker.join();
    done.store(true, Ordering::SeqCst);
    let _ = watchdog.join();
    if let Err(e) = r {
        std::panic::resume_unwind(e);
    }
    cleanup_scratch();
    Arc::try_unwrap(report)
        .ok()
        .expect("worker done")
        .into_inner()
        .unwrap()
}

fn cleanup_scratch() {
    let prefix = format!("pm-fuzz.{}.", std::process::id());
    if let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

#[test]
fn fuzz_short() {
    let t = Instant::now();
    // maincf, expand, whitespace, argv, secondary: ~10 s unoptimized.
    let budget = [16_000, 16_000, 16_000, 64_000, 400];
    let report = fuzz(0x5eed_0001, Budget::Executions(budget));
    let text = report.print(t.elapsed().as_secs_f64());
    eprint!("{text}");
    assert!(
        report.findings.is_empty(),
        "the fuzzer found something:\n{text}"
    );
    // Every target ran its share, and a fair part of each oracle's share
    // was compared with it (none of it may be switched off quietly).
    assert_eq!(report.per_target, budget, "{text}");
    assert!(report.compared[3] * 2 > budget[3], "argv: {text}");
    // (The secondary cases include hostile master.cf lines, refused host
    // names and compatibility levels on purpose: about a sixth of them is
    // answered natively and so compared; 59 of 400 with this seed once the
    // expander knew all of mac_expand's operators, which changes which
    // inputs the corpus keeps.)
    assert!(report.compared[4] * 8 > budget[4], "secondary: {text}");
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=600 cargo test --release --test fuzz -- --ignored --nocapture"]
fn fuzz_long() {
    let secs: u64 = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("fuzz: seed {seed} (FUZZ_SEED={seed} repeats this run), {secs} s");
    let t = Instant::now();
    let report = fuzz(seed, Budget::Time(Duration::from_secs(secs)));
    let text = report.print(t.elapsed().as_secs_f64());
    print!("{text}");
    assert!(
        report.findings.is_empty(),
        "the fuzzer found something:\n{text}"
    );
    assert!(report.per_target.iter().all(|&n| n > 0), "{text}");
    assert!(report.compared[3] > 0 && report.compared[4] > 0, "{text}");
}

// ---------------------------------------------------------------------------
// The argv target against the C binary.
// ---------------------------------------------------------------------------

/// Environments a case runs in: MAIL_CONFIG (the default directory, with
/// a slash more, another directory, empty) and MAIL_VERBOSE.
const ARGV_ENVIRONMENTS: &[&str] = &[
    "",
    "",
    "",
    "MAIL_CONFIG=/etc/postfix ",
    "MAIL_CONFIG=/etc/postfix/ ",
    "MAIL_CONFIG=/etc/postfix-a ",
    "MAIL_CONFIG= ",
    "MAIL_VERBOSE=1 ",
];

/// Commands for `-x` that change nothing.
const SAFE_EXEC: &[&[&str]] = &[
    &["true"],
    &["false"],
    &["sh", "-c", "exit 3"],
    &["/nonexistent"],
    &["nonexistent-command"],
    &["printenv", "MAIL_CONFIG"],
    &[
        "sh",
        "-c",
        "echo \"$multi_instance_name:$multi_instance_group:$multi_instance_enable:$MAIL_VERBOSE:$MAIL_LOGTAG\"",
    ],
];

/// Commands for `-p` (postfix COMMAND) that change nothing: no master
/// daemon runs.
const SAFE_POSTFIX: &[&[&str]] = &[&["status"], &["nosuch"], &["reload"], &["stop"], &["flush"]];

/// A word for bash that is exactly these bytes (no NUL): `$'\xHH...'`.
fn bash_bytes(b: &[u8]) -> String {
    let mut s = String::from("$'");
    for byte in b {
        write!(s, "\\x{byte:02x}").unwrap();
    }
    s.push('\'');
    s
}

/// The argv generator's command lines run by the reference's postmulti (the
/// C binary) and by ours, side by side, in a sandbox with a primary alone:
/// ARGV_C_CASES of them (default 300) from ARGV_C_SEED (default fixed; both
/// are printed), each in one of [`ARGV_ENVIRONMENTS`].  Command lines that
/// our parser refuses, that list (`-l`), and `-x` and `-p` with one of
/// [`SAFE_EXEC`], [`SAFE_POSTFIX`] in place of their operands run; `-e`
/// that our parser takes does not (it edits files, and the cases run in
/// parallel in one sandbox: life-cycle commands are lifecycle.rs's).  `-j` before 3.11 is ours alone (the README's
/// additions), so those command lines run only against 3.11.  Each case's
/// exit status, stdout and stderr (a pty: before 3.11 postmulti writes
/// diagnostics only to a terminal) must be the same on both sides.
#[test]
fn argv_against_the_c_binary() {
    let seed = env_number("ARGV_C_SEED", 0x5eed_a4c0);
    let wanted = env_number("ARGV_C_CASES", 300) as usize;
    eprintln!("argv against the C binary: ARGV_C_SEED={seed} ARGV_C_CASES={wanted}");
    let json_is_ours = !common::reference_at_least(3, 11);
    let mut rng = Rng::new(seed);
    let mut cases: Vec<String> = Vec::new();
    let (mut refused, mut listed, mut ran) = (0, 0, 0);
    let mut seen = HashSet::new();
    for _ in 0..wanted * 50 {
        if cases.len() == wanted {
            break;
        }
        let mut args = gen_argv(&mut rng);
        // One in two with a `-l`, `-x` or `-p` somewhere: most of the
        // generator's own are refused.
        if rng.one_in(2) {
            let at = rng.below(args.len() + 1);
            args.insert(at, rng.pick(&["-l", "-x", "-p"]).as_bytes().to_vec());
        }
        let environment = *rng.pick(ARGV_ENVIRONMENTS);
        if args.iter().any(|a| a.contains(&0)) {
            continue;
        }
        // -x and -p run their command on the primary: one of a few that
        // change nothing, in place of the generated operands.
        let iterates = |args: &[Vec<u8>]| match command::parse(args) {
            Ok(Invocation {
                command: Command::Iterate { iteration, .. },
                ..
            }) => Some(iteration),
            _ => None,
        };
        let safe: Option<&[&str]> = match iterates(&args) {
            Some(Iteration::Exec(_)) => Some(*rng.pick(SAFE_EXEC)),
            Some(Iteration::Postfix(_)) => Some(*rng.pick(SAFE_POSTFIX)),
            _ => None,
        };
        if let Some(command) = safe {
            let first_operand = glibc_getopt(&args).1.min(args.len());
            args.truncate(first_operand);
            args.extend(command.iter().map(|w| w.as_bytes().to_vec()));
        }
        let kind = match (command::parse(&args), iterates(&args)) {
            (Err(_), _) => &mut refused,
            (_, Some(Iteration::List { .. })) => &mut listed,
            (_, Some(_)) => &mut ran,
            _ => continue,
        };
        if json_is_ours && glibc_getopt(&args).0.contains(&Ok((b'j', None))) {
            continue;
        }
        if !seen.insert((args.clone(), environment)) {
            continue;
        }
        *kind += 1;
        let words: Vec<String> = args.iter().map(|a| bash_bytes(a)).collect();
        cases.push(format!("{environment}postmulti {}", words.join(" ")));
    }
    assert_eq!(cases.len(), wanted, "the generator ran dry");
    let mut script = String::from("mkdir /tmp/c /tmp/o\n");
    for (n, case) in cases.iter().enumerate() {
        writeln!(script, "cat > /tmp/c/{n} <<'CASE'\n{case}\nCASE").unwrap();
    }
    // 48 workers (a fatal error costs the reference a second's sleep), each
    // with a pty and without syslog (/dev/null over /dev/log: the records
    // of parallel runs would come in any order).
    script.push_str(
        r#"cat > /tmp/loop <<'EOF'
for n in $(cat /tmp/todo.$1); do
  echo "@@ $n"
  bash /tmp/c/$n > /tmp/o/$n.out
  echo "exit $?"
done
EOF
ls /tmp/c | awk '{ print > ("/tmp/todo." ($1 % 48)) }'
one() {
  unshare -m sh -c "mount --bind /dev/null /dev/log 2>/dev/null; exec script -qec 'bash /tmp/loop $1' /dev/null" > /tmp/pty.$1 2>&1
}
export -f one
ls /tmp/todo.* | sed 's/.*\.//' | xargs -P 48 -I{} bash -c 'one {}'
cat /tmp/pty.* | tr -d '\r' | awk '/^@@ / { if (f) close(f); f = "/tmp/o/" $2 ".err"; next } { print > f }'
for n in $(ls /tmp/c | sort -n); do
  echo "== $(cat /tmp/c/$n)"
  cat /tmp/o/$n.out /tmp/o/$n.err
done
"#,
    );
    let c = Scenario::new()
        .timeout(Duration::from_secs(600))
        .run_shell(&script);
    c.assert_same().assert_status(0);
    let out = c.reference().stdout_str();
    let count = |prefix: &str| out.lines().filter(|l| l.starts_with(prefix)).count();
    let summary = format!(
        "{} cases ({refused} refused by ours, {listed} listing, {ran} running -x or -p); the reference: {} exit 0, {} exit 1",
        count("== "),
        count("exit 0"),
        count("exit 1")
    );
    eprintln!("argv against the C binary: {summary}");
    // Every case ran, and both kinds are there.
    assert_eq!(count("== "), wanted, "{summary}\n{out}");
    assert!(
        count("exit 0") > 0 && listed > 0 && ran > 0,
        "{summary}\n{out}"
    );
    assert!(count("exit 1") > wanted / 2, "{summary}\n{out}");
}

// ---------------------------------------------------------------------------
// Targeted properties: deep nesting is an error, not a stack overflow.
// ---------------------------------------------------------------------------

/// Runs `f` on a thread with the binary's main-thread stack.
fn with_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

fn nested(open: &str, inner: &str, close: &str, n: usize) -> Vec<u8> {
    format!("{}{inner}{}", open.repeat(n), close.repeat(n)).into_bytes()
}

fn syntax_error(r: &Result<Vec<u8>, ExpandError>) -> bool {
    matches!(r, Err(ExpandError::Syntax(_)))
}

#[test]
fn deep_textual_nesting_is_an_error_at_any_depth() {
    with_stack(|| {
        let defs = vec![
            (b"a".to_vec(), Def::Value(b"1".to_vec())),
            (b"e".to_vec(), Def::Value(Vec::new())),
        ];
        // (open, inner, close, whether upstream's 100-level limit applies:
        // logical operands are expanded afresh, with the level count at 0,
        // so only the stricter recursion bound stops those.)
        let shapes = [
            ("${e:", "x", "}", true),
            ("${a?{", "x", "}}", true),
            ("${e?{x}:", "y", "}", true),
            ("$(e:", "x", ")", true),
            ("${{", "x", "}=={}}", false),
            ("${{x}=={", "x", "}}", false),
        ];
        for (open, inner, close, limited) in shapes {
            for n in [150, 1_001, 5_000] {
                if n == 150 && !limited {
                    continue;
                }
                let text = nested(open, inner, close, n);
                let (r, _) = run_expand(&text, &defs);
                assert!(syntax_error(&r), "{open}..{close} x{n}: {r:?}");
                assert!(
                    matches!(referenced_names(&text), Err(ExpandError::Syntax(_))),
                    "scan of {open}..{close} x{n}"
                );
            }
        }
    });
}

#[test]
fn self_reference_and_long_chains_are_errors() {
    with_stack(|| {
        let v = |s: &str| Def::Value(s.as_bytes().to_vec());
        for value in [
            "$a",
            "${a}",
            "$(a)",
            "x$a",
            "$a x",
            "${a?$a}",
            "${a?{$a}}",
            "${{$a}=={}}",
            "${{}=={$a}?{x}}",
        ] {
            let (r, _) = run_expand(b"$a", &[(b"a".to_vec(), v(value))]);
            assert!(syntax_error(&r), "a = {value}: {r:?}");
        }
        // a1 = $a2, ..., aN = deep
        for n in [1_000, 10_000] {
            let mut defs: Vec<(Vec<u8>, Def)> = (1..n)
                .map(|i| (format!("a{i}").into_bytes(), v(&format!("$a{}", i + 1))))
                .collect();
            defs.push((format!("a{n}").into_bytes(), v("deep")));
            let (r, _) = run_expand(b"$a1", &defs);
            assert!(syntax_error(&r), "chain of {n}: {r:?}");
        }
        // Mutual recursion through logical operands, which start a fresh
        // level count upstream (and crash Debian's postmulti: see hostile.rs).
        let (r, _) = run_expand(
            b"$a",
            &[
                (b"a".to_vec(), v("${{$b}=={}}")),
                (b"b".to_vec(), v("${{$a}=={}}")),
            ],
        );
        assert!(syntax_error(&r), "{r:?}");
    });
}

#[test]
fn chains_within_the_limit_expand() {
    let v = |s: &str| Def::Value(s.as_bytes().to_vec());
    // 100 levels of $name: upstream's mac_expand accepts these (see hostile.rs).
    let n = 100;
    let mut defs: Vec<(Vec<u8>, Def)> = (1..n)
        .map(|i| (format!("a{i}").into_bytes(), v(&format!("$a{}", i + 1))))
        .collect();
    defs.push((format!("a{n}").into_bytes(), v("deep")));
    let (r, _) = run_expand(b"$a1", &defs);
    assert_eq!(r, Ok(b"deep".to_vec()));
}

#[test]
fn argv_extremes_parse_or_fail_cleanly() {
    with_stack(|| {
        let big = vec![b'v'; 1 << 20];
        let mut cluster = b"-l".to_vec();
        cluster.extend_from_slice(&big);
        let r = command::parse(&[cluster]);
        assert_eq!(r.map(|i| i.verbose), Ok(1 << 20));
        let many: Vec<Vec<u8>> = std::iter::repeat_n(b"-a".to_vec(), 100_000)
            .chain([b"-l".to_vec()])
            .collect();
        assert!(command::parse(&many).is_ok());
        let r = command::parse(&[b"-x".to_vec(), vec![0xff; 1 << 20]]);
        assert!(r.is_ok());
        for args in [
            vec![],
            vec![vec![]],
            vec![b"-".to_vec()],
            vec![b"--".to_vec(); 3],
        ] {
            assert!(matches!(command::parse(&args), Err(ParseError::Fatal(_))));
        }
    });
}

// ---------------------------------------------------------------------------
// Regression tests for what the fuzzer found (minimized inputs).
// ---------------------------------------------------------------------------

/// Found by the `expand` name-subset property. `referenced_names` does not
/// list names that appear only inside the operands of `{..} == {..}`, so the
/// native secondary reader believes such a main.cf refers to no undefined
/// name. postconf warns about it (`undefined parameter: nosuch`), and
/// Debian's postmulti passes that warning on; ours stays silent (see
/// hostile.rs, `secondary_undefined_name_inside_logical_operand`).
#[test]
fn regression_referenced_names_misses_logical_operands() {
    let names = referenced_names(b"${{$nosuch} == {}?{g}:{h}}").unwrap();
    assert_eq!(names, vec![b"nosuch".to_vec()]);
}

/// Upstream's mac_expand counts literal text as a nesting level too
/// (mac_expand_callback runs for literals and checks `level++ > 100`), so
/// the literal at the end of a chain of 101 `$name`s is one level too deep.
/// Debian's postmulti fails on such a primary main.cf, ours expands it (see
/// hostile.rs, `primary_chain_101_deep`).
#[test]
fn regression_literal_text_counts_as_a_nesting_level() {
    let v = |s: &str| Def::Value(s.as_bytes().to_vec());
    let n = 101;
    let mut defs: Vec<(Vec<u8>, Def)> = (1..n)
        .map(|i| (format!("a{i}").into_bytes(), v(&format!("$a{}", i + 1))))
        .collect();
    defs.push((format!("a{n}").into_bytes(), v("deep")));
    let (r, _) = run_expand(b"$a1", &defs);
    assert_eq!(
        r,
        Err(ExpandError::Syntax(vec![
            b"unreasonable macro call nesting: \"deep\"".to_vec()
        ]))
    );
    // a = x$a: upstream warns about the literal "x", then about "a".
    let (r, _) = run_expand(b"$a", &[(b"a".to_vec(), v("x$a"))]);
    assert_eq!(
        r,
        Err(ExpandError::Syntax(vec![
            b"unreasonable macro call nesting: \"x\"".to_vec(),
            b"unreasonable macro call nesting: \"a\"".to_vec(),
        ]))
    );
}

/// A row's line in the reference's words: 3.10 and later name a
/// secondary's main.cf and master.cf by their path (`cf_name`), and FIRST
/// is the number of the first line after the reference's stock master.cf.
fn in_reference_words(line: &str, stock: &[u8]) -> String {
    let first = stock.iter().filter(|&&b| b == b'\n').count() + 1;
    let line = line.replace("FIRST", &first.to_string());
    for file in ["main.cf", "master.cf"] {
        if let Some(rest) = line.strip_prefix(&format!("warning: {file}")) {
            return format!("warning: {}{rest}", common::cf_name(&format!("DIR/{file}")));
        }
    }
    line
}

/// What postconf says about a regression row's directory.
#[derive(Clone, Copy, Debug)]
enum Said {
    /// Its exit status and first line on stderr (DIR for the directory,
    /// without the "/usr/sbin/postconf: " prefix; 3.7's words, see
    /// [`in_reference_words`]).
    Exit(i32, &'static str),
    /// Exit and first line as in `Exit` on releases before (major, minor);
    /// quiet and successful from that release on.
    Before((u32, u32), i32, &'static str),
    /// Quiet and successful before (major, minor); exit and first line as
    /// in `Exit` from that release on.
    From((u32, u32), i32, &'static str),
    /// It dies of a signal (a stack overflow).
    Signal,
    /// It fails or warns, in words that depend on the host.
    Host,
}

/// Minimized secondary configurations on which `postconf -xc DIR ...` fails
/// or warns, found by the native-reader-against-postconf property while the
/// native reader still answered them itself (so postmulti listed an
/// instance that Debian's postmulti refuses, or left out postconf's
/// warning): (main.cf, text appended to Debian's master.cf, what postconf
/// says). `native` must hand each to postconf wherever the reference's
/// postconf complains about it; the fuzz runs start from the
/// main.cf rows too. hostile.rs and list.rs have the side-by-side
/// consequences for a few of them.
const SECONDARY_ROWS: &[(&[u8], &[u8], Said)] = &[
    // Two entries of one name space, the setting in the second: postconf
    // warns once (the first entry has no name space yet), the native
    // reader, which prints such warnings itself, once too (seed 2025).
    (
        b"",
        b"sub inet n - y - - s\nsub inet n - y - - d -o1=",
        Said::Exit(0, "warning: DIR/master.cf: unused parameter: 1="),
    ),
    // A value that does not expand, in a parameter postmulti never asks for.
    (
        b"default_database_type=${default_database_type}\n",
        b"",
        Said::Exit(
            1,
            "warning: unreasonable macro call nesting: \"default_database_type\"",
        ),
    ),
    (
        b"html_directory = ${x\n",
        b"",
        Said::Exit(1, "warning: truncated macro reference: \"${x\""),
    ),
    // ... or whose expansion recurses through a logical operand: postconf
    // dies of a stack overflow (Debian's postmulti then reports it).
    (
        b"html_directory = ${{$html_directory}=={}}\n",
        b"",
        Said::Signal,
    ),
    // postconf validates these whenever it runs (computing the defaults
    // of mynetworks and of the local addresses).
    (
        b"inet_protocols = bogus\n",
        b"",
        Said::Exit(
            1,
            "fatal: unknown inet_protocols value \"bogus\" in \"bogus\"",
        ),
    ),
    // (DNS: "host not found" here, something else elsewhere.)
    (b"inet_interfaces = postfix-x.invalid\n", b"", Said::Host),
    (
        b"inet_interfaces = 0.0.0.2\n",
        b"",
        Said::Exit(
            1,
            "fatal: parameter inet_interfaces: no local interface found for 0.0.0.2",
        ),
    ),
    // Only the whole value "all" (lower case) means every interface;
    // anywhere else it is a host name.
    (b"inet_interfaces = ALL\n", b"", Said::Host),
    (b"inet_interfaces = all, 127.0.0.1\n", b"", Said::Host),
    (
        b"inet_interfaces = [127.0.0.1], 2001:db8::dead\n",
        b"",
        Said::Exit(
            1,
            "fatal: parameter inet_interfaces: no local interface found for 2001:db8::dead",
        ),
    ),
    (
        b"inet_interfaces = ::ffff:127.0.0.1\n",
        b"",
        Said::Exit(
            1,
            "fatal: parameter inet_interfaces: no local interface found for ::ffff:127.0.0.1",
        ),
    ),
    (
        b"inet_protocols = IPv4\n",
        b"",
        Said::Exit(
            1,
            "fatal: unknown inet_protocols value \"IPv4\" in \"IPv4\"",
        ),
    ),
    (
        b"mynetworks_style = bogus\n",
        b"",
        Said::Exit(
            1,
            "fatal: unknown mynetworks mask style value \"bogus\" in \"bogus\"",
        ),
    ),
    (
        b"compatibility_level =\n",
        b"",
        Said::Exit(1, "warning: malformed compatibility level syntax: \"\""),
    ),
    // ... and parses every value, expanded, for {} groups ...
    (
        b"multi_instance_group = {}}\n",
        b"",
        Said::Exit(0, "warning: main.cf: syntax error after '}' in \"{}}\""),
    ),
    (
        b"multi_instance_group = {\n",
        b"",
        Said::Exit(0, "warning: main.cf: missing '}' in \"{\""),
    ),
    // ... whose braces may come from a built-in default
    // (milter_mail_macros = i {auth_type} ... {mail_mailer}) ...
    (
        b"html_directory = ${milter_mail_macros}y\n",
        b"",
        Said::Exit(
            0,
            "warning: main.cf: syntax error after '}' in \"{mail_mailer}y\"",
        ),
    ),
    (
        b"",
        b"sub inet n - y - - smtpd -o html_directory=${milter_mail_macros}y\n",
        Said::Exit(
            0,
            "warning: master.cf:sub/inet: syntax error after '}' in \"{mail_mailer}y\"",
        ),
    ),
    // ... or from the text of a taken branch ...
    (
        b"html_directory = ${mail_name?{{x}y}}\n",
        b"",
        Said::Exit(0, "warning: main.cf: syntax error after '}' in \"{x}y\""),
    ),
    // ... and for database clients, whose configuration files it opens
    // (/proc/0 exists on no Linux host, so the words do not depend on it).
    (
        b"mail_name = ldap\nhtml_directory = $mail_name:/proc/0/x\n",
        b"",
        Said::Exit(
            0,
            "warning: open \"ldap\" configuration \"/proc/0/x\": No such file or directory",
        ),
    ),
    // ... and assignments to read-only parameters.
    (
        b"process_id = 1\n",
        b"",
        Said::Exit(
            0,
            "warning: DIR/main.cf: read-only parameter assignment: process_id=1",
        ),
    ),
    // Found when exactness.rs and this file first ran against 3.10 and
    // 3.11 (issue 26): a `#` after other text (here after a CR, which
    // postconf takes for white space) and a deprecated parameter make
    // their postconf warn, where 3.7's is quiet.
    (
        b"data_directory = /x\r# c\n",
        b"",
        Said::From(
            (3, 10),
            0,
            "warning: DIR/main.cf: #comment after other text is not allowed: # c...",
        ),
    ),
    (
        b"smtp_tls_per_site =\n",
        b"",
        Said::From(
            (3, 10),
            0,
            "warning: DIR/main.cf: support for parameter \"smtp_tls_per_site\" will be removed; instead, specify \"smtp_tls_policy_maps\"",
        ),
    ),
    // (3.11 no longer warns about service_name: the native reader hands it
    // to postconf all the same, which is never wrong.)
    (
        b"service_name = x\n",
        b"",
        Said::Before(
            (3, 11),
            0,
            "warning: DIR/main.cf: read-only parameter assignment: service_name=x",
        ),
    ),
    // ... and the restriction classes it names.
    (
        b"smtpd_restriction_classes = nosuchclass\n",
        b"",
        Said::Exit(0, "warning: DIR/main.cf: undefined parameter: nosuchclass"),
    ),
    // mydomain's default is what follows the first dot of myhostname,
    // expanded once more.
    (
        b"myhostname = a.$$c\n",
        b"",
        Said::Exit(0, "warning: DIR/main.cf: undefined parameter: c"),
    ),
    (
        b"myhostname = a.b$$\n",
        b"",
        Said::Exit(0, "warning: empty macro name: \"b$\""),
    ),
    // An undefined name that only a logical operand mentions.
    (
        b"shlib_directory = ${{$x_1}=={}}\n",
        b"",
        Said::Exit(0, "warning: DIR/main.cf: undefined parameter: x_1"),
    ),
    // With a host name that has no dot (as the check runs it), myhostname's
    // default is "host.$mydomain", expanded again.
    (
        b"mydomain = $$b\n",
        b"",
        Said::Exit(0, "warning: DIR/main.cf: undefined parameter: b"),
    ),
    // Found by this fuzzer's master.cf entries against the reader before
    // it split master.cf as postconf does (issue 18): a `{` that swallows
    // the rest of the entry (line FIRST: the first after Debian's
    // master.cf, 138 on Debian 12)
    // ...
    (
        b"",
        b"$\xf5{y unix - - n - - /",
        Said::Exit(1, "fatal: file DIR/master.cf: line FIRST: bad field count"),
    ),
    // ... and a clustered -vo whose setting has no name.
    (
        b"",
        b"b inet n - y - - s -vo{{{{}{}}}={${?{}}}}\n",
        Said::Exit(0, "warning: DIR/master.cf: undefined parameter: "),
    ),
];

/// Host names postconf refuses when main.cf does not set myhostname, found
/// by this fuzzer against the reader before it checked the host name:
/// (host name, postconf's first line).  Each comes with "fatal: unable to
/// use my own hostname".
const HOST_ROWS: &[(&[u8], &str)] = &[
    (
        b"l234567890123456789012345678901234567890123456789012345678901234",
        "warning: valid_hostname: hostname label too long: \
         l234567890123456789012345678901234567890123456789012345678901234",
    ),
    (
        b"bad..host",
        "warning: valid_hostname: misplaced delimiter: bad..host",
    ),
    (b"-lead", "warning: valid_hostname: misplaced hyphen: -lead"),
    (
        b"1.2.3.4",
        "warning: valid_hostname: numeric hostname: 1.2.3.4",
    ),
];

/// Each row of `SECONDARY_ROWS` (on [`HOST`]) and of `HOST_ROWS`: postconf
/// still says what the row says, and the native reader hands the directory
/// to postconf.
#[test]
fn regression_native_reader_defers_to_postconf() {
    use std::os::unix::ffi::OsStrExt;
    assert!(
        postconf_available(),
        "{POSTCONF} and {} are needed (Debian's postfix of the reference)",
        reference_postconf::STOCK_MASTER_CF
    );
    let stock = stock_master_cf();
    let mut wrong = Vec::new();
    let rows = SECONDARY_ROWS
        .iter()
        .map(|&(main, master, said)| (main, master, HOST, said))
        .chain(
            HOST_ROWS
                .iter()
                .map(|&(host, line)| (&b""[..], &b""[..], host, Said::Exit(1, line))),
        );
    for (main_cf, master_extra, host, said) in rows {
        let dir = tempfile::Builder::new()
            .prefix("pm-fuzz-regr.")
            .tempdir()
            .unwrap();
        let mut master = stock.clone();
        master.extend_from_slice(master_extra);
        for (name, data) in [("main.cf", main_cf), ("master.cf", &master[..])] {
            std::fs::write(dir.path().join(name), data).unwrap();
            backdate(&dir.path().join(name));
        }
        // In a uts namespace whose host name is the row's (HOST has no dot,
        // so that myhostname's default is "NAME.$mydomain" on every host);
        // the native reader below sees the same.
        use_host_name(host);
        let out = postconf()
            .arg("-xc")
            .arg(dir.path())
            .args(REQUESTED)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr)
            .replace(dir.path().to_str().unwrap(), "DIR")
            .replace(&format!("{POSTCONF}: "), "");
        let first = stderr.lines().next().unwrap_or("");
        let shown = format!(
            "{} + master.cf {} on host {}",
            lit(main_cf),
            lit(master_extra),
            lit(host)
        );
        match said {
            Said::Exit(code, line) => assert!(
                out.status.code() == Some(code) && first == in_reference_words(line, &stock),
                "postconf no longer says what the row says about {shown}: exit {:?}, {stderr}",
                out.status.code()
            ),
            Said::Before((major, minor), code, line)
                if !common::reference_at_least(major, minor) =>
            {
                assert!(
                    out.status.code() == Some(code) && first == in_reference_words(line, &stock),
                    "postconf no longer says what the row says about {shown}: exit {:?}, {stderr}",
                    out.status.code()
                )
            }
            Said::From((major, minor), code, line) if common::reference_at_least(major, minor) => {
                assert!(
                    out.status.code() == Some(code) && first == in_reference_words(line, &stock),
                    "postconf no longer says what the row says about {shown}: exit {:?}, {stderr}",
                    out.status.code()
                )
            }
            Said::Before(..) | Said::From(..) => assert!(
                out.status.success() && out.stderr.is_empty(),
                "postconf of this release is not quiet about {shown}: exit {:?}, {stderr}",
                out.status.code()
            ),
            Said::Signal => assert!(
                out.status.code().is_none(),
                "postconf no longer dies of a signal on {shown}: exit {:?}, {stderr}",
                out.status.code()
            ),
            Said::Host => assert!(
                !(out.status.success() && out.stderr.is_empty()),
                "postconf is quiet about {shown} on this host"
            ),
        }
        // An answer with warnings must be postconf's, stdout and stderr.
        if let Some(answer) = native::native_answer(dir.path().as_os_str().as_bytes()) {
            let warnings = warnings_of(&answer);
            if !answer.warnings.is_empty()
                && (out.stdout != answer.stdout || out.stderr != warnings || !out.status.success())
            {
                wrong.push(format!(
                    "{shown}: the native reader's warnings differ from postconf's: {}",
                    String::from_utf8_lossy(&warnings)
                ));
            }
        }
        // Where this release's postconf is quiet, the native reader may
        // answer, with postconf's very output.
        let quiet = out.status.success() && out.stderr.is_empty();
        if let Some(text) = native::native(dir.path().as_os_str().as_bytes())
            .filter(|text| !(quiet && *text == out.stdout))
        {
            wrong.push(format!(
                "{shown} (postconf, exit {:?}: {}) read natively as:\n{}",
                out.status.code(),
                stderr.trim_end().replace('\n', " / "),
                String::from_utf8_lossy(&text)
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "the native reader answers where postconf complains (or otherwise):\n{}",
        wrong.join("\n")
    );
}
