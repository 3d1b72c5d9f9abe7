//! `fleet emulator` as a child process, for tests that drive the binary
//! against it and read its request counters.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};

use serde_json::Value;

/// `fleet emulator` on a free loopback port, killed when dropped.
pub struct Emulator {
    child: Child,
    pub endpoint: String,
}

impl Emulator {
    pub fn start(extra: &[&str]) -> Emulator {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_fleet"));
        command
            .args(["emulator", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = command.spawn().expect("start fleet emulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let endpoint = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Emulator { child, endpoint }
    }

    /// `GET /_emulator/stats`, with a plain HTTP/1.0 request.
    pub fn stats(&self) -> Value {
        let addr = self.endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "GET /_emulator/stats HTTP/1.0\r\nHost: {addr}\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let body = response.split("\r\n\r\n").nth(1).unwrap();
        serde_json::from_str(body).unwrap()
    }

    pub fn writes(&self) -> u64 {
        let stats = self.stats();
        let requests = &stats["requests"];
        requests["put"].as_u64().unwrap() + requests["delete"].as_u64().unwrap()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Emulator {
    /// `PUT /_emulator/state`: replaces every stored configuration (API
    /// field names, keyed by `ACCOUNT/REGION`), without latency or faults.
    pub fn put_state(&self, state: &Value) {
        let addr = self.endpoint.trim_start_matches("http://");
        let body = state.to_string();
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "PUT /_emulator/state HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        assert!(
            response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
            "{response}"
        );
    }

    /// `PUT /_emulator/regions`: which regions each account (`"*"`: every
    /// account) has enabled or disabled, beyond a new account's defaults.
    pub fn put_regions(&self, regions: &Value) {
        self.admin_put("regions", regions);
    }

    /// Enables `regions` in every account, as an organisation that uses them has.
    pub fn enable_everywhere(&self, regions: &[&str]) {
        let enabled: serde_json::Map<String, Value> = regions
            .iter()
            .map(|r| ((*r).to_owned(), Value::from("ENABLED")))
            .collect();
        self.put_regions(&serde_json::json!({ "*": enabled }));
    }

    /// `PUT /_emulator/metrics`: Bedrock model invocations per account,
    /// region and model (`[{"account_id", "region", "model_id",
    /// "invocations", "days_ago"}]`), served to CloudWatch GetMetricData.
    pub fn put_metrics(&self, metrics: &Value) {
        self.admin_put("metrics", metrics);
    }

    fn admin_put(&self, path: &str, value: &Value) {
        let addr = self.endpoint.trim_start_matches("http://");
        let body = value.to_string();
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "PUT /_emulator/{path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        assert!(
            response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
            "{response}"
        );
    }

    /// `GET /_emulator/state`: every stored configuration, in the form
    /// [`Emulator::put_state`] takes.
    pub fn state(&self) -> Value {
        let addr = self.endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "GET /_emulator/state HTTP/1.0\r\nHost: {addr}\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let body = response.split("\r\n\r\n").nth(1).unwrap();
        serde_json::from_str(body).unwrap()
    }

    /// Injected fault counts by kind.
    pub fn faults(&self, kind: &str) -> u64 {
        self.stats()["faults"][kind].as_u64().unwrap()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// A fleet file of `accounts` (ids `base+1`…) × `regions`, one S3 profile
/// with every flag explicit; accounts are reached by role.
pub fn fleet_file(base: u64, accounts: usize, regions: &[&str]) -> String {
    let regions = regions
        .iter()
        .map(|r| format!("\"{r}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut text = format!(
        "[fleet]\nregions = [{regions}]\nrole_name = \"fleet-test\"\n\n[profiles.p]\nvideo_data_delivery_enabled = false\naudio_data_delivery_enabled = false\n\n[profiles.p.s3_config]\nbucket_name = \"logs-{{account_id}}-{{region}}\"\nkey_prefix = \"bedrock\"\n"
    );
    for i in 1..=accounts {
        text.push_str(&format!(
            "\n[[accounts]]\nid = \"{}\"\nprofile = \"p\"\n",
            base + i as u64
        ));
    }
    text
}

/// What profile `p` of [`fleet_file`] expands to, in the fleet file's names.
pub fn desired(account: &str, region: &str) -> Value {
    serde_json::json!({
        "text_data_delivery_enabled": true,
        "image_data_delivery_enabled": true,
        "embedding_data_delivery_enabled": true,
        "video_data_delivery_enabled": false,
        "audio_data_delivery_enabled": false,
        "s3_config": { "bucket_name": format!("logs-{account}-{region}"), "key_prefix": "bedrock" }
    })
}
