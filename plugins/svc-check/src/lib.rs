//! `kubectl svc-check`: whether traffic can reach a ready backend of a Service, and if not, the
//! first broken link of the chain client -> DNS name -> Service port -> proxy -> targetPort ->
//! endpoint -> ready pod -> NetworkPolicy.
//!
//! [`gather`] loads the state, [`index`] makes it searchable, [`examine`] runs the checks of
//! [`analyse`] on each Service and turns its [`chain`] into a verdict and findings.

pub mod analyse;
pub mod backends;
pub mod chain;
pub mod client;
pub mod coverage;
pub mod examine;
pub mod gather;
pub mod index;
pub mod infra;
pub mod labels;
pub mod model;
pub mod namespaces;
pub mod pods;
pub mod request;
pub mod steps;

#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod testing;
