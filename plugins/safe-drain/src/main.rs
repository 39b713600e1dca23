//! `kubectl safe-drain`: a pre-flight plan for draining a node (what happens to every pod, what
//! would block, where the evicted pods go), then cordon, evict, wait, and uncordon or delete.

mod args;
mod confirm;
mod document;
mod drain;
mod exec;
mod gather;
mod plan;
mod render;
mod uncordon;

use std::process::ExitCode;

use kube_runbook::{
    Error, app,
    interrupt::{Interrupt, run_interruptible},
};

use crate::args::{Args, Command};

fn main() -> ExitCode {
    let args = app::parse_args::<Args>("safe-drain");
    run_interruptible(|interrupt| run(args, interrupt))
}

async fn run(args: Args, interrupt: Interrupt) -> Result<u8, Error> {
    match &args.command {
        Some(Command::Uncordon { node, yes, dry_run }) => {
            uncordon::run(&args.kube, node, *yes, *dry_run, &interrupt).await
        }
        None => drain::run(args, interrupt).await,
    }
}
