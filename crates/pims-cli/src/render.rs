//! What goes on stdout: readable tables, or (`--json`) the SDK's message envelope on one line.
//!
//! Secret-valued keys of a result (`otp`, `securityCode`, ...) are shown as `[REDACTED]` in
//! both forms: the terminal is a place logs and screenshots are made from. In the readable
//! form, phone numbers and VINs are masked too (last 3 characters) and every text that came
//! from the backend or the disk is escaped ([`crate::escape`]); `--json` keeps them, as the
//! envelope a program reads.

use pims::types::{redacted, redacted_masked};
use pims::{Message, Step, StepsList};
use serde_json::Value;

use crate::escape::{escape, escape_lines};
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

/// `pims: warning: <text>` on stderr, the text escaped.
pub(crate) fn warn(text: &str) {
    eprintln!("pims: warning: {}", escape(text));
}

/// serde_json's compact form, except that the characters a terminal may act on and JSON
/// leaves as they are (DEL, C1 controls, bidirectional controls) are written as `\u` escapes.
struct TerminalSafe;

impl serde_json::ser::Formatter for TerminalSafe {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        for c in fragment.chars() {
            if crate::escape::harmless(c) {
                writer.write_all(c.encode_utf8(&mut [0; 4]).as_bytes())?;
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

/// `value` as one line of JSON that is safe on a terminal (the same value for a JSON reader).
pub(crate) fn json_text(value: &Value) -> String {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, TerminalSafe);
    match serde::Serialize::serialize(value, &mut serializer) {
        // serde_json writes UTF-8 only.
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        Err(_) => value.to_string(),
    }
}

/// The envelope on one line, secrets redacted ([`redacted`]), safe on a terminal ([`json_text`]).
pub(crate) fn json_line(message: &Message) -> String {
    json_text(&redacted(&message.to_value()))
}

/// Left-aligned columns, two spaces apart; the first row is the heading. Cells are escaped.
fn columns(style: &Style, rows: &[Vec<String>], colour: impl Fn(usize, &str) -> String) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| escape(c).into_owned()).collect())
        .collect();
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

/// A plain table; the first row is the heading. Every cell is escaped here, so a caller
/// passes the values as they are.
pub(crate) fn table(style: &Style, rows: &[Vec<String>]) -> String {
    columns(style, rows, |_, cell| cell.to_owned())
}

/// A step list: its stepsID, then one row per step (step, status, order).
pub(crate) fn steps_table(style: &Style, list: &StepsList) -> String {
    let mut out = format!("stepsID {}\n", escape(list.steps_id().as_str()));
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
            "next step of list {}: {} ({}, order {})\n",
            escape(steps_id),
            style.bold(&escape(step.name.as_str())),
            style.status(&escape(step.status.as_str())),
            step.order
        ),
        None => format!(
            "nothing to do: every step of list {} is alreadyDone\n",
            escape(steps_id)
        ),
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

/// Any result: pretty JSON as shown on screen (secrets redacted and identifiers masked:
/// [`redacted_masked`]; escaped), or a word when there is none.
pub(crate) fn any_result(result: Option<&Value>) -> String {
    match result {
        None => "SUCCEEDED (no result)\n".into(),
        Some(Value::Null) => "SUCCEEDED (result: null)\n".into(),
        Some(v) => {
            let shown = redacted_masked(v);
            let pretty = serde_json::to_string_pretty(&shown).unwrap_or_else(|_| shown.to_string());
            let mut s = escape_lines(&pretty).into_owned();
            s.push('\n');
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pims::{StepName, StepStatus, StepsId, TransactionId};
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
    fn phone_numbers_and_vins_are_masked_on_screen_only() {
        let m = Message::succeeded(
            TransactionId::generate(),
            json!({"phoneNumber": "+33612345678", "vehicles": [{"vin": "VR1AB12C3D4567890"}]}),
        );
        let shown = any_result(m.result());
        assert!(shown.contains("*********678"), "{shown}");
        assert!(shown.contains("**************890"), "{shown}");
        assert!(!shown.contains("+33612345678"), "{shown}");
        assert!(!shown.contains("VR1AB12C3D4567890"), "{shown}");
        // The envelope a program reads keeps them.
        assert!(json_line(&m).contains("+33612345678"));
    }

    #[test]
    fn identifiers_in_a_list_are_masked_on_screen_too() {
        // The one walker of pims-types: array items inherit their key, as in Debug output.
        let result = json!({"vin": ["VR1AB12C3D4567890"], "otp": ["CANARY-1"]});
        let shown = any_result(Some(&result));
        assert!(shown.contains("**************890"), "{shown}");
        assert!(
            !shown.contains("VR1AB12C3D4567890") && !shown.contains("CANARY"),
            "{shown}"
        );
    }

    #[test]
    fn backend_text_reaches_the_screen_escaped() {
        let hostile = "\x1b[2J\x1b[Hpims: all good";
        let list = StepsList::new(
            StepsId::number(1),
            vec![Step::new(StepName::parse(hostile), StepStatus::Todo, 1)],
        );
        let table = steps_table(&Style::plain(), &list);
        assert!(!table.contains('\x1b'), "{table}");
        assert!(table.contains("\\u{1b}[2J"), "{table}");
        let step = Step::new(StepName::parse(hostile), StepStatus::Todo, 1);
        assert!(!next_step(&Style::plain(), "1", Some(&step)).contains('\x1b'));
        let result = json!({"label": "\u{9b}2J", "services": "x"});
        assert!(!any_result(Some(&result)).contains('\u{9b}'));
        let services = services(
            &Style::plain(),
            &json!({"services": [{"code": hostile, "name": "\r"}]}),
        );
        assert!(
            !services.contains('\x1b') && !services.contains('\r'),
            "{services}"
        );
    }

    #[test]
    fn json_lines_are_the_same_value_and_safe_on_a_terminal() {
        let value = json!({"a\u{9b}": ["\x1b[2J\u{7f}\u{202e}é✓\"\\", 1, null]});
        let text = json_text(&value);
        assert!(
            !text.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{text}"
        );
        assert!(
            text.contains("\\u009b") && text.contains("\\u202e"),
            "{text}"
        );
        assert!(text.contains("é✓"), "{text}");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
        assert_eq!(json_text(&json!({"k": "v"})), r#"{"k":"v"}"#);
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
