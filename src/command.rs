//! argv → command: POSIX getopt over `+ae:g:i:jG:I:lpRvx`, then upstream's
//! checks in upstream's order, into one of the three command syntaxes.

use crate::msg::{bfmt, Fatal, Result};

/// Which instances a command applies to (INST_SELECTION).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Selection {
    /// No -a, -g or -i.
    #[default]
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
    /// How many -v options were given (each one exports MAIL_VERBOSE).
    pub verbose: u32,
}

/// Why a command line is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// getopt's own complaint (already the full text after "NAME: "), then the usage fatal.
    Usage(Option<Vec<u8>>),
    /// A fatal error.
    Fatal(Fatal),
}

/// The usage text upstream prints after "fatal: ".
pub fn usage(progname: &[u8]) -> Fatal {
    let p = progname;
    Fatal(bfmt(
        "Usage:%s -l [-v] [-a] [-g group] [-i instance] | \
         %s -p [-v] [-a] [-g group] [-i instance] command... | \
         %s -x [-v] [-a] [-i name] [-g group] command... | \
         %s -e action [-v] [-a] [-i name] [-g group] [-I name] \
         [-G group] [param=value ...]",
        &[p, p, p, p],
    ))
}

/// Parses argv (without `argv[0]`) in three stages: getopt lexes it into
/// options and operands, each option is applied as upstream's option loop
/// applies it (with the fatals it raises there), then upstream's checks
/// after the loop turn the result into a [`Command`].
pub fn parse(args: &[Vec<u8>]) -> std::result::Result<Invocation, ParseError> {
    let mut getopt = Getopt::new(args);
    let mut options = Options::default();
    for opt in getopt.by_ref() {
        options.apply(opt?)?;
    }
    options.into_invocation(getopt.operands().to_vec())
}

fn fatal(text: impl Into<Vec<u8>>) -> ParseError {
    ParseError::Fatal(Fatal(text.into()))
}

// ---------------------------------------------------------------------------
// Stage 1: getopt
// ---------------------------------------------------------------------------

/// Options that take a value.
pub const WITH_VALUE: &[u8] = b"egiGI";
/// Options without a value.
pub const FLAGS: &[u8] = b"ajlpRvx";

/// One option as getopt returns it, named for what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opt {
    /// -a
    All,
    /// -e action
    Edit(Vec<u8>),
    /// -g group
    Group(Vec<u8>),
    /// -i name
    Name(Vec<u8>),
    /// -j
    Json,
    /// -G group
    AssignGroup(Vec<u8>),
    /// -I name
    AssignName(Vec<u8>),
    /// -l
    List,
    /// -p
    Postfix,
    /// -R
    Reverse,
    /// -v
    Verbose,
    /// -x
    Exec,
}

/// What an option letter is: a flag, or an option that takes a value.
enum Letter {
    Flag(Opt),
    Valued(fn(Vec<u8>) -> Opt),
}

/// The option a letter names, if any (the table behind FLAGS and WITH_VALUE).
fn letter(c: u8) -> Option<Letter> {
    Some(match c {
        b'a' => Letter::Flag(Opt::All),
        b'j' => Letter::Flag(Opt::Json),
        b'l' => Letter::Flag(Opt::List),
        b'p' => Letter::Flag(Opt::Postfix),
        b'R' => Letter::Flag(Opt::Reverse),
        b'v' => Letter::Flag(Opt::Verbose),
        b'x' => Letter::Flag(Opt::Exec),
        b'e' => Letter::Valued(Opt::Edit),
        b'g' => Letter::Valued(Opt::Group),
        b'i' => Letter::Valued(Opt::Name),
        b'G' => Letter::Valued(Opt::AssignGroup),
        b'I' => Letter::Valued(Opt::AssignName),
        _ => return None,
    })
}

/// POSIX getopt (glibc with a leading `+`) over postmulti's options: options
/// until the first operand or `--`, clusters (`-lv`), values attached
/// (`-ifoo`) or in the next word, and glibc's complaints.
pub struct Getopt<'a> {
    args: &'a [Vec<u8>],
    /// The word being read (optind).
    word: usize,
    /// The next letter in that word; 0 before a word is started.
    at: usize,
    /// The options have ended.
    done: bool,
}

impl<'a> Getopt<'a> {
    /// A lexer over argv without `argv[0]`.
    pub fn new(args: &'a [Vec<u8>]) -> Self {
        Getopt {
            args,
            word: 0,
            at: 0,
            done: false,
        }
    }

    /// The operands: the words after the options (once the options have ended).
    pub fn operands(&self) -> &'a [Vec<u8>] {
        self.args.get(self.word..).unwrap_or_default()
    }

    /// Ends the options; `skip` steps over a `--`.
    fn end(&mut self, skip: usize) -> Option<std::result::Result<Opt, ParseError>> {
        self.word += skip;
        self.done = true;
        None
    }

    /// Moves on to the next word.
    fn next_word(&mut self) {
        self.word += 1;
        self.at = 0;
    }
}

impl Iterator for Getopt<'_> {
    type Item = std::result::Result<Opt, ParseError>;

    /// The next option, or None when the options end.
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let args = self.args;
        let Some(arg) = args.get(self.word) else {
            return self.end(0);
        };
        if self.at == 0 {
            if arg.as_slice() == b"--" {
                return self.end(1);
            }
            if arg.len() < 2 || arg[0] != b'-' {
                return self.end(0);
            }
            self.at = 1;
        }
        let c = arg[self.at];
        self.at += 1;
        let rest = &arg[self.at..];
        let opt = match letter(c) {
            None => {
                self.done = true;
                return Some(Err(ParseError::Usage(Some(bfmt(
                    "invalid option -- '%s'",
                    &[&[c]],
                )))));
            }
            Some(Letter::Flag(opt)) => {
                if rest.is_empty() {
                    self.next_word();
                }
                opt
            }
            Some(Letter::Valued(make)) if !rest.is_empty() => {
                let value = rest.to_vec();
                self.next_word();
                make(value)
            }
            Some(Letter::Valued(make)) => {
                let Some(value) = args.get(self.word + 1) else {
                    self.done = true;
                    return Some(Err(ParseError::Usage(Some(bfmt(
                        "option requires an argument -- '%s'",
                        &[&[c]],
                    )))));
                };
                self.next_word();
                self.next_word();
                make(value.clone())
            }
        };
        Some(Ok(opt))
    }
}

// ---------------------------------------------------------------------------
// Stage 2: the option loop
// ---------------------------------------------------------------------------

/// The mode options: -e ACTION, -l, -p, -x (cmd_mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    List,
    Postfix,
    Exec,
    Edit(Action),
}

/// What upstream's option loop has recorded so far.
#[derive(Debug, Default)]
struct Options {
    /// How many selection options changed the selection (-a twice counts once).
    select_count: u32,
    selection: Selection,
    mode: Option<Mode>,
    /// How many mode options changed the mode (-l twice counts once).
    mode_count: u32,
    json: bool,
    reverse: bool,
    assignment: Assignment,
    verbose: u32,
}

impl Options {
    /// Applies one option, raising the fatals upstream raises inside its loop.
    fn apply(&mut self, opt: Opt) -> std::result::Result<(), ParseError> {
        match opt {
            Opt::All => {
                if self.selection != Selection::All {
                    self.select_count += 1;
                }
                self.selection = Selection::All;
            }
            Opt::Edit(word) => self.set_mode(Mode::Edit(edit_action(&word)?)),
            Opt::Group(group) => {
                self.select_count += 1;
                self.selection = Selection::Group(group);
            }
            Opt::Name(name) => {
                self.select_count += 1;
                self.selection = Selection::Name(name);
            }
            Opt::Json => self.json = true,
            Opt::AssignGroup(group) => {
                if self.assignment.group.is_some() {
                    return Err(fatal("Specify at most one '-G' option"));
                }
                self.assignment.group = Some(clear_on_dash(group));
            }
            Opt::AssignName(name) => {
                if self.assignment.name.is_some() {
                    return Err(fatal("Specify at most one '-I' option"));
                }
                self.assignment.name = Some(clear_on_dash(name));
            }
            Opt::List => self.set_mode(Mode::List),
            Opt::Postfix => self.set_mode(Mode::Postfix),
            Opt::Reverse => self.reverse = !self.reverse,
            Opt::Verbose => self.verbose += 1,
            Opt::Exec => self.set_mode(Mode::Exec),
        }
        Ok(())
    }

    /// Records a mode option; a repeat of the same mode is no conflict.
    fn set_mode(&mut self, mode: Mode) {
        if self.mode != Some(mode) {
            self.mode_count += 1;
        }
        self.mode = Some(mode);
    }

    // -----------------------------------------------------------------------
    // Stage 3: the checks after the loop, into a command
    // -----------------------------------------------------------------------

    /// Upstream's checks after the option loop, in its order, then the command.
    fn into_invocation(
        self,
        operands: Vec<Vec<u8>>,
    ) -> std::result::Result<Invocation, ParseError> {
        if self.select_count > 1 {
            return Err(fatal("Specity no more than one of '-a', '-g', '-i'"));
        }
        let (Some(mode), 1) = (self.mode, self.mode_count) else {
            return Err(fatal("Specify exactly one of '-e', '-l', '-p', '-x'"));
        };
        check_operands(mode, &operands)?;
        if matches!(mode, Mode::Postfix | Mode::Edit(_)) && self.reverse {
            return Err(fatal("The '-p' and '-e' options preclude the use of '-R'"));
        }
        check_assignment(mode, &self.assignment)?;
        if let Mode::Edit(action) = mode {
            if !action.adds() && !operands.is_empty() {
                return Err(fatal(bfmt(
                    "Parameter overrides not valid with '-e %s'",
                    &[action.word().as_bytes()],
                )));
            }
        }
        if self.json && mode != Mode::List {
            return Err(fatal("JSON output available only with '-l'"));
        }
        let verbose = self.verbose;
        Ok(Invocation {
            command: self.command(mode, operands),
            verbose,
        })
    }

    /// The command a checked mode, these options and the operands form.
    fn command(self, mode: Mode, operands: Vec<Vec<u8>>) -> Command {
        let iterate = |iteration| Command::Iterate {
            iteration,
            selection: self.selection.clone(),
            reverse: self.reverse,
        };
        match mode {
            Mode::List => iterate(Iteration::List { json: self.json }),
            Mode::Postfix => iterate(Iteration::Postfix(operands)),
            Mode::Exec => iterate(Iteration::Exec(operands)),
            Mode::Edit(Action::Init) => Command::Init,
            Mode::Edit(action) => Command::Manage {
                action,
                selection: self.selection,
                assignment: self.assignment,
                params: operands,
            },
        }
    }
}

/// The action an `-e` word names, or upstream's fatal listing them all.
fn edit_action(word: &[u8]) -> std::result::Result<Action, ParseError> {
    Action::from_word(word).ok_or_else(|| {
        let mut names: Vec<&[u8]> = vec![word];
        names.extend(Action::LISTED.iter().map(|a| a.word().as_bytes()));
        fatal(bfmt(
            "Invalid '-e' edit action '%s'. Specify '%s', '%s', '%s', '%s', '%s', '%s', '%s' or '%s'",
            &names,
        ))
    })
}

/// `-I -` and `-G -` clear the name or group: an empty value.
fn clear_on_dash(value: Vec<u8>) -> Vec<u8> {
    if value == b"-" {
        Vec::new()
    } else {
        value
    }
}

/// -l takes no command; -p and -x need one.
fn check_operands(mode: Mode, operands: &[Vec<u8>]) -> std::result::Result<(), ParseError> {
    if mode == Mode::List && !operands.is_empty() {
        return Err(fatal("Command not allowed with '-l'"));
    }
    if matches!(mode, Mode::Postfix | Mode::Exec) && operands.is_empty() {
        return Err(fatal("Command required with '-p' or '-x' option"));
    }
    Ok(())
}

/// -I and -G only with the actions that assign; `-e assign` needs one of them.
fn check_assignment(mode: Mode, assignment: &Assignment) -> std::result::Result<(), ParseError> {
    let given = assignment.name.is_some() || assignment.group.is_some();
    match mode {
        Mode::Edit(action) if given && !action.assigns() => Err(fatal(bfmt(
            "Cannot assign instance name or group with '-e %s'",
            &[action.word().as_bytes()],
        ))),
        Mode::Edit(Action::Assign) if !given => {
            Err(fatal("Specify new instance name or group with '-e assign'"))
        }
        Mode::Edit(_) => Ok(()),
        _ if given => Err(fatal(
            "Cannot assign instance name or group without '-e assign'",
        )),
        _ => Ok(()),
    }
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
    parse(&args).map_err(|e| match e {
        ParseError::Usage(_) => usage(b"postmulti"),
        ParseError::Fatal(f) => f,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(args: &[&str]) -> String {
        let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        match parse(&args) {
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
        let cases: [(&[&str], &str); 11] = [
            (&["-a", "-i", "x", "-l", "-x"][..], "Specity no more than one of '-a', '-g', '-i'"),
            (&["-l", "-p"][..], "Specify exactly one of '-e', '-l', '-p', '-x'"),
            (&["-p"][..], "Command required with '-p' or '-x' option"),
            (&["-p", "-R", "status"][..], "The '-p' and '-e' options preclude the use of '-R'"),
            (&["-e", "init", "-I", "postfix-a"][..], "Cannot assign instance name or group with '-e init'"),
            (&["-l", "-G", "g"][..], "Cannot assign instance name or group without '-e assign'"),
            (&["-e", "assign", "-i", "-"][..], "Specify new instance name or group with '-e assign'"),
            (&["-e", "enable", "-i", "-", "a=b"][..], "Parameter overrides not valid with '-e enable'"),
            (&["-x", "-j", "true"][..], "JSON output available only with '-l'"),
            (&["-I", "a", "-I", "b", "-z"][..], "Specify at most one '-I' option"),
            (&["-e", "Init"][..], "Invalid '-e' edit action 'Init'. Specify 'create', 'destroy', 'import', 'deport', 'enable', 'disable', 'assign' or 'init'"),
        ];
        for (argv, message) in cases {
            assert_eq!(err(argv), message, "{argv:?}");
        }
    }

    #[test]
    fn repeats_that_upstream_accepts() {
        assert!(parse_quiet(&["-l", "-l", "-a", "-a"]).is_ok());
        assert!(parse_quiet(&["-e", "init", "-e", "init"]).is_ok());
        assert!(parse_quiet(&["-p", "-R", "-R", "status"]).is_ok());
        assert_eq!(parse_quiet(&["-lvv"]).unwrap().verbose, 2);
    }

    #[test]
    fn letter_table_is_flags_and_with_value() {
        for c in 0..=255u8 {
            match letter(c) {
                Some(Letter::Flag(_)) => assert!(FLAGS.contains(&c), "{}", c as char),
                Some(Letter::Valued(_)) => assert!(WITH_VALUE.contains(&c), "{}", c as char),
                None => assert!(!FLAGS.contains(&c) && !WITH_VALUE.contains(&c)),
            }
        }
    }

    #[test]
    fn getopt_lexes_options_then_operands() {
        let args: Vec<Vec<u8>> = ["-lvifoo", "-g", "mta", "--", "-x", "y"]
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect();
        let mut g = Getopt::new(&args);
        let opts: Vec<Opt> = g.by_ref().map(|o| o.unwrap()).collect();
        assert_eq!(
            opts,
            [
                Opt::List,
                Opt::Verbose,
                Opt::Name(b"foo".to_vec()),
                Opt::Group(b"mta".to_vec())
            ]
        );
        assert_eq!(g.operands(), &args[4..]);
        assert_eq!(g.next(), None);
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
