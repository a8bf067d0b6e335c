//! A backend that answers `POST /v1/calls` with whatever a test decides: for answers the
//! simulator never gives (hostile labels and step names). One request per connection. It
//! remembers the transaction id of each call it received.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// The answer to one call: the envelope's `result` (SUCCEEDED) or `error` (FAILED).
pub(crate) enum Answer {
    /// SUCCEEDED with this result.
    Result(Value),
    /// FAILED with this code and label.
    Error(u32, String),
}

/// The calls received: (API, transaction id), in order.
type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A fake backend on 127.0.0.1; it stops with the test process.
pub(crate) struct FakeBackend {
    url: String,
    received: Received,
}

impl FakeBackend {
    /// Starts it; `answer` gets the API name and the parameters of each call.
    pub(crate) fn start(answer: impl Fn(&str, &Value) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answer = Arc::new(answer);
        let received = Received::default();
        let record = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let answer = Arc::clone(&answer);
                let record = Arc::clone(&record);
                std::thread::spawn(move || serve(stream, &*answer, &record));
            }
        });
        FakeBackend { url, received }
    }

    /// Its base URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The transaction ids of the calls to `api` it received, in order.
    pub(crate) fn transaction_ids(&self, api: &str) -> Vec<String> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(a, _)| a == api)
            .map(|(_, tid)| tid.clone())
            .collect()
    }
}

fn serve(stream: TcpStream, answer: &dyn Fn(&str, &Value) -> Answer, received: &Received) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let call: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let api = call["api"].as_str().unwrap_or_default();
    let tid = call["transactionId"].clone();
    received
        .lock()
        .unwrap()
        .push((api.to_owned(), tid.as_str().unwrap_or_default().to_owned()));
    let envelope = match answer(api, &call["parameters"]) {
        Answer::Result(result) => {
            json!({"transactionId": tid, "status": "SUCCEEDED", "result": result})
        }
        Answer::Error(code, label) => {
            json!({"transactionId": tid, "status": "FAILED", "error": {"code": code, "label": label}})
        }
    };
    let body = envelope.to_string();
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}
