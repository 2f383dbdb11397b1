//! The one HTTP client through which the bot fetches an external iCalendar feed.
//!
//! The URL comes from a chat moderator (`/event sync add url:…`), so it is hostile input: a
//! server-side request forgery could make the bot read its cloud's metadata service
//! (`169.254.169.254`, credentials included), an admin page on localhost, or a machine on the
//! operator's private network, and echo a piece of it back through an error or an imported
//! event. Every defence therefore sits here, where the bytes leave the process:
//!
//! - The address is checked on every connection, on the address actually connected to: DNS
//!   names go through [`GuardedResolver`], which drops forbidden addresses from the answer (so
//!   a name cannot resolve to a public address when checked and a private one when used), and
//!   literal addresses, which reqwest never resolves, are checked before each request.
//! - Redirects are followed by hand, so every hop gets the same scheme, port and address
//!   checks as the URL the moderator typed.
//! - The body is read in chunks and abandoned as soon as it passes the cap; the whole fetch
//!   runs under one deadline; the environment's proxy settings are ignored (a proxy would
//!   resolve names itself, out of the resolver's reach).
//!
//! Errors are worded for the moderator: they say why, never include the body, and tell a
//! problem with the URL (change it) from a passing one (the bot retries).

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::StatusCode;
use url::{Host, Url};

/// Sent with every request, so a feed's operator can tell who is fetching.
pub const USER_AGENT: &str = concat!("atlasbot/", env!("CARGO_PKG_VERSION"), " (calendar sync)");

/// A calendar if there is one, anything else if not (an error page is still worth a status).
const ACCEPT: &str = "text/calendar, */*;q=0.5";

/// The longest a TCP + TLS handshake may take (the whole fetch's deadline still applies).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest ETag or Last-Modified kept: they are stored and sent back, and a real one is short.
const MAX_VALIDATOR_LEN: usize = 1024;

/// Longest host name quoted in a message (a redirect's host is chosen by the server).
const MAX_HOST_IN_MESSAGE: usize = 80;

/// AWS, GCP, Azure, OpenStack… serve instance metadata (and credentials) here.
const METADATA_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);
/// AWS's IPv6 metadata endpoint (`fd00:ec2::254`).
const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x254);

/// Ports no browser will fetch from (the Fetch standard's "bad ports"): the services behind
/// them (SMTP, IRC, SSH…) can be driven by a crafted HTTP request, whatever the host.
const BAD_PORTS: &[u16] = &[
    0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101,
    102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427,
    465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990,
    993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667,
    6668, 6669, 6679, 6697, 10080,
];

/// What an operator allows (configuration); the default is the safe one.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Allow every non-public address: loopback, private, link-local, CGNAT, unique-local,
    /// unspecified, multicast, broadcast, documentation, cloud metadata, and their IPv6 forms.
    pub allow_private: bool,
    /// Allow loopback addresses only (127.0.0.0/8, ::1), everything else non-public still
    /// refused: a feed served on the same machine, or a test server.
    pub allow_loopback: bool,
    /// Allow plain `http://` (otherwise https only).
    pub allow_http: bool,
    /// Largest body accepted, in bytes.
    pub max_bytes: usize,
    /// Most redirects followed before giving up.
    pub max_redirects: usize,
    /// Deadline of the whole fetch: connecting, every redirect, and the body.
    pub timeout: Duration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            allow_private: false,
            allow_loopback: false,
            allow_http: false,
            max_bytes: crate::events::ical::MAX_BYTES,
            max_redirects: 3,
            timeout: Duration::from_secs(20),
        }
    }
}

impl Policy {
    /// Checks a URL as given by a moderator before it is stored (and every URL fetched):
    /// parses it, the scheme (https unless `allow_http`; `webcal://` is read as https), no
    /// user name or password, a host, no bad port, and a literal IP address against the
    /// policy. Does NOT resolve DNS (that happens, checked, on every connection), and needs
    /// no client. Returns the normalised URL (no fragment).
    pub fn check_url(&self, url: &str) -> Result<Url, FetchError> {
        let parsed = parse(url.trim())?;
        self.vet(parsed)
    }

    /// The checks every URL gets, typed or reached by a redirect.
    fn vet(&self, mut url: Url) -> Result<Url, FetchError> {
        self.check_scheme(&url)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(not_allowed(
                "the address must not contain a user name or password",
            ));
        }
        let port = url.port_or_known_default().unwrap_or(0);
        if BAD_PORTS.contains(&port) {
            return Err(FetchError::NotAllowed(format!(
                "port {port} is not allowed"
            )));
        }
        self.check_literal(&url)?;
        url.set_fragment(None);
        Ok(url)
    }

    fn check_scheme(&self, url: &Url) -> Result<(), FetchError> {
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.allow_http => Ok(()),
            _ if self.allow_http => Err(not_allowed(
                "only http:// and https:// addresses are accepted",
            )),
            _ => Err(not_allowed("only https:// addresses are accepted")),
        }
    }

    /// A host that is an IP address never reaches the resolver, so it is checked here.
    fn check_literal(&self, url: &Url) -> Result<(), FetchError> {
        let ip = match url.host() {
            None => return Err(not_allowed("the address has no host")),
            Some(Host::Domain(_)) => return Ok(()),
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        };
        match self.refusal(ip) {
            None => Ok(()),
            Some(class) => Err(FetchError::NotAllowed(format!(
                "{ip} is not a public address ({class})"
            ))),
        }
    }

    /// Tests: loopback (and every other private address) and plain http allowed.
    pub fn permissive() -> Policy {
        Policy {
            allow_private: true,
            allow_loopback: true,
            allow_http: true,
            ..Policy::default()
        }
    }

    /// Whether the bot may connect to this address.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.refusal(ip).is_none()
    }

    /// Why the bot may not connect to this address (its class), if it may not.
    fn refusal(&self, ip: IpAddr) -> Option<&'static str> {
        match classify(ip) {
            AddressClass::Public => None,
            _ if self.allow_private => None,
            AddressClass::Loopback if self.allow_loopback => None,
            AddressClass::Loopback => Some("loopback"),
            AddressClass::NonPublic(class) => Some(class),
        }
    }
}

/// Where an address leads, as far as the policy is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// Reachable on the internet: always allowed.
    Public,
    /// This machine (127.0.0.0/8, ::1, and their IPv6 forms).
    Loopback,
    /// Anything else that is not public; the text names the class for a message.
    NonPublic(&'static str),
}

/// The class of an address. IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64,
/// 6to4) take the class of that address, since that is where a packet would end up.
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// IPv4: the IANA special-purpose registry, plus the cloud metadata address by name.
fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    use AddressClass::{Loopback, NonPublic, Public};
    if ip == METADATA_V4 {
        return NonPublic("cloud metadata");
    }
    match ip.octets() {
        [0, ..] => NonPublic("unspecified"),
        [127, ..] => Loopback,
        [10, ..] | [172, 16..=31, ..] | [192, 168, ..] => NonPublic("private"),
        [100, 64..=127, ..] => NonPublic("shared CGNAT"),
        [169, 254, ..] => NonPublic("link-local"),
        [192, 0, 0, _] => NonPublic("IETF protocol"),
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => NonPublic("documentation"),
        [192, 88, 99, _] => NonPublic("6to4 relay"),
        [198, 18..=19, ..] => NonPublic("benchmarking"),
        [224..=239, ..] => NonPublic("multicast"),
        [255, 255, 255, 255] => NonPublic("broadcast"),
        [240..=255, ..] => NonPublic("reserved"),
        _ => Public,
    }
}

/// IPv6: first the forms that embed an IPv4 address, then the prefixes. Only global unicast
/// (2000::/3) can be public; inside it, documentation and special-purpose blocks are not.
fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    use AddressClass::{Loopback, NonPublic, Public};
    if let Some(embedded) = embedded_v4(ip) {
        return embedded;
    }
    if ip.is_unspecified() {
        return NonPublic("unspecified");
    }
    if ip.is_loopback() {
        return Loopback;
    }
    if ip == METADATA_V6 {
        return NonPublic("cloud metadata");
    }
    let s = ip.segments();
    match s[0] {
        0xfc00..=0xfdff => NonPublic("unique-local"),
        0xfe80..=0xfebf => NonPublic("link-local"),
        0xfec0..=0xfeff => NonPublic("site-local"),
        0xff00..=0xffff => NonPublic("multicast"),
        0x2001 if s[1] == 0x0db8 => NonPublic("documentation"),
        0x3fff if s[1] < 0x1000 => NonPublic("documentation"),
        // 2001::/23: Teredo (an obfuscated IPv4 address), ORCHID, and other IETF assignments.
        0x2001 if s[1] < 0x0200 => NonPublic("IETF special-purpose"),
        0x2000..=0x3fff => Public,
        _ => NonPublic("reserved"),
    }
}

/// The class of the IPv4 address an IPv6 address stands for, if it stands for one.
fn embedded_v4(ip: Ipv6Addr) -> Option<AddressClass> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(classify_v4(v4));
    }
    let s = ip.segments();
    let low = Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32);
    match s {
        // ::/96, IPv4-compatible (deprecated); `::` and `::1` are not IPv4 addresses.
        [0, 0, 0, 0, 0, 0, ..] if s[6] != 0 => Some(match classify_v4(low) {
            AddressClass::Public => AddressClass::NonPublic("IPv4-compatible"),
            other => other,
        }),
        // 64:ff9b::/96, NAT64: a DNS64 resolver hands these out for IPv4-only hosts.
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => Some(classify_v4(low)),
        // 2002::/16, 6to4: the IPv4 address of the site is in bits 16..48.
        [0x2002, high, mid, ..] => Some(classify_v4(Ipv4Addr::from(
            ((high as u32) << 16) | mid as u32,
        ))),
        _ => None,
    }
}

/// The validators of the last good answer, sent back as If-None-Match / If-Modified-Since.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What a fetch found.
#[derive(Debug)]
pub enum Fetched {
    /// 304 Not Modified.
    Unchanged,
    /// 2xx with the body (UTF-8, lossily) and the new validators.
    Body {
        text: String,
        validators: Validators,
    },
}

/// Why a fetch failed, worded for a moderator: a short sentence, no internals, never the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The URL (or a redirect) leads somewhere the bot may not go; says why.
    NotAllowed(String),
    /// The body is larger than the policy's `max_bytes`.
    TooBig { limit: usize },
    /// More redirects than the policy's `max_redirects`.
    TooManyRedirects { limit: usize },
    /// The server answered with a status other than 2xx or 304.
    Status(u16),
    /// DNS failure, connection refused, TLS, timeout…; says which.
    Network(String),
}

impl FetchError {
    /// False for `NotAllowed` (a moderator must change the URL); true for the rest (the bot
    /// may retry later: servers get fixed, feeds shrink, networks come back).
    pub fn is_transient(&self) -> bool {
        !matches!(self, FetchError::NotAllowed(_))
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::NotAllowed(why) => {
                write!(f, "That calendar address is not allowed: {why}.")
            }
            FetchError::TooBig { limit } => write!(
                f,
                "The calendar is larger than {}, the most the bot accepts.",
                size(*limit)
            ),
            FetchError::TooManyRedirects { limit } => {
                write!(f, "The calendar address redirects more than {limit} times.")
            }
            FetchError::Status(code) => {
                write!(f, "The calendar server answered {}.", status(*code))
            }
            FetchError::Network(why) => {
                write!(f, "The calendar server could not be reached: {why}.")
            }
        }
    }
}

impl std::error::Error for FetchError {}

/// A byte count as a person reads it ("1 MB", "250 KB", "999 bytes").
fn size(bytes: usize) -> String {
    if bytes >= 1_000_000 && bytes.is_multiple_of(1_000_000) {
        format!("{} MB", bytes / 1_000_000)
    } else if bytes >= 1000 {
        format!("{} KB", bytes / 1000)
    } else {
        format!("{bytes} bytes")
    }
}

/// "HTTP 404 (Not Found)".
fn status(code: u16) -> String {
    match StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("HTTP {code} ({reason})"),
        None => format!("HTTP {code}"),
    }
}

/// A duration as a person reads it ("20 s", "0.5 s").
fn seconds(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

/// A URL's host, short enough to quote.
fn host_of(url: &Url) -> String {
    url.host_str()
        .unwrap_or("the server")
        .chars()
        .take(MAX_HOST_IN_MESSAGE)
        .collect()
}

/// Why a name could not be resolved to an address the bot may use. It travels inside
/// reqwest's error as the source of its connect error, where `network_error` finds it.
#[derive(Debug, thiserror::Error)]
enum ResolveError {
    #[error("{host} resolves only to a private address")]
    Blocked { host: String },
    #[error("could not resolve {host}")]
    Lookup {
        host: String,
        #[source]
        source: std::io::Error,
    },
}

impl ResolveError {
    fn to_fetch_error(&self) -> FetchError {
        match self {
            ResolveError::Blocked { host } => FetchError::NotAllowed(format!(
                "{host} resolves only to a private address, which the bot may not fetch"
            )),
            ResolveError::Lookup { host, .. } => {
                FetchError::Network(format!("could not find the host {host}"))
            }
        }
    }
}

/// The DNS resolver of the client: the system's (through tokio), minus every address the
/// policy forbids. Filtering here, not before the request, is what closes DNS rebinding: the
/// addresses checked are the addresses connected to.
struct GuardedResolver {
    policy: Policy,
    /// Fixed answers for some names, looked up before DNS (tests name hosts that way).
    hosts: HashMap<String, Vec<IpAddr>>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host: String = name
            .as_str()
            .chars()
            .take(MAX_HOST_IN_MESSAGE * 4)
            .collect();
        let policy = self.policy.clone();
        let fixed = self.hosts.get(&host.to_ascii_lowercase()).cloned();
        Box::pin(async move {
            let found = match fixed {
                Some(ips) => ips.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect(),
                None => lookup(&host).await?,
            };
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| policy.allows(addr.ip()))
                .collect();
            if allowed.is_empty() {
                let host = host.chars().take(MAX_HOST_IN_MESSAGE).collect();
                return Err(Box::new(ResolveError::Blocked { host }) as _);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The system's answer for a name (port 0: reqwest puts the URL's port in).
async fn lookup(host: &str) -> Result<Vec<SocketAddr>, ResolveError> {
    match tokio::net::lookup_host((host, 0)).await {
        Ok(addrs) => Ok(addrs.collect()),
        Err(source) => Err(ResolveError::Lookup {
            host: host.chars().take(MAX_HOST_IN_MESSAGE).collect(),
            source,
        }),
    }
}

/// The client for external calendars. Cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct Fetcher {
    policy: Policy,
    /// None if the TLS stack could not start (reported by every fetch rather than a panic).
    client: Option<reqwest::Client>,
}

impl Fetcher {
    pub fn new(policy: Policy) -> Fetcher {
        Fetcher::with_hosts(policy, HashMap::new())
    }

    /// A fetcher whose resolver answers some names itself (still filtered by the policy).
    fn with_hosts(policy: Policy, hosts: HashMap<String, Vec<IpAddr>>) -> Fetcher {
        let resolver = GuardedResolver {
            policy: policy.clone(),
            hosts,
        };
        let client = build_client(&policy, resolver)
            .map_err(|err| tracing::error!(error = %err, "the calendar fetcher's client failed"))
            .ok();
        Fetcher { policy, client }
    }

    /// `Policy::check_url` under this fetcher's policy.
    pub fn check_url(&self, url: &str) -> Result<Url, FetchError> {
        self.policy.check_url(url)
    }

    /// Fetches a feed: 304 → `Unchanged`, 2xx → its body and new validators.
    pub async fn fetch(&self, url: &str, since: &Validators) -> Result<Fetched, FetchError> {
        let start = self.check_url(url)?;
        let deadline = self.policy.timeout;
        match tokio::time::timeout(deadline, self.follow(start, since)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Network(format!(
                "timed out after {}",
                seconds(deadline)
            ))),
        }
    }

    /// Requests the URL and each redirect target in turn, each one vetted first.
    async fn follow(&self, mut current: Url, since: &Validators) -> Result<Fetched, FetchError> {
        let client = self.client.as_ref().ok_or_else(|| {
            FetchError::Network("the bot's HTTP client could not start".to_string())
        })?;
        let mut redirects = 0;
        loop {
            let response = send(client, &current, since).await?;
            if !is_followed_redirect(response.status()) {
                return self.answer(response, &current).await;
            }
            if redirects >= self.policy.max_redirects {
                return Err(FetchError::TooManyRedirects {
                    limit: self.policy.max_redirects,
                });
            }
            current = self.redirect_target(&current, &response)?;
            redirects += 1;
        }
    }

    /// Where a redirect leads (relative to where it came from), vetted like a typed URL.
    fn redirect_target(
        &self,
        current: &Url,
        response: &reqwest::Response,
    ) -> Result<Url, FetchError> {
        let code = response.status().as_u16();
        let location = response
            .headers()
            .get(header::LOCATION)
            .ok_or(FetchError::Status(code))?;
        let location = location.to_str().map_err(|_| invalid_redirect())?;
        self.next_hop(current, location)
    }

    /// The URL a `Location` leads to from `current`, vetted.
    fn next_hop(&self, current: &Url, location: &str) -> Result<Url, FetchError> {
        let next = current.join(location).map_err(|_| invalid_redirect())?;
        self.policy.vet(next)
    }

    /// The final answer: 304, a 2xx body within the cap, or the status as an error.
    async fn answer(&self, response: reqwest::Response, url: &Url) -> Result<Fetched, FetchError> {
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::Unchanged);
        }
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        let validators = validators_of(response.headers());
        let body = read_capped(response, self.policy.max_bytes, url).await?;
        Ok(Fetched::Body {
            text: String::from_utf8_lossy(&body).into_owned(),
            validators,
        })
    }
}

fn not_allowed(why: &str) -> FetchError {
    FetchError::NotAllowed(why.to_string())
}

fn invalid_redirect() -> FetchError {
    not_allowed("the server redirected to an invalid address")
}

/// A URL as typed; `webcal://` (what calendar apps hand out) is https by convention. It is
/// parsed again as https, not converted, so that the host gets the same (IPv4) parsing.
fn parse(text: &str) -> Result<Url, FetchError> {
    let after_webcal = text
        .get(..9)
        .filter(|prefix| prefix.eq_ignore_ascii_case("webcal://"))
        .and_then(|_| text.get(9..));
    let parsed = match after_webcal {
        Some(rest) => Url::parse(&format!("https://{rest}")),
        None => Url::parse(text),
    };
    parsed.map_err(|_| not_allowed("it is not a valid web address"))
}

/// The client: our resolver, no automatic redirects, no proxy (a proxy resolves names
/// itself, which would skip the resolver), no Referer leaking the feed's URL.
fn build_client(policy: &Policy, resolver: GuardedResolver) -> reqwest::Result<reqwest::Client> {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static(ACCEPT));
    reqwest::Client::builder()
        .dns_resolver(Arc::new(resolver))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .referer(false)
        .https_only(!policy.allow_http)
        .user_agent(USER_AGENT)
        .default_headers(headers)
        .connect_timeout(CONNECT_TIMEOUT.min(policy.timeout))
        .build()
}

/// One GET, conditional when there are validators (a stored one that is not a valid header
/// value any more is left out rather than failing the fetch).
async fn send(
    client: &reqwest::Client,
    url: &Url,
    since: &Validators,
) -> Result<reqwest::Response, FetchError> {
    let mut request = client.get(url.clone());
    let conditions = [
        (header::IF_NONE_MATCH, &since.etag),
        (header::IF_MODIFIED_SINCE, &since.last_modified),
    ];
    for (name, value) in conditions {
        if let Some(value) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            request = request.header(name, value);
        }
    }
    request.send().await.map_err(|err| network_error(&err, url))
}

/// The redirects followed; other 3xx (300, 304, 305…) are answers of their own.
fn is_followed_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The ETag and Last-Modified of an answer (absent when unreadable or absurdly long).
fn validators_of(headers: &HeaderMap) -> Validators {
    let get = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= MAX_VALIDATOR_LEN)
            .map(str::to_string)
    };
    Validators {
        etag: get(header::ETAG),
        last_modified: get(header::LAST_MODIFIED),
    }
}

/// The body, chunk by chunk, abandoned (connection and all) as soon as it passes `limit`:
/// a declared length over the cap is refused before reading anything.
async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
    url: &Url,
) -> Result<Vec<u8>, FetchError> {
    let declared = response.content_length();
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(FetchError::TooBig { limit });
    }
    let expected = declared.map_or(0, |length| length as usize).min(limit);
    let mut body = Vec::with_capacity(expected);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| network_error(&err, url))?
    {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(FetchError::TooBig { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A reqwest error as a moderator would want it: a refusal by the resolver is `NotAllowed`;
/// otherwise the most telling cause found along the error's sources.
fn network_error(err: &reqwest::Error, url: &Url) -> FetchError {
    let host = host_of(url);
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cause) = source {
        if let Some(refusal) = resolve_error(cause) {
            return refusal.to_fetch_error();
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if let Some(why) = io_reason(io.kind(), &host, url) {
                return FetchError::Network(why);
            }
        }
        source = cause.source();
    }
    FetchError::Network(if err.is_timeout() {
        format!("timed out connecting to {host}")
    } else if err.is_connect() {
        format!("could not connect to {host}")
    } else {
        format!("the connection to {host} failed")
    })
}

/// Our resolver's error, directly or inside an `io::Error` (whose `source` skips it).
fn resolve_error<'a>(cause: &'a (dyn std::error::Error + 'static)) -> Option<&'a ResolveError> {
    cause.downcast_ref::<ResolveError>().or_else(|| {
        cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<ResolveError>())
    })
}

/// What an I/O error kind says, in words, when it says something useful.
fn io_reason(kind: std::io::ErrorKind, host: &str, url: &Url) -> Option<String> {
    use std::io::ErrorKind as K;
    match kind {
        K::ConnectionRefused => Some(format!("{host} refused the connection")),
        K::TimedOut => Some(format!("timed out connecting to {host}")),
        K::ConnectionReset | K::ConnectionAborted | K::UnexpectedEof => {
            Some(format!("{host} closed the connection"))
        }
        K::HostUnreachable | K::NetworkUnreachable => Some(format!("{host} is unreachable")),
        // rustls reports a failed handshake (a bad certificate…) as invalid data.
        K::InvalidData if url.scheme() == "https" => {
            Some(format!("the secure (TLS) connection to {host} failed"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use std::time::Instant;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    // ---- A real HTTP/1.1 server on loopback ----

    /// A request as the server saw it (header names lowercased).
    #[derive(Debug, Clone)]
    struct Seen {
        path: String,
        headers: Vec<(String, String)>,
    }

    impl Seen {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }
    }

    enum Length {
        /// Content-Length: the body's length.
        Exact,
        /// No Content-Length: the body ends when the connection closes.
        Omit,
        /// Content-Length: this, whatever is sent.
        Claim(usize),
    }

    struct Reply {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
        /// The body is sent this many times.
        repeat: usize,
        length: Length,
        /// Keep the connection open (sending nothing more) instead of closing it.
        stall: bool,
    }

    impl Reply {
        fn status(status: u16) -> Reply {
            Reply {
                status,
                headers: Vec::new(),
                body: Vec::new(),
                repeat: 1,
                length: Length::Exact,
                stall: false,
            }
        }
        fn ok(body: &str) -> Reply {
            Reply::status(200).body(body.as_bytes().to_vec())
        }
        fn redirect(status: u16, location: &str) -> Reply {
            Reply::status(status).header("Location", location)
        }
        fn header(mut self, name: &'static str, value: &str) -> Reply {
            self.headers.push((name, value.to_string()));
            self
        }
        fn body(mut self, body: Vec<u8>) -> Reply {
            self.body = body;
            self
        }
    }

    struct Server {
        addr: SocketAddr,
        seen: Arc<Mutex<Vec<Seen>>>,
        /// Body bytes the server managed to write, over all connections.
        written: Arc<AtomicUsize>,
        /// Connections the server is done with.
        finished: Arc<AtomicUsize>,
    }

    impl Server {
        fn url(&self, path: &str) -> String {
            format!("http://{}{path}", self.addr)
        }
        fn port(&self) -> u16 {
            self.addr.port()
        }
        fn seen(&self) -> Vec<Seen> {
            self.seen.lock().unwrap().clone()
        }
    }

    type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

    async fn serve(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = Server {
            addr: listener.local_addr().unwrap(),
            seen: Arc::default(),
            written: Arc::default(),
            finished: Arc::default(),
        };
        let handler: Handler = Arc::new(handler);
        let (seen, written, finished) = (
            server.seen.clone(),
            server.written.clone(),
            server.finished.clone(),
        );
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (handler, seen, written, finished) = (
                    handler.clone(),
                    seen.clone(),
                    written.clone(),
                    finished.clone(),
                );
                tokio::spawn(async move {
                    answer_one(stream, handler, seen, written).await;
                    finished.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        server
    }

    async fn answer_one(
        mut stream: TcpStream,
        handler: Handler,
        seen: Arc<Mutex<Vec<Seen>>>,
        written: Arc<AtomicUsize>,
    ) {
        let Some(request) = read_request(&mut stream).await else {
            return;
        };
        seen.lock().unwrap().push(request.clone());
        let reply = handler(&request);
        if stream.write_all(&head_of(&reply)).await.is_err() {
            return;
        }
        for _ in 0..reply.repeat {
            if stream.write_all(&reply.body).await.is_err() {
                return;
            }
            written.fetch_add(reply.body.len(), Ordering::SeqCst);
        }
        if reply.stall {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        let _ = stream.shutdown().await;
    }

    async fn read_request(stream: &mut TcpStream) -> Option<Seen> {
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 || head.len() > 64 * 1024 {
                return None;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&head).into_owned();
        let mut lines = text.split("\r\n");
        let path = lines.next()?.split(' ').nth(1)?.to_string();
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Some(Seen { path, headers })
    }

    fn head_of(reply: &Reply) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} Whatever\r\nConnection: close\r\n",
            reply.status
        );
        for (name, value) in &reply.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        match reply.length {
            Length::Exact => {
                let length = reply.body.len() * reply.repeat;
                head.push_str(&format!("Content-Length: {length}\r\n"));
            }
            Length::Claim(length) => head.push_str(&format!("Content-Length: {length}\r\n")),
            Length::Omit => {}
        }
        head.push_str("\r\n");
        head.into_bytes()
    }

    fn loopback_http() -> Policy {
        Policy {
            allow_loopback: true,
            allow_http: true,
            ..Policy::default()
        }
    }

    fn body_of(fetched: Fetched) -> (String, Validators) {
        match fetched {
            Fetched::Body { text, validators } => (text, validators),
            Fetched::Unchanged => panic!("expected a body, got Unchanged"),
        }
    }

    fn assert_not_allowed(result: Result<impl fmt::Debug, FetchError>, needle: &str) {
        match result {
            Err(FetchError::NotAllowed(why)) => {
                assert!(why.contains(needle), "{why:?} does not mention {needle:?}")
            }
            other => panic!("expected NotAllowed({needle}), got {other:?}"),
        }
    }

    // ---- Conditional GET ----

    #[tokio::test]
    async fn a_body_then_unchanged_with_its_validators() {
        let server = serve(|req| {
            if req.header("if-none-match") == Some("\"v1\"") {
                return Reply::status(304);
            }
            Reply::ok("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
                .header("ETag", "\"v1\"")
                .header("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")
                .header("Content-Type", "text/calendar")
        })
        .await;
        let fetcher = Fetcher::new(Policy::permissive());
        let first = fetcher
            .fetch(&server.url("/cal.ics"), &Validators::default())
            .await;
        let (text, validators) = body_of(first.unwrap());
        assert_eq!(text, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n");
        assert_eq!(validators.etag.as_deref(), Some("\"v1\""));
        let modified = Some("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(validators.last_modified.as_deref(), modified);

        let second = fetcher.fetch(&server.url("/cal.ics"), &validators).await;
        assert!(matches!(second, Ok(Fetched::Unchanged)), "{second:?}");
        let seen = server.seen();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].header("if-none-match"), None);
        assert_eq!(seen[0].header("if-modified-since"), None);
        assert_eq!(seen[1].header("if-none-match"), Some("\"v1\""));
        assert_eq!(seen[1].header("if-modified-since"), modified);
    }

    #[tokio::test]
    async fn sends_accept_and_user_agent_and_no_referer() {
        let server = serve(|_| Reply::ok("x")).await;
        let fetcher = Fetcher::new(Policy::permissive());
        let result = fetcher
            .fetch(&server.url("/"), &Validators::default())
            .await;
        assert!(result.is_ok(), "{result:?}");
        let seen = &server.seen()[0];
        assert_eq!(seen.header("accept"), Some("text/calendar, */*;q=0.5"));
        let agent = format!("atlasbot/{} (calendar sync)", env!("CARGO_PKG_VERSION"));
        assert_eq!(seen.header("user-agent"), Some(agent.as_str()));
        assert_eq!(seen.header("referer"), None);
    }

    #[tokio::test]
    async fn an_unusable_stored_validator_is_left_out() {
        let server = serve(|_| Reply::ok("x")).await;
        let fetcher = Fetcher::new(Policy::permissive());
        let since = Validators {
            etag: Some("bad\r\nX-Injected: 1".to_string()),
            last_modified: None,
        };
        let result = fetcher.fetch(&server.url("/"), &since).await;
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(server.seen()[0].header("if-none-match"), None);
        assert_eq!(server.seen()[0].header("x-injected"), None);
    }

    #[tokio::test]
    async fn a_body_that_is_not_utf8_is_read_lossily() {
        let server = serve(|_| Reply::status(200).body(b"caf\xe9".to_vec())).await;
        let fetcher = Fetcher::new(Policy::permissive());
        let fetched = fetcher
            .fetch(&server.url("/"), &Validators::default())
            .await;
        let (text, validators) = body_of(fetched.unwrap());
        assert_eq!(text, "caf\u{fffd}");
        assert_eq!(validators, Validators::default());
    }

    // ---- The safe policy, on literal addresses and through the resolver ----

    #[tokio::test]
    async fn the_default_policy_refuses_loopback_by_scheme_and_by_address() {
        let server = serve(|_| Reply::ok("secret")).await;
        let fetcher = Fetcher::new(Policy::default());
        let none = Validators::default();
        let plain = fetcher.fetch(&server.url("/"), &none).await;
        assert_not_allowed(plain, "only https://");
        let https = format!("https://127.0.0.1:{}/", server.port());
        assert_not_allowed(
            fetcher.fetch(&https, &none).await,
            "127.0.0.1 is not a public",
        );
        let v6 = format!("https://[::1]:{}/", server.port());
        assert_not_allowed(fetcher.fetch(&v6, &none).await, "loopback");
        assert!(server.seen().is_empty());
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_by_the_resolver() {
        let server = serve(|_| Reply::ok("secret")).await;
        let none = Validators::default();
        let https = format!("https://localhost:{}/", server.port());
        let fetcher = Fetcher::new(Policy::default());
        let checked = fetcher.check_url(&https);
        assert!(checked.is_ok(), "check_url does not resolve: {checked:?}");
        let refused = fetcher.fetch(&https, &none).await;
        assert_not_allowed(refused, "localhost resolves only to a private address");

        let http_allowed = Fetcher::new(Policy {
            allow_http: true,
            ..Policy::default()
        });
        let plain = format!("http://localhost:{}/", server.port());
        let refused = http_allowed.fetch(&plain, &none).await;
        assert_not_allowed(refused, "localhost resolves only to a private address");
        assert!(server.seen().is_empty());
    }

    #[tokio::test]
    async fn a_resolved_name_connects_on_the_urls_port_when_allowed() {
        let server = serve(|_| Reply::ok("feed")).await;
        let hosts = HashMap::from([("feed.test".to_string(), vec![[127, 0, 0, 1].into()])]);
        let fetcher = Fetcher::with_hosts(loopback_http(), hosts);
        let url = format!("http://feed.test:{}/cal.ics", server.port());
        let (text, _) = body_of(fetcher.fetch(&url, &Validators::default()).await.unwrap());
        assert_eq!(text, "feed");
        assert_eq!(
            server.seen()[0].header("host"),
            Some(&url[7..url.len() - 8])
        );
    }

    #[tokio::test]
    async fn the_resolver_keeps_only_the_allowed_addresses() {
        let server = serve(|_| Reply::ok("feed")).await;
        // A name with a private address first: the resolver drops it and connects to the
        // loopback one (allowed here), rather than refusing or trying the private one.
        let ips = vec![[10, 0, 0, 1].into(), [127, 0, 0, 1].into()];
        let hosts = HashMap::from([("mixed.test".to_string(), ips)]);
        let fetcher = Fetcher::with_hosts(loopback_http(), hosts);
        let url = format!("http://mixed.test:{}/", server.port());
        let result = fetcher.fetch(&url, &Validators::default()).await;
        assert!(result.is_ok(), "{result:?}");
    }

    // ---- Redirects ----

    /// `/r/N` redirects to `/r/N-1` (every kind of redirect, relative and absolute), `/r/0`
    /// is the calendar.
    fn chain(req: &Seen, port: &Arc<AtomicUsize>) -> Reply {
        let n: usize = req.path.trim_start_matches("/r/").parse().unwrap_or(0);
        if n == 0 {
            return Reply::ok("end of chain");
        }
        let code = [301, 302, 303, 307, 308][n % 5];
        match n % 2 {
            0 => Reply::redirect(code, &format!("/r/{}", n - 1)),
            _ => {
                let port = port.load(Ordering::SeqCst);
                Reply::redirect(code, &format!("http://127.0.0.1:{port}/r/{}", n - 1))
            }
        }
    }

    async fn chain_server() -> Server {
        let port = Arc::new(AtomicUsize::new(0));
        let port_in_handler = port.clone();
        let server = serve(move |req| chain(req, &port_in_handler)).await;
        port.store(server.port().into(), Ordering::SeqCst);
        server
    }

    #[tokio::test]
    async fn three_redirects_are_followed() {
        let server = chain_server().await;
        let fetcher = Fetcher::new(Policy::permissive());
        let fetched = fetcher
            .fetch(&server.url("/r/3"), &Validators::default())
            .await;
        let (text, _) = body_of(fetched.unwrap());
        assert_eq!(text, "end of chain");
        let paths: Vec<String> = server.seen().into_iter().map(|s| s.path).collect();
        assert_eq!(paths, ["/r/3", "/r/2", "/r/1", "/r/0"]);
    }

    #[tokio::test]
    async fn the_fourth_redirect_is_too_many() {
        let server = chain_server().await;
        let fetcher = Fetcher::new(Policy::permissive());
        let result = fetcher
            .fetch(&server.url("/r/4"), &Validators::default())
            .await;
        let err = result.unwrap_err();
        assert_eq!(err, FetchError::TooManyRedirects { limit: 3 });
        assert!(err.is_transient());
        assert_eq!(
            server.seen().len(),
            4,
            "the fourth redirect is not followed"
        );
        let fewer = Fetcher::new(Policy {
            max_redirects: 0,
            ..Policy::permissive()
        });
        let result = fewer
            .fetch(&server.url("/r/1"), &Validators::default())
            .await;
        let err = result.unwrap_err();
        assert_eq!(err, FetchError::TooManyRedirects { limit: 0 });
    }

    #[tokio::test]
    async fn a_redirect_from_loopback_to_private_or_metadata_is_refused() {
        let server = serve(|req| match req.path.as_str() {
            "/to-metadata" => Reply::redirect(302, "http://169.254.169.254/latest/meta-data"),
            "/to-private" => Reply::redirect(301, "http://10.0.0.1/"),
            "/to-mapped" => Reply::redirect(307, "http://[::ffff:169.254.169.254]/"),
            "/to-decimal" => Reply::redirect(308, "http://2852039166/"),
            "/to-name" => Reply::redirect(303, "http://metadata.test/latest/meta-data"),
            _ => Reply::ok("fine"),
        })
        .await;
        let hosts = HashMap::from([("metadata.test".to_string(), vec![METADATA_V4.into()])]);
        let fetcher = Fetcher::with_hosts(loopback_http(), hosts);
        let none = Validators::default();
        let cases = [
            (
                "/to-metadata",
                "169.254.169.254 is not a public address (cloud metadata)",
            ),
            ("/to-private", "10.0.0.1 is not a public address (private)"),
            ("/to-mapped", "cloud metadata"),
            ("/to-decimal", "cloud metadata"),
            (
                "/to-name",
                "metadata.test resolves only to a private address",
            ),
        ];
        for (path, why) in cases {
            assert_not_allowed(fetcher.fetch(&server.url(path), &none).await, why);
        }
        let fine = fetcher.fetch(&server.url("/feed"), &none).await;
        assert!(fine.is_ok(), "loopback itself is allowed: {fine:?}");
        assert_eq!(
            server.seen().len(),
            cases.len() + 1,
            "no second hop was made"
        );
    }

    #[test]
    fn a_redirect_from_https_to_http_is_refused_unless_http_is_allowed() {
        let from = Url::parse("https://calendars.example.org/team.ics").unwrap();
        let strict = Fetcher::new(Policy::default());
        let hop = strict.next_hop(&from, "http://calendars.example.org/team.ics");
        assert_not_allowed(hop, "only https://");
        let lenient = Fetcher::new(Policy {
            allow_http: true,
            ..Policy::default()
        });
        let hop = lenient.next_hop(&from, "http://calendars.example.org/team.ics");
        assert_eq!(
            hop.unwrap().as_str(),
            "http://calendars.example.org/team.ics"
        );
        let relative = strict.next_hop(&from, "../other.ics?x=1#top").unwrap();
        assert_eq!(
            relative.as_str(),
            "https://calendars.example.org/other.ics?x=1"
        );
        assert_not_allowed(
            strict.next_hop(&from, "https://u:p@example.org/"),
            "user name",
        );
        assert_not_allowed(
            strict.next_hop(&from, "//[fd00:ec2::254]/"),
            "cloud metadata",
        );
        assert_not_allowed(strict.next_hop(&from, "https://[::1"), "invalid address");
        assert_not_allowed(
            strict.next_hop(&from, "file:///etc/passwd"),
            "only https://",
        );
    }

    #[tokio::test]
    async fn a_redirect_without_location_is_its_status() {
        let server = serve(|_| Reply::status(302)).await;
        let fetcher = Fetcher::new(Policy::permissive());
        let result = fetcher
            .fetch(&server.url("/"), &Validators::default())
            .await;
        assert_eq!(result.unwrap_err(), FetchError::Status(302));
    }

    // ---- Size cap ----

    fn small(max_bytes: usize) -> Fetcher {
        Fetcher::new(Policy {
            max_bytes,
            timeout: Duration::from_secs(10),
            ..Policy::permissive()
        })
    }

    #[tokio::test]
    async fn a_body_of_exactly_the_cap_is_accepted() {
        let server = serve(|_| Reply::status(200).body(vec![b'a'; 1000])).await;
        let fetched = small(1000)
            .fetch(&server.url("/"), &Validators::default())
            .await;
        let (text, _) = body_of(fetched.unwrap());
        assert_eq!(text.len(), 1000);
    }

    #[tokio::test]
    async fn a_body_over_the_cap_without_length_is_too_big() {
        let server = serve(|_| {
            let reply = Reply::status(200).body(vec![b'a'; 50_000]);
            Reply {
                length: Length::Omit,
                ..reply
            }
        })
        .await;
        let result = small(1000)
            .fetch(&server.url("/"), &Validators::default())
            .await;
        let err = result.unwrap_err();
        assert_eq!(err, FetchError::TooBig { limit: 1000 });
        assert!(err.is_transient());
    }

    #[tokio::test]
    async fn a_declared_length_over_the_cap_is_refused_before_reading() {
        // The server declares 50 000 bytes, sends none and keeps the connection open: only a
        // client that decides on the header alone answers before its deadline.
        let server = serve(|_| Reply {
            length: Length::Claim(50_000),
            stall: true,
            ..Reply::status(200)
        })
        .await;
        let result = small(1000)
            .fetch(&server.url("/"), &Validators::default())
            .await;
        assert_eq!(result.unwrap_err(), FetchError::TooBig { limit: 1000 });
    }

    #[tokio::test]
    async fn the_cap_stops_reading_before_the_body_ends() {
        // 2 000 bytes, no length, then silence on an open connection: a client that read to
        // the end would time out instead of answering TooBig.
        let server = serve(|_| Reply {
            length: Length::Omit,
            stall: true,
            ..Reply::status(200).body(vec![b'a'; 2000])
        })
        .await;
        let started = Instant::now();
        let result = small(1000)
            .fetch(&server.url("/"), &Validators::default())
            .await;
        assert_eq!(result.unwrap_err(), FetchError::TooBig { limit: 1000 });
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn fifty_megabytes_are_not_downloaded() {
        let chunk = vec![b'a'; 64 * 1024];
        let total = chunk.len() * 800; // 52 MB
        let server = serve(move |_| Reply {
            repeat: 800,
            length: Length::Omit,
            ..Reply::status(200).body(chunk.clone())
        })
        .await;
        let result = small(1000)
            .fetch(&server.url("/"), &Validators::default())
            .await;
        assert_eq!(result.unwrap_err(), FetchError::TooBig { limit: 1000 });
        // The client hung up: the server's writes fail once the socket buffers are full.
        let waited = Instant::now();
        while server.finished.load(Ordering::SeqCst) == 0 {
            assert!(
                waited.elapsed() < Duration::from_secs(10),
                "the server is still writing"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let written = server.written.load(Ordering::SeqCst);
        assert!(written < total / 2, "{written} of {total} bytes were sent");
    }

    // ---- Statuses, network failures, deadline ----

    #[tokio::test]
    async fn an_error_status_is_a_transient_status_error() {
        let server = serve(|req| match req.path.as_str() {
            "/missing" => Reply::status(404),
            "/choices" => Reply::status(300),
            _ => Reply::status(500).body(b"stack trace with secrets".to_vec()),
        })
        .await;
        let fetcher = Fetcher::new(Policy::permissive());
        let none = Validators::default();
        let err = fetcher.fetch(&server.url("/"), &none).await.unwrap_err();
        assert_eq!(err, FetchError::Status(500));
        assert!(err.is_transient());
        let text = err.to_string();
        assert_eq!(
            text,
            "The calendar server answered HTTP 500 (Internal Server Error)."
        );
        let missing = fetcher.fetch(&server.url("/missing"), &none).await;
        assert_eq!(missing.unwrap_err(), FetchError::Status(404));
        let choices = fetcher.fetch(&server.url("/choices"), &none).await;
        assert_eq!(choices.unwrap_err(), FetchError::Status(300));
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_network_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let fetcher = Fetcher::new(Policy::permissive());
        let url = format!("http://127.0.0.1:{port}/");
        let err = fetcher
            .fetch(&url, &Validators::default())
            .await
            .unwrap_err();
        assert_eq!(
            err,
            FetchError::Network("127.0.0.1 refused the connection".to_string())
        );
        assert!(err.is_transient());
    }

    #[tokio::test]
    async fn an_unknown_host_is_a_network_error() {
        let fetcher = Fetcher::new(Policy::permissive());
        let url = "http://no-such-host.invalid/cal.ics";
        let err = fetcher
            .fetch(url, &Validators::default())
            .await
            .unwrap_err();
        // A sandbox without DNS may fail differently; it must still be a network error.
        assert!(matches!(err, FetchError::Network(_)), "{err:?}");
        assert!(err.is_transient());
    }

    #[tokio::test]
    async fn the_whole_fetch_has_a_deadline() {
        let server = serve(|_| Reply {
            length: Length::Omit,
            stall: true,
            ..Reply::ok("BEGIN:VCALENDAR\r\n")
        })
        .await;
        let fetcher = Fetcher::new(Policy {
            timeout: Duration::from_millis(500),
            ..Policy::permissive()
        });
        let started = Instant::now();
        let err = fetcher
            .fetch(&server.url("/"), &Validators::default())
            .await;
        let err = err.unwrap_err();
        assert_eq!(
            err,
            FetchError::Network("timed out after 0.5 s".to_string())
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(err.is_transient());
    }

    // ---- check_url ----

    /// One client for the many calls of the property tests (building one loads the TLS roots).
    fn strict() -> &'static Fetcher {
        static STRICT: std::sync::LazyLock<Fetcher> =
            std::sync::LazyLock::new(|| Fetcher::new(Policy::default()));
        &STRICT
    }

    #[test]
    fn check_url_accepts_and_normalises_public_https() {
        let ok = |url: &str| strict().check_url(url).map(|u| u.to_string());
        let expected = "https://calendars.example.org/team.ics";
        assert_eq!(
            ok("  https://Calendars.Example.ORG/team.ics#today ").unwrap(),
            expected
        );
        assert_eq!(
            ok("webcal://calendars.example.org/team.ics").unwrap(),
            expected
        );
        assert_eq!(
            ok("WEBCAL://calendars.example.org/team.ics").unwrap(),
            expected
        );
        assert_eq!(ok("https://8.8.8.8/cal").unwrap(), "https://8.8.8.8/cal");
        assert_eq!(
            ok("https://[2606:4700::1111]:8443/").unwrap(),
            "https://[2606:4700::1111]:8443/"
        );
    }

    #[test]
    fn check_url_refuses_what_a_moderator_must_change() {
        let strict = strict();
        let cases = [
            ("calendar please", "not a valid web address"),
            ("", "not a valid web address"),
            ("https://", "not a valid web address"),
            ("http://calendars.example.org/", "only https://"),
            ("ftp://calendars.example.org/", "only https://"),
            ("file:///etc/passwd", "only https://"),
            (
                "https://user:pw@calendars.example.org/",
                "user name or password",
            ),
            (
                "https://user@calendars.example.org/",
                "user name or password",
            ),
            ("https://calendars.example.org:25/", "port 25"),
            ("https://calendars.example.org:0/", "port 0"),
            ("https://127.0.0.1/", "loopback"),
            ("https://[::1]/", "loopback"),
            ("https://[::ffff:127.0.0.1]/", "loopback"),
            ("https://[::ffff:10.1.2.3]/", "private"),
            (
                "https://2130706433/",
                "127.0.0.1 is not a public address (loopback)",
            ),
            (
                "https://0x7f.1/",
                "127.0.0.1 is not a public address (loopback)",
            ),
            (
                "https://017700000001/",
                "127.0.0.1 is not a public address (loopback)",
            ),
            (
                "https://0/",
                "0.0.0.0 is not a public address (unspecified)",
            ),
            ("https://169.254.169.254/latest/meta-data", "cloud metadata"),
            ("https://[fd00:ec2::254]/", "cloud metadata"),
            ("https://[::]/", "unspecified"),
            ("https://10.0.0.1/", "private"),
        ];
        for (url, why) in cases {
            let result = strict.check_url(url);
            assert_not_allowed(result, why);
        }
        let http = Fetcher::new(Policy {
            allow_http: true,
            ..Policy::default()
        });
        assert_not_allowed(
            http.check_url("ftp://example.org/"),
            "only http:// and https://",
        );
        assert_not_allowed(http.check_url("http://2130706433/"), "loopback");
    }

    #[test]
    fn allow_loopback_allows_loopback_only() {
        let fetcher = Fetcher::new(loopback_http());
        assert!(fetcher.check_url("http://127.0.0.1:8080/").is_ok());
        assert!(fetcher.check_url("http://127.9.9.9/").is_ok());
        assert!(fetcher.check_url("http://[::1]/").is_ok());
        assert!(fetcher.check_url("http://[::ffff:127.0.0.1]/").is_ok());
        assert_not_allowed(fetcher.check_url("http://192.168.1.1/"), "private");
        assert_not_allowed(fetcher.check_url("http://[fe80::1]/"), "link-local");
        let permissive = Fetcher::new(Policy::permissive());
        assert!(permissive.check_url("http://192.168.1.1/").is_ok());
        assert!(permissive.check_url("http://169.254.169.254/").is_ok());
    }

    #[test]
    fn not_allowed_is_the_only_permanent_error() {
        assert!(!FetchError::NotAllowed("x".to_string()).is_transient());
        assert!(FetchError::TooBig { limit: 1 }.is_transient());
        assert!(FetchError::TooManyRedirects { limit: 3 }.is_transient());
        assert!(FetchError::Status(500).is_transient());
        assert!(FetchError::Network("x".to_string()).is_transient());
    }

    #[test]
    fn messages_are_short_sentences() {
        let said = |err: FetchError| err.to_string();
        assert_eq!(
            said(FetchError::NotAllowed("port 25 is not allowed".to_string())),
            "That calendar address is not allowed: port 25 is not allowed."
        );
        assert_eq!(
            said(FetchError::TooBig { limit: 1_000_000 }),
            "The calendar is larger than 1 MB, the most the bot accepts."
        );
        assert_eq!(
            said(FetchError::TooBig { limit: 250_000 }),
            "The calendar is larger than 250 KB, the most the bot accepts."
        );
        assert_eq!(
            said(FetchError::TooManyRedirects { limit: 3 }),
            "The calendar address redirects more than 3 times."
        );
        assert_eq!(
            said(FetchError::Status(404)),
            "The calendar server answered HTTP 404 (Not Found)."
        );
        assert_eq!(
            said(FetchError::Status(599)),
            "The calendar server answered HTTP 599."
        );
        assert_eq!(
            said(FetchError::Network("timed out after 20 s".to_string())),
            "The calendar server could not be reached: timed out after 20 s."
        );
    }

    #[test]
    fn the_default_policy_is_the_safe_one() {
        let policy = Policy::default();
        assert!(!policy.allow_private && !policy.allow_loopback && !policy.allow_http);
        assert_eq!(policy.max_bytes, crate::events::ical::MAX_BYTES);
        assert_eq!(policy.max_redirects, 3);
        assert_eq!(policy.timeout, Duration::from_secs(20));
        let permissive = Policy::permissive();
        assert!(permissive.allow_private && permissive.allow_loopback && permissive.allow_http);
    }

    // ---- The address classifier ----

    fn class(ip: &str) -> AddressClass {
        classify(ip.parse().unwrap())
    }

    #[test]
    fn every_non_public_ipv4_class_is_recognised() {
        use AddressClass::{Loopback, NonPublic};
        let cases = [
            ("0.0.0.0", NonPublic("unspecified")),
            ("0.1.2.3", NonPublic("unspecified")),
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("10.0.0.1", NonPublic("private")),
            ("172.16.0.1", NonPublic("private")),
            ("172.31.255.255", NonPublic("private")),
            ("192.168.1.1", NonPublic("private")),
            ("100.64.0.1", NonPublic("shared CGNAT")),
            ("100.100.100.200", NonPublic("shared CGNAT")),
            ("169.254.0.1", NonPublic("link-local")),
            ("169.254.169.254", NonPublic("cloud metadata")),
            ("192.0.0.192", NonPublic("IETF protocol")),
            ("192.0.2.1", NonPublic("documentation")),
            ("198.51.100.1", NonPublic("documentation")),
            ("203.0.113.1", NonPublic("documentation")),
            ("192.88.99.1", NonPublic("6to4 relay")),
            ("198.18.0.1", NonPublic("benchmarking")),
            ("224.0.0.1", NonPublic("multicast")),
            ("239.255.255.250", NonPublic("multicast")),
            ("240.0.0.1", NonPublic("reserved")),
            ("255.255.255.255", NonPublic("broadcast")),
        ];
        for (ip, expected) in cases {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }

    #[test]
    fn every_non_public_ipv6_class_is_recognised() {
        use AddressClass::{Loopback, NonPublic};
        let cases = [
            ("::", NonPublic("unspecified")),
            ("::1", Loopback),
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:10.0.0.1", NonPublic("private")),
            ("::ffff:169.254.169.254", NonPublic("cloud metadata")),
            ("::ffff:0.0.0.0", NonPublic("unspecified")),
            ("::127.0.0.1", Loopback),
            ("::192.168.0.1", NonPublic("private")),
            ("::8.8.8.8", NonPublic("IPv4-compatible")),
            ("64:ff9b::127.0.0.1", Loopback),
            ("64:ff9b::a9fe:a9fe", NonPublic("cloud metadata")),
            ("2002:7f00:1::", Loopback),
            ("2002:a00:1::1", NonPublic("private")),
            ("fd00:ec2::254", NonPublic("cloud metadata")),
            ("fc00::1", NonPublic("unique-local")),
            ("fd12:3456::1", NonPublic("unique-local")),
            ("fe80::1", NonPublic("link-local")),
            ("fec0::1", NonPublic("site-local")),
            ("ff02::1", NonPublic("multicast")),
            ("2001:db8::1", NonPublic("documentation")),
            ("3fff::1", NonPublic("documentation")),
            ("2001::1", NonPublic("IETF special-purpose")),
            ("100::1", NonPublic("reserved")),
            ("64:ff9b:1::1", NonPublic("reserved")),
            ("::ffff:0:7f00:1", NonPublic("reserved")),
        ];
        for (ip, expected) in cases {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }

    #[test]
    fn public_addresses_are_allowed_by_the_safe_policy() {
        let policy = Policy::default();
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "192.0.3.1",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:808:808::1",
        ] {
            assert_eq!(class(ip), AddressClass::Public, "{ip}");
            assert!(policy.allows(ip.parse().unwrap()), "{ip}");
        }
        assert!(!policy.allows("127.0.0.1".parse().unwrap()));
        assert!(!Policy::default().allows("::ffff:169.254.169.254".parse().unwrap()));
    }

    proptest::proptest! {
        #[test]
        fn check_url_never_panics(text in ".{0,200}") {
            let _ = strict().check_url(&text);
        }

        #[test]
        fn check_url_never_panics_on_url_like_text(
            text in "(https?|webcal|WebCal|ftp)://[a-zA-Z0-9.:@%\\[\\]/?#_~-]{0,60}"
        ) {
            let _ = strict().check_url(&text);
        }

        #[test]
        fn a_checked_url_is_never_a_non_public_literal(
            a in proptest::num::u8::ANY, b in proptest::num::u8::ANY,
            c in proptest::num::u8::ANY, d in proptest::num::u8::ANY,
        ) {
            let ip = Ipv4Addr::new(a, b, c, d);
            let url = format!("https://{ip}/");
            let allowed = strict().check_url(&url).is_ok();
            proptest::prop_assert_eq!(allowed, classify(IpAddr::V4(ip)) == AddressClass::Public);
        }

        #[test]
        fn the_classifier_is_total(bits in proptest::num::u128::ANY) {
            let _ = classify(IpAddr::V6(Ipv6Addr::from(bits)));
        }
    }
}
