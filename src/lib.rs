//! postmulti: the Postfix multi-instance manager, as a drop-in replacement.
//!
//! The behaviour contract is the postmulti(1) of the Postfix release
//! installed ([`defaults::release`] where releases differ): the same bytes
//! on stdout, the same lines on stderr, the same exit status and the same
//! files written.  The manual
//! (`man/postmulti.1`) says what it does for an operator; this page and the
//! module pages say how; `tests/README.md` says how that is checked.
//!
//! # The flow, one module a step
//!
//! argv → [`command`] → [`primary`] main.cf ([`maincf`], [`expand`],
//! checked by [`primary::mail_params`]) →
//! [`table`] of instances (each an [`instance`]; a secondary's parameters
//! from [`secondary`], which asks postconf, or from the [`native`] reader,
//! which reads master.cf with [`mastercf`] and the host's name with
//! [`hostname`]) → [`iterate`] or [`manage`]
//! (serialized by [`lock`], environment from [`environ`]); [`msg`] reports.
//! [`startup`] runs the steps in upstream's order; [`additions`] holds what
//! this postmulti adds (`--version`, `--completions`); [`bytes`] the small
//! byte-string helpers (paths, C strings, yes/no, white space).
//!
//! | step | module | upstream |
//! |---|---|---|
//! | start-up | [`startup`]: `main` (SIGPIPE as the caller left it, recorded before the Rust runtime ran by `record_caller_sigpipe` from src/main.rs, the program name, the additions), then `run`: umask 022, fds 0–2 open, the primary main.cf, the MAIL_CONFIG guard, argv, the life-cycle lock for every `-e` command (never fatal: a command goes on without it where it cannot be had; main.cf is read again after it; iterator mode never takes it), the shared directories, the instance table, the action | `main()` |
//! | argv → command | [`command`]: `Getopt` lexes argv (POSIX getopt over `+ae:g:i:jG:I:lpRvx`) into typed `Opt`s and the operands; `Options::apply` applies each as upstream's option loop does, with the fatals it raises there; `Options::into_invocation` runs the checks after the loop, in upstream's order, into `Command::{Init, Iterate, Manage}` | the option loop of `main()` |
//! | primary main.cf | [`primary`] (`Primary::load`) on [`maincf`] (logical lines, `name = value`) and [`expand`]; [`primary::mail_params`] checks the global parameters (`check_first`, `check_rest`) | `mail_conf_read()`, `mail_params_init()`, readlline, split_nameval, mac_parse, mac_expand |
//! | instance table | [`table`]: `check_shared_directories`, `Claims`, `InstanceTable::load`, `InstanceTable::insert`, `Instance::is_selected` | check_shared_dir_status, register_claim, claim_instance_attributes, load_all_instances, insert_instance, match_instance_selection |
//! | one instance | [`instance`]: `Instance`, its five private parameters (`REQUESTED`) | |
//! | a secondary's parameters | [`secondary`]: `load`/`load_with`, through `postconf -xc` unless the native reader answered | load_instance |
//! | native reader | [`native`]: reads DIR/main.cf and DIR/master.cf and answers only when postconf would print the same and nothing else; `read_ahead` does many at once, on every CPU, each thread parsing a master.cf text once however many instances share it | (postconf itself) |
//! | iterator mode | [`iterate`]: `run` picks the order and flags from `-p`'s first word (start commands: in order, disabled instances get `check`; stop commands: reversed, disabled skipped; control commands: disabled skipped), `in_order` walks the table (`-R` backwards), `list` for `-l`/`-j`, `each` and `run_user_command` fork and exec for `-x` and `-p` | iterate_command, list_instances |
//! | life-cycle mode | [`manage`]: `plan` checks and places (`create`, `import`, `destroy`, `deport`, `enable`, `disable`, `assign`; `plan_init` for `init`), `exec_helper` execs `postmulti-script` with the lock still held | manage_instance and its helpers |
//! | the lock | [`lock`]: `acquire`, called from `startup::run` | (none: upstream has no lock) |
//! | environment | [`environ`]: `prepend_command_path`, `cleaned`; `unsafe_credentials` and `safe_getenv` (what of the caller's environment is trusted), `drop_tz_when_unsafe`, `check_config_dir` | import_environment, clean_env, unsafe, safe_getenv, msg_syslog_init's TZ, mail_conf_checkdir |
//! | diagnostics | [`msg`]: `postmulti: fatal: ...` on stderr (before Postfix 3.11 only when it is a terminal: the installed release, [`defaults::release`]) and to syslog, or to postlogd or a file with `maillog_file`; `bfmt` formats with upstream's `%s` | msg(3), msg_syslog, maillog_client |
//! | additions | [`additions`]: `--version` and `--completions SHELL`, words upstream rejects | |
//! | helpers | [`bytes`]: `join` (DIR/NAME), `c_string`, `non_empty`, `yes_no`, `trim`/`trim_end`, `is_space` (C isspace) and `is_white_space` (Postfix's " \t\r\n") | |
//! | defaults | [`defaults`] (with `src/build.rs`): the built-in parameter names and defaults of the Postfix built against, or of the installed one | the `postconf -d` table |
//!
//! clap is not used for argv: it cannot reproduce getopt's stop at the
//! first operand (`postmulti -x ls -l`), glibc's exact complaints
//! (`invalid option -- 'z'`), or upstream's fatals raised in the middle of
//! option parsing (`-I` twice, a bad `-e` action) before later options are
//! seen.
//!
//! # Reproducible builds
//!
//! The binary holds no host name, domain, address, pid, time or path of the
//! build directory (see [`defaults`] for the values postconf computes on
//! the build host, which are left out), so the same commit built with the
//! same toolchain against the same postfix package gives the same bytes.
//! To check, build twice under different host names and compare:
//!
//! ```sh
//! for h in a b; do
//!     unshare --uts sh -c "hostname build-$h.example; cargo build --release --locked --target-dir /tmp/repro-$h"
//! done
//! sha256sum /tmp/repro-[ab]/release/postmulti     # equal
//! ```
//!
//! `tests/reproducible.rs` does this (two clean release builds, also in
//! network namespaces with different addresses) and looks for each build
//! host's name, domain and `postconf -d mynetworks` values in the binary.
//!
//! The release binary does hold the paths of the crates.io sources it was
//! built from (`$CARGO_HOME/registry/src/...`, in panic messages of
//! dependencies), and a build with debug info also holds the source
//! directory.  For the same bytes from different build directories, users
//! or CARGO_HOMEs, map both away:
//!
//! ```sh
//! RUSTFLAGS="--remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo --remap-path-prefix=$PWD=/build/postmulti" \
//!     cargo build --release --locked
//! ```
//!
//! `.ci/build-deb` then strips the binary (`--strip-unneeded`, without the
//! `.comment` and `.note` sections) and builds the `.deb` with `dpkg-deb`,
//! whose output also depends on file mtimes: set `SOURCE_DATE_EPOCH` for a
//! reproducible `.deb` (two `SOURCE_DATE_EPOCH=1700000000 .ci/build-deb
//! --binary B` runs give the same file).

pub mod additions;
pub mod bytes;
pub mod command;
pub mod defaults;
pub mod environ;
pub mod expand;
pub mod hostname;
pub mod instance;
pub mod interfaces;
pub mod iterate;
pub mod lock;
pub mod maincf;
pub mod manage;
pub mod mastercf;
pub mod msg;
pub mod native;
pub mod primary;
pub mod secondary;
pub mod startup;
pub mod table;
