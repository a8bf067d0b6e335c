//! A small HTTP/1.1 client (hyper's) and helpers to drive a simulator over real HTTP.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;

use pims_sim::{DEMO_PHONE_NUMBER, DEMO_TOKEN, Scenario, SimConfig, SimServer};

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends one request on a fresh connection.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Result<Answer, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let request = builder.body(Full::new(body.into())).unwrap();
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

static TID: AtomicU64 = AtomicU64::new(1);

/// A fresh transaction id in the documentation's shape.
pub fn tid() -> String {
    pims_types::TransactionId::from_u64(0x953c_0000_0000 + TID.fetch_add(1, Ordering::Relaxed))
        .as_str()
        .to_owned()
}

/// A running simulator and the identity of the calls made to it.
pub struct Sim {
    pub server: SimServer,
}

/// What a call answered: HTTP status and the envelope.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub envelope: Value,
    pub answer: Answer,
}

impl Reply {
    pub fn result(&self) -> &Value {
        assert_eq!(
            self.envelope["status"], "SUCCEEDED",
            "expected success, got {}",
            self.envelope
        );
        &self.envelope["result"]
    }

    /// (HTTP status, error code, label).
    pub fn error(&self) -> (u16, u64, String) {
        assert_eq!(
            self.envelope["status"], "FAILED",
            "expected a failure, got {}",
            self.envelope
        );
        assert!(self.envelope.get("result").is_none(), "{}", self.envelope);
        (
            self.status,
            self.envelope["error"]["code"].as_u64().unwrap(),
            self.envelope["error"]["label"].as_str().unwrap().to_owned(),
        )
    }

    pub fn code(&self) -> u64 {
        self.error().1
    }
}

impl Sim {
    pub async fn start() -> Sim {
        Sim::with_config(SimConfig::default()).await
    }

    pub async fn with_scenario(scenario: Scenario) -> Sim {
        Sim::with_config(SimConfig::default().scenario(scenario)).await
    }

    pub async fn with_config(config: SimConfig) -> Sim {
        Sim {
            server: SimServer::start(config).await.unwrap(),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// A call with explicit token and device (None: header left out).
    pub async fn call_as(
        &self,
        token: Option<&str>,
        device: Option<&str>,
        verb: &str,
        api: &str,
        parameters: Value,
    ) -> Reply {
        let transaction_id = tid();
        let body = json!({"transactionId": transaction_id, "verb": verb, "api": api,
                          "parameters": parameters});
        let reply = self.raw_call(token, device, &[], body.to_string()).await;
        assert_eq!(
            reply.envelope["transactionId"], transaction_id,
            "the answer must echo the transactionId"
        );
        reply
    }

    /// A call with the demo token.
    pub async fn call(&self, device: &str, verb: &str, api: &str, parameters: Value) -> Reply {
        self.call_as(Some(DEMO_TOKEN), Some(device), verb, api, parameters)
            .await
    }

    /// A call with any body and extra headers.
    pub async fn raw_call(
        &self,
        token: Option<&str>,
        device: Option<&str>,
        extra: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = vec![("content-type", "application/json")];
        if let Some(a) = &auth {
            headers.push(("authorization", a));
        }
        if let Some(d) = device {
            headers.push(("pims-device-id", d));
        }
        headers.extend_from_slice(extra);
        let answer = send(self.addr(), "POST", "/v1/calls", &headers, body)
            .await
            .unwrap();
        let envelope = answer.json();
        Reply {
            status: answer.status,
            envelope,
            answer,
        }
    }

    /// An admin request with the admin token.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let auth = format!("Bearer {}", self.server.admin_token());
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let answer = send(
            self.addr(),
            method,
            path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body,
        )
        .await
        .unwrap();
        (answer.status, answer.json())
    }

    /// Asks for a phone-number certification SMS from `device` (demo account) and returns the
    /// code sent.
    pub async fn certification_code(&self, device: &str, phone: &str) -> String {
        self.call(
            device,
            "get",
            "pims.authentication.smscode",
            json!({"type": "phoneNumberCertification", "phoneNumber": phone}),
        )
        .await
        .result();
        self.latest_code(phone).await
    }

    /// The newest code sent to a number, read from the admin outbox.
    pub async fn latest_code(&self, phone: &str) -> String {
        let (status, outbox) = self
            .admin(
                "GET",
                &format!("/admin/sms?phoneNumber={}", phone.replace('+', "%2B")),
                None,
            )
            .await;
        assert_eq!(status, 200, "{outbox}");
        outbox["messages"][0]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no SMS for {phone}: {outbox}"))
            .to_owned()
    }

    /// The documentation's steps request (demo association, all steps) from a device.
    pub async fn demo_steps_call(&self, device: &str) -> Reply {
        self.call(
            device,
            "get",
            "pims.subscription.steps",
            json!({"carAssociationID": "987654", "resetSteps": false, "stepsStatus": "all"}),
        )
        .await
    }

    /// The steps of the demo association as a device sees them: (stepsID, statuses in order).
    pub async fn demo_steps(&self, device: &str) -> (u64, Vec<String>) {
        statuses(self.demo_steps_call(device).await.result())
    }

    /// Enrols a device of the demo account with an SMS code and a PIN (the documented order).
    pub async fn enroll_demo(&self, device: &str, pin: &str) {
        self.enroll(DEMO_TOKEN, DEMO_PHONE_NUMBER, device, pin)
            .await;
    }

    /// Enrols a device of any account whose trusted number is `phone`.
    pub async fn enroll(&self, token: &str, phone: &str, device: &str, pin: &str) {
        let t = Some(token);
        let d = Some(device);
        let r = self
            .call_as(
                t,
                d,
                "get",
                "pims.authentication.smscode",
                json!({"type": "enrollment"}),
            )
            .await;
        assert!(r.envelope["status"] == "SUCCEEDED", "{}", r.envelope);
        let code = self.latest_code(phone).await;
        let r = self
            .call_as(
                t,
                d,
                "set",
                "pims.authentication.smscode",
                json!({"action": "enrollment", "smsCode": code}),
            )
            .await;
        r.result();
        let r = self
            .call_as(
                t,
                d,
                "set",
                "pims.authentication.enrollment",
                json!({"action": "enroll", "pinCode": pin, "smsCode": code}),
            )
            .await;
        assert!(r.envelope["status"] == "SUCCEEDED", "{}", r.envelope);
    }
}

/// (stepsID, [status of each step in key order]) of a list result; also checks the shape.
pub fn statuses(result: &Value) -> (u64, Vec<String>) {
    let map = result.as_object().unwrap();
    let mut keys = map.keys();
    assert_eq!(keys.next().map(String::as_str), Some("stepsID"), "{result}");
    let id = result["stepsID"].as_u64().expect("stepsID is a number");
    let mut out = Vec::new();
    let mut last_order = 0;
    for key in keys {
        let step = &map[key];
        assert_eq!(step["name"], key.as_str());
        let order = step["order"].as_i64().unwrap();
        assert!(order > last_order, "keys in ascending order: {result}");
        last_order = order;
        out.push(step["status"].as_str().unwrap().to_owned());
    }
    (id, out)
}

/// A scenario with `n` accounts `user-i` (token `token-i`, phone +3360000xxxx, car
/// association `assoc-i` on one shared vehicle).
pub fn many_accounts(n: usize) -> Scenario {
    let mut s = Scenario::default_scenario();
    for i in 0..n {
        let mut account = pims_sim::AccountSpec::new(format!("user-{i}"), format!("token-{i}"));
        account.trusted_phone_number = Some(phone_of(i));
        s.accounts.push(account);
        s.car_associations.push(pims_sim::CarAssociationSpec {
            id: format!("assoc-{i}"),
            account_id: format!("user-{i}"),
            service_code: "REMOTE_COMMANDS".into(),
            vin: pims_sim::DEMO_VIN.into(),
            steps: vec![
                "trusterPhoneNumber".into(),
                "deviceActivation".into(),
                "mediumCarKey".into(),
            ],
        });
    }
    s
}

pub fn phone_of(i: usize) -> String {
    format!("+336000{i:05}")
}
