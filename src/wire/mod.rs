pub mod instant;
pub mod strict;
pub mod text;
