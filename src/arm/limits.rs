//! The bounds of what a job may hold, checked on `PUT` and `PATCH` before anything is decided,
//! so that whatever is accepted can be stored and read back by any host.
//!
//! Where ARM bounds a value, its bound is kept: at most [`MAX_TAGS`] tags per resource, a tag
//! name of at most [`MAX_TAG_NAME`] characters and a value of at most [`MAX_TAG_VALUE`]. A
//! job holds at most [`MAX_DRIVES`](crate::MAX_DRIVES) drives (the core's rule). Every other
//! free-text field is at most [`MAX_TEXT`] characters (an Azure blob name, the longest of them,
//! is at most 1,024), and each list of blob paths or prefixes at most [`MAX_BLOB_ENTRIES`]
//! entries (a longer list belongs in the blob `blobListBlobPath` names). A refusal names the
//! field, as every refusal of this layer does.

use serde::Serialize;
use serde_json::Value;

/// ARM's bound on the tags of one resource.
pub const MAX_TAGS: usize = 50;
/// ARM's bound on a tag's name, in characters.
pub const MAX_TAG_NAME: usize = 512;
/// ARM's bound on a tag's value, in characters.
pub const MAX_TAG_VALUE: usize = 256;
/// The bound on any other text a job holds, in characters.
pub const MAX_TEXT: usize = 1024;
/// The bound on each of an export's lists (`blobPath`, `blobPathPrefix`).
pub const MAX_BLOB_ENTRIES: usize = 1000;

/// Checks the body of a `PUT` or `PATCH` as read (`PutJobParameters`, `UpdateJobParameters`:
/// only the fields this layer reads, so an unknown field is ignored, not bounded).
///
/// # Errors
/// The first field over its bound, named by its path (`tags`, `properties.returnAddress.city`)
/// with the bound, as the message of a 400 `InvalidRequest`.
pub fn check<T: Serialize>(parameters: &T) -> Result<(), String> {
    let value = serde_json::to_value(parameters).map_err(|e| format!("body: {e}"))?;
    walk(&value, "")
}

fn walk(value: &Value, path: &str) -> Result<(), String> {
    let field = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
    match value {
        Value::Object(fields) => {
            for (key, value) in fields {
                if path.is_empty() && key == "tags" {
                    tags(value)?;
                } else {
                    walk(value, &field(key))?;
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            if items.len() > MAX_BLOB_ENTRIES {
                return Err(format!("{path}: {} entries, more than {MAX_BLOB_ENTRIES}", items.len()));
            }
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        Value::String(text) => {
            let chars = text.chars().count();
            if chars > MAX_TEXT {
                return Err(format!("{path}: {chars} characters, more than {MAX_TEXT}"));
            }
            Ok(())
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

fn tags(value: &Value) -> Result<(), String> {
    let Value::Object(tags) = value else { return Ok(()) };
    if tags.len() > MAX_TAGS {
        return Err(format!("tags: {} tags, more than {MAX_TAGS}", tags.len()));
    }
    for (name, value) in tags {
        let quoted = super::path::quote(name);
        let name_chars = name.chars().count();
        if name_chars > MAX_TAG_NAME {
            return Err(format!(
                "tags: the name {quoted} has {name_chars} characters, more than {MAX_TAG_NAME}"
            ));
        }
        let value_chars = value.as_str().map_or(0, |v| v.chars().count());
        if value_chars > MAX_TAG_VALUE {
            return Err(format!("tags.{quoted}: {value_chars} characters, more than {MAX_TAG_VALUE}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn limits_tags_at_their_bounds_pass_and_one_more_is_named() {
        let name = "n".repeat(MAX_TAG_NAME);
        let mut tags: serde_json::Map<String, Value> =
            (0..MAX_TAGS - 1).map(|i| (format!("t{i}"), json!("v".repeat(MAX_TAG_VALUE)))).collect();
        tags.insert(name, json!("v"));
        assert_eq!(check(&json!({"tags": tags})), Ok(()));
        tags.insert("one-more".into(), json!(""));
        assert!(check(&json!({"tags": tags})).unwrap_err().starts_with("tags: 51 tags"));
        let long = json!({"tags": {"k": "v".repeat(MAX_TAG_VALUE + 1)}});
        assert!(check(&long).unwrap_err().starts_with("tags.\"k\": 257 characters"));
        let long_name = json!({"tags": {"n".repeat(MAX_TAG_NAME + 1): "v"}});
        assert!(check(&long_name).unwrap_err().contains("513 characters"));
    }

    #[test]
    fn limits_other_text_is_named_by_its_path() {
        let body = json!({"properties": {"returnAddress": {"city": "c".repeat(MAX_TEXT + 1)}}});
        assert_eq!(
            check(&body),
            Err("properties.returnAddress.city: 1025 characters, more than 1024".into())
        );
        let list =
            json!({"properties": {"export": {"blobList": {"blobPath": vec!["a"; MAX_BLOB_ENTRIES + 1]}}}});
        assert!(check(&list).unwrap_err().starts_with("properties.export.blobList.blobPath: 1001 entries"));
        let at_bound = json!({"properties": {"export": {"blobList": {"blobPath": vec!["a".repeat(MAX_TEXT); MAX_BLOB_ENTRIES]}}}});
        assert_eq!(check(&at_bound), Ok(()));
    }
}
