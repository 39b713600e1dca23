//! Reads the words typed so far against the plugin's clap command: the subcommands entered, the
//! positional words, the value of each flag, and what the last word (the one being completed) is.

use clap::{Arg, ArgAction, Command};

/// What the word being completed is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// A flag name (`-`, `--na`).
    FlagName,
    /// The value of the flag with this id. `prefix` is `--flag=` when the value is typed in the
    /// same word as the flag, and is written back in front of every candidate.
    FlagValue { id: String, prefix: String },
    /// The positional word at this index (0-based) of the innermost subcommand.
    Positional(usize),
}

/// The words before the one being completed, read against the command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Typed {
    /// Subcommands entered, outermost first.
    pub subcommands: Vec<String>,
    /// Positional words of the innermost subcommand.
    pub positionals: Vec<String>,
    /// `(flag id, value)` in the order typed.
    values: Vec<(String, String)>,
    /// Ids of the flags typed, with or without a value.
    flags: Vec<String>,
}

impl Typed {
    /// The last value typed for the flag with this id.
    pub fn value(&self, id: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(flag, _)| flag == id)
            .map(|(_, value)| value.as_str())
    }

    /// Every value typed for the (repeatable) flag with this id, in order.
    pub fn values(&self, id: &str) -> Vec<String> {
        self.values
            .iter()
            .filter(|(flag, _)| flag == id)
            .map(|(_, value)| value.clone())
            .collect()
    }

    /// Whether the flag with this id was typed.
    pub fn has_flag(&self, id: &str) -> bool {
        self.flags.iter().any(|flag| flag == id)
    }

    fn set(&mut self, arg: &Arg, value: &str) {
        self.flag(arg);
        self.values
            .push((arg.get_id().to_string(), value.to_string()));
    }

    fn flag(&mut self, arg: &Arg) {
        self.flags.push(arg.get_id().to_string());
    }
}

/// The typed words, what is being completed, the part of it typed so far, and the innermost
/// subcommand (where the flags and positionals being completed are defined).
#[derive(Debug)]
pub struct Scan<'c> {
    pub typed: Typed,
    pub cursor: Cursor,
    pub partial: String,
    pub command: &'c Command,
}

/// Scans `words` (kubectl's arguments after the plugin name; the last is the word being
/// completed, possibly empty). `root` must be built (`Command::build`) so that global flags are
/// known to subcommands.
pub fn scan<'c>(root: &'c Command, words: &[String]) -> Scan<'c> {
    let (to_complete, before) = match words.split_last() {
        Some((last, before)) => (last.as_str(), before),
        None => ("", &[][..]),
    };
    let mut command = root;
    let mut typed = Typed::default();
    let mut awaiting: Option<&Arg> = None;
    let mut only_positionals = false;
    for word in before {
        if let Some(arg) = awaiting.take() {
            typed.set(arg, word);
        } else if only_positionals || word == "-" || !word.starts_with('-') {
            match command.find_subcommand(word) {
                Some(sub) if !only_positionals && typed.positionals.is_empty() => {
                    command = sub;
                    typed.subcommands.push(word.clone());
                }
                _ => typed.positionals.push(word.clone()),
            }
        } else if word == "--" {
            only_positionals = true;
        } else if let Some(long) = word.strip_prefix("--") {
            awaiting = read_long(command, long, &mut typed);
        } else {
            awaiting = read_shorts(command, &word[1..], &mut typed);
        }
    }
    let (cursor, partial) = match awaiting {
        Some(arg) => (
            Cursor::FlagValue {
                id: arg.get_id().to_string(),
                prefix: String::new(),
            },
            to_complete,
        ),
        None if only_positionals => (Cursor::Positional(typed.positionals.len()), to_complete),
        None => cursor_on(command, to_complete, typed.positionals.len()),
    };
    Scan {
        typed,
        cursor,
        partial: partial.to_string(),
        command,
    }
}

/// `--name` or `--name=value`; returns the flag when its value is the next word.
fn read_long<'c>(command: &'c Command, long: &str, typed: &mut Typed) -> Option<&'c Arg> {
    let (name, inline) = match long.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (long, None),
    };
    let arg = find_long(command, name)?;
    match (takes_value(arg), inline) {
        (true, Some(value)) => typed.set(arg, value),
        (true, None) => return Some(arg),
        (false, _) => typed.flag(arg),
    }
    None
}

/// `-A`, `-vv`, `-n NAME`, `-nNAME`, `-n=NAME`; returns the flag when its value is the next word.
fn read_shorts<'c>(command: &'c Command, shorts: &str, typed: &mut Typed) -> Option<&'c Arg> {
    for (at, short) in shorts.char_indices() {
        let arg = command
            .get_arguments()
            .find(|a| a.get_short() == Some(short))?;
        if !takes_value(arg) {
            typed.flag(arg);
            continue;
        }
        let rest = &shorts[at + short.len_utf8()..];
        if rest.is_empty() {
            return Some(arg);
        }
        typed.set(arg, rest.strip_prefix('=').unwrap_or(rest));
        return None;
    }
    None
}

fn cursor_on<'w>(command: &Command, word: &'w str, positionals: usize) -> (Cursor, &'w str) {
    if let Some((name, value)) = word.strip_prefix("--").and_then(|w| w.split_once('='))
        && let Some(arg) = find_long(command, name).filter(|a| takes_value(a))
    {
        let prefix = format!("--{name}=");
        let id = arg.get_id().to_string();
        return (Cursor::FlagValue { id, prefix }, value);
    }
    if word.starts_with('-') {
        return (Cursor::FlagName, word);
    }
    (Cursor::Positional(positionals), word)
}

fn find_long<'c>(command: &'c Command, name: &str) -> Option<&'c Arg> {
    command.get_arguments().find(|a| {
        a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|all| all.contains(&name))
    })
}

/// Whether the flag takes a value (as opposed to a switch or a counter).
pub fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

/// Whether typing the flag again makes sense (counters and lists).
pub fn repeatable(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::Append | ArgAction::Count)
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser, Subcommand};

    use super::*;
    use crate::cli::KubectlFlags;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Option<Sub>,
        nodes: Vec<String>,
        #[arg(long)]
        from: Option<String>,
        #[command(flatten)]
        kube: KubectlFlags,
    }

    #[derive(Subcommand)]
    enum Sub {
        Uncordon { node: String },
    }

    fn scan_words(words: &[&str]) -> (Typed, Cursor, String, String) {
        let mut command = Cli::command();
        command.build();
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        let scan = scan(&command, &words);
        let name = scan.command.get_name().to_string();
        (scan.typed, scan.cursor, scan.partial, name)
    }

    #[test]
    fn reads_kubectl_flags_in_every_spelling() {
        let (typed, cursor, partial, _) = scan_words(&[
            "-nshop",
            "--context",
            "prod",
            "--kubeconfig=/k",
            "-Av",
            "--user",
            "u",
            "we",
        ]);
        assert_eq!(typed.value("namespace"), Some("shop"));
        assert_eq!(typed.value("context"), Some("prod"));
        assert_eq!(typed.value("kubeconfig"), Some("/k"));
        assert_eq!(typed.value("user"), Some("u"));
        assert!(typed.has_flag("all_namespaces") && typed.has_flag("verbose"));
        assert_eq!((cursor, partial.as_str()), (Cursor::Positional(0), "we"));
        let (typed, ..) = scan_words(&["-n=kube-system", ""]);
        assert_eq!(typed.value("namespace"), Some("kube-system"));
    }

    #[test]
    fn counts_positionals_and_skips_flag_values() {
        let (typed, cursor, ..) = scan_words(&["a", "-n", "shop", "b", "--from", "pod", ""]);
        assert_eq!(typed.positionals, ["a", "b"]);
        assert_eq!(cursor, Cursor::Positional(2));
    }

    #[test]
    fn completes_the_value_of_a_flag_given_before() {
        let (_, cursor, partial, _) = scan_words(&["web", "-n", "ku"]);
        let want = Cursor::FlagValue {
            id: "namespace".into(),
            prefix: String::new(),
        };
        assert_eq!((cursor, partial.as_str()), (want, "ku"));
        let (_, cursor, partial, _) = scan_words(&["--output=ya"]);
        let want = Cursor::FlagValue {
            id: "output".into(),
            prefix: "--output=".into(),
        };
        assert_eq!((cursor, partial.as_str()), (want, "ya"));
    }

    #[test]
    fn flag_names_and_the_double_dash() {
        assert_eq!(scan_words(&["--na"]).1, Cursor::FlagName);
        assert_eq!(scan_words(&["-"]).1, Cursor::FlagName);
        assert_eq!(scan_words(&["--", "-x"]).1, Cursor::Positional(0));
        assert_eq!(scan_words(&["--unknown=1"]).1, Cursor::FlagName);
    }

    #[test]
    fn enters_subcommands_which_know_the_global_flags() {
        let (typed, cursor, _, name) =
            scan_words(&["-n", "shop", "uncordon", "--context", "c", ""]);
        assert_eq!(typed.subcommands, ["uncordon"]);
        assert_eq!(typed.value("context"), Some("c"));
        assert_eq!((cursor, name.as_str()), (Cursor::Positional(0), "uncordon"));
        let (typed, ..) = scan_words(&["node-a", "uncordon", ""]);
        assert!(typed.subcommands.is_empty());
        assert_eq!(typed.positionals, ["node-a", "uncordon"]);
    }
}
