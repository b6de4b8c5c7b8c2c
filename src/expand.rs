//! Parameter expansion as Postfix's mac_parse(3) and mac_expand(3) do it:
//! `$name`, `${name}`, `$(name)`, `$$`, `${name?text}`, `${name:text}`, the
//! `{text}` operands, `${name?{a}:{b}}` and `${{a}=={b}?...}` / `!=`.

use crate::bytes::is_white_space;
use crate::msg::bfmt;

/// How deep macro references may nest before Postfix gives up.
const MAX_LEVEL: usize = 100;

/// A stricter bound on all recursion, so that no input can exhaust the stack.
const MAX_DEPTH: usize = 1000;

/// What a name resolves to.
pub enum Lookup {
    /// The raw (unexpanded) value.
    Value(Vec<u8>),
    /// Not a parameter at all: expands to nothing.
    Undefined,
    /// A parameter whose value only Postfix itself knows.
    Unknown,
}

/// Resolves parameter names during expansion.
pub trait Resolver {
    fn lookup(&mut self, name: &[u8]) -> Lookup;
}

/// Why an expansion has no result.
#[derive(Debug, PartialEq, Eq)]
pub enum ExpandError {
    /// A syntax error; the warnings Postfix prints before its fatal error.
    Syntax(Vec<Vec<u8>>),
    /// A name whose value only Postfix knows: ask postconf.
    Unknown(Vec<u8>),
}

/// The value of Postfix's MAC_EXP_BVAL_TRUE.
const BVAL_TRUE: &[u8] = b"true";

struct Expander<'r> {
    resolver: &'r mut dyn Resolver,
    scan: bool,
    level: usize,
    depth: usize,
    warnings: Vec<Vec<u8>>,
    failed: bool,
    unknown: Option<Vec<u8>>,
    names: Vec<Vec<u8>>,
}

/// Expands `text` recursively, as mail_conf_eval() does.
pub fn expand(text: &[u8], resolver: &mut dyn Resolver) -> Result<Vec<u8>, ExpandError> {
    let mut e = Expander::new(resolver, false);
    let mut out = Vec::new();
    e.parse(text, &mut out);
    e.finish().map(|_| out)
}

/// Lists every name that `text` refers to in any branch, without recursing
/// into values (Postfix's MAC_EXP_FLAG_SCAN); errors as for [`expand`].
pub fn referenced_names(text: &[u8]) -> Result<Vec<Vec<u8>>, ExpandError> {
    struct NoValues;
    impl Resolver for NoValues {
        fn lookup(&mut self, _: &[u8]) -> Lookup {
            Lookup::Undefined
        }
    }
    let mut nv = NoValues;
    let mut e = Expander::new(&mut nv, true);
    let mut out = Vec::new();
    e.parse(text, &mut out);
    let names = std::mem::take(&mut e.names);
    e.finish().map(|_| names)
}

/// Skips white space; true when a `{` follows (MAC_EXP_FIND_LEFT_CURLY).
fn find_left_curly(text: &[u8], cp: &mut usize) -> bool {
    let mut i = *cp;
    while i < text.len() && is_white_space(text[i]) {
        i += 1;
    }
    if text.get(i) == Some(&b'{') {
        *cp = i;
        true
    } else {
        false
    }
}

/// Up to 20 bytes from `at`, as `%.20s` shows them.
fn next20(text: &[u8], at: usize) -> &[u8] {
    let at = at.min(text.len());
    &text[at..(at + 20).min(text.len())]
}

impl<'r> Expander<'r> {
    fn new(resolver: &'r mut dyn Resolver, scan: bool) -> Self {
        Expander {
            resolver,
            scan,
            level: 0,
            depth: 0,
            warnings: Vec::new(),
            failed: false,
            unknown: None,
            names: Vec::new(),
        }
    }

    fn finish(self) -> Result<(), ExpandError> {
        if let Some(name) = self.unknown {
            Err(ExpandError::Unknown(name))
        } else if self.failed {
            Err(ExpandError::Syntax(self.warnings))
        } else {
            Ok(())
        }
    }

    fn error(&mut self, text: Vec<u8>) {
        self.warnings.push(text);
        self.failed = true;
    }

    fn stopped(&self) -> bool {
        self.failed || self.unknown.is_some()
    }

    /// mac_parse: literal text and macro references, left to right, each
    /// handed to the callback.  Like mac_parse it goes on after a callback
    /// reports an error; only a malformed reference stops it.
    fn parse(&mut self, value: &[u8], out: &mut Vec<u8>) {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.error(bfmt(
                "unreasonable macro call nesting: \"%s\"",
                &[next20(value, 0)],
            ));
        }
        let mut literal = Vec::new();
        let mut local_error = false;
        let mut vp = 0;
        while vp < value.len() && self.unknown.is_none() && self.depth <= MAX_DEPTH {
            if value[vp] != b'$' {
                let end = value[vp..]
                    .iter()
                    .position(|&b| b == b'$')
                    .map_or(value.len(), |p| vp + p);
                literal.extend_from_slice(&value[vp..end]);
                vp = end;
            } else if value.get(vp + 1) == Some(&b'$') {
                literal.push(b'$');
                vp += 2;
            } else {
                if !literal.is_empty() {
                    self.literal(&std::mem::take(&mut literal), out);
                    local_error |= self.failed;
                }
                vp += 1;
                let name: Vec<u8>;
                match value.get(vp) {
                    Some(&open @ (b'{' | b'(')) => {
                        let close = if open == b'{' { b'}' } else { b')' };
                        let mut level = 1;
                        let start = vp + 1;
                        let mut ep = start;
                        let mut truncated = false;
                        while level > 0 {
                            let Some(&c) = value.get(ep) else {
                                truncated = true;
                                break;
                            };
                            if c == open {
                                level += 1;
                            }
                            if c == close {
                                level -= 1;
                            }
                            ep += 1;
                        }
                        if truncated {
                            self.error(bfmt("truncated macro reference: \"%s\"", &[value]));
                            local_error = true;
                            break;
                        }
                        name = value[start..ep - 1].to_vec();
                        vp = ep;
                    }
                    _ => {
                        let end = value[vp..]
                            .iter()
                            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
                            .map_or(value.len(), |p| vp + p);
                        name = value[vp..end].to_vec();
                        vp = end;
                    }
                }
                if name.is_empty() {
                    self.error(bfmt("empty macro name: \"%s\"", &[value]));
                    local_error = true;
                    break;
                }
                self.expression(&name, out);
                local_error |= self.failed;
            }
        }
        if !literal.is_empty() && !local_error {
            self.literal(&literal, out);
        }
        self.depth -= 1;
    }

    /// The callback for literal text: it too counts as a nesting level.
    fn literal(&mut self, text: &[u8], out: &mut Vec<u8>) {
        let over = self.level > MAX_LEVEL;
        self.level += 1;
        if over {
            self.error(bfmt("unreasonable macro call nesting: \"%s\"", &[text]));
        }
        if self.stopped() {
            return;
        }
        if !self.scan {
            out.extend_from_slice(text);
        }
        self.level -= 1;
    }

    /// Extracts a `{payload}` at `cp`, balancing braces (mac_exp_extract_curly_payload).
    fn curly_payload(&mut self, text: &[u8], cp: &mut usize) -> Option<Vec<u8>> {
        let mut level = 1;
        let mut i = *cp + 1;
        loop {
            match text.get(i) {
                None => {
                    let mut m = b"unbalanced {} in attribute expression: \"".to_vec();
                    m.extend_from_slice(&text[*cp..]);
                    m.push(b'"');
                    self.error(m);
                    return None;
                }
                Some(b'{') => level += 1,
                Some(b'}') => {
                    level -= 1;
                    if level == 0 {
                        break;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        let payload = text[*cp + 1..i].to_vec();
        i += 1;
        while i < text.len() && is_white_space(text[i]) {
            i += 1;
        }
        *cp = i;
        Some(payload)
    }

    /// A fresh expansion of an operand of a logical expression.
    fn operand(&mut self, text: &[u8]) -> Vec<u8> {
        let saved = self.level;
        self.level = 0;
        let mut out = Vec::new();
        let scan = self.scan;
        self.scan = false;
        self.parse(text, &mut out);
        self.scan = scan;
        self.level = saved;
        out
    }

    /// `{left} == {right}` or `!=`: "true" or "" (mac_exp_parse_logical).
    fn logical(&mut self, text: &[u8], cp: &mut usize) -> Option<Vec<u8>> {
        let left = self.curly_payload(text, cp)?;
        let op_len = text[*cp..]
            .iter()
            .position(|b| !b"<>!=?+-*/~&|%".contains(b))
            .unwrap_or(text.len() - *cp);
        let op = text[*cp..*cp + op_len].to_vec();
        if op != b"==" && op != b"!=" {
            self.error(bfmt(
                "\"==\" or \"!=\" expected at: \"...%s}>>>%s\"",
                &[&left, next20(text, *cp)],
            ));
            return None;
        }
        *cp += op_len;
        if !find_left_curly(text, cp) {
            self.error(bfmt(
                "\"{expression}\" expected at: \"...{%s} %s>>>%s\"",
                &[&left, &op, next20(text, *cp)],
            ));
            return None;
        }
        let right = self.curly_payload(text, cp)?;
        if self.scan {
            let mut sink = Vec::new();
            self.parse(&left, &mut sink);
            self.parse(&right, &mut sink);
            return (!self.stopped()).then(Vec::new);
        }
        let l = self.operand(&left);
        let r = self.operand(&right);
        if self.stopped() {
            return None;
        }
        let equal = l == r;
        Some(if equal == (op == b"==") {
            BVAL_TRUE.to_vec()
        } else {
            Vec::new()
        })
    }

    /// mac_expand_callback for one `$name` or `${...}` body.
    fn expression(&mut self, text: &[u8], out: &mut Vec<u8>) {
        let over = self.level > MAX_LEVEL;
        self.level += 1;
        if over {
            self.error(bfmt("unreasonable macro call nesting: \"%s\"", &[text]));
        }
        if self.stopped() {
            return;
        }
        let mut cp = 0;
        let mut op = 0u8;
        let lookup: Option<Vec<u8>>;
        if find_left_curly(text, &mut cp) {
            let Some(value) = self.logical(text, &mut cp) else {
                return;
            };
            lookup = Some(value);
            if cp < text.len() {
                op = text[cp];
                if op != b'?' && op != b':' {
                    self.error(bfmt(
                        "\"?\" or \":\" expected at: \"...}>>>%s\"",
                        &[next20(text, cp)],
                    ));
                    return;
                }
                cp += 1;
            }
        } else {
            cp = 0;
            while cp < text.len() {
                let c = text[cp];
                if c == b'?' || c == b':' {
                    op = c;
                    break;
                }
                if !(c.is_ascii_alphanumeric() || c == b'_') {
                    self.error(bfmt(
                        "attribute name syntax error at: \"...%s>>>%s\"",
                        &[&text[..cp], next20(text, cp)],
                    ));
                    return;
                }
                cp += 1;
            }
            let name = &text[..cp];
            if op != 0 {
                cp += 1;
            }
            if self.scan {
                self.names.push(name.to_vec());
            }
            lookup = match self.resolver.lookup(name) {
                Lookup::Value(v) => Some(v),
                Lookup::Undefined => None,
                Lookup::Unknown => {
                    if !self.scan {
                        self.unknown = Some(name.to_vec());
                        return;
                    }
                    None
                }
            };
        }
        let truthy = lookup.as_ref().is_some_and(|v| !v.is_empty());
        if op == b'?' {
            let iftrue = if find_left_curly(text, &mut cp) {
                let Some(p) = self.curly_payload(text, &mut cp) else {
                    return;
                };
                p
            } else {
                let rest = text[cp..].to_vec();
                cp = text.len();
                rest
            };
            if truthy || self.scan {
                self.parse(&iftrue, out);
            }
            if cp >= text.len() {
                self.level -= 1;
                return;
            }
            if text[cp] != b':' {
                self.error(bfmt(
                    "\":\" expected at: \"...%s}>>>%s\"",
                    &[&iftrue, next20(text, cp)],
                ));
                return;
            }
            cp += 1;
            op = b':';
        }
        if op == b':' {
            let iffalse = if find_left_curly(text, &mut cp) {
                let Some(p) = self.curly_payload(text, &mut cp) else {
                    return;
                };
                p
            } else {
                let rest = text[cp..].to_vec();
                cp = text.len();
                rest
            };
            if !truthy || self.scan {
                self.parse(&iffalse, out);
            }
            if cp < text.len() {
                self.error(bfmt(
                    "unexpected input at: \"...%s}>>>%s\"",
                    &[&iffalse, next20(text, cp)],
                ));
                return;
            }
        } else if op == 0 && truthy && !self.scan {
            let value = lookup.unwrap_or_default();
            self.parse(&value, out);
        }
        self.level -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Map(HashMap<Vec<u8>, Vec<u8>>);
    impl Resolver for Map {
        fn lookup(&mut self, name: &[u8]) -> Lookup {
            match self.0.get(name) {
                Some(v) => Lookup::Value(v.clone()),
                None if name == b"myhostname" => Lookup::Unknown,
                None => Lookup::Undefined,
            }
        }
    }

    fn ex(text: &str, defs: &[(&str, &str)]) -> Result<String, ExpandError> {
        let mut m = Map(defs
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect());
        expand(text.as_bytes(), &mut m).map(|v| String::from_utf8(v).unwrap())
    }

    fn warnings(r: Result<String, ExpandError>) -> Vec<String> {
        match r {
            Err(ExpandError::Syntax(w)) => w
                .into_iter()
                .map(|w| String::from_utf8(w).unwrap())
                .collect(),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn plain_braced_and_parenthesized_names() {
        let d = [("a", "1"), ("b", "$a$a")];
        assert_eq!(ex("x$a/${a}/$(a)/$b", &d).unwrap(), "x1/1/1/11");
        assert_eq!(ex("$$a", &d).unwrap(), "$a");
        assert_eq!(ex("${nope}z", &d).unwrap(), "z");
        assert_eq!(ex("${a}}", &d).unwrap(), "1}");
    }

    #[test]
    fn conditionals_old_and_new_forms() {
        let d = [("a", "1"), ("e", "")];
        assert_eq!(ex("${a?yes}", &d).unwrap(), "yes");
        assert_eq!(ex("${e?yes}", &d).unwrap(), "");
        assert_eq!(ex("${e:no}", &d).unwrap(), "no");
        assert_eq!(ex("${a?x:y}", &d).unwrap(), "x:y");
        assert_eq!(ex("${a?{ yes }:{no}}", &d).unwrap(), " yes ");
        assert_eq!(ex("${u?{yes}:{ no}}", &d).unwrap(), " no");
        assert_eq!(ex("${{$a} == {1}?{eq}:{ne}}", &d).unwrap(), "eq");
        assert_eq!(ex("${{$a} != {1}?{eq}:{ne}}", &d).unwrap(), "ne");
    }

    #[test]
    fn syntax_errors_carry_postfix_warnings() {
        assert_eq!(
            warnings(ex("${a", &[])),
            vec!["truncated macro reference: \"${a\""]
        );
        assert_eq!(warnings(ex("x$", &[])), vec!["empty macro name: \"x$\""]);
        assert_eq!(
            warnings(ex("${a == b ?{x}:{y}}", &[])),
            vec!["attribute name syntax error at: \"...a>>> == b ?{x}:{y}\""]
        );
    }

    #[test]
    fn self_reference_hits_the_nesting_limit() {
        let w = warnings(ex("$a", &[("a", "$b"), ("b", "$a")]));
        assert_eq!(w.len(), 1);
        assert!(
            w[0].starts_with("unreasonable macro call nesting: "),
            "{w:?}"
        );
    }

    #[test]
    fn names_only_postfix_knows_are_reported() {
        assert_eq!(
            ex("x$myhostname", &[]),
            Err(ExpandError::Unknown(b"myhostname".to_vec()))
        );
    }

    #[test]
    fn scan_lists_names_in_every_branch() {
        let names = referenced_names(b"${a?{$b}:{$c}} $d ${e:$f}").unwrap();
        let names: Vec<_> = names
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        assert_eq!(names, ["a", "b", "c", "d", "e", "f"]);
    }
}
