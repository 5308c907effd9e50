//! One request budget per AWS endpoint and account, shared by every call the
//! provider process makes to it. IAM throttles per account: calls that each
//! back off on their own leave the account's budget idle while they sleep and
//! pile up when they wake. Here every request to an endpoint waits for a send
//! slot from one pacer. The pacer sends freely until the endpoint first
//! throttles; from then on it paces at what the endpoint accepted over the
//! last two seconds, plus a margin that keeps the endpoint's budget in use
//! (a throttled request costs a round trip, an idle slot costs time), and it
//! probes upwards while nothing is throttled. A throttled request is sent
//! again at its next slot, so throttling never reaches the retry loops above.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;

/// What the endpoint accepted is measured over this window.
const WINDOW: Duration = Duration::from_secs(2);
/// Pace this much above the measured rate: the endpoint's budget stays in use.
const HEADROOM: f64 = 1.1;
/// With nothing throttled for a second, the pace rises by this factor.
const PROBE: f64 = 1.1;
const MIN_RATE: f64 = 0.5;
/// A request throttled this many times goes back to the SDK as throttled.
const MAX_SENDS: u32 = 50;

/// The pacer's state, driven by explicit instants so it can be tested.
#[derive(Debug)]
pub struct Pacer {
    /// Requests per second; none until the endpoint first throttles.
    rate: Option<f64>,
    next_slot: Instant,
    accepted: VecDeque<Instant>,
    since: Instant,
    last_throttle: Option<Instant>,
    last_change: Instant,
}

impl Pacer {
    pub fn new(now: Instant) -> Pacer {
        Pacer {
            rate: None,
            next_slot: now,
            accepted: VecDeque::new(),
            since: now,
            last_throttle: None,
            last_change: now,
        }
    }

    /// Reserves the next send slot and says how long until it (zero: send
    /// now). Slots are handed out in order of asking, so no request starves.
    pub fn slot(&mut self, now: Instant) -> Duration {
        let Some(rate) = self.rate else {
            return Duration::ZERO;
        };
        // An idle pacer does not bank slots: a burst after a pause is paced too.
        let at = self.next_slot.max(now);
        self.next_slot = at + Duration::from_secs_f64(1.0 / rate);
        at - now
    }

    fn trim(&mut self, now: Instant) {
        while self.accepted.front().is_some_and(|t| now - *t > WINDOW) {
            self.accepted.pop_front();
        }
    }

    pub fn accepted(&mut self, now: Instant) {
        self.accepted.push_back(now);
        self.trim(now);
        if let Some(rate) = self.rate {
            let calm = self
                .last_throttle
                .is_none_or(|t| now - t > Duration::from_secs(1));
            if calm && now - self.last_change > Duration::from_secs(1) {
                self.rate = Some(rate * PROBE);
                self.last_change = now;
            }
        }
    }

    pub fn throttled(&mut self, now: Instant) {
        self.trim(now);
        let span = (now - self.since)
            .min(WINDOW)
            .max(Duration::from_millis(500));
        let measured = self.accepted.len() as f64 / span.as_secs_f64();
        self.rate = Some((measured * HEADROOM).max(MIN_RATE));
        self.last_throttle = Some(now);
        self.last_change = now;
    }

    pub fn rate(&self) -> Option<f64> {
        self.rate
    }
}

/// An HTTP client whose requests all pass one pacer.
#[derive(Debug, Clone)]
pub struct PacedClient {
    inner: SharedHttpClient,
    pacer: Arc<Mutex<Pacer>>,
}

impl PacedClient {
    pub fn new(inner: SharedHttpClient) -> PacedClient {
        PacedClient {
            inner,
            pacer: Arc::new(Mutex::new(Pacer::new(Instant::now()))),
        }
    }
}

impl HttpClient for PacedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(PacedConnector {
            inner: self.inner.http_connector(settings, components),
            pacer: self.pacer.clone(),
        })
    }
}

#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
    pacer: Arc<Mutex<Pacer>>,
}

/// Error codes AWS endpoints throttle with (query, JSON and REST protocols).
const THROTTLE_CODES: [&[u8]; 5] = [
    b"Throttling",
    b"ThrottlingException",
    b"TooManyRequestsException",
    b"RequestLimitExceeded",
    b"SlowDown",
];

fn is_throttle(status: u16, error_type: Option<&str>, body: &[u8]) -> bool {
    if status == 429 {
        return true;
    }
    if status != 400 && status != 503 {
        return false;
    }
    let header = error_type.is_some_and(|t| {
        THROTTLE_CODES.iter().any(|c| {
            t.split(':')
                .next()
                .is_some_and(|code| code.as_bytes() == *c)
        })
    });
    header
        || THROTTLE_CODES.iter().any(|c| {
            let tagged = [b"<Code>".as_slice(), c, b"</Code>"].concat();
            let quoted = [b"\"".as_slice(), c, b"\""].concat();
            contains(body, &tagged) || contains(body, &quoted)
        })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

impl PacedConnector {
    async fn wait_for_slot(pacer: &Mutex<Pacer>) {
        let wait = match pacer.lock() {
            Ok(mut p) => p.slot(Instant::now()),
            Err(_) => Duration::ZERO,
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    fn record(pacer: &Mutex<Pacer>, throttled: bool) {
        if let Ok(mut p) = pacer.lock() {
            if throttled {
                p.throttled(Instant::now());
            } else {
                p.accepted(Instant::now());
            }
        }
    }
}

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let pacer = self.pacer.clone();
        HttpConnectorFuture::new(async move {
            let mut sends = 0;
            loop {
                sends += 1;
                Self::wait_for_slot(&pacer).await;
                // An in-memory body (every IAM, EKS and STS request) can be
                // sent again; anything else is sent once.
                let Some(copy) = request.try_clone() else {
                    return inner.call(request).await;
                };
                let mut response = inner.call(copy).await?;
                let status = response.status().as_u16();
                if !matches!(status, 400 | 429 | 503) {
                    Self::record(&pacer, false);
                    return Ok(response);
                }
                let error_type = response
                    .headers()
                    .get("x-amzn-errortype")
                    .map(str::to_string);
                let body = ByteStream::new(response.take_body())
                    .collect()
                    .await
                    .map_err(|e| ConnectorError::io(e.into()))?
                    .into_bytes();
                let throttled = is_throttle(status, error_type.as_deref(), &body);
                Self::record(&pacer, throttled);
                if !throttled || sends >= MAX_SENDS {
                    *response.body_mut() = SdkBody::from(body);
                    return Ok(response);
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn sends_freely_until_the_first_throttle() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        for i in 0..100 {
            assert_eq!(p.slot(at(t0, i)), Duration::ZERO);
            p.accepted(at(t0, i));
        }
        assert_eq!(p.rate(), None);
    }

    #[test]
    fn paces_just_above_what_the_endpoint_accepts() {
        // An endpoint that accepts 10 requests a second, measured over two seconds.
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        for i in 0..20 {
            p.accepted(at(t0, i * 100));
        }
        p.throttled(at(t0, 2000));
        let rate = p.rate().unwrap();
        assert!((10.0..=11.5).contains(&rate), "{rate}");
        // Fifty requests asking at once get slots 1/rate apart, in order.
        let now = at(t0, 2000);
        let waits: Vec<Duration> = (0..50).map(|_| p.slot(now)).collect();
        assert_eq!(waits[0], Duration::ZERO);
        assert!(waits.windows(2).all(|w| w[0] < w[1]));
        let in_first_second = waits
            .iter()
            .filter(|w| **w < Duration::from_secs(1))
            .count();
        assert!((10..=12).contains(&in_first_second), "{in_first_second}");
    }

    #[test]
    fn a_calm_endpoint_is_probed_upwards() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        for i in 0..10 {
            p.accepted(at(t0, i * 100));
        }
        p.throttled(at(t0, 1000));
        let before = p.rate().unwrap();
        for i in 0..30 {
            p.accepted(at(t0, 1000 + i * 100));
        }
        assert!(
            p.rate().unwrap() > before * 1.15,
            "{:?} vs {before}",
            p.rate()
        );
    }

    #[test]
    fn throttles_are_recognised_in_every_protocol() {
        let query = b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>";
        assert!(is_throttle(400, None, query));
        assert!(is_throttle(429, None, b""));
        assert!(is_throttle(
            400,
            Some("ThrottlingException:http://x"),
            b"{}"
        ));
        assert!(is_throttle(
            400,
            None,
            br#"{"__type":"ThrottlingException"}"#
        ));
        let denied = b"<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>";
        assert!(!is_throttle(400, None, denied));
        assert!(!is_throttle(404, None, query));
    }
}
