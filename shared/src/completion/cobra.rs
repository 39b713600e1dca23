//! Cobra's `__complete` protocol, which kubectl speaks with `kubectl_complete-<plugin>`: one
//! candidate per line (`value` or `value<TAB>description`), then `:<directive>`.

/// How the shell treats the candidates (Cobra's `ShellCompDirective` bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Directive(pub u8);

impl Directive {
    /// The shell completes file names when there are no candidates.
    pub const DEFAULT: Directive = Directive(0);
    /// Something failed: the shell shows nothing.
    pub const ERROR: Directive = Directive(1);
    /// No space after the completed word (it is a prefix such as `deploy/`).
    pub const NO_SPACE: Directive = Directive(2);
    /// Never fall back to file names.
    pub const NO_FILE_COMP: Directive = Directive(4);
    /// Only directories.
    pub const FILTER_DIRS: Directive = Directive(16);

    /// Both directives' bits.
    pub fn with(self, other: Directive) -> Directive {
        Directive(self.0 | other.0)
    }
}

/// One completion choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub value: String,
    /// Shown beside the value by zsh and fish (and bash when listing).
    pub description: Option<String>,
}

impl Candidate {
    pub fn new(value: impl Into<String>) -> Candidate {
        Candidate {
            value: value.into(),
            description: None,
        }
    }

    pub fn described(value: impl Into<String>, description: impl Into<String>) -> Candidate {
        Candidate {
            value: value.into(),
            description: Some(description.into()),
        }
    }
}

/// What the completion executable prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub candidates: Vec<Candidate>,
    pub directive: Directive,
}

impl Reply {
    /// Nothing to offer, and no file names either.
    pub fn nothing() -> Reply {
        Reply {
            candidates: Vec::new(),
            directive: Directive::NO_FILE_COMP,
        }
    }

    /// Let the shell complete paths (only directories when `directories_only`).
    pub fn paths(directories_only: bool) -> Reply {
        Reply {
            candidates: Vec::new(),
            directive: if directories_only {
                Directive::FILTER_DIRS
            } else {
                Directive::DEFAULT
            },
        }
    }

    /// The lookup failed (cluster unreachable, no kubeconfig): the shell shows nothing.
    pub fn error() -> Reply {
        Reply {
            candidates: Vec::new(),
            directive: Directive::ERROR,
        }
    }

    /// The candidates starting with `partial`, sorted and without duplicates, never falling back
    /// to file names; with no space after them when every one is a `TYPE/` prefix.
    pub fn matching(candidates: Vec<Candidate>, partial: &str) -> Reply {
        let mut kept: Vec<Candidate> = candidates
            .into_iter()
            .filter(|c| c.value.starts_with(partial))
            .collect();
        kept.sort_by(|a, b| a.value.cmp(&b.value));
        kept.dedup_by(|a, b| a.value == b.value);
        let all_prefixes = !kept.is_empty() && kept.iter().all(|c| c.value.ends_with('/'));
        let directive = if all_prefixes {
            Directive::NO_FILE_COMP.with(Directive::NO_SPACE)
        } else {
            Directive::NO_FILE_COMP
        };
        Reply {
            candidates: kept,
            directive,
        }
    }

    /// The protocol text: candidates one per line, then `:<directive>`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for candidate in &self.candidates {
            out.push_str(&one_line(&candidate.value));
            if let Some(description) = candidate.description.as_deref().filter(|d| !d.is_empty()) {
                out.push('\t');
                out.push_str(&one_line(description));
            }
            out.push('\n');
        }
        out.push_str(&format!(":{}\n", self.directive.0));
        out
    }
}

fn one_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .replace('\t', " ")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_candidates_descriptions_and_the_directive() {
        let reply = Reply::matching(
            vec![
                Candidate::described("web-1", "Pending"),
                Candidate::new("api-0"),
                Candidate::described("web-2", "first line\nsecond\tline"),
                Candidate::new("db-0"),
            ],
            "we",
        );
        assert_eq!(reply.render(), "web-1\tPending\nweb-2\tfirst line\n:4\n");
    }

    #[test]
    fn prefixes_alone_keep_the_cursor_on_the_word() {
        let prefixes = vec![Candidate::new("deploy/"), Candidate::new("ds/")];
        assert_eq!(
            Reply::matching(prefixes.clone(), "d").directive,
            Directive(6)
        );
        let mixed = [prefixes, vec![Candidate::new("db-0")]].concat();
        assert_eq!(
            Reply::matching(mixed, "d").directive,
            Directive::NO_FILE_COMP
        );
    }

    #[test]
    fn empty_and_failed_replies() {
        assert_eq!(Reply::nothing().render(), ":4\n");
        assert_eq!(Reply::error().render(), ":1\n");
        assert_eq!(Reply::paths(false).render(), ":0\n");
        assert_eq!(Reply::paths(true).render(), ":16\n");
        assert_eq!(
            Reply::matching(vec![Candidate::new("a")], "b").render(),
            ":4\n"
        );
    }

    #[test]
    fn duplicates_are_shown_once() {
        let reply = Reply::matching(vec![Candidate::new("web"), Candidate::new("web")], "");
        assert_eq!(reply.render(), "web\n:4\n");
    }
}
