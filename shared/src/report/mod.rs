//! Findings and the report that carries them: built by analysis, rendered as colored text for
//! people or as the documented JSON/YAML schema (docs/report-schema.md) for scripts.

mod age;
mod details;
mod document;
mod finding;
mod machine;
mod styles;
mod text;

pub use age::human_duration;
pub use details::Details;
pub use document::{NotChecked, Report, SCHEMA_VERSION, Summary};
pub use finding::{Evidence, Finding, ObjectRef, Remedy, Risk, Severity, Source};
pub use machine::{render_json, render_yaml};
pub use styles::Styles;
pub use text::render_text;
