//! postmulti(1): the Postfix multi-instance manager.

/// Records the caller's SIGPIPE disposition before the Rust runtime sets
/// it to ignored (src/startup.rs); a constructor, as stable Rust has no
/// other way to run code before that.
#[used]
#[link_section = ".init_array"]
static RECORD_CALLER_SIGPIPE: extern "C" fn() = postmulti::startup::record_caller_sigpipe;

fn main() {
    postmulti::startup::main()
}
