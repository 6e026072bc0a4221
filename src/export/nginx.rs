//! A complete nginx configuration per gateway that makes sync HTTP-family calls: one `upstream` per callee with a
//! `server` on the callee's service name (nginx resolves it when it starts and makes a server of every address,
//! so each replica behind a compose service name or a headless Kubernetes Service is ejected on its own),
//! `max_fails`/`fail_timeout` from the call's circuit breaker, and a `location /<callee>/` whose timeouts come from
//! the call's `timeout_ms` and whose `*_next_upstream_tries` is the call's tries. gRPC calls are served on a
//! listener of their own (HTTP/2 without TLS cannot share a port with HTTP/1.1 in nginx), routed by the gRPC
//! service path (`/<package>.`, the callee id with `_` for `-`), with `grpc_pass` and the `grpc_*` directives.
//! What nginx cannot do of the design (retry the same server, eject the only one) is said in a comment.
//!
//! The configuration is built as a tree of directives and printed with every argument quoted where nginx would
//! read it otherwise, so no text from the design can add a directive.

use std::fmt::Write as _;

use super::{
    ExportedFile, Exporter, Target, call_port, comment_text, gateway_path, header_comment,
    is_http_family, service_port, sorted_services, sync_calls_from, whole_ms,
};
use crate::model::{Design, Edge, Protocol, Service, ServiceKind};

/// The errors on which nginx passes a request to the next replica: what the design counts as a failed try
/// (5xx answers, resets, timeouts). nginx counts the same toward `max_fails`.
pub const NEXT_UPSTREAM: [&str; 6] = [
    "error", "timeout", "http_500", "http_502", "http_503", "http_504",
];

/// The gRPC package a callee's services are expected in: gRPC requests are routed by their path,
/// `/<package>.<Service>/<Method>`, and a package name cannot hold `-`.
pub fn grpc_package(callee: &str) -> String {
    callee.replace('-', "_")
}

pub(crate) struct NginxExporter;

impl Exporter for NginxExporter {
    fn target(&self) -> Target {
        Target::Nginx
    }

    fn export(&self, design: &Design) -> Vec<ExportedFile> {
        sorted_services(design)
            .into_iter()
            .filter(|s| s.kind == ServiceKind::Gateway)
            .filter_map(|gateway| {
                let calls: Vec<&Edge> = sync_calls_from(design, gateway)
                    .into_iter()
                    .filter(|c| is_http_family(c.effective_protocol()))
                    .collect();
                if calls.is_empty() {
                    return None;
                }
                let what = format!(
                    "nginx configuration of the gateway \"{}\" ({}). Each upstream server is one replica.",
                    gateway.id,
                    gateway.display_name()
                );
                // The shared header, with its (possibly very long) names re-wrapped for nginx.
                let mut text = String::new();
                for line in header_comment(design, &what).lines() {
                    write_comment(&mut text, "", line.trim_start_matches("# "));
                }
                for directive in config(design, gateway, &calls) {
                    directive.write(&mut text, 0);
                }
                Some(ExportedFile {
                    path: format!("nginx/{}.conf", gateway.id),
                    contents: text,
                })
            })
            .collect()
    }
}

/// Whether the nginx export writes a configuration for this gateway (it makes sync HTTP-family calls).
pub(crate) fn has_config(design: &Design, gateway: &Service) -> bool {
    gateway.kind == ServiceKind::Gateway
        && sync_calls_from(design, gateway)
            .into_iter()
            .any(|c| is_http_family(c.effective_protocol()))
}

/// The longest comment line written, in bytes (nginx refuses lines beyond its 4 KiB read buffer).
const MAX_COMMENT_LINE_BYTES: usize = 1000;

/// Writes `text` (one line, already free of line breaks) as comment lines of at most [`MAX_COMMENT_LINE_BYTES`]:
/// nginx reads a comment line into its 4 KiB buffer and refuses a longer one, so a name of thousands of characters
/// is split over several lines.
fn write_comment(out: &mut String, indent: &str, text: &str) {
    let mut line = String::new();
    for c in text.chars() {
        if line.len() + c.len_utf8() > MAX_COMMENT_LINE_BYTES {
            let _ = writeln!(out, "{indent}# {line}");
            line.clear();
        }
        line.push(c);
    }
    let _ = writeln!(out, "{indent}# {line}");
}

/// One nginx directive: a name, its arguments, and a block of directives when it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct Directive {
    /// A comment line printed above the directive, if any.
    pub comment: Option<String>,
    /// The directive's name, e.g. `proxy_read_timeout`.
    pub name: &'static str,
    /// Its arguments, quoted on output where needed.
    pub args: Vec<String>,
    /// Its block (`upstream x { ... }`), or `None` for a simple directive ending with `;`.
    pub block: Option<Vec<Directive>>,
}

impl Directive {
    fn simple(name: &'static str, args: impl IntoIterator<Item = String>) -> Self {
        Self {
            comment: None,
            name,
            args: args.into_iter().collect(),
            block: None,
        }
    }

    fn block(
        name: &'static str,
        args: impl IntoIterator<Item = String>,
        body: Vec<Directive>,
    ) -> Self {
        Self {
            comment: None,
            name,
            args: args.into_iter().collect(),
            block: Some(body),
        }
    }

    fn with_comment(mut self, comment: String) -> Self {
        self.comment = Some(comment);
        self
    }

    /// Prints the directive (and its block) at `depth` levels of indentation.
    pub fn write(&self, out: &mut String, depth: usize) {
        let indent = "    ".repeat(depth);
        if let Some(comment) = &self.comment {
            write_comment(out, &indent, &comment_text(comment));
        }
        let mut line = format!("{indent}{}", self.name);
        for arg in &self.args {
            line.push(' ');
            line.push_str(&quote(arg));
        }
        match &self.block {
            None => {
                let _ = writeln!(out, "{line};");
            }
            Some(body) => {
                let _ = writeln!(out, "{line} {{");
                for directive in body {
                    directive.write(out, depth + 1);
                }
                let _ = writeln!(out, "{indent}}}");
            }
        }
    }
}

/// An argument as nginx must read it: bare when it is made of plain characters, else in double quotes with `"`,
/// `\` and `$` escaped (a `$` would otherwise start a variable).
fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/=".contains(c));
    if plain {
        return arg.to_owned();
    }
    let mut quoted = String::from("\"");
    for c in arg.chars() {
        match c {
            '"' | '\\' | '$' => {
                quoted.push('\\');
                quoted.push(c);
            }
            c if c.is_control() => quoted.push(' '),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

fn ms(value: u64) -> String {
    format!("{value}ms")
}

fn config(design: &Design, gateway: &Service, calls: &[&Edge]) -> Vec<Directive> {
    let mut http = Vec::new();
    // Several calls to one callee share its upstream; the first call's breaker sets the replicas' health rules.
    let mut seen_callees = Vec::new();
    for call in calls {
        if seen_callees.contains(&call.to) {
            continue;
        }
        seen_callees.push(call.to.clone());
        let Some(callee) = design.service(call.to.as_str()) else {
            continue;
        };
        let port = call_port(design, call);
        let mut args = vec![format!("{}:{port}", callee.id)];
        if let Some(breaker) = &call.circuit_breaker {
            args.push(format!("max_fails={}", breaker.consecutive_failures));
            // nginx reads server parameters in whole seconds only.
            args.push(format!(
                "fail_timeout={}s",
                whole_ms(breaker.open_ms).div_ceil(1000)
            ));
        }
        let mut server = Directive::simple("server", args);
        if callee.replicas <= 1 {
            let mut limits = Vec::new();
            if call.retry.is_some_and(|r| r.max_retries > 0) {
                limits.push(
                    "nginx never retries the same server, so the call's retries cannot happen",
                );
            }
            if call.circuit_breaker.is_some() {
                limits.push(
                    "nginx ignores max_fails on an upstream of one server, so the breaker never opens",
                );
            }
            if !limits.is_empty() {
                server = server.with_comment(format!(
                    "{} runs one replica: {}.",
                    callee.id,
                    limits.join("; ")
                ));
            }
        } else if call.circuit_breaker.is_some() {
            let mut comment =
                "max_fails counts failures within fail_timeout, not in a row; each replica is \
                               ejected on its own"
                    .to_owned();
            if call.retry.is_none_or(|r| r.max_retries == 0) {
                // Measured (tests/export_behaviour.rs): on the last try nginx frees the server as a success
                // whatever its status, so only a call that can pass a request on counts the callee's 5xx.
                comment.push_str(
                    "; without a retry nginx counts only connection errors and timeouts toward max_fails, not \
                     5xx answers",
                );
            }
            server = server.with_comment(comment);
        }
        http.push(
            Directive::block("upstream", [callee.id.to_string()], vec![server])
                .with_comment(format!("{} ({})", callee.id, callee.display_name())),
        );
    }
    let http_port = service_port(design, gateway);
    let (grpc_calls, plain_calls): (Vec<&Edge>, Vec<&Edge>) = calls
        .iter()
        .partition(|c| c.effective_protocol() == Protocol::Grpc);
    let locations = |calls: &[&Edge]| {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for call in calls {
            if seen.contains(&call.to) {
                continue;
            }
            seen.push(call.to.clone());
            out.push(
                Directive::block("location", [gateway_path(call)], location(design, call))
                    .with_comment(format!("call {}", call.id)),
            );
        }
        out
    };
    if !plain_calls.is_empty() {
        let mut server = vec![
            Directive::simple("listen", [http_port.to_string()]),
            Directive::simple("server_name", [gateway.id.to_string()]),
        ];
        server.extend(locations(&plain_calls));
        http.push(Directive::block("server", [], server));
    }
    if !grpc_calls.is_empty() {
        // gRPC needs HTTP/2, which nginx serves without TLS only on a listener of its own: the port after the
        // HTTP one (or the gateway's port when it makes gRPC calls only).
        let grpc_port = if plain_calls.is_empty() {
            http_port
        } else {
            http_port.saturating_add(1)
        };
        let mut server = vec![
            Directive::simple("listen", [grpc_port.to_string(), "http2".to_owned()])
                .with_comment(format!(
                    "gRPC, routed by service path: /<package>.<Service>/<Method>, the package being the callee id with _ for - (e.g. /{}.Payments/Charge)",
                    grpc_package(grpc_calls[0].to.as_str())
                )),
            Directive::simple("server_name", [gateway.id.to_string()]),
        ];
        server.extend(locations(&grpc_calls));
        http.push(Directive::block("server", [], server));
    }
    vec![
        Directive::block(
            "events",
            [],
            vec![Directive::simple("worker_connections", ["1024".to_owned()])],
        ),
        Directive::block("http", [], http),
    ]
}

/// Whether the call takes part in a write flow (whose requests are not idempotent).
fn in_write_flow(design: &Design, call: &Edge) -> bool {
    design
        .flows
        .iter()
        .any(|f| f.kind == crate::model::FlowKind::Write && call.in_flow(&f.id))
}

fn location(design: &Design, call: &Edge) -> Vec<Directive> {
    let grpc = call.effective_protocol() == Protocol::Grpc;
    let tries = call.max_tries().to_string();
    let (pass, connect, send, read, next, next_tries) = if grpc {
        (
            "grpc_pass",
            "grpc_connect_timeout",
            "grpc_send_timeout",
            "grpc_read_timeout",
            "grpc_next_upstream",
            "grpc_next_upstream_tries",
        )
    } else {
        (
            "proxy_pass",
            "proxy_connect_timeout",
            "proxy_send_timeout",
            "proxy_read_timeout",
            "proxy_next_upstream",
            "proxy_next_upstream_tries",
        )
    };
    let target = if grpc {
        format!("grpc://{}", call.to)
    } else {
        format!("http://{}/", call.to)
    };
    let mut body = vec![Directive::simple(pass, [target])];
    // A try's timeout is the per-try timeout when there is one, else the call's whole timeout.
    let try_timeout = call
        .retry
        .as_ref()
        .and_then(|r| r.per_try_timeout_ms)
        .or(call.timeout_ms);
    if let Some(timeout) = try_timeout {
        for name in [connect, send, read] {
            body.push(Directive::simple(name, [ms(whole_ms(timeout))]));
        }
    }
    let mut conditions: Vec<String> = NEXT_UPSTREAM.iter().map(|s| (*s).to_owned()).collect();
    if call.retry.is_some_and(|r| r.max_retries > 0) && in_write_flow(design, call) {
        // nginx never retries a POST, PUT or PATCH unless told: the design retries this call of a write flow, so
        // it is told (and the `retry-non-idempotent` rule warns about it).
        conditions.push("non_idempotent".to_owned());
    }
    body.push(Directive::simple(next, conditions));
    body.push(Directive::simple(next_tries, [tries]));
    if let Some(timeout) = call.timeout_ms {
        let name = if grpc {
            "grpc_next_upstream_timeout"
        } else {
            "proxy_next_upstream_timeout"
        };
        body.push(Directive::simple(name, [ms(whole_ms(timeout))]));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_that_could_add_directives_are_quoted() {
        assert_eq!(quote("order-api:8080"), "order-api:8080");
        assert_eq!(quote("a; b"), "\"a; b\"");
        assert_eq!(quote("x { y"), "\"x { y\"");
        assert_eq!(quote("${evil}"), "\"\\${evil}\"");
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
        assert_eq!(quote(""), "\"\"");
    }
}
