//! `host-test listen`: a connection's public endpoint on loopback. Every
//! request is handed to the component's `receive`; its events are printed,
//! one line each, and Klarna gets the delivery's reply. A callback that needs
//! the flow's answer is answered with `--answer JSON` through `respond`, or
//! with 503 (Klarna then uses its own default) when none was given.

use std::io::Write as _;

use wasmtime::component::ResourceAny;

use crate::cli::describe_error;
use crate::http_server::Response;
use crate::runtime::{ConnectorError, Delivery, Event, IncomingRequest, Instance, Method, Reply};

/// The status a host answers when `receive` refuses a delivery (the WIT docs'
/// table): 400 for a bad webhook signature or a delivery it does not
/// understand, 401 for a wrong URL secret, 500 for a missing setting, 503 when
/// Klarna itself failed (so that Klarna delivers again).
pub fn refusal_status(error: &ConnectorError) -> u16 {
    match error {
        ConnectorError::Unauthorized(e) => e.status,
        ConnectorError::InvalidInput(_) => 400,
        ConnectorError::InvalidConfig(_) => 500,
        _ => 503,
    }
}

/// The WIT method of an HTTP method name; `None` for others.
pub fn method(name: &str) -> Option<Method> {
    Some(match name {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        _ => return None,
    })
}

/// One line for an event, as the listener prints it.
pub fn event_line(event: &Event) -> String {
    format!(
        "event {} · id {} · entity {} · record {}",
        event.kind,
        event.id,
        event.entity.as_deref().unwrap_or("-"),
        event.record
    )
}

/// Passes one request to `receive` (and `respond` for callbacks that need an
/// answer); returns what to print and the reply for Klarna.
pub fn handle(
    instance: &mut Instance,
    connection: ResourceAny,
    request: &IncomingRequest,
    answer: Option<&str>,
) -> (Vec<String>, Reply) {
    let plain = |status: u16, text: String| Reply {
        status,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: text.into_bytes(),
    };
    let received = match instance.receive(connection, request) {
        Ok(result) => result,
        Err(trap) => return (vec![format!("the component trapped: {trap:?}")], plain(500, "trapped".into())),
    };
    let Delivery { events, reply } = match received {
        Ok(delivery) => delivery,
        Err(error) => {
            let line = format!("refused: {}", describe_error(&error));
            return (vec![line.clone()], plain(refusal_status(&error), line));
        }
    };
    let mut lines: Vec<String> = events.iter().map(event_line).collect();
    let reply = match (reply, answer, events.first()) {
        (Some(reply), _, _) => reply,
        (None, Some(answer), Some(event)) => match instance.respond(connection, &event.kind, answer) {
            Ok(Ok(reply)) => reply,
            Ok(Err(error)) => {
                lines.push(format!("--answer refused: {}", describe_error(&error)));
                plain(500, "the flow's answer was refused".into())
            }
            Err(trap) => plain(500, format!("the component trapped: {trap:?}")),
        },
        (None, _, _) => plain(503, "no flow answer (start the listener with --answer JSON)".into()),
    };
    lines.push(format!("reply {}", reply.status));
    (lines, reply)
}

/// Serves `listener` until the process ends, one request at a time.
pub fn run(
    listener: std::net::TcpListener,
    mut instance: Instance,
    connection: ResourceAny,
    answer: Option<String>,
) -> std::io::Result<()> {
    crate::http_server::serve(listener, move |incoming| {
        let Some(method) = method(&incoming.method) else {
            return Response { status: 405, headers: vec![], body: vec![] };
        };
        let request = IncomingRequest { method, path: incoming.target, headers: incoming.headers, body: incoming.body };
        let (lines, reply) = handle(&mut instance, connection, &request, answer.as_deref());
        let mut stdout = std::io::stdout().lock();
        for line in lines {
            let _ = writeln!(stdout, "{line}");
        }
        let _ = stdout.flush();
        Response { status: reply.status, headers: reply.headers, body: reply.body }
    })
}
