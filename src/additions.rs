//! What this postmulti adds to upstream's command line, reachable only
//! through words upstream rejects (`--version`, `--completions SHELL` as the
//! first argument: upstream says "invalid option -- '-'"), so no upstream
//! invocation changes behaviour.

use crate::defaults::{self, Source, BUILT_AGAINST, COMPUTED, RECORDED_FROM};
use crate::expand::expand;
use crate::maincf::{InstanceResolver, MainCf};

/// The bash completion script.
pub const BASH_COMPLETION: &str = include_str!("completion/postmulti.bash");
/// The zsh completion script.
pub const ZSH_COMPLETION: &str = include_str!("completion/_postmulti");
/// The fish completion script.
pub const FISH_COMPLETION: &str = include_str!("completion/postmulti.fish");

/// The primary's command_directory as far as it can be told without
/// failing: main.cf's value, else the compiled-in default.
fn command_directory() -> Vec<u8> {
    let fallback = defaults::default_str("command_directory")
        .as_bytes()
        .to_vec();
    let config_dir = defaults::default_str("config_directory").as_bytes();
    let Ok(cf) = MainCf::read(config_dir, &mut Vec::new()) else {
        return fallback;
    };
    let Some(raw) = cf.get(b"command_directory") else {
        return fallback;
    };
    let mut resolver = InstanceResolver {
        main_cf: &cf,
        config_dir,
    };
    expand(raw, &mut resolver).unwrap_or(fallback)
}

/// A file's mtime as `SECONDS.NANOSECONDS = YYYY-MM-DD HH:MM:SS UTC`.
fn mtime_text(secs: i64, nsec: i64) -> String {
    // Days to a civil date (proleptic Gregorian), after Howard Hinnant.
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{secs}.{nsec:09} = {year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Text for `--version`: the version; which Postfix's table of built-in
/// parameters was recorded at build time, which Postfix is installed, and
/// which table this run uses; then the defaults in use as `postconf -d`
/// prints them (so the two can be compared with diff), each group of lines
/// headed by where its values came from.
pub fn version_text() -> String {
    let active = defaults::activate(&command_directory());
    let mut s = format!(
        "# postmulti {} (Rust drop-in for Postfix postmulti), built against Postfix {}\n",
        env!("CARGO_PKG_VERSION"),
        if BUILT_AGAINST.is_empty() {
            "(none found)"
        } else {
            BUILT_AGAINST
        }
    );
    s.push_str(&recorded_line());
    s.push_str(&installed_lines(active));
    s.push_str(&defaults_lines());
    s
}

/// `# recorded at build time: ...`: the table build.rs recorded, and from
/// which postconf.
fn recorded_line() -> String {
    match RECORDED_FROM {
        Some(r) if !defaults::BUILTIN_NAMES.is_empty() => format!(
            "# recorded at build time: the {} built-in parameters of Postfix {BUILT_AGAINST}, \
             from {} ({} bytes, mtime {}); not recorded, computed where postconf runs: {}\n",
            defaults::BUILTIN_NAMES.len(),
            r.path,
            r.size,
            mtime_text(r.mtime, r.mtime_nsec),
            COMPUTED.join(" ")
        ),
        _ => {
            "# recorded at build time: no parameter table (no postconf at build time)\n".to_string()
        }
    }
}

/// `# installed: ...` and `# in use: ...`: the postconf found at run time,
/// and which table this run uses because of it.
fn installed_lines(active: &defaults::Active) -> String {
    let path = String::from_utf8_lossy(&active.postconf);
    let version = match &active.source {
        Source::Recorded => BUILT_AGAINST,
        Source::RunTimeDiffers | Source::RunTimeNoneRecorded => active.table.mail_version,
        Source::Unavailable(_) => "unknown",
    };
    let mut s = match active.installed {
        Some((size, secs, nsec)) => format!(
            "# installed: {path} ({size} bytes, mtime {}), Postfix {version}\n",
            mtime_text(secs, nsec)
        ),
        None => format!("# installed: {path}: cannot be run\n"),
    };
    s.push_str(&match &active.source {
        Source::Recorded => {
            "# in use: the table recorded at build time (the installed postconf is the one it came from)\n".to_string()
        }
        Source::RunTimeDiffers => format!(
            "# in use: the installed Postfix's table, from postconf -d at run time (the installed \
             postconf is not the one the recorded table came from; rebuild postmulti against \
             Postfix {version} to save that process)\n"
        ),
        Source::RunTimeNoneRecorded => {
            "# in use: the installed Postfix's table, from postconf -d at run time (none was recorded at build time)\n".to_string()
        }
        Source::Unavailable(why) => format!(
            "# in use: no table ({why}): every secondary instance is read through postconf\n"
        ),
    });
    s
}

/// The defaults in use, `name = value` as `postconf -d` prints them, each
/// group headed `# defaults from ORIGIN:`.
fn defaults_lines() -> String {
    let mut s = String::new();
    let mut last_origin = "";
    for (name, value, origin) in defaults::defaults() {
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

/// Handles an extension word in `argv[1]`; Some(exit status) if it was one.
pub fn handle(args: &[Vec<u8>]) -> Option<i32> {
    use std::io::Write;
    let text = match args.get(1).map(|a| a.as_slice()) {
        Some(b"--version") if args.len() == 2 => version_text(),
        Some(b"--completions") if args.len() == 3 => match args[2].as_slice() {
            b"bash" => BASH_COMPLETION.to_string(),
            b"zsh" => ZSH_COMPLETION.to_string(),
            b"fish" => FISH_COMPLETION.to_string(),
            _ => {
                let _ = std::io::stderr()
                    .write_all(b"postmulti: --completions takes bash, zsh or fish\n");
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
        for (name, _, _) in crate::defaults::DEFAULTS {
            let line = text.lines().find(|l| l.split(' ').next() == Some(name));
            assert!(
                line.is_some_and(|l| l.starts_with(&format!("{name} ="))),
                "{name}"
            );
        }
    }

    #[test]
    fn mtimes_are_shown_as_utc_dates() {
        assert_eq!(
            mtime_text(1709737814, 0),
            "1709737814.000000000 = 2024-03-06 15:10:14 UTC"
        );
        assert_eq!(mtime_text(0, 5), "0.000000005 = 1970-01-01 00:00:00 UTC");
        assert_eq!(
            mtime_text(951782400, 0),
            "951782400.000000000 = 2000-02-29 00:00:00 UTC"
        );
    }

    #[test]
    fn only_exact_extension_words_are_taken() {
        let a = |v: &[&str]| v.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
        assert_eq!(handle(&a(&["postmulti", "-l"])), None);
        assert_eq!(handle(&a(&["postmulti", "--version", "-l"])), None);
        assert_eq!(handle(&a(&["postmulti", "--", "--version"])), None);
    }
}
