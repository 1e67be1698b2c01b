//! The HTTP ceiling for docs/benchmarks.md: a minimal axum handler that answers a constant,
//! served like the service (same runtime, same axum), so `wrk` against it measures what
//! HTTP alone costs on this machine.
//!
//! Usage: constant [ADDR] (default 127.0.0.1:8790)

use axum::routing::get;

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| String::from("127.0.0.1:8790"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let app = axum::Router::new().route(
            "/",
            get(|| async { r#"{"allowed":true,"reason":"GRANT_ACTIVE"}"# }),
        );
        let l = tokio::net::TcpListener::bind(&addr).await.expect("bind");
        axum::serve(l, app).await.expect("serve");
    });
}
