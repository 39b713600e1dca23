//! For plugins that change the cluster: like [`crate::app::run`], but the first Ctrl-C is handed
//! to the work as an [`Interrupt`] instead of dropping it, so that it can stop cleanly, undo what
//! it must and say what state it left. A second Ctrl-C exits at once.

use std::{future::Future, process::ExitCode};

use tokio::sync::watch;

use crate::{
    Error,
    cli::{self, ColorChoice},
    exit_code,
    report::Styles,
};

/// Whether the user asked to stop; cheap to clone into every task.
#[derive(Clone, Debug)]
pub struct Interrupt {
    receiver: watch::Receiver<bool>,
}

impl Interrupt {
    /// An interrupt that never fires, and its trigger (for tests and callers that fire it).
    pub fn manual() -> (watch::Sender<bool>, Interrupt) {
        let (sender, receiver) = watch::channel(false);
        (sender, Interrupt { receiver })
    }

    /// Whether Ctrl-C was pressed.
    pub fn is_set(&self) -> bool {
        *self.receiver.borrow()
    }

    /// Resolves once Ctrl-C is pressed (at once if it already was).
    pub async fn triggered(&self) {
        let mut receiver = self.receiver.clone();
        // An error means the sender is gone: no interrupt can come any more.
        if receiver.wait_for(|set| *set).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Runs `work` on a tokio runtime; the first Ctrl-C sets its [`Interrupt`], a second one exits
/// with [`exit_code::INTERRUPTED`] without waiting. Errors become messages and exit codes.
pub fn run_interruptible<F, Fut>(work: F) -> ExitCode
where
    F: FnOnce(Interrupt) -> Fut,
    Fut: Future<Output = Result<u8, Error>>,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return fail(&Error::Output(format!(
                "cannot start the async runtime: {e}"
            )));
        }
    };
    let result = runtime.block_on(async {
        let (sender, interrupt) = Interrupt::manual();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            let _ = sender.send(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("interrupted again: exiting without cleaning up");
                std::process::exit(i32::from(exit_code::INTERRUPTED));
            }
        });
        work(interrupt).await
    });
    // A blocking prompt left waiting must not keep the process alive.
    runtime.shutdown_background();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => fail(&err),
    }
}

fn fail(err: &Error) -> ExitCode {
    let styles = Styles::for_color(cli::use_color(ColorChoice::Auto));
    eprintln!("{} {err}", styles.error.style("error:"));
    ExitCode::from(err.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn triggers_once_set() {
        let (sender, interrupt) = Interrupt::manual();
        assert!(!interrupt.is_set());
        sender.send(true).unwrap();
        assert!(interrupt.is_set());
        tokio::time::timeout(std::time::Duration::from_secs(1), interrupt.triggered())
            .await
            .unwrap();
    }
}
