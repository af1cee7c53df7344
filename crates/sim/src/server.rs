use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::record::RequestLog;

/// A simulator listening on a loopback port. Dropping it stops the server.
pub struct Running {
    pub addr: SocketAddr,
    log: RequestLog,
    task: JoinHandle<()>,
}

impl Running {
    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request this server received, in arrival order (faulted ones included).
    pub fn request_log(&self) -> &RequestLog {
        &self.log
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `router` on `127.0.0.1:port` (0 picks a free port), recording every request so
/// each simulator has a [`RequestLog`] without wiring one itself.
pub async fn serve(router: axum::Router, port: u16) -> std::io::Result<Running> {
    let log = RequestLog::default();
    let router = router.layer(axum::middleware::from_fn_with_state(
        log.clone(),
        crate::record::layer,
    ));
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(Running { addr, log, task })
}
