//! B6's baseline: an axum handler that answers every `POST /v1/calls` with one constant
//! envelope, served the way pims-sim serves (hyper HTTP/1.1, one task per connection,
//! `TCP_NODELAY`), so the ratio isolates what the simulator does per call.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::Router;
use axum::routing::post;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::ServiceExt;

/// A server on 127.0.0.1 answering a constant body to `POST /v1/calls`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let server = pims_bench::ConstantServer::start(bytes::Bytes::from_static(b"{}")).await.unwrap();
/// assert!(server.base_url().starts_with("http://127.0.0.1:"));
/// server.shutdown().await;
/// # }
/// ```
#[derive(Debug)]
pub struct ConstantServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ConstantServer {
    /// Starts on a free port of 127.0.0.1, on the current runtime.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let s = pims_bench::ConstantServer::start(bytes::Bytes::from_static(b"{}")).await.unwrap();
    /// assert_ne!(s.addr().port(), 0);
    /// # s.shutdown().await; }
    /// ```
    pub async fn start(envelope: Bytes) -> std::io::Result<ConstantServer> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let router = Router::new().route(
            pims_types::CALLS_PATH,
            post(move || {
                let body = envelope.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        body,
                    )
                }
            }),
        );
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    accepted = listener.accept() => if let Ok((stream, _)) = accepted {
                        tokio::spawn(connection(stream, router.clone()));
                    },
                }
            }
        });
        Ok(ConstantServer { addr, stop, task })
    }

    /// The bound address.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let s = pims_bench::ConstantServer::start(bytes::Bytes::new()).await.unwrap();
    /// assert!(s.addr().ip().is_loopback());
    /// # s.shutdown().await; }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let s = pims_bench::ConstantServer::start(bytes::Bytes::new()).await.unwrap();
    /// assert!(s.base_url().ends_with(&s.addr().port().to_string()));
    /// # s.shutdown().await; }
    /// ```
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections (open ones end with their clients).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// pims_bench::ConstantServer::start(bytes::Bytes::new()).await.unwrap().shutdown().await;
    /// # }
    /// ```
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn connection(stream: TcpStream, router: Router) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let router = router.clone();
        async move { Ok::<_, Infallible>(router.oneshot(request).await.unwrap_or_else(|e| match e {})) }
    });
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
