//! `atlasbot bench interactions`: signed interactions per second on the HTTP endpoint, over
//! loopback, with latency percentiles. The endpoint runs in this process on its own runtime
//! threads; the load generator keeps CONCURRENCY keep-alive connections busy with requests
//! signed beforehand (signing is the client's cost, not the endpoint's).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ed25519_dalek::{Signer, SigningKey};
use http_body_util::{BodyExt, Full};

use crate::commands::Context;
use crate::platform::discord::endpoint::{self, Endpoint};
use crate::platform::discord::rest::Rest;

struct Signed {
    body: Bytes,
    signature: String,
    timestamp: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sign(key: &SigningKey, body: &str) -> Signed {
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let signature = key.sign(format!("{timestamp}{body}").as_bytes());
    Signed {
        body: Bytes::from(body.to_string()),
        signature: hex(&signature.to_bytes()),
        timestamp,
    }
}

/// An interaction with a new id each time: the endpoint refuses a replayed one, so every
/// request of a run is distinct (signed before the clock starts).
fn interaction(kind: u8, data: serde_json::Value) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    serde_json::json!({
        "id": id.to_string(), "application_id": "456000000000000456", "type": kind,
        "token": "dG9rZW4", "version": 1, "guild_id": "100000000000000001",
        "channel_id": "111000000000000111",
        "member": {"user": {"id": "200000000000000002"}, "roles": [], "permissions": "0"},
        "data": data,
    })
    .to_string()
}

/// Sends `total` requests from `pool` over `concurrency` connections; returns requests per
/// second and the sorted latencies.
async fn load(
    address: std::net::SocketAddr,
    pool: Arc<Vec<Signed>>,
    total: usize,
    concurrency: usize,
) -> anyhow::Result<(f64, Vec<Duration>)> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..concurrency {
        let pool = pool.clone();
        let share = total / concurrency + usize::from(c < total % concurrency);
        // Each connection sends its own slice of the pool: no request is sent twice (the
        // endpoint refuses a replay).
        let first = c * (total / concurrency) + c.min(total % concurrency);
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(address).await?;
            stream.set_nodelay(true)?;
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
            tokio::spawn(conn);
            let mut latencies = Vec::with_capacity(share);
            for n in 0..share {
                let s = &pool[(first + n) % pool.len()];
                let req = hyper::Request::post("/interactions")
                    .header("host", "bench")
                    .header("content-type", "application/json")
                    .header("x-signature-ed25519", &s.signature)
                    .header("x-signature-timestamp", &s.timestamp)
                    .body(Full::new(s.body.clone()))?;
                let t = Instant::now();
                let resp = sender.send_request(req).await?;
                let status = resp.status();
                let _ = resp.into_body().collect().await?;
                latencies.push(t.elapsed());
                anyhow::ensure!(status == 200, "status {status}");
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut all = Vec::with_capacity(total);
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    Ok((all.len() as f64 / elapsed, all))
}

fn at(sorted: &[Duration], p: f64) -> String {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    format!("{:.2} ms", sorted[i].as_secs_f64() * 1e3)
}

pub async fn run(requests: usize, concurrency: usize) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let ctx =
        Context::new(crate::database::open_store(&tmp.path().join("bench.db")).await?).await?;
    let key = SigningKey::from_bytes(&[7; 32]);
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let (address, afresh) = start_endpoints(&ctx, &key, &stopped).await?;
    let cases: Vec<Case> = vec![
        ("PING", address, ping),
        ("/actor (WIPO, UNODC, ITU)", address, actor),
        ("/actor, each answered afresh", afresh, actor),
        ("autocomplete /actor name", address, complete),
    ];
    println!("interactions endpoint on {address}: {requests} signed requests per case, {concurrency} keep-alive connections");
    for (name, address, body) in cases {
        // Every request distinct and signed beforehand: signing is the client's work.
        let signed = |n: usize| Arc::new((0..n).map(|i| sign(&key, &body(i))).collect::<Vec<_>>());
        load(address, signed(requests / 10), requests / 10, concurrency).await?; // warm-up
        let (rate, lat) = load(address, signed(requests), requests, concurrency).await?;
        println!(
            "{name:<28} {rate:>8.0} req/s   p50 {}   p99 {}   max {}",
            at(&lat, 0.5),
            at(&lat, 0.99),
            at(&lat, 1.0)
        );
    }
    Ok(())
}

/// A measured case: its name, the endpoint it is sent to, and its `i`th request.
type Case<'a> = (&'a str, std::net::SocketAddr, fn(usize) -> String);

// Two endpoints on one atlas: as deployed, and one that answers every lookup afresh (what
// a question nobody asked before costs).
async fn start_endpoints(
    ctx: &Context,
    key: &SigningKey,
    stopped: &tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<(std::net::SocketAddr, std::net::SocketAddr)> {
    let mut addresses = Vec::new();
    for keep_answers in [true, false] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        addresses.push(listener.local_addr()?);
        let mut ep = Endpoint::new(
            ctx.clone(),
            endpoint::verifier(&hex(key.verifying_key().as_bytes())).map_err(anyhow::Error::msg)?,
            Arc::new(Rest::new("http://127.0.0.1:9", None)),
        );
        ep.keep_answers = keep_answers;
        tokio::spawn(endpoint::serve(listener, Arc::new(ep), stopped.clone()));
    }
    Ok((addresses[0], addresses[1]))
}

/// A PING.
fn ping(_: usize) -> String {
    interaction(1, serde_json::json!(null))
}

/// `/actor` for one of three names in turn.
fn actor(i: usize) -> String {
    let name = ["WIPO", "UNODC", "ITU"][i % 3];
    interaction(
        2,
        serde_json::json!({"id": "1", "name": "actor", "type": 1,
        "options": [{"name": "name", "type": 3, "value": name}]}),
    )
}

/// Autocompletion of `/actor name:` for one of five beginnings in turn.
fn complete(i: usize) -> String {
    let prefix = ["w", "wor", "intel", "un", "geneva in"][i % 5];
    interaction(
        4,
        serde_json::json!({"id": "1", "name": "actor", "type": 1,
        "options": [{"name": "name", "type": 3, "value": prefix, "focused": true}]}),
    )
}
