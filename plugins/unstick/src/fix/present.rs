//! How steps and progress read on stderr (stdout keeps the report, which may be JSON).

use std::io::IsTerminal;

use kube_runbook::{cli::ColorChoice, report::Styles};

use super::plan::Step;

/// Styles for stderr: `--color`, then NO_COLOR, then whether stderr is a terminal.
pub fn stderr_styles(choice: ColorChoice) -> Styles {
    let color = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    };
    Styles::for_color(color)
}

/// A step as offered: what, why, the danger, the kubectl equivalent, and any typed confirmation.
pub fn step_text(step: &Step, position: usize, styles: &Styles) -> String {
    let mut text = format!(
        "{} {}\n",
        styles
            .heading
            .style(format!("Step {position} ({}):", step.rung.label())),
        step.description()
    );
    text.push_str(&format!(
        "  {}\n",
        styles.danger.style(format!("danger: {}", step.danger))
    ));
    text.push_str(&format!(
        "  {}\n",
        styles.dim.style(format!("by hand: {}", step.command()))
    ));
    if let Some(name) = &step.typed_confirmation {
        text.push_str(&format!("  confirm by typing: {name}\n"));
    }
    text
}

/// The whole ladder, for a snapshot (nothing can be changed).
pub fn plan_text(steps: &[Step], styles: &Styles) -> String {
    if steps.is_empty() {
        return "Nothing to do: no step is offered for this object.\n".to_string();
    }
    let mut text = format!(
        "{}\n",
        styles
            .heading
            .style("Plan (not carried out: a snapshot cannot be changed):")
    );
    for (n, step) in steps.iter().enumerate() {
        text.push_str(&step_text(step, n + 1, styles));
    }
    text
}

#[cfg(test)]
mod tests {
    use kube_runbook::state::Kind;
    use serde_json::json;

    use super::*;
    use crate::{
        fix::plan::{Action, Rung},
        inventory::MetaObject,
    };

    #[test]
    fn a_step_reads_as_what_danger_command() {
        let pod = MetaObject::of_kind(
            Kind::Pod,
            &serde_json::from_value(json!({"name": "db-0", "namespace": "shop"})).unwrap(),
        );
        let step = Step::new(
            Rung::ForceDelete,
            Action::ForceDeletePod(pod),
            "no kubelet",
            "split-brain",
        )
        .confirm_by_typing("db-0");
        assert_eq!(
            step_text(&step, 3, &Styles::plain()),
            "Step 3 (force-delete): Force-delete Pod shop/db-0 (grace period 0): no kubelet\n  danger: split-brain\n  by hand: kubectl delete pod db-0 -n shop --grace-period=0 --force\n  confirm by typing: db-0\n"
        );
    }
}
