//! What every plugin's `main` does around its own work: a runtime, Ctrl-C, loading state from
//! the API or a snapshot, printing the report in the chosen format, and the exit code.

use std::{future::Future, path::Path, process::ExitCode, sync::OnceLock};

use crate::{
    Error,
    cli::{self, ColorChoice, Connection, KubectlFlags, OutputFormat},
    completion,
    report::{Report, Styles, render_json, render_text, render_yaml},
    state::{ClusterState, Kind, LiveOptions, load_live, load_snapshot},
};

/// The suite's version and the commit it was built from, for `--version`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("KUBE_RUNBOOKS_COMMIT"),
    ")"
);

/// The name to show in help and usage: the form users type, `kubectl why-pending`.
pub fn display_name(plugin: &str) -> String {
    format!("kubectl {plugin}")
}

/// Parses the command line, naming the command as the user typed it (`kubectl why-pending`).
///
/// Completion requests are answered here and the process exits: started as
/// `kubectl_complete-<plugin>` or with `__complete` (Cobra's protocol, for kubectl), or with
/// `completion <shell>` (a script for the standalone binary). See [`completion`].
pub fn parse_args<A: clap::Parser>(plugin: &str) -> A {
    let command = A::command()
        .name(display_name(plugin))
        .bin_name(display_name(plugin));
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(invocation) = completion::Invocation::detect(&args) {
        std::process::exit(completion::respond(invocation, plugin, command).into());
    }
    let command = with_completion_help(command, plugin);
    let matches = command.get_matches_from(cli::expand_kubectl_verbosity(args));
    if let Ok(Some(color)) = matches.try_get_one::<ColorChoice>("color") {
        let _ = ERROR_COLOR.set(*color);
    }
    A::from_arg_matches(&matches).unwrap_or_else(|err| err.exit())
}

/// The `--color` choice, kept for the error message printed after the plugin's work has failed.
static ERROR_COLOR: OnceLock<ColorChoice> = OnceLock::new();

/// Says in `--help` how to turn completion on, unless the plugin has its own closing text.
fn with_completion_help(command: clap::Command, plugin: &str) -> clap::Command {
    if command.get_after_long_help().is_some() {
        return command;
    }
    let help = format!(
        "Shell completion: for `kubectl {plugin} <TAB>` (kubectl 1.26+), put `{}` on PATH next to \
         `{}` (a link to it will do); for the binary itself, `{} completion bash|zsh|fish|powershell`.",
        completion::completion_executable(plugin),
        completion::plugin_executable(plugin),
        completion::plugin_executable(plugin),
    );
    command.after_long_help(help)
}

/// Runs a plugin's work on a tokio runtime, turning errors and Ctrl-C into messages and exit codes.
pub fn run<Fut>(work: Fut) -> ExitCode
where
    Fut: Future<Output = Result<u8, Error>>,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return fail(&Error::Output(format!(
                "cannot start the async runtime: {e}"
            )));
        }
    };
    let result = runtime.block_on(async {
        tokio::select! {
            result = work => result,
            _ = tokio::signal::ctrl_c() => Err(Error::Interrupted(String::new())),
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => fail(&err),
    }
}

fn fail(err: &Error) -> ExitCode {
    let choice = ERROR_COLOR.get().copied().unwrap_or_default();
    let styles = Styles::for_color(cli::use_color_on_stderr(choice));
    eprintln!("{} {err}", styles.error.style("error:"));
    ExitCode::from(err.exit_code())
}

/// Where the state comes from: the live cluster (with its connection) or a snapshot file.
pub enum Target {
    Live(Connection),
    Snapshot(std::path::PathBuf),
}

impl Target {
    /// A snapshot when a path is given, else a connection built from the flags.
    pub async fn from_flags(
        flags: &KubectlFlags,
        snapshot: Option<&Path>,
    ) -> Result<Target, Error> {
        match snapshot {
            Some(path) => Ok(Target::Snapshot(path.to_path_buf())),
            None => Ok(Target::Live(cli::connect(flags).await?)),
        }
    }

    /// The namespace to look in: `None` with `-A`, else `-n`, the context's, or "default".
    pub fn namespace(&self, flags: &KubectlFlags) -> Option<String> {
        if flags.all_namespaces {
            return None;
        }
        match self {
            Target::Live(conn) => Some(conn.namespace.clone()),
            Target::Snapshot(_) => Some(
                flags
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "default".to_string()),
            ),
        }
    }

    /// Loads `kinds`; namespaced kinds from `namespace` only, or from all when None.
    pub async fn load(
        &self,
        kinds: &[Kind],
        namespace: Option<&str>,
        verbose: bool,
    ) -> Result<ClusterState, Error> {
        match self {
            Target::Live(conn) => {
                let options = LiveOptions {
                    namespace: namespace.map(str::to_string),
                    verbose,
                };
                load_live(conn, kinds, &options).await
            }
            Target::Snapshot(path) => load_snapshot(path, kinds, namespace),
        }
    }

    /// The live connection, or None for a snapshot (which is read-only).
    pub fn connection(&self) -> Option<&Connection> {
        match self {
            Target::Live(conn) => Some(conn),
            Target::Snapshot(_) => None,
        }
    }
}

/// Prints the report in the format asked for and returns the exit code it implies.
pub fn emit(report: &Report, flags: &KubectlFlags, empty_message: &str) -> Result<u8, Error> {
    let text = match flags.output {
        OutputFormat::Json => render_json(report)?,
        OutputFormat::Yaml => render_yaml(report)?,
        OutputFormat::Text => render_text(
            report,
            &Styles::for_color(cli::use_color(flags.color)),
            empty_message,
        ),
    };
    print_stdout(&text)?;
    Ok(report.exit_code())
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
pub fn print_stdout(text: &str) -> Result<(), Error> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Output(e.to_string())),
        _ => Ok(()),
    }
}
