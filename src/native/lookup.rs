//! How postconf expands a value (postconf_lookup.c).
//!
//! Expansion (pcf_lookup_parameter_value, pcf_register_dbms_parameters):
//! 8. postconf expands every main.cf value and every `-o` value, except
//!    those of raw parameters (default_rbl_reply, smtpd_expansion_filter,
//!    ...), which this reader does not single out, and parses the result
//!    for `{...}` groups and `type:name` databases.  A name is looked up in
//!    the entry's read-only parameters, its name space, main.cf, then the
//!    built-in defaults.  Mirrored; braces and database types in the result
//!    are left to postconf.
//! 9. In a master.cf entry, service_name is its service field and
//!    process_name what follows the last `/` of its command.  Mirrored:
//!    `master_cf_service_name_in_a_conditional`,
//!    `master_cf_process_name_in_a_conditional`.
//!

use crate::defaults::default_of;
use crate::expand::{expand, referenced_names, Lookup};
use crate::hostname::HostNames;
use crate::maincf::MainCf;

use super::dbms::DATABASE_CLIENTS;

/// Names as postconf resolves them when it expands a value
/// (pcf_lookup_parameter_value): in a master.cf entry, its read-only
/// service_name and process_name, then its name space's `-o` settings;
/// then main.cf, config_directory, the values postconf computes on the
/// running host, and the built-in defaults.
pub(super) struct PostconfView<'a> {
    pub(super) read_only: &'a [(&'a [u8], &'a [u8])],
    pub(super) local: &'a [(&'a [u8], &'a [u8])],
    pub(super) main_cf: &'a MainCf,
    pub(super) config_dir: &'a [u8],
    pub(super) hosts: &'a HostNames,
}

impl<'a> PostconfView<'a> {
    /// The view of a main.cf value: no master.cf entry.
    pub(super) fn global(main_cf: &'a MainCf, config_dir: &'a [u8], hosts: &'a HostNames) -> Self {
        PostconfView {
            read_only: &[],
            local: &[],
            main_cf,
            config_dir,
            hosts,
        }
    }

    /// A value postconf computes: process_name is its own name (postmulti
    /// runs `$command_directory/postconf`), myhostname and mydomain come
    /// from the host name ([`crate::hostname`]), process_id is its process
    /// id: some digits, which [`PROCESS_ID`] stands for (see
    /// [`feeds_a_comparison`]); mynetworks is not known here.
    fn computed(&self, name: &[u8]) -> Option<Lookup> {
        let known = |v: &Option<Vec<u8>>| v.clone().map_or(Lookup::Unknown, Lookup::Value);
        Some(match name {
            b"process_name" => Lookup::Value(b"postconf".to_vec()),
            b"myhostname" => known(&self.hosts.myhostname),
            b"mydomain" => known(&self.hosts.mydomain),
            b"process_id" => Lookup::Value(PROCESS_ID.to_vec()),
            b"mynetworks" => Lookup::Unknown,
            _ => return None,
        })
    }
}

impl crate::expand::Resolver for PostconfView<'_> {
    fn lookup(&mut self, name: &[u8]) -> Lookup {
        let found = |list: &[(&[u8], &[u8])]| {
            list.iter()
                .rev()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_vec())
        };
        if let Some(v) = found(self.read_only).or_else(|| found(self.local)) {
            Lookup::Value(v)
        } else if let Some(v) = self.main_cf.get(name) {
            Lookup::Value(v.to_vec())
        } else if name == b"config_directory" {
            Lookup::Value(self.config_dir.to_vec())
        } else if let Some(computed) = self.computed(name) {
            computed
        } else if let Some(v) = default_of(name).or_else(|| crate::defaults::builtin_default(name))
        {
            Lookup::Value(v.as_bytes().to_vec())
        } else {
            Lookup::Undefined
        }
    }
}

/// Whether postconf would be quiet about the expansion of one main.cf value
/// (or master.cf `-o` value, in the view of that entry).
/// postconf expands every such value, the taken branches only, and parses
/// the result for `{...}` groups, which must each be a whole word
/// ("syntax error after '}'", "missing '}'"), and for database clients
/// whose configuration file it opens (pcf_register_dbms_parameters).  The
/// braces may come from elsewhere: a built-in default such as
/// milter_mail_macros = "i {auth_type} ...", or the `{..}` text inside a
/// `${name?{...}}` branch.  So: no brace at all in the expansion, no client
/// type, and an expansion that can be computed; anything else goes to
/// postconf.
pub(super) fn expansion_is_quiet(value: &[u8], view: &PostconfView) -> bool {
    if !value.contains(&b'$') {
        return true; // literal: quiet_setting has looked at it already
    }
    let mut view = PostconfView { ..*view };
    if feeds_a_comparison(value, &mut view, b"process_id") {
        return false;
    }
    match expand(value, &mut view) {
        Ok(text) => {
            !text.iter().any(|&b| b == b'{' || b == b'}')
                && !DATABASE_CLIENTS
                    .iter()
                    .any(|db| text.windows(db.len()).any(|w| w.eq_ignore_ascii_case(db)))
        }
        Err(_) => false,
    }
}

/// What process_id stands for in an expansion.  Any digits give the same
/// text as far as quietness goes (no brace, no database type, no syntax),
/// and the same answer to `${process_id?...}` (not empty); only a
/// comparison can tell them apart, and [`feeds_a_comparison`] leaves those
/// to postconf.
const PROCESS_ID: &[u8] = b"1";

/// Whether expanding `value` in `view` may bring `target`'s value into a
/// relational operator (`==`, `!=`, `<`, `>`, and the operators made of
/// these): some value on the way to `target`, `value` included, holds one
/// of their characters.  Errs on the side of "yes": every name a comparing
/// value refers to, in any branch, counts as compared.
fn feeds_a_comparison(value: &[u8], view: &mut PostconfView, target: &[u8]) -> bool {
    use crate::expand::Resolver;
    let compares = |v: &[u8]| {
        v.contains(&b'<') || v.contains(&b'>') || v.windows(2).any(|w| w == b"==" || w == b"!=")
    };
    let mut seen = std::collections::HashSet::new();
    let mut todo = vec![(value.to_vec(), compares(value))];
    while let Some((text, compared)) = todo.pop() {
        let Ok(names) = referenced_names(&text) else {
            return true;
        };
        for name in names {
            if compared && name == target {
                return true;
            }
            if seen.len() > 1000 {
                return true;
            }
            if let Lookup::Value(next) = view.lookup(&name) {
                let compared = compared || compares(&next);
                if seen.insert((name, compared)) {
                    todo.push((next, compared));
                }
            }
        }
    }
    false
}
