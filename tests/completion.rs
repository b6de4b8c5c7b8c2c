//! Shell completion: `postmulti --completions bash|zsh|fish`.
//!
//! bash: in a sandbox, the real postmulti sets up three instances (the
//! primary, postfix-out in group mta, a nameless one in /etc/pf3); ours is
//! bind-mounted over /usr/sbin/postmulti; the script printed by
//! `postmulti --completions bash` is sourced and its function called with
//! COMP_WORDS/COMP_CWORD set as bash sets them.  Every case pins the exact
//! COMPREPLY, and the compopt calls (recorded by a shell function that
//! shadows the builtin).  One case runs against Debian's postmulti, which has
//! no -j, to pin the fallback to plain -l.
//!
//! zsh: the script must parse (`zsh -n`), and completing real command lines
//! in an interactive `zsh -f` (driven through zpty, with the script on
//! $fpath and compinit) must offer the same words, compared as sets; again
//! one case runs against Debian's postmulti first.
//!
//! fish: the script must parse (`fish -n`), and `complete -C LINE` in a
//! `fish --no-config` that sourced `postmulti --completions fish` must offer
//! the same words, compared as sets (fish sorts them); Debian's postmulti
//! again first.
mod sandboxed;
use sandboxed::*;

use std::collections::BTreeMap;
use std::process::Command;

/// The instances every completion test completes against: the primary,
/// postfix-out in group mta, and a nameless one in /etc/pf3.
const INSTANCES: &str = "\
set -e
postmulti -e init
postmulti -I postfix-out -G mta -e create
postmulti -e create config_directory=/etc/pf3 queue_directory=/var/spool/pf3 data_directory=/var/lib/pf3
";

/// What every script offers as the first word after a "-": the options,
/// then the extensions (zsh offers those only after "--").
const FIRST_WORDS: &[&str] = &[
    "-a",
    "-e",
    "-g",
    "-i",
    "-j",
    "-l",
    "-p",
    "-R",
    "-v",
    "-x",
    "-G",
    "-I",
    "--version",
    "--completions",
];

/// The actions after -e.
const ACTIONS: &[&str] = &[
    "create", "destroy", "import", "deport", "enable", "disable", "assign", "init",
];

/// The postfix commands after -p.
const POSTFIX_COMMANDS: &[&str] = &[
    "start",
    "stop",
    "reload",
    "status",
    "flush",
    "check",
    "abort",
    "drain",
    "quick-stop",
    "set-permissions",
    "upgrade-configuration",
    "tls",
    "logrotate",
];

/// Command lines to complete: the words, the last one being completed
/// ("" = just after a space), as bash splits them (COMP_WORDBREAKS splits
/// at "=").
type Case = (&'static [&'static str], &'static [&'static str]);

const BASH_CASES: &[Case] = &[
    // Options, with the extensions only as the first argument.
    (&["postmulti", "-"], FIRST_WORDS),
    (&["postmulti", "--"], &["--version", "--completions"]),
    (
        &["postmulti", "--completions", ""],
        &["bash", "zsh", "fish"],
    ),
    (&["postmulti", "--version", ""], &[]),
    // With no mode yet, an empty word also lists the options.
    (&["postmulti", ""], FIRST_WORDS),
    // Only the options that still make sense.
    (
        &["postmulti", "-l", "-"],
        &["-a", "-g", "-i", "-j", "-R", "-v"],
    ),
    (&["postmulti", "-p", "-g", "mta", "-"], &["-v"]),
    (&["postmulti", "-x", "-a", "-"], &["-R", "-v"]),
    (
        &["postmulti", "-e", "create", "-I", "postfix-a", "-"],
        &["-a", "-g", "-i", "-v", "-G"],
    ),
    (
        &["postmulti", "-e", "enable", "-"],
        &["-a", "-g", "-i", "-v"],
    ),
    // The eight actions.
    (&["postmulti", "-e", ""], ACTIONS),
    (&["postmulti", "-e", "d"], &["destroy", "deport", "disable"]),
    (&["postmulti", "-ecr"], &["-ecreate"]),
    // Live instance names ("-" for the primary, the directory of a nameless one).
    (&["postmulti", "-i", ""], &["-", "postfix-out", "/etc/pf3"]),
    (&["postmulti", "-l", "-i", "postfix-o"], &["postfix-out"]),
    (
        &["postmulti", "-i", "/etc/p"],
        &["/etc/postfix", "/etc/postfix-out", "/etc/pf3"],
    ),
    (
        &["postmulti", "-e", "destroy", "-i", ""],
        &["-", "postfix-out", "/etc/pf3"],
    ),
    (&["postmulti", "-lipostfix-"], &["-lipostfix-out"]),
    // Live groups; -G also offers "-" (no group).
    (&["postmulti", "-g", ""], &["mta"]),
    (&["postmulti", "-lgm"], &["-lgmta"]),
    (
        &["postmulti", "-e", "assign", "-i", "postfix-out", "-G", ""],
        &["mta", "-"],
    ),
    (
        &["postmulti", "-e", "assign", "-i", "postfix-out", "-I", ""],
        &["postfix-", "-"],
    ),
    // param= words after create (three) and import (config_directory only).
    (
        &["postmulti", "-e", "create", ""],
        &["config_directory=", "queue_directory=", "data_directory="],
    ),
    (
        &["postmulti", "-I", "postfix-a", "-e", "create", "q"],
        &["queue_directory="],
    ),
    (&["postmulti", "-e", "import", ""], &["config_directory="]),
    (
        &[
            "postmulti",
            "-e",
            "create",
            "queue_directory",
            "=",
            "/var/spool/x",
            "",
        ],
        &["config_directory=", "data_directory="],
    ),
    (
        &["postmulti", "-e", "create", "config_directory", "=", "/et"],
        &["/etc"],
    ),
    (&["postmulti", "-e", "enable", "-i", "postfix-out", ""], &[]),
    // postfix commands after -p, tls subcommands after -p tls.
    (&["postmulti", "-p", ""], POSTFIX_COMMANDS),
    (
        &["postmulti", "-g", "mta", "-p", "--", "s"],
        &["start", "stop", "status", "set-permissions"],
    ),
    (
        &["postmulti", "-p", "tls", "all"],
        &["all-default-client", "all-default-server"],
    ),
    (&["postmulti", "-l", ""], &[]),
];

/// compopt calls expected for some cases (the others must make none).
const BASH_COMPOPT: &[(&[&str], &str)] = &[
    (&["postmulti", "-e", "create", ""], "-o nospace"),
    (
        &["postmulti", "-I", "postfix-a", "-e", "create", "q"],
        "-o nospace",
    ),
    (&["postmulti", "-e", "import", ""], "-o nospace"),
    (
        &[
            "postmulti",
            "-e",
            "create",
            "queue_directory",
            "=",
            "/var/spool/x",
            "",
        ],
        "-o nospace",
    ),
    (
        &["postmulti", "-e", "create", "config_directory", "=", "/et"],
        "-o filenames -o nospace",
    ),
    (
        &["postmulti", "-e", "assign", "-i", "postfix-out", "-I", ""],
        "",
    ),
    (
        &["postmulti", "-e", "create", "-I", "postfix-"],
        "-o nospace",
    ),
];

/// A bash snippet that completes `words` and prints the result between markers.
fn bash_case(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| shell_quote(w)).collect();
    format!("comp {}\n", quoted.join(" "))
}

const BASH_PRELUDE: &str = r#"
compopt() { local IFS=' '; COMPOPT+=("$*"); }
comp() {
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    COMPOPT=()
    _postmulti
    printf '@@ %s\n' "$(IFS='|'; echo "$*")"
    printf '> %s\n' "${COMPREPLY[@]}"
    printf '~ %s\n' "${COMPOPT[@]}"
}
"#;

/// Parses the "@@ words" / "> reply" / "~ compopt" lines of a run.
fn parse_results(stdout: &str) -> BTreeMap<String, (Vec<String>, Vec<String>)> {
    let mut map = BTreeMap::new();
    let mut key = String::new();
    for line in stdout.lines() {
        if let Some(k) = line.strip_prefix("@@ ") {
            key = k.to_string();
            map.insert(key.clone(), (Vec::new(), Vec::new()));
        } else if let Some(r) = line.strip_prefix("> ") {
            map.get_mut(&key).unwrap().0.push(r.to_string());
        } else if let Some(o) = line.strip_prefix("~ ") {
            map.get_mut(&key).unwrap().1.push(o.to_string());
        }
    }
    // printf with no arguments still prints one empty item.
    for (reply, opts) in map.values_mut() {
        reply.retain(|r| !r.is_empty());
        opts.retain(|o| !o.is_empty());
    }
    map
}

#[test]
fn bash_completes_options_actions_instances_groups_params_and_postfix_commands() {
    require_program("bash", "bash");
    let work = workdir("pm-completion-");
    let mut script = format!(
        "{INSTANCES}{}",
        r#"source <("$OURS" --completions bash)
complete -p postmulti
set +e
"#
    );
    script.push_str(BASH_PRELUDE);
    // Debian's postmulti (no -j): the completion falls back to plain -l.
    script.push_str("echo '### reference'\n");
    script.push_str(&bash_case(&["postmulti", "-i", ""]));
    script.push_str("mount --bind \"$OURS\" /usr/sbin/postmulti\necho '### ours'\n");
    for (words, _) in BASH_CASES {
        script.push_str(&bash_case(words));
    }
    for (words, _) in BASH_COMPOPT {
        if !BASH_CASES.iter().any(|(w, _)| w == words) {
            script.push_str(&bash_case(words));
        }
    }
    let run = sandbox(&work, &script);
    run.assert_ok("completion script");
    assert!(
        run.stdout.contains("complete -F _postmulti postmulti"),
        "{}",
        run.stdout
    );
    let (reference, ours) = run.stdout.split_once("### ours").expect("both parts ran");
    let reference = parse_results(reference);
    let ours = parse_results(ours);

    let mut failures = Vec::new();
    let fallback = reference.get("postmulti|-i|").map(|r| r.0.clone());
    if fallback.as_deref() != Some(&["-", "postfix-out", "/etc/pf3"].map(String::from)[..]) {
        failures.push(format!(
            "fallback to `postmulti -l` (Debian's postmulti): -i offers {fallback:?}"
        ));
    }
    for (words, want) in BASH_CASES {
        let key = words.join("|");
        let got = ours.get(&key).map(|r| r.0.clone());
        let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        if got.as_ref() != Some(&want) {
            failures.push(format!("{words:?}: want {want:?}, got {got:?}"));
        }
    }
    for (words, want) in BASH_COMPOPT {
        let key = words.join("|");
        let got = ours.get(&key).map(|r| r.1.join(" ; "));
        if got.as_deref() != Some(*want) {
            failures.push(format!("{words:?}: compopt want {want:?}, got {got:?}"));
        }
    }
    for (words, _) in BASH_CASES {
        if !BASH_COMPOPT.iter().any(|(w, _)| w == words) {
            let opts = &ours[&words.join("|")].1;
            if !opts.is_empty() {
                failures.push(format!("{words:?}: unexpected compopt {opts:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} completion mismatches:\n  {}\n--- stdout:\n{}--- stderr:\n{}",
        failures.len(),
        failures.join("\n  "),
        run.stdout,
        run.stderr
    );
    assert!(
        !run.stderr.contains("_postmulti"),
        "the completion function complained:\n{}",
        run.stderr
    );
}

#[test]
fn bash_completes_commands_after_x() {
    // No instance is needed for command names; the sandbox still keeps the
    // host's /etc out of reach.
    let work = workdir("pm-completion-x-");
    let mut script = String::from(
        "source <(\"$OURS\" --completions bash)\nmount --bind \"$OURS\" /usr/sbin/postmulti\n",
    );
    script.push_str(BASH_PRELUDE);
    script.push_str(&bash_case(&["postmulti", "-x", "postc"]));
    script.push_str(&bash_case(&["postmulti", "-a", "-x", "postconf", "-"]));
    let run = sandbox(&work, &script);
    run.assert_ok("completion script");
    let results = parse_results(&run.stdout);
    let (names, _) = &results["postmulti|-x|postc"];
    assert!(
        names.iter().any(|n| n == "postconf"),
        "-x offers commands: {names:?}"
    );
    assert!(names.iter().all(|n| n.starts_with("postc")), "{names:?}");
    // After the command, bash's default completion takes over.
    assert_eq!(
        results["postmulti|-a|-x|postconf|-"],
        (vec![], vec!["-o default".to_string()])
    );
}

#[test]
fn completions_option_prints_the_embedded_scripts() {
    let out = |shell: &str| {
        Command::new(OURS)
            .args(["--completions", shell])
            .output()
            .unwrap()
    };
    let bash = out("bash");
    assert!(bash.status.success());
    assert_eq!(
        bash.stdout,
        std::fs::read(repo().join("src/completion/postmulti.bash")).unwrap()
    );
    let zsh = out("zsh");
    assert!(zsh.status.success());
    assert_eq!(
        zsh.stdout,
        std::fs::read(repo().join("src/completion/_postmulti")).unwrap()
    );
    assert!(zsh.stdout.starts_with(b"#compdef postmulti\n"));
    let fish = out("fish");
    assert!(fish.status.success());
    assert_eq!(
        fish.stdout,
        std::fs::read(repo().join("src/completion/postmulti.fish")).unwrap()
    );
    let tcsh = out("tcsh");
    assert_eq!(tcsh.status.code(), Some(2));
    assert!(tcsh.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&tcsh.stderr),
        "postmulti: --completions takes bash, zsh or fish\n"
    );
}

#[test]
fn bash_script_parses() {
    let status = Command::new("bash")
        .args(["-n"])
        .arg(repo().join("src/completion/postmulti.bash"))
        .status()
        .unwrap();
    assert!(status.success(), "bash -n src/completion/postmulti.bash");
}

/// Panics unless `shell ARGS... src/completion/SCRIPT` succeeds silently.
#[track_caller]
fn assert_parses(shell: &str, args: &[&str], script: &str) {
    require_program(shell, shell);
    let out = Command::new(shell)
        .args(args)
        .arg(repo().join("src/completion").join(script))
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{shell} {} src/completion/{script}:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn zsh_script_parses() {
    assert_parses("zsh", &["-n"], "_postmulti");
}

#[test]
fn fish_script_parses() {
    assert_parses("fish", &["--no-config", "-n"], "postmulti.fish");
}

/// Completes each command line given as an argument with `complete -C` in
/// a fish that sourced the script (the first argument); each case is headed
/// "@@ LINE", each word offered is "> WORD" (without its description).
const FISH_DRIVER: &str = r#"
source $argv[1]; or exit 2
for l in $argv[2..]
    echo "@@ $l"
    complete -C "$l" | string replace -r -- '\t.*' '' | string replace -r -- '^' '> '
end
"#;

const FISH_CASES: &[(&str, &[&str])] = &[
    ("postmulti -", FIRST_WORDS),
    ("postmulti --", &["--version", "--completions"]),
    ("postmulti --completions ", &["bash", "zsh", "fish"]),
    ("postmulti --version ", &[]),
    ("postmulti -l -", &["-a", "-g", "-i", "-j", "-R", "-v"]),
    ("postmulti -p -g mta -", &["-v"]),
    ("postmulti -x -a -", &["-R", "-v"]),
    (
        "postmulti -e create -I postfix-a -",
        &["-a", "-g", "-i", "-v", "-G"],
    ),
    ("postmulti -e ", ACTIONS),
    ("postmulti -e d", &["destroy", "deport", "disable"]),
    ("postmulti -ecr", &["-ecreate"]),
    ("postmulti -i ", &["-", "postfix-out", "/etc/pf3"]),
    ("postmulti -l -i postfix-o", &["postfix-out"]),
    (
        "postmulti -i /etc/p",
        &["/etc/postfix", "/etc/postfix-out", "/etc/pf3"],
    ),
    ("postmulti -lipostfix-", &["-lipostfix-out"]),
    ("postmulti -g ", &["mta"]),
    ("postmulti -lgm", &["-lgmta"]),
    ("postmulti -e assign -i postfix-out -G ", &["mta", "-"]),
    ("postmulti -e assign -i postfix-out -I ", &["postfix-", "-"]),
    (
        "postmulti -e create ",
        &["config_directory=", "queue_directory=", "data_directory="],
    ),
    ("postmulti -I postfix-a -e create q", &["queue_directory="]),
    ("postmulti -e import ", &["config_directory="]),
    (
        "postmulti -e create queue_directory=/var/spool/x ",
        &["config_directory=", "data_directory="],
    ),
    (
        "postmulti -e create config_directory=/et",
        &["config_directory=/etc/"],
    ),
    ("postmulti -e enable -i postfix-out ", &[]),
    ("postmulti -p ", POSTFIX_COMMANDS),
    (
        "postmulti -g mta -p -- s",
        &["start", "stop", "status", "set-permissions"],
    ),
    (
        "postmulti -p tls all",
        &["all-default-client", "all-default-server"],
    ),
    ("postmulti -l ", &[]),
    // After -x: a command, then that command's own completion (files here).
    ("postmulti -x ls /et", &["/etc/"]),
];

#[test]
fn fish_completes_options_actions_instances_groups_params_and_postfix_commands() {
    require_program("fish", "fish");
    let work = workdir("pm-completion-fish-");
    std::fs::write(work.join("driver.fish"), FISH_DRIVER).unwrap();
    let script = driver_script(
        &format!(
            "\"$OURS\" --completions fish > {work}/postmulti.fish",
            work = work.display()
        ),
        &format!(
            "timeout 60 fish --no-config {work}/driver.fish {work}/postmulti.fish",
            work = work.display()
        ),
        FISH_CASES.iter().map(|c| c.0).chain(["postmulti -x postc"]),
    );
    let run = sandbox(&work, &script);
    run.assert_ok("fish completion driver");
    let got = parse_cases(&run.stdout);
    let mut failures = set_mismatches(FISH_CASES, &got);
    // Commands after -x: postconf among them, all starting with the word.
    let commands = got.get("postmulti -x postc").cloned().unwrap_or_default();
    if !commands.iter().any(|c| c == "postconf") || commands.iter().any(|c| !c.starts_with("postc"))
    {
        failures.push(format!("\"postmulti -x postc\": got {commands:?}"));
    }
    assert_none("fish", &failures, &run);
}

/// The "@@ LINE" / "> WORD" lines of the zsh and fish drivers, by line.
fn parse_cases(stdout: &str) -> BTreeMap<String, Vec<String>> {
    let mut got: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = String::new();
    for line in stdout.lines() {
        if let Some(case) = line.strip_prefix("@@ ") {
            current = case.to_string();
            got.entry(current.clone()).or_default();
        } else if let Some(m) = line.strip_prefix("> ") {
            got.entry(current.clone()).or_default().push(m.to_string());
        }
    }
    got
}

/// The sandbox script of the zsh and fish tests: the three instances
/// (INSTANCES), `install` (writes the completion script), then `driver`
/// (completes each line given as an argument) once against Debian's
/// postmulti, which has no -j, for "postmulti -i " (headed "reference:"),
/// and once with ours bind-mounted over it for `lines`.
fn driver_script<'a>(install: &str, driver: &str, lines: impl Iterator<Item = &'a str>) -> String {
    let mut script = format!(
        "{INSTANCES}{install}
# Debian's postmulti (no -j): the completion falls back to plain -l.
{driver} 'postmulti -i ' | sed 's/^@@ /@@ reference: /'
mount --bind \"$OURS\" /usr/sbin/postmulti
{driver}"
    );
    for line in lines {
        script.push(' ');
        script.push_str(&shell_quote(line));
    }
    script.push('\n');
    script
}

/// The cases whose words (as sets) differ from those offered, plus the
/// reference case of `driver_script`.
fn set_mismatches(cases: &[(&str, &[&str])], got: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let reference = (
        "reference: postmulti -i ",
        &["-", "postfix-out", "/etc/pf3"][..],
    );
    let mut failures = Vec::new();
    for &(line, want) in cases.iter().chain([&reference]) {
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want.sort();
        let mut have = got.get(line).cloned().unwrap_or_default();
        have.sort();
        have.dedup();
        if have != want {
            failures.push(format!("{line:?}: want {want:?}, got {have:?}"));
        }
    }
    failures
}

/// Panics with the whole run when there are failures.
#[track_caller]
fn assert_none(shell: &str, failures: &[String], run: &Run) {
    assert!(
        failures.is_empty(),
        "{} {shell} completion mismatches:\n  {}\n--- stdout:\n{}--- stderr:\n{}",
        failures.len(),
        failures.join("\n  "),
        run.stdout,
        run.stderr
    );
}

/// Completes each command line given as an argument in an interactive
/// `zsh -f` driven through zpty, with the script on $fpath and compadd
/// wrapped to print every match it is given ("> MATCH"); each case is
/// headed "@@ LINE".
const ZSH_DRIVER: &str = r#"
zmodload zsh/zpty || exit 2
fp=$1; shift
zpty z zsh -f -i
zpty -w z "PROMPT='' RPROMPT='' PS2=''; unsetopt beep; fpath=(${(q)fp} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z $'compadd() {\n  if [[ ${(j: :)@} == *-[OAD]\\ * ]]; then builtin compadd "$@"; return; fi\n  local -a __hits\n  builtin compadd -O __hits "$@"\n  local h; for h in $__hits; do print -r -- "<<M>>$h"; done\n  builtin compadd "$@"\n}'
zpty -w z $'capture() { zle complete-word; print -r -- "@@END"; zle kill-whole-line; }'
# READY is in the output only: the echo of the typed line shows RE""ADY,
# so every echo of the set-up is read before the cases start.
zpty -w z 'zle -N capture; bindkey "^I" capture; print RE""ADY'
local line
while zpty -r z line; do [[ $line == *READY* ]] && break; done
for l in "$@"; do
  print -r -- "@@ $l"
  zpty -w -n z "$l"$'\t'
  while zpty -r z line; do
    line=${line//$'\r'/}
    [[ $line == *@@END* ]] && break
    # The first match may follow the echo of the typed line.
    [[ $line == *'<<M>>'* ]] && print -r -- "> ${line##*<<M>>}"
  done
done
zpty -d z
"#;

const ZSH_CASES: &[(&str, &[&str])] = &[
    ("postmulti -", FIRST_WORDS.split_at(12).0),
    ("postmulti --", &["--version", "--completions"]),
    ("postmulti --completions ", &["bash", "zsh", "fish"]),
    ("postmulti -l -", &["-a", "-g", "-i", "-j", "-R", "-v"]),
    ("postmulti -e ", ACTIONS),
    ("postmulti -i ", &["-", "postfix-out", "/etc/pf3"]),
    ("postmulti -g ", &["mta"]),
    ("postmulti -e assign -i postfix-out -G ", &["mta", "-"]),
    (
        "postmulti -e create ",
        &["config_directory=", "queue_directory=", "data_directory="],
    ),
    ("postmulti -e import ", &["config_directory="]),
    ("postmulti -p ", POSTFIX_COMMANDS),
    (
        "postmulti -p tls all",
        &["all-default-client", "all-default-server"],
    ),
];

#[test]
fn zsh_completes_options_actions_instances_groups_params_and_postfix_commands() {
    require_program("zsh", "zsh");
    let work = workdir("pm-completion-zsh-");
    std::fs::write(work.join("driver.zsh"), ZSH_DRIVER).unwrap();
    std::fs::create_dir(work.join("fpath")).unwrap();
    let fpath = work.join("fpath");
    let script = driver_script(
        &format!(
            "\"$OURS\" --completions zsh > {}/_postmulti",
            fpath.display()
        ),
        &format!(
            "timeout 60 zsh -f {}/driver.zsh {}",
            work.display(),
            fpath.display()
        ),
        ZSH_CASES.iter().map(|c| c.0),
    );
    let run = sandbox(&work, &script);
    run.assert_ok("zsh completion driver");
    let got = parse_cases(&run.stdout);
    // zsh sorts and merges what the completers add: compare sets.
    assert_none("zsh", &set_mismatches(ZSH_CASES, &got), &run);
}
