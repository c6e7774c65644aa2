//! The JSON body of `POST /tasks` as typed serde structs, read straight from the (size-capped)
//! bytes. Deserializing never fails on well-formed JSON: a value of the wrong type is kept as
//! [`Loose::Other`] (skipped, never built) so `task_request` refuses it with the contract's code
//! and message in its own order. Only `steps` is kept as a `Value`, for `Chain::parse`.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

/// A well-formed JSON body: an object with the task request's fields, or anything else.
#[derive(Debug)]
pub enum TaskBody {
    Object(TaskFields),
    NotObject,
}

/// The fields of a task request as sent.
#[derive(Debug, Default)]
pub struct TaskFields {
    pub images: Option<Loose>,
    pub steps: Option<Value>,
    pub preset: Option<Loose>,
    pub webhook: Option<Loose>,
    /// The first field that is none of the above: unknown fields are refused (not ignored), so
    /// a typo such as `"step"` cannot silently run some other chain.
    pub unknown: Option<String>,
}

/// A field's value reduced to what validation looks at: a string, null, an array of those (one
/// level: a nested array or object is `Other`), or anything else.
#[derive(Debug, PartialEq)]
pub enum Loose {
    Str(String),
    Null,
    List(Vec<Loose>),
    Other,
}

impl<'de> Deserialize<'de> for TaskBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BodyVisitor)
    }
}

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor::<true>)
    }
}

/// An element of a [`Loose::List`]: never a list itself, so nothing nests.
struct Element(Loose);

impl<'de> Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor::<false>).map(Element)
    }
}

struct BodyVisitor;

impl<'de> Visitor<'de> for BodyVisitor {
    type Value = TaskBody;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TaskBody, A::Error> {
        let mut fields = TaskFields::default();
        // A repeated field keeps its last value, as a JSON object read into a map would.
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "images" => fields.images = Some(map.next_value()?),
                "steps" => fields.steps = Some(map.next_value()?),
                "preset" => fields.preset = Some(map.next_value()?),
                "webhook" => fields.webhook = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    fields.unknown.get_or_insert(key);
                }
            }
        }
        Ok(TaskBody::Object(fields))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TaskBody, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(TaskBody::NotObject)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<TaskBody, E> {
        Ok(TaskBody::NotObject)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<TaskBody, E> {
        Ok(TaskBody::NotObject)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<TaskBody, E> {
        Ok(TaskBody::NotObject)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<TaskBody, E> {
        Ok(TaskBody::NotObject)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<TaskBody, E> {
        Ok(TaskBody::NotObject)
    }

    fn visit_unit<E: de::Error>(self) -> Result<TaskBody, E> {
        Ok(TaskBody::NotObject)
    }
}

/// `TOP`: an array here is a [`Loose::List`]; below the top it is `Other`, drained unbuilt.
struct LooseVisitor<const TOP: bool>;

impl<'de, const TOP: bool> Visitor<'de> for LooseVisitor<TOP> {
    type Value = Loose;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Loose, E> {
        Ok(Loose::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Loose, E> {
        Ok(Loose::Str(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Loose, E> {
        Ok(Loose::Null)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Loose, E> {
        Ok(Loose::Other)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Loose, E> {
        Ok(Loose::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Loose, E> {
        Ok(Loose::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Loose, E> {
        Ok(Loose::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose, A::Error> {
        if !TOP {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(Loose::Other);
        }
        let mut items = Vec::new();
        while let Some(Element(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Loose::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Loose, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> TaskFields {
        match serde_json::from_str(text).expect("well-formed") {
            TaskBody::Object(fields) => fields,
            TaskBody::NotObject => panic!("{text} is an object"),
        }
    }

    #[test]
    fn wrong_types_are_kept_for_validation_not_refused_by_serde() {
        let f = fields(r#"{"images": ["a", 7, [1], {"b": 2}, null], "preset": 3, "webhook": null, "steps": [{"op": "x"}]}"#);
        let images = vec![Loose::Str("a".into()), Loose::Other, Loose::Other, Loose::Other, Loose::Null];
        assert_eq!(f.images, Some(Loose::List(images)));
        assert_eq!((f.preset, f.webhook), (Some(Loose::Other), Some(Loose::Null)));
        assert_eq!(f.steps, Some(serde_json::json!([{"op": "x"}])));
        assert!(f.unknown.is_none());
    }

    #[test]
    fn the_first_unknown_field_is_remembered_and_the_last_repeat_wins() {
        let f = fields(r#"{"zz": {"deep": [1, 2]}, "preset": "a", "aa": 1, "preset": "b"}"#);
        assert_eq!((f.unknown.as_deref(), f.preset), (Some("zz"), Some(Loose::Str("b".into()))));
    }

    #[test]
    fn anything_but_an_object_is_not_an_object_and_bad_json_is_an_error() {
        for text in ["[1, {}]", "\"x\"", "3", "true", "null", "-1.5"] {
            assert!(matches!(serde_json::from_str(text), Ok(TaskBody::NotObject)), "{text}");
        }
        for text in ["", "{", "{} x", "[0,"] {
            assert!(serde_json::from_str::<TaskBody>(text).is_err(), "{text}");
        }
    }
}
