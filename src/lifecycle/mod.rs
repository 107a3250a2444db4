pub(crate) mod capabilities;
pub(crate) mod catch_up;
pub(crate) mod decide;
pub(crate) mod evolve;
pub(crate) mod invariants;
pub(crate) mod rules;
pub(crate) mod stored;
