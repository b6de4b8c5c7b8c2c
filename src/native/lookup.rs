//! How postconf expands a value (postconf_lookup.c).
//!
//! Expansion (pcf_lookup_parameter_value, pcf_register_dbms_parameters):
//! 8. postconf expands every main.cf value and every `-o` value, except
//!    those of the raw parameters ([`super::dbms::RAW`]), and parses the
//!    result for `{...}` groups and `type:name` databases (rule 15).  A
//!    name is looked up in the entry's read-only parameters, its name
//!    space, main.cf, the service parameters (rule 14), then the built-in
//!    defaults.  Mirrored; a raw parameter's value (or its expansion)
//!    with a brace or a database client type is left to postconf.
//! 9. In a master.cf entry, service_name is its service field and
//!    process_name what follows the last `/` of its command.  Mirrored:
//!    `master_cf_service_name_in_a_conditional`,
//!    `master_cf_process_name_in_a_conditional`.
//! 21. A value that needs mynetworks' computed default (main.cf leaves
//!     mynetworks unset) is expanded with a list of addresses in its place
//!     where no conditional (`${mynetworks?...}`, or a value on the way to
//!     it with any `${` or `$(`) and no comparison can see which list it
//!     is: rule 15 finds nothing in either.  Mirrored:
//!     `computed_mynetworks_in_a_plain_list`.
//!

use crate::defaults::default_of;
use crate::expand::{expand, referenced_names, Lookup};
use crate::hostname::HostNames;
use crate::maincf::MainCf;

use super::service::ServiceParams;

/// Names as postconf resolves them when it expands a value
/// (pcf_lookup_parameter_value): in a master.cf entry, its read-only
/// service_name and process_name, then its name space's `-o` settings;
/// then main.cf, config_directory, the values postconf computes on the
/// running host, the service parameters of master.cf (rule 14) and the
/// built-in defaults.
pub(super) struct PostconfView<'a> {
    pub(super) read_only: &'a [(&'a [u8], &'a [u8])],
    pub(super) local: &'a [(&'a [u8], &'a [u8])],
    pub(super) main_cf: &'a MainCf,
    pub(super) config_dir: &'a [u8],
    pub(super) hosts: &'a HostNames,
    pub(super) services: &'a ServiceParams,
    /// Whether mynetworks may stand for any list of addresses
    /// ([`MYNETWORKS`]): no conditional or comparison sees it.
    pub(super) mynetworks_plain: bool,
}

impl<'a> PostconfView<'a> {
    /// The view of a main.cf value: no master.cf entry.
    pub(super) fn global(
        main_cf: &'a MainCf,
        config_dir: &'a [u8],
        hosts: &'a HostNames,
        services: &'a ServiceParams,
    ) -> Self {
        PostconfView {
            read_only: &[],
            local: &[],
            main_cf,
            config_dir,
            hosts,
            services,
            mynetworks_plain: false,
        }
    }

    /// A value postconf computes: process_name is its own name (postmulti
    /// runs `$command_directory/postconf`), myhostname and mydomain come
    /// from the host name ([`crate::hostname`]), process_id is its process
    /// id: some digits, which [`PROCESS_ID`] stands for (see
    /// [`seen_by`]); mynetworks is not known here, but where
    /// nothing can tell one list of addresses from another it is
    /// [`MYNETWORKS`].
    fn computed(&self, name: &[u8]) -> Option<Lookup> {
        let known = |v: &Option<Vec<u8>>| v.clone().map_or(Lookup::Unknown, Lookup::Value);
        Some(match name {
            b"process_name" => Lookup::Value(b"postconf".to_vec()),
            b"myhostname" => known(&self.hosts.myhostname),
            b"mydomain" => known(&self.hosts.mydomain),
            b"process_id" => Lookup::Value(PROCESS_ID.to_vec()),
            b"mynetworks" if self.mynetworks_plain => Lookup::Value(MYNETWORKS.to_vec()),
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
        } else if let Some(param) = self.services.get(name) {
            Lookup::Value(format!("${param}").into_bytes())
        } else if let Some(v) = default_of(name).or_else(|| crate::defaults::builtin_default(name))
        {
            Lookup::Value(v.as_bytes().to_vec())
        } else {
            Lookup::Undefined
        }
    }
}

/// One main.cf value (or master.cf `-o` value, in the view of that
/// entry) as postconf expands it before it parses it for `{...}` groups
/// and databases (pcf_register_dbms_parameters, rules 8 and 15): the taken
/// branches only.  None when the expansion cannot be computed here (a
/// computed value postconf alone knows, process_id in a comparison) or
/// fails; postconf then answers.
pub(super) fn expanded(value: &[u8], view: &PostconfView) -> Option<Vec<u8>> {
    if !value.contains(&b'$') {
        return Some(value.to_vec());
    }
    let mut view = PostconfView { ..*view };
    if seen_by(value, &mut view, b"process_id", compares) {
        return None;
    }
    view.mynetworks_plain = !seen_by(value, &mut view, b"mynetworks", |v| {
        compares(v) || v.windows(2).any(|w| w == b"${" || w == b"$(")
    });
    expand(value, &mut view).ok()
}

/// What mynetworks stands for where no conditional or comparison sees it
/// (rule 21): postconf's own list (addresses and `[addr]/len`, made from
/// the host's interfaces) has, as this one, no brace, no `#` and no
/// database type, so the words of rule 15 find the same nothing in both.
const MYNETWORKS: &[u8] = b"127.0.0.0/8";

/// Whether a value holds a relational operator (`==`, `!=`, `<`, `>`, and
/// the operators made of these).
fn compares(v: &[u8]) -> bool {
    v.contains(&b'<') || v.contains(&b'>') || v.windows(2).any(|w| w == b"==" || w == b"!=")
}

/// What process_id stands for in an expansion.  Any digits give the same
/// text as far as quietness goes (no brace, no database type, no syntax),
/// and the same answer to `${process_id?...}` (not empty); only a
/// comparison can tell them apart, and [`seen_by`] leaves those
/// to postconf.
const PROCESS_ID: &[u8] = b"1";

/// Whether expanding `value` in `view` may bring `target`'s value into a
/// text that OBSERVES (for process_id: a relational operator; for
/// mynetworks also a conditional): some value on the way to `target`,
/// `value` included, is one.  Errs on the side of "yes": every name such
/// a value refers to, in any branch, counts as seen.
fn seen_by(
    value: &[u8],
    view: &mut PostconfView,
    target: &[u8],
    observes: fn(&[u8]) -> bool,
) -> bool {
    use crate::expand::Resolver;
    let mut seen = std::collections::HashSet::new();
    let mut todo = vec![(value.to_vec(), observes(value))];
    while let Some((text, observed)) = todo.pop() {
        let Ok(names) = referenced_names(&text) else {
            return true;
        };
        for name in names {
            if observed && name == target {
                return true;
            }
            if seen.len() > 1000 {
                return true;
            }
            if let Lookup::Value(next) = view.lookup(&name) {
                let observed = observed || observes(&next);
                if seen.insert((name, observed)) {
                    todo.push((next, observed));
                }
            }
        }
    }
    false
}
