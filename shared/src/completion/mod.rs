//! Shell completion for every plugin, answered from the plugin's own clap command.
//!
//! - `kubectl <plugin> <TAB>` (kubectl 1.26+): kubectl runs `kubectl_complete-<plugin>` with the
//!   words typed and reads Cobra's `__complete` protocol ([`cobra`]). The binary answers it when
//!   started under that name (a link or copy) or with a hidden `__complete` first argument:
//!   flag names, flag values (namespaces, contexts, enum values, paths) and the objects each
//!   plugin's positionals name ([`registry`]), listed from the cluster the typed `--kubeconfig`,
//!   `--context` and `-n` point at.
//! - `kubectl-<plugin> completion bash|zsh|fish|powershell|elvish`: a static script for the
//!   standalone binary ([`scripts`]).
//!
//! [`app::parse_args`](crate::app::parse_args) calls [`respond`] before parsing normally.

mod cobra;
mod invocation;
mod lookup;
mod nouns;
mod plan;
mod registry;
mod scripts;
mod status;
mod words;

pub use cobra::{Candidate, Directive, Reply};
pub use invocation::{Invocation, PROTOCOL_ARGUMENT, completion_executable, plugin_executable};

use clap::Command;

use crate::exit_code;

/// Answers a completion request for `plugin` whose clap command is `command`; returns the exit
/// code (0 even when the cluster cannot be reached: the reply then says so to the shell).
pub fn respond(invocation: Invocation, plugin: &str, command: Command) -> u8 {
    match invocation {
        Invocation::Script(shell) => scripts::print_script(&shell, plugin, command),
        Invocation::Protocol(words) => {
            print!("{}", reply(plugin, command, &words).render());
            exit_code::OK
        }
    }
}

/// The protocol reply to `words` (the last is the word being completed).
pub fn reply(plugin: &str, mut command: Command, words: &[String]) -> Reply {
    command.build();
    match plan::plan(plugin, &command, words) {
        plan::Plan::Ready(reply) => reply,
        plan::Plan::Lookup(lookup) => match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(lookup::answer(*lookup)),
            Err(_) => Reply::error(),
        },
    }
}
