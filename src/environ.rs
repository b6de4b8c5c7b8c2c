//! The environment upstream builds for its children: PATH with
//! $command_directory first, and the import_environment filter.

use std::ffi::OsString;

use crate::bytes::{from_os, is_space, os, trim};
use crate::maincf::split_nameval;
use crate::msg::{bfmt, Fatal};

/// Postfix's PATH for a process that has none (ROOT_PATH).
pub const ROOT_PATH: &[u8] = b"/bin:/usr/bin:/sbin:/usr/sbin";

/// Sets PATH to "$command_directory:" + the old PATH, or ROOT_PATH when it
/// was empty or unset (prepend_command_path).
pub fn prepend_command_path(command_dir: &[u8]) {
    let old = std::env::var_os("PATH")
        .map(from_os)
        .filter(|p| !p.is_empty());
    let mut path = command_dir.to_vec();
    path.push(b':');
    path.extend_from_slice(old.as_deref().unwrap_or(ROOT_PATH));
    std::env::set_var("PATH", os(&path));
}

/// Splits a parameter list on commas and white space, keeping `{ ... }`
/// groups whole and stripping their braces (mail_parm_split).
pub fn split_with_braces(value: &[u8]) -> Vec<Vec<u8>> {
    let sep = |b: u8| b == b',' || is_space(b);
    let mut out = Vec::new();
    let mut i = 0;
    while i < value.len() {
        if sep(value[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut depth = 0usize;
        while i < value.len() && (depth > 0 || !sep(value[i])) {
            match value[i] {
                b'{' => depth += 1,
                b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            i += 1;
        }
        let token = &value[start..i];
        if token.len() >= 2 && token[0] == b'{' && token[token.len() - 1] == b'}' {
            let inner = &token[1..token.len() - 1];
            out.push(trim(inner).to_vec());
        } else {
            out.push(token.to_vec());
        }
    }
    out
}

/// The environment kept by import_environment: named variables that are set,
/// and `NAME=value` entries (split as split_nameval does), in list order
/// (clean_env); a malformed entry is upstream's fatal error.
pub fn cleaned(import: &[Vec<u8>]) -> Result<Vec<(OsString, OsString)>, Fatal> {
    let mut kept: Vec<(OsString, OsString)> = Vec::new();
    let mut put = |name: &[u8], value: OsString| {
        let name = os(name).to_os_string();
        match kept.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => kept.push((name, value)),
        }
    };
    for entry in import {
        if entry.contains(&b'=') {
            let (name, value) = split_nameval(entry)
                .map_err(|why| Fatal(bfmt("clean_env: %s in: %s", &[why.as_bytes(), entry])))?;
            put(name, os(value).to_os_string());
        } else if let Some(value) = std::env::var_os(os(entry)) {
            put(entry, value);
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_value_entries_are_split_like_split_nameval() {
        let kept = cleaned(&[b"A = 1".to_vec(), b"B=2".to_vec()]).unwrap();
        assert_eq!(
            kept,
            vec![("A".into(), "1".into()), ("B".into(), "2".into())]
        );
        let err = cleaned(&[b"=x".to_vec()]).unwrap_err();
        assert_eq!(err.0, b"clean_env: missing attribute name in: =x".to_vec());
    }

    #[test]
    fn brace_groups_stay_whole() {
        assert_eq!(
            split_with_braces(b"A, B=1 { C = x y } D"),
            vec![
                b"A".to_vec(),
                b"B=1".to_vec(),
                b"C = x y".to_vec(),
                b"D".to_vec()
            ]
        );
    }
}
