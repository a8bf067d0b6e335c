//! What goes on stdout: readable tables, or (`--json`) the SDK's message envelope on one line.
//!
//! Secret-valued keys of a result (`otp`, `securityCode`, ...) are shown as `[REDACTED]` in
//! both forms: the terminal is a place logs and screenshots are made from.

use pims_types::{Message, REDACTED, Step, StepsList, is_secret_key};
use serde_json::Value;

use crate::style::Style;

/// Writes to stdout; a closed pipe (`pims steps | head -1`) is not an error worth a panic.
pub(crate) fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

/// [`out`] with a newline.
pub(crate) fn out_line(text: &str) {
    out(&format!("{text}\n"));
}

/// `value` with every secret-valued key replaced by [`REDACTED`], at any depth.
pub(crate) fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let shown = if is_secret_key(k) && !v.is_null() {
                        Value::String(REDACTED.into())
                    } else {
                        redact(v)
                    };
                    (k.clone(), shown)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// The envelope on one line, secrets redacted.
pub(crate) fn json_line(message: &Message) -> String {
    redact(&message.to_value()).to_string()
}

/// Left-aligned columns, two spaces apart; the first row is the heading.
fn columns(style: &Style, rows: &[Vec<String>], colour: impl Fn(usize, &str) -> String) -> String {
    let count = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..count)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let last = c + 1 == row.len();
            let pad = if last {
                0
            } else {
                widths[c].saturating_sub(cell.chars().count()) + 2
            };
            let shown = if i == 0 {
                style.bold(cell)
            } else {
                colour(c, cell)
            };
            line.push_str(&shown);
            line.push_str(&" ".repeat(pad));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A plain table; the first row is the heading.
pub(crate) fn table(style: &Style, rows: &[Vec<String>]) -> String {
    columns(style, rows, |_, cell| cell.to_owned())
}

/// A step list: its stepsID, then one row per step (step, status, order).
pub(crate) fn steps_table(style: &Style, list: &StepsList) -> String {
    let mut out = format!("stepsID {}\n", list.steps_id());
    if list.is_empty() {
        out.push_str(&style.dim("no step with this status\n"));
        return out;
    }
    let mut rows = vec![vec!["STEP".to_owned(), "STATUS".into(), "ORDER".into()]];
    for step in list.steps() {
        rows.push(vec![
            step.name.to_string(),
            step.status.as_str().to_owned(),
            step.order.to_string(),
        ]);
    }
    out.push_str(&columns(style, &rows, |c, cell| {
        if c == 1 {
            style.status(cell)
        } else {
            cell.to_owned()
        }
    }));
    out
}

/// The answer of `pims.subscription.step`.
pub(crate) fn next_step(style: &Style, steps_id: &str, step: Option<&Step>) -> String {
    match step {
        Some(step) => format!(
            "next step of list {steps_id}: {} ({}, order {})\n",
            style.bold(step.name.as_str()),
            style.status(step.status.as_str()),
            step.order
        ),
        None => format!("nothing to do: every step of list {steps_id} is alreadyDone\n"),
    }
}

/// The services of a vehicle (`{"services": [{"code", "name"}]}`), or the raw result.
pub(crate) fn services(style: &Style, result: &Value) -> String {
    let Some(list) = result.get("services").and_then(Value::as_array) else {
        return any_result(Some(result));
    };
    if list.is_empty() {
        return "no connected service for this vehicle\n".into();
    }
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let mut rows = vec![vec!["CODE".to_owned(), "NAME".into()]];
    rows.extend(list.iter().map(|s| vec![text(s, "code"), text(s, "name")]));
    columns(style, &rows, |_, cell| cell.to_owned())
}

/// Any result: pretty JSON (secrets redacted), or a word when there is none.
pub(crate) fn any_result(result: Option<&Value>) -> String {
    match result {
        None => "SUCCEEDED (no result)\n".into(),
        Some(Value::Null) => "SUCCEEDED (result: null)\n".into(),
        Some(v) => {
            let mut s = serde_json::to_string_pretty(&redact(v)).unwrap_or_else(|_| v.to_string());
            s.push('\n');
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pims_types::{StepName, StepStatus, StepsId, TransactionId};
    use serde_json::json;

    fn example() -> StepsList {
        StepsList::new(
            StepsId::number(132324),
            vec![
                Step::new(StepName::TrusterPhoneNumber, StepStatus::AlreadyDone, 1),
                Step::new(StepName::DeviceActivation, StepStatus::Todo, 2),
                Step::new(StepName::MediumCarKey, StepStatus::Todo, 3),
            ],
        )
    }

    #[test]
    fn the_table_has_step_status_order() {
        let t = steps_table(&Style::plain(), &example());
        assert_eq!(
            t,
            "stepsID 132324\n\
             STEP                STATUS       ORDER\n\
             trusterPhoneNumber  alreadyDone  1\n\
             deviceActivation    todo         2\n\
             mediumCarKey        todo         3\n"
        );
    }

    #[test]
    fn secrets_are_redacted_everywhere() {
        let m = Message::succeeded(
            TransactionId::generate(),
            json!({"otp": "CANARY-OTP", "nested": [{"securityCode": "CANARY-SC"}], "vin": "V"}),
        );
        let line = json_line(&m);
        assert!(!line.contains("CANARY"), "{line}");
        assert!(line.contains("\"vin\":\"V\""), "{line}");
        assert!(!any_result(m.result()).contains("CANARY"));
    }

    #[test]
    fn next_step_says_when_nothing_is_left() {
        assert_eq!(
            next_step(&Style::plain(), "132324", None),
            "nothing to do: every step of list 132324 is alreadyDone\n"
        );
        let step = Step::new(StepName::MediumCarKey, StepStatus::Todo, 3);
        assert!(
            next_step(&Style::plain(), "1", Some(&step)).contains("mediumCarKey (todo, order 3)")
        );
    }

    #[test]
    fn services_are_a_table() {
        let t = services(
            &Style::plain(),
            &json!({"services": [{"code": "RC", "name": "Remote Commands"}]}),
        );
        assert_eq!(t, "CODE  NAME\nRC    Remote Commands\n");
    }
}
