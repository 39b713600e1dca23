//! How the binary was asked to complete instead of run.

use std::ffi::OsString;

/// A completion request read from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// Cobra's protocol, for these words (the last is the one being completed): the binary runs
    /// as `kubectl_complete-<plugin>` (a link or copy, as kubectl looks it up), or with a hidden
    /// `__complete` first argument (what the shipped `kubectl_complete-<plugin>` script calls).
    Protocol(Vec<String>),
    /// `completion <shell>`: print the shell's completion script for the standalone binary.
    Script(String),
}

/// The first argument that asks for Cobra's protocol.
pub const PROTOCOL_ARGUMENT: &str = "__complete";

/// The name of the executable kubectl runs to complete `kubectl <plugin> ...`.
pub fn completion_executable(plugin: &str) -> String {
    format!("kubectl_complete-{}", plugin.replace('-', "_"))
}

/// The plugin's executable name, which kubectl finds as `kubectl <plugin>`.
pub fn plugin_executable(plugin: &str) -> String {
    format!("kubectl-{}", plugin.replace('-', "_"))
}

impl Invocation {
    /// Reads `args` (argv, program name first); None for a normal run.
    pub fn detect(args: &[OsString]) -> Option<Invocation> {
        let words: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let (program, rest) = words.split_first()?;
        if is_completion_executable(program) {
            return Some(Invocation::Protocol(rest.to_vec()));
        }
        match rest {
            [first, words @ ..] if first == PROTOCOL_ARGUMENT => {
                Some(Invocation::Protocol(words.to_vec()))
            }
            [first, shell] if first == "completion" => Some(Invocation::Script(shell.clone())),
            _ => None,
        }
    }
}

/// Whether the program was started under the completion executable's name (on any platform:
/// kubectl passes the path it found, with `/` or `\\` separators).
fn is_completion_executable(program: &str) -> bool {
    let name = program.rsplit(['/', '\\']).next().unwrap_or(program);
    let name = name.strip_suffix(".exe").unwrap_or(name);
    name.starts_with("kubectl_complete-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(args: &[&str]) -> Option<Invocation> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        Invocation::detect(&args)
    }

    fn protocol(words: &[&str]) -> Option<Invocation> {
        Some(Invocation::Protocol(
            words.iter().map(|w| w.to_string()).collect(),
        ))
    }

    #[test]
    fn kubectl_runs_the_completion_executable_with_the_words() {
        let via_link = detect(&[
            "/home/u/.krew/bin/kubectl_complete-why_pending",
            "-n",
            "x",
            "",
        ]);
        assert_eq!(via_link, protocol(&["-n", "x", ""]));
        let via_copy = detect(&[r"C:\krew\bin\kubectl_complete-why_pending.exe", ""]);
        assert_eq!(via_copy, protocol(&[""]));
        assert_eq!(detect(&["kubectl_complete-unstick"]), protocol(&[]));
    }

    #[test]
    fn hidden_argument_and_scripts() {
        assert_eq!(
            detect(&["kubectl-unstick", "__complete", "pod/", ""]),
            protocol(&["pod/", ""])
        );
        assert_eq!(
            detect(&["kubectl-unstick", "completion", "zsh"]),
            Some(Invocation::Script("zsh".into()))
        );
    }

    #[test]
    fn normal_runs_are_left_alone() {
        assert_eq!(detect(&["kubectl-why_pending", "completion"]), None);
        assert_eq!(detect(&["kubectl-why_pending", "web", "__complete"]), None);
        assert_eq!(detect(&["/usr/bin/kubectl-why_pending", "-n", "x"]), None);
        assert_eq!(detect(&[]), None);
    }

    #[test]
    fn executable_names_use_underscores() {
        assert_eq!(
            completion_executable("why-pending"),
            "kubectl_complete-why_pending"
        );
        assert_eq!(plugin_executable("safe-drain"), "kubectl-safe_drain");
    }
}
