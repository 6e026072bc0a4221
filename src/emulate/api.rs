//! `syncopate emulate FILE --serve`: a small HTTP API on loopback to drive the running emulation from outside, as
//! a chaos experiment does (`export --target chaos --for-emulator` writes actions against it):
//!
//! - `GET /faults`: the faults injected and in force, and the design's planned faults, which a served emulation
//!   does not apply on its own (the experiment injects them at its times).
//! - `POST /faults` with `{"id"?, "service", "kind", "factor"?, "error_rate"?}`: injects a fault (the same kinds
//!   and fields as the design's planned faults, held to the same rules, in force until cleared): `201` with its id;
//!   `400` with the reason for a bad one (a blank id too); `409` when the id is taken.
//! - `DELETE /faults/<id>`: clears one (`204`, `404` when unknown); `DELETE /faults`: clears all (`204`).
//! - `GET /flows/<flow id>`: one request of the flow through the emulation, as the load sends them (not counted in
//!   the report): `200` when it succeeded, `503` when it failed, `404` for an unknown flow.
//! - `GET /report`: the report so far, in the shape of `emulate --json`.
//!
//! Another method on one of these paths gets `405` with the methods it takes (`Allow`); any other path `404`. Ids
//! in paths (a fault's, a flow's) are percent-encoded when they hold more than `A-Z a-z 0-9 - . _ ~`, as
//! `export --target chaos --for-emulator` writes them.

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
    kind: FaultKind,
    factor: Option<f64>,
    error_rate: Option<f64>,
}

/// The fault a request asks for, or why it cannot be had: held to the rules of a design's planned faults
/// (`model::validate::fault_problems`), so every fault a design may plan (and its exported experiment sends) is
/// taken, and nothing the engine cannot run gets in.
fn fault_of(world: &World, asked: FaultRequest) -> Result<(Option<String>, Fault), String> {
    if asked.id.as_deref().is_some_and(|id| id.trim().is_empty()) {
        return Err("a fault's id, when given, must not be blank".to_owned());
    }
    let fault = Fault {
        service: ServiceId::new(asked.service),
        kind: asked.kind,
        start_s: 0.0,
        end_s: None,
        factor: asked.factor,
        error_rate: asked.error_rate,
    };
    let problems = crate::model::validate::fault_problems(&world.design, &fault, "fault");
    if problems.is_empty() {
        Ok((asked.id, fault))
    } else {
        Err(problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "))
    }
}

/// `405 Method Not Allowed` for a path the API has, saying which methods it takes there.
fn not_allowed(allow: &'static str) -> Response<Full<Bytes>> {
    let mut response = refuse(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("this path takes {allow}"),
    );
    response.headers_mut().insert(
        hyper::header::ALLOW,
        hyper::header::HeaderValue::from_static(allow),
    );
    response
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
        (_, ["faults"]) => not_allowed("GET, POST, DELETE"),
        (_, ["faults", _]) => not_allowed("DELETE"),
        (_, ["flows", _] | ["report"]) => not_allowed("GET"),
        _ => refuse(
            StatusCode::NOT_FOUND,
            "the API has GET/POST/DELETE /faults, DELETE /faults/<id>, GET /flows/<flow id> and GET /report",
        ),
    }
}
