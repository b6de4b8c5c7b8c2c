//! What one run did (`Outcome`) and the side-by-side comparison of two
//! (`Compared`), with their asserts; line diffs and the output normalizers.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::manifest::{normalize_files, same_but_appended_order, show_norm, Entry, Manifest};

pub(super) type Normalizer = fn(&[u8]) -> Vec<u8>;

#[derive(Clone, Debug)]
pub struct Outcome {
    pub which: &'static str,
    /// The command's exit status as bash reports it (128+N when killed by signal N).
    pub status: i32,
    pub stdout: Vec<u8>,
    /// Everything written to the pty that was the command's stderr.
    pub stderr: Vec<u8>,
    /// Output of the `.check()` scripts, each followed by `[check N: exit S]`.
    pub checks: Vec<u8>,
    /// Entries of the overlay upper dirs added/changed (Some) or dropped (None)
    /// by the command and checks, keyed by absolute path inside the sandbox
    /// (every byte of it: [`name_key`](super::manifest::name_key)).
    pub files: BTreeMap<String, Option<Entry>>,
    /// The whole upper-dir manifest after the command.
    pub after: Manifest,
    /// The whole upper-dir manifest before the command (after the setup).
    pub before: Manifest,
    pub setup_log: String,
    /// Raw syslog records (`<PRI>Mmm dd hh:mm:ss TAG[PID]: text`) sent to
    /// /dev/log by the command and the checks, in arrival order.
    pub syslog: Vec<Vec<u8>>,
    /// Set by every assertion on this outcome's status or output.
    pub(super) pinned: std::cell::Cell<bool>,
}

impl Outcome {
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    /// Normalized syslog records of postmulti itself (tag `postmulti`, as
    /// logged by postmulti and by its children before they exec).
    pub fn postmulti_syslog(&self) -> Vec<String> {
        self.syslog
            .iter()
            .map(|r| normalize_syslog(r))
            .filter(|(t, _)| t == "postmulti")
            .map(|(_, r)| r)
            .collect()
    }
    /// All normalized syslog records, whatever the tag.
    pub fn all_syslog(&self) -> Vec<String> {
        self.syslog.iter().map(|r| normalize_syslog(r).1).collect()
    }
    pub fn checks_str(&self) -> String {
        String::from_utf8_lossy(&self.checks).into_owned()
    }
    /// Content of a regular file as it is after the command (None when it
    /// was not written in the sandbox, or is not a regular file).
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        match self.after.0.get(path) {
            Some(Entry::File { content, .. }) => Some(content),
            _ => None,
        }
    }
    /// Like [`Outcome::file`], for a test that asserts on the content: it
    /// counts as pinning this outcome.
    #[track_caller]
    pub fn pin_file(&self, path: &str) -> Option<&[u8]> {
        self.pinned.set(true);
        self.file(path)
    }
    #[track_caller]
    pub fn assert_status(&self, s: i32) -> &Self {
        self.pinned.set(true);
        assert_eq!(
            self.status,
            s,
            "exit status of {}\n{}",
            self.which,
            self.describe()
        );
        self
    }
    #[track_caller]
    pub fn assert_stdout(&self, s: impl AsRef<[u8]>) -> &Self {
        self.pinned.set(true);
        let s = s.as_ref();
        assert!(
            self.stdout == s,
            "stdout of {}\n--- expected:\n{}\n--- got:\n{}\n{}",
            self.which,
            String::from_utf8_lossy(s),
            self.stdout_str(),
            self.describe()
        );
        self
    }
    #[track_caller]
    pub fn assert_stderr(&self, s: impl AsRef<[u8]>) -> &Self {
        self.pinned.set(true);
        let s = s.as_ref();
        assert!(
            self.stderr == s,
            "stderr of {}\n--- expected:\n{}\n--- got:\n{}\n{}",
            self.which,
            String::from_utf8_lossy(s),
            self.stderr_str(),
            self.describe()
        );
        self
    }
    /// Assert the command wrote no file (setup writes do not count).
    #[track_caller]
    pub fn assert_no_files_written(&self) -> &Self {
        let f = normalize_files(&self.files);
        assert!(
            f.is_empty(),
            "{} wrote files: {:?}",
            self.which,
            f.keys().collect::<Vec<_>>()
        );
        self
    }
    pub fn describe(&self) -> String {
        format!(
            "=== {}: exit {}\n--- stdout:\n{}--- stderr:\n{}--- checks:\n{}--- syslog: {:#?}\n--- files written: {:?}\n--- setup.log:\n{}",
            self.which,
            self.status,
            self.stdout_str(),
            self.stderr_str(),
            self.checks_str(),
            self.all_syslog(),
            self.files.keys().collect::<Vec<_>>(),
            self.setup_log
        )
    }
}

pub struct Compared {
    pub reference: Outcome,
    pub ours: Outcome,
    pub(super) normalizers: Vec<Normalizer>,
    /// assert_same was called: then something of the reference must be
    /// pinned too, or both sides failing alike for an unrelated reason
    /// would pass (checked when the value is dropped).
    pub(super) compared: std::cell::Cell<bool>,
}

impl Drop for Compared {
    fn drop(&mut self) {
        if self.compared.get() && !self.reference.pinned.get() && !std::thread::panicking() {
            panic!(
                "this side-by-side test pins nothing of the reference: add .assert_status(..) or a key line (.assert_stdout_line / .assert_stderr_line)\n{}",
                self.reference.describe()
            );
        }
    }
}

impl Compared {
    pub fn reference(&self) -> &Outcome {
        &self.reference
    }
    pub fn ours(&self) -> &Outcome {
        &self.ours
    }

    /// Every syslog record of a run, whatever its tag (postmulti,
    /// postmulti-script, postfix-script, postconf, the daemons), in arrival
    /// order, time and pid masked ([`normalize_syslog`]), one a line, then
    /// through the scenario's normalizers (what varies in the reference
    /// varies in its records too: a "PID: N", postfix-script's waiting
    /// line).
    fn syslog_text(&self, o: &Outcome) -> Vec<u8> {
        let mut t = Vec::new();
        for r in o.all_syslog() {
            t.extend_from_slice(r.as_bytes());
            t.push(b'\n');
        }
        self.norm(&t)
    }

    fn norm(&self, b: &[u8]) -> Vec<u8> {
        let mut v = b.to_vec();
        for f in &self.normalizers {
            v = f(&v);
        }
        v
    }

    /// Same exit status, stdout, stderr, checks output, syslog records (all
    /// of them) and files written.
    #[track_caller]
    pub fn assert_same(&self) -> &Self {
        self.compared.set(true);
        let r = &self.reference;
        let o = &self.ours;
        let mut report = String::new();
        if r.status != o.status {
            writeln!(
                report,
                "exit status: reference {} / ours {}",
                r.status, o.status
            )
            .unwrap();
        }
        for (what, a, b) in [
            ("stdout", &r.stdout, &o.stdout),
            ("stderr", &r.stderr, &o.stderr),
            ("checks", &r.checks, &o.checks),
        ] {
            let (a, b) = (self.norm(a), self.norm(b));
            if a != b {
                writeln!(report, "{what} differs:\n{}", line_diff(&a, &b)).unwrap();
            }
        }
        let (sr, so) = (self.syslog_text(r), self.syslog_text(o));
        if sr != so {
            writeln!(
                report,
                "syslog records differ (all of them, any tag):\n{}",
                line_diff(&sr, &so)
            )
            .unwrap();
        }
        let (fr, mut fo) = (normalize_files(&r.files), normalize_files(&o.files));
        // A main.cf that differs only in the order of what postconf -e
        // appended is the same (see same_but_appended_order).
        for (k, a) in &fr {
            if let (
                Some(Entry::File {
                    mode,
                    uid,
                    gid,
                    content: ca,
                }),
                Some(Some(Entry::File {
                    mode: mb,
                    uid: ub,
                    gid: gb,
                    content: cb,
                })),
            ) = (a, fo.get(k))
            {
                if k.ends_with("/main.cf")
                    && (mode, uid, gid) == (mb, ub, gb)
                    && ca != cb
                    && same_but_appended_order(ca, cb)
                {
                    fo.insert(k.clone(), a.clone());
                }
            }
        }
        if fr != fo {
            writeln!(report, "files written differ:").unwrap();
            let keys: std::collections::BTreeSet<&String> = fr.keys().chain(fo.keys()).collect();
            for k in keys {
                let (a, b) = (fr.get(k), fo.get(k));
                if a != b {
                    writeln!(
                        report,
                        "  {k}:\n    reference: {}\n    ours:      {}",
                        show_norm(a),
                        show_norm(b)
                    )
                    .unwrap();
                    if let (
                        Some(Some(Entry::File { content: ca, .. })),
                        Some(Some(Entry::File { content: cb, .. })),
                    ) = (a, b)
                    {
                        writeln!(report, "{}", indent(&line_diff(ca, cb), "    ")).unwrap();
                    }
                }
            }
        }
        if !report.is_empty() {
            panic!(
                "reference and ours differ:\n{report}\n{}\n{}",
                self.reference.describe(),
                self.ours.describe()
            );
        }
        self
    }

    /// Also assert the (shared) result is this: handy to pin the
    /// reference's behaviour in the test itself, so a change of the host's
    /// postfix shows up as a failure.
    #[track_caller]
    pub fn assert_status(&self, s: i32) -> &Self {
        self.reference.assert_status(s);
        self
    }
    /// Compared after the `.normalize()` functions.
    #[track_caller]
    pub fn assert_stdout(&self, s: impl AsRef<[u8]>) -> &Self {
        self.pin("stdout", &self.reference.stdout, s.as_ref())
    }
    #[track_caller]
    pub fn assert_stderr(&self, s: impl AsRef<[u8]>) -> &Self {
        self.pin("stderr", &self.reference.stderr, s.as_ref())
    }
    /// The reference's stdout (normalized) has this whole line.
    #[track_caller]
    pub fn assert_stdout_line(&self, line: &str) -> &Self {
        self.pin_line("stdout", &self.reference.stdout, line)
    }
    /// The reference's stderr (normalized) has this whole line.
    #[track_caller]
    pub fn assert_stderr_line(&self, line: &str) -> &Self {
        self.pin_line("stderr", &self.reference.stderr, line)
    }
    /// The reference's checks output (normalized) has this whole line.
    #[track_caller]
    pub fn assert_checks_line(&self, line: &str) -> &Self {
        self.pin_line("checks", &self.reference.checks, line)
    }
    /// The reference's postmulti syslog records, normalized (see [`normalize_syslog`]).
    #[track_caller]
    pub fn assert_syslog(&self, want: &[&str]) -> &Self {
        self.reference.pinned.set(true);
        let got = self.reference.postmulti_syslog();
        assert_eq!(
            got,
            want,
            "syslog of the reference\n{}",
            self.reference.describe()
        );
        self
    }
    #[track_caller]
    pub fn assert_checks(&self, s: impl AsRef<[u8]>) -> &Self {
        self.pin("checks", &self.reference.checks, s.as_ref())
    }
    #[track_caller]
    fn pin_line(&self, what: &str, got: &[u8], line: &str) -> &Self {
        self.reference.pinned.set(true);
        let got = self.norm(got);
        assert!(
            got.split(|&c| c == b'\n').any(|l| l == line.as_bytes()),
            "{what} of the reference has no line {line:?}\n--- got:\n{}\n{}",
            String::from_utf8_lossy(&got),
            self.reference.describe()
        );
        self
    }
    #[track_caller]
    fn pin(&self, what: &str, got: &[u8], want: &[u8]) -> &Self {
        self.reference.pinned.set(true);
        let got = self.norm(got);
        assert!(
            got == want,
            "{what} of the reference\n--- expected:\n{}\n--- got:\n{}\n{}",
            String::from_utf8_lossy(want),
            String::from_utf8_lossy(&got),
            self.reference.describe()
        );
        self
    }
}

fn indent(s: &str, p: &str) -> String {
    s.lines().map(|l| format!("{p}{l}\n")).collect()
}

/// Minimal line diff: common prefix/suffix, then the differing middle.
pub fn line_diff(a: &[u8], b: &[u8]) -> String {
    let la: Vec<&[u8]> = a.split_inclusive(|&c| c == b'\n').collect();
    let lb: Vec<&[u8]> = b.split_inclusive(|&c| c == b'\n').collect();
    let mut p = 0;
    while p < la.len() && p < lb.len() && la[p] == lb[p] {
        p += 1;
    }
    let mut s = 0;
    while s < la.len() - p && s < lb.len() - p && la[la.len() - 1 - s] == lb[lb.len() - 1 - s] {
        s += 1;
    }
    let mut out = String::new();
    for l in &la[p.saturating_sub(2)..p] {
        writeln!(out, "   {}", show_line(l)).unwrap();
    }
    for l in &la[p..la.len() - s] {
        writeln!(out, "  -{}", show_line(l)).unwrap();
    }
    for l in &lb[p..lb.len() - s] {
        writeln!(out, "  +{}", show_line(l)).unwrap();
    }
    for l in la[la.len() - s..].iter().take(2) {
        writeln!(out, "   {}", show_line(l)).unwrap();
    }
    out.push_str("  (- reference, + ours)");
    out
}

fn show_line(l: &[u8]) -> String {
    let s = String::from_utf8_lossy(l);
    match s.strip_suffix('\n') {
        Some(t) => t.escape_debug().to_string(),
        None => format!("{}  [no newline at end]", s.escape_debug()),
    }
}

/// Sort each run of consecutive postconf "unused parameter" warnings
/// (`...: warning: FILE: unused parameter: NAME=VALUE`), and nothing else:
/// postconf prints them in the order of its hash table, which Postfix
/// randomizes per run, so even the reference's order changes from run to
/// run.  Every other line keeps its place.
pub fn sort_unused_parameter_warnings(b: &[u8]) -> Vec<u8> {
    sort_runs(b, |l| {
        l.windows(11).any(|w| w == b": warning: ")
            && l.windows(20).any(|w| w == b": unused parameter: ")
    })
}

/// Sorts each run of consecutive warnings of postconf (`...postconf:
/// warning: ...` lines): several warnings about one file come in the order
/// of postconf's hash tables, which from Postfix 3.10 on changes from run
/// to run, so such a run is compared as a multiset; nothing else moves.
pub fn sort_postconf_warning_runs(b: &[u8]) -> Vec<u8> {
    sort_runs(b, |l| l.windows(19).any(|w| w == b"postconf: warning: "))
}

/// Sorts each run of consecutive whole lines for which MEMBER holds.
fn sort_runs(b: &[u8], member: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut run: Vec<&[u8]> = Vec::new();
    for l in b.split_inclusive(|&c| c == b'\n') {
        if l.ends_with(b"\n") && member(l) {
            run.push(l);
            continue;
        }
        run.sort_unstable();
        out.extend(run.drain(..).flatten());
        out.extend_from_slice(l);
    }
    run.sort_unstable();
    out.extend(run.drain(..).flatten());
    out
}

/// Drop postfix-script's "waiting for the Postfix mail system to terminate"
/// lines: `postfix stop` prints one only when master has not exited by the
/// time it looks, which is timing.
pub fn drop_waiting_lines(b: &[u8]) -> Vec<u8> {
    b.split_inclusive(|&c| c == b'\n')
        .filter(|l| !l.ends_with(b"waiting for the Postfix mail system to terminate\n"))
        .flat_map(|l| l.iter().copied())
        .collect()
}

/// Replace the digits after "PID: " (postfix status/start messages) and in
/// "[NNN]" syslog-style tags with "<pid>".
pub fn mask_pids(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"PID: ") {
            out.extend_from_slice(b"PID: ");
            i += 5;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i > start {
                out.extend_from_slice(b"<pid>");
            }
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// A syslog record with its timestamp and pid masked:
/// `<18>Nov 25 13:09:29 postmulti[23975]: fatal: x` -> `<18>TIME postmulti[PID]: fatal: x`;
/// a tag without `[pid]` stays without it (`<18>TIME postmulti: fatal: x`).
/// Returns (tag, normalized record).
pub fn normalize_syslog(r: &[u8]) -> (String, String) {
    let s = String::from_utf8_lossy(r).into_owned();
    let s = s.trim_end_matches('\n').to_string();
    let Some(gt) = s.find('>') else {
        return (String::new(), s);
    };
    let (pri, rest) = s.split_at(gt + 1);
    // "Mmm dd hh:mm:ss " is 16 bytes.
    let rest = if rest.len() > 16 && rest.as_bytes()[15] == b' ' {
        &rest[16..]
    } else {
        rest
    };
    let Some(colon) = rest.find(": ") else {
        return (String::new(), format!("{pri}TIME {rest}"));
    };
    let (head, text) = rest.split_at(colon);
    match head.find('[') {
        Some(b)
            if head.ends_with(']')
                && b + 2 < head.len()
                && head[b + 1..head.len() - 1]
                    .bytes()
                    .all(|c| c.is_ascii_digit()) =>
        {
            let tag = &head[..b];
            (tag.to_string(), format!("{pri}TIME {tag}[PID]{text}"))
        }
        // No `[pid]` after the tag (openlog without LOG_PID): kept as it
        // is, so it never equals a record that has one.
        _ => (head.to_string(), format!("{pri}TIME {head}{text}")),
    }
}
