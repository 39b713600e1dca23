//! The report as JSON or YAML: the schema documented in docs/report-schema.md.

use super::document::Report;
use crate::Error;

/// Pretty JSON, with a trailing newline.
pub fn render_json(report: &Report) -> Result<String, Error> {
    serde_json::to_string_pretty(report)
        .map(|s| s + "\n")
        .map_err(|e| Error::Output(e.to_string()))
}

/// YAML of the same structure as the JSON.
pub fn render_yaml(report: &Report) -> Result<String, Error> {
    let value = serde_json::to_value(report).map_err(|e| Error::Output(e.to_string()))?;
    serde_saphyr::to_string(&value).map_err(|e| Error::Output(e.to_string()))
}
