//! postmulti(1): the Postfix multi-instance manager.

fn main() {
    postmulti::startup::main()
}
