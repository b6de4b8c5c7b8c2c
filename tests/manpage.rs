//! man/postmulti.1: lint-clean for groff and mandoc, renders with man(1),
//! and documents every option, action, exported variable and extension the
//! program has.  Reads only the repository; no sandbox needed.
mod sandboxed;
use sandboxed::*;

use std::process::Command;

fn page() -> std::path::PathBuf {
    repo().join("man/postmulti.1")
}

/// Runs a command on the page; panics unless it exits 0 with no output at all.
fn assert_silent(program: &str, args: &[&str], package: &str) {
    require_program(program, package);
    let out = Command::new(program)
        .args(args)
        .arg(page())
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "{program} {} man/postmulti.1: exit {:?}\n--- stdout:\n{}--- stderr:\n{}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn groff_lint_is_clean() {
    assert_silent("groff", &["-ww", "-z", "-man"], "groff-base");
}

#[test]
fn mandoc_lint_is_clean() {
    assert_silent("mandoc", &["-T", "lint", "-W", "all"], "mandoc");
}

/// The page as man(1) renders it, 80 columns, without formatting.
fn rendered() -> String {
    require_program("man", "man-db");
    let out = Command::new("man")
        .arg("-l")
        .arg(page())
        .env("MANWIDTH", "80")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("MAN_KEEP_FORMATTING", "")
        .env_remove("MANROFFOPT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "man -l man/postmulti.1: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "man -l man/postmulti.1 warned:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Strip any overstrike formatting (X\bX, _\bX) grotty may still produce.
    let mut text = String::new();
    let mut chars = String::from_utf8(out.stdout)
        .unwrap()
        .chars()
        .collect::<Vec<_>>()
        .into_iter()
        .peekable();
    while let Some(c) = chars.next() {
        if chars.peek() == Some(&'\u{8}') {
            chars.next();
            continue;
        }
        text.push(c);
    }
    text
}

/// Whether `tag` heads a tagged paragraph (.TP) of the rendered text: alone
/// on its line, or followed on it by the paragraph's text.
fn has_tag(text: &str, tag: &str) -> bool {
    text.contains(&format!("\n       {tag}\n")) || text.contains(&format!("\n       {tag} "))
}

#[test]
fn man_renders_every_section() {
    let text = rendered();
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "LIFE-CYCLE ACTIONS",
        "JSON OUTPUT",
        "ENVIRONMENT",
        "CONFIGURATION PARAMETERS",
        "CONCURRENCY",
        "FILES",
        "EXIT STATUS",
        "DIAGNOSTICS",
        "SHELL COMPLETION",
        "EXAMPLES",
        "DIFFERENCES",
        "SEE ALSO",
    ] {
        assert!(
            text.contains(&format!("\n{section}\n")),
            "section {section} missing from the rendered page"
        );
    }
    // No hyphenation inside parameter names.
    assert!(
        !text.contains('\u{2010}'),
        "the rendered page hyphenates words"
    );
}

#[test]
fn every_option_and_action_is_documented() {
    let text = rendered();
    // Each option of the getopt string "+ae:g:i:jG:I:lpRvx" heads a paragraph.
    for (opt, value) in [
        ("a", ""),
        ("e", " action"),
        ("g", " group"),
        ("i", " name"),
        ("j", ""),
        ("G", " group"),
        ("I", " name"),
        ("l", ""),
        ("p", ""),
        ("R", ""),
        ("v", ""),
        ("x", ""),
    ] {
        let head = format!("\n       -{opt}{value}");
        assert!(
            text.contains(&head),
            "option -{opt} has no paragraph of its own"
        );
    }
    for action in [
        "init", "create", "import", "destroy", "deport", "enable", "disable", "assign",
    ] {
        assert!(
            has_tag(&text, action),
            "action {action} has no paragraph of its own"
        );
    }
    for extension in ["--version", "--completions bash|zsh|fish"] {
        assert!(
            text.contains(&format!("\n       {extension}\n")),
            "{extension} is not documented"
        );
    }
}

#[test]
fn exported_environment_is_documented() {
    let text = rendered();
    let env = &text
        [text.find("\nENVIRONMENT\n").unwrap()..text.find("\nCONFIGURATION PARAMETERS\n").unwrap()];
    let x = &env[env.find("Set for commands run by -x").unwrap()
        ..env.find("Set for commands run by -p").unwrap()];
    for name in [
        "MAIL_CONFIG",
        "command_directory",
        "daemon_directory",
        "config_directory",
        "queue_directory",
        "data_directory",
        "multi_instance_name",
        "multi_instance_group",
        "multi_instance_enable",
        "PATH",
        "MAIL_LOGTAG",
        "MAIL_VERBOSE",
    ] {
        assert!(has_tag(x, name), "-x: {name} not documented");
    }
    let helper = &env[env.find("Given to postmulti-script").unwrap()..];
    for name in [
        "PATH",
        "MAIL_CONFIG",
        "command_directory",
        "daemon_directory",
        "meta_directory",
        "shlib_directory",
        "config_directory",
        "queue_directory",
        "data_directory",
        "multi_instance_directories",
        "multi_instance_name",
        "multi_instance_group",
    ] {
        assert!(
            has_tag(helper, name),
            "postmulti-script: {name} not documented"
        );
    }
    assert!(helper.contains("import_environment"));
}

#[test]
fn title_carries_the_crate_version() {
    let source = std::fs::read_to_string(page()).unwrap();
    let th = source
        .lines()
        .find(|l| l.starts_with(".TH "))
        .expect(".TH line");
    assert!(
        th.contains(&format!("\"postmulti {}\"", env!("CARGO_PKG_VERSION"))),
        "{th}: update the version in man/postmulti.1 to {}",
        env!("CARGO_PKG_VERSION")
    );
}

#[test]
fn json_example_is_what_the_program_prints() {
    // The example line must be byte for byte the format of src/iterate.rs.
    let text = rendered();
    assert!(text.contains(
        "\n       {\"name\": \"postfix-out\",\"group\": \"mta\",\"enabled\": \"y\",\"config_directory\": \"/etc/postfix-out\"}\n"
    ));
}
