//! The documented process exit codes, the same for every plugin (README "Exit codes").

/// Ran, and found nothing wrong (or the requested change was carried out).
pub const OK: u8 = 0;
/// Ran, and found a problem (a finding of severity error), or a plan that cannot succeed.
pub const PROBLEM_FOUND: u8 = 1;
/// The command line was wrong (clap's own code for usage errors).
pub const USAGE: u8 = 2;
/// No usable kubeconfig, or the context, cluster or user named does not exist.
pub const CONFIG: u8 = 3;
/// The API server could not be reached, or did not answer in time.
pub const UNREACHABLE: u8 = 4;
/// The API server did not accept the credentials (401).
pub const UNAUTHORIZED: u8 = 5;
/// The credentials lack a permission the command needs (403).
pub const FORBIDDEN: u8 = 6;
/// The object or namespace named does not exist.
pub const NOT_FOUND: u8 = 7;
/// A snapshot or input file could not be read or parsed.
pub const BAD_INPUT: u8 = 8;
/// The API server answered with an error not covered above.
pub const API_ERROR: u8 = 9;
/// A change was started and did not finish (timeout, refusal, conflict); the state left is printed.
pub const INCOMPLETE: u8 = 10;
/// Stopped by Ctrl-C (128 + SIGINT).
pub const INTERRUPTED: u8 = 130;
