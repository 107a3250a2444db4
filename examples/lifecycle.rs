//! Prints `docs/lifecycle.md`, generated from the code's own rules:
//!
//! ```text
//! cargo run --example lifecycle > docs/lifecycle.md
//! ```

use import_export_lifecycle::Policy;
use import_export_lifecycle::scenarios::explore;

fn main() {
    print!("{}", explore(&Policy::default()).to_markdown());
}
