//! What the generators of exactness.rs and fuzz.rs share: the built-in
//! parameters whose defaults make postconf look for `{...}` groups, in the
//! reference's table (the crate root must declare `mod reference_postconf;`).

/// Built-in parameters whose defaults hold braces, as `postconf -d | grep
/// '[{}]'` shows them: literal ones (milter_mail_macros = "i {auth_type}
/// ... {mail_mailer}", smtpd_forbidden_commands = "... regexp:{{/^[^A-Z]/
/// Bogus}}") and `${name?{...}:{...}}` syntax (syslog_name, the stress-
/// dependent ones such as smtpd_timeout = "${stress?{10}:{300}}s", the
/// compatibility_level-dependent `<level` ones).  Panics when there are
/// none: postmulti was then built without Debian's postfix.
pub fn braced_builtins() -> &'static [&'static str] {
    static BRACED: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    BRACED.get_or_init(|| {
        // The reference's table (the release's with POSTMULTI_REFERENCE).
        crate::reference_postconf::use_reference_table();
        let found: Vec<&'static str> = postmulti::defaults::table()
            .names
            .iter()
            .copied()
            .filter(|n| {
                postmulti::defaults::builtin_default(n.as_bytes())
                    .is_some_and(|d| d.contains(['{', '}']))
            })
            .collect();
        assert!(
            found.contains(&"milter_mail_macros"),
            "no built-in defaults with braces: was postmulti built without Debian's postfix?"
        );
        found
    })
}
