//! Asking before changing the cluster: a yes/no prompt on the terminal, or a clear refusal when
//! there is no terminal to ask on and --yes was not given.

use std::io::IsTerminal;

use kube_runbook::{Error, interrupt::Interrupt};

/// Whether the user agrees to `question`; `yes` answers for them.
pub async fn confirm(question: String, yes: bool, interrupt: &Interrupt) -> Result<bool, Error> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(Error::Usage(format!(
            "refusing to go on without confirmation ({question}): there is no terminal to ask on; pass --yes to proceed"
        )));
    }
    let prompt = tokio::task::spawn_blocking(move || {
        dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()
    });
    tokio::select! {
        answer = prompt => match answer {
            Ok(Ok(agreed)) => Ok(agreed),
            Ok(Err(dialoguer::Error::IO(e))) if e.kind() == std::io::ErrorKind::Interrupted => Err(Error::Interrupted(String::new())),
            Ok(Err(e)) => Err(Error::Output(format!("cannot ask for confirmation: {e}"))),
            Err(e) => Err(Error::Output(format!("cannot ask for confirmation: {e}"))),
        },
        () = interrupt.triggered() => Err(Error::Interrupted(String::new())),
    }
}
