//! The instance table: the primary, then each secondary of
//! multi_instance_directories, with every name and private directory
//! claimed by exactly one instance (the shared directories first), and the
//! selection of instances by `-a`, `-g` and `-i`.

use std::collections::HashMap;

use crate::bytes::os;
use crate::command::Selection;
use crate::instance::{Instance, NAME_PREFIX};
use crate::msg::{self, bfmt, Fatal, Result};
use crate::primary::Primary;
use crate::secondary;

impl Instance {
    /// Whether this instance is among those selected (match_instance_selection).
    pub fn is_selected(&self, selection: &Selection) -> bool {
        match selection {
            Selection::Unspecified => false,
            Selection::All => true,
            Selection::Group(g) => self.group.as_deref() == Some(g.as_slice()),
            Selection::Name(wanted) => {
                let ours: &[u8] = match &self.name {
                    _ if wanted.first() == Some(&b'/') => &self.config_dir,
                    None => &self.config_dir,
                    Some(name)
                        if !wanted.starts_with(NAME_PREFIX) && name.starts_with(NAME_PREFIX) =>
                    {
                        &name[NAME_PREFIX.len()..]
                    }
                    Some(name) => name,
                };
                ours == wanted.as_slice() || (self.primary && wanted.as_slice() == b"-")
            }
        }
    }
}

/// Checks and claims the shared directories (check_shared_dir_status).
pub fn check_shared_directories(p: &Primary) -> Result<Claims> {
    let mut claims = Claims::default();
    for (name, value) in [
        ("command_directory", &p.command_dir),
        ("daemon_directory", &p.daemon_dir),
        ("meta_directory", &p.meta_dir),
        ("shlib_directory", &p.shlib_dir),
    ] {
        if value.first() != Some(&b'/') {
            continue;
        }
        match std::fs::metadata(os(value)) {
            Err(e) => {
                return Err(Fatal(bfmt(
                    "%s = '%s': directory not found: %s",
                    &[name.as_bytes(), value, msg::io_error_text(&e).as_bytes()],
                )))
            }
            Ok(m) if !m.is_dir() => {
                return Err(Fatal(bfmt(
                    "%s = '%s' is not a directory",
                    &[name.as_bytes(), value],
                )));
            }
            Ok(_) => {}
        }
        if name != "meta_directory" {
            claims.register(&p.config_dir, name, value)?;
        }
    }
    Ok(claims)
}

/// Who holds each name and directory: value → "CONFIG_DIR, PARAM".
#[derive(Debug, Default)]
pub struct Claims {
    owners: HashMap<Vec<u8>, Vec<u8>>,
}

impl Claims {
    /// Claims `value` for the instance at `instance_path` (register_claim).
    pub fn register(&mut self, instance_path: &[u8], param: &str, value: &[u8]) -> Result<()> {
        let requestor = bfmt("%s, %s", &[instance_path, param.as_bytes()]);
        match self.owners.get(value) {
            None => {
                self.owners.insert(value.to_vec(), requestor);
                Ok(())
            }
            Some(owner) if *owner == requestor => Ok(()),
            Some(owner) => Err(Fatal(bfmt(
                "instance %s, %s=%s conflicts with instance %s=%s",
                &[instance_path, param.as_bytes(), value, owner, value],
            ))),
        }
    }

    /// The "CONFIG_DIR, PARAM" that holds a value, if any.
    pub fn owner(&self, value: &[u8]) -> Option<&[u8]> {
        self.owners.get(value).map(|v| v.as_slice())
    }

    /// Claims an instance's name and private directories (claim_instance_attributes).
    pub fn claim_instance(&mut self, inst: &Instance) -> Result<()> {
        if let Some(name) = &inst.name {
            self.register(&inst.config_dir, "multi_instance_name", name)?;
        }
        self.register(&inst.config_dir, "config_directory", &inst.config_dir)?;
        self.register(&inst.config_dir, "queue_directory", &inst.queue_dir)?;
        self.register(&inst.config_dir, "data_directory", &inst.data_dir)
    }
}

/// All instances, primary first, and their claims.
#[derive(Debug, Default)]
pub struct InstanceTable {
    pub instances: Vec<Instance>,
    pub claims: Claims,
}

impl InstanceTable {
    /// Loads the primary and every secondary, claiming as it goes
    /// (load_all_instances); `claims` holds the shared directories already.
    pub fn load(primary: &Primary, claims: Claims) -> Result<InstanceTable> {
        let mut table = InstanceTable {
            instances: Vec::new(),
            claims,
        };
        let dirs = primary.secondary_dirs();
        let mut first = Instance::primary(primary);
        if dirs.is_empty() {
            first.enabled = true;
        }
        table.append(first)?;
        let mut answers = secondary::native_answers(&dirs, &primary.command_dir).into_iter();
        for dir in dirs {
            let mut inst = Instance::secondary(&dir);
            secondary::load_with(&mut inst, &primary.command_dir, answers.next().flatten())?;
            table.append(inst)?;
        }
        Ok(table)
    }

    /// Claims an instance's attributes and appends it.
    fn append(&mut self, inst: Instance) -> Result<()> {
        self.claims.claim_instance(&inst)?;
        self.instances.push(inst);
        Ok(())
    }

    /// Claims a new instance and places it before the first secondary the
    /// selection matches, else last (insert_instance).
    pub fn insert(&mut self, inst: Instance, selection: &Selection) -> Result<usize> {
        self.claims.claim_instance(&inst)?;
        let mut at = self.instances.len();
        if *selection != Selection::Unspecified {
            match self
                .instances
                .iter()
                .skip(1)
                .position(|i| i.is_selected(selection))
            {
                Some(pos) => at = pos + 1,
                None if *selection != Selection::All => {
                    return Err(Fatal::new("No matching secondary instances"));
                }
                None => {}
            }
        }
        self.instances.insert(at, inst);
        Ok(at)
    }

    /// The secondaries' configuration directories, space separated.
    pub fn secondary_list(&self) -> Vec<u8> {
        let dirs: Vec<&[u8]> = self
            .instances
            .iter()
            .skip(1)
            .map(|i| i.config_dir.as_slice())
            .collect();
        dirs.join(&b' ')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(dir: &str, name: Option<&str>) -> Instance {
        Instance {
            config_dir: dir.as_bytes().to_vec(),
            name: name.map(|n| n.as_bytes().to_vec()),
            ..Instance::default()
        }
    }

    #[test]
    fn selection_by_name_suffix_path_and_dash() {
        let out = named("/etc/postfix-out", Some("postfix-out"));
        let sel = |s: &str| Selection::Name(s.as_bytes().to_vec());
        assert!(out.is_selected(&sel("postfix-out")));
        assert!(out.is_selected(&sel("out")));
        assert!(out.is_selected(&sel("/etc/postfix-out")));
        assert!(!out.is_selected(&sel("-")));
        assert!(!out.is_selected(&sel("postfix-ou")));
        let nameless = named("/etc/x", None);
        assert!(nameless.is_selected(&sel("/etc/x")));
        let mut primary = named("/etc/postfix", None);
        primary.primary = true;
        assert!(primary.is_selected(&sel("-")));
        let odd = named("/etc/y", Some("mta"));
        assert!(odd.is_selected(&sel("mta")));
    }

    #[test]
    fn claims_conflict_with_upstream_words() {
        let mut c = Claims::default();
        c.register(b"/etc/postfix", "shlib_directory", b"/x")
            .unwrap();
        c.register(b"/etc/postfix", "shlib_directory", b"/x")
            .unwrap();
        let err = c
            .register(b"/etc/postfix", "config_directory", b"/x")
            .unwrap_err();
        assert_eq!(
            String::from_utf8(err.0).unwrap(),
            "instance /etc/postfix, config_directory=/x conflicts with instance /etc/postfix, shlib_directory=/x"
        );
    }

    #[test]
    fn insert_places_before_match_or_last() {
        let mut t = InstanceTable::default();
        let mut p = named("/p", None);
        p.primary = true;
        p.queue_dir = b"/pq".to_vec();
        p.data_dir = b"/pd".to_vec();
        t.insert(p, &Selection::Unspecified).unwrap();
        let mk = |d: &str, n: &str| {
            let mut i = named(d, Some(n));
            i.queue_dir = format!("{d}q").into_bytes();
            i.data_dir = format!("{d}d").into_bytes();
            i
        };
        t.insert(mk("/a", "postfix-a"), &Selection::Unspecified)
            .unwrap();
        assert_eq!(
            t.insert(mk("/b", "postfix-b"), &Selection::Name(b"a".to_vec()))
                .unwrap(),
            1
        );
        assert_eq!(t.insert(mk("/c", "postfix-c"), &Selection::All).unwrap(), 1);
        assert_eq!(t.secondary_list(), b"/c /b /a".to_vec());
        let err = t
            .insert(mk("/d", "postfix-d"), &Selection::Group(b"g".to_vec()))
            .unwrap_err();
        assert_eq!(err.0, b"No matching secondary instances".to_vec());
    }
}
