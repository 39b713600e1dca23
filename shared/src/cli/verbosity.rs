//! kubectl's numeric verbosity (`-v=6`, `-v6`, `-v 6`, `--v=6`, `--v 6`) as our repeatable `-v`.

use std::ffi::{OsStr, OsString};

/// More `-v` adds nothing: `-vv` already shows every request with its timing.
const MAX_LEVEL: usize = 2;

/// Rewrites kubectl's `-v=N`, `-vN`, `-v N`, `--v=N` and `--v N` into up to [`MAX_LEVEL`] times
/// `-v` (none for 0), leaving everything after `--` alone.
pub fn expand_kubectl_verbosity(args: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut rest = args.into_iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            out.push(arg);
            out.extend(rest);
            break;
        }
        let level = match numeric_form(&arg) {
            Some(NumericForm::Attached(level)) => Some(level),
            Some(NumericForm::Detached) => {
                let next = rest.next();
                match next.as_deref().and_then(level_of) {
                    Some(level) => Some(level),
                    None => {
                        out.push(arg);
                        out.extend(next);
                        continue;
                    }
                }
            }
            None => None,
        };
        match level {
            Some(0) => {}
            Some(level) => out.push(format!("-{}", "v".repeat(level.min(MAX_LEVEL))).into()),
            None => out.push(arg),
        }
    }
    out
}

enum NumericForm {
    Attached(usize),
    Detached,
}

fn numeric_form(arg: &OsStr) -> Option<NumericForm> {
    let text = arg.to_str()?;
    if text == "--v" || text == "-v" {
        return Some(NumericForm::Detached);
    }
    let value = text
        .strip_prefix("-v=")
        .or_else(|| text.strip_prefix("--v="))
        .or_else(|| {
            text.strip_prefix("-v")
                .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        })?;
    level_of(OsStr::new(value)).map(NumericForm::Attached)
}

fn level_of(value: &OsStr) -> Option<usize> {
    value.to_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(args: &[&str]) -> Vec<String> {
        expand_kubectl_verbosity(args.iter().map(OsString::from).collect())
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn numeric_levels_become_repeated_flags() {
        assert_eq!(expand(&["x", "-v=6", "web"]), ["x", "-vv", "web"]);
        assert_eq!(expand(&["x", "-v6", "web"]), ["x", "-vv", "web"]);
        assert_eq!(expand(&["x", "-v", "1", "web"]), ["x", "-v", "web"]);
        assert_eq!(expand(&["x", "--v=2"]), ["x", "-vv"]);
        assert_eq!(expand(&["x", "--v", "1", "web"]), ["x", "-v", "web"]);
        assert_eq!(expand(&["x", "-v=0", "web"]), ["x", "web"]);
    }

    #[test]
    fn other_arguments_are_left_alone() {
        assert_eq!(expand(&["x", "-vv", "web"]), ["x", "-vv", "web"]);
        assert_eq!(expand(&["x", "--v", "web"]), ["x", "--v", "web"]);
        assert_eq!(expand(&["x", "-v", "web"]), ["x", "-v", "web"]);
        assert_eq!(expand(&["x", "-v"]), ["x", "-v"]);
        assert_eq!(expand(&["x", "-v=high"]), ["x", "-v=high"]);
        assert_eq!(expand(&["x", "--", "-v=6"]), ["x", "--", "-v=6"]);
    }
}
