//! The kubectl flags every plugin accepts, as one clap struct to flatten.

use clap::{Args, ValueEnum};

/// How findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// Colored text for people.
    #[default]
    Text,
    /// The documented JSON report.
    Json,
    /// The same report as YAML.
    Yaml,
}

/// When to color text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    /// Color when writing to a terminal and NO_COLOR is unset.
    #[default]
    Auto,
    Always,
    Never,
}

/// Where `--help` lists the flags that say which cluster to reach and as whom.
const CONNECTION: &str = "Connection";

/// The kubectl flags shared by all plugins (`--kubeconfig`, `--context`, `-n`, `-A`, `-o`, ...).
#[derive(Debug, Clone, Args, Default)]
pub struct KubectlFlags {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(help_heading = CONNECTION, long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<String>,

    /// The kubeconfig context to use.
    #[arg(help_heading = CONNECTION, long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// The kubeconfig cluster to use.
    #[arg(help_heading = CONNECTION, long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,

    /// The kubeconfig user to use.
    #[arg(help_heading = CONNECTION, long, global = true, value_name = "NAME")]
    pub user: Option<String>,

    /// The address of the API server (overrides the kubeconfig's).
    #[arg(help_heading = CONNECTION, short = 's', long, global = true, value_name = "URL")]
    pub server: Option<String>,

    /// A bearer token to authenticate with (instead of the kubeconfig user's credentials).
    #[arg(help_heading = CONNECTION, long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,

    /// Do not check the API server's certificate (insecure).
    #[arg(help_heading = CONNECTION, long, global = true)]
    pub insecure_skip_tls_verify: bool,

    /// Act as this user (impersonation, as `kubectl --as`).
    #[arg(help_heading = CONNECTION, long = "as", global = true, value_name = "USER")]
    pub impersonate: Option<String>,

    /// Act as a member of this group (repeatable; needs --as).
    #[arg(
        help_heading = CONNECTION,
        long = "as-group",
        global = true,
        value_name = "GROUP",
        requires = "impersonate"
    )]
    pub impersonate_groups: Vec<String>,

    /// Act with this UID (needs --as).
    #[arg(
        help_heading = CONNECTION,
        long = "as-uid",
        global = true,
        value_name = "UID",
        requires = "impersonate"
    )]
    pub impersonate_uid: Option<String>,

    /// The namespace (default: the context's namespace, then "default").
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// Look in every namespace.
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,

    /// Only objects whose labels match this selector (e.g. -l app=web,tier!=cache).
    #[arg(short = 'l', long, global = true, value_name = "SELECTOR")]
    pub selector: Option<String>,

    /// How long to wait for one API request before giving up (e.g. 10s, 1m; 0 waits forever).
    #[arg(help_heading = CONNECTION, long, global = true, value_name = "DURATION", default_value = "30s")]
    pub request_timeout: String,

    /// Output format.
    #[arg(short = 'o', long, global = true, value_enum, default_value_t)]
    pub output: OutputFormat,

    /// When to use color in text output (NO_COLOR is respected in auto mode).
    #[arg(long, global = true, value_enum, default_value_t)]
    pub color: ColorChoice,

    /// More detail: -v shows the API requests made, -vv also their timings (kubectl's -v=N works).
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        kube: KubectlFlags,
        name: Option<String>,
    }

    #[test]
    fn parses_kubectl_style_flags() {
        let cli = Cli::parse_from([
            "kubectl-x",
            "web",
            "-n",
            "shop",
            "--context",
            "prod",
            "-o",
            "json",
            "-l",
            "app=web",
            "-vv",
        ]);
        assert_eq!(cli.name.as_deref(), Some("web"));
        assert_eq!(cli.kube.namespace.as_deref(), Some("shop"));
        assert_eq!(cli.kube.context.as_deref(), Some("prod"));
        assert_eq!(cli.kube.output, OutputFormat::Json);
        assert_eq!(cli.kube.selector.as_deref(), Some("app=web"));
        assert_eq!(cli.kube.verbose, 2);
        assert_eq!(cli.kube.request_timeout, "30s");
        assert!(!cli.kube.all_namespaces);
    }

    #[test]
    fn rejects_unknown_output() {
        assert!(Cli::try_parse_from(["kubectl-x", "-o", "wide-ish"]).is_err());
    }
}
