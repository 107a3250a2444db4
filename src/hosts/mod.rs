pub mod decider;
pub(crate) mod registry;
