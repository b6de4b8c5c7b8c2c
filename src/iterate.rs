//! Iterator mode: -l (and -j), -x and -p over the selected instances.

use std::io::Write;

use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{execvp, fork, ForkResult};

use crate::bytes::{c_string, join, os};
use crate::command::{Iteration, Selection};
use crate::instance::Instance;
use crate::msg::{self, bfmt, io_error_text, Fatal, Result};
use crate::primary::{split_list, Primary};
use crate::table::InstanceTable;

/// How iteration treats disabled instances and order (ITER_FLAG_*).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Flags {
    reverse: bool,
    check_disabled: bool,
    skip_disabled: bool,
}

/// Runs an iterator-mode command and returns the exit status.
pub fn run(
    iteration: &Iteration,
    mut selection: Selection,
    reverse: bool,
    table: &InstanceTable,
    primary: &Primary,
) -> Result<i32> {
    if selection == Selection::Unspecified {
        selection = Selection::All;
    }
    let flags = Flags {
        reverse,
        ..Flags::default()
    };
    match iteration {
        Iteration::List { json } => {
            list(table, &selection, flags, *json)?;
            Ok(0)
        }
        Iteration::Exec(argv) => each(table, &selection, flags, Kind::Exec, argv, primary),
        Iteration::Postfix(args) => {
            let word = &args[0];
            let flags = if word_in_list(&primary.start_cmds, word) {
                Flags {
                    check_disabled: true,
                    ..Flags::default()
                }
            } else if word_in_list(&primary.stop_cmds, word) {
                Flags {
                    skip_disabled: true,
                    reverse: true,
                    ..Flags::default()
                }
            } else if word_in_list(&primary.control_cmds, word) {
                Flags {
                    skip_disabled: true,
                    ..Flags::default()
                }
            } else {
                Flags::default()
            };
            let mut argv = Vec::with_capacity(args.len() + 2);
            argv.push(join(&primary.command_dir, b"postfix"));
            argv.push(b"--".to_vec());
            argv.extend(args.iter().cloned());
            each(table, &selection, flags, Kind::Postfix, &argv, primary)
        }
    }
}

/// Whether `word` is in a command list (word_in_list).
fn word_in_list(list: &[u8], word: &[u8]) -> bool {
    split_list(list).iter().any(|w| w == word)
}

/// The instances in iteration order.
fn in_order(table: &InstanceTable, flags: Flags) -> Box<dyn Iterator<Item = &Instance> + '_> {
    if flags.reverse {
        Box::new(table.instances.iter().rev())
    } else {
        Box::new(table.instances.iter())
    }
}

/// Prints one line per selected instance (list_instances).
fn list(table: &InstanceTable, selection: &Selection, flags: Flags, json: bool) -> Result<()> {
    let mut out = Vec::new();
    for inst in in_order(table, flags).filter(|i| i.is_selected(selection)) {
        let name = inst.name.as_deref().unwrap_or(b"-");
        let group = inst.group.as_deref().unwrap_or(b"-");
        let enabled: &[u8] = if inst.enabled { b"y" } else { b"n" };
        if json {
            out.extend_from_slice(b"{\"name\": \"");
            quote_for_json(&mut out, name);
            out.extend_from_slice(b"\",\"group\": \"");
            quote_for_json(&mut out, group);
            out.extend_from_slice(b"\",\"enabled\": \"");
            quote_for_json(&mut out, enabled);
            out.extend_from_slice(b"\",\"config_directory\": \"");
            quote_for_json(&mut out, &inst.config_dir);
            out.extend_from_slice(b"\"}\n");
        } else {
            pad(&mut out, name, 15);
            pad(&mut out, group, 15);
            pad(&mut out, enabled, 9);
            out.extend_from_slice(&inst.config_dir);
            out.push(b'\n');
        }
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|_| stdout.flush())
        .map_err(|e| {
            Fatal(bfmt(
                "error writing output: %s",
                &[io_error_text(&e).as_bytes()],
            ))
        })
}

/// printf's `%-Ns ` for bytes: left-justified in N columns, then a space.
fn pad(out: &mut Vec<u8>, field: &[u8], width: usize) {
    out.extend_from_slice(field);
    out.resize(out.len() + width.saturating_sub(field.len()), b' ');
    out.push(b' ');
}

/// Appends `text` quoted as a JSON string body (quote_for_json).
pub fn quote_for_json(out: &mut Vec<u8>, text: &[u8]) {
    for &ch in text {
        match ch {
            b'\x08' => out.extend_from_slice(b"\\b"),
            b'\x0c' => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{ch:04X}").as_bytes()),
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
}

/// What runs for each instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Postfix,
    Exec,
}

/// Runs a command for each selected instance (iterate_command).
fn each(
    table: &InstanceTable,
    selection: &Selection,
    flags: Flags,
    kind: Kind,
    argv: &[Vec<u8>],
    primary: &Primary,
) -> Result<i32> {
    let mut status = 0;
    let mut matched = false;
    for inst in in_order(table, flags) {
        if flags.skip_disabled && !inst.enabled {
            continue;
        }
        if !inst.is_selected(selection) {
            continue;
        }
        matched = true;
        if run_user_command(inst, kind, flags, argv, primary) != 0 {
            status = 1;
        }
    }
    if !matched {
        return Err(Fatal::new("No matching instances"));
    }
    Ok(status)
}

/// Forks and runs one command for one instance; its exit status, or 1 when
/// it was killed, -1 when it could not be started (run_user_command).
fn run_user_command(
    inst: &Instance,
    kind: Kind,
    flags: Flags,
    argv: &[Vec<u8>],
    primary: &Primary,
) -> i32 {
    // SAFETY: postmulti is single-threaded; the child only sets its
    // environment and execs, or reports and exits.
    match unsafe { fork() } {
        Err(e) => {
            msg::warn(&bfmt(
                "fork %s: %s",
                &[&argv[0], msg::errno_text(e).as_bytes()],
            ));
            -1
        }
        Ok(ForkResult::Child) => exec_for_instance(inst, kind, flags, argv, primary),
        Ok(ForkResult::Parent { child }) => loop {
            match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => return code,
                Ok(WaitStatus::Signaled(..)) => return 1,
                Ok(_) => continue,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return -1,
            }
        },
    }
}

/// In the child: the instance's environment, then exec (never returns).
fn exec_for_instance(
    inst: &Instance,
    kind: Kind,
    flags: Flags,
    argv: &[Vec<u8>],
    primary: &Primary,
) -> ! {
    let set = |name: &str, value: &[u8]| std::env::set_var(name, os(value));
    set("MAIL_CONFIG", &inst.config_dir);
    if kind == Kind::Exec {
        set("daemon_directory", &primary.daemon_dir);
        set("command_directory", &primary.command_dir);
        set("config_directory", &inst.config_dir);
        set("queue_directory", &inst.queue_dir);
        set("data_directory", &inst.data_dir);
        set("multi_instance_name", inst.name.as_deref().unwrap_or(b""));
        set("multi_instance_group", inst.group.as_deref().unwrap_or(b""));
        set(
            "multi_instance_enable",
            if inst.enabled { b"yes" } else { b"no" },
        );
        crate::environ::prepend_command_path(&primary.command_dir);
    }
    let mut argv = argv.to_vec();
    if kind == Kind::Postfix && flags.check_disabled && !inst.enabled {
        argv[2] = b"check".to_vec();
    }
    let cargs: Vec<std::ffi::CString> = argv.iter().map(|a| c_string(a)).collect();
    let err = execvp(&cargs[0], &cargs).unwrap_err();
    msg::fatal(&bfmt(
        "execvp %s: %s",
        &[&argv[0], msg::errno_text(err).as_bytes()],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_quoting_matches_upstream() {
        let mut out = Vec::new();
        quote_for_json(&mut out, b"\x08\x0c\r\n\t\x00\x01\x1f ~\x7f\\\"\x80");
        assert_eq!(
            out,
            b"\\b\\f\\r\\n\\t\\u0000\\u0001\\u001F ~\\u007F\\\\\\\"\x80".to_vec()
        );
    }

    #[test]
    fn columns_are_left_justified_like_printf() {
        let mut out = Vec::new();
        pad(&mut out, b"-", 15);
        pad(&mut out, b"a-very-long-group-name", 15);
        assert_eq!(out, b"-               a-very-long-group-name ".to_vec());
    }

    #[test]
    fn command_lists_split_on_commas_and_spaces() {
        assert!(word_in_list(b"stop, abort drain", b"abort"));
        assert!(!word_in_list(b"stop abort", b"ab"));
    }
}
