//! Compiled-in defaults, recorded by build.rs from the Postfix seen at build
//! time (or from POSTMULTI_DEFAULT_* variables, or upstream's values).

include!(concat!(env!("OUT_DIR"), "/defaults.rs"));

/// The compiled-in default of a parameter postmulti evaluates itself.
pub fn default_of(name: &[u8]) -> Option<&'static str> {
    DEFAULTS
        .iter()
        .find(|(n, _, _)| n.as_bytes() == name)
        .map(|(_, v, _)| *v)
}

/// The compiled-in default, for parameters build.rs always records.
pub fn default_str(name: &str) -> &'static str {
    default_of(name.as_bytes()).unwrap_or("")
}

/// The raw default of a built-in parameter of the Postfix seen at build time.
pub fn builtin_default(name: &[u8]) -> Option<&'static str> {
    BUILTIN_NAMES
        .binary_search_by(|probe| probe.as_bytes().cmp(name))
        .ok()
        .and_then(|at| BUILTIN_DEFAULTS.get(at).copied())
}

/// Whether a name is a built-in parameter of the Postfix seen at build time.
pub fn is_builtin(name: &[u8]) -> bool {
    builtin_default(name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parameter_postmulti_reads_has_a_default() {
        for name in [
            "config_directory",
            "command_directory",
            "daemon_directory",
            "meta_directory",
            "shlib_directory",
            "queue_directory",
            "data_directory",
            "postmulti_start_commands",
        ] {
            assert!(default_of(name.as_bytes()).is_some(), "{name}");
        }
        assert!(default_str("config_directory").starts_with('/'));
    }

    #[test]
    fn builtin_names_are_sorted_for_binary_search() {
        assert!(BUILTIN_NAMES.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(BUILTIN_NAMES.len(), BUILTIN_DEFAULTS.len());
    }
}
