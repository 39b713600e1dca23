//! Whether to color text output: `--color`, then NO_COLOR, then whether stdout is a terminal.

use std::io::IsTerminal;

use super::flags::ColorChoice;

/// Decides coloring for stdout and applies it process-wide to owo-colors.
pub fn use_color(choice: ColorChoice) -> bool {
    let enabled = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
            !no_color && !dumb && std::io::stdout().is_terminal()
        }
    };
    owo_colors::set_override(enabled);
    enabled
}
