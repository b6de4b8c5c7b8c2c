//! master.cf as postconf reads it (postconf_master.c, postconf_user.c), for
//! the native reader ([`crate::native`]): logical lines, words, the checks
//! that make postconf die, the daemon options, and each entry's `-o`
//! settings.  Anything postconf would warn about, and anything whose
//! reading is not certain, is None: the native reader then hands the
//! instance to postconf.  The rules are listed in the module docs of src/native/.

use crate::bytes::{is_white_space, join, mystrtokq};
use crate::maincf::{logical_lines, split_nameval};

/// Fields before the command's arguments (PCF_MASTER_MIN_FIELDS).
const MIN_FIELDS: usize = 8;

/// One master.cf entry as pcf_parse_master_entry() leaves it: its words,
/// the daemon options normalized (`-vo x=1` is `-v -o x=1`).
pub struct MasterEntry {
    pub argv: Vec<Vec<u8>>,
}

impl MasterEntry {
    /// "service/type": the name of the entry's parameter name space.  Two
    /// entries with the same name share one (dict_update on one table).
    pub fn name_space(&self) -> Vec<u8> {
        let mut ns = self.argv[0].clone();
        ns.push(b'/');
        ns.extend_from_slice(&self.argv[1]);
        ns
    }

    /// The entry's read-only parameters, looked up before its `-o` settings:
    /// service_name is the service field, process_name what follows the
    /// last `/` of the command.
    pub fn read_only(&self) -> [(&'static [u8], &[u8]); 2] {
        let command = &self.argv[MIN_FIELDS - 1];
        let base = command
            .iter()
            .rposition(|&b| b == b'/')
            .map_or(&command[..], |at| &command[at + 1..]);
        [(b"service_name", &self.argv[0]), (b"process_name", base)]
    }

    /// The `-o name=value` settings, in order, as register_user_parameters()
    /// enters them: options only (up to the first word that is not one, or
    /// `--`), `-o` with a following word that split_nameval() accepts (a
    /// word it refuses is skipped in silence).
    pub fn settings(&self) -> Vec<(&[u8], &[u8])> {
        let mut out = Vec::new();
        let mut field = MIN_FIELDS;
        while let Some(arg) = self.argv.get(field) {
            if !is_option(arg) {
                break;
            }
            if arg == b"-o" {
                if let Some(Ok(setting)) = self.argv.get(field + 1).map(|w| split_nameval(w)) {
                    out.push(setting);
                }
                field += 1;
            }
            field += 1;
        }
        out
    }
}

/// Whether a word is a daemon option: it starts with `-` and is not `--`.
fn is_option(word: &[u8]) -> bool {
    word.first() == Some(&b'-') && word != b"--"
}

/// DIR/master.cf.
pub fn master_cf_path(dir: &[u8]) -> Vec<u8> {
    join(dir, b"master.cf")
}

/// The entries of master.cf text DATA, read from PATH, as pcf_read_master()
/// reads them; None when it would warn (a line that starts with white
/// space), die (bad field count, invalid field), or read something this
/// reader does not follow exactly.  Nothing but DATA decides the answer
/// (PATH would only show in a warning, and a warning is None).  No
/// master.cf at all is a warning too: the caller's read fails.
pub fn parse_master(path: &[u8], data: &[u8]) -> Option<Vec<MasterEntry>> {
    if data.contains(&0) {
        return None;
    }
    let mut warnings = Vec::new();
    let lines = logical_lines(path, data, &mut warnings);
    if !warnings.is_empty() {
        return None;
    }
    lines
        .iter()
        .map(|line| parse_master_entry(&line.text))
        .collect()
}

/// pcf_parse_master_entry(): the words, at least eight, the fields checked,
/// the daemon options normalized.
fn parse_master_entry(text: &[u8]) -> Option<MasterEntry> {
    let mut argv: Vec<Vec<u8>> = split_words(text).into_iter().map(<[u8]>::to_vec).collect();
    // A word with blanks comes from a {...} group: left to postconf.
    if argv.len() < MIN_FIELDS || argv.iter().any(|w| w.iter().any(|&b| is_white_space(b))) {
        return None;
    }
    if !check_master_entry(&argv) {
        return None;
    }
    normalize_daemon_args(&mut argv)?;
    Some(MasterEntry { argv })
}

/// The words of an entry as argv_splitq(text, " \t\r\n", "{}") splits them
/// (mystrtokq): runs of blanks (not \v or \f) separate words, except inside
/// a group that a `{` opens anywhere in a word and the matching `}` closes,
/// or the end of the line does; a `}` outside a group is an ordinary byte.
pub fn split_words(text: &[u8]) -> Vec<&[u8]> {
    let mut words = Vec::new();
    let mut at = 0;
    while let Some(word) = mystrtokq(text, &mut at, is_white_space) {
        words.push(word);
    }
    words
}

/// pcf_check_master_entry(), whose failures are fatal: the type is one of
/// postconf's, the three flags one of `y`, `n`, `-`, the wakeup time `-` or
/// digits (each with an optional `?`), the process limit `-` or digits.
fn check_master_entry(argv: &[Vec<u8>]) -> bool {
    let flag = |f: &[u8]| matches!(f, b"y" | b"n" | b"-");
    let digits = |f: &[u8]| f.iter().all(u8::is_ascii_digit);
    let wakeup = argv[5].strip_suffix(b"?").unwrap_or(&argv[5]);
    matches!(
        argv[1].as_slice(),
        b"inet" | b"unix" | b"unix-dgram" | b"fifo" | b"pass"
    ) && argv[2..5].iter().all(|f| flag(f))
        && (wakeup == b"-" || digits(wakeup))
        && (argv[6] == b"-" || digits(&argv[6]))
}

/// pcf_normalize_daemon_args(): from the ninth word up to the first that is
/// not an option (or `--`), `-stuffozz` becomes `-stuff -ozz` (an `o`
/// after the option's first letter starts an `-o` of its own) and `-ozz`
/// becomes `-o zz`; an `-o` takes the next word as its value.  None for
/// what postconf would extract from `{...}` (an option value or an
/// argument that starts with `{`), and for a lone `-`, which postconf
/// reads past the end of.
fn normalize_daemon_args(argv: &mut Vec<Vec<u8>>) -> Option<()> {
    let mut field = MIN_FIELDS;
    while field < argv.len() && is_option(&argv[field]) {
        if argv[field].len() < 2 {
            return None;
        }
        if let Some(at) = argv[field][2..].iter().position(|&b| b == b'o') {
            let mut rest = b"-".to_vec();
            rest.extend_from_slice(&argv[field][at + 2..]);
            argv[field].truncate(at + 2);
            argv.insert(field + 1, rest);
        }
        if argv[field][1] == b'o' {
            if argv[field].len() > 2 {
                let value = argv[field].split_off(2);
                argv.insert(field + 1, value);
            }
            if field + 1 < argv.len() {
                field += 1;
                if argv[field].first() == Some(&b'{') {
                    return None;
                }
            }
        }
        field += 1;
    }
    if argv[field.min(argv.len())..]
        .iter()
        .any(|w| w.first() == Some(&b'{'))
    {
        return None;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &[u8]) -> Vec<String> {
        split_words(text)
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect()
    }

    fn normalized(text: &[u8]) -> Option<Vec<String>> {
        let entry = parse_master_entry(text)?;
        Some(
            entry
                .argv
                .iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect(),
        )
    }

    #[test]
    fn words_split_on_blanks_but_not_on_vertical_tab_or_form_feed() {
        assert_eq!(
            words(b" a\tb\r c \x0bd\x0ce "),
            ["a", "b", "c", "\x0bd\x0ce"]
        );
    }

    #[test]
    fn a_brace_groups_words_until_it_closes_or_the_line_ends() {
        assert_eq!(words(b"x{ a b }y z"), ["x{ a b }y", "z"]);
        assert_eq!(words(b"}{ a b"), ["}{ a b"]);
        assert_eq!(words(b"a} b"), ["a}", "b"]);
    }

    #[test]
    fn fields_are_checked_as_postconf_does() {
        assert!(normalized(b"s inet n - y - - cmd").is_some());
        assert!(normalized(b"s unix-dgram n - y ? 0 cmd").is_some());
        assert!(normalized(b"s inet n - y -? 1 cmd").is_some());
        assert!(normalized(b"s inet n - y - - ").is_none());
        assert!(normalized(b"s tcp n - y - - cmd").is_none());
        assert!(normalized(b"s inet yes - y - - cmd").is_none());
        assert!(normalized(b"s inet n - y 1x - cmd").is_none());
        assert!(normalized(b"s inet n - y - 1? cmd").is_none());
    }

    #[test]
    fn options_are_normalized_as_postconf_does() {
        let argv =
            normalized(b"s inet n - y - - cmd -vo a=1 -ob=2 -osyslog_name=x y -o c=3").unwrap();
        assert_eq!(
            argv[8..],
            ["-v", "-o", "a=1", "-o", "b=2", "-o", "sysl", "-o", "g_name=x", "y", "-o", "c=3"]
                .map(String::from)[..]
        );
    }

    #[test]
    fn settings_are_the_options_up_to_the_first_argument_or_double_dash() {
        let entry =
            parse_master_entry(b"s inet n - y - - cmd -o a=1 -o nonsense -vo b = 2 -- -o c=3")
                .unwrap();
        let settings: Vec<(&[u8], &[u8])> = entry.settings();
        assert_eq!(settings, [(&b"a"[..], &b"1"[..])]);
        let entry = parse_master_entry(b"s inet n - y - - cmd -o a=1 -vo b=2 -o").unwrap();
        assert_eq!(entry.settings(), [(&b"a"[..], &b"1"[..]), (b"b", b"2")]);
        let entry = parse_master_entry(b"s inet n - y - - cmd -ofoo=1").unwrap();
        assert_eq!(entry.settings(), [(&b"-o"[..], &b"1"[..])]);
    }

    #[test]
    fn groups_postconf_extracts_and_a_lone_dash_are_left_to_postconf() {
        assert!(normalized(b"s inet n - y - - cmd -o {a=1}").is_none());
        assert!(normalized(b"s inet n - y - - cmd x {a}").is_none());
        assert!(normalized(b"s inet n - y - - cmd - x").is_none());
        assert!(normalized(b"s inet n - y - - cmd x ${a}").is_some());
    }

    #[test]
    fn read_only_parameters_of_an_entry() {
        let entry = parse_master_entry(b"127.0.0.1:25 inet n - y - - /a/b/smtpd").unwrap();
        let ro = entry.read_only();
        assert_eq!(ro[0], (&b"service_name"[..], &b"127.0.0.1:25"[..]));
        assert_eq!(ro[1], (&b"process_name"[..], &b"smtpd"[..]));
        assert_eq!(entry.name_space(), b"127.0.0.1:25/inet");
    }
}
