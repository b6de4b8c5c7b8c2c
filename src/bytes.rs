//! Small byte-string helpers: paths, arguments and parameter values are
//! bytes, as in C.  One place for what the other modules would write again.

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// Views bytes as an OS string.
pub fn os(bytes: &[u8]) -> &OsStr {
    OsStr::from_bytes(bytes)
}

/// Takes an OS string as bytes.
pub fn from_os(s: OsString) -> Vec<u8> {
    s.into_vec()
}

/// `DIR/NAME`, as Postfix's concatenate(dir, "/", name) builds it.
pub fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut path = Vec::with_capacity(dir.len() + 1 + name.len());
    path.extend_from_slice(dir);
    path.push(b'/');
    path.extend_from_slice(name);
    path
}

/// Where BYTE first stands in HAY, as memchr(3) finds it: eight bytes at a
/// time (a word with BYTE in it is one whose XOR with BYTE repeated has a
/// zero byte), then byte by byte in the word that has it.  Reading main.cf
/// and master.cf is mostly looking for the ends of comment lines.
pub fn find_byte(byte: u8, hay: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = ONES << 7;
    let pattern = ONES * u64::from(byte);
    let mut at = 0;
    for chunk in hay.chunks_exact(8) {
        let word = u64::from_ne_bytes(chunk.try_into().unwrap_or_default()) ^ pattern;
        if word.wrapping_sub(ONES) & !word & HIGHS != 0 {
            break;
        }
        at += 8;
    }
    hay[at..].iter().position(|&b| b == byte).map(|i| at + i)
}

/// The bytes a C string function sees: those before the first NUL byte.
pub fn up_to_nul(bytes: &[u8]) -> &[u8] {
    &bytes[..find_byte(0, bytes).unwrap_or(bytes.len())]
}

/// The bytes as a C string would hold them: up to the first NUL byte.
pub fn c_string(bytes: &[u8]) -> CString {
    CString::new(up_to_nul(bytes)).unwrap_or_default()
}

/// An empty value means none (a name or group that is not set).
pub fn non_empty(value: &[u8]) -> Option<Vec<u8>> {
    (!value.is_empty()).then(|| value.to_vec())
}

/// Postfix's boolean words, case-insensitive: Some(true) for "yes",
/// Some(false) for "no", None for anything else.
pub fn yes_no(value: &[u8]) -> Option<bool> {
    if value.eq_ignore_ascii_case(b"yes") {
        Some(true)
    } else if value.eq_ignore_ascii_case(b"no") {
        Some(false)
    } else {
        None
    }
}

/// C's isspace() in the C locale: also \v and \f.
pub fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Postfix's white space (CHARS_SPACE, MAC_EXP_WHITESPACE, PCF_SEPARATORS):
/// space, tab, CR and LF, not \v or \f.
pub fn is_white_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The bytes without leading and trailing [`is_space`] white space.
pub fn trim(v: &[u8]) -> &[u8] {
    let v = trim_end(v);
    let start = v.iter().position(|&b| !is_space(b)).unwrap_or(v.len());
    &v[start..]
}

/// mystrtokq(&bp, sep, "{}"): the next token of `text` at `*at`, where
/// `is_sep` bytes separate tokens except inside a group that a `{` opens
/// anywhere in a token and its matching `}` (or the end of `text`) closes;
/// a `}` outside a group is an ordinary byte.  `*at` moves past the token
/// and the one separator after it; None at the end.
pub fn mystrtokq<'t>(text: &'t [u8], at: &mut usize, is_sep: fn(u8) -> bool) -> Option<&'t [u8]> {
    let start = *at + text[*at..].iter().take_while(|&&b| is_sep(b)).count();
    if start == text.len() {
        *at = start;
        return None;
    }
    let mut level = 0usize;
    let mut end = start;
    while end < text.len() {
        match text[end] {
            b'{' => level += 1,
            b'}' if level > 0 => level -= 1,
            b if level == 0 && is_sep(b) => break,
            _ => {}
        }
        end += 1;
    }
    *at = (end + 1).min(text.len());
    Some(&text[start..end])
}

/// The bytes without trailing [`is_space`] white space (Postfix's trimblanks()).
pub fn trim_end(v: &[u8]) -> &[u8] {
    let end = v.iter().rposition(|&b| !is_space(b)).map_or(0, |e| e + 1);
    &v[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_byte_finds_the_first_one_at_every_offset() {
        for len in 0..40 {
            for at in 0..=len {
                let mut hay = vec![b'x'; len];
                // Bytes that differ from '\n' only by a borrow or a high bit.
                for (i, b) in hay.iter_mut().enumerate() {
                    *b = [b'x', 0x0b, 0x8a, 0x09, 0xff, 0][i % 6];
                }
                if at < len {
                    hay[at] = b'\n';
                    hay[at..]
                        .iter_mut()
                        .skip(1)
                        .step_by(3)
                        .for_each(|b| *b = b'\n');
                }
                let want = hay.iter().position(|&b| b == b'\n');
                assert_eq!(find_byte(b'\n', &hay), want, "{hay:?}");
                assert_eq!(find_byte(0, &hay), hay.iter().position(|&b| b == 0));
            }
        }
    }

    #[test]
    fn join_puts_one_slash_between() {
        assert_eq!(join(b"/etc/postfix", b"main.cf"), b"/etc/postfix/main.cf");
        assert_eq!(join(b"", b"postconf"), b"/postconf");
    }

    #[test]
    fn c_strings_end_at_the_first_nul() {
        assert_eq!(c_string(b"ab\0cd").as_bytes(), b"ab");
        assert_eq!(c_string(b"").as_bytes(), b"");
    }

    #[test]
    fn yes_and_no_in_any_case() {
        assert_eq!(yes_no(b"YeS"), Some(true));
        assert_eq!(yes_no(b"nO"), Some(false));
        assert_eq!(yes_no(b"y"), None);
        assert_eq!(non_empty(b""), None);
        assert_eq!(non_empty(b"a"), Some(b"a".to_vec()));
    }

    #[test]
    fn two_kinds_of_white_space() {
        assert!(is_space(b'\x0b') && !is_white_space(b'\x0b'));
        assert!(is_white_space(b'\r') && is_space(b'\r'));
        assert_eq!(trim(b" \x0ba b\t\n"), b"a b");
        assert_eq!(trim(b" \t "), b"");
        assert_eq!(trim_end(b" a \r"), b" a");
    }
}
