//! `docs/lifecycle.md` is generated from the code's rules; this test fails when it drifts.

use import_export_lifecycle::scenarios::{Effect, Input, Situation, explore};
use import_export_lifecycle::{JobState, Operation, Policy, Rule};

#[test]
fn lifecycle_md_is_what_the_code_generates() {
    let committed = include_str!("../docs/lifecycle.md");
    let generated = explore(&Policy::default()).to_markdown();
    assert!(
        committed == generated,
        "docs/lifecycle.md is out of date with the rules. Regenerate it with\n\n    \
         cargo run --example lifecycle > docs/lifecycle.md\n\nthen review the diff and commit it."
    );
}

/// The exploration itself agrees with the spec on the cancel window (R-CANCEL-1, R-CANCEL-2)
/// and the delete window (R-DELETE-1, R-DELETE-2), state by state.
#[test]
fn r_cancel_1_r_delete_1_windows_hold_in_every_explored_situation() {
    let exploration = explore(&Policy::default());
    assert!(exploration.configurations > 100, "the walk reaches the whole lifecycle");
    for cell in &exploration.table {
        let Situation { state, .. } = cell.situation;
        let refused_by = |rule: Rule| {
            cell.effects.iter().any(|e| matches!(e, Effect::Refused { rule: r, .. } if *r == rule))
        };
        match cell.input {
            Input::Operation(Operation::Cancel) => {
                let accepting = matches!(
                    state,
                    JobState::Creating | JobState::Shipping | JobState::Received | JobState::Transferring
                );
                let refused = cell.effects.iter().filter(|e| matches!(e, Effect::Refused { .. })).count();
                if accepting {
                    assert_eq!(refused, 0, "a cancel in {state} is always accepted: {cell:?}");
                } else {
                    assert!(
                        refused_by(Rule::Cancel2) && cell.effects.len() == 1,
                        "cancel in {state}: {cell:?}"
                    );
                }
            }
            Input::Operation(Operation::Delete) => {
                let deletable = matches!(state, JobState::Creating | JobState::Completed | JobState::Closed);
                let expected = if deletable {
                    Effect::Removed
                } else {
                    Effect::Refused { code: "DeleteNotAllowed".into(), rule: Rule::Delete2 }
                };
                assert_eq!(cell.effects, vec![expected], "delete in {state}");
            }
            Input::Operation(_) | Input::Timer(_) => {}
        }
    }
}
