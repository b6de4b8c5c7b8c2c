//! A secondary instance's private parameters, as
//! `postconf -xc DIR queue_directory data_directory multi_instance_name
//! multi_instance_group multi_instance_enable` prints them: from postconf
//! itself, or from the native reader ([`crate::native`]) when it has shown
//! that postconf would print exactly its answer, and on stderr nothing or
//! the warnings it prints in postconf's words.
//! Under unsafe credentials ([`crate::environ::unsafe_credentials`])
//! postconf ignores `-c` and reads the default main.cf: postconf always
//! answers then.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use crate::bytes::{join, non_empty, os, trim_end, up_to_nul, yes_no};
use crate::instance::{Instance, REQUESTED};
use crate::maincf::split_nameval;
use crate::msg::{self, bfmt, Fatal, Result};
use crate::native;

/// Fills in an instance's queue and data directories, name, group and
/// enable flag from its main.cf (load_instance).
pub fn load(inst: &mut Instance, command_dir: &[u8]) -> Result<()> {
    let answer = native_allowed(command_dir)
        .then(|| native::native_answer(&inst.config_dir))
        .flatten();
    load_with(inst, command_dir, answer)
}

/// As [`load`], with the native reader's answer already at hand: its
/// warnings go to stderr as postconf, run as `$command_directory/postconf`,
/// would print them, then its output is read.
pub fn load_with(
    inst: &mut Instance,
    command_dir: &[u8],
    answer: Option<native::Answer>,
) -> Result<()> {
    match answer {
        Some(answer) => {
            if !answer.warnings.is_empty() {
                let postconf = join(command_dir, b"postconf");
                let mut text = Vec::new();
                for w in &answer.warnings {
                    text.extend_from_slice(&postconf);
                    text.extend_from_slice(b": warning: ");
                    text.extend_from_slice(w);
                    text.push(b'\n');
                }
                // As postconf's own stderr: nothing to do when it fails.
                let _ = std::io::Write::write_all(&mut std::io::stderr(), &text);
            }
            apply(inst, &answer.stdout)
        }
        None => load_with_postconf(inst, command_dir),
    }
}

/// Whether `$command_directory/postconf` could be run.  Only then may the
/// native reader stand in for it: without it upstream fails, and so must we.
pub fn postconf_runnable(command_dir: &[u8]) -> bool {
    let postconf = join(command_dir, b"postconf");
    nix::unistd::access(os(&postconf), nix::unistd::AccessFlags::X_OK).is_ok()
}

/// Whether the native reader may answer for postconf: postconf can run,
/// and credentials are safe (under unsafe ones postconf ignores `-c`).
fn native_allowed(command_dir: &[u8]) -> bool {
    postconf_runnable(command_dir) && !crate::environ::unsafe_credentials()
}

/// The native reader's answers for DIRS, read ahead ([`native::read_ahead_answers`]);
/// none when it may not answer (`native_allowed`), so that every
/// instance goes to postconf.
pub fn native_answers(dirs: &[Vec<u8>], command_dir: &[u8]) -> Vec<Option<native::Answer>> {
    if native_allowed(command_dir) {
        native::read_ahead_answers(dirs)
    } else {
        Vec::new()
    }
}

/// Reads postconf's `name = value` lines into the instance.
fn apply(inst: &mut Instance, output: &[u8]) -> Result<()> {
    let dir = inst.config_dir.clone();
    let mut count = 0;
    let mut lines: Vec<&[u8]> = output.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    for line in lines {
        // C string functions end the line at its first NUL byte.
        let line = up_to_nul(line);
        let Ok((name, value)) = split_nameval(line) else {
            return Err(Fatal(bfmt(
                "Invalid %s/main.cf parameter: %s",
                &[&dir, line],
            )));
        };
        // Trailing white space, which split_nameval() leaves to its caller's TRIM.
        let value = trim_end(value);
        match name {
            b"queue_directory" => inst.queue_dir = value.to_vec(),
            b"data_directory" => inst.data_dir = value.to_vec(),
            b"multi_instance_name" => inst.name = non_empty(value),
            b"multi_instance_group" => inst.group = non_empty(value),
            b"multi_instance_enable" => {
                inst.enabled = yes_no(value).ok_or_else(|| {
                    Fatal(bfmt(
                        "Unexpected %s/main.cf entry: multi_instance_enable = %s",
                        &[&dir, value],
                    ))
                })?;
            }
            _ => continue,
        }
        count += 1;
    }
    if count != REQUESTED.len() {
        return Err(Fatal(bfmt(
            "Failed to obtain all required %s/main.cf parameters",
            &[&dir],
        )));
    }
    Ok(())
}

/// Runs postconf as upstream does; its stderr is ours.
fn load_with_postconf(inst: &mut Instance, command_dir: &[u8]) -> Result<()> {
    let postconf = join(command_dir, b"postconf");
    let dir = inst.config_dir.clone();
    let mut child = match Command::new(os(&postconf))
        .arg0(os(&postconf))
        .arg("-xc")
        .arg(os(&dir))
        .args(REQUESTED)
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            // Upstream's child reports this as it dies (vstream_popen).
            msg::child_fatal(&bfmt(
                "vstream_popen: execvp %s: %s",
                &[&postconf, msg::io_error_text(&e).as_bytes()],
            ));
            return Err(Fatal(bfmt(
                "Failed to obtain all required %s/main.cf parameters",
                &[&dir],
            )));
        }
    };
    let mut output = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_end(&mut output);
    }
    let applied = apply(inst, &output);
    let status = child.wait();
    applied?;
    match status {
        Ok(s) if s.success() => Ok(()),
        _ => Err(Fatal(bfmt("Cannot parse %s/main.cf file", &[&dir]))),
    }
}
