//! The text styles, all plain when color is off, so rendering code never checks a flag.

use owo_colors::Style;

/// Styles for each part of the text output.
#[derive(Debug, Clone, Copy, Default)]
pub struct Styles {
    pub error: Style,
    pub warning: Style,
    pub info: Style,
    pub heading: Style,
    pub dim: Style,
    pub command: Style,
    pub danger: Style,
    pub ok: Style,
}

impl Styles {
    /// Plain text.
    pub fn plain() -> Self {
        Styles::default()
    }

    /// Colored text.
    pub fn colored() -> Self {
        Styles {
            error: Style::new().red().bold(),
            warning: Style::new().yellow().bold(),
            info: Style::new().blue().bold(),
            heading: Style::new().bold(),
            dim: Style::new().dimmed(),
            command: Style::new().cyan(),
            danger: Style::new().red(),
            ok: Style::new().green().bold(),
        }
    }

    /// Colored when `color` is true.
    pub fn for_color(color: bool) -> Self {
        if color {
            Styles::colored()
        } else {
            Styles::plain()
        }
    }
}
