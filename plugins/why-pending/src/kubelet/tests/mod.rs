//! Scenario tests of `analyse` on small real-shaped objects, one file per family of situations.

mod basics;
mod config;
mod crashes;
mod images;
mod terminal;
mod volumes_and_network;
