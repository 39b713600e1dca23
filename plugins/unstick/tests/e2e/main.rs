//! End-to-end tests of `kubectl unstick` against the real local control plane: each builds a
//! stuck object the way it happens in production, checks the diagnosis, and where the fix is
//! taken, that the object is gone and nothing else was touched.

mod apiservice;
mod common;
mod custom_resource;
mod delete_race;
mod foreground;
mod last_rung;
mod lost_node;
mod node_deletion;
mod paused;
mod pvc;
mod race;
mod read_only;
mod rwo_claim;
mod scan;
mod statefulset;
mod users;
mod volumes;
