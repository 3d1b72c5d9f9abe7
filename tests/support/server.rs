//! One moto server per test process.
//!
//! Lifetime: statics are never dropped, so nothing in this process can stop
//! the server at exit. Instead the server runs under a tiny Python wrapper
//! whose main thread blocks reading its stdin, a pipe whose only write end
//! is held by `Moto` (std creates pipes close-on-exec, so no other child
//! inherits it). When this process exits, however it exits (even SIGKILL),
//! the kernel closes that end, the wrapper reads EOF and `os._exit`s.
//!
//! Port: the wrapper binds 127.0.0.1:0 itself and prints the port the kernel
//! chose, so there is no window between picking a free port and binding it,
//! and nothing to retry. It serves moto's own WSGI app with moto's own
//! request handler, exactly as `moto_server` and moto's `ThreadedMotoServer`
//! do (moto.moto_server.werkzeug_app; pinned version, see provision.rs).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use super::provision;

/// Bound on "spawned → answers HTTP". Measured ≈0.5 s on an idle machine;
/// generous because nextest may start many test processes at once on 2 cores.
const START_TIMEOUT: Duration = Duration::from_secs(60);

const WRAPPER: &str = r#"
import logging, os, sys, threading
# One log line per request would only fill the pipe; errors still show.
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from werkzeug.serving import make_server
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication, MotoRequestHandler, create_backend_app)
server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app),
                     threaded=True, request_handler=MotoRequestHandler)
port = server.socket.getsockname()[1]
os.environ["MOTO_PORT"] = str(port)  # what moto_server sets; used in some URLs moto builds
threading.Thread(target=server.serve_forever, daemon=True).start()
print(port, flush=True)
sys.stdin.buffer.read()  # returns at EOF: the test process is gone
os._exit(0)
"#;

static MOTO: OnceLock<Result<Moto, String>> = OnceLock::new();
static SERVERS_STARTED: AtomicUsize = AtomicUsize::new(0);

/// A running moto server owned by this test process.
pub struct Moto {
    port: u16,
    pid: u32,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    // Never read: holding them keeps the server alive (see the module docs).
    _stdin: ChildStdin,
    _child: Child,
}

impl Moto {
    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL` and the SDK helpers.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Process id of the Python process serving moto.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The last lines moto wrote to stderr (tracebacks of 500s land here):
    /// worth printing when a test sees an unexpected server error.
    pub fn stderr_tail(&self) -> String {
        let lines = self.stderr_tail.lock().unwrap_or_else(|e| e.into_inner());
        lines.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

/// The moto server of this test process, provisioned and started on first
/// use. Panics (never skips) when moto cannot be installed or started; later
/// callers in the same process get the same panic message at once.
pub fn moto() -> &'static Moto {
    match MOTO.get_or_init(start) {
        Ok(moto) => moto,
        Err(message) => panic!("{message}"),
    }
}

/// How many servers this process has started: 1 once `moto()` succeeded.
pub fn servers_started() -> usize {
    SERVERS_STARTED.load(Ordering::SeqCst)
}

fn start() -> Result<Moto, String> {
    let python = provision::ensure_moto_venv()
        .map_err(|e| format!("cannot provision moto for the tests:\n{e}"))?;

    let started = Instant::now();
    let deadline = started + START_TIMEOUT;
    let mut child = Command::new(&python)
        .arg("-c")
        .arg(WRAPPER)
        // The account moto uses for unknown access keys must stay 123456789012.
        .env_remove("MOTO_ACCOUNT_ID")
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", python.display()))?;
    SERVERS_STARTED.fetch_add(1, Ordering::SeqCst);
    let stdin = child.stdin.take().expect("stdin was piped");
    let stdout = child.stdout.take().expect("stdout was piped");
    let stderr = child.stderr.take().expect("stderr was piped");

    // Both pipes are drained for the server's whole life: a full pipe would
    // block moto in the middle of a request.
    let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
    {
        let tail = Arc::clone(&stderr_tail);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                if tail.len() == 200 {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        });
    }
    let (port_tx, port_rx) = mpsc::channel();
    thread::spawn(move || {
        let mut stdout = BufReader::new(stdout);
        let mut first = String::new();
        let _ = stdout.read_line(&mut first);
        let _ = port_tx.send(first);
        let _ = std::io::copy(&mut stdout, &mut std::io::sink());
    });

    let fail = |child: &mut Child, what: String| -> String {
        let _ = child.kill();
        let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
        // Give the stderr reader a moment to collect the traceback.
        thread::sleep(Duration::from_millis(200));
        let tail = stderr_tail.lock().unwrap_or_else(|e| e.into_inner());
        let stderr: Vec<_> = tail.iter().cloned().collect();
        format!(
            "moto server ({} -c WRAPPER) {what} ({status})\n--- its stderr ---\n{}",
            python.display(),
            stderr.join("\n")
        )
    };

    let line = match port_rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(line) => line,
        Err(_) => {
            return Err(fail(
                &mut child,
                format!("did not report its port within {START_TIMEOUT:?}"),
            ));
        }
    };
    let port: u16 = match line.trim().parse() {
        Ok(port) => port,
        Err(_) => {
            return Err(fail(
                &mut child,
                format!("exited or printed {line:?} instead of its port"),
            ));
        }
    };

    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    while !answers_http(addr) {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(fail(&mut child, format!("exited early: {status}")));
        }
        if Instant::now() > deadline {
            return Err(fail(
                &mut child,
                format!("did not answer HTTP on {addr} within {START_TIMEOUT:?}"),
            ));
        }
        thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "fleet tests: moto listening on http://{addr} (pid {}), up in {:.1?}",
        child.id(),
        started.elapsed()
    );

    Ok(Moto {
        port,
        pid: child.id(),
        stderr_tail,
        _stdin: stdin,
        _child: child,
    })
}

/// True when moto's own API path answers 200 on `addr`.
fn answers_http(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let request = b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if stream.write_all(request).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}
