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

use std::fmt;

use serde::Serialize;
use serde::ser;
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
    // Nothing over its bound, the common case: proved by walking the parameters as they
    // serialise, without a `Value` or a path. Anything the quick walk cannot clear (a value
    // over a bound, or a shape it does not judge) goes to the walk below, which names it.
    if parameters.serialize(Quick { top: true }).is_ok() {
        return Ok(());
    }
    let value = serde_json::to_value(parameters).map_err(|e| format!("body: {e}"))?;
    walk(&value, "")
}

/// What stops [`Quick`]: a value may be over its bound (or the quick walk does not judge its
/// shape); [`walk`] decides and names it.
#[derive(Debug)]
struct Unclear;

impl fmt::Display for Unclear {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("for the full check")
    }
}

impl std::error::Error for Unclear {}

impl ser::Error for Unclear {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Unclear
    }
}

/// Clears a value that [`walk`] would pass, as it serialises: strings of at most
/// [`MAX_TEXT`] characters, lists of at most [`MAX_BLOB_ENTRIES`] entries, and the body's
/// `tags` through [`tags`]. It errs only towards [`Unclear`], never towards a pass.
#[derive(Clone, Copy)]
struct Quick {
    /// The value is the body itself (whose `tags` field is bounded as tags).
    top: bool,
}

/// A list's entries, counted.
struct Items(usize);

/// An object's fields; `tags_next` when the key just read is the body's `tags`.
struct Fields {
    top: bool,
    tags_next: bool,
}

fn text(v: &str) -> Result<(), Unclear> {
    if v.len() <= MAX_TEXT || v.chars().count() <= MAX_TEXT { Ok(()) } else { Err(Unclear) }
}

/// The body's `tags`, judged as [`walk`] does, on their own (at most a few thousand bytes).
fn quick_tags<T: Serialize + ?Sized>(value: &T) -> Result<(), Unclear> {
    let value = serde_json::to_value(value).map_err(|_| Unclear)?;
    tags(&value).map_err(|_| Unclear)
}

impl ser::Serializer for Quick {
    type Ok = ();
    type Error = Unclear;
    type SerializeSeq = Items;
    type SerializeTuple = Items;
    type SerializeTupleStruct = Items;
    type SerializeTupleVariant = Items;
    type SerializeMap = Fields;
    type SerializeStruct = Fields;
    type SerializeStructVariant = Fields;

    fn serialize_bool(self, _: bool) -> Result<(), Unclear> {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> Result<(), Unclear> {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> Result<(), Unclear> {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> Result<(), Unclear> {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> Result<(), Unclear> {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> Result<(), Unclear> {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> Result<(), Unclear> {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> Result<(), Unclear> {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> Result<(), Unclear> {
        Ok(())
    }
    fn serialize_f32(self, _: f32) -> Result<(), Unclear> {
        Ok(())
    }
    fn serialize_f64(self, _: f64) -> Result<(), Unclear> {
        Ok(())
    }
    fn serialize_char(self, _: char) -> Result<(), Unclear> {
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Unclear> {
        text(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Unclear> {
        if v.len() <= MAX_BLOB_ENTRIES { Ok(()) } else { Err(Unclear) }
    }
    fn serialize_none(self) -> Result<(), Unclear> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Unclear> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Unclear> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unclear> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), Unclear> {
        text(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Unclear> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Unclear> {
        if self.top && variant == "tags" {
            return Err(Unclear);
        }
        value.serialize(Quick { top: false })
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Items, Unclear> {
        Ok(Items(0))
    }
    fn serialize_tuple(self, _: usize) -> Result<Items, Unclear> {
        Ok(Items(0))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Items, Unclear> {
        Ok(Items(0))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Items, Unclear> {
        if self.top && variant == "tags" { Err(Unclear) } else { Ok(Items(0)) }
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Fields, Unclear> {
        Ok(Fields { top: self.top, tags_next: false })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Fields, Unclear> {
        Ok(Fields { top: self.top, tags_next: false })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Fields, Unclear> {
        if self.top && variant == "tags" { Err(Unclear) } else { Ok(Fields { top: false, tags_next: false }) }
    }
}

impl Items {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unclear> {
        self.0 += 1;
        if self.0 > MAX_BLOB_ENTRIES {
            return Err(Unclear);
        }
        value.serialize(Quick { top: false })
    }
}

impl ser::SerializeSeq for Items {
    type Ok = ();
    type Error = Unclear;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unclear> {
        self.item(value)
    }
    fn end(self) -> Result<(), Unclear> {
        Ok(())
    }
}

impl ser::SerializeTuple for Items {
    type Ok = ();
    type Error = Unclear;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unclear> {
        self.item(value)
    }
    fn end(self) -> Result<(), Unclear> {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Items {
    type Ok = ();
    type Error = Unclear;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unclear> {
        self.item(value)
    }
    fn end(self) -> Result<(), Unclear> {
        Ok(())
    }
}

impl ser::SerializeTupleVariant for Items {
    type Ok = ();
    type Error = Unclear;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unclear> {
        self.item(value)
    }
    fn end(self) -> Result<(), Unclear> {
        Ok(())
    }
}

impl Fields {
    fn field<T: Serialize + ?Sized>(&mut self, tags_field: bool, value: &T) -> Result<(), Unclear> {
        if self.top && tags_field { quick_tags(value) } else { value.serialize(Quick { top: false }) }
    }
}

impl ser::SerializeMap for Fields {
    type Ok = ();
    type Error = Unclear;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unclear> {
        // Keys are not bounded (but tags' names, judged with the tags); a key serde_json would
        // not write as a string is left to the full check.
        match serde_json::to_value(key) {
            Ok(Value::String(key)) => {
                self.tags_next = key == "tags";
                Ok(())
            }
            Ok(_) | Err(_) => Err(Unclear),
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unclear> {
        let tags_field = std::mem::take(&mut self.tags_next);
        self.field(tags_field, value)
    }
    fn end(self) -> Result<(), Unclear> {
        Ok(())
    }
}

impl ser::SerializeStruct for Fields {
    type Ok = ();
    type Error = Unclear;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unclear> {
        self.field(key == "tags", value)
    }
    fn end(self) -> Result<(), Unclear> {
        Ok(())
    }
}

impl ser::SerializeStructVariant for Fields {
    type Ok = ();
    type Error = Unclear;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unclear> {
        self.field(key == "tags", value)
    }
    fn end(self) -> Result<(), Unclear> {
        Ok(())
    }
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
        let quoted = super::quote::quote(name);
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

    #[test]
    fn limits_the_quick_pass_clears_only_what_the_full_walk_passes() {
        let fixture = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/azure-rest-2021-01-01/CreateJob.json"
        ));
        let fixture: Value = serde_json::from_str(fixture).unwrap();
        let body = fixture["parameters"]["body"].clone();
        let put: crate::arm::types::PutJobParameters = serde_json::from_value(body.clone()).unwrap();
        assert!(put.serialize(Quick { top: true }).is_ok(), "an ordinary body passes the quick way");
        let over = |pointer: &str, value: Value| {
            let mut body = body.clone();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            body.pointer_mut(parent).unwrap().as_object_mut().unwrap().insert(key.into(), value);
            body
        };
        let bodies = [
            body.clone(),
            over("/location", json!("x".repeat(MAX_TEXT + 1))),
            over("/location", json!("é".repeat(MAX_TEXT))),
            over(
                "/properties/returnAddress",
                json!({"city": "c".repeat(MAX_TEXT + 1), "zip": vec!["z"; 1001]}),
            ),
            over("/tags", json!({"k": "v".repeat(MAX_TAG_VALUE + 1)})),
            over("/tags", json!(["not", "an", "object"])),
            json!([{"tags": {"k": "v".repeat(MAX_TAG_VALUE + 1)}}]),
            json!({"a": {"tags": {"k": "v".repeat(MAX_TAG_VALUE + 1)}}}),
        ];
        for value in &bodies {
            let full = walk(&serde_json::to_value(value).unwrap(), "");
            assert_eq!(check(value), full, "{value}");
            if value.serialize(Quick { top: true }).is_ok() {
                assert_eq!(full, Ok(()), "the quick pass cleared {value}");
            }
            if let Ok(put) = serde_json::from_value::<crate::arm::types::PutJobParameters>(value.clone()) {
                assert_eq!(check(&put), walk(&serde_json::to_value(&put).unwrap(), ""));
            }
        }
    }
}
