//! The schemas of the admin bodies, derived by schemars from the very types the handlers
//! decode (their serde attributes give the names, what is required, what is refused and what
//! may be null; their `#[schemars]` attributes the ranges and patterns the validation checks).

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema};
use serde_json::Value;

use super::admin_bodies::{ClockBody, PairBody};
use crate::faults::FaultSpec;
use crate::scenario::Scenario;

/// Every derived schema, by component name (the request bodies and the types they hold).
pub(crate) fn derived() -> Vec<(String, Value)> {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .for_deserialize()
        .with_transform(RecursiveTransform(integer_bounds))
        .with_transform(RecursiveTransform(plain_description))
        .into_generator();
    let roots = [
        root::<FaultSpec>(&mut generator),
        root::<PairBody>(&mut generator),
        root::<ClockBody>(&mut generator),
        root::<Scenario>(&mut generator),
    ];
    let mut out: Vec<(String, Value)> = generator.take_definitions(true).into_iter().collect();
    for (name, schema) in roots.into_iter().flatten() {
        out.push((name, schema));
    }
    out
}

/// The largest value of a Rust integer type, declared: schemars gives only its `format`,
/// which a JSON Schema validator or a fuzzer does not read, and a larger number is refused.
fn integer_bounds(schema: &mut Schema) {
    let max = match schema.get("format").and_then(Value::as_str) {
        Some("uint16") => u64::from(u16::MAX),
        Some("uint32") => u64::from(u32::MAX),
        Some("uint64") => u64::MAX,
        _ => return,
    };
    if schema.get("maximum").is_none() {
        schema.insert("maximum".into(), Value::from(max));
    }
}

/// A description without its rustdoc example (the doc comment's code block) and with its
/// lines joined: prose for the document's reader.
fn plain_description(schema: &mut Schema) {
    let Some(text) = schema.get("description").and_then(Value::as_str) else {
        return;
    };
    let prose = text.split("\n\n```").next().unwrap_or(text);
    let joined = prose.split_whitespace().collect::<Vec<_>>().join(" ");
    schema.insert("description".into(), Value::String(joined));
}

/// A type's schema under its own name, when the generator inlined it instead of defining it.
fn root<T: JsonSchema>(generator: &mut schemars::SchemaGenerator) -> Option<(String, Value)> {
    let schema = generator.subschema_for::<T>();
    let name = T::schema_name().into_owned();
    let defined = generator.definitions().contains_key(&name);
    (!defined).then(|| (name, schema.to_value()))
}
