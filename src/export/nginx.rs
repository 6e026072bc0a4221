//! A complete nginx configuration per gateway that makes sync HTTP-family calls: one `upstream` per callee with a
//! `server` line per replica (`<callee>-<n>:<port>`; nginx's passive health checks eject a failing replica, so
//! each must be addressable), `max_fails`/`fail_timeout` from the call's circuit breaker, and a `location
//! /<callee>/` whose timeouts come from the call's `timeout_ms` and whose `*_next_upstream_tries` is the call's
//! tries. gRPC calls use `grpc_pass` and the `grpc_*` directives.
//!
//! The configuration is built as a tree of directives and printed with every argument quoted where nginx would
//! read it otherwise, so no text from the design can add a directive.

use std::fmt::Write as _;

use super::{
    ExportedFile, Exporter, Target, comment_text, header_comment, is_http_family, service_port,
    sorted_services, sync_calls_from, whole_ms,
};
use crate::model::{Design, Edge, Protocol, Service, ServiceKind};

/// The errors on which nginx passes a request to the next replica.
pub const NEXT_UPSTREAM: [&str; 5] = ["error", "timeout", "http_502", "http_503", "http_504"];

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
                let mut text = header_comment(design, &what);
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
            let _ = writeln!(out, "{indent}# {}", comment_text(comment));
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
        let port = service_port(design, callee);
        let servers = (1..=callee.replicas.max(1))
            .map(|replica| {
                let mut args = vec![format!("{}-{replica}:{port}", callee.id)];
                if let Some(breaker) = &call.circuit_breaker {
                    args.push(format!("max_fails={}", breaker.consecutive_failures));
                    // nginx reads server parameters in whole seconds only.
                    args.push(format!(
                        "fail_timeout={}s",
                        whole_ms(breaker.open_ms).div_ceil(1000)
                    ));
                }
                Directive::simple("server", args)
            })
            .collect();
        http.push(
            Directive::block("upstream", [callee.id.to_string()], servers).with_comment(format!(
                "{} ({})",
                callee.id,
                callee.display_name()
            )),
        );
    }
    let mut server = vec![
        Directive::simple("listen", [service_port(design, gateway).to_string()]),
        Directive::simple("server_name", [gateway.id.to_string()]),
    ];
    let mut seen_callees = Vec::new();
    for call in calls {
        if seen_callees.contains(&call.to) {
            continue;
        }
        seen_callees.push(call.to.clone());
        server.push(
            Directive::block("location", [format!("/{}/", call.to)], location(call))
                .with_comment(format!("call {}", call.id)),
        );
    }
    if calls
        .iter()
        .any(|c| c.effective_protocol() == Protocol::Grpc)
    {
        // gRPC needs HTTP/2 from the client; nginx 1.22 enables it per listen socket.
        server[0].args.push("http2".to_owned());
    }
    http.push(Directive::block("server", [], server));
    vec![
        Directive::block(
            "events",
            [],
            vec![Directive::simple("worker_connections", ["1024".to_owned()])],
        ),
        Directive::block("http", [], http),
    ]
}

fn location(call: &Edge) -> Vec<Directive> {
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
    body.push(Directive::simple(
        next,
        NEXT_UPSTREAM.iter().map(|s| (*s).to_owned()),
    ));
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
