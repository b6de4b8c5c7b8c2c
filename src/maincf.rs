//! main.cf as Postfix reads it (mail_conf_read, dict_load_file_xt,
//! readlline, split_nameval, dict_update).  Everything is bytes.  Rules:
//!
//! * Logical lines (readlline): a line that starts with white space
//!   continues the previous one (joined as is); blank lines and lines whose
//!   first non-blank is `#` are dropped, also between continued lines; text
//!   that would start a logical line with white space is dropped with
//!   `FILE: logical line must not start with whitespace: "30 BYTES..."`.
//! * A NUL byte ends the line, as C strings end.  Where the installed
//!   release is Postfix 3.10 or later, the reading warns `FILE, line N:
//!   text after null byte may be ignored` (`line N-M` for several lines: from the logical line's first
//!   line to the last one read for it, blank and comment lines read ahead
//!   included); a NUL in a comment counts for the line read with it.
//! * Each line is `name = value` (split_nameval): white space around the
//!   name, the `=` and the value is dropped; `missing attribute name` and
//!   `missing '=' after attribute name` are fatal: `FILE, line N: WHY:
//!   "LINE"`.
//! * A main.cf whose mtime is not older than the second before the read
//!   began (and not in the future) is read again 0.3 s later, until it is
//!   (dict_load_file_xt; "before" is the previous pass's "after"): the
//!   warnings of each pass are printed.  Where the installed release is
//!   Postfix 3.8 or later each pass after the first starts from an empty
//!   table, config_directory's preset gone with it (dict_unregister), so
//!   `$config_directory` in the primary's main.cf is then empty; 3.7 reads
//!   into the same table, so its later passes also warn about an entry
//!   that overrides the previous pass's value.
//! * The last assignment wins; dict_update warns `FILE, line N: overriding
//!   earlier entry: NAME=OLD` only when the value changes (the same value
//!   again is quiet), config_directory's preset value included.

use std::collections::HashMap;
use std::path::Path;

use crate::bytes::{find_byte, is_space, join, os, trim, trim_end, up_to_nul};
use crate::defaults::{default_of, have_table, is_builtin};
use crate::expand::{Lookup, Resolver};
use crate::msg::{bfmt, io_error_text};

/// One logical line and the number of the physical line it starts on.
#[derive(Debug, PartialEq, Eq)]
pub struct LogicalLine {
    pub lineno: usize,
    pub text: Vec<u8>,
}

/// Reads logical lines one at a time, as readllines(3) of Postfix 3.10
/// and later: its warnings come when the line is read, before whatever
/// the caller says about that line.
pub struct LineReader<'a> {
    path: &'a [u8],
    data: &'a [u8],
    pos: usize,
    /// The physical lines read so far (a last line without a newline
    /// counts when it holds text).
    lineno: usize,
    /// Whether DATA holds a NUL byte anywhere (most files have none).
    has_nul: bool,
}

impl<'a> LineReader<'a> {
    /// A reader of DATA; PATH names the file in warnings.
    pub fn new(path: &'a [u8], data: &'a [u8]) -> Self {
        LineReader {
            path,
            data,
            pos: 0,
            lineno: 0,
            has_nul: data.contains(&0) && warns_about_null_bytes(),
        }
    }

    /// readllines(): the next logical line, or None at the end.  A NUL
    /// byte anywhere in the physical lines read for it (comments and the
    /// blank or comment lines read ahead after it included) warns
    /// `FILE, line N[-M]: text after null byte may be ignored`, N the line
    /// it starts on and M the last line read; text that would start a
    /// logical line with white space is dropped with a warning.
    pub fn next_line(&mut self, warnings: &mut Vec<Vec<u8>>) -> Option<LogicalLine> {
        loop {
            let (text, first_line, got_null) = self.read_logical();
            if got_null {
                self.warn_null(first_line, warnings);
            }
            if text.first().is_some_and(|&b| is_space(b)) {
                // printf's %.30s stops at a NUL; the "..." counts all bytes.
                let shown = up_to_nul(&text[..text.len().min(30)]);
                let more: &[u8] = if text.len() > 30 { b"..." } else { b"" };
                warnings.push(bfmt(
                    "%s: logical line must not start with whitespace: \"%s%s\"",
                    &[self.path, shown, more],
                ));
                continue;
            }
            return (!text.is_empty()).then_some(LogicalLine {
                lineno: first_line,
                text,
            });
        }
    }

    /// The physical lines of one logical line, joined as they are, blank
    /// and comment lines dropped; the number of its first line; whether a
    /// NUL byte was read.  After a line with text, the following lines
    /// are read as long as they start with white space or `#`.
    fn read_logical(&mut self) -> (Vec<u8>, usize, bool) {
        let mut buf = Vec::new();
        let mut first_line = self.lineno;
        let mut got_null = false;
        loop {
            let start = buf.len();
            let rest = &self.data[self.pos..];
            let end = find_byte(b'\n', rest);
            let body = &rest[..end.unwrap_or(rest.len())];
            self.pos += body.len() + usize::from(end.is_some());
            got_null |= self.has_nul && body.contains(&0);
            if end.is_some() || !body.is_empty() {
                self.lineno += 1;
            }
            match body.iter().find(|&&b| !is_space(b)) {
                None | Some(b'#') => {}
                Some(_) => buf.extend_from_slice(body),
            }
            if start == 0 {
                first_line = self.lineno;
            }
            if end.is_none() {
                break;
            }
            if !buf.is_empty() {
                match self.data.get(self.pos) {
                    Some(&next) if next == b'#' || is_space(next) => {}
                    _ => break,
                }
            }
        }
        (buf, first_line, got_null)
    }

    /// The warning about a NUL byte in the lines just read.
    fn warn_null(&self, first_line: usize, warnings: &mut Vec<Vec<u8>>) {
        let lines = if first_line == self.lineno {
            self.lineno.to_string()
        } else {
            format!("{first_line}-{}", self.lineno)
        };
        warnings.push(bfmt(
            "%s, line %s: text after null byte may be ignored",
            &[self.path, lines.as_bytes()],
        ));
    }
}

/// Whether readllines() warns about NUL bytes: Postfix 3.10 and later do;
/// 3.7 ends the line there in silence.
fn warns_about_null_bytes() -> bool {
    crate::defaults::release().at_least(3, 10)
}

/// All logical lines of DATA, with the warnings readllines() gives.
pub fn logical_lines(path: &[u8], data: &[u8], warnings: &mut Vec<Vec<u8>>) -> Vec<LogicalLine> {
    let mut reader = LineReader::new(path, data);
    std::iter::from_fn(|| reader.next_line(warnings)).collect()
}

/// Splits `name = value`, as split_nameval(3); the error is its own words.
pub fn split_nameval(line: &[u8]) -> Result<(&[u8], &[u8]), &'static str> {
    let text = trim(line);
    if text.is_empty() || text[0] == b'=' {
        return Err("missing attribute name");
    }
    let name_end = text
        .iter()
        .position(|&b| is_space(b) || b == b'=')
        .unwrap_or(text.len());
    let eq = name_end
        + text[name_end..]
            .iter()
            .position(|&b| !is_space(b))
            .unwrap_or(text.len() - name_end);
    if text.get(eq) != Some(&b'=') {
        return Err("missing '=' after attribute name");
    }
    let value = &text[eq + 1..];
    let value_start = value
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(value.len());
    Ok((&text[..name_end], &value[value_start..]))
}

/// The parameters of one main.cf file, unexpanded.
#[derive(Debug, Default, Clone)]
pub struct MainCf {
    pub params: HashMap<Vec<u8>, Vec<u8>>,
}

impl MainCf {
    /// Parses main.cf text; `path` names the file in messages.  `preset`
    /// holds what Postfix enters before reading the file (config_directory).
    /// Warnings are collected, an entry overridden with another value among
    /// them; a malformed line is the fatal error Postfix reports.
    pub fn parse(
        path: &[u8],
        data: &[u8],
        preset: &[(&[u8], &[u8])],
        warnings: &mut Vec<Vec<u8>>,
    ) -> Result<MainCf, Vec<u8>> {
        let params: HashMap<Vec<u8>, Vec<u8>> = preset
            .iter()
            .map(|(n, v)| (n.to_vec(), v.to_vec()))
            .collect();
        MainCf::parse_into(params, path, data, warnings)
    }

    /// Parses main.cf text into a table that may hold entries already
    /// (a preset, or an earlier pass's): an entry whose value changes warns.
    fn parse_into(
        mut params: HashMap<Vec<u8>, Vec<u8>>,
        path: &[u8],
        data: &[u8],
        warnings: &mut Vec<Vec<u8>>,
    ) -> Result<MainCf, Vec<u8>> {
        let mut reader = LineReader::new(path, data);
        while let Some(line) = reader.next_line(warnings) {
            // C string functions end the line at its first NUL byte.
            let text = up_to_nul(&line.text);
            match split_nameval(text) {
                Ok((name, value)) => {
                    // dict_load_fp() warns only when the value changes.
                    let old = params.insert(name.to_vec(), value.to_vec());
                    if let Some(old) = old.filter(|old| old != value) {
                        warnings.push(bfmt(
                            "%s, line %s: overriding earlier entry: %s=%s",
                            &[path, line.lineno.to_string().as_bytes(), name, &old],
                        ));
                    }
                }
                Err(why) => {
                    return Err(bfmt(
                        "%s, line %s: %s: \"%s\"",
                        &[
                            path,
                            line.lineno.to_string().as_bytes(),
                            why.as_bytes(),
                            trim_end(text),
                        ],
                    ));
                }
            }
        }
        Ok(MainCf { params })
    }

    /// Reads and parses DIR/main.cf as Postfix does for an instance whose
    /// configuration directory is DIR; errors are Postfix's fatal texts.
    /// A file changed in the last second or so may still be being written:
    /// dict_load_file_xt reads it again 0.3 s later (doze) until its mtime
    /// is older than the read (each pass's "before" is the previous pass's
    /// "after", so one more pass than a fresh clock would make).  Where
    /// the installed release is Postfix 3.8 or later each pass after the
    /// first starts from an empty table (dict_unregister), without the
    /// config_directory preset; before, every pass reads into the same
    /// table, so from the second pass on an entry set twice also warns
    /// against the previous pass's value.
    pub fn read(dir: &[u8], warnings: &mut Vec<Vec<u8>>) -> Result<MainCf, Vec<u8>> {
        let path = main_cf_path(dir);
        let preset: [(&[u8], &[u8]); 1] = [(b"config_directory", dir)];
        let mut earlier: Option<MainCf> = None;
        let mut before = now();
        for pass in 0.. {
            let (data, mtime) = read_file_mtime(&path)?;
            let cf = match earlier.take() {
                Some(same) => MainCf::parse_into(same.params, &path, &data, warnings)?,
                None if pass == 0 => MainCf::parse(&path, &data, &preset, warnings)?,
                None => MainCf::parse(&path, &data, &[], warnings)?,
            };
            let after = now();
            if settled(mtime, before, after) {
                return Ok(cf);
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
            before = after;
            // Asked only now: the release may cost a postconf process
            // before the table in use is chosen (defaults::release).
            if !crate::defaults::release().at_least(3, 8) {
                earlier = Some(cf);
            }
        }
        unreachable!("the passes end with a return")
    }

    /// The raw value of a parameter set in this file.
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.params.get(name).map(|v| v.as_slice())
    }
}

/// Looks names up as Postfix does for one instance: its main.cf, then its
/// config_directory, then the defaults in use (src/defaults.rs); any other
/// built-in (its default only Postfix evaluates, or computes on the running
/// host: $myhostname), or any name at all when no table of built-ins is at
/// hand, is Unknown; anything else Undefined.
pub struct InstanceResolver<'a> {
    pub main_cf: &'a MainCf,
    pub config_dir: &'a [u8],
}

impl Resolver for InstanceResolver<'_> {
    fn lookup(&mut self, name: &[u8]) -> Lookup {
        if let Some(v) = self.main_cf.get(name) {
            Lookup::Value(v.to_vec())
        } else if name == b"config_directory" {
            Lookup::Value(self.config_dir.to_vec())
        } else if let Some(v) = default_of(name) {
            Lookup::Value(v.as_bytes().to_vec())
        } else if is_builtin(name) || !have_table() {
            Lookup::Unknown
        } else {
            Lookup::Undefined
        }
    }
}

/// DIR/main.cf as bytes.
pub fn main_cf_path(dir: &[u8]) -> Vec<u8> {
    join(dir, b"main.cf")
}

/// The time in whole seconds, as time(3).
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Whether a file changed so recently that Postfix would read it again
/// (dict_load_file_xt: its mtime is within the last second, not in the
/// future).  False when it cannot be stat()ed.
pub fn just_changed(path: &[u8]) -> bool {
    use std::os::unix::fs::MetadataExt;
    let now = now();
    std::fs::metadata(os(path)).is_ok_and(|m| !settled(m.mtime(), now, now))
}

/// dict_load_file_xt's test that a file read between BEFORE and AFTER
/// (whole seconds) is not still being written: its mtime is older than
/// the second before BEFORE, or in the future.
fn settled(mtime: i64, before: i64, after: i64) -> bool {
    mtime < before - 1 || mtime > after
}

/// Reads a whole file and its mtime (seconds), with read_file's errors.
fn read_file_mtime(path: &[u8]) -> Result<(Vec<u8>, i64), Vec<u8>> {
    use std::os::unix::fs::MetadataExt;
    let data = read_file(path)?;
    let mtime = std::fs::metadata(os(path)).map_or(0, |m| m.mtime());
    Ok((data, mtime))
}

/// Reads a whole file, with "open PATH: reason" or "read PATH: reason" errors.
pub fn read_file(path: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    use std::io::Read;
    let p = Path::new(os(path));
    let file = std::fs::File::open(p)
        .map_err(|e| bfmt("open %s: %s", &[path, io_error_text(&e).as_bytes()]))?;
    // Through Take, read_to_end() reads until end of file without first
    // asking the file's size and position (two system calls per file,
    // which add up over hundreds of instances).
    let mut data = Vec::with_capacity(64 * 1024);
    file.take(u64::MAX)
        .read_to_end(&mut data)
        .map_err(|e| bfmt("read %s: %s", &[path, io_error_text(&e).as_bytes()]))?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Result<MainCf, Vec<u8>>, Vec<String>) {
        crate::defaults::assume_release(3, 10);
        let mut w = Vec::new();
        let r = MainCf::parse(b"/x/main.cf", text.as_bytes(), &[], &mut w);
        (
            r,
            w.iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect(),
        )
    }

    #[test]
    fn continuation_lines_join_without_separator_and_skip_comments() {
        let (r, w) = parse("a = x\n   b\n# c\n\n \t\n   d\nq=1\n");
        let cf = r.unwrap();
        assert_eq!(cf.get(b"a"), Some(&b"x   b   d"[..]));
        assert_eq!(cf.get(b"q"), Some(&b"1"[..]));
        assert!(w.is_empty());
    }

    #[test]
    fn last_assignment_wins_and_values_are_trimmed() {
        let (r, w) = parse("a = 1\na =   2  \t\n");
        assert_eq!(r.unwrap().get(b"a"), Some(&b"2"[..]));
        assert_eq!(
            w,
            vec!["/x/main.cf, line 2: overriding earlier entry: a=1".to_string()]
        );
    }

    #[test]
    fn the_same_value_again_is_quiet() {
        let (r, w) = parse("biff = no\nbiff =  no\n");
        assert_eq!(r.unwrap().get(b"biff"), Some(&b"no"[..]));
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn preset_entries_are_overridden_with_a_warning() {
        let mut w = Vec::new();
        let cf = MainCf::parse(
            b"/d/main.cf",
            b"config_directory = /else\n",
            &[(b"config_directory", b"/d")],
            &mut w,
        )
        .unwrap();
        assert_eq!(cf.get(b"config_directory"), Some(&b"/else"[..]));
        assert_eq!(
            String::from_utf8(w.concat()).unwrap(),
            "/d/main.cf, line 1: overriding earlier entry: config_directory=/d"
        );
    }

    #[test]
    fn leading_white_space_at_start_is_dropped_with_warning() {
        let (r, w) = parse("  leading = 1\ng = 2\n");
        let cf = r.unwrap();
        assert_eq!(cf.get(b"leading"), None);
        assert_eq!(
            w,
            vec![
                "/x/main.cf: logical line must not start with whitespace: \"  leading = 1\""
                    .to_string()
            ]
        );
    }

    #[test]
    fn malformed_lines_give_postfix_errors() {
        let (r, _) = parse("a = 1\ngarbage line\n");
        assert_eq!(
            String::from_utf8(r.unwrap_err()).unwrap(),
            "/x/main.cf, line 2: missing '=' after attribute name: \"garbage line\""
        );
        let (r, _) = parse("=x\n");
        assert_eq!(
            String::from_utf8(r.unwrap_err()).unwrap(),
            "/x/main.cf, line 1: missing attribute name: \"=x\""
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_survive() {
        let mut w = Vec::new();
        let cf = MainCf::parse(b"p", b"n\xff = v\xfe\n", &[], &mut w).unwrap();
        assert_eq!(cf.get(b"n\xff"), Some(&b"v\xfe"[..]));
    }

    #[test]
    fn a_nul_byte_ends_the_line_as_in_c() {
        let mut w = Vec::new();
        let cf = MainCf::parse(b"p", b"a = x\0y\nb = 1\n", &[], &mut w).unwrap();
        assert_eq!(cf.get(b"a"), Some(&b"x"[..]));
        assert_eq!(cf.get(b"b"), Some(&b"1"[..]));
    }

    /// The warnings of reading DATA as /x/main.cf, and the lines read, as
    /// Postfix 3.10 and later read them.
    fn lines(data: &[u8]) -> (Vec<(usize, Vec<u8>)>, Vec<String>) {
        crate::defaults::assume_release(3, 10);
        let mut w = Vec::new();
        let lines = logical_lines(b"/x/main.cf", data, &mut w)
            .into_iter()
            .map(|l| (l.lineno, l.text))
            .collect();
        (
            lines,
            w.iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect(),
        )
    }

    const NUL_WARNING: &str = "text after null byte may be ignored";

    #[test]
    fn postfix_3_7_ends_the_line_at_a_nul_byte_in_silence() {
        crate::defaults::assume_release(3, 7);
        let mut w = Vec::new();
        let cf = MainCf::parse(b"p", b"a = x\0y\nb = 1\n", &[], &mut w).unwrap();
        assert_eq!(cf.get(b"a"), Some(&b"x"[..]));
        assert_eq!(w, Vec::<Vec<u8>>::new());
    }

    #[test]
    fn a_nul_byte_warns_with_the_lines_read_for_the_logical_line() {
        // readlline.c's own test cases (3.10).
        let (l, w) = lines(b"abc\0def");
        assert_eq!(l, vec![(1, b"abc\0def".to_vec())]);
        assert_eq!(w, vec![format!("/x/main.cf, line 1: {NUL_WARNING}")]);
        let (l, w) = lines(b"abc\0\n def");
        assert_eq!(l, vec![(1, b"abc\0 def".to_vec())]);
        assert_eq!(w, vec![format!("/x/main.cf, line 1-2: {NUL_WARNING}")]);
        let (l, w) = lines(b"#abc\0\ndef");
        assert_eq!(l, vec![(2, b"def".to_vec())]);
        assert_eq!(w, vec![format!("/x/main.cf, line 2: {NUL_WARNING}")]);
    }

    #[test]
    fn blank_and_comment_lines_read_ahead_count_in_the_range() {
        let (l, w) = lines(b"a = 1\0\n# c\n\n  \nb = 2\0\n");
        assert_eq!(l, vec![(1, b"a = 1\0".to_vec()), (5, b"b = 2\0".to_vec())]);
        assert_eq!(
            w,
            vec![
                format!("/x/main.cf, line 1-4: {NUL_WARNING}"),
                format!("/x/main.cf, line 5: {NUL_WARNING}"),
            ]
        );
        // A NUL in a comment at the end: the warning names the last line.
        let (l, w) = lines(b"a = 1\n\n#\0\n");
        assert_eq!(l, vec![(1, b"a = 1".to_vec())]);
        assert_eq!(w, vec![format!("/x/main.cf, line 1-3: {NUL_WARNING}")]);
        let (l, w) = lines(b"a = 1\nb = 2\n#\0");
        assert_eq!(l.len(), 2);
        assert_eq!(w, vec![format!("/x/main.cf, line 2-3: {NUL_WARNING}")]);
    }

    #[test]
    fn nul_warning_comes_before_the_white_space_warning_of_its_line() {
        let (l, w) = lines(b" x\0yz\nb = 2\n");
        assert_eq!(l, vec![(2, b"b = 2".to_vec())]);
        assert_eq!(
            w,
            vec![
                format!("/x/main.cf, line 1: {NUL_WARNING}"),
                "/x/main.cf: logical line must not start with whitespace: \" x\"".to_string(),
            ]
        );
    }

    #[test]
    fn nul_warning_comes_before_what_the_line_itself_causes() {
        let (r, w) = parse("a = 1\na = 2\0\n");
        assert_eq!(r.unwrap().get(b"a"), Some(&b"2"[..]));
        assert_eq!(
            w,
            vec![
                format!("/x/main.cf, line 2: {NUL_WARNING}"),
                "/x/main.cf, line 2: overriding earlier entry: a=1".to_string(),
            ]
        );
    }

    #[test]
    fn split_nameval_allows_no_space_around_equals() {
        assert_eq!(split_nameval(b"a=b"), Ok((&b"a"[..], &b"b"[..])));
        assert_eq!(split_nameval(b"a ="), Ok((&b"a"[..], &b""[..])));
    }
}
