//! A JSON value read as serde reads it, except that a struct accepts only an object.
//!
//! serde's derived structs also accept their "sequence form": `[["consultation_ready", true]]`
//! deserialises as `[{"event": "consultation_ready", "accepted": true}]`, and `["小林", null]`
//! as a profile patch. A generated client never sends that, and the spec does not allow it, so a
//! body in that form is refused with 422 naming the field (#30). [`Strict`] wraps a
//! `serde_json::Value` and hands every nested value on wrapped the same way, so that the rule
//! holds at any depth; everything else is read exactly as `serde_json::Value` reads it.

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};

/// A JSON value whose structs must be objects.
pub struct Strict(pub Value);

type Error = serde_json::Error;

impl<'de> de::Deserializer<'de> for Strict {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(items) => {
                let len = items.len();
                let mut seq = Seq(items.into_iter());
                let value = visitor.visit_seq(&mut seq)?;
                if seq.0.len() == 0 {
                    Ok(value)
                } else {
                    Err(de::Error::invalid_length(
                        len,
                        &"fewer elements in the array",
                    ))
                }
            }
            Value::Object(map) => visitor.visit_map(Object::new(map)),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(_) => Err(de::Error::invalid_type(de::Unexpected::Seq, &visitor)),
            other => Strict(other).deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Strict(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map identifier
    }
}

impl<'de> IntoDeserializer<'de, Error> for Strict {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

struct Seq(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Seq {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(Strict(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Object {
    entries: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl Object {
    fn new(map: Map<String, Value>) -> Self {
        Self {
            entries: map.into_iter(),
            value: None,
        }
    }
}

impl<'de> MapAccess<'de> for Object {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(Value::String(key)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let value = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a value before its key"))?;
        seed.deserialize(Strict(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::Strict;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Grant {
        event: String,
        accepted: bool,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Body {
        grants: Vec<Grant>,
        note: Option<String>,
        #[serde(default)]
        tags: Vec<String>,
    }

    fn read(v: serde_json::Value) -> Result<Body, String> {
        serde_path_to_error::deserialize::<_, Body>(Strict(v))
            .map_err(|e| format!("{} {}", e.path().clone(), e.into_inner()))
    }

    #[test]
    fn objects_read_as_usual() {
        let b = read(
            json!({"grants": [{"event": "a", "accepted": true}], "note": null, "tags": ["x"]}),
        )
        .unwrap();
        assert_eq!(b.grants[0].event, "a");
        assert_eq!(b.note, None);
        assert_eq!(b.tags, ["x"]);
        let e = read(json!({"grants": [{"event": "a", "accepted": "yes"}]})).unwrap_err();
        assert!(e.starts_with("grants[0].accepted"), "{e}");
        let e = read(json!({"grants": [], "other": 1})).unwrap_err();
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn a_struct_in_sequence_form_is_refused_at_any_depth() {
        let e = read(json!({"grants": [["a", true]]})).unwrap_err();
        assert!(e.starts_with("grants[0] invalid type: sequence"), "{e}");
        let e = read(json!([[], null, []])).unwrap_err();
        assert!(e.starts_with(". invalid type: sequence"), "{e}");
    }
}
