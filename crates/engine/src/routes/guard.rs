//! What stands in front of the handlers: an address that keeps sending wrong keys is locked
//! out for a while (HTTP 429, code "429", `Retry-After`), uploads are processed a few at a
//! time (a burst waits its turn, bounded, instead of filling memory), and a request has a
//! deadline from its headers to its answer.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::Semaphore;

use super::{lang_of, reply, EngineState};
use crate::key_failures;
use ekyc_contract::{Code, Shape};

/// When wrong keys from one address lock it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutLimits {
    /// Wrong keys (API key or Krypton `companyId`) within `window` that lock the address.
    pub failures: u32,
    /// How far back wrong keys count.
    pub window: Duration,
    /// How long a locked address is refused.
    pub lockout: Duration,
}

impl Default for LockoutLimits {
    fn default() -> Self {
        Self {
            failures: 10,
            window: Duration::from_secs(300),
            lockout: Duration::from_secs(300),
        }
    }
}

/// Addresses remembered at most (a few dozen bytes each).
const MOST_ADDRESSES: usize = 4096;

/// Wrong keys per address.
#[derive(Debug)]
pub(super) struct KeyLockout {
    limits: LockoutLimits,
    addresses: Mutex<HashMap<IpAddr, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
    locked_until: Option<Instant>,
}

impl KeyLockout {
    pub(super) fn new(limits: LockoutLimits) -> Self {
        Self {
            limits,
            addresses: Mutex::new(HashMap::new()),
        }
    }

    fn addresses(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Failures>> {
        self.addresses
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How much longer `address` is locked out, if it is.
    pub(super) fn locked(&self, address: IpAddr, now: Instant) -> Option<Duration> {
        let until = self.addresses().get(&address)?.locked_until?;
        until
            .checked_duration_since(now)
            .filter(|left| !left.is_zero())
    }

    /// Counts a wrong key; true when this one locked the address.
    pub(super) fn failed(&self, address: IpAddr, now: Instant) -> bool {
        let limits = self.limits;
        let mut addresses = self.addresses();
        if addresses.len() >= MOST_ADDRESSES && !addresses.contains_key(&address) {
            addresses.retain(|_, failures| failures.matter(now, limits));
            if addresses.len() >= MOST_ADDRESSES {
                // Thousands of addresses guessing at once: keep the locked ones.
                addresses.retain(|_, failures| failures.locked_until.is_some_and(|t| t > now));
            }
        }
        let failures = addresses.entry(address).or_insert(Failures {
            count: 0,
            since: now,
            locked_until: None,
        });
        if !failures.matter(now, limits) {
            *failures = Failures {
                count: 0,
                since: now,
                locked_until: None,
            };
        }
        failures.count += 1;
        if failures.count >= limits.failures.max(1) {
            failures.locked_until = Some(now + limits.lockout);
            failures.count = 0;
            failures.since = now;
            return true;
        }
        false
    }

    /// A right key: the address's wrong ones are forgotten.
    pub(super) fn succeeded(&self, address: IpAddr) {
        let mut addresses = self.addresses();
        if addresses
            .get(&address)
            .is_some_and(|failures| failures.locked_until.is_none())
        {
            addresses.remove(&address);
        }
    }

    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.addresses().len()
    }
}

impl Failures {
    /// Still counted: within the window, or locked.
    fn matter(&self, now: Instant, limits: LockoutLimits) -> bool {
        self.locked_until.is_some_and(|until| until > now)
            || now.duration_since(self.since) < limits.window
    }
}

/// Runs `work` on the shared database off the async threads, waiting as long as any
/// request waits for it; the reason (logged) when it cannot.
async fn on_shared_database<T: Send + 'static>(
    enrolments: &Arc<crate::Enrolments>,
    step: &'static str,
    work: impl FnOnce(&crate::database::Database) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let enrolments = enrolments.clone();
    let done = super::on_database(
        super::DATABASE_WAIT,
        move || {
            let shared = crate::kept::shared(&enrolments)?;
            work(&shared.database)
        },
        |why| why,
    )
    .await;
    done.inspect_err(|why| tracing::warn!("{step}: {why}"))
}

/// Who sent the request: `peer`, or, when `peer` is one of the `trusted` load balancers,
/// the address it appended last to `X-Forwarded-For` (earlier entries are the client's
/// own to write, and are not believed). A balancer that sent none, or one that does not
/// parse: the balancer itself.
fn client_address(peer: IpAddr, headers: &header::HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|value| value.to_str().ok())
        .and_then(|list| list.rsplit(',').next())
        .and_then(|last| last.trim().parse::<IpAddr>().ok())
        .unwrap_or(peer)
}

/// The shape an endpoint answers in (`/ocr`: errorCode; the others: code).
fn shape_of(path: &str) -> Shape {
    if path == "/ocr" {
        Shape::ErrorCode
    } else {
        Shape::Code
    }
}

/// Whole seconds for `Retry-After`, rounded up.
fn seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

fn with_retry_after(mut response: Response, wait: Duration) -> Response {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds(wait).max(1)));
    response
}

/// Refuses a locked-out address before anything else, and counts the wrong keys the
/// handlers refused (HTTP 401) and the right ones they accepted.
pub(super) async fn lock_out_key_guessers(
    State(state): State<Arc<EngineState>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(peer) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip())
    else {
        return next.run(request).await;
    };
    let address = client_address(peer, request.headers(), &state.trusted_proxies);
    let shared = state.shared_enrolments();
    if shared.is_some() && request.method() != axum::http::Method::POST {
        // Health, readiness, metrics: no key, and no database round trip for them.
        return next.run(request).await;
    }
    let lockout = &state.lockout;
    let locked = match &shared {
        None => lockout.locked(address, Instant::now()),
        Some(enrolments) => {
            let checked = on_shared_database(enrolments, "checking a lockout", move |db| {
                key_failures::locked(db, address)
            })
            .await;
            match checked {
                Ok(locked) => locked,
                // Unknown whether the address is locked out: refused at once, as every
                // request that needs the database would be.
                Err(why) => {
                    let lang = lang_of(request.headers());
                    return super::sessions_unavailable(&why, shape_of(request.uri().path()), lang);
                }
            }
        }
    };
    if let Some(left) = locked {
        let lang = lang_of(request.headers());
        let minutes = seconds(left).div_ceil(60);
        let refused = reply(
            shape_of(request.uri().path()),
            StatusCode::TOO_MANY_REQUESTS,
            Code::TooManyRequests,
            &lang.say(
                &format!("Too many wrong keys from this address: try again in {minutes} min"),
                &format!("Sai khoá quá nhiều lần từ địa chỉ này: thử lại sau {minutes} phút"),
            ),
        );
        return with_retry_after(refused, left);
    }
    let response = next.run(request).await;
    let limits = lockout.limits;
    if response.status() == StatusCode::UNAUTHORIZED {
        let now_locked = match &shared {
            None => lockout.failed(address, Instant::now()),
            Some(enrolments) => on_shared_database(enrolments, "counting a wrong key", move |db| {
                key_failures::failed(db, address, limits)
            })
            .await
            .unwrap_or(false),
        };
        if now_locked {
            tracing::warn!(
                "{address} is locked out for {:?} after {} wrong keys",
                limits.lockout,
                limits.failures
            );
        }
    } else if response.status().is_success() {
        match &shared {
            None => lockout.succeeded(address),
            Some(enrolments) => {
                // Logged when it fails; the answer stands.
                let _ = on_shared_database(enrolments, "forgetting wrong keys", move |db| {
                    key_failures::succeeded(db, address)
                })
                .await;
            }
        }
    }
    response
}

/// How many uploads are processed at once, and how long one waits for its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    /// Requests carrying images read and processed at once: the workers (a verification
    /// step is a core's work, so one per core by default); the body of one is at most two
    /// files of `max_file_bytes`, so this also bounds the memory uploads take.
    pub at_once: usize,
    /// Requests waiting for a turn, at most; one more is answered 503 at once, with a
    /// `Retry-After` from the queue's length. The waiting ones get their turn in the order
    /// they came, so under load requests finish one after another instead of all late.
    pub queue: usize,
    /// A request that waited this long for its turn is answered 503 with `Retry-After`.
    pub most_wait: Duration,
    /// From the headers to the answer: a request over it is answered 408 (a body sent too
    /// slowly) and its work dropped.
    pub deadline: Duration,
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self {
            at_once: cores(),
            queue: 16,
            most_wait: Duration::from_secs(30),
            deadline: Duration::from_secs(120),
        }
    }
}

/// The machine's cores (2 when it cannot say).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

/// A verification step's time on a core, about: what `Retry-After` counts in.
const SECONDS_PER_TURN: u64 = 2;

/// The turns for uploads.
#[derive(Debug)]
pub(super) struct UploadTurns {
    limits: UploadLimits,
    turns: Arc<Semaphore>,
    /// Requests waiting for a turn now.
    waiting: Arc<std::sync::atomic::AtomicUsize>,
}

impl UploadTurns {
    pub(super) fn new(limits: UploadLimits) -> Self {
        Self {
            limits,
            turns: Arc::new(Semaphore::new(limits.at_once.max(1))),
            waiting: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
        }
    }

    /// Uploads being processed now, and waiting for a turn.
    pub(super) fn load(&self) -> (usize, usize) {
        let at_once = self.limits.at_once.max(1);
        let busy = at_once.saturating_sub(self.turns.available_permits());
        (busy, self.waiting.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// A place in the queue, or how long to wait when it is full (the queue's turns at
    /// [`SECONDS_PER_TURN`] each).
    fn join(&self) -> Result<Waiting, Duration> {
        use std::sync::atomic::Ordering;
        let at_once = self.limits.at_once.max(1);
        let ahead = self.waiting.fetch_add(1, Ordering::SeqCst);
        if ahead >= self.limits.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            let turns = (ahead / at_once + 1) as u64;
            return Err(Duration::from_secs(turns * SECONDS_PER_TURN));
        }
        Ok(Waiting(self.waiting.clone()))
    }
}

/// A request's place in the queue, given up when its turn comes (or it is dropped).
struct Waiting(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// `/ocr` and `/face/liveness` wait for a turn; every request has the deadline.
pub(super) async fn take_turns(
    State(state): State<Arc<EngineState>>,
    request: Request,
    next: Next,
) -> Response {
    let limits = state.uploads.limits;
    let path = request.uri().path().to_owned();
    let shape = shape_of(&path);
    let lang = lang_of(request.headers());
    let uploads = path == "/ocr" || path == "/face/liveness";
    let busy = |message: (&str, &str), wait: Duration| {
        let busy = reply(
            shape,
            StatusCode::SERVICE_UNAVAILABLE,
            Code::Busy,
            &lang.say(message.0, message.1),
        );
        with_retry_after(busy, wait)
    };
    let work = async {
        let _turn = if uploads {
            let place = match state.uploads.join() {
                Ok(place) => place,
                Err(wait) => {
                    tracing::warn!(
                        "{path}: the queue is full ({} waiting): 503, retry after {wait:?}",
                        limits.queue
                    );
                    return busy(
                        (
                            "The engine is busy: try again shortly",
                            "Máy chủ đang bận: vui lòng thử lại sau giây lát",
                        ),
                        wait,
                    );
                }
            };
            let waited = tokio::time::timeout(
                limits.most_wait,
                state.uploads.turns.clone().acquire_owned(),
            )
            .await;
            drop(place);
            match waited {
                Ok(Ok(turn)) => Some(turn),
                _ => {
                    tracing::warn!(
                        "{path}: no turn within {:?} ({} uploads at once)",
                        limits.most_wait,
                        limits.at_once
                    );
                    return busy(
                        (
                            "The engine is busy with other uploads: try again shortly",
                            "Máy chủ đang bận xử lý ảnh khác: vui lòng thử lại sau giây lát",
                        ),
                        Duration::from_secs(5),
                    );
                }
            }
        } else {
            None
        };
        next.run(request).await
    };
    match tokio::time::timeout(limits.deadline, work).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!("{path}: no answer within {:?}, dropped", limits.deadline);
            let mut late = reply(
                shape,
                StatusCode::REQUEST_TIMEOUT,
                Code::Other("408".into()),
                &lang.say(
                    "The request took too long (a slow upload?): send it again",
                    "Yêu cầu mất quá nhiều thời gian (mạng chậm?): vui lòng gửi lại",
                ),
            );
            late.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            late
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> LockoutLimits {
        LockoutLimits {
            failures: 3,
            window: Duration::from_secs(60),
            lockout: Duration::from_secs(300),
        }
    }

    #[test]
    fn wrong_keys_within_the_window_lock_the_address_for_the_lockout() {
        let lockout = KeyLockout::new(limits());
        let address: IpAddr = "10.0.0.7".parse().unwrap();
        let other: IpAddr = "10.0.0.8".parse().unwrap();
        let start = Instant::now();
        assert!(!lockout.failed(address, start));
        assert!(!lockout.failed(address, start + Duration::from_secs(10)));
        assert_eq!(lockout.locked(address, start), None);
        assert!(lockout.failed(address, start + Duration::from_secs(20)));
        assert_eq!(
            lockout.locked(address, start + Duration::from_secs(20)),
            Some(Duration::from_secs(300))
        );
        assert_eq!(lockout.locked(other, start), None, "only that address");
        // A right key while locked does not unlock.
        lockout.succeeded(address);
        assert!(lockout
            .locked(address, start + Duration::from_secs(319))
            .is_some());
        assert_eq!(
            lockout.locked(address, start + Duration::from_secs(320)),
            None
        );
    }

    #[test]
    fn wrong_keys_spread_beyond_the_window_or_a_right_key_start_the_count_again() {
        let lockout = KeyLockout::new(limits());
        let address: IpAddr = "10.0.0.7".parse().unwrap();
        let start = Instant::now();
        lockout.failed(address, start);
        lockout.failed(address, start + Duration::from_secs(30));
        // The window (60 s) from the first wrong key has passed: this one counts as first.
        assert!(!lockout.failed(address, start + Duration::from_secs(61)));
        assert!(!lockout.failed(address, start + Duration::from_secs(62)));
        lockout.succeeded(address);
        assert!(!lockout.failed(address, start + Duration::from_secs(63)));
        assert!(!lockout.failed(address, start + Duration::from_secs(64)));
        assert!(lockout.failed(address, start + Duration::from_secs(65)));
    }

    #[test]
    fn the_addresses_remembered_are_bounded() {
        let lockout = KeyLockout::new(limits());
        let start = Instant::now();
        for n in 0..(MOST_ADDRESSES as u32 + 500) {
            let address = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n));
            lockout.failed(address, start);
        }
        assert!(lockout.remembered() <= MOST_ADDRESSES);
    }

    #[test]
    fn a_trusted_balancer_names_the_client_and_anyone_else_is_the_client() {
        let balancer: IpAddr = "10.0.0.5".parse().unwrap();
        let kiosk: IpAddr = "10.20.1.7".parse().unwrap();
        let forwarded = |values: &[&str]| {
            let mut headers = header::HeaderMap::new();
            for value in values {
                headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
            }
            headers
        };
        let trusted = [balancer];
        // The balancer appended the kiosk's address after whatever the kiosk wrote.
        let written = forwarded(&["203.0.113.9, 10.20.1.7"]);
        assert_eq!(client_address(balancer, &written, &trusted), kiosk);
        let two_headers = forwarded(&["203.0.113.9", "10.20.1.7"]);
        assert_eq!(client_address(balancer, &two_headers, &trusted), kiosk);
        // Not through a trusted balancer: the header is anyone's to write.
        assert_eq!(client_address(kiosk, &written, &trusted), kiosk);
        assert_eq!(client_address(balancer, &written, &[]), balancer);
        // The balancer sent nothing usable: the balancer.
        assert_eq!(
            client_address(balancer, &forwarded(&[]), &trusted),
            balancer
        );
        assert_eq!(
            client_address(balancer, &forwarded(&["unknown"]), &trusted),
            balancer
        );
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        assert_eq!(seconds(Duration::from_millis(1)), 1);
        assert_eq!(seconds(Duration::from_secs(300)), 300);
        assert_eq!(seconds(Duration::from_millis(299_001)), 300);
    }
}
