//! `atlasbot bench feeds`: calendar requests per second over loopback, against a floor
//! measured in the same run — a request the server refuses from its path alone (404: no
//! store, no body), the least any request costs on this listener. The server runs in this
//! process (`platform::web::Calendars` on `platform::http`, rate limit off); a space holds
//! EVENTS weekly series in five zones, the most a space may have.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};

use crate::commands::{self, Caller, Context};

const ZONES: &[&str] = &[
    "Europe/Zurich",
    "America/New_York",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
];

/// A space with `events` weekly series (52 occurrences each) across `ZONES`; its feed secret.
async fn space_with_events(ctx: &Context, events: usize) -> anyhow::Result<String> {
    let caller = Caller::console();
    for i in 0..events {
        let line = format!(
            "/event add title:\"Session {i} on cybersecurity\" when:\"in {} days\" tz:{} repeat:weekly times:52 description:\"Bring questions; room {i}\"",
            1 + i % 30,
            ZONES[i % ZONES.len()],
        );
        let reply = commands::answer(ctx, &caller, &line).await;
        anyhow::ensure!(
            reply.tone == crate::reply::Tone::Answer,
            "{}",
            crate::render::plain::render(&reply)
        );
    }
    commands::answer(ctx, &caller, "/event subscribe").await;
    ctx.store
        .feed_secret(&caller.space)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no feed secret"))
}

/// Sends `total` GETs of `path` (with `headers`) over `concurrency` keep-alive connections;
/// returns requests per second and the sorted latencies, checking every status.
async fn load(
    address: std::net::SocketAddr,
    path: &str,
    headers: &[(&'static str, String)],
    status: u16,
    total: usize,
    concurrency: usize,
) -> anyhow::Result<(f64, Vec<Duration>)> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..concurrency {
        let share = total / concurrency + usize::from(c < total % concurrency);
        let (path, headers) = (path.to_string(), headers.to_vec());
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(address).await?;
            stream.set_nodelay(true)?;
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
            tokio::spawn(conn);
            let mut latencies = Vec::with_capacity(share);
            for _ in 0..share {
                let mut req = hyper::Request::get(path.as_str()).header("host", "bench");
                for (k, v) in &headers {
                    req = req.header(*k, v.as_str());
                }
                let req = req.body(Empty::<bytes::Bytes>::new())?;
                let t = Instant::now();
                let resp = sender.send_request(req).await?;
                let got = resp.status().as_u16();
                let _ = resp.into_body().collect().await?;
                latencies.push(t.elapsed());
                anyhow::ensure!(got == status, "{path}: status {got}, expected {status}");
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut all = Vec::with_capacity(total);
    for t in tasks {
        all.extend(t.await??);
    }
    all.sort();
    Ok((all.len() as f64 / started.elapsed().as_secs_f64(), all))
}

/// A measured case: its name, the path, the request's headers, the status it must get.
type Case = (&'static str, String, Vec<(&'static str, String)>, u16);

fn at(sorted: &[Duration], p: f64) -> String {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    format!("{:.2} ms", sorted[i].as_secs_f64() * 1e3)
}

pub async fn run(requests: usize, concurrency: usize, events: usize) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let mut ctx =
        Context::new(crate::database::open_store(&tmp.path().join("bench.db")).await?).await?;
    ctx.public_url = Some("http://bench.example".into());
    let secret = space_with_events(&ctx, events).await?;
    // The server stops when `_stop` is dropped, at the end of the run.
    let (address, _stop) = serve_calendars(&ctx).await?;
    let feed = format!("/calendar/{secret}.ics");
    let (tag, size) = fetch_once(address, &feed).await?;
    println!("calendar server on {address}: {events} weekly series in {} zones, feed {} KB; {requests} requests per case, {concurrency} keep-alive connections", ZONES.len(), size / 1000);
    let mut floor = None;
    for (name, path, headers, status) in cases(&secret, &feed, tag) {
        load(address, &path, &headers, status, requests / 10, concurrency).await?; // warm-up
        let (rate, lat) = load(address, &path, &headers, status, requests, concurrency).await?;
        let base = *floor.get_or_insert(rate);
        println!(
            "{name:<32} {rate:>8.0} req/s ({:>5.1} % of the floor)   p50 {}   p99 {}",
            100.0 * rate / base,
            at(&lat, 0.5),
            at(&lat, 0.99)
        );
    }
    Ok(())
}

/// Starts the calendar server on a loopback port, rate limit off; it runs until the returned
/// sender is dropped.
async fn serve_calendars(
    ctx: &Context,
) -> anyhow::Result<(std::net::SocketAddr, tokio::sync::watch::Sender<bool>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let calendars = Arc::new(crate::platform::web::Calendars::with_rate(
        ctx.clone(),
        "http://bench.example",
        u32::MAX,
    ));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(crate::platform::http::serve(
        listener,
        crate::platform::http::Limits::default(),
        calendars,
        stopped,
    ));
    Ok((address, stop))
}

/// The feed once, for its ETag and size.
async fn fetch_once(address: std::net::SocketAddr, feed: &str) -> anyhow::Result<(String, usize)> {
    let stream = tokio::net::TcpStream::connect(address).await?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let resp = sender
        .send_request(
            hyper::Request::get(feed)
                .header("host", "bench")
                .body(Empty::<bytes::Bytes>::new())?,
        )
        .await?;
    let tag = resp.headers()["etag"].to_str()?.to_string();
    let size = resp.into_body().collect().await?.to_bytes().len();
    Ok((tag, size))
}

/// The cases measured, the floor first (the others are measured against it).
fn cases(secret: &str, feed: &str, tag: String) -> Vec<Case> {
    let html = vec![("accept", "text/html".to_string())];
    vec![
        (
            "floor: 404 from the path alone",
            "/calendar/nothing".into(),
            vec![],
            404,
        ),
        (
            "feed, not modified (304)",
            feed.to_string(),
            vec![("if-none-match", tag)],
            304,
        ),
        ("feed, whole (200)", feed.to_string(), vec![], 200),
        (
            "one topic's feed (200)",
            format!("/calendar/{secret}/topic/cybersecurity.ics"),
            vec![],
            200,
        ),
        (
            "events page (200)",
            format!("/calendar/{secret}"),
            html,
            200,
        ),
    ]
}
