//! The `-l/--selector` syntax of kubectl (`app=web,tier!=cache,env in (a,b),!legacy,gpu`),
//! parsed once and matched against label maps.

use std::collections::BTreeMap;

use crate::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelQuery(Vec<Requirement>);

impl LabelQuery {
    /// Parses kubectl's selector syntax.
    pub fn parse(text: &str) -> Result<LabelQuery, Error> {
        let invalid = |why: &str| Error::Usage(format!("invalid selector \"{text}\": {why}"));
        let mut requirements = Vec::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let requirement = if let Some(key) = part.strip_prefix('!') {
                Requirement::DoesNotExist(key.trim().to_string())
            } else if let Some((key, values)) = split_set(part, " notin ") {
                Requirement::NotIn(
                    key,
                    values.ok_or_else(|| invalid("expected a (list) after notin"))?,
                )
            } else if let Some((key, values)) = split_set(part, " in ") {
                Requirement::In(
                    key,
                    values.ok_or_else(|| invalid("expected a (list) after in"))?,
                )
            } else if let Some((key, value)) = part.split_once("!=") {
                Requirement::NotEquals(key.trim().to_string(), value.trim().to_string())
            } else if let Some((key, value)) =
                part.split_once("==").or_else(|| part.split_once('='))
            {
                Requirement::Equals(key.trim().to_string(), value.trim().to_string())
            } else {
                Requirement::Exists(part.to_string())
            };
            let key = match &requirement {
                Requirement::Equals(k, _)
                | Requirement::NotEquals(k, _)
                | Requirement::In(k, _)
                | Requirement::NotIn(k, _)
                | Requirement::Exists(k)
                | Requirement::DoesNotExist(k) => k,
            };
            if key.is_empty() || key.contains(char::is_whitespace) {
                return Err(invalid(&format!("bad label key in \"{part}\"")));
            }
            requirements.push(requirement);
        }
        Ok(LabelQuery(requirements))
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let get = |key: &str| labels.and_then(|l| l.get(key));
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v),
            Requirement::NotEquals(k, v) => get(k) != Some(v),
            Requirement::In(k, vs) => get(k).is_some_and(|have| vs.contains(have)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|have| !vs.contains(have)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
        })
    }
}

/// Splits on commas outside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// `key in (a,b)` -> (key, Some([a, b])); a malformed list -> (key, None).
fn split_set(part: &str, operator: &str) -> Option<(String, Option<Vec<String>>)> {
    let (key, rest) = part.split_once(operator)?;
    let values = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .map(|inner| {
            inner
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect()
        });
    Some((key.trim().to_string(), values))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_operator() {
        let q = LabelQuery::parse(
            "app=web,tier!=cache,env in (prod, staging),!legacy,gpu,zone notin (a)",
        )
        .unwrap();
        assert!(q.matches(Some(&labels(&[
            ("app", "web"),
            ("env", "prod"),
            ("gpu", "1"),
            ("zone", "b")
        ]))));
        assert!(!q.matches(Some(&labels(&[
            ("app", "web"),
            ("env", "dev"),
            ("gpu", "1")
        ]))));
        assert!(!q.matches(Some(&labels(&[
            ("app", "web"),
            ("env", "prod"),
            ("gpu", "1"),
            ("legacy", "y")
        ]))));
        assert!(!q.matches(None));
        assert!(LabelQuery::parse("").unwrap().matches(None));
        assert!(
            LabelQuery::parse("app==web")
                .unwrap()
                .matches(Some(&labels(&[("app", "web")])))
        );
    }

    #[test]
    fn malformed_selectors_are_usage_errors() {
        assert!(LabelQuery::parse("env in prod").is_err());
        assert!(LabelQuery::parse("=web").is_err());
    }
}
