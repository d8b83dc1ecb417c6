//! JSON strings as the contract describes them: strictly strings, and labelled with their
//! `format` (`email`, `uri`, `uuid`) where they have one.
//!
//! poem-openapi's `String` also takes a number or a boolean and turns it into text (`5`
//! becomes `"5"`); contract fuzzing (tests/hardening/contract_fuzz.py) caught the server
//! accepting `{"name": -10755}` that way. Request bodies use [`Text`] instead, so such input
//! is the same 400 `invalid_request` as any other type error.
//!
//! The format is a label for clients and generators, never a check here: a `Text<Email>`
//! takes any string, and the flows' own checks decide (400 `invalid_email` naming the rule,
//! 404 for a session id that is no UUID). A rejection at parse time would be a bare
//! `invalid_request` and would hide which rule the input broke.

use std::borrow::Cow;
use std::marker::PhantomData;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type,
};
use serde_json::Value;

/// The `format` a string's schema names, if any.
pub trait Format: Send + Sync + 'static {
    /// The OpenAPI `format`.
    const FORMAT: Option<&'static str>;
    /// poem-openapi's name for the type (it names inline schemas in its messages).
    const TYPE_NAME: &'static str;
}

/// Any string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Plain;

/// An email address (`format: email`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Email;

/// An absolute URL (`format: uri`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Uri;

/// A UUID (`format: uuid`). Session and task ids are UUIDs; user ids are not always (an
/// imported user keeps the id the old system gave them), so they stay [`Plain`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Uuid;

impl Format for Plain {
    const FORMAT: Option<&'static str> = None;
    const TYPE_NAME: &'static str = "string";
}

impl Format for Email {
    const FORMAT: Option<&'static str> = Some("email");
    const TYPE_NAME: &'static str = "string_email";
}

impl Format for Uri {
    const FORMAT: Option<&'static str> = Some("uri");
    const TYPE_NAME: &'static str = "string_uri";
}

impl Format for Uuid {
    const FORMAT: Option<&'static str> = Some("uuid");
    const TYPE_NAME: &'static str = "string_uuid";
}

/// A field that must be a JSON string, as the contract (`type: string`, with `F`'s format)
/// says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text<F = Plain>(String, PhantomData<F>);

impl<F> Text<F> {
    pub fn new(text: impl Into<String>) -> Self {
        Text(text.into(), PhantomData)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<F> std::ops::Deref for Text<F> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<F> AsRef<str> for Text<F> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<F> From<Text<F>> for String {
    fn from(text: Text<F>) -> String {
        text.0
    }
}

impl<F> From<String> for Text<F> {
    fn from(text: String) -> Self {
        Text::new(text)
    }
}

impl<F: Format> Type for Text<F> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        F::TYPE_NAME.into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            format: F::FORMAT,
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<F: Format> ParseFromJSON for Text<F> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(text) => Ok(Text::new(text)),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

/// A path segment is text already: any segment parses, and the handler decides (an id that
/// is not a UUID names nothing, so 404).
impl<F: Format> ParseFromParameter for Text<F> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(Text::new(value))
    }
}

impl<F: Format> ToJSON for Text<F> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_json_string_is_text_and_any_string_parses_whatever_the_format() {
        assert!(Text::<Plain>::parse_from_json(Some(Value::from(5))).is_err());
        assert!(Text::<Email>::parse_from_json(Some(Value::Bool(true))).is_err());
        let odd = Text::<Email>::parse_from_json(Some(Value::from("not an address"))).unwrap();
        assert_eq!(&*odd, "not an address");
        assert_eq!(&*Text::<Uuid>::parse_from_parameter("42").unwrap(), "42");
    }

    #[test]
    fn the_schema_names_the_format_and_plain_text_has_none() {
        let format = |schema: MetaSchemaRef| match schema {
            MetaSchemaRef::Inline(schema) => schema.format,
            MetaSchemaRef::Reference(_) => panic!("inline"),
        };
        assert_eq!(format(Text::<Email>::schema_ref()), Some("email"));
        assert_eq!(format(Text::<Uri>::schema_ref()), Some("uri"));
        assert_eq!(format(Text::<Uuid>::schema_ref()), Some("uuid"));
        assert_eq!(format(Text::<Plain>::schema_ref()), None);
    }
}
