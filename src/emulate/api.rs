//! `syncopate emulate FILE --serve`: a small HTTP API on loopback to drive the running emulation from outside, as
//! a chaos experiment does (`export --target chaos --for-emulator` writes actions against it):
//!
//! - `GET /faults`: the faults injected and in force, and the design's planned faults, which a served emulation
//!   does not apply on its own (the experiment injects them at its times).
//! - `POST /faults` with `{"id"?, "service", "kind", "factor"?, "error_rate"?}`: injects a fault (the same kinds
//!   and fields as the design's planned faults, in force until cleared): `201` with its id; `400` with the reason
//!   for a bad one; `409` when the id is taken.
//! - `DELETE /faults/<id>`: clears one (`204`, `404` when unknown); `DELETE /faults`: clears all (`204`).
//! - `GET /flows/<flow id>`: one request of the flow through the emulation, as the load sends them (not counted in
//!   the report): `200` when it succeeded, `503` when it failed, `404` for an unknown flow.
//!
//! Ids in paths (a fault's, a flow's) are percent-encoded when they hold more than `A-Z a-z 0-9 - . _ ~`, as
//! `export --target chaos --for-emulator` writes them.
//! - `GET /report`: the report so far, in the shape of `emulate --json`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::world::World;
use crate::model::{Fault, FaultKind, ServiceId};

/// The largest request body read (a fault is a few dozen bytes).
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Serves the API until the runtime ends.
pub(crate) async fn serve(
    world: Arc<World>,
    listener: TcpListener,
    through: super::Through,
    planned: Vec<Fault>,
) {
    let planned = Arc::new(planned);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (world, planned) = (world.clone(), planned.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let (world, planned) = (world.clone(), planned.clone());
                async move { Ok::<_, Infallible>(handle(world, through, &planned, request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

fn answer(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// An id from one segment of the request's path, percent-decoded.
fn path_id(segment: &str) -> std::borrow::Cow<'_, str> {
    percent_encoding::percent_decode_str(segment).decode_utf8_lossy()
}

fn refuse(status: StatusCode, reason: impl Into<String>) -> Response<Full<Bytes>> {
    answer(status, &json!({"error": reason.into()}))
}

/// A fault as the API takes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRequest {
    id: Option<String>,
    service: String,
    kind: String,
    factor: Option<f64>,
    error_rate: Option<f64>,
}

/// The fault a request asks for, or why it cannot be had.
fn fault_of(world: &World, asked: FaultRequest) -> Result<(Option<String>, Fault), String> {
    if world.design.service(&asked.service).is_none() {
        return Err(format!("no service {:?} in the design", asked.service));
    }
    let kind = match asked.kind.as_str() {
        "down" => FaultKind::Down,
        "hang" => FaultKind::Hang,
        "slow" => FaultKind::Slow,
        "errors" => FaultKind::Errors,
        other => {
            return Err(format!("kind {other:?} is not down, hang, slow or errors"));
        }
    };
    let factor = match (kind, asked.factor) {
        (FaultKind::Slow, Some(f)) if f.is_finite() && f >= 1.0 => Some(f),
        (FaultKind::Slow, _) => return Err("a slow fault needs a factor of at least 1".to_owned()),
        (_, Some(_)) => return Err("only a slow fault has a factor".to_owned()),
        (_, None) => None,
    };
    let error_rate = match (kind, asked.error_rate) {
        (FaultKind::Errors, Some(r)) if (0.0..=1.0).contains(&r) => Some(r),
        (FaultKind::Errors, _) => {
            return Err("an errors fault needs an error_rate from 0 to 1".to_owned());
        }
        (_, Some(_)) => return Err("only an errors fault has an error_rate".to_owned()),
        (_, None) => None,
    };
    Ok((
        asked.id,
        Fault {
            service: ServiceId::new(asked.service),
            kind,
            start_s: 0.0,
            end_s: None,
            factor,
            error_rate,
        },
    ))
}

async fn handle(
    world: Arc<World>,
    through: super::Through,
    planned: &[Fault],
    request: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (request.method().clone(), parts.as_slice()) {
        (Method::GET, ["faults"]) => {
            let injected: serde_json::Map<String, Value> = world
                .injected()
                .into_iter()
                .map(|(id, f)| (id, serde_json::to_value(f).unwrap_or(Value::Null)))
                .collect();
            answer(
                StatusCode::OK,
                &json!({"injected": injected, "planned_not_applied": planned}),
            )
        }
        (Method::POST, ["faults"]) => {
            let body = match http_body_util::Limited::new(request.into_body(), MAX_BODY_BYTES)
                .collect()
                .await
            {
                Ok(body) => body.to_bytes(),
                Err(_) => return refuse(StatusCode::BAD_REQUEST, "the body could not be read"),
            };
            let asked: FaultRequest = match serde_json::from_slice(&body) {
                Ok(asked) => asked,
                Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("not a fault: {e}")),
            };
            let (id, fault) = match fault_of(&world, asked) {
                Ok(fault) => fault,
                Err(reason) => return refuse(StatusCode::BAD_REQUEST, reason),
            };
            let id = id.unwrap_or_else(|| {
                let taken = world.injected();
                (1..)
                    .map(|n| format!("{}-{}-{n}", fault.service, fault.kind.as_str()))
                    .find(|id| !taken.contains_key(id))
                    .unwrap_or_default()
            });
            if world.inject(id.clone(), fault) {
                answer(StatusCode::CREATED, &json!({"id": id}))
            } else {
                refuse(
                    StatusCode::CONFLICT,
                    format!("a fault {id:?} is already injected"),
                )
            }
        }
        (Method::DELETE, ["faults"]) => {
            world.clear(None);
            Response::builder()
                .status(StatusCode::NO_CONTENT)
                .body(Full::new(Bytes::new()))
                .unwrap_or_default()
        }
        (Method::DELETE, ["faults", encoded]) => {
            let id = path_id(encoded);
            if world.clear(Some(&id)) == 1 {
                Response::builder()
                    .status(StatusCode::NO_CONTENT)
                    .body(Full::new(Bytes::new()))
                    .unwrap_or_default()
            } else {
                refuse(StatusCode::NOT_FOUND, format!("no injected fault {id:?}"))
            }
        }
        (Method::GET, ["flows", encoded]) => {
            let id = path_id(encoded);
            let Some(flow) = world.design.flows.iter().position(|f| f.id.as_str() == id) else {
                return refuse(
                    StatusCode::NOT_FOUND,
                    format!("no flow {id:?} in the design"),
                );
            };
            let started = Instant::now();
            let succeeded = super::load::probe(world.clone(), flow).await;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            answer(
                if succeeded {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                },
                &json!({"flow": id, "succeeded": succeeded, "ms": ms}),
            )
        }
        (Method::GET, ["report"]) => {
            let end_ms = world.now_ms();
            let mut report = world.stats.report(&world.design, &world.settings, end_ms);
            report.partial = true;
            let emulated = super::Emulated {
                report,
                through,
                absorbed_per_call_ms: world.tare.mean_ms(),
            };
            answer(
                StatusCode::OK,
                &super::report_json(&world.design, &emulated),
            )
        }
        _ => refuse(
            StatusCode::NOT_FOUND,
            "the API has GET/POST/DELETE /faults, DELETE /faults/<id>, GET /flows/<flow id> and GET /report",
        ),
    }
}
