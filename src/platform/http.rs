//! The HTTP server every listener of the bot runs on (Discord's interactions endpoint, the
//! calendar feeds and pages): hyper's HTTP/1.1 with keep-alive, and bounds on what a
//! connection may cost, since none needs a signature to open one. Headers must arrive within
//! `Limits::header_timeout` (which also closes idle keep-alive connections), at most
//! `max_connections` are open at once and at most `max_per_address` from one address; beyond
//! that a new connection is closed at once. Behind a reverse proxy on this machine (the way
//! README.md deploys it) every connection comes from 127.0.0.1: there the per-address bound
//! counts the requests in flight of each client the proxy names (`client_address`), so that
//! it stays a bound per client instead of one for everybody together.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::net::{TcpListener, TcpStream};

/// A response on its way.
pub type Answer<'a> = Pin<Box<dyn Future<Output = Response<Full<Bytes>>> + Send + 'a>>;

/// What answers the requests of a listener.
pub trait Handler: Send + Sync {
    /// `client`: the peer, or behind a local proxy the client it names (`client_address`).
    fn handle(&self, req: Request<Incoming>, client: std::net::IpAddr) -> Answer<'_>;
}

/// What one connection may cost.
#[derive(Debug, Clone)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
    pub max_per_address: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            // Longer than a keep-alive pause between Discord's requests is worth, shorter
            // than what lets idle sockets pile up.
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(10),
            max_connections: 1024,
            max_per_address: 64,
        }
    }
}

/// Serves `handler` until `shutdown` turns true: HTTP/1.1 with keep-alive, every
/// connection within `limits`. At shutdown no connection is accepted any more, requests in
/// flight are answered (their connections then close, idle ones at once), for at most
/// `SHUTDOWN_GRACE`; then it returns.
pub async fn serve<H: Handler + 'static>(
    listener: TcpListener,
    limits: Limits,
    handler: Arc<H>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let open = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let per_address: Counts = Arc::default();
    let mut connections = tokio::task::JoinSet::new();
    loop {
        // Finished connections are forgotten as new ones come.
        while connections.try_join_next().is_some() {}
        let Some((stream, peer)) = accept(&listener, &mut shutdown).await else {
            break;
        };
        let Some(admitted) = admit(&open, &per_address, peer, limits.max_per_address) else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            peer,
            admitted,
            handler: handler.clone(),
            per_client: per_address.clone(),
            limits: limits.clone(),
        };
        connections.spawn(connection.serve(stream, shutdown.clone()));
    }
    drop(listener);
    finish(connections).await;
}

/// How long requests in flight at shutdown may take to be answered.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Waits for the connections to finish their requests, at most `SHUTDOWN_GRACE`; the rest
/// are cut (dropping the set aborts them).
async fn finish(mut connections: tokio::task::JoinSet<()>) {
    let open = connections.len();
    let all = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, all).await.is_err() {
        tracing::warn!(
            open,
            left = connections.len(),
            "requests still unanswered {} s after shutdown; closing them",
            SHUTDOWN_GRACE.as_secs()
        );
    }
}

/// The next connection, or None at shutdown. A failed accept (out of file descriptors, say)
/// is logged and tried again after a pause.
async fn accept(
    listener: &TcpListener,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> Option<(TcpStream, SocketAddr)> {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => return Some(a),
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = shutdown.changed() => return None,
        }
    }
}

/// A connection let in: its place among the open connections and, unless it comes through a
/// local proxy, among its address's. Both are given back when it is dropped.
struct Admitted {
    _permit: tokio::sync::OwnedSemaphorePermit,
    _slot: Option<AddressSlot>,
    /// Whether it comes from a reverse proxy on this machine (`is_local_proxy`).
    proxied: bool,
}

/// Lets a connection in, or None when it is over either cap.
fn admit(
    open: &Arc<tokio::sync::Semaphore>,
    per_address: &Counts,
    peer: SocketAddr,
    max_per_address: usize,
) -> Option<Admitted> {
    // Over either cap, the connection is closed at once (dropped): it costs nothing more.
    let Ok(permit) = open.clone().try_acquire_owned() else {
        tracing::warn!(%peer, "too many open connections; one refused");
        return None;
    };
    // A local proxy's connections are everybody's: they are bounded by `max_connections`
    // only, and each request through them by its client's count below.
    let proxied = is_local_proxy(peer.ip());
    let slot = if proxied {
        None
    } else {
        let Some(slot) = AddressSlot::take(per_address, counted_as(peer.ip()), max_per_address)
        else {
            tracing::warn!(%peer, "too many connections from one address; one refused");
            return None;
        };
        Some(slot)
    };
    Some(Admitted {
        _permit: permit,
        _slot: slot,
        proxied,
    })
}

/// One connection let in, and what serving it needs.
struct Connection<H> {
    peer: SocketAddr,
    admitted: Admitted,
    handler: Arc<H>,
    per_client: Counts,
    limits: Limits,
}

impl<H: Handler + 'static> Connection<H> {
    /// Serves the connection's requests until it ends, within its header timeout; at
    /// shutdown, the request in flight is answered and the connection closed after it.
    async fn serve(self, stream: TcpStream, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let (peer, proxied) = (self.peer, self.admitted.proxied);
        let (handler, per_client) = (self.handler.clone(), self.per_client.clone());
        let max_per_address = self.limits.max_per_address;
        let service = hyper::service::service_fn(move |req| {
            let (handler, per_client) = (handler.clone(), per_client.clone());
            answer_request(
                handler,
                per_client,
                req,
                peer.ip(),
                proxied,
                max_per_address,
            )
        });
        let builder = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(self.limits.header_timeout)
            .max_buf_size(64 * 1024)
            .clone();
        let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        tokio::pin!(conn);
        let ended = tokio::select! {
            ended = conn.as_mut() => ended,
            () = stopping(&mut shutdown) => {
                conn.as_mut().graceful_shutdown();
                conn.await
            }
        };
        if let Err(e) = ended {
            tracing::debug!(error = %e, "connection ended with an error");
        }
        drop(self.admitted);
    }
}

/// Returns when `shutdown` turns true, or its sender is gone (as `accept` stops then too).
async fn stopping(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// One request: through a local proxy, counted against the client the proxy names while it
/// is in flight (refused over `max_per_address`); then answered by the handler.
async fn answer_request<H: Handler + 'static>(
    handler: Arc<H>,
    per_client: Counts,
    req: Request<Incoming>,
    peer: std::net::IpAddr,
    proxied: bool,
    max_per_address: usize,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let client = client_address(&req, peer);
    let _in_flight = if proxied {
        match AddressSlot::take(&per_client, counted_as(client), max_per_address) {
            Some(s) => Some(s),
            None => {
                tracing::warn!(%client, "too many requests at once from one client behind the proxy; one refused");
                return Ok(too_many());
            }
        }
    } else {
        None
    };
    Ok(handler.handle(req, client).await)
}

/// Whether a connection comes from a reverse proxy on this machine: 127.0.0.1 or ::1 exactly,
/// where the README's proxy connects from (other loopback addresses are clients of their own).
pub fn is_local_proxy(ip: std::net::IpAddr) -> bool {
    // An IPv4 proxy reaching an IPv6 listener shows as ::ffff:127.0.0.1.
    match ip.to_canonical() {
        std::net::IpAddr::V4(a) => a == std::net::Ipv4Addr::LOCALHOST,
        std::net::IpAddr::V6(a) => a == std::net::Ipv6Addr::LOCALHOST,
    }
}

/// Whom a request comes from: the peer, or — from a local proxy, and only there: anyone else
/// could write the header — the address the proxy appended last to `X-Forwarded-For`.
pub fn client_address(req: &Request<Incoming>, peer: std::net::IpAddr) -> std::net::IpAddr {
    if !is_local_proxy(peer) {
        return peer;
    }
    req.headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .last()
        .and_then(|a| forwarded_ip(a.trim()))
        .unwrap_or(peer)
}

/// An address as a proxy writes it: bare, with a port (`1.2.3.4:5678`), or bracketed IPv6
/// with or without one (`[2001:db8::1]:443`).
fn forwarded_ip(a: &str) -> Option<std::net::IpAddr> {
    a.parse::<std::net::IpAddr>()
        .ok()
        .or_else(|| a.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| a.trim_start_matches('[').trim_end_matches(']').parse().ok())
        .map(|ip| ip.to_canonical())
}

/// Whom the per-address bounds count an address as: an IPv4 address itself, an IPv6 address
/// by its /64 (one host or home network is given a whole /64, and could rotate within it).
pub fn counted_as(ip: std::net::IpAddr) -> std::net::IpAddr {
    match ip.to_canonical() {
        std::net::IpAddr::V6(a) => {
            let s = a.segments();
            std::net::IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// The answer to a client with too many requests in flight through the proxy.
fn too_many() -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(
        b"Too many requests at once from your address; try again in a moment.\n",
    )));
    *r.status_mut() = hyper::StatusCode::SERVICE_UNAVAILABLE;
    r.headers_mut().insert(
        hyper::header::RETRY_AFTER,
        hyper::header::HeaderValue::from_static("1"),
    );
    r
}

/// Open connections (or, through a local proxy, requests in flight) per client address.
type Counts = Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>;

/// One connection's place in the per-address count; given back when dropped.
struct AddressSlot {
    counts: Counts,
    ip: std::net::IpAddr,
}

impl AddressSlot {
    fn take(counts: &Counts, ip: std::net::IpAddr, max: usize) -> Option<AddressSlot> {
        let mut all = counts.lock().expect("not poisoned");
        let n = all.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            counts: counts.clone(),
            ip,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut all = self.counts.lock().expect("not poisoned");
        if let Some(n) = all.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                all.remove(&self.ip);
            }
        }
    }
}
