//! What goes over the wire between emulated services: HTTP/1.1 requests for `http`, `graphql` and `tcp` calls,
//! gRPC over HTTP/2 for `grpc` calls (real framing: a length-prefixed message each way, `grpc-status` in the
//! trailers, or in the headers of a trailers-only answer for a failure), and the flow a request belongs to in a
//! header.

use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Body, Bytes, Frame};
use hyper::header::{HeaderMap, HeaderValue};

/// The header that carries a request's flow (its index in the design) from service to service.
pub(crate) const FLOW_HEADER: &str = "x-syncopate-flow";

/// The number of a call made through a proxy, on each of its tries, so the emulator knows whether any try reached
/// a replica (see `World::proxied_call`).
pub(crate) const CALL_HEADER: &str = "x-syncopate-call";

/// The number of the request (of a polling flow) a call works for, so the entry knows when all its work is done;
/// 0 (and absent) for requests nobody polls for.
pub(crate) const REQUEST_HEADER: &str = "x-syncopate-request";

/// On a client's poll: the number of the request whose result it asks for.
pub(crate) const POLL_HEADER: &str = "x-syncopate-poll";

/// On a request whose answer must say how long it was held ([`RESIDENCE_HEADER`]): `entry` from the outside
/// client (the load) to a flow's entry, `call` on a direct call's try (whose callee absorbs the loopback transit,
/// see `tare`).
pub(crate) const TIMED_HEADER: &str = "x-syncopate-timed";

/// Why a request's answer says how long it was held (see [`TIMED_HEADER`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timed {
    /// The outside client's request to a flow's entry.
    Entry,
    /// A try of a direct call.
    Call,
}

impl Timed {
    fn as_str(self) -> &'static str {
        match self {
            Timed::Entry => "entry",
            Timed::Call => "call",
        }
    }
}

/// On the answer to a timed request ([`TIMED_HEADER`]): how long the replica held it, from its arrival to its
/// answer, in microseconds. The simulator times a flow's request from its arrival at the entry, so the load leaves
/// out its own loopback hop to the entry (0.1-0.4 ms on the CI machine); a direct call's caller takes the rest of
/// its round trip as the loopback transit its callees absorb (see `tare`).
pub(crate) const RESIDENCE_HEADER: &str = "x-syncopate-residence-us";

/// An empty protobuf message in gRPC's length-prefixed framing: not compressed, length 0.
pub(crate) const GRPC_EMPTY_MESSAGE: [u8; 5] = [0, 0, 0, 0, 0];

/// gRPC status OK.
pub(crate) const GRPC_OK: &str = "0";
/// gRPC status INTERNAL: the service failed the request (its `error_rate`, an `errors` fault, a failed call).
pub(crate) const GRPC_INTERNAL: &str = "13";
/// gRPC status UNAVAILABLE: the replica's queue is full.
pub(crate) const GRPC_UNAVAILABLE: &str = "14";

/// How a replica answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    Ok,
    /// The work failed here: HTTP 500, gRPC INTERNAL.
    Failed,
    /// Turned away by a full queue: HTTP 503, gRPC UNAVAILABLE.
    Rejected,
}

impl Answer {
    /// The answer of work that succeeded or failed.
    pub(crate) fn of(succeeded: bool) -> Self {
        if succeeded {
            Answer::Ok
        } else {
            Answer::Failed
        }
    }
}

/// A response body: at most one data frame, then optional trailers (for gRPC).
pub(crate) struct ReplyBody {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl Body for ReplyBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }
}

/// The response of a replica to an HTTP or gRPC request.
pub(crate) fn reply(answer: Answer, grpc: bool) -> hyper::Response<ReplyBody> {
    let mut response = hyper::Response::new(ReplyBody {
        data: None,
        trailers: None,
    });
    if grpc {
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc"),
        );
        match answer {
            Answer::Ok => {
                let mut trailers = HeaderMap::new();
                trailers.insert("grpc-status", HeaderValue::from_static(GRPC_OK));
                *response.body_mut() = ReplyBody {
                    data: Some(Bytes::from_static(&GRPC_EMPTY_MESSAGE)),
                    trailers: Some(trailers),
                };
            }
            // A failure is a trailers-only answer: the status in the headers, no message.
            Answer::Failed | Answer::Rejected => {
                let code = if answer == Answer::Failed {
                    GRPC_INTERNAL
                } else {
                    GRPC_UNAVAILABLE
                };
                response
                    .headers_mut()
                    .insert("grpc-status", HeaderValue::from_static(code));
            }
        }
    } else {
        *response.status_mut() = match answer {
            Answer::Ok => hyper::StatusCode::OK,
            Answer::Failed => hyper::StatusCode::INTERNAL_SERVER_ERROR,
            Answer::Rejected => hyper::StatusCode::SERVICE_UNAVAILABLE,
        };
        if answer == Answer::Ok {
            *response.body_mut() = ReplyBody {
                data: Some(Bytes::from_static(b"ok")),
                trailers: None,
            };
        }
    }
    response
}

/// The answer to a client's poll for `request`: `202 Accepted` with `Retry-After` (whole seconds, at least 1, as
/// HTTP says) while the work goes on, `303 See Other` with the result's `Location` once it is done, `409 Conflict`
/// when some of it failed; 500 or 503 when the poll itself failed or was refused.
pub(crate) fn poll_reply(
    status: u16,
    request: u64,
    interval_ms: f64,
) -> hyper::Response<ReplyBody> {
    let mut response = hyper::Response::new(ReplyBody {
        data: None,
        trailers: None,
    });
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    match status {
        202 => {
            let seconds = (interval_ms / 1000.0).ceil().max(1.0) as u64;
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                headers.insert(hyper::header::RETRY_AFTER, value);
            }
        }
        303 => {
            if let Ok(value) = HeaderValue::from_str(&format!("/results/{request}")) {
                headers.insert(hyper::header::LOCATION, value);
            }
        }
        _ => {}
    }
    response
}

/// A client's poll for the result of `request` of `flow`: `GET /status/<request>`.
pub(crate) fn poll_request(
    authority: &str,
    flow: usize,
    request: u64,
) -> Result<hyper::Request<http_body_util::Full<Bytes>>, hyper::http::Error> {
    hyper::Request::get(format!("http://{authority}/status/{request}"))
        .header(FLOW_HEADER, flow.to_string())
        .header(POLL_HEADER, request.to_string())
        .body(http_body_util::Full::new(Bytes::new()))
}

/// Whether a request is gRPC.
pub(crate) fn is_grpc<B>(request: &hyper::Request<B>) -> bool {
    request
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"))
}

/// A number a request carries in one of the emulator's headers.
fn number_in<B, T: std::str::FromStr>(request: &hyper::Request<B>, header: &str) -> Option<T> {
    number_in_headers(request.headers(), header)
}

/// A number in one of the emulator's headers, of a request or an answer.
fn number_in_headers<T: std::str::FromStr>(headers: &HeaderMap, header: &str) -> Option<T> {
    headers
        .get(header)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// The call number a request carries, if any.
pub(crate) fn call_of<B>(request: &hyper::Request<B>) -> Option<u64> {
    number_in(request, CALL_HEADER)
}

/// Whether, and why, the request's answer must say how long it was held (see [`TIMED_HEADER`]).
pub(crate) fn timed<B>(request: &hyper::Request<B>) -> Option<Timed> {
    match request.headers().get(TIMED_HEADER)?.as_bytes() {
        b"entry" => Some(Timed::Entry),
        b"call" => Some(Timed::Call),
        _ => None,
    }
}

/// Asks the request's answer to say how long it was held.
pub(crate) fn set_timed<B>(request: &mut hyper::Request<B>, timed: Timed) {
    request
        .headers_mut()
        .insert(TIMED_HEADER, HeaderValue::from_static(timed.as_str()));
}

/// Says on the answer to a timed request how long the replica held it.
pub(crate) fn set_residence<B>(response: &mut hyper::Response<B>, residence_ms: f64) {
    let micros = (residence_ms.max(0.0) * 1000.0).round() as u64;
    response
        .headers_mut()
        .insert(RESIDENCE_HEADER, HeaderValue::from(micros));
}

/// How long the replica held a timed request, as its answer says (see [`RESIDENCE_HEADER`]).
pub(crate) fn residence_ms<B>(response: &hyper::Response<B>) -> Option<f64> {
    number_in_headers::<u64>(response.headers(), RESIDENCE_HEADER)
        .map(|micros| micros as f64 / 1000.0)
}

/// The number of the request (of a polling flow) a call works for; 0 when none.
pub(crate) fn request_of<B>(request: &hyper::Request<B>) -> u64 {
    number_in(request, REQUEST_HEADER).unwrap_or(0)
}

/// The request a client's poll asks about, when it is a poll.
pub(crate) fn poll_of<B>(request: &hyper::Request<B>) -> Option<u64> {
    number_in(request, POLL_HEADER)
}

/// The flow index a request carries.
pub(crate) fn flow_of<B>(request: &hyper::Request<B>) -> Option<usize> {
    number_in(request, FLOW_HEADER)
}

/// The path of a call's requests: gRPC's `/<package>.Emulated/Call` (the package as the exports route by it), or
/// `/call`.
pub(crate) fn call_path(call: &crate::model::Edge) -> String {
    if call.effective_protocol() == crate::model::Protocol::Grpc {
        format!(
            "/{}.Emulated/Call",
            crate::export::nginx::grpc_package(call.to.as_str())
        )
    } else {
        "/call".to_owned()
    }
}

/// A request to a replica or through a proxy: gRPC (`POST /<package>.Emulated/Call`, an empty framed message) or
/// plain HTTP (`POST <path>`).
pub(crate) fn request(
    authority: &str,
    path: &str,
    grpc: bool,
    flow: usize,
    call: Option<u64>,
    request: u64,
) -> Result<hyper::Request<http_body_util::Full<Bytes>>, hyper::http::Error> {
    let mut builder = hyper::Request::post(format!("http://{authority}{path}"))
        .header(FLOW_HEADER, flow.to_string());
    if let Some(call) = call {
        builder = builder.header(CALL_HEADER, call.to_string());
    }
    if request != 0 {
        builder = builder.header(REQUEST_HEADER, request.to_string());
    }
    if grpc {
        builder
            .header(hyper::header::CONTENT_TYPE, "application/grpc")
            .header(hyper::header::TE, "trailers")
            .body(http_body_util::Full::new(Bytes::from_static(
                &GRPC_EMPTY_MESSAGE,
            )))
    } else {
        builder.body(http_body_util::Full::new(Bytes::new()))
    }
}

/// What an answer says, read whole (gRPC status from the trailers or a trailers-only header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    Failure,
    /// A proxy's breaker refused the call: Envoy's local "no healthy upstream" answer (every host ejected).
    ShortCircuited,
}

/// Reads an answer to its end and says what it was.
pub(crate) async fn outcome(
    response: hyper::Response<hyper::body::Incoming>,
    grpc: bool,
) -> Outcome {
    use http_body_util::BodyExt;
    let (parts, body) = response.into_parts();
    let header_status = parts
        .headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let no_healthy_upstream = |text: &[u8]| text.windows(19).any(|w| w == b"no healthy upstream");
    let grpc_message_says_no_healthy = parts
        .headers
        .get("grpc-message")
        .is_some_and(|v| no_healthy_upstream(v.as_bytes()));
    let Ok(collected) = body.collect().await else {
        return Outcome::Failure;
    };
    let trailer_status = collected
        .trailers()
        .and_then(|t| t.get("grpc-status"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = collected.to_bytes();
    let short_circuited = grpc_message_says_no_healthy || no_healthy_upstream(&bytes);
    let success = if grpc {
        parts.status == hyper::StatusCode::OK
            && trailer_status.or(header_status).as_deref() == Some(GRPC_OK)
    } else {
        parts.status.is_success()
    };
    if success {
        Outcome::Success
    } else if short_circuited {
        Outcome::ShortCircuited
    } else {
        Outcome::Failure
    }
}
