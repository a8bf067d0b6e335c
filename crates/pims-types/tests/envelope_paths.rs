//! `Message::from_slice` (with its fast path for successes) decides exactly like the `Value`
//! path (`Message::from_value` of the parsed document), for inputs the property tests do not
//! generate: unknown fields the fast decoder would skip without the Value path's checks,
//! duplicate keys, nesting around serde_json's limit. (Cases found by an independent review.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pims_types::Message;

/// What `from_slice` did before the fast path.
fn value_path(bytes: &[u8]) -> Result<Message, String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    Message::from_value(&v).map_err(|e| e.to_string())
}

fn agree(bytes: &[u8]) {
    let fast = Message::from_slice(bytes);
    let slow = value_path(bytes);
    assert_eq!(
        fast.as_ref().ok(),
        slow.as_ref().ok(),
        "{}: from_slice {:?}, Value path {:?}",
        String::from_utf8_lossy(bytes),
        fast.as_ref().err().map(ToString::to_string),
        slow.as_ref().err()
    );
}

const HEAD: &str = r#"{"transactionId":"a","status":"SUCCEEDED","result":null,"x":"#;

#[test]
fn unknown_fields_are_checked_like_the_value_path_checks_them() {
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    agree(format!("{HEAD}{deep}}}").as_bytes()); // nested too deep
    agree(format!(r#"{HEAD}"\ud800"}}"#).as_bytes()); // a lone surrogate
    agree(format!("{HEAD}1e400}}").as_bytes()); // out of range
    let mut bytes = format!(r#"{HEAD}""#).into_bytes();
    bytes.extend_from_slice(&[0xff, 0xfe]); // not UTF-8
    bytes.extend_from_slice(br#""}"#);
    agree(&bytes);
    // And the refusals are refusals.
    assert!(Message::from_slice(format!("{HEAD}1e400}}").as_bytes()).is_err());
}

#[test]
fn ordinary_and_odd_envelopes_agree() {
    for b in [
        &br#"{"transactionId":"a","status":"SUCCEEDED"}"#[..],
        br#"{"transactionId":"a","status":"SUCCEEDED","error":null,"result":1}"#,
        br#"{"transactionId":"a","status":"SUCCEEDED","result":1,"result":2}"#,
        br#"{"transactionId":1,"status":"SUCCEEDED"}"#,
        br#"{"transactionId":"a","status":"SUCCEEDED"} x"#,
        br#"["a","SUCCEEDED"]"#,
        br#"{"transactionId":"a\u0062","status":"RESULT","result":{"k":"\u00e9"}}"#,
        br#"{"transactionId":"a","status":"FAILED","error":{"code":2346,"label":"x"}}"#,
        br#"{"transactionId":"a","status":"SUCCEEDED","error":{"code":2346,"label":"x"}}"#,
        br#"{"transactionId":"a","status":"SUCCEEDED","x":{"y":[1,2,{"z":null}]}}"#,
    ] {
        agree(b);
    }
}

#[test]
fn results_nested_around_the_limit_agree() {
    for n in [120usize, 126, 127, 128, 129, 130] {
        let deep = format!("{}{}", "[".repeat(n), "]".repeat(n));
        agree(
            format!(r#"{{"transactionId":"a","status":"SUCCEEDED","result":{deep}}}"#).as_bytes(),
        );
    }
}
