//! Reading the top level of a JSON document without holding all of it as a `serde_json::Value`
//! tree (which takes some 15 times the size of the input).
//!
//! Two passes over the bytes: [`peek`] reads the top-level object's shape and a few small
//! members (the format and version fields) while skipping everything else without allocating
//! (serde_json skips nested values without recursion, so the nesting limit of 128 applies in the
//! second pass);
//! [`read_top_level`] then hands the elements of the big arrays (components, packages,
//! relationships, ...) to a callback one at a time, each as its own small `Value`, and returns
//! the other members. Peak memory is the input, the model being built and one element.

use super::error::SbomError;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// The shape of a document's top level.
pub(crate) enum Peeked {
    /// Not an object: what it is instead (`an array`, `a string`, ...).
    NotObject(&'static str),
    /// An object: its keys, and the values of the members asked for.
    Object {
        keys: Vec<String>,
        values: Map<String, Value>,
    },
}

/// First pass: checks that the bytes are JSON (syntax, nesting depth) and reads the top level's
/// keys and the members named in `wanted`.
pub(crate) fn peek(bytes: &[u8], wanted: &[&str]) -> Result<Peeked, serde_json::Error> {
    let mut d = serde_json::Deserializer::from_slice(bytes);
    let peeked = d.deserialize_any(Peek { wanted })?;
    d.end()?;
    Ok(peeked)
}

struct Peek<'w> {
    wanted: &'w [&'w str],
}

impl<'de> Visitor<'de> for Peek<'_> {
    type Value = Peeked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Peeked, A::Error> {
        let (mut keys, mut values) = (Vec::new(), Map::new());
        while let Some(key) = map.next_key::<String>()? {
            if self.wanted.contains(&key.as_str()) {
                values.insert(key.clone(), map.next_value::<Value>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
            keys.push(key);
        }
        Ok(Peeked::Object { keys, values })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Peeked, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Peeked::NotObject("an array"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Peeked, E> {
        Ok(Peeked::NotObject("a string"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Peeked, E> {
        Ok(Peeked::NotObject("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Peeked, E> {
        Ok(Peeked::NotObject("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Peeked, E> {
        Ok(Peeked::NotObject("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Peeked, E> {
        Ok(Peeked::NotObject("a number"))
    }
    fn visit_unit<E>(self) -> Result<Peeked, E> {
        Ok(Peeked::NotObject("null"))
    }
}

/// The callback for streamed elements: member name, index, element.
pub(crate) type OnItem<'a> = dyn FnMut(&'static str, usize, Value) -> Result<(), SbomError> + 'a;

/// Second pass over a document [`peek`] accepted as an object: the elements of the members named
/// in `streamed` go to `on_item` one by one (such a member must be an array or null); the other
/// members are returned. The first error of `on_item` stops the pass and is returned.
pub(crate) fn read_top_level(
    file: &str,
    bytes: &[u8],
    streamed: &[&'static str],
    on_item: &mut OnItem<'_>,
) -> Result<Map<String, Value>, SbomError> {
    let mut failure = None;
    let mut d = serde_json::Deserializer::from_slice(bytes);
    let result = d.deserialize_map(TopLevel {
        file,
        streamed,
        on_item,
        failure: &mut failure,
    });
    match (failure, result) {
        (Some(e), _) => Err(e),
        (None, Ok(rest)) => Ok(rest),
        // The first pass skipped what this one reads into values: nesting too deep there.
        (None, Err(e)) => Err(super::detect::json_error(file, &e)),
    }
}

struct TopLevel<'a, 'f> {
    file: &'a str,
    streamed: &'a [&'static str],
    on_item: &'a mut OnItem<'f>,
    failure: &'a mut Option<SbomError>,
}

impl<'de> Visitor<'de> for TopLevel<'_, '_> {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut rest = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match self.streamed.iter().find(|k| **k == key) {
                Some(&member) => map.next_value_seed(Items {
                    file: self.file,
                    member,
                    on_item: &mut *self.on_item,
                    failure: &mut *self.failure,
                })?,
                None => {
                    let value = map.next_value::<Value>()?;
                    rest.insert(key, value);
                }
            }
        }
        Ok(rest)
    }
}

struct Items<'a, 'f> {
    file: &'a str,
    member: &'static str,
    on_item: &'a mut OnItem<'f>,
    failure: &'a mut Option<SbomError>,
}

impl Items<'_, '_> {
    fn wrong<E: de::Error>(self, what: &str) -> Result<(), E> {
        *self.failure = Some(SbomError::Invalid {
            file: self.file.to_owned(),
            pointer: format!("/{}", self.member),
            message: format!("`{}` must be an array, not {what}", self.member),
            fix: format!("write `{}` as a JSON array", self.member),
        });
        Err(E::custom("not an array"))
    }
}

impl<'de> DeserializeSeed<'de> for Items<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Items<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while let Some(v) = seq.next_element::<Value>()? {
            if let Err(e) = (self.on_item)(self.member, i, v) {
                *self.failure = Some(e);
                return Err(de::Error::custom("sbom error"));
            }
            i += 1;
        }
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        self.wrong("an object")
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.wrong("a string")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.wrong("a boolean")
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.wrong("a number")
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.wrong("a number")
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.wrong("a number")
    }
}
