//! Confirmation of each step: a prompt on a terminal, `--yes` for scripts, and for steps that can
//! split-brain or strand data, the object's name typed (or given with `--acknowledge`).

use std::io::IsTerminal;

use dialoguer::{Input, Select, console::Term};
use kube_runbook::Error;

use super::plan::Step;

/// What to do with an offered step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Take,
    /// Offer the next step instead.
    Skip,
    /// Change nothing more.
    Stop,
}

/// How steps are confirmed in this run.
#[derive(Debug, Clone)]
pub struct Confirmer {
    yes: bool,
    acknowledged: Vec<String>,
    interactive: bool,
}

impl Confirmer {
    /// Prompts only when both stdin and stderr are terminals.
    pub fn new(yes: bool, acknowledged: Vec<String>) -> Confirmer {
        Confirmer {
            yes,
            acknowledged,
            interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        }
    }

    /// Refuses up front when nothing could confirm a step.
    pub fn ensure_possible(&self) -> Result<(), Error> {
        if self.yes || self.interactive {
            return Ok(());
        }
        Err(Error::Usage(
            "refusing to change anything: --fix asks before each step, and stdin is not a terminal\n  \
             hint: pass --yes to take the steps without asking (steps that need a typed name also need \
             --acknowledge NAME), or --dry-run=server to try them without changing anything"
                .into(),
        ))
    }

    /// Whether deciding on `step` waits for a person at the terminal.
    pub fn asks_a_person(&self, step: &Step) -> bool {
        let answered = match &step.typed_confirmation {
            Some(name) => self.acknowledged.contains(name),
            None => self.yes,
        };
        self.interactive && !answered
    }

    /// Asks about `step` (a skipped typed step says why on stderr).
    pub fn decide(&self, step: &Step) -> Result<Decision, Error> {
        if let Some(name) = &step.typed_confirmation {
            return self.decide_typed(name);
        }
        if self.yes {
            return Ok(Decision::Take);
        }
        let choice = Select::new()
            .with_prompt("Take this step?")
            .items(["yes, take it", "no, offer the next step", "stop here"])
            .default(1)
            .interact_on_opt(&Term::stderr())
            .map_err(prompt_error)?;
        Ok(match choice {
            Some(0) => Decision::Take,
            Some(1) => Decision::Skip,
            _ => Decision::Stop,
        })
    }

    fn decide_typed(&self, name: &str) -> Result<Decision, Error> {
        if self.acknowledged.iter().any(|a| a == name) {
            return Ok(Decision::Take);
        }
        if !self.interactive {
            eprintln!(
                "  skipped: this step needs \"{name}\" typed to confirm; pass --acknowledge {name} to take it without a terminal"
            );
            return Ok(Decision::Skip);
        }
        let typed: String = Input::new()
            .with_prompt(format!("Type {name} to take this step (empty to skip)"))
            .allow_empty(true)
            .interact_text_on(&Term::stderr())
            .map_err(prompt_error)?;
        if typed.trim() == name {
            Ok(Decision::Take)
        } else {
            if !typed.trim().is_empty() {
                eprintln!("  \"{}\" is not \"{name}\": skipped", typed.trim());
            }
            Ok(Decision::Skip)
        }
    }
}

fn prompt_error(err: dialoguer::Error) -> Error {
    Error::Interrupted(format!("the prompt failed: {err}"))
}

#[cfg(test)]
mod tests {
    use kube_runbook::{exit_code, state::Kind};
    use serde_json::json;

    use super::*;
    use crate::{
        fix::plan::{Action, Rung},
        inventory::MetaObject,
    };

    fn confirmer(yes: bool, acknowledged: &[&str]) -> Confirmer {
        Confirmer {
            yes,
            acknowledged: acknowledged.iter().map(|s| s.to_string()).collect(),
            interactive: false,
        }
    }

    fn force_delete() -> Step {
        let pod = MetaObject::of_kind(
            Kind::Pod,
            &serde_json::from_value(json!({"name": "db-0", "namespace": "shop"})).unwrap(),
        );
        Step::new(
            Rung::ForceDelete,
            Action::ForceDeletePod(pod),
            "x",
            "split-brain",
        )
        .confirm_by_typing("db-0")
    }

    #[test]
    fn no_terminal_and_no_yes_is_refused() {
        let err = confirmer(false, &[]).ensure_possible().unwrap_err();
        assert_eq!(err.exit_code(), exit_code::USAGE);
        assert!(err.to_string().starts_with("refusing to change anything"));
        assert!(confirmer(true, &[]).ensure_possible().is_ok());
    }

    #[test]
    fn typed_steps_need_an_acknowledgement_even_with_yes() {
        assert_eq!(
            confirmer(true, &[]).decide(&force_delete()).unwrap(),
            Decision::Skip
        );
        assert_eq!(
            confirmer(true, &["db-1"]).decide(&force_delete()).unwrap(),
            Decision::Skip
        );
        assert_eq!(
            confirmer(false, &["db-0"]).decide(&force_delete()).unwrap(),
            Decision::Take
        );
    }

    #[test]
    fn only_a_prompt_on_a_terminal_waits_for_a_person() {
        let on_terminal = |yes, acknowledged: &[&str]| Confirmer {
            interactive: true,
            ..confirmer(yes, acknowledged)
        };
        let mut ordinary = force_delete();
        ordinary.typed_confirmation = None;
        assert!(on_terminal(false, &[]).asks_a_person(&ordinary));
        assert!(!on_terminal(true, &[]).asks_a_person(&ordinary));
        assert!(on_terminal(true, &[]).asks_a_person(&force_delete()));
        assert!(!on_terminal(false, &["db-0"]).asks_a_person(&force_delete()));
        assert!(!confirmer(false, &[]).asks_a_person(&ordinary));
    }

    #[test]
    fn yes_takes_ordinary_steps() {
        let mut step = force_delete();
        step.typed_confirmation = None;
        assert_eq!(confirmer(true, &[]).decide(&step).unwrap(), Decision::Take);
    }
}
