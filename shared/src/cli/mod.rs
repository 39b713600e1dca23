//! From kubectl-style flags to a connected client: flags, kubeconfig resolution, API error mapping.

mod api_error;
mod client;
mod color;
mod flags;
mod kubeconfig;
mod overrides;
mod timeout;
mod verbosity;

pub use api_error::{ApiContext, from_kube_error};
pub use client::{Connection, connect};
pub use color::{use_color, use_color_on_stderr};
pub use flags::{ColorChoice, KubectlFlags, OutputFormat};
pub use kubeconfig::{KubeconfigSource, resolve_kubeconfig};
pub use timeout::parse_request_timeout;
pub use verbosity::expand_kubectl_verbosity;
