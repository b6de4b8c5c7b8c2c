//! argv → command: POSIX getopt over `+ae:g:i:jG:I:lpRvx`, then upstream's
//! checks in upstream's order, into one of the three command syntaxes.

use crate::msg::{bfmt, Fatal, Result};

/// Which instances a command applies to (INST_SELECTION).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// No -a, -g or -i.
    Unspecified,
    /// -a
    All,
    /// -g group
    Group(Vec<u8>),
    /// -i name, config directory or "-"
    Name(Vec<u8>),
}

/// The life-cycle actions of `-e`, in upstream's table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Import,
    Destroy,
    Deport,
    Enable,
    Disable,
    Assign,
    Init,
}

impl Action {
    /// Every action, in the order upstream names them in its error message.
    pub const LISTED: [Action; 8] = [
        Action::Create,
        Action::Destroy,
        Action::Import,
        Action::Deport,
        Action::Enable,
        Action::Disable,
        Action::Assign,
        Action::Init,
    ];

    /// The action's word on the command line and for postmulti-script.
    pub fn word(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Import => "import",
            Action::Destroy => "destroy",
            Action::Deport => "deport",
            Action::Enable => "enable",
            Action::Disable => "disable",
            Action::Assign => "assign",
            Action::Init => "init",
        }
    }

    /// The action a word names, case-sensitively.
    pub fn from_word(word: &[u8]) -> Option<Action> {
        Action::LISTED
            .into_iter()
            .find(|a| a.word().as_bytes() == word)
    }

    /// Actions that add an instance (EDIT_CMD_MASK_ADD).
    pub fn adds(self) -> bool {
        matches!(self, Action::Create | Action::Import)
    }

    /// Actions that may assign a name or group (EDIT_CMD_MASK_ASSIGN).
    pub fn assigns(self) -> bool {
        self.adds() || self == Action::Assign
    }
}

/// What iterator mode does for each selected instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Iteration {
    /// -l, with -j for JSON lines.
    List { json: bool },
    /// -p postfix-command...
    Postfix(Vec<Vec<u8>>),
    /// -x unix-command...
    Exec(Vec<Vec<u8>>),
}

/// -I and -G; `Some(empty)` clears ("-" on the command line).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignment {
    pub name: Option<Vec<u8>>,
    pub group: Option<Vec<u8>>,
}

/// The three command syntaxes of postmulti(1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// postmulti -e init
    Init,
    /// postmulti -l | -p | -x, with -R and a selection.
    Iterate {
        iteration: Iteration,
        selection: Selection,
        reverse: bool,
    },
    /// postmulti -e create|import|destroy|deport|enable|disable|assign
    Manage {
        action: Action,
        selection: Selection,
        assignment: Assignment,
        params: Vec<Vec<u8>>,
    },
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub command: Command,
    /// How many -v options were given.
    pub verbose: u32,
}

/// Something the caller must do while options are being parsed, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// getopt's own complaint (already the full text after "NAME: "), then the usage fatal.
    Usage(Option<Vec<u8>>),
    /// A fatal error.
    Fatal(Fatal),
}

/// The mode options: -e ACTION, -l, -p, -x (cmd_mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    None,
    List,
    Postfix,
    Exec,
    Edit(Action),
}

/// The usage text upstream prints after "fatal: ".
pub fn usage(progname: &[u8]) -> Fatal {
    let p = progname;
    Fatal(bfmt(
        "Usage:{} -l [-v] [-a] [-g group] [-i instance] | \
         {} -p [-v] [-a] [-g group] [-i instance] command... | \
         {} -x [-v] [-a] [-i name] [-g group] command... | \
         {} -e action [-v] [-a] [-i name] [-g group] [-I name] \
         [-G group] [param=value ...]",
        &[p, p, p, p],
    ))
}

/// Options that take a value.
pub const WITH_VALUE: &[u8] = b"egiGI";
/// Options without a value.
pub const FLAGS: &[u8] = b"ajlpRvx";

fn fatal(text: impl Into<Vec<u8>>) -> ParseError {
    ParseError::Fatal(Fatal(text.into()))
}

/// Parses argv (without argv[0]).  `on_verbose` runs at each -v, when upstream
/// exports MAIL_VERBOSE.
pub fn parse(
    args: &[Vec<u8>],
    mut on_verbose: impl FnMut(),
) -> std::result::Result<Invocation, ParseError> {
    let mut select_count = 0;
    let mut selection = Selection::Unspecified;
    let mut mode = Mode::None;
    let mut mode_count = 0;
    let mut json = false;
    let mut reverse = false;
    let mut assignment = Assignment::default();
    let mut verbose = 0;
    let mut set_mode = |new: Mode, mode: &mut Mode| {
        if *mode != new {
            mode_count += 1;
        }
        *mode = new;
    };

    let mut optind = 0;
    'options: while optind < args.len() {
        let arg = &args[optind];
        if arg.as_slice() == b"--" {
            optind += 1;
            break;
        }
        if arg.len() < 2 || arg[0] != b'-' {
            break;
        }
        optind += 1;
        let mut at = 1;
        while at < arg.len() {
            let ch = arg[at];
            at += 1;
            let value = if WITH_VALUE.contains(&ch) {
                let v = if at < arg.len() {
                    arg[at..].to_vec()
                } else if optind < args.len() {
                    optind += 1;
                    args[optind - 1].clone()
                } else {
                    return Err(ParseError::Usage(Some(bfmt(
                        "option requires an argument -- '{}'",
                        &[&[ch]],
                    ))));
                };
                at = arg.len();
                Some(v)
            } else if FLAGS.contains(&ch) {
                None
            } else {
                return Err(ParseError::Usage(Some(bfmt(
                    "invalid option -- '{}'",
                    &[&[ch]],
                ))));
            };
            match (ch, value) {
                (b'a', _) => {
                    if selection != Selection::All {
                        select_count += 1;
                    }
                    selection = Selection::All;
                }
                (b'e', Some(word)) => {
                    let Some(action) = Action::from_word(&word) else {
                        let mut names: Vec<&[u8]> = vec![&word];
                        names.extend(Action::LISTED.iter().map(|a| a.word().as_bytes()));
                        return Err(fatal(bfmt(
                            "Invalid '-e' edit action '{}'. Specify '{}', '{}', '{}', '{}', '{}', '{}', '{}' or '{}'",
                            &names,
                        )));
                    };
                    set_mode(Mode::Edit(action), &mut mode);
                }
                (b'g', Some(group)) => {
                    select_count += 1;
                    selection = Selection::Group(group);
                }
                (b'i', Some(name)) => {
                    select_count += 1;
                    selection = Selection::Name(name);
                }
                (b'j', _) => json = true,
                (b'G', Some(group)) => {
                    if assignment.group.is_some() {
                        return Err(fatal("Specify at most one '-G' option"));
                    }
                    assignment.group = Some(if group == b"-" { Vec::new() } else { group });
                }
                (b'I', Some(name)) => {
                    if assignment.name.is_some() {
                        return Err(fatal("Specify at most one '-I' option"));
                    }
                    assignment.name = Some(if name == b"-" { Vec::new() } else { name });
                }
                (b'l', _) => set_mode(Mode::List, &mut mode),
                (b'p', _) => set_mode(Mode::Postfix, &mut mode),
                (b'R', _) => reverse = !reverse,
                (b'v', _) => {
                    verbose += 1;
                    on_verbose();
                }
                (b'x', _) => set_mode(Mode::Exec, &mut mode),
                _ => continue 'options,
            }
        }
    }
    let operands: Vec<Vec<u8>> = args[optind..].to_vec();

    if select_count > 1 {
        return Err(fatal("Specity no more than one of '-a', '-g', '-i'"));
    }
    if mode_count != 1 {
        return Err(fatal("Specify exactly one of '-e', '-l', '-p', '-x'"));
    }
    if mode == Mode::List && !operands.is_empty() {
        return Err(fatal("Command not allowed with '-l'"));
    }
    if matches!(mode, Mode::Postfix | Mode::Exec) && operands.is_empty() {
        return Err(fatal("Command required with '-p' or '-x' option"));
    }
    if matches!(mode, Mode::Postfix | Mode::Edit(_)) && reverse {
        return Err(fatal("The '-p' and '-e' options preclude the use of '-R'"));
    }
    let assigns = matches!(mode, Mode::Edit(a) if a.assigns());
    if !assigns && (assignment.name.is_some() || assignment.group.is_some()) {
        return Err(match mode {
            Mode::Edit(a) => fatal(bfmt(
                "Cannot assign instance name or group with '-e {}'",
                &[a.word().as_bytes()],
            )),
            _ => fatal("Cannot assign instance name or group without '-e assign'"),
        });
    }
    if let Mode::Edit(action) = mode {
        if action == Action::Assign && assignment.name.is_none() && assignment.group.is_none() {
            return Err(fatal("Specify new instance name or group with '-e assign'"));
        }
        if !action.adds() && !operands.is_empty() {
            return Err(fatal(bfmt(
                "Parameter overrides not valid with '-e {}'",
                &[action.word().as_bytes()],
            )));
        }
    }
    if json && mode != Mode::List {
        return Err(fatal("JSON output available only with '-l'"));
    }

    let command = match mode {
        Mode::List => Command::Iterate {
            iteration: Iteration::List { json },
            selection,
            reverse,
        },
        Mode::Postfix => Command::Iterate {
            iteration: Iteration::Postfix(operands),
            selection,
            reverse,
        },
        Mode::Exec => Command::Iterate {
            iteration: Iteration::Exec(operands),
            selection,
            reverse,
        },
        Mode::Edit(Action::Init) => Command::Init,
        Mode::Edit(action) => Command::Manage {
            action,
            selection,
            assignment,
            params: operands,
        },
        Mode::None => return Err(fatal("Specify exactly one of '-e', '-l', '-p', '-x'")),
    };
    Ok(Invocation { command, verbose })
}

/// Turns a parse error into the fatal error it ends with, printing getopt's
/// complaint first where there is one.
pub fn into_fatal(err: ParseError, progname: &[u8]) -> Fatal {
    match err {
        ParseError::Usage(complaint) => {
            if let Some(text) = complaint {
                crate::msg::getopt_complaint(&text);
            }
            usage(progname)
        }
        ParseError::Fatal(f) => f,
    }
}

/// Convenience for callers that only need the result.
pub fn parse_quiet(args: &[&str]) -> Result<Invocation> {
    let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
    parse(&args, || {}).map_err(|e| match e {
        ParseError::Usage(_) => usage(b"postmulti"),
        ParseError::Fatal(f) => f,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(args: &[&str]) -> String {
        let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        match parse(&args, || {}) {
            Err(ParseError::Fatal(f)) => String::from_utf8(f.0).unwrap(),
            Err(ParseError::Usage(c)) => format!(
                "usage: {}",
                String::from_utf8(c.unwrap_or_default()).unwrap()
            ),
            Ok(i) => panic!("parsed: {i:?}"),
        }
    }

    fn ok(args: &[&str]) -> Command {
        parse_quiet(args).unwrap().command
    }

    #[test]
    fn getopt_clusters_attached_and_detached_values() {
        assert_eq!(
            ok(&["-lifoo"]),
            Command::Iterate {
                iteration: Iteration::List { json: false },
                selection: Selection::Name(b"foo".to_vec()),
                reverse: false
            }
        );
        assert_eq!(ok(&["-l", "-i", "foo"]), ok(&["-lifoo"]));
        assert_eq!(ok(&["-lgmta"]), ok(&["-l", "-g", "mta"]));
    }

    #[test]
    fn getopt_stops_at_first_operand_and_at_double_dash() {
        assert_eq!(
            ok(&["-x", "ls", "-l"]),
            Command::Iterate {
                iteration: Iteration::Exec(vec![b"ls".to_vec(), b"-l".to_vec()]),
                selection: Selection::Unspecified,
                reverse: false
            }
        );
        assert_eq!(
            err(&["--", "-l"]),
            "Specify exactly one of '-e', '-l', '-p', '-x'"
        );
        assert_eq!(err(&["-l", "--", "foo"]), "Command not allowed with '-l'");
        assert_eq!(
            ok(&["-p", "--", "-v"]),
            Command::Iterate {
                iteration: Iteration::Postfix(vec![b"-v".to_vec()]),
                selection: Selection::Unspecified,
                reverse: false
            }
        );
    }

    #[test]
    fn getopt_complaints() {
        assert_eq!(err(&["-z"]), "usage: invalid option -- 'z'");
        assert_eq!(
            err(&["-l", "-i"]),
            "usage: option requires an argument -- 'i'"
        );
        assert_eq!(
            err(&["-j"]),
            "Specify exactly one of '-e', '-l', '-p', '-x'"
        );
    }

    #[test]
    fn checks_in_upstream_order() {
        assert_eq!(
            err(&["-a", "-i", "x", "-l", "-x"]),
            "Specity no more than one of '-a', '-g', '-i'"
        );
        assert_eq!(
            err(&["-l", "-p"]),
            "Specify exactly one of '-e', '-l', '-p', '-x'"
        );
        assert_eq!(err(&["-p"]), "Command required with '-p' or '-x' option");
        assert_eq!(
            err(&["-p", "-R", "status"]),
            "The '-p' and '-e' options preclude the use of '-R'"
        );
        assert_eq!(
            err(&["-e", "init", "-I", "postfix-a"]),
            "Cannot assign instance name or group with '-e init'"
        );
        assert_eq!(
            err(&["-l", "-G", "g"]),
            "Cannot assign instance name or group without '-e assign'"
        );
        assert_eq!(
            err(&["-e", "assign", "-i", "-"]),
            "Specify new instance name or group with '-e assign'"
        );
        assert_eq!(
            err(&["-e", "enable", "-i", "-", "a=b"]),
            "Parameter overrides not valid with '-e enable'"
        );
        assert_eq!(
            err(&["-x", "-j", "true"]),
            "JSON output available only with '-l'"
        );
        assert_eq!(
            err(&["-I", "a", "-I", "b", "-z"]),
            "Specify at most one '-I' option"
        );
        assert_eq!(
            err(&["-e", "Init"]),
            "Invalid '-e' edit action 'Init'. Specify 'create', 'destroy', 'import', 'deport', 'enable', 'disable', 'assign' or 'init'"
        );
    }

    #[test]
    fn repeats_that_upstream_accepts() {
        assert!(parse_quiet(&["-l", "-l", "-a", "-a"]).is_ok());
        assert!(parse_quiet(&["-e", "init", "-e", "init"]).is_ok());
        assert!(parse_quiet(&["-p", "-R", "-R", "status"]).is_ok());
        assert_eq!(parse_quiet(&["-lvv"]).unwrap().verbose, 2);
    }

    #[test]
    fn dash_clears_assigned_name_and_group() {
        match ok(&["-e", "assign", "-i", "x", "-I", "-", "-G", "-"]) {
            Command::Manage { assignment, .. } => {
                assert_eq!(assignment.name, Some(vec![]));
                assert_eq!(assignment.group, Some(vec![]));
            }
            other => panic!("{other:?}"),
        }
    }
}
