//! Parameter expansion as Postfix's mac_parse(3) and mac_expand(3) do it,
//! with the `<level` operators of compat_level(3) that mail_conf_read()
//! registers.  The observable rules, each mirrored below by the function
//! named after the C code it follows:
//!
//! * mac_parse (`Expander::parse`): `$$` is one `$`; `$name` takes the
//!   longest run of ASCII letters, digits and `_`; `${...}` and `$(...)`
//!   take everything up to the matching close, counting only their own
//!   kind of bracket.  A `$` followed by nothing usable is `empty macro
//!   name: "VALUE"`; an unclosed one is `truncated macro reference:
//!   "VALUE"` (the whole value); both stop the parse.  Literal text counts
//!   as a nesting level too, and text left after an error is dropped.
//!   Once a callback has reported an error, the next `${...}` or `$(...)`
//!   ends the parse without a word (an unclosed one still warns), while
//!   `$name` and `$` go on to the callback (which does nothing more) and
//!   to the `empty macro name` check.
//! * mac_expand_callback (`Expander::callback`): more than 100 nested
//!   calls is `unreasonable macro call nesting: "TEXT"`.  After the first
//!   error nothing more is expanded, but the parse goes on (so later
//!   `truncated`/`empty` warnings still print).
//! * A body that starts, after white space (space, tab, CR, LF), with `{`
//!   is a relational expression (`Expander::parse_relational`):
//!   `{left} OP {right}`, OP one of `==` `!=` `<` `<=` `>` `>=`, read as
//!   the longest run of `<>!=?+-*/~&|%` (anything else: `"==" or "!=""
//!   or "<"" or "<="" or ">="" or ">" expected at: "...LEFT}>>>NEXT20"`).
//!   An operator may carry the suffix `level` (`<level`, `==level`, ...):
//!   a run of letters and digits right after it; another suffix is `bad
//!   operator suffix at: "...OP>>>SUFFIX"`.  The right operand must be a
//!   `{...}` (`"{expression}" expected at: "...{LEFT} OP>>>NEXT20"`);
//!   braces must balance (`unbalanced {} in attribute expression:
//!   "REST"`).  Each operand is expanded afresh (its own nesting count and
//!   error state: an error in the left one does not silence the right
//!   one), and the comparison is made even after an operand's error.
//! * mac_exp_eval (`compare`): when both operands are all digits (and not
//!   empty) they are compared as numbers (so `01000 == 1000`); a number
//!   beyond a signed 64-bit long is the fatal `mac_exp_eval: bad
//!   conversion: DIGITS`.  Otherwise they compare as byte strings (strcmp).
//! * compat_relop_eval (`compat_level_from_string`): with `level`, both
//!   sides are compatibility levels `major[.minor[.patch]]` read by
//!   strtol (leading white space and a sign allowed), minor and patch
//!   0..1023; anything else is the warning `malformed compatibility level
//!   syntax: "TEXT"` (the left operand's only, when both are bad) and an
//!   error.
//! * The value of a relational expression is `true` or empty; it may be
//!   followed by `?` or `:` (anything else: `"?" or ":" expected at:
//!   "...}>>>NEXT20"`).
//! * Otherwise the body is a name (`Expander::named`), white space
//!   allowed around it: `${ name }`, `${name ?x}`.  A character other than
//!   a letter, digit or `_` inside it is `attribute name syntax error at:
//!   "...BEFORE>>>NEXT20"`.
//! * `?TEXT`/`?{TEXT}` is expanded when the value is not empty, `:TEXT`
//!   or `:{TEXT}` when it is empty or undefined; `?{A}:{B}` and `?{A}:B`
//!   choose.  Without braces an operand runs to the end of the body.  Text
//!   after a `?{..}` other than `:` is `":" expected at: "...A}>>>NEXT20"`;
//!   text after the `:` operand is `unexpected input at: "...B}>>>NEXT20"`.
//!   Only the taken branch is expanded (and checked); a scan
//!   ([`referenced_names`]) visits both and evaluates no comparison.
//! * A plain reference's value is itself expanded (MAC_EXP_FLAG_RECURSE,
//!   as mail_conf_eval() asks); an undefined name is empty.
//!
//! postmulti turns any of these errors into `fatal: dictionary mail_dict:
//! macro processing error` after the warnings (dict_eval); postconf says
//! `fatal: macro processing error`.

use std::cmp::Ordering;

use crate::bytes::{is_space, is_white_space};
use crate::msg::bfmt;

/// How deep macro references may nest before Postfix gives up.
const MAX_LEVEL: usize = 100;

/// A bound on all recursion, so that no input can exhaust the stack.  The
/// operands of a comparison start their nesting count afresh, so a value
/// that compares itself (`a = ${{$a} == {x}}`) recurses until Postfix
/// dies of a segmentation fault; here it is an error that stops everything.
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
    /// A fatal error inside the expansion itself (mac_exp_eval's bad
    /// conversion): the warnings printed before it, and its text.
    Fatal(Vec<Vec<u8>>, Vec<u8>),
}

/// The value of Postfix's MAC_EXP_BVAL_TRUE.
const BVAL_TRUE: &[u8] = b"true";

/// The characters an operator is read from (for better diagnostics).
const OPERATOR_CHARS: &[u8] = b"<>!=?+-*/~&|%";

/// The one operator suffix Postfix registers (compat_level_relop_register).
const LEVEL_SUFFIX: &[u8] = b"level";

/// The relational operators (mac_exp_op_table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relop {
    Eq,
    Ne,
    Lt,
    Le,
    Ge,
    Gt,
}

impl Relop {
    fn from_text(op: &[u8]) -> Option<Relop> {
        Some(match op {
            b"==" => Relop::Eq,
            b"!=" => Relop::Ne,
            b"<" => Relop::Lt,
            b"<=" => Relop::Le,
            b">=" => Relop::Ge,
            b">" => Relop::Gt,
            _ => return None,
        })
    }

    /// Whether `left OP right` holds, given how left compares to right.
    fn holds(self, delta: Ordering) -> bool {
        match self {
            Relop::Eq => delta.is_eq(),
            Relop::Ne => delta.is_ne(),
            Relop::Lt => delta.is_lt(),
            Relop::Le => delta.is_le(),
            Relop::Ge => delta.is_ge(),
            Relop::Gt => delta.is_gt(),
        }
    }
}

/// mac_exp_eval's operand error, "bad conversion" (fatal).
struct BadConversion(Vec<u8>);

/// mac_exp_eval: numbers when both sides are all digits, else strcmp.
fn compare(left: &[u8], right: &[u8]) -> Result<Ordering, BadConversion> {
    let alldig = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    if !(alldig(left) && alldig(right)) {
        return Ok(left.cmp(right));
    }
    let number = |s: &[u8]| -> Result<i64, BadConversion> {
        std::str::from_utf8(s)
            .ok()
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| BadConversion(bfmt("mac_exp_eval: bad conversion: %s", &[s])))
    };
    Ok(number(left)?.cmp(&number(right)?))
}

/// C's strtol(s, &end, 10): the value (None on overflow, as ERANGE) and
/// where the number ends (0 when nothing was converted).
pub(crate) fn strtol(s: &[u8]) -> (Option<i64>, usize) {
    let mut i = s.iter().position(|&b| !is_space(b)).unwrap_or(s.len());
    let negative = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return (Some(0), 0);
    }
    let mut value: Option<i64> = Some(0);
    for &d in &s[i..i + digits] {
        let d = i64::from(d - b'0');
        value = value.and_then(|v| v.checked_mul(10)).and_then(|v| {
            if negative {
                v.checked_sub(d)
            } else {
                v.checked_add(d)
            }
        });
    }
    (value, i + digits)
}

/// compat_level_from_string: `major[.minor[.patch]]` as one comparable
/// number, or the warning Postfix prints.
pub(crate) fn compat_level_from_string(text: &[u8]) -> Result<i64, Vec<u8>> {
    const MAJOR_SHIFT: u32 = 20;
    let bad = || bfmt("malformed compatibility level syntax: \"%s\"", &[text]);
    let mut result = 0i64;
    let mut start = 0;
    for (field, limit) in [(0, i64::MAX >> MAJOR_SHIFT), (1, 0x3ff), (2, 0x3ff)] {
        let (value, len) = strtol(&text[start..]);
        let end = start + len;
        let last = end == text.len();
        let more = field < 2 && text.get(end) == Some(&b'.');
        let value = value.filter(|v| len > 0 && (0..=limit).contains(v));
        let Some(value) = value.filter(|_| last || more) else {
            return Err(bad());
        };
        result |= value << (MAJOR_SHIFT - 10 * field);
        if last {
            return Ok(result);
        }
        start = end + 1;
    }
    Err(bad())
}

/// compat_relop_eval: compares two compatibility levels.
fn compare_levels(left: &[u8], right: &[u8]) -> Result<Ordering, Vec<u8>> {
    let left = compat_level_from_string(left)?;
    let right = compat_level_from_string(right)?;
    Ok(left.cmp(&right))
}

/// Skips white space; true when a `{` follows (MAC_EXP_FIND_LEFT_CURLY).
fn find_left_curly(text: &[u8], cp: &mut usize) -> bool {
    let i = skip_white_space(text, *cp);
    if text.get(i) == Some(&b'{') {
        *cp = i;
        true
    } else {
        false
    }
}

/// The first position at or after `at` that is not white space.
fn skip_white_space(text: &[u8], at: usize) -> usize {
    let at = at.min(text.len());
    at + text[at..]
        .iter()
        .take_while(|&&b| is_white_space(b))
        .count()
}

/// Up to 20 bytes from `at`, as `%.20s` shows them.
fn next20(text: &[u8], at: usize) -> &[u8] {
    let at = at.min(text.len());
    &text[at..(at + 20).min(text.len())]
}

/// Whether a byte may be part of a parameter name (ISALNUM or `_`).
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
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

/// What follows the head of a `${...}` body: nothing, `?` or `:`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tail {
    Plain,
    IfTrue,
    IfFalse,
}

/// The state of one mac_expand() call (MAC_EXP_CONTEXT).
struct Expander<'r> {
    resolver: &'r mut dyn Resolver,
    scan: bool,
    level: usize,
    depth: usize,
    warnings: Vec<Vec<u8>>,
    failed: bool,
    unknown: Option<Vec<u8>>,
    fatal: Option<Vec<u8>>,
    too_deep: bool,
    names: Vec<Vec<u8>>,
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
            fatal: None,
            too_deep: false,
            names: Vec::new(),
        }
    }

    fn finish(self) -> Result<(), ExpandError> {
        if let Some(name) = self.unknown {
            Err(ExpandError::Unknown(name))
        } else if let Some(text) = self.fatal {
            Err(ExpandError::Fatal(self.warnings, text))
        } else if self.failed {
            Err(ExpandError::Syntax(self.warnings))
        } else {
            Ok(())
        }
    }

    /// mac_exp_parse_error: a warning, and the error flag.
    fn error(&mut self, text: Vec<u8>) {
        self.warnings.push(text);
        self.failed = true;
    }

    /// Nothing more is expanded: an error, or an answer only postconf has.
    fn stopped(&self) -> bool {
        self.failed || self.halted()
    }

    /// Nothing more happens at all: postconf must answer, Postfix died,
    /// or the recursion went deeper than any Postfix survives.
    fn halted(&self) -> bool {
        self.unknown.is_some() || self.fatal.is_some() || self.too_deep
    }

    /// mac_parse: literal text and macro references, left to right, each
    /// handed to the callback.  Like mac_parse it goes on after a callback
    /// reports an error; only a malformed reference stops it.
    fn parse(&mut self, value: &[u8], out: &mut Vec<u8>) {
        self.depth += 1;
        if self.depth > MAX_DEPTH && !self.too_deep {
            self.error(bfmt(
                "unreasonable macro call nesting: \"%s\"",
                &[next20(value, 0)],
            ));
            self.too_deep = true;
        }
        let mut literal = Vec::new();
        let mut local_error = false;
        let mut vp = 0;
        while vp < value.len() && !self.halted() {
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
                let Some((name, next)) = self.reference(value, vp + 1, local_error) else {
                    local_error = true;
                    break;
                };
                vp = next;
                self.callback(&name, out);
                local_error |= self.failed;
            }
        }
        if !literal.is_empty() && !local_error {
            self.literal(&literal, out);
        }
        self.depth -= 1;
    }

    /// The body of the reference whose `$` is just before `vp`, and where
    /// the text after it starts; None when the parse stops there: after
    /// mac_parse's own warning, or at a `${...}`/`$(...)` once this parse
    /// has seen an error (`failed`), silently.
    fn reference(&mut self, value: &[u8], vp: usize, failed: bool) -> Option<(Vec<u8>, usize)> {
        let (name, next) = match value.get(vp) {
            Some(&open @ (b'{' | b'(')) => {
                let close = if open == b'{' { b'}' } else { b')' };
                let Some(end) = matching_close(value, vp + 1, open, close) else {
                    self.error(bfmt("truncated macro reference: \"%s\"", &[value]));
                    return None;
                };
                if failed {
                    return None;
                }
                (value[vp + 1..end].to_vec(), end + 1)
            }
            _ => {
                let len = value[vp..].iter().take_while(|&&b| is_name_byte(b)).count();
                (value[vp..vp + len].to_vec(), vp + len)
            }
        };
        if name.is_empty() {
            self.error(bfmt("empty macro name: \"%s\"", &[value]));
            return None;
        }
        Some((name, next))
    }

    /// The callback for literal text: it too counts as a nesting level.
    fn literal(&mut self, text: &[u8], out: &mut Vec<u8>) {
        if !self.enter(text) {
            return;
        }
        if !self.scan {
            out.extend_from_slice(text);
        }
        self.level -= 1;
    }

    /// The callback's sanity check: one nesting level more, and whether to go on.
    fn enter(&mut self, text: &[u8]) -> bool {
        let over = self.level > MAX_LEVEL;
        self.level += 1;
        if over {
            self.error(bfmt("unreasonable macro call nesting: \"%s\"", &[text]));
        }
        !self.stopped()
    }

    /// Extracts a `{payload}` at `cp`, balancing braces, and skips the
    /// white space after it (mac_exp_extract_curly_payload).
    fn curly_payload(&mut self, text: &[u8], cp: &mut usize) -> Option<Vec<u8>> {
        let Some(end) = matching_close(text, *cp + 1, b'{', b'}') else {
            self.error(bfmt(
                "unbalanced {} in attribute expression: \"%s\"",
                &[&text[*cp..]],
            ));
            return None;
        };
        let payload = text[*cp + 1..end].to_vec();
        *cp = skip_white_space(text, end + 1);
        Some(payload)
    }

    /// A fresh mac_expand() of an operand: its own nesting count and error
    /// state; its errors are added to ours afterwards.
    fn operand(&mut self, text: &[u8]) -> Vec<u8> {
        let (level, failed) = (self.level, self.failed);
        self.level = 0;
        self.failed = false;
        let mut out = Vec::new();
        self.parse(text, &mut out);
        self.level = level;
        self.failed |= failed;
        out
    }
}

/// Where the bracket opened just before `from` closes, counting nested
/// pairs of the same kind; None when it never does.
fn matching_close(text: &[u8], from: usize, open: u8, close: u8) -> Option<usize> {
    let mut level = 1usize;
    for (i, &c) in text.iter().enumerate().skip(from) {
        if c == open {
            level += 1;
        } else if c == close {
            level -= 1;
            if level == 0 {
                return Some(i);
            }
        }
    }
    None
}

impl Expander<'_> {
    /// mac_expand_callback for one `$name` or `${...}` body.
    fn callback(&mut self, text: &[u8], out: &mut Vec<u8>) {
        if !self.enter(text) {
            return;
        }
        let mut cp = 0;
        let head = if find_left_curly(text, &mut cp) {
            self.relational_head(text, cp)
        } else {
            self.named(text)
        };
        let Some((lookup, tail, cp)) = head else {
            return;
        };
        let truthy = lookup.as_ref().is_some_and(|v| !v.is_empty());
        let done = match tail {
            Tail::IfTrue => self.if_true(text, cp, truthy, out),
            Tail::IfFalse => self.if_false(text, cp, truthy, out),
            Tail::Plain => {
                if let Some(value) = lookup.filter(|v| !v.is_empty() && !self.scan) {
                    self.parse(&value, out);
                }
                true
            }
        };
        if done {
            self.level -= 1;
        }
    }

    /// A relational expression and the `?` or `:` after it: its value
    /// ("true" or empty; undefined when scanning), what follows, and where.
    fn relational_head(
        &mut self,
        text: &[u8],
        cp: usize,
    ) -> Option<(Option<Vec<u8>>, Tail, usize)> {
        let (value, mut cp) = self.parse_relational(text, cp)?;
        let tail = match text.get(cp) {
            None => Tail::Plain,
            Some(b'?') => Tail::IfTrue,
            Some(b':') => Tail::IfFalse,
            Some(_) => {
                self.error(bfmt(
                    "\"?\" or \":\" expected at: \"...}>>>%s\"",
                    &[next20(text, cp)],
                ));
                return None;
            }
        };
        if tail != Tail::Plain {
            cp += 1;
        }
        Some((value, tail, cp))
    }

    /// mac_exp_parse_relational: `{left} OP[level] {right}` at `cp`; the
    /// value and where the text after it starts.
    fn parse_relational(&mut self, text: &[u8], mut cp: usize) -> Option<(Option<Vec<u8>>, usize)> {
        let left = self.curly_payload(text, &mut cp)?;
        let op_pos = cp;
        let op_len = text[cp..]
            .iter()
            .take_while(|b| OPERATOR_CHARS.contains(b))
            .count();
        let op = &text[cp..cp + op_len];
        let Some(relop) = Relop::from_text(op) else {
            self.error(bfmt(
                "\"==\" or \"!=\"\" or \"<\"\" or \"<=\"\" or \">=\"\" or \">\" expected at: \"...%s}>>>%s\"",
                &[&left, next20(text, cp)],
            ));
            return None;
        };
        cp += op_len;
        let suffix_len = text[cp..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let levels = suffix_len > 0;
        if levels && &text[cp..cp + suffix_len] != LEVEL_SUFFIX {
            self.error(bfmt(
                "bad operator suffix at: \"...%s>>>%s\"",
                &[op, &text[cp..cp + suffix_len]],
            ));
            return None;
        }
        cp += suffix_len;
        if !find_left_curly(text, &mut cp) {
            self.error(bfmt(
                "\"{expression}\" expected at: \"...{%s} %s>>>%s\"",
                &[&left, &text[op_pos..op_pos + op_len], next20(text, cp)],
            ));
            return None;
        }
        let right = self.curly_payload(text, &mut cp)?;
        let value = self.evaluate(&left, relop, levels, &right);
        (!self.stopped()).then_some((value, cp))
    }

    /// Expands both operands and compares them (relop_eval); None when
    /// scanning, as Postfix fakes an undefined value then.
    fn evaluate(
        &mut self,
        left: &[u8],
        relop: Relop,
        levels: bool,
        right: &[u8],
    ) -> Option<Vec<u8>> {
        let left = self.operand(left);
        let right = self.operand(right);
        if self.scan || self.halted() {
            return None;
        }
        let delta = if levels {
            compare_levels(&left, &right)
                .map_err(|w| self.error(w))
                .ok()?
        } else {
            match compare(&left, &right) {
                Ok(delta) => delta,
                Err(BadConversion(text)) => {
                    self.fatal = Some(text);
                    return None;
                }
            }
        };
        Some(if relop.holds(delta) {
            BVAL_TRUE.to_vec()
        } else {
            Vec::new()
        })
    }

    /// A parameter name, white space allowed around it, and the `?` or
    /// `:` after it: its value (None: undefined), what follows, and where.
    fn named(&mut self, text: &[u8]) -> Option<(Option<Vec<u8>>, Tail, usize)> {
        let start = skip_white_space(text, 0);
        let mut cp = start;
        let (name_end, tail) = loop {
            let next = skip_white_space(text, cp);
            match text.get(next) {
                None => break (cp, Tail::Plain),
                Some(&c @ (b'?' | b':')) => {
                    let tail = if c == b'?' {
                        Tail::IfTrue
                    } else {
                        Tail::IfFalse
                    };
                    let end = cp;
                    cp = next + 1;
                    break (end, tail);
                }
                Some(_) if !is_name_byte(text[cp]) => {
                    self.error(bfmt(
                        "attribute name syntax error at: \"...%s>>>%s\"",
                        &[&text[..cp], next20(text, cp)],
                    ));
                    return None;
                }
                Some(_) => cp += 1,
            }
        };
        let name = &text[start..name_end];
        if self.scan {
            self.names.push(name.to_vec());
        }
        let value = match self.resolver.lookup(name) {
            Lookup::Value(v) => Some(v),
            Lookup::Undefined => None,
            Lookup::Unknown if self.scan => None,
            Lookup::Unknown => {
                self.unknown = Some(name.to_vec());
                return None;
            }
        };
        Some((value, tail, cp))
    }

    /// A `{text}` operand at `cp`, or the rest of the text; and where the
    /// text after it starts.
    fn result_operand(&mut self, text: &[u8], cp: usize) -> Option<(Vec<u8>, usize)> {
        let mut cp = cp;
        if find_left_curly(text, &mut cp) {
            let payload = self.curly_payload(text, &mut cp)?;
            Some((payload, cp))
        } else {
            Some((text[cp..].to_vec(), text.len()))
        }
    }

    /// `?TEXT` or `?{TEXT}`, then perhaps `:...`; false after an error.
    fn if_true(&mut self, text: &[u8], cp: usize, truthy: bool, out: &mut Vec<u8>) -> bool {
        let Some((iftrue, cp)) = self.result_operand(text, cp) else {
            return false;
        };
        if truthy || self.scan {
            self.parse(&iftrue, out);
        }
        match text.get(cp) {
            None => true,
            Some(b':') => self.if_false(text, cp + 1, truthy, out),
            Some(_) => {
                self.error(bfmt(
                    "\":\" expected at: \"...%s}>>>%s\"",
                    &[&iftrue, next20(text, cp)],
                ));
                false
            }
        }
    }

    /// `:TEXT` or `:{TEXT}`, and nothing after it; false after an error.
    fn if_false(&mut self, text: &[u8], cp: usize, truthy: bool, out: &mut Vec<u8>) -> bool {
        let Some((iffalse, cp)) = self.result_operand(text, cp) else {
            return false;
        };
        if !truthy || self.scan {
            self.parse(&iffalse, out);
        }
        if cp < text.len() {
            self.error(bfmt(
                "unexpected input at: \"...%s}>>>%s\"",
                &[&iffalse, next20(text, cp)],
            ));
            return false;
        }
        true
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

    /// Each input expands, with the names `d`, to its expected text.
    fn expands_to(d: &[(&str, &str)], cases: &[(&str, &str)]) {
        for (input, expected) in cases {
            assert_eq!(ex(input, d).unwrap(), *expected, "{input}");
        }
    }

    #[test]
    fn plain_braced_and_parenthesized_names() {
        expands_to(
            &[("a", "1"), ("b", "$a$a")],
            &[
                ("x$a/${a}/$(a)/$b", "x1/1/1/11"),
                ("$$a", "$a"),
                ("${nope}z", "z"),
                ("${a}}", "1}"),
            ],
        );
    }

    #[test]
    fn conditionals_old_and_new_forms() {
        expands_to(
            &[("a", "1"), ("e", "")],
            &[
                ("${a?yes}", "yes"),
                ("${e?yes}", ""),
                ("${e:no}", "no"),
                ("${a?x:y}", "x:y"),
                ("${a?{ yes }:{no}}", " yes "),
                ("${u?{yes}:{ no}}", " no"),
                ("${{$a} == {1}?{eq}:{ne}}", "eq"),
                ("${{$a} != {1}?{eq}:{ne}}", "ne"),
            ],
        );
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
