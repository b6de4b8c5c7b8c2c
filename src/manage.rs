//! Life-cycle mode: -e init, create, import, destroy, deport, enable,
//! disable, assign.  postmulti checks and computes; the helper
//! $daemon_directory/postmulti-script does the writing.

use crate::bytes::{c_string, join, non_empty, os};
use crate::command::{Action, Assignment, Selection};
use crate::environ::{cleaned, mail_parm_split, prepend_command_path};
use crate::instance::{Instance, NAME_PREFIX};
use crate::maincf::split_nameval;
use crate::msg::{self, bfmt, Fatal, Result};
use crate::primary::Primary;
use crate::secondary;
use crate::table::InstanceTable;

/// Which updates the helper is told about (EXP_FLAG_*).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exports {
    pub multi_dirs: bool,
    pub name: bool,
    pub group: bool,
}

impl Exports {
    fn any(self) -> bool {
        self.multi_dirs || self.name || self.group
    }
}

/// What the helper script is run for.
#[derive(Debug)]
pub struct Plan {
    pub action: Action,
    pub target: Instance,
    pub exports: Exports,
    /// Space-separated secondaries after the change, when they change.
    pub multi_dirs: Vec<u8>,
}

/// Works out `-e init`: the primary is the target, nothing else is read.
pub fn plan_init(primary: &Primary) -> Plan {
    Plan {
        action: Action::Init,
        target: Instance::primary(primary),
        exports: Exports::default(),
        multi_dirs: Vec::new(),
    }
}

/// Works out any other action against the loaded instance table; None when
/// there is nothing to do (an assign that changes nothing).
pub fn plan(
    action: Action,
    selection: &Selection,
    assignment: &Assignment,
    params: &[Vec<u8>],
    primary: &Primary,
    mut table: InstanceTable,
) -> Result<Option<Plan>> {
    let mut exports = Exports::default();
    let target = match action {
        Action::Create | Action::Import => {
            check_name_assignments(assignment)?;
            let mut new = Instance::default();
            assign_new_parameters(&mut new, action, params, assignment, primary, &table)?;
            exports = assign_names(&mut new, assignment, &mut table)?;
            exports.multi_dirs = true;
            table.insert(new.clone(), selection)?;
            new
        }
        Action::Assign => {
            let at = select_existing(selection, &table)?;
            check_name_assignments(assignment)?;
            let mut target = table.instances[at].clone();
            exports = assign_names(&mut target, assignment, &mut table)?;
            if !exports.any() {
                return Ok(None);
            }
            target
        }
        Action::Destroy | Action::Deport => {
            let at = select_existing(selection, &table)?;
            if at == 0 {
                return Err(Fatal::new("Cannot remove the primary instance"));
            }
            if table.instances[at].enabled {
                return Err(Fatal::new("Cannot remove enabled instances"));
            }
            exports.multi_dirs = true;
            table.instances.remove(at)
        }
        Action::Enable | Action::Disable => {
            let at = select_existing(selection, &table)?;
            table.instances[at].clone()
        }
        Action::Init => return Ok(Some(plan_init(primary))),
    };
    Ok(Some(Plan {
        action,
        target,
        exports,
        multi_dirs: table.secondary_list(),
    }))
}

/// The instance `-i` names, for actions on an existing instance (select_existing_instance).
fn select_existing(selection: &Selection, table: &InstanceTable) -> Result<usize> {
    let Selection::Name(name) = selection else {
        return Err(Fatal::new("Select an instance via '-i name'"));
    };
    table
        .instances
        .iter()
        .position(|i| i.is_selected(selection))
        .ok_or_else(|| Fatal(bfmt("No instance named %s", &[name])))
}

/// Letters, digits and `!@%-_=+:./` only, and not empty (check_safe_name).
fn is_safe_name(s: &[u8]) -> bool {
    !s.is_empty()
        && s.iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"!@%-_=+:./".contains(&c))
}

/// Checks -I and -G values (check_name_assignments).
fn check_name_assignments(a: &Assignment) -> Result<()> {
    if let Some(name) = a.name.as_deref().filter(|n| !n.is_empty()) {
        if !is_safe_name(name) {
            return Err(Fatal(bfmt(
                "Unsafe characters in new instance name: '%s'",
                &[name],
            )));
        }
        if name.contains(&b'/') {
            return Err(Fatal(bfmt(
                "Illegal '/' character in new instance name: '%s'",
                &[name],
            )));
        }
        if !name.starts_with(NAME_PREFIX) {
            return Err(Fatal::new("New instance name must start with 'postfix-'"));
        }
    }
    if let Some(group) = a.group.as_deref().filter(|g| !g.is_empty()) {
        if !is_safe_name(group) {
            return Err(Fatal(bfmt("Unsafe characters in '-G %s'", &[group])));
        }
    }
    Ok(())
}

/// Applies -I and -G where they change something; claims a new name (do_name_assignments).
fn assign_names(
    target: &mut Instance,
    a: &Assignment,
    table: &mut InstanceTable,
) -> Result<Exports> {
    let mut exports = Exports::default();
    if let Some(name) = &a.name {
        if name.as_slice() != target.name.as_deref().unwrap_or(b"") {
            table
                .claims
                .register(&target.config_dir, "multi_instance_name", name)?;
            target.name = non_empty(name);
            exports.name = true;
        }
    }
    if let Some(group) = &a.group {
        if group.as_slice() != target.group.as_deref().unwrap_or(b"") {
            target.group = non_empty(group);
            exports.group = true;
        }
    }
    Ok(exports)
}

/// The primary's path with its last component replaced by the -I name (make_private_path).
fn make_private_path(param: &str, primary_value: &[u8], a: &Assignment) -> Result<Vec<u8>> {
    let Some(name) = a.name.as_deref().filter(|n| !n.is_empty()) else {
        return Err(Fatal(bfmt(
            "Missing %s parameter value",
            &[param.as_bytes()],
        )));
    };
    if primary_value.first() != Some(&b'/') {
        return Err(Fatal(bfmt(
            "Invalid default %s parameter value: '%s': specify an absolute pathname",
            &[param.as_bytes(), primary_value],
        )));
    }
    // A C string: bytes up to the first NUL, as upstream edits it in place.
    let mut b = primary_value.to_vec();
    b.push(0);
    let strlen = |b: &[u8]| b.iter().position(|&c| c == 0).unwrap_or(b.len());
    let strrchr = |b: &[u8]| b[..strlen(b)].iter().rposition(|&c| c == b'/');
    if let Some(mut end) = strrchr(&b) {
        if b[end + 1] == 0 {
            // Drop slashes before a trailing slash (the trailing one stays).
            while end > 0 {
                end -= 1;
                if end > 0 && b[end] == b'/' {
                    b[end] = 0;
                } else {
                    break;
                }
            }
            end = strrchr(&b).unwrap_or(0);
        }
        // Drop the last path component: cut at its slash(es).
        while end > 0 && b[end] == b'/' {
            b[end] = 0;
            end -= 1;
        }
    }
    let base = b[..strlen(&b)].to_vec();
    let mut path = if base.len() > 1 { base } else { Vec::new() };
    path.push(b'/');
    path.extend_from_slice(name);
    Ok(path)
}

/// Applies one `param=value` argument to a new instance (assign_new_parameter).
fn assign_new_parameter(new: &mut Instance, action: Action, arg: &[u8]) -> Result<()> {
    let Ok((name, value)) = split_nameval(arg) else {
        return Err(Fatal(bfmt("Malformed parameter setting '%s'", &[arg])));
    };
    let target = match name {
        b"config_directory" => &mut new.config_dir,
        b"queue_directory" if action != Action::Import => &mut new.queue_dir,
        b"data_directory" if action != Action::Import => &mut new.data_dir,
        _ => {
            return Err(Fatal(bfmt(
                "Parameter '%s' not valid with action %s",
                &[name, action.word().as_bytes()],
            )))
        }
    };
    if value.first() != Some(&b'/') {
        return Err(Fatal(bfmt(
            "Parameter setting '%s' is not an absolute path",
            &[name],
        )));
    }
    let mut end = value.len() - 1;
    while end > 0 && value[end] == b'/' {
        end -= 1;
    }
    if end == 0 {
        return Err(Fatal(bfmt(
            "Parameter setting '%s' is the root directory",
            &[name],
        )));
    }
    *target = value[..=end].to_vec();
    Ok(())
}

/// Fills in a new instance's private directories (assign_new_parameters).
fn assign_new_parameters(
    new: &mut Instance,
    action: Action,
    params: &[Vec<u8>],
    a: &Assignment,
    primary: &Primary,
    table: &InstanceTable,
) -> Result<()> {
    for arg in params {
        assign_new_parameter(new, action, arg)?;
    }
    if new.config_dir.is_empty() {
        new.config_dir = make_private_path("config_directory", &primary.config_dir, a)?;
    }
    if let Some(owner) = table.claims.owner(&new.config_dir) {
        return Err(Fatal(bfmt(
            "new config_directory=%s is already in use by instance %s=%s",
            &[&new.config_dir, owner, &new.config_dir],
        )));
    }
    if action != Action::Import {
        if new.queue_dir.is_empty() {
            new.queue_dir = make_private_path("queue_directory", &primary.queue_dir, a)?;
        }
        if new.data_dir.is_empty() {
            new.data_dir = make_private_path("data_directory", &primary.data_dir, a)?;
        }
    } else {
        secondary::load(new, &primary.command_dir)?;
    }
    Ok(())
}

/// Replaces this process with the helper, in the environment upstream gives
/// it (export_helper_environment, then execl).
pub fn exec_helper(plan: &Plan, primary: &Primary) -> Fatal {
    let import = match mail_parm_split("import_environment", &primary.import_environment) {
        Ok(import) => import,
        Err(fatal) => return fatal,
    };
    let kept = match cleaned(&import) {
        Ok(kept) => kept,
        Err(fatal) => return fatal,
    };
    // SAFETY: single-threaded; clears every entry, even one whose name
    // holds '=' (which remove_var would refuse).
    unsafe { nix::libc::clearenv() };
    for (name, value) in kept {
        std::env::set_var(name, value);
    }
    prepend_command_path(&primary.command_dir);
    let set = |name: &str, value: &[u8]| std::env::set_var(name, os(value));
    set("MAIL_CONFIG", &primary.config_dir);
    set("command_directory", &primary.command_dir);
    set("daemon_directory", &primary.daemon_dir);
    set("meta_directory", &primary.meta_dir);
    set("shlib_directory", &primary.shlib_dir);
    set("config_directory", &plan.target.config_dir);
    set("queue_directory", &plan.target.queue_dir);
    set("data_directory", &plan.target.data_dir);
    if plan.exports.multi_dirs {
        set("multi_instance_directories", &plan.multi_dirs);
    }
    if plan.exports.name {
        set(
            "multi_instance_name",
            plan.target.name.as_deref().unwrap_or(b"-"),
        );
    }
    if plan.exports.group {
        set(
            "multi_instance_group",
            plan.target.group.as_deref().unwrap_or(b"-"),
        );
    }
    let cmd = join(&primary.daemon_dir, b"postmulti-script");
    let path = c_string(&cmd);
    let args = [
        path.clone(),
        c_string(b"-e"),
        c_string(plan.action.word().as_bytes()),
    ];
    let err = nix::unistd::execv(&path, &args).unwrap_err();
    Fatal(bfmt("%s: %s", &[&cmd, msg::errno_text(err).as_bytes()]))
}

/// Runs the plan: the helper replaces this process, or a fatal error.
pub fn run(plan: Option<Plan>, primary: &Primary) -> Result<i32> {
    match plan {
        None => Ok(0),
        Some(plan) => {
            msg::set_utf8(primary.smtputf8);
            Err(exec_helper(&plan, primary))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn private(primary: &str, name: &str) -> String {
        let a = Assignment {
            name: Some(name.as_bytes().to_vec()),
            group: None,
        };
        String::from_utf8(make_private_path("config_directory", primary.as_bytes(), &a).unwrap())
            .unwrap()
    }

    #[test]
    fn private_paths_replace_the_last_component() {
        assert_eq!(private("/etc/postfix", "postfix-a"), "/etc/postfix-a");
        assert_eq!(
            private("/var/spool/postfix/", "postfix-a"),
            "/var/spool/postfix/postfix-a"
        );
        assert_eq!(
            private("/var/spool//postfix", "postfix-a"),
            "/var/spool/postfix-a"
        );
        assert_eq!(private("/postfix", "postfix-a"), "/postfix/postfix-a");
        assert_eq!(private("/", "postfix-a"), "/postfix-a");
        assert_eq!(private("//x", "postfix-a"), "/postfix-a");
    }

    #[test]
    fn parameter_settings_are_checked_like_upstream() {
        let mut i = Instance::default();
        let e = |r: Result<()>| String::from_utf8(r.unwrap_err().0).unwrap();
        assert_eq!(
            e(assign_new_parameter(&mut i, Action::Create, b"x")),
            "Malformed parameter setting 'x'"
        );
        assert_eq!(
            e(assign_new_parameter(
                &mut i,
                Action::Import,
                b"queue_directory=/q"
            )),
            "Parameter 'queue_directory' not valid with action import"
        );
        assert_eq!(
            e(assign_new_parameter(
                &mut i,
                Action::Create,
                b"data_directory=d"
            )),
            "Parameter setting 'data_directory' is not an absolute path"
        );
        assert_eq!(
            e(assign_new_parameter(
                &mut i,
                Action::Create,
                b"data_directory=//"
            )),
            "Parameter setting 'data_directory' is the root directory"
        );
        assign_new_parameter(&mut i, Action::Create, b"queue_directory=/q/x//").unwrap();
        assert_eq!(i.queue_dir, b"/q/x".to_vec());
    }

    #[test]
    fn names_are_checked_in_upstream_order() {
        let chk = |n: &str| {
            check_name_assignments(&Assignment {
                name: Some(n.as_bytes().to_vec()),
                group: None,
            })
            .map_err(|f| String::from_utf8(f.0).unwrap())
        };
        assert_eq!(
            chk("postfix-a b"),
            Err("Unsafe characters in new instance name: 'postfix-a b'".into())
        );
        assert_eq!(
            chk("postfix-a/b"),
            Err("Illegal '/' character in new instance name: 'postfix-a/b'".into())
        );
        assert_eq!(
            chk("mta"),
            Err("New instance name must start with 'postfix-'".into())
        );
        assert_eq!(chk(""), Ok(()));
        assert_eq!(chk("postfix-a"), Ok(()));
    }
}
