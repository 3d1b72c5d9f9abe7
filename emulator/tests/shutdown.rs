//! Stopping the emulator is graceful: the port refuses new connections at
//! once, a request in flight is still answered in full, idle connections do
//! not hold the stop up, and a request slower than the grace is cut off.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use fleet_emulator::{DEFAULT_ACCOUNT, DEFAULT_REGION, EmulatorOptions, RunningEmulator, start};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Long enough that the stop certainly begins while the Get is answered.
const LATENCY: Duration = Duration::from_secs(2);
/// Anything that waits on the emulator gives up after this.
const PATIENCE: Duration = Duration::from_secs(20);

fn stored_config() -> Value {
    json!({
        "s3Config": {"bucketName": "bedrock-logs", "keyPrefix": "invocations"},
        "textDataDeliveryEnabled": true,
        "imageDataDeliveryEnabled": false,
        "embeddingDataDeliveryEnabled": true,
        "videoDataDeliveryEnabled": false,
        "audioDataDeliveryEnabled": false
    })
}

async fn emulator(options: EmulatorOptions) -> RunningEmulator {
    let emulator = start(options).await.expect("the emulator starts");
    let target = format!("{DEFAULT_ACCOUNT}/{DEFAULT_REGION}");
    emulator
        .replace_state(json!({ target: stored_config() }))
        .expect("the state is valid");
    emulator
}

fn get_request(addr: SocketAddr) -> String {
    format!(
        "GET /logging/modelinvocations HTTP/1.1\r\nHost: {addr}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20261125/{DEFAULT_REGION}/bedrock/aws4_request, SignedHeaders=host, Signature=0\r\n\r\n"
    )
}

/// Sends a Get on a new connection and returns once the emulator is
/// answering it (counted, so past the counter and into its latency).
async fn get_in_flight(emulator: &RunningEmulator) -> TcpStream {
    let before = emulator.stats().requests.get;
    let mut stream = TcpStream::connect(emulator.addr).await.unwrap();
    stream
        .write_all(get_request(emulator.addr).as_bytes())
        .await
        .unwrap();
    let deadline = Instant::now() + PATIENCE;
    while emulator.stats().requests.get == before {
        assert!(Instant::now() < deadline, "the emulator never got the Get");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stream
}

/// Connects until the port refuses; false if it still accepts after a while.
async fn becomes_refused(addr: SocketAddr) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        match TcpStream::connect(addr).await {
            Err(err) if err.kind() == ErrorKind::ConnectionRefused => return true,
            _ => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
    false
}

/// Reads until the emulator closes the connection: everything it sent.
async fn read_until_closed(mut stream: TcpStream) -> String {
    let mut received = Vec::new();
    // A reset after the answer (or instead of one) still leaves what was read.
    let _ = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut received))
        .await
        .expect("the emulator closes the connection");
    String::from_utf8(received).unwrap()
}

/// The whole of a Get's answer: status 200, and as many body bytes as the
/// Content-Length says, holding the stored configuration.
fn assert_complete_get(response: &str) {
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete response head: {response:?}"));
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .expect("a Content-Length");
    assert_eq!(body.len(), length, "the body arrives whole: {body}");
    let answer: Value = serde_json::from_str(body).unwrap();
    assert_eq!(answer["loggingConfig"], stored_config());
}

#[tokio::test]
async fn shutdown_answers_the_request_in_flight_and_refuses_new_connections() {
    let emulator = emulator(EmulatorOptions {
        latency: LATENCY,
        ..EmulatorOptions::default()
    })
    .await;
    let addr = emulator.addr;
    let in_flight = get_in_flight(&emulator).await;
    let stopping = tokio::spawn(emulator.shutdown());

    assert!(becomes_refused(addr).await, "{addr} still accepts");
    assert!(
        !stopping.is_finished(),
        "the stop waits for the Get it is answering"
    );
    assert_complete_get(&read_until_closed(in_flight).await);
    tokio::time::timeout(PATIENCE, stopping)
        .await
        .expect("the stop ends once the Get is answered")
        .unwrap();
}

#[tokio::test]
async fn dropping_the_emulator_stops_it_as_gracefully() {
    let emulator = emulator(EmulatorOptions {
        latency: LATENCY,
        ..EmulatorOptions::default()
    })
    .await;
    let addr = emulator.addr;
    let in_flight = get_in_flight(&emulator).await;
    drop(emulator);

    assert!(becomes_refused(addr).await, "{addr} still accepts");
    assert_complete_get(&read_until_closed(in_flight).await);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_does_not_hold_the_stop_up() {
    let emulator = emulator(EmulatorOptions {
        shutdown_grace: PATIENCE * 2,
        ..EmulatorOptions::default()
    })
    .await;
    // One answered Get, then the connection stays open, as the SDK's pool
    // keeps it.
    let mut idle = BufReader::new(TcpStream::connect(emulator.addr).await.unwrap());
    let request = get_request(emulator.addr);
    idle.get_mut().write_all(request.as_bytes()).await.unwrap();
    let mut status = String::new();
    idle.read_line(&mut status).await.unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");

    tokio::time::timeout(PATIENCE, emulator.shutdown())
        .await
        .expect("an idle connection closes at once");
}

#[tokio::test]
async fn a_request_unanswered_after_the_grace_is_cut_off() {
    let emulator = emulator(EmulatorOptions {
        faults: vec!["slow:1".parse().unwrap()],
        slow_delay: PATIENCE * 3,
        shutdown_grace: Duration::from_millis(200),
        ..EmulatorOptions::default()
    })
    .await;
    let in_flight = get_in_flight(&emulator).await;

    tokio::time::timeout(PATIENCE, emulator.shutdown())
        .await
        .expect("the stop waits no longer than its grace");
    assert_eq!(read_until_closed(in_flight).await, "", "no answer at all");
}
