//! Whether to color text: `--color`, then NO_COLOR, then whether the stream is a terminal.

use std::io::IsTerminal;

use super::flags::ColorChoice;

/// Decides coloring for stdout and applies it process-wide to owo-colors.
pub fn use_color(choice: ColorChoice) -> bool {
    apply(choice, std::io::stdout().is_terminal())
}

/// Decides coloring for stderr (error messages) and applies it process-wide to owo-colors.
pub fn use_color_on_stderr(choice: ColorChoice) -> bool {
    apply(choice, std::io::stderr().is_terminal())
}

fn apply(choice: ColorChoice, terminal: bool) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    let enabled = decide(choice, no_color, dumb, terminal);
    owo_colors::set_override(enabled);
    enabled
}

fn decide(choice: ColorChoice, no_color: bool, dumb_terminal: bool, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && !dumb_terminal && terminal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_colors_a_terminal_unless_no_color_or_dumb() {
        assert!(decide(ColorChoice::Auto, false, false, true));
        assert!(!decide(ColorChoice::Auto, true, false, true));
        assert!(!decide(ColorChoice::Auto, false, true, true));
        assert!(!decide(ColorChoice::Auto, false, false, false));
    }

    #[test]
    fn an_explicit_choice_wins_over_no_color_and_pipes() {
        assert!(decide(ColorChoice::Always, true, true, false));
        assert!(!decide(ColorChoice::Never, false, false, true));
    }
}
