//! Keeps `docs/spec.md` and the code in step: every rule of the code has a row whose sentence is
//! the code's `Rule::statement`, every row names at least one test, and every test it names
//! exists and carries the rule's id in its name.

use std::collections::BTreeSet;

use import_export_lifecycle::Rule;
use strum::IntoEnumIterator;

const SPEC: &str = include_str!("../docs/spec.md");

/// Every `fn r_…` test name in `tests/` and `src/`.
fn test_names() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut files = Vec::new();
    for dir in ["tests", "src"] {
        collect(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).as_path(), &mut files);
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for piece in text.split("fn r_").skip(1) {
            let name: String = piece.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if is_rule_test(&name) {
                names.insert(format!("r_{name}"));
            }
        }
    }
    names
}

/// `cancel_2_…`: letters, `_`, digits, `_`, then the rest of the name.
fn is_rule_test(after_r: &str) -> bool {
    let mut parts = after_r.splitn(3, '_');
    let (Some(group), Some(number), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !group.is_empty()
        && group.chars().all(|c| c.is_ascii_lowercase())
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
        && !rest.is_empty()
}

fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The rows of the rules table: (id, rule, tests).
fn rows() -> Vec<(String, String, Vec<String>)> {
    SPEC.lines()
        .filter(|l| l.starts_with("| R-"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 4, "a rules row has four cells: {l}");
            let tests = cells[3].split(", ").map(|t| t.trim_matches('`').to_string()).collect();
            (cells[0].to_string(), cells[1].to_string(), tests)
        })
        .collect()
}

/// `statement` as the spec writes it: a sentence with a capital and a full stop.
fn sentence(statement: &str) -> String {
    let mut chars = statement.chars();
    let first = chars.next().map(|c| c.to_uppercase().to_string()).unwrap_or_default();
    format!("{first}{}.", chars.as_str())
}

#[test]
fn every_rule_has_one_row_with_the_codes_sentence() {
    let rows = rows();
    let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let code_ids: Vec<&str> = Rule::iter().map(Rule::id).collect();
    assert_eq!(ids, code_ids, "docs/spec.md's rows and the Rule enum list the same ids, in the same order");
    for (rule, (id, text, _)) in Rule::iter().zip(&rows) {
        assert_eq!(
            text,
            &sentence(rule.statement()),
            "{id}: the spec's sentence differs from Rule::statement"
        );
    }
}

#[test]
fn every_row_names_tests_that_exist_and_carry_its_id() {
    let names = test_names();
    for (id, _, tests) in rows() {
        let prefix = format!("{}_", id.to_lowercase().replace('-', "_"));
        assert!(!tests.is_empty() && !tests[0].is_empty(), "{id} names no test");
        for test in tests {
            assert!(test.starts_with(&prefix), "{id} names {test}, whose name does not start with {prefix}");
            assert!(names.contains(&test), "{id} names {test}, which is not a test in tests/ or src/");
        }
    }
}

#[test]
fn every_rule_test_is_listed_in_the_spec() {
    let listed: BTreeSet<String> = rows().into_iter().flat_map(|r| r.2).collect();
    let unlisted: Vec<String> = test_names().difference(&listed).cloned().collect();
    assert!(unlisted.is_empty(), "tests named after a rule but missing from docs/spec.md: {unlisted:?}");
}
