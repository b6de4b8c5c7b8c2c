//! What this postmulti adds to upstream's command line, reachable only
//! through words upstream rejects (`--version`, `--completions SHELL` as the
//! first argument: upstream says "invalid option -- '-'"), so no upstream
//! invocation changes behaviour.

use crate::defaults::{BUILT_AGAINST, DEFAULTS};

/// The bash completion script.
pub const BASH_COMPLETION: &str = include_str!("completion/postmulti.bash");
/// The zsh completion script.
pub const ZSH_COMPLETION: &str = include_str!("completion/_postmulti");

/// Text for `--version`: the version, then the compiled-in defaults as
/// `postconf -d` prints them (so the two can be compared with diff), each
/// group of lines headed by where its values came from.
pub fn version_text() -> String {
    let mut s = format!(
        "# postmulti {} (Rust drop-in for Postfix postmulti), built against Postfix {}\n",
        env!("CARGO_PKG_VERSION"),
        if BUILT_AGAINST.is_empty() {
            "(none found)"
        } else {
            BUILT_AGAINST
        }
    );
    let mut last_origin = "";
    for (name, value, origin) in DEFAULTS {
        if *origin != last_origin {
            s.push_str(&format!("# defaults from {origin}:\n"));
            last_origin = origin;
        }
        let line = format!("{name} = {value}");
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

/// Handles an extension word in argv[1]; Some(exit status) if it was one.
pub fn handle(args: &[Vec<u8>]) -> Option<i32> {
    use std::io::Write;
    let text = match args.get(1).map(|a| a.as_slice()) {
        Some(b"--version") if args.len() == 2 => version_text(),
        Some(b"--completions") if args.len() == 3 => match args[2].as_slice() {
            b"bash" => BASH_COMPLETION.to_string(),
            b"zsh" => ZSH_COMPLETION.to_string(),
            _ => {
                let _ =
                    std::io::stderr().write_all(b"postmulti: --completions takes bash or zsh\n");
                return Some(2);
            }
        },
        _ => return None,
    };
    let mut out = std::io::stdout().lock();
    Some(
        if out
            .write_all(text.as_bytes())
            .and_then(|_| out.flush())
            .is_ok()
        {
            0
        } else {
            1
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_lists_every_compiled_in_default() {
        let text = version_text();
        assert!(text.starts_with("# postmulti "));
        for (name, _, _) in DEFAULTS {
            let line = text.lines().find(|l| l.split(' ').next() == Some(name));
            assert!(
                line.is_some_and(|l| l.starts_with(&format!("{name} ="))),
                "{name}"
            );
        }
    }

    #[test]
    fn only_exact_extension_words_are_taken() {
        let a = |v: &[&str]| v.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
        assert_eq!(handle(&a(&["postmulti", "-l"])), None);
        assert_eq!(handle(&a(&["postmulti", "--version", "-l"])), None);
        assert_eq!(handle(&a(&["postmulti", "--", "--version"])), None);
    }
}
