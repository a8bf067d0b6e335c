//! A hand-written, misbehaving HTTP/1.1 server on 127.0.0.1:0: it reads each request itself
//! (so it counts exactly what reached it) and answers with raw bytes chosen per request by a
//! script: a well-formed envelope, garbage, a reset, silence, a drip, an endless body...
#![allow(dead_code)] // Each test file uses its own part of this support module.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pims_types::{Message, TransactionId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server read it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) target: String,
    /// Header names lowercased, in order.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub(crate) fn transaction_id(&self) -> TransactionId {
        let v = self.json();
        TransactionId::parse(v["transactionId"].as_str().unwrap_or("missing")).unwrap()
    }
}

/// What the server does with one request.
pub(crate) enum Action {
    /// Write these bytes, then close.
    Reply(Vec<u8>),
    /// Keep the connection open and never write.
    Never,
    /// Abort the connection (TCP RST) without answering.
    Reset,
    /// Write `head`, then one body byte per `interval`, forever.
    Drip { head: Vec<u8>, interval: Duration },
    /// Write a chunked head, then 16 KiB chunks until the client goes away.
    EndlessChunked,
}

pub(crate) type Respond = Arc<dyn Fn(&Request) -> Action + Send + Sync>;

pub(crate) fn respond(f: impl Fn(&Request) -> Action + Send + Sync + 'static) -> Respond {
    Arc::new(f)
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Request>>,
    endless_written: AtomicU64,
    endless_stopped: AtomicBool,
}

pub(crate) struct FakeServer {
    pub(crate) addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FakeServer {
    /// Starts a server; request `n` (0-based, in arrival order) gets `script[n]`, and requests
    /// past the end get the last entry.
    pub(crate) async fn start(script: Vec<Respond>) -> FakeServer {
        assert!(!script.is_empty());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let state = shared.clone();
        let script = Arc::new(script);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = state.clone();
                let script = script.clone();
                tokio::spawn(async move { serve(stream, state, script).await });
            }
        });
        FakeServer { addr, shared }
    }

    /// Every request gets the same answer.
    pub(crate) async fn always(
        f: impl Fn(&Request) -> Action + Send + Sync + 'static,
    ) -> FakeServer {
        FakeServer::start(vec![respond(f)]).await
    }

    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// How many complete requests reached the server.
    pub(crate) fn count(&self) -> usize {
        self.shared.requests.lock().unwrap().len()
    }

    /// Bytes of endless body written before the client went away, once it did.
    pub(crate) fn endless_stopped_after(&self) -> Option<u64> {
        self.shared
            .endless_stopped
            .load(Ordering::SeqCst)
            .then(|| self.shared.endless_written.load(Ordering::SeqCst))
    }
}

async fn serve(mut stream: TcpStream, state: Arc<Shared>, script: Arc<Vec<Respond>>) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let index = {
        let mut requests = state.requests.lock().unwrap();
        requests.push(request.clone());
        requests.len() - 1
    };
    let action = (script[index.min(script.len() - 1)])(&request);
    match action {
        Action::Reply(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.flush().await;
            let _ = stream.shutdown().await;
            // Drain what the client may still send, so closing does not turn into a reset.
            let mut sink = [0u8; 1024];
            let _ = tokio::time::timeout(Duration::from_secs(5), async {
                while let Ok(n) = stream.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
            })
            .await;
        }
        Action::Never => {
            let mut sink = [0u8; 1024];
            while let Ok(n) = stream.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        }
        Action::Reset => {
            let _ = stream.set_zero_linger();
            drop(stream);
        }
        Action::Drip { head, interval } => {
            if stream.write_all(&head).await.is_err() {
                return;
            }
            loop {
                tokio::time::sleep(interval).await;
                if stream.write_all(b" ").await.is_err() {
                    return;
                }
            }
        }
        Action::EndlessChunked => {
            let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
            if stream.write_all(head).await.is_err() {
                return;
            }
            let mut chunk = format!("{:x}\r\n", 16 * 1024).into_bytes();
            chunk.extend(std::iter::repeat_n(b'[', 16 * 1024));
            chunk.extend_from_slice(b"\r\n");
            while stream.write_all(&chunk).await.is_ok() {
                state.endless_written.fetch_add(16 * 1024, Ordering::SeqCst);
            }
            state.endless_stopped.store(true, Ordering::SeqCst);
        }
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

/// A raw HTTP/1.1 answer with a Content-Length and `Connection: close`.
pub(crate) fn http(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} Status\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// An answer carrying this envelope as JSON.
pub(crate) fn envelope(status: u16, message: &Message) -> Action {
    Action::Reply(http(
        status,
        &[("Content-Type", "application/json")],
        message.to_json_string().as_bytes(),
    ))
}

/// 200 SUCCEEDED for the request's transaction id.
pub(crate) fn ok_for(request: &Request) -> Action {
    envelope(
        200,
        &Message::succeeded(request.transaction_id(), serde_json::json!({"ok": true})),
    )
}

/// A status with an empty body.
pub(crate) fn bare(status: u16) -> Action {
    Action::Reply(http(status, &[], b""))
}

/// Bounds a test that must not hang (never a speed assertion).
pub(crate) async fn did_not_hang<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("the call hung")
}
