//! `fleet emulator` stops gracefully on SIGTERM: the request it is answering
//! gets its whole answer, the port refuses new connections meanwhile, and
//! the process exits 0.
#![cfg(unix)]

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Anything that waits on the emulator gives up after this.
const PATIENCE: Duration = Duration::from_secs(30);

/// Polls `probe` until it gives a value.
fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "waited too long for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Sends `request` on a new connection and reads until the emulator closes it.
fn exchange(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn gets_received(addr: SocketAddr) -> u64 {
    let response = exchange(
        addr,
        "GET /_emulator/stats HTTP/1.1\r\nHost: emulator\r\nConnection: close\r\n\r\n",
    );
    let (_, body) = response.split_once("\r\n\r\n").unwrap();
    let stats: Value = serde_json::from_str(body).unwrap();
    stats["requests"]["get"].as_u64().unwrap()
}

#[test]
fn sigterm_answers_the_request_in_flight_then_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = dir.path().join("stdout");
    let stderr = dir.path().join("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fleet"))
        .args(["emulator", "--latency-ms", "2000"])
        .stdin(Stdio::null())
        .stdout(File::create(&stdout).unwrap())
        .stderr(File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let addr: SocketAddr = wait_for("the listening line", || {
        read(&stdout)
            .lines()
            .find_map(|line| line.strip_prefix("listening on http://")?.parse().ok())
    });

    // A Get, held by the latency, is in flight when SIGTERM arrives.
    let get = format!(
        "GET /logging/modelinvocations HTTP/1.1\r\nHost: {addr}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20261125/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=0\r\n\r\n"
    );
    let in_flight = std::thread::spawn(move || exchange(addr, &get));
    wait_for("the emulator to get the Get", || {
        (gets_received(addr) == 1).then_some(())
    });
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());

    wait_for("the port to refuse connections", || {
        TcpStream::connect(addr).is_err().then_some(())
    });
    let response = in_flight.join().unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response:?}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("content-length: 2\r\n")
            && response.ends_with("\r\n\r\n{}"),
        "the whole answer, an empty configuration: {response:?}"
    );
    let status = wait_for("the emulator to exit", || child.try_wait().unwrap());
    let stderr = read(&stderr);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("emulator: stopping"), "{stderr}");
}
