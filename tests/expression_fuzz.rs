//! The expression fuzzer: mac_expand's whole grammar, ours against the real
//! `postconf -xh -c DIR` on the same main.cf: the host's, or with
//! POSTMULTI_REFERENCE=RELEASE that of the release's root (chrooted).
//!
//! The generator ([`gen_expr`]) covers every operator (`==` `!=` `<` `<=`
//! `>` `>=`, with and without the `level` suffix, and operators Postfix
//! rejects), operands of digits with leading zeros, numbers beyond a long,
//! compatibility levels good and bad, `$name`, `${name}`, `$(name)`,
//! `${ name }`, `?`/`:` in every form, nesting, malformed and truncated
//! `${...}`/`$(...)`, stray braces, `$$`, undefined names and names that
//! refer to each other (recursion).  Every case is a main.cf, and is checked
//! two ways:
//!
//! * the primary path (`primary::evaluate`, what postmulti computes for its
//!   own parameters): the value (as postconf prints it, white space
//!   normalized), the warnings, and the exit status.  postconf first scans
//!   every main.cf value (MAC_EXP_FLAG_SCAN), in an order of its own, and
//!   warns about each syntax error it finds there; so its warnings must be
//!   those scan warnings (as a multiset, predicted with `referenced_names`)
//!   followed by ours in order, then `fatal: macro processing error`
//!   (postmulti says `fatal: dictionary mail_dict: macro processing error`)
//!   or mac_exp_eval's own fatal error.  Its `undefined parameter` and
//!   `unused parameter` warnings are postconf's own and are set aside.
//! * the native reader of secondaries (`native::native`, on a main.cf whose
//!   names are all built-ins): when it answers, `postconf -xc DIR` must
//!   print exactly that and nothing on stderr.
//!
//! * `expression_fuzz_short`: a fixed seed, a fixed number of cases, in
//!   `cargo test` (and so in .ci/run).
//! * `expression_fuzz_long` (ignored): runs for $EXPR_FUZZ_SECONDS
//!   (default 60) from $EXPR_FUZZ_SEED (default: the clock):
//!   `EXPR_FUZZ_SECONDS=600 cargo test --release --test expression_fuzz -- --ignored --nocapture`
//!
//! Any disagreement fails the run, printed with its main.cf.  A finding is
//! fixed in the product and its input becomes a row of [`REGRESSIONS`].

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::reference_root;
mod splitmix;
use splitmix::Rng;

use postmulti::expand::{referenced_names, ExpandError};
use postmulti::instance::REQUESTED;
use postmulti::maincf::MainCf;
use postmulti::native;
use postmulti::primary;

const POSTCONF: &str = "/usr/sbin/postconf";
const STOCK_MASTER_CF: &str = "/usr/share/postfix/master.cf.dist";

/// Names for the primary path: user-defined ones (some left undefined),
/// and built-ins with known defaults.
const USER_NAMES: &[&str] = &[
    "a",
    "b",
    "c",
    "d",
    "u",
    "x_1",
    "mail_name",
    "compatibility_level",
    "config_directory",
];

/// Built-in names for the native reader (a user-defined name sends it to postconf).
const BUILTIN_NAMES: &[&str] = &[
    "html_directory",
    "readme_directory",
    "sample_directory",
    "manpage_directory",
    "mail_name",
    "smtpd_banner",
    "config_directory",
];

const OPERATORS: &[&str] = &[
    "==", "!=", "<", "<=", ">", ">=", "==", "<", ">=", "=", "<>", "===", "=<", "!", "=>", "?", "",
];

const SUFFIXES: &[&str] = &["", "", "", "level", "level", "levelx", "lvl", "1"];

const OPERANDS: &[&str] = &[
    "",
    "0",
    "00",
    "1",
    "01",
    "001",
    "1000",
    "01000",
    "10",
    "9",
    "2",
    "-1",
    "+2",
    " 3",
    "3 ",
    "3.6",
    "3.06",
    "3.1023",
    "3.1024",
    "3.6.1",
    "3.6.1024",
    "3.",
    ".3",
    "3..1",
    "2.x",
    "a",
    "b",
    "true",
    "abc",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999",
    "8796093022207",
    "8796093022208",
];

const SOUP: &[&str] = &[
    "$", "$$", "${", "$(", "{", "}", "(", ")", "?", ":", "==", "<", " ", "\t", "a", "}{", "{{",
    "}}", "${a", "$(a", "${{", "x", "0",
];

struct Gen<'n> {
    rng: Rng,
    names: &'n [&'static str],
}

impl Gen<'_> {
    fn name(&mut self) -> String {
        self.rng.word(self.names).to_string()
    }

    fn space(&mut self) -> &'static str {
        self.rng.word(&["", "", "", " ", "  ", "\t", " \t "])
    }

    /// A `{...}` operand, or (rarely) something that is not one.
    fn braced(&mut self, depth: usize) -> String {
        let inner = self.expr(depth);
        match self.rng.below(12) {
            0 => inner,
            1 => format!("{{{inner}"),
            _ => format!("{}{{{inner}}}{}", self.space(), self.space()),
        }
    }

    /// An operand of a relational expression.
    fn operand(&mut self, depth: usize) -> String {
        match self.rng.below(5) {
            0 | 1 => self.rng.word(OPERANDS).to_string(),
            2 => format!("${}", self.name()),
            3 => format!("{}{}", self.rng.word(OPERANDS), self.expr(depth)),
            _ => self.expr(depth),
        }
    }

    fn relational(&mut self, depth: usize) -> String {
        let (l, r) = (self.operand(depth), self.operand(depth));
        let op = self.rng.word(OPERATORS);
        let suffix = self.rng.word(SUFFIXES);
        let (s1, s2, s3) = (self.space(), self.space(), self.space());
        let head = format!("{s1}{{{l}}}{s2}{op}{suffix}{s3}{{{r}}}");
        let tail = self.tail(depth);
        format!("${{{head}{tail}}}")
    }

    /// What may follow a name or a relational expression.
    fn tail(&mut self, depth: usize) -> String {
        let s = self.space();
        match self.rng.below(9) {
            0 | 1 => String::new(),
            2 => format!("{s}?{}", self.braced(depth)),
            3 => format!("{s}:{}", self.braced(depth)),
            4 | 5 => format!("{s}?{}:{}", self.braced(depth), self.braced(depth)),
            6 => format!("?{}", self.expr(depth)),
            7 => format!(":{}", self.expr(depth)),
            _ => format!("{s}?{}:{}x", self.braced(depth), self.braced(depth)),
        }
    }

    fn reference(&mut self, depth: usize) -> String {
        let name = self.name();
        match self.rng.below(8) {
            0 | 1 => format!("${name}"),
            2 => format!("${{{name}}}"),
            3 => format!("$({name})"),
            4 => format!("${{{}{name}{}}}", self.space(), self.space()),
            5 => format!("$({name}{})", self.tail(depth)),
            6 => format!("${{{name} b}}"),
            _ => format!("${{{name}{}}}", self.tail(depth)),
        }
    }

    fn soup(&mut self) -> String {
        (0..1 + self.rng.below(6))
            .map(|_| self.rng.word(SOUP))
            .collect()
    }

    /// Expansion text: literals, references, conditionals, comparisons,
    /// and now and then something malformed or cut short.
    fn expr(&mut self, depth: usize) -> String {
        let mut out = String::new();
        for _ in 0..1 + self.rng.below(3) {
            let part = match (depth, self.rng.below(10)) {
                (0, _) | (_, 0) => self
                    .rng
                    .word(&["x", "0", "01", "a b", "", "$$", "10"])
                    .to_string(),
                (_, 1..=3) => self.relational(depth - 1),
                (_, 4..=7) => self.reference(depth - 1),
                (_, 8) => self.soup(),
                _ => {
                    let t = self.relational(depth - 1);
                    t[..self.rng.below(t.len() + 1)].to_string()
                }
            };
            out.push_str(&part);
        }
        out
    }

    /// A main.cf: TARGET = an expression, and definitions of some names.
    fn main_cf(&mut self, target: &str) -> String {
        let mut text = format!("{target} = {}\n", self.expr(3));
        for _ in 0..self.rng.below(4) {
            let name = self.name();
            // postconf checks compatibility_level itself when it starts.
            if name == "config_directory" || name == "compatibility_level" || name == target {
                continue;
            }
            let value = match self.rng.below(4) {
                0 => self.rng.word(OPERANDS).to_string(),
                1 => format!("${}", self.name()),
                _ => self.expr(2),
            };
            text.push_str(&format!("{name} = {value}\n"));
        }
        text
    }
}

/// A scratch configuration directory with Debian's stock master.cf (the
/// reference release's).
fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pm-exprfuzz.{}.{tag}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let stock = match reference_root() {
        Some(root) => root.join(STOCK_MASTER_CF.trim_start_matches('/')),
        None => PathBuf::from(STOCK_MASTER_CF),
    };
    let master = std::fs::read(stock).expect("Debian's postfix is needed");
    std::fs::write(d.join("master.cf"), master).unwrap();
    backdate(&d.join("master.cf"));
    d
}

/// Postfix waits before reading a file modified in the last second or so.
fn backdate(p: &Path) {
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(std::time::UNIX_EPOCH + Duration::from_secs(1_577_836_800))
        .unwrap();
}

struct Postconf {
    status: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// stderr lines without "postconf: " and without postconf's own
    /// undefined/unused parameter warnings.
    warnings: Vec<String>,
}

/// Warnings of postconf's own, about names and about the `{...}` words in
/// values it checks (postmulti has neither).
const POSTCONF_ONLY: &[&str] = &[
    ": undefined parameter: ",
    ": unused parameter: ",
    ": missing '}' in ",
    ": syntax error after '}' in ",
];

/// `postconf -c DIR`: the host's, or (POSTMULTI_REFERENCE) the release
/// root's, chrooted there in a private mount namespace where DIR's parent
/// (the temporary directory) is bound at its own path, so that
/// config_directory is the same on both sides (the cached root itself is
/// left alone).
fn postconf_in(dir: &Path) -> Command {
    let Some(root) = reference_root() else {
        let mut c = Command::new(POSTCONF);
        c.arg("-c").arg(dir);
        return c;
    };
    let mut c = Command::new("unshare");
    c.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg(format!(
            "dir=$1 root=$2; shift 2; mount --bind \"${{dir%/*}}\" \"$root${{dir%/*}}\" && exec chroot \"$root\" {POSTCONF} -c \"$dir\" \"$@\""
        ))
        .arg("sh")
        .arg(dir)
        .arg(root);
    c
}

fn postconf(dir: &Path, args: &[&str]) -> Postconf {
    let out = postconf_in(dir)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run postconf");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warnings = stderr
        .lines()
        .filter(|l| !POSTCONF_ONLY.iter().any(|w| l.contains(w)))
        .map(|l| {
            l.split_once("postconf: ")
                .map_or(l, |(_, rest)| rest)
                .to_string()
        })
        .collect();
    Postconf {
        status: out.status.code(),
        stdout: out.stdout,
        stderr: out.stderr,
        warnings,
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A warning as Postfix prints it: what a terminal should not see is '?'.
fn shown(w: &[u8]) -> String {
    format!("warning: {}", text(&postmulti::msg::printable(w)))
}

/// What the primary path computes, as postconf would show it: its exit
/// status, stdout, and the warnings after the scan's, with the fatal line.
fn ours_primary(cf: &MainCf, dir: &[u8], target: &str) -> Option<(i32, Vec<u8>, Vec<String>)> {
    let warn = |w: &[Vec<u8>]| w.iter().map(|w| shown(w)).collect::<Vec<_>>();
    Some(match primary::evaluate(cf, dir, target) {
        Ok(v) => {
            let mut line = native::normalize_white_space(&v);
            line.push(b'\n');
            (0, line, Vec::new())
        }
        Err(ExpandError::Syntax(w)) => {
            let mut lines = warn(&w);
            lines.push("fatal: macro processing error".into());
            (1, Vec::new(), lines)
        }
        Err(ExpandError::Fatal(w, f)) => {
            let mut lines = warn(&w);
            lines.push(format!("fatal: {}", text(&f)));
            (1, Vec::new(), lines)
        }
        Err(ExpandError::Unknown(_)) => return None,
    })
}

fn multiset(lines: &[String]) -> std::collections::HashMap<&str, usize> {
    let mut m = std::collections::HashMap::new();
    for l in lines {
        *m.entry(l.as_str()).or_default() += 1;
    }
    m
}

/// The warnings postconf's scan of every main.cf value prints.
fn scan_warnings(cf: &MainCf) -> Vec<String> {
    let mut all = Vec::new();
    for v in cf.params.values() {
        if let Err(ExpandError::Syntax(w)) = referenced_names(v) {
            all.extend(w.iter().map(|w| shown(w)));
        }
    }
    all.sort();
    all
}

/// Checks the primary path on DIR/main.cf; an explanation when it differs.
/// postconf expands every built-in parameter that main.cf sets when it
/// starts (to find database clients), in an order of its own: when one
/// besides TARGET fails, only the failure itself can be compared.
fn check_primary(dir: &Path, cf: &MainCf, parsed: &[String], target: &str) -> Result<bool, String> {
    let d = dir.as_os_str().as_bytes();
    let Some((status, stdout, tail)) = ours_primary(cf, d, target) else {
        return Ok(false);
    };
    let mut others = Vec::new();
    for name in cf.params.keys() {
        let name = text(name);
        if name != target
            && name != "config_directory"
            && postmulti::defaults::is_builtin(name.as_bytes())
        {
            match ours_primary(cf, d, &name) {
                None => return Ok(false),
                Some((0, ..)) => {}
                Some((_, _, lines)) => others.push(lines.last().cloned().unwrap_or_default()),
            }
        }
    }
    let pc = postconf(dir, &["-xh", target]);
    if pc.status.is_none() {
        // A segmentation fault: a comparison that compares itself.
        return if tail
            .iter()
            .any(|l| l.contains("unreasonable macro call nesting"))
            || !others.is_empty()
        {
            Ok(false)
        } else {
            Err(format!(
                "postconf died of a signal; ours: exit {status}, {tail:?}"
            ))
        };
    }
    if !others.is_empty() {
        if status != 0 {
            others.push(tail.last().cloned().unwrap_or_default());
        }
        let last = pc.warnings.last().cloned().unwrap_or_default();
        return if pc.status == Some(1) && others.contains(&last) {
            Ok(true)
        } else {
            Err(format!(
                "another parameter fails: ours {others:?}; postconf exit {:?}, {:?}",
                pc.status, pc.warnings
            ))
        };
    }
    // The scan and the expansion of other parameters go in an order of
    // postconf's own, and a fatal error ends them: all of the scan's
    // warnings when the target expands, some of them when it fails.
    let mut scanned = scan_warnings(cf);
    scanned.extend(parsed.iter().cloned());
    let split = pc.warnings.len().saturating_sub(tail.len());
    let prefix = pc.warnings[..split].to_vec();
    let covered = if status == 0 {
        multiset(&prefix) == multiset(&scanned)
    } else {
        let have = multiset(&scanned);
        multiset(&prefix)
            .iter()
            .all(|(w, n)| have.get(w).is_some_and(|m| m >= n))
    };
    if pc.status == Some(status)
        && pc.stdout == stdout
        && pc.warnings[split..] == tail[..]
        && covered
    {
        return Ok(true);
    }
    Err(format!(
        "primary path of {target}:\nours: exit {status}, stdout {:?}, scan {scanned:?}, then {tail:?}\n\
         postconf: exit {:?}, stdout {:?}, stderr {:?}",
        text(&stdout),
        pc.status,
        text(&pc.stdout),
        pc.warnings
    ))
}

/// Checks the native reader on DIR: when it answers, postconf agrees.
fn check_native(dir: &Path) -> Result<bool, String> {
    let Some(answer) = native::native(dir.as_os_str().as_bytes()) else {
        return Ok(false);
    };
    let mut args = vec!["-x"];
    args.extend(REQUESTED);
    let pc = postconf(dir, &args);
    if pc.status == Some(0) && pc.stderr.is_empty() && pc.stdout == answer {
        return Ok(true);
    }
    Err(format!(
        "native reader answers:\n{}postconf: exit {:?}\n{}{}",
        text(&answer),
        pc.status,
        text(&pc.stdout),
        text(&pc.stderr)
    ))
}

#[derive(Default)]
struct Report {
    cases: usize,
    primary_compared: usize,
    native_compared: usize,
    findings: Vec<String>,
}

/// One case: a main.cf, both checks.
fn run_case(dir: &Path, main_cf: &str, native_names: bool, report: &mut Report) {
    std::fs::write(dir.join("main.cf"), main_cf).unwrap();
    backdate(&dir.join("main.cf"));
    report.cases += 1;
    let d = dir.as_os_str().as_bytes();
    let mut path = d.to_vec();
    path.extend_from_slice(b"/main.cf");
    let mut parse_warnings = Vec::new();
    let cf = MainCf::parse(
        &path,
        main_cf.as_bytes(),
        &[(b"config_directory", d)],
        &mut parse_warnings,
    )
    .expect("generated main.cf lines are name = value");
    let parsed: Vec<String> = parse_warnings.iter().map(|w| shown(w)).collect();
    let target = if native_names {
        "multi_instance_name"
    } else {
        "syslog_name"
    };
    let note = |r: Result<bool, String>, count: &mut usize, findings: &mut Vec<String>| match r {
        Ok(compared) => *count += usize::from(compared),
        Err(why) => findings.push(format!("main.cf:\n{main_cf}{why}\n")),
    };
    note(
        check_primary(dir, &cf, &parsed, target),
        &mut report.primary_compared,
        &mut report.findings,
    );
    if native_names {
        note(
            check_native(dir),
            &mut report.native_compared,
            &mut report.findings,
        );
    }
}

/// How many cases run at once: postconf sleeps a second before it exits
/// on a fatal error, so most of a case's time is waiting, not work.
const WORKERS: u64 = 16;

/// Runs WORKERS threads of [`fuzz_here`] (seeds `seed`, `seed + 1`, ...,
/// each with its own directory and the stack the binary's main thread
/// has), each until `done(cases it ran)`; the regression rows first.
fn fuzz(seed: u64, done: impl Fn(usize) -> bool + Send + Sync + 'static) -> Report {
    let postconf = match reference_root() {
        Some(root) => root.join(POSTCONF.trim_start_matches('/')),
        None => PathBuf::from(POSTCONF),
    };
    assert!(postconf.exists(), "Debian's postconf is needed");
    let mut report = Report::default();
    let dir = scratch("rows");
    for (main_cf, native_names) in REGRESSIONS {
        run_case(&dir, main_cf, *native_names, &mut report);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let done = std::sync::Arc::new(done);
    let workers: Vec<_> = (0..WORKERS)
        .map(|i| {
            let done = done.clone();
            std::thread::Builder::new()
                .stack_size(8 << 20)
                .spawn(move || fuzz_here(seed.wrapping_add(i), &*done))
                .unwrap()
        })
        .collect();
    for w in workers {
        let r = w.join().unwrap();
        report.cases += r.cases;
        report.primary_compared += r.primary_compared;
        report.native_compared += r.native_compared;
        report.findings.extend(r.findings);
    }
    report
}

/// Runs generated cases from `seed` until `done` says stop.
fn fuzz_here(seed: u64, done: &dyn Fn(usize) -> bool) -> Report {
    let dir = scratch(&seed.to_string());
    let mut report = Report::default();
    let mut rng = Rng(seed);
    while !done(report.cases) && report.findings.len() < 5 {
        let native_names = rng.one_in(3);
        let mut gen = Gen {
            rng: Rng(rng.next()),
            names: if native_names {
                BUILTIN_NAMES
            } else {
                USER_NAMES
            },
        };
        let target = if native_names {
            "multi_instance_name"
        } else {
            "syslog_name"
        };
        let main_cf = gen.main_cf(target);
        run_case(&dir, &main_cf, native_names, &mut report);
    }
    let _ = std::fs::remove_dir_all(&dir);
    report
}

fn summary(r: &Report, secs: f64) -> String {
    let mut s = format!(
        "expression fuzz: {} cases in {secs:.1} s, {} compared on the primary path, {} native answers compared, {} findings\n",
        r.cases,
        r.primary_compared,
        r.native_compared,
        r.findings.len()
    );
    for f in &r.findings {
        s.push_str(f);
    }
    s
}

#[test]
fn expression_fuzz_short() {
    let t = Instant::now();
    let report = fuzz(0x5eed_e4a2, |n| n >= 20);
    let s = summary(&report, t.elapsed().as_secs_f64());
    eprint!("{s}");
    assert!(report.findings.is_empty(), "{s}");
    // Most cases reach the comparison: the oracle is not switched off quietly.
    assert!(report.primary_compared * 10 > report.cases * 8, "{s}");
    assert!(report.native_compared > 5, "{s}");
}

#[test]
#[ignore = "long run: EXPR_FUZZ_SECONDS=600 cargo test --release --test expression_fuzz -- --ignored --nocapture"]
fn expression_fuzz_long() {
    let number = |name: &str| std::env::var(name).ok().and_then(|s| s.parse::<u64>().ok());
    let secs = number("EXPR_FUZZ_SECONDS").unwrap_or(60);
    let clock = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    let seed = number("EXPR_FUZZ_SEED").unwrap_or(clock.unwrap().as_nanos() as u64);
    println!("expression fuzz: seed {seed} (EXPR_FUZZ_SEED={seed} repeats it), {secs} s");
    let t = Instant::now();
    let report = fuzz(seed, move |_| t.elapsed() >= Duration::from_secs(secs));
    let s = summary(&report, t.elapsed().as_secs_f64());
    print!("{s}");
    assert!(report.findings.is_empty(), "{s}");
}

/// Inputs the fuzzer once disagreed on, or that pin a rule: (main.cf, whether
/// the names are built-ins, so the native reader is compared too).
const REGRESSIONS: &[(&str, bool)] = &[
    ("syslog_name = ${{01000} == {1000}?{y}:{n}}\n", false),
    ("syslog_name = ${{1} < {2} ? {postfix} : {other}}\n", false),
    ("syslog_name = ${{99999999999999999999} < {1}}\n", false),
    ("syslog_name = ${{3.1024} <level {1}}\n", false),
    ("syslog_name = ${{x} <levelx {1}}\n", false),
    ("syslog_name = ${{a} level {b}}\n", false),
    ("syslog_name = ${ a ?{ b} : c }\na = 1\n", false),
    (
        "multi_instance_name = ${{$mail_name} >= {Postfix}?{postfix-a}}\n",
        true,
    ),
    // The first long run (seed 20261204): the same value twice is quiet (dict_update).
    ("syslog_name = ${c }\na = 10\nu = 1\nu = 1\n", false),
    (
        "syslog_name = ${config_directory\t:{${b b}}}$config_directory\nx_1 = $u\nx_1 = $u\n",
        false,
    ),
];
