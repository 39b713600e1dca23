//! Decides the reply from the command and the typed words alone, or what must be looked up in
//! the cluster or the kubeconfig first. No I/O here.

use clap::{Arg, Command, ValueHint};

use super::{
    cobra::{Candidate, Reply},
    nouns::{KubeconfigEntry, Noun, TypeWord, find_type},
    registry,
    words::{Cursor, Scan, Typed, repeatable, scan, takes_value},
};
use crate::{cli::KubectlFlags, state::Kind};

/// How long one completion request to the API server may take, unless --request-timeout is typed.
pub const LOOKUP_TIMEOUT: &str = "5s";

/// The reply, or what to look up to make it.
#[derive(Debug, Clone)]
pub enum Plan {
    Ready(Reply),
    Lookup(Box<Lookup>),
}

/// Names to fetch, each shown as `prefix` + name, offered with `fixed` where they start with
/// `word` (the whole word being completed), leaving out `except`.
#[derive(Debug, Clone)]
pub struct Lookup {
    pub source: Source,
    pub flags: KubectlFlags,
    pub prefix: String,
    pub word: String,
    pub except: Vec<String>,
    pub fixed: Vec<Candidate>,
}

/// Where the names come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Objects(Kind),
    CordonedNodes,
    Kubeconfig(KubeconfigEntry),
}

/// Plans the completion of the last of `words` for `plugin`, whose (built) command is `command`.
pub fn plan(plugin: &str, command: &Command, words: &[String]) -> Plan {
    let scan = scan(command, words);
    match &scan.cursor {
        Cursor::FlagName => Plan::Ready(Reply::matching(flag_names(&scan), &scan.partial)),
        Cursor::FlagValue { id, prefix } => flag_value(plugin, &scan, id, prefix),
        Cursor::Positional(_) => positional(plugin, &scan),
    }
}

fn flag_names(scan: &Scan) -> Vec<Candidate> {
    let offered = scan
        .command
        .get_arguments()
        .filter(|a| !a.is_positional() && !a.is_hide_set())
        .filter(|a| repeatable(a) || !scan.typed.has_flag(a.get_id().as_str()));
    let mut names = Vec::new();
    for arg in offered {
        let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
        let long = arg.get_long().map(|l| format!("--{l}"));
        let short = arg.get_short().map(|s| format!("-{s}"));
        names.extend(
            [long, short]
                .into_iter()
                .flatten()
                .map(|name| Candidate::described(name, help.clone())),
        );
    }
    names
}

fn flag_value(plugin: &str, scan: &Scan, id: &str, prefix: &str) -> Plan {
    let Some(arg) = scan.command.get_arguments().find(|a| a.get_id() == id) else {
        return Plan::Ready(Reply::nothing());
    };
    let word = format!("{prefix}{}", scan.partial);
    match kubectl_flag(id)
        .or_else(|| registry::flag(plugin, id))
        .or_else(|| path_hint(arg))
    {
        Some(noun) => for_noun(noun, &scan.typed, prefix, &word, Vec::new()),
        None => Plan::Ready(Reply::matching(possible_values(arg, prefix), &word)),
    }
}

/// The nouns of the kubectl flags every plugin takes (`cli::KubectlFlags`).
fn kubectl_flag(id: &str) -> Option<Noun> {
    match id {
        "namespace" => Some(Noun::Names {
            kind: Kind::Namespace,
            except: Vec::new(),
        }),
        "context" => Some(Noun::Kubeconfig(KubeconfigEntry::Context)),
        "cluster" => Some(Noun::Kubeconfig(KubeconfigEntry::Cluster)),
        "user" => Some(Noun::Kubeconfig(KubeconfigEntry::User)),
        "kubeconfig" => Some(Noun::Path),
        _ => None,
    }
}

fn path_hint(arg: &Arg) -> Option<Noun> {
    match arg.get_value_hint() {
        ValueHint::AnyPath | ValueHint::FilePath => Some(Noun::Path),
        ValueHint::DirPath => Some(Noun::Directory),
        _ => None,
    }
}

fn possible_values(arg: &Arg, prefix: &str) -> Vec<Candidate> {
    if !takes_value(arg) {
        return Vec::new();
    }
    arg.get_possible_values()
        .into_iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| {
            let help = v.get_help().map(ToString::to_string).unwrap_or_default();
            Candidate::described(format!("{prefix}{}", v.get_name()), help)
        })
        .collect()
}

fn positional(plugin: &str, scan: &Scan) -> Plan {
    let subcommands: Vec<Candidate> =
        if scan.typed.subcommands.is_empty() && scan.typed.positionals.is_empty() {
            scan.command
                .get_subcommands()
                .filter(|s| !s.is_hide_set() && s.get_name() != "help")
                .map(|s| {
                    let about = s.get_about().map(ToString::to_string).unwrap_or_default();
                    Candidate::described(s.get_name(), about)
                })
                .collect()
        } else {
            Vec::new()
        };
    match registry::positional(plugin, &scan.typed.subcommands, &scan.typed.positionals) {
        Some(noun) => for_noun(noun, &scan.typed, "", &scan.partial, subcommands),
        None => Plan::Ready(Reply::matching(subcommands, &scan.partial)),
    }
}

fn for_noun(noun: Noun, typed: &Typed, prefix: &str, word: &str, fixed: Vec<Candidate>) -> Plan {
    let lookup = |source: Source, prefix: &str, except: Vec<String>, fixed: Vec<Candidate>| {
        Plan::Lookup(Box::new(Lookup {
            source,
            flags: kubectl_flags(typed),
            prefix: prefix.to_string(),
            word: word.to_string(),
            except,
            fixed,
        }))
    };
    match noun {
        Noun::Path => Plan::Ready(Reply::paths(false)),
        Noun::Directory => Plan::Ready(Reply::paths(true)),
        Noun::Names { kind, except } => lookup(Source::Objects(kind), prefix, except, fixed),
        Noun::CordonedNodes => lookup(Source::CordonedNodes, prefix, Vec::new(), fixed),
        Noun::Kubeconfig(entry) => lookup(Source::Kubeconfig(entry), prefix, Vec::new(), fixed),
        Noun::TypedNames { types, bare } => match word.split_once('/') {
            Some((type_word, _)) => match find_type(types, type_word) {
                Some(kind) => lookup(
                    Source::Objects(kind),
                    &format!("{type_word}/"),
                    Vec::new(),
                    Vec::new(),
                ),
                None => Plan::Ready(Reply::nothing()),
            },
            None => {
                let fixed = [fixed, type_prefixes(types, bare)].concat();
                match bare {
                    Some(kind) => lookup(Source::Objects(kind), "", Vec::new(), fixed),
                    None => Plan::Ready(Reply::matching(fixed, word)),
                }
            }
        },
    }
}

/// `deploy/`, `sts/`, ...: the types other than the one whose names are offered bare.
fn type_prefixes(types: &[TypeWord], bare: Option<Kind>) -> Vec<Candidate> {
    types
        .iter()
        .filter(|t| Some(t.kind) != bare)
        .map(|t| Candidate::described(format!("{}/", t.short), t.kind.kind_name()))
        .collect()
}

/// The connection flags typed so far, with a short request timeout unless one is typed.
fn kubectl_flags(typed: &Typed) -> KubectlFlags {
    let value = |id: &str| typed.value(id).map(str::to_string);
    KubectlFlags {
        kubeconfig: value("kubeconfig"),
        context: value("context"),
        cluster: value("cluster"),
        user: value("user"),
        server: value("server"),
        token: value("token"),
        insecure_skip_tls_verify: typed.has_flag("insecure_skip_tls_verify"),
        impersonate: value("impersonate"),
        impersonate_groups: typed.values("impersonate_groups"),
        impersonate_uid: value("impersonate_uid"),
        namespace: value("namespace"),
        all_namespaces: typed.has_flag("all_namespaces"),
        request_timeout: value("request_timeout").unwrap_or_else(|| LOOKUP_TIMEOUT.into()),
        ..KubectlFlags::default()
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

    use super::*;
    use crate::completion::cobra::Directive;

    /// Shaped like the plugins: a positional, a subcommand, a value enum, a path, the kubectl flags.
    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Option<Sub>,
        target: Option<String>,
        /// What to do after.
        #[arg(long, value_enum)]
        then: Option<Then>,
        #[arg(long)]
        snapshot: Option<std::path::PathBuf>,
        #[arg(long)]
        from: Option<String>,
        #[command(flatten)]
        kube: KubectlFlags,
    }

    #[derive(Subcommand)]
    enum Sub {
        /// End maintenance.
        Uncordon { node: String },
    }

    #[derive(Clone, ValueEnum)]
    enum Then {
        /// Schedulable again.
        Uncordon,
        Delete,
    }

    fn plan_for(plugin: &str, words: &[&str]) -> Plan {
        let mut command = Cli::command();
        command.build();
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        plan(plugin, &command, &words)
    }

    fn values(plan: Plan) -> Vec<String> {
        match plan {
            Plan::Ready(reply) => reply.candidates.into_iter().map(|c| c.value).collect(),
            Plan::Lookup(lookup) => panic!("expected a ready reply, got {lookup:?}"),
        }
    }

    fn lookup(plan: Plan) -> Lookup {
        match plan {
            Plan::Lookup(lookup) => *lookup,
            Plan::Ready(reply) => panic!("expected a lookup, got {reply:?}"),
        }
    }

    #[test]
    fn flag_names_leave_out_flags_already_given() {
        let names = values(plan_for("why-pending", &["-A", "--"]));
        assert!(names.contains(&"--namespace".to_string()), "{names:?}");
        assert!(
            names.contains(&"--verbose".to_string()),
            "counters repeat: {names:?}"
        );
        assert!(
            !names.contains(&"--all-namespaces".to_string()),
            "{names:?}"
        );
        assert!(names.iter().all(|n| n.starts_with("--")), "{names:?}");
        assert_eq!(values(plan_for("why-pending", &["--con"])), ["--context"]);
    }

    #[test]
    fn enum_values_in_both_spellings() {
        assert_eq!(values(plan_for("x", &["-o", ""])), ["json", "text", "yaml"]);
        assert_eq!(values(plan_for("x", &["--output=y"])), ["--output=yaml"]);
        let Plan::Ready(reply) = plan_for("x", &["--then", ""]) else {
            panic!()
        };
        assert_eq!(
            reply.candidates[1],
            Candidate::described("uncordon", "Schedulable again")
        );
        assert_eq!(
            values(plan_for("x", &["--request-timeout", ""])),
            Vec::<String>::new()
        );
    }

    #[test]
    fn paths_are_left_to_the_shell() {
        for words in [
            &["--kubeconfig", ""][..],
            &["--snapshot", "/tm"],
            &["--kubeconfig=~/"],
        ] {
            let Plan::Ready(reply) = plan_for("x", words) else {
                panic!("{words:?}")
            };
            assert_eq!(reply.directive, Directive::DEFAULT, "{words:?}");
        }
    }

    #[test]
    fn kubectl_flag_values_are_looked_up_with_the_flags_typed() {
        let found = lookup(plan_for(
            "x",
            &["--context", "prod", "--kubeconfig", "/k", "-n", "s"],
        ));
        assert_eq!(found.source, Source::Objects(Kind::Namespace));
        assert_eq!(found.word, "s");
        assert_eq!(found.flags.context.as_deref(), Some("prod"));
        assert_eq!(found.flags.kubeconfig.as_deref(), Some("/k"));
        assert_eq!(found.flags.request_timeout, LOOKUP_TIMEOUT);
        let found = lookup(plan_for(
            "x",
            &[
                "-s",
                "https://h:6443",
                "--token",
                "t",
                "--as",
                "alice",
                "--as-group",
                "dev",
                "--as-group",
                "ops",
                "--as-uid",
                "7",
                "--insecure-skip-tls-verify",
                "-n",
                "",
            ],
        ));
        assert_eq!(found.flags.server.as_deref(), Some("https://h:6443"));
        assert_eq!(found.flags.token.as_deref(), Some("t"));
        assert_eq!(found.flags.impersonate.as_deref(), Some("alice"));
        assert_eq!(found.flags.impersonate_groups, ["dev", "ops"]);
        assert_eq!(found.flags.impersonate_uid.as_deref(), Some("7"));
        assert!(found.flags.insecure_skip_tls_verify);
        let found = lookup(plan_for("x", &["--context=st"]));
        assert_eq!(found.source, Source::Kubeconfig(KubeconfigEntry::Context));
        assert_eq!(
            (found.prefix.as_str(), found.word.as_str()),
            ("--context=", "--context=st")
        );
        let found = lookup(plan_for("svc-check", &["--from", ""]));
        assert_eq!(found.source, Source::Objects(Kind::Pod));
    }

    #[test]
    fn pods_come_with_workload_prefixes() {
        let found = lookup(plan_for("why-pending", &["-n", "shop", "-A", ""]));
        assert_eq!(found.source, Source::Objects(Kind::Pod));
        assert_eq!(found.flags.namespace.as_deref(), Some("shop"));
        assert!(found.flags.all_namespaces);
        let fixed: Vec<&str> = found.fixed.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(fixed, ["uncordon", "deploy/", "rs/", "sts/", "ds/", "job/"]);
        let found = lookup(plan_for("why-pending", &["sts/db"]));
        assert_eq!(
            (found.source, found.prefix.as_str()),
            (Source::Objects(Kind::StatefulSet), "sts/")
        );
        assert!(found.fixed.is_empty());
        assert_eq!(
            values(plan_for("why-pending", &["svc/a"])),
            Vec::<String>::new()
        );
    }

    #[test]
    fn unstick_offers_types_then_names() {
        let prefixes = values(plan_for("unstick", &["p"]));
        assert_eq!(prefixes, ["pdb/", "pod/", "pv/", "pvc/"]);
        let Plan::Ready(reply) = plan_for("unstick", &["pvc"]) else {
            panic!()
        };
        assert_eq!(
            reply.directive,
            Directive::NO_FILE_COMP.with(Directive::NO_SPACE)
        );
        let found = lookup(plan_for("unstick", &["ns/"]));
        assert_eq!(found.source, Source::Objects(Kind::Namespace));
        let found = lookup(plan_for("unstick", &["pvc", ""]));
        assert_eq!(
            (found.source, found.prefix.as_str()),
            (Source::Objects(Kind::PersistentVolumeClaim), "")
        );
    }

    #[test]
    fn subcommands_and_repeated_nodes() {
        let found = lookup(plan_for("safe-drain", &["node-a", ""]));
        assert_eq!(found.except, ["node-a"]);
        assert!(found.fixed.is_empty(), "no subcommand after a node");
        let found = lookup(plan_for("safe-drain", &["uncordon", ""]));
        assert_eq!(found.source, Source::CordonedNodes);
        assert_eq!(
            values(plan_for("safe-drain", &["uncordon", "a", ""])),
            Vec::<String>::new()
        );
    }
}
