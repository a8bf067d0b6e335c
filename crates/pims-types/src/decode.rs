//! JSON paths for decoding errors: every decoder here walks a `serde_json::Value` and says where
//! it broke (`$.result.deviceActivation.order`).

use serde_json::{Map, Value};

use crate::error::Error;

/// The longest key a path shows in full.
const MAX_KEY_SHOWN: usize = 64;

/// A position in a JSON document, built as decoders descend.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
}

impl<'a> Path<'a> {
    pub(crate) fn root() -> Self {
        Path::Root
    }

    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
        Path::Key(self, key)
    }

    pub(crate) fn render(&self) -> String {
        match self {
            Path::Root => "$".to_owned(),
            Path::Key(parent, key) => {
                let mut s = parent.render();
                // Keys come from the document (a backend's answer): bound what is echoed.
                let key: std::borrow::Cow<'_, str> = if key.chars().count() > MAX_KEY_SHOWN {
                    let cut: String = key.chars().take(MAX_KEY_SHOWN).collect();
                    format!("{cut}...").into()
                } else {
                    (*key).into()
                };
                let plain =
                    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if plain {
                    s.push('.');
                    s.push_str(&key);
                } else {
                    s.push_str(&format!("[{key:?}]"));
                }
                s
            }
        }
    }
}

/// The value as an object, or a decoding error at `path`.
pub(crate) fn expect_object<'v>(
    value: &'v Value,
    path: &Path<'_>,
) -> Result<&'v Map<String, Value>, Error> {
    value.as_object().ok_or_else(|| {
        Error::decode(
            path.render(),
            format!("expected an object, found {}", type_name(value)),
        )
    })
}

/// The JSON type of a value, in words.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The kind of a serde_json error in words, without its message (which may quote the input).
pub(crate) fn json_error_kind(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "wrong data",
        serde_json::error::Category::Eof => "truncated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_paths() {
        let root = Path::root();
        let a = root.key("result");
        let b = a.key("odd key");
        assert_eq!(b.render(), "$.result[\"odd key\"]");
        let long = "k".repeat(500);
        let c = a.key(&long);
        assert!(c.render().len() < 80);
    }
}
