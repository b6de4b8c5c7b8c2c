//! main.cf as Postfix reads it: logical lines (readlline), `name = value`
//! (split_nameval), last assignment wins.  Everything is bytes.

use std::collections::HashMap;
use std::path::Path;

use crate::bytes::{is_space, join, os, trim, trim_end};
use crate::defaults::{default_of, have_table, is_builtin};
use crate::expand::{Lookup, Resolver};
use crate::msg::{bfmt, io_error_text};

/// One logical line and the number of the physical line it starts on.
#[derive(Debug, PartialEq, Eq)]
pub struct LogicalLine {
    pub lineno: usize,
    pub text: Vec<u8>,
}

/// Splits text into logical lines: comment and blank lines are dropped, lines
/// that start with white space continue the previous one.  Text that starts a
/// logical line with white space is dropped with a warning, as readlline does.
pub fn logical_lines(path: &[u8], data: &[u8], warnings: &mut Vec<Vec<u8>>) -> Vec<LogicalLine> {
    let mut lines = Vec::new();
    let mut current: Option<LogicalLine> = None;
    let mut flush = |current: &mut Option<LogicalLine>, lines: &mut Vec<LogicalLine>| {
        if let Some(line) = current.take() {
            if line.text.first().is_some_and(|&b| is_space(b)) {
                let shown = &line.text[..line.text.len().min(30)];
                let more: &[u8] = if line.text.len() > 30 { b"..." } else { b"" };
                warnings.push(bfmt(
                    "%s: logical line must not start with whitespace: \"%s%s\"",
                    &[path, shown, more],
                ));
            } else {
                lines.push(line);
            }
        }
    };
    for (index, physical) in data.split_inclusive(|&b| b == b'\n').enumerate() {
        let lineno = index + 1;
        let body = physical.strip_suffix(b"\n").unwrap_or(physical);
        let first = body.iter().position(|&b| !is_space(b));
        let Some(first) = first else { continue };
        if body[first] == b'#' {
            continue;
        }
        if is_space(body[0]) {
            match current.as_mut() {
                Some(line) => line.text.extend_from_slice(body),
                None => {
                    current = Some(LogicalLine {
                        lineno,
                        text: body.to_vec(),
                    })
                }
            }
        } else {
            flush(&mut current, &mut lines);
            current = Some(LogicalLine {
                lineno,
                text: body.to_vec(),
            });
        }
    }
    flush(&mut current, &mut lines);
    lines
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
        let mut params: HashMap<Vec<u8>, Vec<u8>> = preset
            .iter()
            .map(|(n, v)| (n.to_vec(), v.to_vec()))
            .collect();
        for mut line in logical_lines(path, data, warnings) {
            // C string functions end the line at its first NUL byte.
            if let Some(nul) = line.text.iter().position(|&b| b == 0) {
                line.text.truncate(nul);
            }
            match split_nameval(&line.text) {
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
                            trim_end(&line.text),
                        ],
                    ));
                }
            }
        }
        Ok(MainCf { params })
    }

    /// Reads and parses DIR/main.cf as Postfix does for an instance whose
    /// configuration directory is DIR; errors are Postfix's fatal texts.
    pub fn read(dir: &[u8], warnings: &mut Vec<Vec<u8>>) -> Result<MainCf, Vec<u8>> {
        let path = main_cf_path(dir);
        let data = read_file(&path)?;
        MainCf::parse(&path, &data, &[(b"config_directory", dir)], warnings)
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

/// Reads a whole file, with "open PATH: reason" or "read PATH: reason" errors.
pub fn read_file(path: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    use std::io::Read;
    let p = Path::new(os(path));
    let mut file = std::fs::File::open(p)
        .map_err(|e| bfmt("open %s: %s", &[path, io_error_text(&e).as_bytes()]))?;
    let mut data = Vec::new();
    file.read_to_end(&mut data)
        .map_err(|e| bfmt("read %s: %s", &[path, io_error_text(&e).as_bytes()]))?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Result<MainCf, Vec<u8>>, Vec<String>) {
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
    fn the_same_value_again_is_no_override() {
        let (r, w) = parse("a = 1\na = 1\nb = x\nb =  x \n");
        assert_eq!(r.unwrap().get(b"a"), Some(&b"1"[..]));
        assert!(w.is_empty(), "{w:?}");
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

    #[test]
    fn split_nameval_allows_no_space_around_equals() {
        assert_eq!(split_nameval(b"a=b"), Ok((&b"a"[..], &b"b"[..])));
        assert_eq!(split_nameval(b"a ="), Ok((&b"a"[..], &b""[..])));
    }
}
