//! The HTTP server every listener runs on (`platform::http`), at shutdown: requests in flight
//! are answered before it stops, for at most `SHUTDOWN_GRACE`; no new connection is taken.

use std::sync::Arc;
use std::time::{Duration, Instant};

use atlasbot::platform::http::{serve, Answer, Handler, Limits, SHUTDOWN_GRACE};
use bytes::Bytes;
use http_body_util::Full;

/// Answers after the number of milliseconds the path names (`/1000`).
struct Slow;

impl Handler for Slow {
    fn handle(
        &self,
        req: hyper::Request<hyper::body::Incoming>,
        _: std::net::IpAddr,
    ) -> Answer<'_> {
        let ms: u64 = req
            .uri()
            .path()
            .trim_start_matches('/')
            .parse()
            .unwrap_or(0);
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            hyper::Response::new(Full::new(Bytes::from(format!("answered after {ms} ms"))))
        })
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn at_shutdown_requests_in_flight_are_answered_and_a_hung_one_is_cut_after_the_grace() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(serve(listener, Limits::default(), Arc::new(Slow), shutdown));
    let http = reqwest::Client::new();
    let quick = tokio::spawn(http.get(format!("{base}/1500")).send());
    let hung = tokio::spawn(http.get(format!("{base}/600000")).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopped_at = Instant::now();
    stop.send(true).unwrap();

    let answer = quick.await.unwrap().expect("answered, not cut");
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "answered after 1500 ms");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        reqwest::get(format!("{base}/0")).await.is_err(),
        "a new connection after shutdown is not served"
    );
    server.await.unwrap();
    let took = stopped_at.elapsed();
    assert!(
        took >= SHUTDOWN_GRACE && took < SHUTDOWN_GRACE + Duration::from_secs(3),
        "the server waited {took:?} for the hung request"
    );
    assert!(hung.await.unwrap().is_err(), "the hung request was cut");
}
