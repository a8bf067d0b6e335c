//! The clients the HTTP figures drive: the facade, a raw reqwest POST of the same call body,
//! and a bare hyper HTTP/1.1 connection (B6, to load the servers with as little client work
//! as possible).

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use pims::Pims;
use pims_types::StepsSelector;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};

use crate::loadgen::Caller;

/// What every raw client sends: the same call body, device id and token as the facade.
#[derive(Debug, Clone)]
pub(crate) struct CallTemplate {
    /// `http://127.0.0.1:<port>/v1/calls`.
    pub(crate) url: reqwest::Url,
    /// The JSON body of the call.
    pub(crate) body: Bytes,
    /// The `Pims-Device-Id` header.
    pub(crate) device_id: HeaderValue,
    /// The `Authorization` header.
    pub(crate) authorization: HeaderValue,
}

impl CallTemplate {
    pub(crate) fn new(
        url: &str,
        body: String,
        device_id: &str,
        token: &str,
    ) -> Result<Self, String> {
        Ok(CallTemplate {
            url: reqwest::Url::parse(url).map_err(|e| format!("{url}: {e}"))?,
            body: Bytes::from(body),
            device_id: HeaderValue::from_str(device_id).map_err(|e| e.to_string())?,
            authorization: HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|e| e.to_string())?,
        })
    }

    /// The same call against another server (the constant-envelope baseline).
    #[cfg(test)]
    pub(crate) fn with_base(&self, base_url: &str) -> Result<Self, String> {
        let url = format!("{base_url}{}", pims_types::CALLS_PATH);
        Ok(CallTemplate {
            url: reqwest::Url::parse(&url).map_err(|e| format!("{url}: {e}"))?,
            ..self.clone()
        })
    }
}

/// `pims.steps(selector).send()`.
pub(crate) struct FacadeCaller {
    pub(crate) pims: Pims,
    pub(crate) selector: StepsSelector,
}

impl Caller for FacadeCaller {
    async fn call(&mut self) -> Result<(), String> {
        let steps = self
            .pims
            .steps(self.selector.clone())
            .send()
            .await
            .map_err(|e| format!("{} {}", e.code(), e))?;
        if steps.is_empty() {
            return Err("an empty list".into());
        }
        Ok(())
    }
}

/// A raw reqwest POST of the call body; reads the whole answer.
pub(crate) struct ReqwestCaller {
    pub(crate) client: reqwest::Client,
    pub(crate) call: CallTemplate,
}

impl Caller for ReqwestCaller {
    async fn call(&mut self) -> Result<(), String> {
        let response = self
            .client
            .post(self.call.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .header(pims_types::DEVICE_ID_HEADER, self.call.device_id.clone())
            .header(AUTHORIZATION, self.call.authorization.clone())
            .body(self.call.body.clone())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        response.bytes().await.map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// One kept-alive HTTP/1.1 connection made with hyper directly.
pub(crate) struct HyperCaller {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
    call: CallTemplate,
}

impl HyperCaller {
    pub(crate) async fn connect(addr: SocketAddr, call: CallTemplate) -> Result<Self, String> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let host = HeaderValue::from_str(&addr.to_string()).map_err(|e| e.to_string())?;
        Ok(HyperCaller { sender, host, call })
    }
}

impl Caller for HyperCaller {
    async fn call(&mut self) -> Result<(), String> {
        self.sender.ready().await.map_err(|e| e.to_string())?;
        let request = hyper::Request::post(pims_types::CALLS_PATH)
            .header(HOST, self.host.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .header(pims_types::DEVICE_ID_HEADER, self.call.device_id.clone())
            .header(AUTHORIZATION, self.call.authorization.clone())
            .body(Full::new(self.call.body.clone()))
            .map_err(|e| e.to_string())?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}
