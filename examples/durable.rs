//! Durable runs on Restate: an agent served as a Restate workflow, where
//! every model request and every tool call is a journaled step, and an
//! email waits for a human's approval, however long that takes.
//!
//! Without a Restate server it says so, serves the endpoint for a moment on
//! loopback, and previews the run with the ordinary runner; then it exits.
//! With `serve`, it serves on 127.0.0.1:9080 until Ctrl-C, for a local
//! Restate server to call (see the README for the two commands).
//!
//! With `ANTHROPIC_API_KEY` set it talks to the real API; without it, a
//! scripted model on loopback books a flight and asks to send an email.
//!
//! ```sh
//! cargo run --example durable --features restate
//! cargo run --example durable --features restate -- serve
//! ```

#[path = "support/mod.rs"]
mod support;

use std::net::SocketAddr;

use serde_json::{Value, json};
use toolrunner::restate::{Agent, sdk};
use toolrunner::testing::Reply;
use toolrunner::{Client, Decision, MessageParams, PendingCall, Toolset, tool, toolset};

/// Where `serve` listens: Restate's usual port for a service endpoint.
const ADDRESS: ([u8; 4], u16) = ([127, 0, 0, 1], 9080);

/// Book a flight. Charges the card on file.
#[tool]
fn book_flight(
    /// The city to fly to.
    destination: String,
) -> String {
    format!("booked a seat to {destination}, confirmation LX-2041")
}

/// Send an email.
#[tool]
fn send_email(
    /// The address to send to.
    to: String,
    /// The text of the email.
    body: String,
) -> String {
    format!("sent to {to} ({} characters)", body.len())
}

fn tools() -> Toolset {
    toolset![book_flight, send_email]
}

/// The run's parameters, from the JSON a run is started with.
fn params(input: &Value) -> Result<MessageParams, String> {
    let prompt = input["prompt"]
        .as_str()
        .ok_or("start the run with {\"prompt\": \"...\"}")?;
    Ok(MessageParams::new(support::model(), 1024).user(prompt))
}

/// Emails wait for a human; everything else runs.
async fn approvals(call: PendingCall) -> Decision {
    if call.name == "send_email" {
        Decision::Defer
    } else {
        Decision::Allow
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    support::init_tracing();
    let (client, _scripted) = support::client_or_scripted(scripted_model).await?;
    let agent = Agent::new("Durable", client.clone(), tools(), params)?.before_tool_call(approvals);
    let endpoint = sdk::endpoint::Endpoint::builder().bind(agent).build();
    let server = sdk::http_server::HttpServer::new(endpoint);

    if std::env::args().nth(1).as_deref() == Some("serve") {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(ADDRESS)).await?;
        print_commands(listener.local_addr()?);
        server.serve(listener).await;
        return Ok(());
    }

    println!(
        "no Restate server here: run `cargo run --example durable --features restate -- serve` next to one (see the README)."
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.serve_with_cancel(listener, stopped));
    println!(
        "the endpoint serves the workflow `Durable` on http://{address} (HTTP/2), with the handlers `run`, `pending` and `decide`."
    );
    println!(
        "Restate would journal each step below; here the ordinary runner previews the run, approving the email itself:\n"
    );
    preview(client).await?;
    let _ = stop.send(());
    serving.await?;
    Ok(())
}

/// Runs the same agent with the ordinary runner, in this process.
async fn preview(client: Client) -> Result<(), Box<dyn std::error::Error>> {
    let params = params(&prompt())?;
    let mut runner =
        client
            .tool_runner(params, tools())
            .before_tool_call(|call: PendingCall| async move {
                if call.name == "send_email" {
                    println!("  (a durable run waits here until someone approves `send_email`)");
                }
                Decision::Allow
            });
    support::print_run(&mut runner).await?;
    Ok(())
}

fn prompt() -> Value {
    json!({"prompt": "Book me a flight to Lisbon, then email ana@example.com that I am coming."})
}

fn print_commands(address: SocketAddr) {
    let run = "curl localhost:8080/Durable/trip-1";
    println!("serving the workflow `Durable` on http://{address}; with a Restate server running:");
    println!("  register it:   restate deployments register http://{address}");
    println!("  start a run:   {run}/run/send --json '{}'", prompt());
    println!("  see approvals: curl -X POST localhost:8080/Durable/trip-1/pending");
    println!(
        "  approve:       {run}/decide --json '{{\"call_id\": \"<id>\", \"decision\": \"approve\"}}'"
    );
    println!("  the answer:    curl localhost:8080/restate/workflow/Durable/trip-1/attach");
    println!(
        "Kill this process at any point and start it again: the run goes on from its journal."
    );
}

/// The scripted model: book and email, then sum up what it was told.
fn scripted_model(request: &Value) -> Reply {
    let message = match support::assistant_turns(request) {
        0 => support::assistant(
            1,
            json!([
                {"type": "text", "text": "Booking the flight, then writing to Ana."},
                {"type": "tool_use", "id": "toolu_book", "name": "book_flight", "input": {"destination": "Lisbon"}},
                {"type": "tool_use", "id": "toolu_mail", "name": "send_email",
                 "input": {"to": "ana@example.com", "body": "I'm coming to Lisbon!"}}
            ]),
            "tool_use",
        ),
        _ => {
            let results: Vec<String> = support::last_tool_results(request)
                .into_iter()
                .map(|(_, text)| text)
                .collect();
            support::assistant(
                2,
                json!([{"type": "text", "text": format!("Done: {}.", results.join("; "))}]),
                "end_turn",
            )
        }
    };
    Reply::message(message)
}
