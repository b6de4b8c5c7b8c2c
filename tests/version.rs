//! `postmulti --version`: its `name = value` lines are the compiled-in
//! defaults, which must be what `postconf -d` of the Postfix on this machine
//! says (build.rs records them from it), and its first line names the crate
//! version and that Postfix's mail_version.  postconf runs in the sandbox.
mod sandboxed;
use sandboxed::*;

use std::process::Command;

/// `name = value` lines as (name, value), value trimmed.
fn assignments(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, value) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("not name = value: {l:?}"));
            (name.trim().to_string(), value.trim().to_string())
        })
        .collect()
}

#[test]
fn version_defaults_equal_postconf_d() {
    let out = Command::new(OURS).arg("--version").output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty());
    let text = String::from_utf8(out.stdout).unwrap();

    // Groups of lines are headed "# defaults from ORIGIN:"; values a packager
    // set with POSTMULTI_DEFAULT_* (origin "environment") differ on purpose.
    let mut origin = "";
    let mut compared = String::new();
    let mut overridden = Vec::new();
    for line in text.lines().skip(1) {
        if let Some(o) = line.strip_prefix("# defaults from ") {
            origin = o.trim_end_matches(':');
        } else if origin == "environment" {
            overridden.push(line.to_string());
        } else {
            compared.push_str(line);
            compared.push('\n');
        }
    }
    let ours = assignments(&compared);
    assert!(
        ours.len() >= 20,
        "--version lists too few defaults:\n{text}"
    );

    let names: Vec<&str> = ours.iter().map(|(n, _)| n.as_str()).collect();
    let work = workdir("pm-version-");
    let run = sandbox(
        &work,
        &format!("postconf -d {} mail_version", names.join(" ")),
    );
    run.assert_ok("postconf -d");
    assert!(run.stderr.is_empty(), "postconf -d warned:\n{}", run.stderr);
    let mut theirs = assignments(&run.stdout);
    let (_, mail_version) = theirs.pop().expect("mail_version");
    assert_eq!(
        ours, theirs,
        "--version differs from postconf -d (overridden at build time: {overridden:?})"
    );

    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "# postmulti {} (Rust drop-in for Postfix postmulti), built against Postfix {mail_version}",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn version_is_only_the_sole_argument() {
    // With anything after it, --version is an ordinary (invalid) option, as
    // for the C program.  main.cf is read first: run it in the sandbox.
    let work = workdir("pm-version-args-");
    let run = sandbox(
        &work,
        "mount --bind \"$OURS\" /usr/sbin/postmulti; postmulti --version -l",
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    // stderr is no terminal here: the usage fatal follows getopt's
    // complaint there from Postfix 3.11 on; before, it is logged alone.
    let getopt = "postmulti: invalid option -- '-'\n";
    if reference_at_least(3, 11) {
        let usage = format!("{getopt}postmulti: fatal: Usage:");
        assert!(run.stderr.starts_with(&usage), "{}", run.stderr);
    } else {
        assert_eq!(run.stderr, getopt);
    }
}
