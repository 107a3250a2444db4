//! The one strict reader of JSON (and of any other self-describing format) from outside.
//!
//! serde's derived readers are lenient in two ways an attacker can use: a struct is also read
//! from an array, by position (`[null, {"cancelRequested": true}]` read as an update), and a
//! reader that goes through a map or a buffer (a `serde_json::Value`, `#[serde(flatten)]`, an
//! untagged enum) keeps the last of two equal keys (`{"method": "GET", "method": "DELETE"}`).
//! [`Strict`] wraps any [`Deserializer`] and refuses both, at every depth:
//!
//! - an object is never read from an array (when the format is human-readable: binary formats
//!   such as bincode write structs as sequences, and keep doing so);
//! - a key that appears twice in one object is refused, naming it.
//!
//! Every stored form of the crate (`Job`, `Registry`, `Event`, `Command`, `Policy`, `Scenario`)
//! reads itself through [`Strict`], whatever deserializer the caller hands it, so a host that
//! calls `serde_json::from_str` directly gets the same strictness. [`from_json`] and
//! [`value_from_json`] (with the `arm` or `scenarios` feature) read a text strictly.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

/// The keys seen so far in one object. A key the input lends (`&'de str`, as serde_json's
/// `from_str` hands an unescaped key) is kept as a borrow, not copied; an object's first
/// [`LINEAR_KEYS`] keys sit in a vector compared linearly (the objects this crate reads have
/// about twenty keys at most); past that, they move to a hash set, so an object of many keys
/// costs linear time, not quadratic.
#[derive(Default)]
struct Keys<'de> {
    few: Vec<Cow<'de, str>>,
    many: Option<HashSet<Cow<'de, str>>>,
}

/// How many keys an object holds before its keys are hashed instead of compared one by one.
const LINEAR_KEYS: usize = 32;

impl<'de> Keys<'de> {
    /// Records `key`; `false` if the object already had it.
    fn insert(&mut self, key: &str, lent: impl FnOnce() -> Cow<'de, str>) -> bool {
        if let Some(many) = &mut self.many {
            return !many.contains(key) && many.insert(lent());
        }
        if self.few.iter().any(|k| **k == *key) {
            return false;
        }
        if self.few.len() < LINEAR_KEYS {
            if self.few.capacity() == 0 {
                self.few.reserve_exact(16);
            }
            self.few.push(lent());
        } else {
            let mut many: HashSet<Cow<'de, str>> = self.few.drain(..).collect();
            many.insert(lent());
            self.many = Some(many);
        }
        true
    }
}

/// A [`Deserializer`] that reads like the one it wraps, except that it refuses an array where an
/// object is expected and a key that appears twice in one object (see the module's doc).
pub struct Strict<D> {
    de: D,
    /// The value read is an object, whichever way its reader asks for it (an internally tagged
    /// enum asks for "anything").
    object: bool,
}

impl<D> Strict<D> {
    /// Wraps `de`.
    pub fn new(de: D) -> Strict<D> {
        Strict { de, object: false }
    }

    /// Wraps `de`, whose value must be an object (a JSON object, not an array), even when its
    /// reader accepts anything.
    pub fn object(de: D) -> Strict<D> {
        Strict { de, object: true }
    }
}

/// Reads `T` from `text` strictly: JSON, no array for an object, no key twice, nothing after
/// the value. serde_json's nesting limit (128) bounds the depth.
///
/// # Errors
///
/// serde_json's error for malformed JSON, a key given twice, or a value that does not fit `T`.
#[cfg(any(feature = "arm", feature = "scenarios"))]
pub fn from_json<T: de::DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(Strict::new(&mut de))?;
    de.end()?;
    Ok(value)
}

/// Reads a JSON value from `text`, refusing a key that appears twice in one object (a
/// `serde_json::Value` would keep the last). Read fields out of it with [`from_value`].
///
/// # Errors
///
/// serde_json's error for malformed JSON or a key given twice.
#[cfg(any(feature = "arm", feature = "scenarios"))]
pub fn value_from_json(text: &str) -> Result<serde_json::Value, serde_json::Error> {
    from_json(text)
}

/// [`value_from_json`], and on error where in the value the reader was when it stopped
/// (`steps[2].bytes`; none for text after the value).
///
/// # Errors
///
/// serde_json's error for malformed JSON or a key given twice, with the path of the object
/// that holds it.
#[cfg(feature = "scenarios")]
pub fn located_value_from_json(
    text: &str,
) -> Result<serde_json::Value, (serde_json::Error, Option<serde_path_to_error::Path>)> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(Strict::new(&mut de)).map_err(|e| {
        let path = e.path().clone();
        (e.into_inner(), Some(path))
    })?;
    de.end().map_err(|e| (e, None))?;
    Ok(value)
}

/// Reads `T` from a JSON value strictly: no array where an object is expected.
///
/// # Errors
///
/// serde_json's error for a value that does not fit `T`.
#[cfg(any(feature = "arm", feature = "scenarios"))]
pub fn from_value<T: de::DeserializeOwned>(value: &serde_json::Value) -> Result<T, serde_json::Error> {
    T::deserialize(Strict::new(value))
}

/// Implements `Serialize` and `Deserialize` for a type whose derives carry
/// `#[serde(remote = "Self")]`, reading it through [`Strict`].
macro_rules! strict_serde {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                <$ty>::serialize(self, serializer)
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                <$ty>::deserialize($crate::wire::strict::Strict::object(deserializer))
            }
        }
    };
}
pub(crate) use strict_serde;

/// The same, for a type read only (`#[derive(Deserialize)]` with `#[serde(remote = "Self")]`).
macro_rules! strict_deserialize {
    ($ty:ty) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                <$ty>::deserialize($crate::wire::strict::Strict::object(deserializer))
            }
        }
    };
}
pub(crate) use strict_deserialize;

/// The key a [`Strict`] error message refuses as a duplicate, if it is one.
pub fn duplicate_key(message: &str) -> Option<&str> {
    let rest = message.split_once("duplicate key `")?.1;
    Some(rest.split_once('`')?.0)
}

/// Wraps a visitor: checks keys, refuses arrays for objects, and wraps what it hands on.
struct Visit<'k, 'de, V> {
    visitor: V,
    /// Set while reading an object's key: the keys of that object so far.
    keys: Option<&'k mut Keys<'de>>,
    object: bool,
    human_readable: bool,
}

impl<'de, V> Visit<'_, 'de, V> {
    fn key<E: de::Error>(&mut self, key: &str, lent: impl FnOnce() -> Cow<'de, str>) -> Result<(), E> {
        match &mut self.keys {
            Some(keys) => match keys.insert(key, lent) {
                true => Ok(()),
                false => {
                    Err(E::custom(format_args!("duplicate key `{}`", crate::wire::text::escape_control(key))))
                }
            },
            None => Ok(()),
        }
    }
}

macro_rules! forward_deserialize {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                let human_readable = self.de.is_human_readable();
                let (de, keys, object) = self.parts();
                de.$method(Visit { visitor, keys, object, human_readable })
            }
        )*
    };
}

/// An object's key, read through [`Strict`] and recorded in its object's [`Keys`].
struct Key<'k, 'de, D> {
    de: D,
    keys: &'k mut Keys<'de>,
}

impl<D> Strict<D> {
    fn parts<'k, 'de>(self) -> (D, Option<&'k mut Keys<'de>>, bool) {
        (self.de, None, self.object)
    }
}

impl<'k, 'de, D> Key<'k, 'de, D> {
    fn parts(self) -> (D, Option<&'k mut Keys<'de>>, bool) {
        (self.de, Some(self.keys), false)
    }
}

macro_rules! strict_deserializer {
    ($($impl:tt)*) => {
$($impl)* {
    type Error = D::Error;

    forward_deserialize!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_identifier,
        deserialize_ignored_any,
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let human_readable = self.de.is_human_readable();
        let (de, keys, _) = self.parts();
        de
            .deserialize_unit_struct(name, Visit { visitor, keys, object: false, human_readable })
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let human_readable = self.de.is_human_readable();
        let (de, keys, _) = self.parts();
        de.deserialize_newtype_struct(
            name,
            Visit { visitor, keys, object: false, human_readable },
        )
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, D::Error> {
        let human_readable = self.de.is_human_readable();
        let (de, keys, _) = self.parts();
        de.deserialize_tuple(len, Visit { visitor, keys, object: false, human_readable })
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let human_readable = self.de.is_human_readable();
        let (de, keys, _) = self.parts();
        de.deserialize_tuple_struct(
            name,
            len,
            Visit { visitor, keys, object: false, human_readable },
        )
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let human_readable = self.de.is_human_readable();
        let (de, keys, _) = self.parts();
        de.deserialize_map(Visit { visitor, keys, object: true, human_readable })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let human_readable = self.de.is_human_readable();
        let (de, keys, _) = self.parts();
        de.deserialize_struct(
            name,
            fields,
            Visit { visitor, keys, object: true, human_readable },
        )
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let human_readable = self.de.is_human_readable();
        let (de, keys, _) = self.parts();
        de.deserialize_enum(
            name,
            variants,
            Visit { visitor, keys, object: false, human_readable },
        )
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}
    };
}

strict_deserializer!(impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D>);
strict_deserializer!(impl<'de, D: Deserializer<'de>> Deserializer<'de> for Key<'_, 'de, D>);

macro_rules! forward_visit {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
                self.visitor.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Visit<'_, 'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.visitor.expecting(f)
    }

    forward_visit!(
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    );

    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<V::Value, E> {
        self.key(v, || Cow::Owned(v.to_owned()))?;
        self.visitor.visit_str(v)
    }

    fn visit_borrowed_str<E: de::Error>(mut self, v: &'de str) -> Result<V::Value, E> {
        self.key(v, || Cow::Borrowed(v))?;
        self.visitor.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(mut self, v: String) -> Result<V::Value, E> {
        self.key(&v, || Cow::Owned(v.clone()))?;
        self.visitor.visit_string(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.visitor.visit_none()
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        self.visitor.visit_some(Strict::new(de))
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.visitor.visit_unit()
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        self.visitor.visit_newtype_struct(Strict::new(de))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        if self.object && self.human_readable {
            return Err(de::Error::invalid_type(de::Unexpected::Seq, &self));
        }
        self.visitor.visit_seq(Seq(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(Map { map, keys: Keys::default() })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_enum(Enum(data))
    }
}

/// Reads a nested value through [`Strict`].
struct Seed<S> {
    seed: S,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(Strict { de, object: false })
    }
}

/// Reads an object's key through [`Key`].
struct KeySeed<'k, 'de, S> {
    seed: S,
    keys: &'k mut Keys<'de>,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, 'de, S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(Key { de, keys: self.keys })
    }
}

struct Seq<A>(A);

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Seq<A> {
    type Error = A::Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Seed { seed })
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

struct Map<'de, A> {
    map: A,
    keys: Keys<'de>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Map<'de, A> {
    type Error = A::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        self.map.next_key_seed(KeySeed { seed, keys: &mut self.keys })
    }
    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.map.next_value_seed(Seed { seed })
    }
    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

struct Enum<A>(A);

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Enum<A> {
    type Error = A::Error;
    type Variant = Variant<A::Variant>;
    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self::Variant), A::Error> {
        let (value, variant) = self.0.variant_seed(Seed { seed })?;
        Ok((value, Variant(variant)))
    }
}

struct Variant<A>(A);

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Variant<A> {
    type Error = A::Error;
    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(Seed { seed })
    }
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Visit { visitor, keys: None, object: false, human_readable: true })
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        // A struct variant is an object in every human-readable format; a binary format's
        // variant access hands a sequence, which the derived visitor reads as before.
        self.0.struct_variant(fields, Visit { visitor, keys: None, object: false, human_readable: true })
    }
}

#[cfg(all(test, any(feature = "arm", feature = "scenarios")))]
mod tests {
    use serde::Deserialize;

    use super::{from_json, value_from_json};

    #[derive(Debug, Deserialize, PartialEq)]
    struct Pair {
        a: u32,
        b: Option<Box<Pair>>,
    }

    #[test]
    fn an_object_is_never_read_from_an_array() {
        assert!(serde_json::from_str::<Pair>("[1, null]").is_ok(), "serde's own reader takes arrays");
        assert!(from_json::<Pair>("[1, null]").is_err());
        assert!(from_json::<Pair>(r#"{"a": 1, "b": [2, null]}"#).is_err());
        assert_eq!(
            from_json::<Pair>(r#"{"a": 1, "b": {"a": 2, "b": null}}"#).unwrap(),
            Pair { a: 1, b: Some(Box::new(Pair { a: 2, b: None })) }
        );
        assert_eq!(from_json::<Vec<u32>>("[1, 2]").unwrap(), vec![1, 2]);
    }

    #[test]
    fn a_duplicate_key_is_refused_naming_it() {
        let e = value_from_json(r#"{"x": {"method": "GET", "method": "DELETE"}}"#).unwrap_err();
        assert!(e.to_string().contains("duplicate key `method`"), "{e}");
        let e = value_from_json(r#"{"a\u0062": 1, "ab": 2}"#).unwrap_err();
        assert!(e.to_string().contains("duplicate key `ab`"), "{e}");
        assert!(value_from_json(r#"[{"a": 1}, {"a": 2}]"#).is_ok(), "one key per object");
    }

    #[test]
    fn a_duplicate_key_is_refused_among_many_keys_and_escaped_ones() {
        // Past the keys compared one by one, the hashed ones; escaped keys are copied, not lent.
        for count in [31, 32, 33, 200] {
            let keys: Vec<String> = (0..count).map(|i| format!("\"k{i}\": {i}")).collect();
            let text = format!("{{{}}}", keys.join(", "));
            assert!(value_from_json(&text).is_ok(), "{count} distinct keys");
            let escaped = format!("{{{}, \"k\\u0030\": 0}}", keys.join(", "));
            let e = value_from_json(&escaped).unwrap_err();
            assert!(e.to_string().contains("duplicate key `k0`"), "{count}: {e}");
            for dup in [0, count / 2, count - 1] {
                let text = format!("{{{}, \"k{dup}\": 0}}", keys.join(", "));
                let e = value_from_json(&text).unwrap_err();
                assert!(e.to_string().contains(&format!("duplicate key `k{dup}`")), "{count}: {e}");
            }
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing() {
        let deep = "[".repeat(100_000);
        assert!(value_from_json(&deep).is_err());
        let deep = r#"{"a":"#.repeat(100_000);
        assert!(value_from_json(&deep).is_err());
    }
}
