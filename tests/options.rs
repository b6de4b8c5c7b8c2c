//! The option letters are written in six places: the parser
//! (`command::FLAGS`, `command::WITH_VALUE`), upstream's usage text, the man
//! page, and the bash, zsh and fish completion scripts.  These tests fail
//! when they drift apart.  They read only the repository.
use std::collections::BTreeSet;

use postmulti::command::{usage, FLAGS, WITH_VALUE};

/// A set of option letters, each with whether it takes a value.
type Options = BTreeSet<(char, bool)>;

/// What the parser accepts.
fn parser() -> Options {
    let flags = FLAGS.iter().map(|&c| (c as char, false));
    let valued = WITH_VALUE.iter().map(|&c| (c as char, true));
    flags.chain(valued).collect()
}

/// Reads a file of the repository.
fn read(path: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The man page's OPTIONS section: `.TP` then `.B \-x` or `.BI \-x " value"`.
fn man_page() -> Options {
    let text = read("man/postmulti.1");
    let section = text
        .split("\n.SH ")
        .find(|s| s.starts_with("OPTIONS"))
        .expect("man page has an OPTIONS section");
    let lines: Vec<&str> = section.lines().collect();
    let mut found = Options::new();
    for pair in lines.windows(2) {
        if pair[0] != ".TP" {
            continue;
        }
        let (valued, rest) = if let Some(r) = pair[1].strip_prefix(".BI \\-") {
            (true, r)
        } else if let Some(r) = pair[1].strip_prefix(".B \\-") {
            (false, r)
        } else {
            continue;
        };
        let mut chars = rest.chars();
        let letter = chars.next().expect("an option letter");
        if chars.next().is_some_and(|c| c != ' ') {
            continue; // a long option (\-\-version) or not an option
        }
        found.insert((letter, valued));
    }
    found
}

/// The zsh `_arguments` specs: `'(excl)-x[...]'`, `-x+[...]` takes a value.
fn zsh() -> Options {
    let text = read("src/completion/_postmulti");
    let mut found = Options::new();
    for line in text.lines() {
        let line = line.trim_start();
        let Some(spec) = line.strip_prefix('\'') else {
            continue;
        };
        let spec = spec.trim_start_matches('*');
        let spec = match spec.strip_prefix('(') {
            Some(s) => &s[s.find(')').map_or(0, |i| i + 1)..],
            None => spec,
        };
        let mut chars = spec.chars();
        if chars.next() != Some('-') {
            continue;
        }
        let Some(letter) = chars.next().filter(char::is_ascii_alphabetic) else {
            continue;
        };
        match chars.next() {
            Some('+') => found.insert((letter, true)),
            Some('[') => found.insert((letter, false)),
            _ => continue,
        };
    }
    found
}

/// The bash script: the options it offers (`offer+=(-a ...)`) and those it
/// knows take a value (the `e | g | i | G | I)` case of its argv walk).
fn bash() -> Options {
    let text = read("src/completion/postmulti.bash");
    let mut offered = BTreeSet::new();
    for part in text.split("offer+=(").skip(1) {
        let words = &part[..part.find(')').expect("offer+=( ... )")];
        for w in words.split_whitespace() {
            if let Some(l) = w.strip_prefix('-').filter(|l| l.len() == 1) {
                offered.insert(l.chars().next().unwrap());
            }
        }
    }
    let valued_case = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("e | g | i | G | I)"))
        .expect("the bash script's case of options with a value");
    let valued: BTreeSet<char> = valued_case
        .trim_end_matches(')')
        .split('|')
        .map(|w| w.trim().chars().next().unwrap())
        .collect();
    offered.iter().map(|&c| (c, valued.contains(&c))).collect()
}

/// The fish script: the options it offers (`complete ... -n '__postmulti_offers
/// X' -s X`, `-x` or `-r` when it takes a value), and the letters its argv
/// walk (`__postmulti_parse`, the `case e g i G I` branch) reads a value for,
/// which must be the same.
fn fish() -> Options {
    let text = read("src/completion/postmulti.fish");
    let mut found = Options::new();
    for line in text.lines() {
        if !line.starts_with("complete -c postmulti -n '__postmulti_offers ") {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let letter = words
            .windows(2)
            .find(|w| w[0] == "-s")
            .and_then(|w| w[1].chars().next())
            .expect("an offered option has -s LETTER");
        let valued = words.iter().any(|w| *w == "-x" || *w == "-r");
        found.insert((letter, valued));
    }
    let walked: BTreeSet<char> = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("case e g i G I"))
        .expect("the fish script's case of options with a value")
        .split_whitespace()
        .skip(1)
        .map(|w| w.chars().next().unwrap())
        .collect();
    let flagged: BTreeSet<char> = found.iter().filter(|o| o.1).map(|o| o.0).collect();
    assert_eq!(walked, flagged, "fish: valued options in the walk vs -x/-r");
    found
}

/// Letters in upstream's usage text (`[-v]`, `-l`, `[-g group]`, ...).
fn usage_letters() -> BTreeSet<char> {
    let text = String::from_utf8(usage(b"postmulti").0).unwrap();
    text.split_whitespace()
        .map(|w| w.trim_start_matches('['))
        .filter_map(|w| w.strip_prefix('-'))
        .filter(|l| l.trim_end_matches(']').len() == 1)
        .map(|l| l.chars().next().unwrap())
        .collect()
}

#[test]
fn man_page_documents_exactly_the_parsers_options() {
    assert_eq!(man_page(), parser());
}

#[test]
fn zsh_completion_offers_exactly_the_parsers_options() {
    assert_eq!(zsh(), parser());
}

#[test]
fn bash_completion_offers_exactly_the_parsers_options() {
    assert_eq!(bash(), parser());
}

#[test]
fn fish_completion_offers_exactly_the_parsers_options() {
    assert_eq!(fish(), parser());
}

#[test]
fn usage_text_names_only_options_the_parser_has() {
    let letters: BTreeSet<char> = parser().into_iter().map(|(c, _)| c).collect();
    let usage = usage_letters();
    assert!(usage.is_subset(&letters), "{usage:?} vs {letters:?}");
    // Upstream's text, which this postmulti prints as is, lacks -j and -R.
    let missing: BTreeSet<char> = letters.difference(&usage).copied().collect();
    assert_eq!(missing, BTreeSet::from(['R', 'j']));
}
