//! The scripted server: accept loop, reply selection, and writing replies.

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::reply::{Body, Chunk, Reply, ReplyKind, reason_phrase};
use crate::request::{CapturedRequest, read_request};

/// Longest a stall lasts when the server is never shut down.
const MAX_STALL: Duration = Duration::from_secs(120);

type Predicate = Box<dyn Fn(&CapturedRequest) -> bool + Send>;
type Responder = Box<dyn Fn(&CapturedRequest) -> Reply + Send>;

/// Which reply each request gets. Per request, in this order: the reply scripted for its
/// index ([`Script::at`]), the next reply queued for its path while the server runs
/// ([`ScriptedServer::queue_path_reply`]), the reply set for its path
/// ([`ScriptedServer::set_path_reply`]), the first matching predicate ([`Script::when`]), the
/// next reply of the sequence ([`Script::then`]), else the fallback ([`Script::otherwise`] or
/// [`Script::otherwise_with`]; by default a 500 saying that nothing was scripted).
pub struct Script {
    by_index: BTreeMap<usize, Reply>,
    queued_by_path: BTreeMap<String, VecDeque<Reply>>,
    by_path: BTreeMap<String, Reply>,
    rules: Vec<(Predicate, Reply)>,
    sequence: VecDeque<Reply>,
    fallback: Reply,
    responder: Option<Responder>,
}

impl Default for Script {
    fn default() -> Self {
        Script::new()
    }
}

impl Script {
    pub fn new() -> Script {
        Script {
            by_index: BTreeMap::new(),
            queued_by_path: BTreeMap::new(),
            by_path: BTreeMap::new(),
            rules: Vec::new(),
            sequence: VecDeque::new(),
            fallback: Reply::json(
                500,
                &serde_json::json!({"error": {"message": "no scripted reply"}}),
            ),
            responder: None,
        }
    }

    /// The next reply of the sequence.
    pub fn then(mut self, reply: Reply) -> Script {
        self.sequence.push_back(reply);
        self
    }

    /// The reply to the request with 0-based position `index`.
    pub fn at(mut self, index: usize, reply: Reply) -> Script {
        self.by_index.insert(index, reply);
        self
    }

    /// The reply to every request for which `predicate` holds.
    pub fn when(
        mut self,
        predicate: impl Fn(&CapturedRequest) -> bool + Send + 'static,
        reply: Reply,
    ) -> Script {
        self.rules.push((Box::new(predicate), reply));
        self
    }

    /// The reply to every request `method path` (query ignored).
    pub fn route(self, method: &str, path: &str, reply: Reply) -> Script {
        let (method, path) = (method.to_string(), path.to_string());
        self.when(
            move |request| request.method == method && request.path == path,
            reply,
        )
    }

    /// The reply once everything else is used up.
    pub fn otherwise(mut self, reply: Reply) -> Script {
        self.fallback = reply;
        self.responder = None;
        self
    }

    /// The reply, computed from the request, once everything else is used up (a redirect
    /// that echoes a query parameter, say).
    pub fn otherwise_with(
        mut self,
        responder: impl Fn(&CapturedRequest) -> Reply + Send + 'static,
    ) -> Script {
        self.responder = Some(Box::new(responder));
        self
    }

    fn reply_for(&mut self, request: &CapturedRequest) -> Reply {
        if let Some(reply) = self.by_index.remove(&request.index) {
            return reply;
        }
        if let Some(reply) = self
            .queued_by_path
            .get_mut(&request.path)
            .and_then(VecDeque::pop_front)
        {
            return reply;
        }
        if let Some(reply) = self.by_path.get(&request.path) {
            return reply.clone();
        }
        if let Some((_, reply)) = self.rules.iter().find(|(matches, _)| matches(request)) {
            return reply.clone();
        }
        if let Some(reply) = self.sequence.pop_front() {
            return reply;
        }
        match &self.responder {
            Some(responder) => responder(request),
            None => self.fallback.clone(),
        }
    }
}

struct Shared {
    script: Mutex<Script>,
    requests: Mutex<Vec<CapturedRequest>>,
    stopped: Mutex<bool>,
    wake: Condvar,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    /// Wait `duration` or until shutdown; `true` when the server is stopping.
    fn wait(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        let mut stopped = lock(&self.stopped);
        loop {
            if *stopped {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            stopped = match self.wake.wait_timeout(stopped, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

/// A running scripted server on 127.0.0.1. Stops when dropped.
pub struct ScriptedServer {
    address: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl ScriptedServer {
    /// Bind a free port on 127.0.0.1 and serve `script`.
    #[expect(
        clippy::expect_used,
        reason = "test support: a server that cannot bind fails the test"
    )]
    pub fn start(script: Script) -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            script: Mutex::new(script),
            requests: Mutex::new(Vec::new()),
            stopped: Mutex::new(false),
            wake: Condvar::new(),
        });
        let accept_shared = shared.clone();
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if *lock(&accept_shared.stopped) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = accept_shared.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        ScriptedServer {
            address,
            shared,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<CapturedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// The requests to `path` (query ignored).
    pub fn requests_to(&self, path: &str) -> Vec<CapturedRequest> {
        lock(&self.shared.requests)
            .iter()
            .filter(|request| request.path == path)
            .cloned()
            .collect()
    }

    pub fn request_count(&self) -> usize {
        lock(&self.shared.requests).len()
    }

    /// From now on every request to `path` (any method, query ignored) gets `reply`, in place
    /// of what an earlier call set for the path; see [`Script`] for the order.
    pub fn set_path_reply(&self, path: &str, reply: Reply) {
        lock(&self.shared.script)
            .by_path
            .insert(path.to_string(), reply);
    }

    /// The next request to `path` (any method, query ignored) gets `reply`; several calls queue
    /// up in order, ahead of [`ScriptedServer::set_path_reply`].
    pub fn queue_path_reply(&self, path: &str, reply: Reply) {
        lock(&self.shared.script)
            .queued_by_path
            .entry(path.to_string())
            .or_default()
            .push_back(reply);
    }

    /// Stop accepting, end every stall, and wait for the accept loop.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        *lock(&self.shared.stopped) = true;
        self.shared.wake.notify_all();
        // Wake the blocking accept.
        let _ = TcpStream::connect_timeout(&self.address, Duration::from_secs(1));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(mut request) = read_request(&mut stream, 0) else {
        return;
    };
    let reply = {
        let mut requests = lock(&shared.requests);
        request.index = requests.len();
        requests.push(request.clone());
        drop(requests);
        lock(&shared.script).reply_for(&request)
    };
    let _ = write_reply(&mut stream, &reply, shared);
    let _ = stream.shutdown(Shutdown::Both);
}

fn write_reply(stream: &mut TcpStream, reply: &Reply, shared: &Shared) -> io::Result<()> {
    if !reply.delay.is_zero() && shared.wait(reply.delay) {
        return Ok(());
    }
    match reply.kind {
        ReplyKind::StallBeforeHeaders => {
            shared.wait(MAX_STALL);
            return Ok(());
        }
        ReplyKind::CloseWithoutResponse => return Ok(()),
        ReplyKind::Respond => {}
    }
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        reply.status,
        reason_phrase(reply.status)
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Connection: close\r\n");
    match &reply.body {
        Body::Fixed(bytes) => {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", bytes.len()));
            stream.write_all(head.as_bytes())?;
            stream.write_all(bytes)?;
            stream.flush()
        }
        Body::Streamed(chunks) => {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            stream.write_all(head.as_bytes())?;
            stream.flush()?;
            for chunk in chunks {
                match chunk {
                    Chunk::Data(bytes) if bytes.is_empty() => {}
                    Chunk::Data(bytes) => {
                        stream.write_all(format!("{:x}\r\n", bytes.len()).as_bytes())?;
                        stream.write_all(bytes)?;
                        stream.write_all(b"\r\n")?;
                        stream.flush()?;
                    }
                    Chunk::Delay(delay) => {
                        if shared.wait(*delay) {
                            return Ok(());
                        }
                    }
                    Chunk::Stall => {
                        shared.wait(MAX_STALL);
                        return Ok(());
                    }
                    Chunk::Close => return Ok(()),
                }
            }
            stream.write_all(b"0\r\n\r\n")?;
            stream.flush()
        }
    }
}
